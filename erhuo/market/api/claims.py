"""Claims (接龙): take a place in an item's queue, read the queue and my places, give a place up."""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from erhuo.catalog.models import Item
from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import NotFound
from erhuo.market import selectors, services
from erhuo.market.api.common import Id, Shaped, visible_item
from erhuo.market.models import Claim

router = Router(tags=["market: claims"])


class ClaimBriefOut(Schema):
    id: int
    item_id: int
    status: str = Field(..., description="reserved (yours to pay), queued, purchased, withdrawn, expired or closed")
    position: int | None = Field(..., description="0 when reserved, 1, 2, … in the queue; null once ended")
    expires_at: datetime | None = Field(..., description="Pay by this time (reserved only); null otherwise")


class ClaimOut(ClaimBriefOut):
    status_label: str
    item_title: str
    item_price_fen: int
    order_id: int | None = Field(..., description="The order waiting for payment that holds this reservation")
    created_at: datetime


class ClaimCreatedOut(Schema):
    claim: ClaimBriefOut


class ClaimEnvelopeOut(Schema):
    claim: ClaimOut


class QueueOut(Schema):
    item_id: int
    item_status: str
    item_status_label: str
    queued: int = Field(..., description="How many wait behind the reservation")
    can_claim: bool = Field(..., description="Whether a claim by you would be accepted now")
    mine: ClaimOut | None = Field(..., description="Your live claim on the item, with its position")


def _claim_brief(claim: Claim) -> dict:
    reserved = claim.status == Claim.Status.RESERVED
    return {
        "id": claim.pk,
        "item_id": claim.item_id,
        "status": claim.status,
        "position": claim.position,
        "expires_at": claim.reserved_until if reserved else None,
    }


def _claim(claim: Claim) -> dict:
    if not hasattr(claim, "open_order_id"):
        line = selectors.live_line_of_claim(claim.pk) if claim.status == Claim.Status.RESERVED else None
        claim.open_order_id = line.order_id if line else None
    return {
        **_claim_brief(claim),
        "status_label": claim.get_status_display(),
        "item_title": claim.item.title,
        "item_price_fen": claim.item.price_fen,
        "order_id": claim.open_order_id,
        "created_at": claim.created_at,
    }


@router.post(
    "/items/{int:item_id}/claims",
    response={201: ClaimCreatedOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Claim an item (接龙): reserve it, or take the next place in its queue",
)
def claim_create(request, item_id: Id):
    """The first claim reserves the item: `status` `reserved`, `position` 0, and `expires_at`, the time by which
    you must pay (order it with `POST /orders`). Later claims queue: `status` `queued`, `position` 1, 2, … in the
    order the server accepted them; when the reservation ends unpaid, the next in line is reserved with a fresh
    window (and notified).

    409 with `code`: `item_sold`, `item_not_listed` (not on sale), `item_not_visible` (a group's item outside your
    groups), `own_item`, `already_claimed` (you already hold a place: see `GET /items/{id}/queue`). 404
    `item_not_found`. Nothing is written when refused."""
    # The hot path of a claim storm: the service's queries only, and an answer built from what it returns.
    claim = services.claim_create(item_id=item_id, member=request.user)
    return Status(201, {"claim": _claim_brief(claim)})


@router.get(
    "/items/{int:item_id}/queue",
    response={200: QueueOut, 404: ErrorOut},
    summary="An item's queue: its status, how many wait, and my place",
)
def item_queue(request, item_id: Id):
    item = visible_item(request, item_id)
    services.claims_settle_item(item_id=item.pk)
    item.refresh_from_db(fields=["status"])
    summary = selectors.queue_summary(item, request.user)
    mine = summary["mine"]
    if mine is not None:
        mine.item = item
    can_claim = (
        mine is None and item.seller_id != request.user.pk and item.status in (Item.Status.LISTED, Item.Status.RESERVED)
    )
    return Status(
        200,
        {
            "item_id": item.pk,
            "item_status": item.status,
            "item_status_label": item.get_status_display(),
            "queued": summary["queued"],
            "can_claim": can_claim,
            "mine": _claim(mine) if mine is not None else None,
        },
    )


@router.get("/claims", response=list[ClaimOut], summary="My claims, newest first (the latest 200)")
@paginate(PageNumberPagination, page_size=50)
def claim_list(request, live: bool = Query(False, description="Only the live ones: reserved and queued")):
    services.claims_settle_member(member=request.user)
    return Shaped(selectors.claims_of(request.user, live_only=live), _claim)


@router.get("/claims/{int:claim_id}", response={200: ClaimEnvelopeOut, 404: ErrorOut}, summary="One of my claims")
def claim_detail(request, claim_id: Id):
    item_id = Claim.objects.filter(pk=claim_id, member=request.user).values_list("item_id", flat=True).first()
    if item_id is not None:
        services.claims_settle_item(item_id=item_id)
    claim = selectors.claim_of(claim_id=claim_id, member=request.user)
    if claim is None:
        raise NotFound(_("Claim not found."), code="claim_not_found")
    return Status(200, {"claim": _claim(claim)})


@router.post(
    "/claims/{int:claim_id}/withdraw",
    response={200: ClaimEnvelopeOut, 404: ErrorOut, 409: ErrorOut},
    summary="Give up my place (a reservation passes to the next in line)",
)
def claim_withdraw(request, claim_id: Id):
    """An unpaid order holding the reservation is cancelled with it. 409 `claim_closed` if the claim already ended."""
    services.claim_withdraw(claim_id=claim_id, member=request.user)
    return Status(200, {"claim": _claim(selectors.claim_of(claim_id=claim_id, member=request.user))})
