"""Reads of the experts app, for pages, the API and the apps above this one.

`expert_can(user, right)` is how later apps (community groups, micro-classes,
chat consultations, curation) ask whether someone may do something as an
expert; the rights of each level are data in `levels.py`.
"""

from django.db.models import Case, Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When
from django.utils import timezone

from erhuo.experts.levels import LEVEL_ORDER, LEVEL_RIGHTS
from erhuo.experts.models import (
    Expert,
    ExpertApplication,
    ExpertCommission,
    ExpertLevelChange,
    ExpertPolicy,
    PortfolioPhoto,
    ReferralAttribution,
)
from erhuo.ledger import accounts as ledger_accounts
from erhuo.ledger import selectors as ledger_selectors
from erhuo.trust.models import SellerLevel
from erhuo.trust.selectors import seller_level

COMMISSION_PAYABLE_KIND = "expert_commission"
_EXPERT_CACHE = "_erhuo_expert"


def policy() -> ExpertPolicy:
    """The commission shares and attribution window; the defaults until an operator saves the row."""
    return ExpertPolicy.objects.filter(pk=1).first() or ExpertPolicy(pk=1)


# --- experts ------------------------------------------------------------------


def expert_for_user(user) -> Expert | None:
    """The user's expert profile (any status), cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, _EXPERT_CACHE):
        setattr(user, _EXPERT_CACHE, Expert.objects.filter(user_id=user.pk).first())
    return getattr(user, _EXPERT_CACHE)


def expert_can(user, right: str) -> bool:
    """Whether `user` is an active expert whose level carries `right` (a `levels.Right` value)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    expert = expert_for_user(user)
    return expert is not None and expert.is_active and right in LEVEL_RIGHTS.get(expert.level, ())


def _with_portfolio(queryset: QuerySet) -> QuerySet:
    return queryset.prefetch_related(
        Prefetch("application__photos", queryset=PortfolioPhoto.objects.order_by("position", "pk"))
    )


def expert_directory(*, specialty: str = "", level: str = "") -> QuerySet:
    """Active experts for the public directory, highest level first, then the longest-serving."""
    experts = Expert.objects.filter(status=Expert.Status.ACTIVE, user__is_active=True).select_related("user")
    if specialty:
        # Specialties are a JSON list of codes; its text holds each code in quotes, on SQLite and PostgreSQL alike.
        experts = experts.filter(specialties__icontains=f'"{specialty}"')
    if level:
        experts = experts.filter(level=level)
    rank = Case(*(When(level=level, then=Value(rank)) for level, rank in LEVEL_ORDER.items()), default=Value(0))
    return experts.annotate(level_rank=rank).order_by("-level_rank", "joined_at", "pk")


def public_expert(*, username: str) -> Expert | None:
    """An active expert's public profile with her portfolio photos; None for anyone else."""
    return (
        _with_portfolio(Expert.objects.select_related("user", "application"))
        .filter(user__username__iexact=username, status=Expert.Status.ACTIVE, user__is_active=True)
        .first()
    )


def expert_by_referral_code(code: str) -> Expert | None:
    return Expert.objects.select_related("user").filter(referral_code=code).first()


def portfolio_photos(expert: Expert) -> list[PortfolioPhoto]:
    if expert.application_id is None:
        return []
    return list(expert.application.photos.all())


def experts_for_operators(*, query: str = "") -> QuerySet:
    experts = Expert.objects.select_related("user").order_by("status", "-joined_at", "-pk")
    if query:
        experts = experts.filter(
            Q(user__username__icontains=query) | Q(user__display_name__icontains=query) | Q(referral_code=query)
        )
    return experts


# --- applications ---------------------------------------------------------------


def my_applications(*, user) -> QuerySet:
    return (
        ExpertApplication.objects.filter(applicant=user)
        .prefetch_related(Prefetch("photos", queryset=PortfolioPhoto.objects.order_by("position", "pk")))
        .order_by("-created_at", "-pk")
    )


def my_latest_application(*, user) -> ExpertApplication | None:
    if user is None or not user.is_authenticated:
        return None
    return my_applications(user=user).first()


def application_queue(*, status: str = ExpertApplication.Status.SUBMITTED) -> QuerySet:
    """Applications for reviewers, oldest first (first come, first reviewed)."""
    applications = ExpertApplication.objects.select_related("applicant", "decided_by").annotate(
        photo_count=Count("photos")
    )
    if status:
        applications = applications.filter(status=status)
    return applications.order_by("created_at", "pk")


def application_for_review(*, application_id: int) -> ExpertApplication | None:
    return (
        ExpertApplication.objects.select_related("applicant", "decided_by")
        .prefetch_related(
            Prefetch("photos", queryset=PortfolioPhoto.objects.order_by("position", "pk")),
            "transitions__actor",
        )
        .filter(pk=application_id)
        .first()
    )


