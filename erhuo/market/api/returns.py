"""Returns: the buyer asks with evidence, customer service decides; both read the timeline."""

from datetime import datetime

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import NotFound
from erhuo.market import selectors, services
from erhuo.market.api.common import ERRORS, Id, Money, Shaped, StepOut, one_of, require, timeline
from erhuo.market.models import ReturnPhoto, ReturnRequest
from erhuo.market.services.returns import DECIDE_PERMISSION

router = Router(tags=["market: returns"])


class ReturnLineOut(Schema):
    id: int
    order_id: int
    order_number: str
    item_id: int
    title: str
    price_fen: int


class PhotoOut(Schema):
    id: int
    url: str
    width: int
    height: int


class ReturnOut(Schema):
    id: int
    status: str
    status_label: str
    reason: str
    reason_label: str
    description: str
    line: ReturnLineOut
    refund_fen: int
    deposit_charged_fen: int | None = Field(..., description="Customer service only: charged to the seller")
    decision: str
    decided_at: datetime | None
    created_at: datetime


class ReturnDetailOut(ReturnOut):
    photos: list[PhotoOut] = Field(..., description="Evidence; each url answers only the buyer and customer service")
    timeline: list[StepOut]


class DecideIn(Schema):
    outcome: str = Field(..., max_length=16, description="refunded (the line's price), partial or rejected")
    decision: str = Field(..., max_length=2000, description="What was found and why; the buyer reads it")
    refund_fen: Money = Field(0, description="partial only: at most the seller's share of the line")
    deposit_charge_fen: Money = Field(0, description="refunded for a seller-fault reason only: from her deposit")


def _return(request_row: ReturnRequest, user, *, detail: bool = False) -> dict:
    line = request_row.line
    is_service = user.has_perm(DECIDE_PERMISSION)
    data = {
        "id": request_row.pk,
        "status": request_row.status,
        "status_label": request_row.get_status_display(),
        "reason": request_row.reason,
        "reason_label": request_row.get_reason_display(),
        "description": request_row.description,
        "line": {
            "id": line.pk,
            "order_id": line.order_id,
            "order_number": line.order.number,
            "item_id": line.item_id,
            "title": line.title,
            "price_fen": line.price_fen,
        },
        "refund_fen": request_row.refund_fen,
        "deposit_charged_fen": request_row.deposit_charged_fen if is_service else None,
        "decision": request_row.decision,
        "decided_at": request_row.decided_at,
        "created_at": request_row.created_at,
    }
    if detail:
        data["photos"] = [
            {
                "id": photo.pk,
                "url": reverse("api:market_return_photo", args=[request_row.pk, photo.pk]),
                "width": photo.width,
                "height": photo.height,
            }
            for photo in request_row.photos.all()
        ]
        data["timeline"] = timeline(
            request_row.transitions.order_by("created_at", "pk"),
            dict(ReturnRequest.Status.choices),
            buyer_id=request_row.buyer_id,
            seller_ids={line.seller_id},
        )
    return data


def _visible_return(request, return_id: int) -> ReturnRequest:
    found = selectors.return_of(return_id=return_id, user=request.user)
    if found is None:
        raise NotFound(_("Return not found."), code="return_not_found")
    return found


@router.post(
    "/order-lines/{int:line_id}/returns",
    response={201: ReturnDetailOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    summary="Ask to return an item I received (multipart)",
)
def return_create(
    request,
    line_id: Id,
    reason: str = Form(..., max_length=24, description="not_as_described, counterfeit, damaged, wrong_item or size"),
    description: str = Form(..., max_length=1000, description="What is wrong (at least a sentence)"),
    photos: File[list[UploadedFile]] = None,
):
    """Within the category's return window after delivery; up to 6 `photos` (JPEG, PNG or WebP). 409
    `not_returnable` (hygiene goods), `return_window_closed`, `return_open`, `already_refunded`; 404
    `line_not_found` (not yours)."""
    created = services.return_request_create(
        line_id=line_id, buyer=request.user, reason=reason, description=description, photos=photos or []
    )
    return Status(201, _return(_visible_return(request, created.pk), request.user, detail=True))


@router.get("/returns", response=list[ReturnOut], summary="My returns, newest first")
@paginate(PageNumberPagination, page_size=30)
def return_list(request):
    returns = selectors.returns_of(request.user).order_by("-created_at", "-pk")
    return Shaped(returns, lambda row: _return(row, request.user))


@router.get(
    "/returns/{int:return_id}",
    response={200: ReturnDetailOut, 404: ErrorOut},
    summary="One return, with its evidence and timeline",
)
def return_detail(request, return_id: Id):
    """For its buyer and customer service; 404 for anyone else."""
    return Status(200, _return(_visible_return(request, return_id), request.user, detail=True))


@router.get(
    "/returns/{int:return_id}/photos/{int:photo_id}",
    response={200: None, 404: ErrorOut},
    url_name="market_return_photo",
    summary="One evidence photo of a return",
    openapi_extra={"responses": {200: {"description": "The photo", "content": {"image/*": {}}}}},
)
def return_photo(request, return_id: Id, photo_id: Id):
    """For the return's buyer and customer service only (the files are private); never cached."""
    found = _visible_return(request, return_id)
    photo = ReturnPhoto.objects.filter(pk=photo_id, request=found).first()
    if photo is None:
        raise NotFound(_("No such photo."), code="photo_not_found")
    try:
        handle = photo.image.open("rb")
    except OSError:
        raise NotFound(_("No such photo."), code="photo_not_found") from None
    response = FileResponse(handle)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post(
    "/returns/{int:return_id}/withdraw",
    response={200: ReturnDetailOut, 404: ErrorOut, 409: ErrorOut},
    summary="Withdraw my return before it is decided",
)
def return_withdraw(request, return_id: Id):
    services.return_request_withdraw(return_id=return_id, buyer=request.user)
    return Status(200, _return(_visible_return(request, return_id), request.user, detail=True))


@router.get("/ops/returns", response={200: list[ReturnOut], 403: ErrorOut}, summary="Customer service: returns")
@paginate(PageNumberPagination, page_size=50)
def ops_return_list(
    request,
    status: str = Query("requested", max_length=16, description="requested (to decide, the default), refunded, …"),
):
    """Needs `market.decide_return`. Oldest first."""
    require(request, DECIDE_PERMISSION)
    one_of(status, ReturnRequest.Status.values, "status")
    returns = selectors.return_queue(status=status or ReturnRequest.Status.REQUESTED)
    return Shaped(returns, lambda row: _return(row, request.user))


@router.post(
    "/returns/{int:return_id}/decide",
    response={200: ReturnDetailOut, **ERRORS},
    summary="Customer service: decide a return",
)
def return_decide(request, return_id: Id, payload: DecideIn):
    """`refunded` gives back the line's price; `partial` gives back `refund_fen`, at most the seller's share of the
    line (422 `refund_invalid` above it); `rejected` gives back nothing. `deposit_charge_fen` (a full refund for a
    counterfeit, misdescribed or wrong item only) is charged to the seller's deposit. Needs `market.decide_return`
    (403); nobody decides on their own order. 409 `return_decided` if it was already decided."""
    require(request, DECIDE_PERMISSION)
    services.return_decide(
        return_id=return_id,
        actor=request.user,
        outcome=payload.outcome,
        decision=payload.decision,
        refund_fen=payload.refund_fen,
        deposit_charge_fen=payload.deposit_charge_fen,
    )
    return Status(200, _return(_visible_return(request, return_id), request.user, detail=True))
