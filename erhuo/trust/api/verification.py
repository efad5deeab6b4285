"""Seller verification and the public seller record, over the API.

- `GET /trust/verification`: where I stand; `POST` (multipart): apply.
- `GET /trust/verifications`: the reviewers' queue, masked (403 for anyone else).
- `GET /trust/verifications/{id}`: one application for a reviewer; the real
  name, ID number, phone and Alipay account are whole only for
  `trust.view_identity_documents`, and each such read is written to the
  personal data access log. Anyone without the review permission gets 404,
  as if it did not exist (a member reads her own at `/trust/verification`).
- `GET /trust/verifications/{id}/photos/{side}`: one ID photo (JPEG), logged, `Cache-Control: no-store`.
- `POST /trust/verifications/{id}/decision`: approve or reject.
- `GET /sellers/{username}`: a seller's public record (no login, nothing personal).

Errors leave as `{"code", "detail"}` (core/api.py).
"""

from datetime import date, datetime

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import NotFound, PermissionRefused
from erhuo.trust import selectors
from erhuo.trust.models import IdentityDocument, SellerLevel, SellerVerification
from erhuo.trust.services import verification as services

router = Router(tags=["trust: verification"])

V = SellerVerification.Status
ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut}


# --- schemas -------------------------------------------------------------------------------


class CheckOut(Schema):
    kind: str
    label: str
    provider: str
    result: str
    detail: str


class MyVerificationOut(Schema):
    id: int
    status: str
    status_label: str
    submitted_at: datetime
    real_name: str = Field(..., description="Masked")
    id_number: str = Field(..., description="Masked")
    alipay_account: str = Field(..., description="Masked")
    sesame_score: int
    valid_until: datetime | None
    rejection_reason: str = Field(..., description="A code of SellerVerification.RejectionReason, or empty")
    rejection_reason_label: str
    rejection_note: str


class MyStandingOut(Schema):
    status: str = Field(..., description="not_started, submitted, approved, rejected or expired")
    is_verified: bool
    may_apply: bool
    min_sesame_score: int
    level: str = Field(..., description="new, trusted or top")
    can_self_ship: bool
    verification: MyVerificationOut | None


class QueueRowOut(Schema):
    id: int
    member_id: int
    member_username: str
    member_display_name: str
    real_name: str = Field(..., description="Masked")
    id_number: str = Field(..., description="Masked")
    sesame_score: int
    submitted_at: datetime
    checks: list[CheckOut]

    @staticmethod
    def resolve_member_id(obj):
        return obj.user_id

    @staticmethod
    def resolve_member_username(obj):
        return obj.user.username

    @staticmethod
    def resolve_member_display_name(obj):
        return obj.user.display_name

    @staticmethod
    def resolve_real_name(obj):
        return selectors.masked(obj).real_name

    @staticmethod
    def resolve_id_number(obj):
        return selectors.masked(obj).id_number

    @staticmethod
    def resolve_submitted_at(obj):
        return obj.created_at

    @staticmethod
    def resolve_checks(obj):
        return _checks(obj)


class ReviewOut(Schema):
    id: int
    status: str
    member_id: int
    member_username: str
    member_display_name: str
    unmasked: bool = Field(..., description="True when the identity fields are whole (and the read was logged)")
    real_name: str
    id_number: str
    birth_date: date | None = Field(None, description="Only when unmasked")
    phone: str
    alipay_account: str
    sesame_score: int
    submitted_at: datetime
    decided_at: datetime | None
    valid_until: datetime | None
    rejection_reason: str
    rejection_note: str
    checks: list[CheckOut]
    photos: list[str] = Field(..., description="Sides with a photo (front, back); only when unmasked")


class DecisionIn(Schema):
    approve: bool
    checks: dict[str, bool] = Field(
        default_factory=dict, description="identity, phone, alipay, credit → passed (true) or failed (false)"
    )
    reason: str = Field("", max_length=24, description="Needed to reject: id_unreadable, id_mismatch, …, other")
    note: str = Field("", max_length=500, description="Read by the member; needed with reason `other`")


class PublicItemOut(Schema):
    id: int
    title: str
    price_fen: int | None
    thumbnail_url: str | None


