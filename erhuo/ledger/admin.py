from django.contrib import admin

from erhuo.ledger.models import Account, JournalEntry, Posting


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger is written only by its services; the admin reads it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PostingInline(admin.TabularInline):
    model = Posting
    fields = ("account", "amount_fen", "balance_after_fen")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "kind", "balance_fen", "owner")
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("pk", "kind", "reference", "memo", "created_at")
    list_filter = ("kind",)
    search_fields = ("reference", "memo", "key")
    inlines = [PostingInline]