def applicant_history(application: ExpertApplication) -> QuerySet:
    """The applicant's other applications, for the reviewer (earlier rejections and their reasons)."""
    return ExpertApplication.objects.filter(applicant_id=application.applicant_id).exclude(pk=application.pk)


def applicant_seller_level(user) -> str:
    """The applicant's seller level (its label) from the trust app's seller record, for the reviewer."""
    level = seller_level(user)
    return str(SellerLevel(level).label) if level in SellerLevel.values else str(level)


# --- attribution and commissions ------------------------------------------------


def live_attribution(*, buyer, at=None) -> ReferralAttribution | None:
    """The buyer's latest touch whose window is still open at `at` (last touch wins)."""
    if buyer is None or buyer.pk is None:
        return None
    at = at or timezone.now()
    return (
        ReferralAttribution.objects.select_related("expert__user")
        .filter(buyer=buyer, created_at__lte=at, expires_at__gt=at)
        .order_by("-created_at", "-pk")
        .first()
    )


def attributed_buyers_count(*, expert: Expert, at=None) -> int:
    """Buyers whose live attribution (their latest open touch) is this expert."""
    at = at or timezone.now()
    live = ReferralAttribution.objects.filter(created_at__lte=at, expires_at__gt=at)
    latest_expert = live.filter(buyer=OuterRef("buyer")).order_by("-created_at", "-pk").values("expert_id")[:1]
    return (
        live.filter(expert=expert)
        .annotate(latest_expert=Subquery(latest_expert))
        .filter(latest_expert=expert.pk)
        .values("buyer_id")
        .distinct()
        .count()
    )


def commissions_of(*, expert: Expert) -> QuerySet:
    return ExpertCommission.objects.filter(expert=expert).order_by("-created_at", "-pk")


def commission_payable_code(user) -> str:
    return ledger_accounts.payable_code(COMMISSION_PAYABLE_KIND, user.pk)


def commission_payable_fen(*, user) -> int:
    """What the platform owes the expert in commissions now (the ledger's payable account)."""
    return ledger_selectors.balance_by_code(commission_payable_code(user))


def commission_totals(*, expert: Expert) -> dict:
    totals = ExpertCommission.objects.filter(expert=expert, reversed_at__isnull=True).aggregate(
        earned=Sum("amount_fen"), count=Count("pk")
    )
    return {"earned_fen": totals["earned"] or 0, "count": totals["count"]}


# --- personal data ------------------------------------------------------------------


def personal_data_export(*, user) -> dict:
    """Everything the experts app holds about `user`, for her data download."""
    applications = []
    for application in ExpertApplication.objects.filter(applicant=user).prefetch_related("photos").order_by("pk"):
        applications.append(
            {
                "submitted_at": application.created_at.isoformat(),
                "status": application.status,
                "style_focus": application.style_focus,
                "specialties": list(application.specialties),
                "experience": application.experience,
                "years_experience": application.years_experience,
                "links": list(application.links),
                "photos": [photo.image.name for photo in application.photos.all()],
                "decided_at": application.decided_at.isoformat() if application.decided_at else None,
                "level_assigned": application.level,
                "reviewer_note": application.decision_note,
                "checklist": dict(application.checklist),
            }
        )
    data: dict = {"applications": applications, "expert": None}
    expert = Expert.objects.filter(user=user).first()
    if expert is not None:
        data["expert"] = {
            "level": expert.level,
            "status": expert.status,
            "specialties": list(expert.specialties),
            "bio": expert.bio,
            "referral_code": expert.referral_code,
            "joined_at": expert.joined_at.isoformat(),
            "level_changes": [
                {"at": c.created_at.isoformat(), "from": c.from_level, "to": c.to_level, "note": c.note}
                for c in ExpertLevelChange.objects.filter(expert=expert).order_by("pk")
            ],
            "commissions": [
                {
                    "at": c.created_at.isoformat(),
                    "sale_reference": c.sale_reference,
                    "sale_amount_fen": c.sale_amount_fen,
                    "bps": c.bps,
                    "amount_fen": c.amount_fen,
                    "reversed_at": c.reversed_at.isoformat() if c.reversed_at else None,
                }
                for c in ExpertCommission.objects.filter(expert=expert).order_by("pk")
            ],
        }
    # As a buyer: which experts referred her (experts are public figures; other buyers are never included).
    data["referred_by"] = [
        {
            "expert": a.expert.user.display_name,
            "source": a.source,
            "at": a.created_at.isoformat(),
            "expires_at": a.expires_at.isoformat(),
        }
        for a in ReferralAttribution.objects.filter(buyer=user).select_related("expert__user").order_by("pk")
    ]
    return data
