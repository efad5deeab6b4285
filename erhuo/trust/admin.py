"""Admin for trust: the owner edits the trust policy; verifications and seller records are read here.

Verifications are decided on the review pages (/ops/trust/verifications/)
through the services, so that every decision is recorded and every look at
an identity is logged; the admin shows only masked values and changes
nothing.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from erhuo.accounts.admin import ReadOnlyAdmin
from erhuo.trust.models import (
    DepositDeduction,
    DepositEvidencePhoto,
    DepositPolicy,
    DepositReturn,
    DepositReturnTransition,
    SellerLevelChange,
    SellerRecord,
    SellerVerification,
    SellerVerificationTransition,
    TrustPolicy,
    VerificationCheck,
)

# --- verification and seller record -------------------------------------------------------


@admin.register(TrustPolicy)
class TrustPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "min_sesame_score", "verification_valid_days", "updated_at"]
    fields = ["min_sesame_score", "verification_valid_days"]

    def has_add_permission(self, request):
        # One row (pk=1), created on first use.
        return super().has_add_permission(request) and not TrustPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class VerificationCheckInline(admin.TabularInline):
    model = VerificationCheck
    extra = 0
    can_delete = False
    fields = ["kind", "provider", "result", "detail", "decided_by", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class VerificationTransitionInline(admin.TabularInline):
    model = SellerVerificationTransition
    extra = 0
    can_delete = False
    fields = ["created_at", "from_state", "to_state", "actor", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SellerVerification)
class SellerVerificationAdmin(ReadOnlyAdmin):
    # Never the encrypted columns: the whole values are for the logged review page only.
    list_display = [
        "pk",
        "user",
        "status",
        "real_name_masked",
        "id_number_masked",
        "sesame_score",
        "created_at",
        "expires_at",
    ]
    list_filter = ["status", "rejection_reason"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__display_name"]
    date_hierarchy = "created_at"
    fields = [
        "user",
        "status",
        "status_changed_at",
        "real_name_masked",
        "id_number_masked",
        "sesame_score",
        "expires_at",
        "decided_by",
        "decided_at",
        "rejection_reason",
        "rejection_note",
        "erased_at",
    ]
    readonly_fields = fields
    inlines = [VerificationCheckInline, VerificationTransitionInline]


@admin.register(SellerRecord)
class SellerRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "user",
        "level",
        "items_sold",
        "ratings_count",
        "average_column",
        "orders_shipped",
        "orders_shipped_on_time",
        "orders_total",
        "disputes_lost",
        "authentication_failures",
        "recomputed_at",
    ]
    list_filter = ["level"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__display_name"]

    @admin.display(description=_("average rating"))
    def average_column(self, obj):
        return obj.average_rating if obj.average_rating is not None else "—"


@admin.register(SellerLevelChange)
class SellerLevelChangeAdmin(ReadOnlyAdmin):
    list_display = ["user", "from_level", "to_level", "reason", "created_at"]
    list_filter = ["to_level"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    date_hierarchy = "created_at"


# --- deposits (the deposits helper adds its registrations below) ---------------------------


@admin.register(DepositPolicy)
class DepositPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "new_seller_fen", "trusted_seller_fen", "top_seller_fen", "updated_at")
    fields = ("new_seller_fen", "trusted_seller_fen", "top_seller_fen")

    def has_add_permission(self, request):
        return not DepositPolicy.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


class EvidenceInline(admin.TabularInline):
    model = DepositEvidencePhoto
    fields = ("pk", "width", "height", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DepositDeduction)
class DepositDeductionAdmin(ReadOnlyAdmin):
    list_display = ("pk", "seller", "amount_fen", "violation", "decided_by", "created_at")
    list_filter = ("violation",)
    search_fields = ("decision", "label_code")
    inlines = [EvidenceInline]


class ReturnTransitionInline(admin.TabularInline):
    model = DepositReturnTransition
    fields = ("created_at", "from_state", "to_state", "actor", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DepositReturn)
class DepositReturnAdmin(ReadOnlyAdmin):
    list_display = ("pk", "seller", "amount_fen", "status", "created_at", "paid_at", "paid_by")
    list_filter = ("status",)
    inlines = [ReturnTransitionInline]