class SellerOut(Schema):
    username: str
    display_name: str
    avatar_url: str | None
    verified: bool
    level: str
    level_label: str
    level_meaning: str
    ratings_count: int
    average_rating: float | None
    on_time_percent: int | None
    dispute_percent: int | None
    items_sold: int
    items: list[PublicItemOut]


# --- helpers -----------------------------------------------------------------------------------


def _checks(verification: SellerVerification) -> list[dict]:
    return [
        {
            "kind": check.kind,
            "label": check.get_kind_display(),
            "provider": check.provider,
            "result": check.result,
            "detail": check.detail,
        }
        for check in selectors.checks_in_order(verification)
    ]


def _standing(user) -> dict:
    verification = selectors.verification_status(user)
    level = selectors.seller_level(user)
    mine = None
    if verification is not None:
        masked = selectors.masked(verification)
        mine = {
            "id": verification.pk,
            "status": verification.status,
            "status_label": verification.get_status_display(),
            "submitted_at": verification.created_at,
            "real_name": masked.real_name,
            "id_number": masked.id_number,
            "alipay_account": masked.alipay_account,
            "sesame_score": verification.sesame_score,
            "valid_until": verification.expires_at,
            "rejection_reason": verification.rejection_reason,
            "rejection_reason_label": verification.get_rejection_reason_display()
            if verification.rejection_reason
            else "",
            "rejection_note": verification.rejection_note,
        }
    return {
        "status": verification.status if verification else "not_started",
        "is_verified": selectors.is_verified(user),
        "may_apply": selectors.may_apply(verification),
        "min_sesame_score": selectors.trust_policy().min_sesame_score,
        "level": level,
        "can_self_ship": level in (SellerLevel.TRUSTED, SellerLevel.TOP),
        "verification": mine,
    }


def _require_reviewer(request) -> None:
    if not selectors.is_reviewer(request.user):
        raise PermissionRefused(_("Only reviewers can see seller verifications."), code="verification_review_denied")


def _reviewer_or_not_found(request) -> None:
    # Someone who may not review must not even learn that an application exists.
    if not selectors.is_reviewer(request.user):
        raise NotFound(_("No such application."), code="verification_not_found")


# --- the member -----------------------------------------------------------------------------------


@router.get("/trust/verification", response=MyStandingOut, summary="My seller verification")
def my_verification(request):
    """Where I stand: not started, under review, approved (until when), rejected (why) or expired."""
    return _standing(request.user)


@router.post(
    "/trust/verification",
    response={201: MyStandingOut, **ERRORS},
    summary="Apply to become a verified seller (multipart)",
)
def verification_apply(
    request,
    real_name: Form[str] = "",
    id_number: Form[str] = "",
    alipay_account: Form[str] = "",
    sesame_score: Form[str] = "",
    phone: Form[str] = "",
    id_photo_front: File[UploadedFile] = None,
    id_photo_back: File[UploadedFile] = None,
):
    """Fields: `real_name`, `id_number` (18 characters), `alipay_account` (mobile number or e-mail),
    `sesame_score` (350–950, at least the policy's minimum), optional `phone` (else the account's), and the
    two photos `id_photo_front` and `id_photo_back` (JPEG, PNG or WebP). Refusals: 422 with a code per field
    (`id_number_checksum`, `sesame_score_too_low`, …), 409 `verification_pending`, `already_verified`,
    `id_number_in_use`. With automatic providers the answer may already say `approved`."""
    services.verification_submit(
        user=request.user,
        real_name=real_name[:60],
        id_number=id_number[:40],
        alipay_account=alipay_account[:120],
        sesame_score=sesame_score[:6],
        phone=phone[:20],
        id_photo_front=id_photo_front,
        id_photo_back=id_photo_back,
    )
    return Status(201, _standing(request.user))


# --- reviewers ------------------------------------------------------------------------------------


@router.get(
    "/trust/verifications",
    response=list[QueueRowOut],
    summary="Applications waiting for review, oldest first (masked; reviewers only, else 403)",
)
@paginate(PageNumberPagination, page_size=50)
def verification_queue(request):
    _require_reviewer(request)
    return selectors.verification_queue()


