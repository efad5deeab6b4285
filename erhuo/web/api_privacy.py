"""Privacy API routes that gather every app's part (the download, deletion requests).

Mount with `api.add_router("", privacy_router)` in `erhuo/api.py`. A member
only reaches her own data and her own request; the operator routes need
`accounts.process_deletion_request`.
"""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from erhuo.accounts import selectors as account_selectors
from erhuo.accounts import services as account_services
from erhuo.accounts.models import DeletionRequest
from erhuo.core import ratelimit
from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import NotFound, PermissionRefused, RateLimited
from erhuo.core.pii import mask_name
from erhuo.web import privacy
from erhuo.web.views_privacy import DOWNLOADS_PER_HOUR

router = Router(tags=["privacy"])


class DeletionRequestIn(Schema):
    password: str = Field(..., max_length=256, description="The caller's password, to confirm")
    reason: str = Field("", max_length=1000)


class DecisionIn(Schema):
    note: str = Field("", max_length=1000, description="Required to refuse")


class DeletionRequestOut(Schema):
    id: int
    status: str
    reason: str
    blockers: list[str] = Field(..., description="What blocked the erasure when it was last recorded")
    note: str = Field(..., description="The operator's note")
    requested_at: datetime
    decided_at: datetime | None

    @staticmethod
    def resolve_requested_at(deletion_request) -> datetime:
        return deletion_request.created_at


class DeletionRequestOpsOut(DeletionRequestOut):
    user_id: int
    member_name: str = Field(..., description="Masked")

    @staticmethod
    def resolve_member_name(deletion_request) -> str:
        return mask_name(deletion_request.user.display_name)


class DeletionRequestDetailOut(DeletionRequestOpsOut):
    current_blockers: list[str] = Field(..., description="What blocks the erasure now (open requests)")


def _with_blockers(deletion_request: DeletionRequest) -> DeletionRequest:
    is_open = deletion_request.is_open
    deletion_request.current_blockers = privacy.erase_blockers(user=deletion_request.user) if is_open else []
    return deletion_request


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionRefused()


# --- the member -------------------------------------------------------------


@router.get(
    "/me/personal-data",
    response={200: dict, 429: ErrorOut},
    summary="Everything we hold about the caller, unmasked (the data download)",
)
def me_personal_data(request):
    """The same content as the download on the privacy page: one section per app."""
    if not ratelimit.allow(f"privacy-download:{request.user.pk}", limit=DOWNLOADS_PER_HOUR, window_seconds=3600):
        raise RateLimited(_("You have downloaded your data several times this hour. Please try again later."))
    return Status(200, privacy.personal_data_export(user=request.user))


def _my_open_request(request) -> DeletionRequest:
    deletion_request = account_selectors.deletion_request_open(user=request.user)
    if deletion_request is None:
        raise NotFound(_("You have no open deletion request."), code="deletion_request_not_found")
    return deletion_request


@router.get(
    "/me/deletion-request",
    response={200: DeletionRequestOut, 404: ErrorOut},
    summary="The caller's open deletion request",
)
def me_deletion_request(request):
    return Status(200, _my_open_request(request))


@router.post(
    "/me/deletion-request",
    response={201: DeletionRequestOut, 409: ErrorOut, 422: ErrorOut},
    summary="Ask for the caller's personal data to be erased (password required)",
)
def me_deletion_request_create(request, payload: DeletionRequestIn):
    """`blockers` lists what must be settled first (items in the pipeline, money held); it is recorded anyway."""
    deletion_request = privacy.deletion_request_create(
        user=request.user, password=payload.password, reason=payload.reason
    )
    return Status(201, deletion_request)


@router.delete(
    "/me/deletion-request",
    response={200: DeletionRequestOut, 404: ErrorOut, 409: ErrorOut},
    summary="Cancel the caller's open deletion request",
)
def me_deletion_request_cancel(request):
    deletion_request = _my_open_request(request)
    cancelled = account_services.deletion_request_cancel(user=request.user, request_id=deletion_request.pk)
    return Status(200, cancelled)


# --- operators --------------------------------------------------------------


@router.get(
    "/deletion-requests",
    response=list[DeletionRequestOpsOut],
    summary="Deletion requests, oldest first (customer service, owner)",
)
@paginate(PageNumberPagination, page_size=30)
def deletion_request_queue(request, status: str = DeletionRequest.Status.REQUESTED):
    _require(request, "accounts.process_deletion_request")
    if status and status not in DeletionRequest.Status.values:
        status = DeletionRequest.Status.REQUESTED
    return account_selectors.deletion_request_queue(status=status)


def _request_or_404(request_id: int) -> DeletionRequest:
    deletion_request = account_selectors.deletion_request_get(request_id=request_id)
    if deletion_request is None:
        raise NotFound(_("No such deletion request."), code="deletion_request_not_found")
    return deletion_request


@router.get(
    "/deletion-requests/{request_id}",
    response={200: DeletionRequestDetailOut, 403: ErrorOut, 404: ErrorOut},
    summary="One deletion request with what blocks it now",
)
def deletion_request_detail(request, request_id: int):
    _require(request, "accounts.process_deletion_request")
    return Status(200, _with_blockers(_request_or_404(request_id)))


@router.post(
    "/deletion-requests/{request_id}/erase",
    response={200: DeletionRequestDetailOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Erase the member's personal data and complete the request",
)
def deletion_request_erase(request, request_id: int, payload: DecisionIn):
    """Refused with 409 `deletion_blocked` (the list in `errors.blockers`) while anything blocks; nothing changes."""
    _require(request, "accounts.process_deletion_request")
    privacy.deletion_request_erase(actor=request.user, request_id=request_id, note=payload.note)
    return Status(200, _with_blockers(_request_or_404(request_id)))


@router.post(
    "/deletion-requests/{request_id}/refuse",
    response={200: DeletionRequestDetailOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Refuse a deletion request, with a note the member sees",
)
def deletion_request_refuse(request, request_id: int, payload: DecisionIn):
    _require(request, "accounts.process_deletion_request")
    account_services.deletion_request_refuse(actor=request.user, request_id=request_id, note=payload.note)
    return Status(200, _with_blockers(_request_or_404(request_id)))
