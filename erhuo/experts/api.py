"""The experts API: the public directory and profiles, my application, the reviewers' queue and decisions,
my commissions.

Thin routes: parse, call one service, read back through the selectors.
A member sees only her own application; reviewers (`experts.review_application`)
see the queue. Errors leave as `{"code", "detail"}` (core/api.py).

The fixed paths (/experts/application, /experts/applications, /experts/me/…)
are declared before /experts/{username}, so they are never read as a username.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Form, Query, Router, Schema, Status
from ninja.pagination import paginate

from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import NotFound, ValidationFailed
from erhuo.experts import selectors, services
from erhuo.experts.levels import rights_of
from erhuo.experts.models import Expert, ExpertApplication, Specialty

router = Router(tags=["experts"])


# --- schemas ----------------------------------------------------------------------


class RightOut(Schema):
    code: str
    label: str


class PhotoOut(Schema):
    url: str
    thumbnail_url: str | None
    width: int
    height: int


def _photo(request, photo) -> dict:
    return {
        "url": request.build_absolute_uri(photo.image.url),
        "thumbnail_url": request.build_absolute_uri(photo.thumbnail.url) if photo.thumbnail else None,
        "width": photo.width,
        "height": photo.height,
    }


class ExpertOut(Schema):
    username: str
    display_name: str
    avatar_url: str | None
    level: str = Field(..., description="trainee, certified or gold")
    level_label: str
    specialties: list[str] = Field(..., description="Specialty codes (see GET /experts?specialty=)")
    specialty_labels: list[str]
    bio: str
    joined_at: datetime
    rights: list[RightOut]
    commission_share_bps: int = Field(..., description="Share of the sale price the expert earns, in basis points")
    referral_url: str

    @staticmethod
    def resolve_username(obj):
        return obj.user.username

    @staticmethod
    def resolve_display_name(obj):
        return obj.user.display_name

    @staticmethod
    def resolve_avatar_url(obj, context):
        return context["request"].build_absolute_uri(obj.user.avatar.url) if obj.user.avatar else None

    @staticmethod
    def resolve_level_label(obj):
        return obj.get_level_display()

    @staticmethod
    def resolve_rights(obj):
        return [{"code": code, "label": label} for code, label in rights_of(obj.level)]

    @staticmethod
    def resolve_commission_share_bps(obj, context):
        request = context["request"]
        if not hasattr(request, "_erhuo_expert_policy"):
            request._erhuo_expert_policy = selectors.policy()
        return request._erhuo_expert_policy.bps_for(obj.level)

    @staticmethod
    def resolve_referral_url(obj, context):
        return context["request"].build_absolute_uri(reverse("experts:referral", args=[obj.referral_code]))


class ExpertDetailOut(ExpertOut):
    portfolio: list[PhotoOut]

    @staticmethod
    def resolve_portfolio(obj, context):
        return [_photo(context["request"], photo) for photo in selectors.portfolio_photos(obj)]


class ApplicationOut(Schema):
    id: int
    status: str = Field(..., description="submitted, approved, rejected or withdrawn")
    status_label: str
    style_focus: str
    specialties: list[str]
    experience: str
    years_experience: int
    links: list[str]
    photos: list[PhotoOut]
    created_at: datetime
    decided_at: datetime | None
    level: str = Field(..., description="The level given on approval; empty otherwise")
    decision_note: str = Field(..., description="The reviewer's note: the reason when not approved")
    checklist: dict[str, bool] = Field(..., description="Standard code → met, once decided")

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_photos(obj, context):
        return [_photo(context["request"], photo) for photo in obj.photos.all()]


class ApplicantOut(Schema):
    username: str
    display_name: str
    account_status: str
    date_joined: datetime


class ReviewApplicationOut(ApplicationOut):
    applicant: ApplicantOut

    @staticmethod
    def resolve_applicant(obj):
        user = obj.applicant
        return {
            "username": user.username,
            "display_name": user.display_name,
            "account_status": user.status,
            "date_joined": user.date_joined,
        }


class ApplicationFormIn(Schema):
    style_focus: str = Field(..., max_length=services.STYLE_FOCUS_MAX)
    specialties: str = Field(..., max_length=400, description="Specialty codes separated by commas")
    experience: str = Field(..., max_length=services.EXPERIENCE_MAX)
    years_experience: int = Field(..., ge=0, le=services.MAX_YEARS)
    links: str = Field("", max_length=1200, description="Web addresses separated by spaces or new lines")


class DecisionIn(Schema):
    approve: bool
    checklist: dict[str, bool] = Field(..., description="Every standard code → met (true) or not met (false)")
    level: str = Field("", max_length=16, description="trainee, certified or gold: required to approve")
    note: str = Field("", max_length=services.NOTE_MAX, description="Required when not approving: the reason")


class CommissionOut(Schema):
    sale_reference: str
    source: str
    sale_amount_fen: int
    bps: int
    amount_fen: int
    created_at: datetime
    reversed_at: datetime | None


class CommissionsOut(Schema):
    payable_fen: int = Field(..., description="Owed to you now in the ledger, not yet paid out")
    earned_fen: int = Field(..., description="Commissions earned, refunded sales excluded")
    count: int
    page: int
    items: list[CommissionOut]


# --- public ------------------------------------------------------------------------


def _specialty_or_422(specialty: str) -> str:
    if specialty and specialty not in Specialty.values:
        raise ValidationFailed(_("Unknown specialty."), fields={"specialty": [_("Unknown specialty.")]})
    return specialty


@router.get("/experts", auth=None, response=list[ExpertOut], summary="Active experts, highest level first")
@paginate(PageNumberPagination, page_size=24)
def expert_list(request, specialty: str = Query("", max_length=40, description="Only experts with this specialty")):
    return selectors.expert_directory(specialty=_specialty_or_422(specialty))


# --- my application ----------------------------------------------------------------------


def _my_application_or_404(request) -> ExpertApplication:
    application = selectors.my_latest_application(user=request.user)
    if application is None:
        raise NotFound(_("You have not applied yet."), code="application_not_found")
    return application


@router.get(
    "/experts/application", response={200: ApplicationOut, 404: ErrorOut}, summary="My latest expert application"
)
def application_mine(request):
    return Status(200, _my_application_or_404(request))


@router.post(
    "/experts/application",
    response={201: ApplicationOut, 403: ErrorOut, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    summary="Apply to become an expert (multipart, with 3–12 photos)",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["style_focus", "specialties", "experience", "years_experience", "photos"],
                        "properties": {
                            "style_focus": {"type": "string", "maxLength": services.STYLE_FOCUS_MAX},
                            "specialties": {"type": "string", "description": "Codes separated by commas"},
                            "experience": {"type": "string", "maxLength": services.EXPERIENCE_MAX},
                            "years_experience": {"type": "integer", "minimum": 0, "maximum": services.MAX_YEARS},
                            "links": {"type": "string", "description": "Web addresses, one per line"},
                            "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        },
                    }
                }
            },
            "required": True,
        }
    },
)
def application_create(request, payload: Form[ApplicationFormIn]):
    """Nothing is created unless every field and every photo is valid. One open application at a time."""
    application = services.application_submit(
        applicant=request.user,
        style_focus=payload.style_focus,
        specialties=payload.specialties,
        experience=payload.experience,
        years_experience=payload.years_experience,
        links=payload.links,
        photos=request.FILES.getlist("photos"),
    )
    return Status(201, selectors.my_applications(user=request.user).get(pk=application.pk))


@router.post(
    "/experts/application/withdraw",
    response={200: ApplicationOut, 404: ErrorOut, 409: ErrorOut},
    summary="Withdraw my application under review",
)
def application_withdraw(request):
    application = _my_application_or_404(request)
    services.application_withdraw(application_id=application.pk, applicant=request.user)
    return Status(200, selectors.my_applications(user=request.user).get(pk=application.pk))


# --- reviewers ------------------------------------------------------------------------------


def _require_reviewer(request) -> None:
    if not request.user.has_perm(services.REVIEW_PERMISSION):
        raise PermissionDenied


@router.get(
    "/experts/applications",
    response={200: list[ReviewApplicationOut], 403: ErrorOut},
    summary="Applications for reviewers, oldest first",
)
@paginate(PageNumberPagination, page_size=50)
def application_queue(
    request,
    status: str = Query(
        ExpertApplication.Status.SUBMITTED, max_length=16, description="submitted (default), approved, … or all"
    ),
):
    _require_reviewer(request)
    if status != "all" and status not in ExpertApplication.Status.values:
        raise ValidationFailed(_("Unknown status."), fields={"status": [_("Unknown status.")]})
    return selectors.application_queue(status="" if status == "all" else status).prefetch_related("photos")


@router.post(
    "/experts/applications/{application_id}/decision",
    response={200: ReviewApplicationOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Decide an application against the written standards",
)
def application_decision(request, application_id: int, payload: DecisionIn):
    """Mark every standard met or not met. Approving needs every one met and a level; it makes the applicant an
    expert. Not approving needs the reason in `note`, which the applicant reads."""
    _require_reviewer(request)
    services.application_decide(
        application_id=application_id,
        actor=request.user,
        approve=payload.approve,
        checklist=payload.checklist,
        level=payload.level,
        note=payload.note,
    )
    return Status(200, selectors.application_for_review(application_id=application_id))


# --- my commissions ---------------------------------------------------------------------------

COMMISSIONS_PAGE_SIZE = 50


@router.get(
    "/experts/me/commissions",
    response={200: CommissionsOut, 404: ErrorOut},
    summary="My commissions as an expert, newest first, and what is owed to me",
)
def my_commissions(request, page: int = Query(1, ge=1, le=10_000)):
    expert: Expert | None = selectors.expert_for_user(request.user)
    if expert is None:
        raise NotFound(_("You are not an expert."), code="expert_not_found")
    commissions = selectors.commissions_of(expert=expert)
    start = (page - 1) * COMMISSIONS_PAGE_SIZE
    totals = selectors.commission_totals(expert=expert)
    return Status(
        200,
        {
            "payable_fen": selectors.commission_payable_fen(user=request.user),
            "earned_fen": totals["earned_fen"],
            "count": commissions.count(),
            "page": page,
            "items": list(commissions[start : start + COMMISSIONS_PAGE_SIZE]),
        },
    )


# --- one expert (last: its path would swallow the fixed ones above) -------------------------------


@router.get(
    "/experts/{username}",
    auth=None,
    response={200: ExpertDetailOut, 404: ErrorOut},
    summary="An expert's public profile with her portfolio",
)
def expert_detail(request, username: str):
    expert = selectors.public_expert(username=username[:32])
    if expert is None:
        raise NotFound(_("No such expert."), code="expert_not_found")
    return Status(200, expert)
