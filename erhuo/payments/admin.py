"""Payments in the admin: read-only. Payments change only through their services (and finance's queue)."""

from django.contrib import admin

from erhuo.payments.models import Payment, PaymentNotification, PaymentTransition


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PaymentTransitionInline(admin.TabularInline):
    model = PaymentTransition
    fields = ("created_at", "from_state", "to_state", "actor", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("pk", "purpose", "reference", "amount_fen", "provider", "status", "payer", "created_at")
    list_filter = ("status", "provider", "purpose")
    search_fields = ("reference", "provider_reference", "=pk")
    # The transfer screenshot is personal: it is shown on finance's queue through a permission-checked view.
    exclude = ("proof",)
    inlines = [PaymentTransitionInline]


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = ("pk", "provider", "event_key", "payment", "outcome", "created_at")
    list_filter = ("provider", "outcome")
    search_fields = ("event_key", "detail")
