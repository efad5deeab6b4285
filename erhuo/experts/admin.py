"""Admin for experts: the owner sets the commission shares and the attribution window; the rest is read here.

Applications are decided and levels changed on the reviewers' pages (/ops/experts/) through the services, so
that every decision and level change is recorded; the admin does not change them.
"""

from django.contrib import admin

from erhuo.accounts.admin import ReadOnlyAdmin
from erhuo.experts.models import (
    Expert,
    ExpertApplication,
    ExpertCommission,
    ExpertLevelChange,
    ExpertPolicy,
    ReferralAttribution,
)


@admin.register(ExpertPolicy)
class ExpertPolicyAdmin(admin.ModelAdmin):
    list_display = ["trainee_bps", "certified_bps", "gold_bps", "attribution_window_days", "updated_at"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ExpertPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExpertApplication)
class ExpertApplicationAdmin(ReadOnlyAdmin):
    list_display = ["pk", "applicant", "status", "level", "created_at", "decided_by", "decided_at"]
    list_filter = ["status", "level"]
    list_select_related = ["applicant", "decided_by"]
    search_fields = ["applicant__username", "applicant__display_name"]


@admin.register(Expert)
class ExpertAdmin(ReadOnlyAdmin):
    list_display = ["user", "level", "status", "referral_code", "joined_at"]
    list_filter = ["level", "status"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__display_name", "referral_code"]


@admin.register(ExpertLevelChange)
class ExpertLevelChangeAdmin(ReadOnlyAdmin):
    list_display = ["expert", "from_level", "to_level", "actor", "created_at"]
    list_select_related = ["expert__user", "actor"]


@admin.register(ReferralAttribution)
class ReferralAttributionAdmin(ReadOnlyAdmin):
    list_display = ["buyer", "expert", "source", "group_id", "created_at", "expires_at"]
    list_filter = ["source"]
    list_select_related = ["buyer", "expert__user"]


@admin.register(ExpertCommission)
class ExpertCommissionAdmin(ReadOnlyAdmin):
    list_display = ["sale_reference", "expert", "amount_fen", "bps", "sale_amount_fen", "created_at", "reversed_at"]
    list_select_related = ["expert__user"]
    search_fields = ["sale_reference"]
