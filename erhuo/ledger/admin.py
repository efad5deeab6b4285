from django.contrib import admin

from erhuo.ledger.models import Account, JournalEntry, PayoutBatch, PayoutLine, Posting


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


class PayoutLineInline(admin.TabularInline):
    model = PayoutLine
    fields = ("payee", "account", "amount_fen", "status", "reference", "paid_at", "paid_by", "failure_reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    """Payouts are created and settled on /ops/payouts/ (their services post to the ledger); the admin reads them."""

    list_display = ("pk", "status", "created_by", "created_at")
    list_filter = ("status",)
    inlines = [PayoutLineInline]


@admin.register(PayoutLine)
class PayoutLineAdmin(ReadOnlyAdmin):
    list_display = ("pk", "batch", "payee", "amount_fen", "status", "reference", "paid_at")
    list_filter = ("status",)
    search_fields = ("reference", "account__code")
