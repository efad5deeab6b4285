"""Payments and refunds in the admin: read-only. They change only through their services (and finance's queue)."""

from django.contrib import admin

from erhuo.payments.models import Payment, PaymentNotification, PaymentTransition, Refund, RefundTransition


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


class RefundInline(admin.TabularInline):
    model = Refund
    fields = ("created_at", "amount_fen", "status", "reason", "provider_reference", "succeeded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class RefundTransitionInline(PaymentTransitionInline):
    model = RefundTransition


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("pk", "purpose", "reference", "amount_fen", "provider", "status", "payer", "created_at")
    list_filter = ("status", "provider", "purpose")
    search_fields = ("reference", "provider_reference", "=pk")
    # The transfer screenshot is personal: it is shown on finance's queue through a permission-checked view.
    exclude = ("proof",)
    inlines = [PaymentTransitionInline, RefundInline]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("pk", "payment", "amount_fen", "status", "key", "created_at", "succeeded_at")
    list_filter = ("status", "payment__provider")
    search_fields = ("key", "provider_reference", "=pk", "=payment__pk")
    inlines = [RefundTransitionInline]


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = ("pk", "provider", "event_key", "payment", "refund", "outcome", "created_at")
    list_filter = ("provider", "outcome")
    search_fields = ("event_key", "detail")
