"""Admin for consignment: the owner sets the station targets; batches, records and reports are read here.

Station work happens on the station pages (/ops/stations/) through the
services, so that every move is recorded; the admin does not change it.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from erhuo.accounts.admin import ReadOnlyAdmin
from erhuo.consignment.models import (
    AuthenticationReport,
    CareRecord,
    Consignment,
    IntakeBatch,
    StationSetting,
)
from erhuo.core.money import format_fen


class ConsignmentInline(admin.TabularInline):
    model = Consignment
    extra = 0
    can_delete = False
    fields = ["item", "label_code", "declared_value_fen", "needs_authentication", "price_decision"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IntakeBatch)
class IntakeBatchAdmin(ReadOnlyAdmin):
    list_display = ["code", "seller", "status", "carrier", "tracking_number", "shipped_at", "created_at"]
    list_filter = ["status"]
    list_select_related = ["seller"]
    search_fields = ["code", "tracking_number", "seller__username", "seller__display_name"]
    date_hierarchy = "created_at"
    inlines = [ConsignmentInline]


@admin.register(Consignment)
class ConsignmentAdmin(ReadOnlyAdmin):
    list_display = [
        "label_column",
        "item",
        "batch",
        "declared_column",
        "liability_column",
        "needs_authentication",
        "price_decision",
        "repair_consent",
    ]
    list_filter = ["needs_authentication", "price_decision", "repair_consent", "unsold_choice"]
    list_select_related = ["item", "batch"]
    search_fields = ["label_code", "batch__code", "item__title"]

    @admin.display(description=_("label"), ordering="label_code")
    def label_column(self, obj):
        return obj.label_code or "—"

    @admin.display(description=_("declared value"), ordering="declared_value_fen")
    def declared_column(self, obj):
        return format_fen(obj.declared_value_fen)

    @admin.display(description=_("our liability"), ordering="liability_fen")
    def liability_column(self, obj):
        return format_fen(obj.liability_fen)


@admin.register(CareRecord)
class CareRecordAdmin(ReadOnlyAdmin):
    list_display = ["item", "step", "done_by", "note", "created_at"]
    list_filter = ["step"]
    list_select_related = ["item", "done_by"]
    search_fields = ["item__title", "item__consignment__label_code"]


@admin.register(AuthenticationReport)
class AuthenticationReportAdmin(ReadOnlyAdmin):
    list_display = ["item", "result", "authenticator", "created_at"]
    list_filter = ["result"]
    list_select_related = ["item", "authenticator"]
    search_fields = ["item__title", "item__consignment__label_code"]


@admin.register(StationSetting)
class StationSettingAdmin(admin.ModelAdmin):
    """The SLA target of each station, shown on the board and the queues."""

    list_display = ["station", "sla_hours"]
    list_editable = ["sla_hours"]
    ordering = ["station"]

    def has_delete_permission(self, request, obj=None):
        # Without a row the default target applies; deleting is how to go back to it (superusers only).
        return request.user.is_superuser
