"""Reads of seller verification and the seller record, for pages, the API and other apps.

For other apps (call these, never the models):

    is_verified(user) -> bool            approved and not past its expiry
    verification_status(user) -> SellerVerification | None
                                         the latest application (an overdue approval is settled first)
    seller_level(user) -> "new" | "trusted" | "top"
    can_self_ship(user) -> bool          verified, and trusted or top
    trust_policy() -> TrustPolicy

An approval past its `expires_at` counts as not verified at once, whether or
not the expiry has been written yet (huey's periodic task and the member's
status page write it), so nothing depends on the worker being up.
"""

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone

from erhuo.accounts import roles as role_registry
from erhuo.accounts.models import User
from erhuo.catalog.models import Item, ItemPhoto
from erhuo.core.pii import is_valid_phone, mask_id_number, mask_name, mask_phone
from erhuo.trust import levels
from erhuo.trust.models import (
    IdentityDocument,
    SellerLevel,
    SellerLevelChange,
    SellerRecord,
    SellerVerification,
    TrustPolicy,
    VerificationCheck,
)

V = SellerVerification.Status
QUEUE_PAGE_SIZE = 50
PUBLIC_ITEMS_SHOWN = 24


def mask_alipay(value: str | None) -> str:
    """`13812345678` → `138****5678`; `lin.xiaoyu@example.com` → `l*********@example.com`."""
    if not value:
        return ""
    if is_valid_phone(value):
        return mask_phone(value)
    local, at, domain = value.partition("@")
    if not at:
        return mask_name(value)
    return f"{local[:1]}{'*' * max(len(local) - 1, 1)}@{domain}"


def trust_policy() -> TrustPolicy:
    return TrustPolicy.current()


# --- the member's own standing --------------------------------------------------------


def latest_verification(user) -> SellerVerification | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return SellerVerification.objects.filter(user=user).order_by("-created_at", "-pk").first()


def verification_status(user) -> SellerVerification | None:
    """The member's latest application. An approval past its date is expired first (a write, on purpose)."""
    verification = latest_verification(user)
    if verification is not None and verification.status == V.APPROVED and not verification.is_valid_at():
        from erhuo.trust.services.verification import verifications_expire

        verifications_expire(user=user)
        verification.refresh_from_db()
    return verification


def is_verified(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return SellerVerification.objects.filter(user=user, status=V.APPROVED, expires_at__gt=timezone.now()).exists()


def seller_level(user) -> str:
    if not is_verified(user):
        return SellerLevel.NEW
    level = SellerRecord.objects.filter(user=user).values_list("level", flat=True).first()
    return level or SellerLevel.NEW


def can_self_ship(user) -> bool:
    return seller_level(user) in (SellerLevel.TRUSTED, SellerLevel.TOP)


def may_apply(verification: SellerVerification | None) -> bool:
    """Whether the member may send a (new) application, given her latest one."""
    if verification is None:
        return True
    if verification.status == V.SUBMITTED:
        return False
    if verification.status == V.APPROVED:
        return not verification.is_valid_at()
    return True


# --- reviewers --------------------------------------------------------------------------


@dataclass
class MaskedVerification:
    """What a reviewer without the identity-documents permission (and every list) shows."""

    verification: SellerVerification
    real_name: str
    id_number: str
    phone: str
    alipay_account: str
    unmasked: bool = False
    checks: list[VerificationCheck] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)  # sides that have a photo


def masked(verification: SellerVerification) -> MaskedVerification:
    return MaskedVerification(
        verification=verification,
        real_name=verification.real_name_masked or mask_name(verification.real_name),
        id_number=verification.id_number_masked or mask_id_number(verification.id_number),
        phone=mask_phone(verification.phone),
        alipay_account=mask_alipay(verification.alipay_account),
    )


def unmasked(verification: SellerVerification) -> MaskedVerification:
    """The whole values. Only after services.verification_identity_reveal has logged the look."""
    return MaskedVerification(
        verification=verification,
        real_name=verification.real_name,
        id_number=verification.id_number,
        phone=verification.phone,
        alipay_account=verification.alipay_account,
        unmasked=True,
    )


def verification_queue():
    """Applications waiting for a decision, oldest first, with their applicant and checks."""
    return (
        SellerVerification.objects.filter(status=V.SUBMITTED)
        .select_related("user")
        .prefetch_related("checks")
        .order_by("created_at", "pk")
    )


def verification_for_review(*, verification_id: int) -> SellerVerification | None:
    return (
        SellerVerification.objects.select_related("user", "decided_by")
        .prefetch_related("checks", "transitions__actor")
        .filter(pk=verification_id)
        .first()
    )


def document_sides(verification: SellerVerification) -> list[str]:
    # Only the sides, never the (large, encrypted) content; the portrait side first.
    sides = set(
        IdentityDocument.objects.filter(verification=verification).exclude(content="").values_list("side", flat=True)
    )
    return [side for side in IdentityDocument.Side.values if side in sides]


def checks_in_order(verification: SellerVerification) -> list[VerificationCheck]:
    order = {kind: position for position, kind in enumerate(VerificationCheck.KIND_ORDER)}
    return sorted(verification.checks.all(), key=lambda check: order.get(check.kind, 99))