@router.get(
    "/trust/verifications/{int:verification_id}",
    response={200: ReviewOut, 403: ErrorOut, 404: ErrorOut},
    summary="One application, for a reviewer",
)
def verification_detail(request, verification_id: int):
    """Whole identity fields only with `trust.view_identity_documents`; each such read is logged."""
    _reviewer_or_not_found(request)
    verification = selectors.verification_for_review(verification_id=verification_id)
    if verification is None:
        raise NotFound(_("No such application."), code="verification_not_found")
    see_identity = selectors.may_see_identity(request.user) and not verification.is_erased
    if see_identity:
        services.verification_identity_reveal(actor=request.user, verification=verification, request=request)
        shown = selectors.unmasked(verification)
    else:
        shown = selectors.masked(verification)
    return {
        "id": verification.pk,
        "status": verification.status,
        "member_id": verification.user_id,
        "member_username": verification.user.username,
        "member_display_name": verification.user.display_name,
        "unmasked": see_identity,
        "real_name": shown.real_name,
        "id_number": shown.id_number,
        "birth_date": verification.birth_date if see_identity else None,
        "phone": shown.phone,
        "alipay_account": shown.alipay_account,
        "sesame_score": verification.sesame_score,
        "submitted_at": verification.created_at,
        "decided_at": verification.decided_at,
        "valid_until": verification.expires_at,
        "rejection_reason": verification.rejection_reason,
        "rejection_note": verification.rejection_note,
        "checks": _checks(verification),
        "photos": selectors.document_sides(verification) if see_identity else [],
    }


@router.get(
    "/trust/verifications/{int:verification_id}/photos/{side}",
    response={200: None, 403: ErrorOut, 404: ErrorOut},
    summary="One ID photo (JPEG), for the verification team",
    openapi_extra={"responses": {200: {"description": "The photo", "content": {"image/jpeg": {}}}}},
)
def verification_photo(request, verification_id: int, side: str):
    """`side` is `front` or `back`. Logged in the personal data access log; never cached."""
    _reviewer_or_not_found(request)
    if side not in IdentityDocument.Side.values:
        raise NotFound(_("No such photo."), code="identity_document_not_found")
    content, content_type = services.identity_document_open(
        actor=request.user, verification_id=verification_id, side=side, request=request
    )
    response = HttpResponse(content, content_type=content_type)
    response["Cache-Control"] = "no-store, private"
    response["Pragma"] = "no-cache"
    return response


@router.post(
    "/trust/verifications/{int:verification_id}/decision",
    response={200: ReviewOut, **ERRORS},
    summary="Approve or reject an application",
)
def verification_decision(request, verification_id: int, payload: DecisionIn):
    """Approving needs every check passed (by its provider or in `checks`) and grants the seller role;
    rejecting needs a `reason` (and a `note` for `other`). 409 `verification_already_decided` if someone
    decided first."""
    _reviewer_or_not_found(request)
    services.verification_decide(
        verification_id=verification_id,
        actor=request.user,
        approve=payload.approve,
        checks=payload.checks,
        reason=payload.reason,
        note=payload.note,
    )
    return verification_detail(request, verification_id)


# --- public ---------------------------------------------------------------------------------------


@router.get(
    "/sellers/{username}",
    auth=None,
    response={200: SellerOut, 404: ErrorOut},
    summary="A seller's public record",
    tags=["trust: sellers"],
)
def seller_public(request, username: str):
    """Display name, avatar, verified or not, level and record, and the items on sale. Nothing personal."""
    seller = selectors.public_seller(username=username[:32])
    if seller is None:
        raise NotFound(_("No such seller."), code="seller_not_found")
    record = seller.record
    items = []
    for item in seller.items:
        photo = selectors.cover_photo(item)
        items.append(
            {
                "id": item.pk,
                "title": item.title,
                "price_fen": item.price_fen,
                "thumbnail_url": request.build_absolute_uri((photo.thumbnail or photo.image).url) if photo else None,
            }
        )
    return {
        "username": seller.user.username,
        "display_name": seller.user.display_name,
        "avatar_url": request.build_absolute_uri(seller.user.avatar.url) if seller.user.avatar else None,
        "verified": seller.verified,
        "level": seller.level,
        "level_label": seller.level_label,
        "level_meaning": seller.level_meaning,
        "ratings_count": record.ratings_count if record else 0,
        "average_rating": record.average_rating if record else None,
        "on_time_percent": record.on_time_percent if record else None,
        "dispute_percent": record.dispute_percent if record else None,
        "items_sold": record.items_sold if record else 0,
        "items": items,
    }