def is_reviewer(user) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm("trust.review_verification")


def may_see_identity(user) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm("trust.view_identity_documents")


# --- the public seller page ----------------------------------------------------------------


@dataclass
class PublicSeller:
    user: User
    verified: bool
    level: str
    level_label: str
    level_meaning: str
    record: SellerRecord | None
    items: list[Item]


def _is_seller(user: User) -> bool:
    return (
        user.has_role(role_registry.SELLER)
        or SellerVerification.objects.filter(user=user, status__in=[V.APPROVED, V.EXPIRED]).exists()
    )


def public_seller(*, username: str) -> PublicSeller | None:
    """A seller's public page: nothing personal but her display name, avatar and city-free record.

    None (404) for accounts that are not, and never were, sellers, and for closed or suspended ones.
    """
    user = User.objects.filter(username__iexact=username, is_active=True).prefetch_related("groups").first()
    if user is None or not _is_seller(user):
        return None
    verified = is_verified(user)
    record = SellerRecord.objects.filter(user=user).first()
    level = record.level if (record is not None and verified) else SellerLevel.NEW
    photos = ItemPhoto.objects.filter(kind__in=ItemPhoto.PUBLIC_KINDS).order_by("created_at", "pk")
    items = list(
        Item.objects.filter(seller=user, status=Item.Status.LISTED)
        # Community-only items (社群款) exist only for their groups' members: the community shows them to
        # those who may see them, in its own piece of this page (slot "seller_public_extras").
        .exclude(channel=Item.Channel.COMMUNITY)
        .select_related("brand")
        .prefetch_related(Prefetch("photos", queryset=photos))
        .order_by("-listed_at", "-pk")[:PUBLIC_ITEMS_SHOWN]
    )
    return PublicSeller(
        user=user,
        verified=verified,
        level=level,
        level_label=str(SellerLevel(level).label),
        level_meaning=str(levels.LEVEL_MEANINGS[level]),
        record=record,
        items=items,
    )


def cover_photo(item: Item) -> ItemPhoto | None:
    photos = list(item.photos.all())
    for photo in photos:
        if photo.kind == ItemPhoto.Kind.FLAT:
            return photo
    return photos[0] if photos else None


def level_history(user, *, limit: int = 10) -> list[SellerLevelChange]:
    return list(SellerLevelChange.objects.filter(user=user).order_by("-created_at", "-pk")[:limit])


def level_progress(user) -> tuple[str, list[str]]:
    """The member's level and what the next one up still needs (for her own pages)."""
    from erhuo.trust.services.record import stats_for

    record = SellerRecord.objects.filter(user=user).first() or SellerRecord(user=user)
    return levels.level_for(stats_for(record, verified=is_verified(user)))


# --- personal data export --------------------------------------------------------------------


def personal_data_export(*, user) -> dict:
    """Everything the trust app holds about the member, for her own download (no masking: it is hers).

    ID photos are included as base64 JPEG; the deposit section comes from `deposit_selectors`.
    """
    verifications = []
    for verification in (
        SellerVerification.objects.filter(user=user)
        .prefetch_related("checks", "documents")
        .order_by("created_at", "pk")
    ):
        verifications.append(
            {
                "id": verification.pk,
                "status": verification.status,
                "submitted_at": verification.created_at.isoformat(),
                "real_name": verification.real_name or verification.real_name_masked,
                "id_number": verification.id_number or verification.id_number_masked,
                "birth_date": verification.birth_date.isoformat() if verification.birth_date else None,
                "phone": verification.phone,
                "alipay_account": verification.alipay_account,
                "sesame_score": verification.sesame_score,
                "decided_at": verification.decided_at.isoformat() if verification.decided_at else None,
                "valid_until": verification.expires_at.isoformat() if verification.expires_at else None,
                "rejection_reason": verification.rejection_reason,
                "rejection_note": verification.rejection_note,
                "erased_at": verification.erased_at.isoformat() if verification.erased_at else None,
                "checks": [
                    {"kind": check.kind, "result": check.result, "detail": check.detail}
                    for check in verification.checks.all()
                ],
                "id_photos": [
                    {"side": document.side, "content_type": document.content_type, "base64": document.content}
                    for document in verification.documents.all()
                    if document.content
                ],
            }
        )
    record = SellerRecord.objects.filter(user=user).first()
    # The deposit's section lives with the deposits (it imports this module, hence the late import).
    from erhuo.trust import deposit_selectors

    return {
        **deposit_selectors.personal_data_export(user=user),
        "seller_verifications": verifications,
        "seller_record": None
        if record is None
        else {
            "level": record.level,
            "ratings_count": record.ratings_count,
            "average_rating": record.average_rating,
            "orders_shipped": record.orders_shipped,
            "orders_shipped_on_time": record.orders_shipped_on_time,
            "orders_total": record.orders_total,
            "disputes_lost": record.disputes_lost,
            "authentication_failures_recent": record.authentication_failures,
            "items_sold": record.items_sold,
        },
        "seller_level_changes": [
            {
                "from": change.from_level,
                "to": change.to_level,
                "reason": change.reason,
                "at": change.created_at.isoformat(),
            }
            for change in SellerLevelChange.objects.filter(user=user).order_by("created_at", "pk")
        ],
    }
