"""Community API: drops of items into groups, a group's feed, and the groups an item suits.

- Operators (`community.manage_community`) drop into any group and see every
  drop; a group's leader or assistant drops into the groups she runs and sees
  their drops; anyone else is refused (403 `not_group_admin`). A drop naming
  another leader's group is refused whole (403 `not_your_group`).
- A group's feed is for its active members (and operators): 404 `group_not_found`
  for anyone else, as if the group did not exist.
- Community-only items never leave through this API to anyone outside their groups.
"""

from datetime import datetime
from typing import Annotated

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from erhuo.catalog.models import Item
from erhuo.community import selectors
from erhuo.community.models import Drop, Group
from erhuo.community.services import drops as services
from erhuo.core.api import ErrorOut
from erhuo.core.errors import NotFound, PermissionRefused, ValidationFailed

router = Router(tags=["community: drops"])

MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- schemas ----------------------------------------------------------------------------------


class DropIn(Schema):
    item_ids: list[Id] = Field(..., min_length=1, max_length=services.MAX_ITEMS, examples=[[12, 13]])
    group_ids: list[Id] = Field(..., min_length=1, max_length=services.MAX_GROUPS, examples=[[3]])
    drop_at: datetime | None = Field(
        None,
        description="When it drops (with a time zone); empty or past: at once. Up to 90 days ahead.",
        examples=["2025-06-01T20:00:00+08:00"],
    )
    title: str = Field("", max_length=services.TITLE_MAX, examples=["周五晚八点 · 轻奢包袋专场"])


class CancelIn(Schema):
    reason: str = Field("", max_length=200, examples=["Moved to Saturday"])


class DropGroupOut(Schema):
    id: int
    name: str


class DropItemOut(Schema):
    id: int
    title: str
    price_fen: int | None
    channel: str = Field(..., description="platform, community or both")


class DropOut(Schema):
    id: int = Field(..., examples=[7])
    title: str
    status: str = Field(..., description="scheduled, live or cancelled", examples=["scheduled"])
    status_label: str
    drop_at: datetime
    created_at: datetime
    created_by: str = Field(..., description="Display name of who scheduled it")
    groups: list[DropGroupOut]
    items: list[DropItemOut]


class FeedItemOut(Schema):
    id: int = Field(..., examples=[12])
    title: str = Field(..., examples=["COACH 托特包 焦糖色"])
    price_fen: int = Field(..., examples=[128_000])
    status: str = Field(..., description="listed (claim it) or reserved (join the queue)", examples=["listed"])
    channel: str = Field(..., description="platform, community (社群款: this group's members only) or both")
    grade: str = Field(..., description="Condition grade N, S, A, B, C; empty if not graded", examples=["A"])
    brand: str | None = Field(..., examples=["Coach"])
    thumbnail_url: str | None
    url: str = Field(..., description="The item's page")
    dropped_at: datetime = Field(..., description="When it dropped into this group (its latest drop)")


class SuggestionOut(Schema):
    group_id: int = Field(..., examples=[3])
    name: str = Field(..., examples=["女装·轻奢 1群"])
    member_count: int
    score: float = Field(..., description="Mean tag similarity of the item with the group's members, 0..1")
    reasons: list[str] = Field(..., examples=[["女装: 92% of members", "轻奢: 61% of members"]])


# --- shaping ----------------------------------------------------------------------------------


def _drop(drop: Drop) -> dict:
    return {
        "id": drop.pk,
        "title": drop.title,
        "status": drop.status,
        "status_label": drop.get_status_display(),
        "drop_at": drop.drop_at,
        "created_at": drop.created_at,
        "created_by": drop.created_by.display_name,
        "groups": [{"id": group.pk, "name": group.name} for group in drop.groups.all()],
        "items": [
            {"id": item.pk, "title": item.title, "price_fen": item.price_fen, "channel": item.channel}
            for item in drop.items.all()
        ],
    }


def _item_url(item_id: int) -> str:
    return reverse("consignment:item_public", args=[item_id])


def _feed_item(request, item: Item) -> dict:
    photo = selectors.card_photo(item)
    return {
        "id": item.pk,
        "title": item.title,
        "price_fen": item.price_fen,
        "status": item.status,
        "channel": item.channel,
        "grade": item.grade or item.declared_grade,
        "brand": item.brand.name if item.brand_id else None,
        "thumbnail_url": request.build_absolute_uri((photo.thumbnail or photo.image).url) if photo else None,
        "url": request.build_absolute_uri(_item_url(item.pk)),
        "dropped_at": item.dropped_at,
    }


def _require_dropper(user) -> None:
    if not selectors.may_drop(user):
        raise PermissionRefused(
            _("Only a group's leader, its assistants or an operator can do this."), code="not_group_admin"
        )


# --- routes -----------------------------------------------------------------------------------


@router.post("/community/drops", response={201: DropOut, **ERRORS}, summary="Drop items into groups (now or later)")
def drop_create(request, payload: DropIn):
    """Items on sale (`listed`) into groups you run (any group, for an operator), at `drop_at`.

    403 `not_group_admin` (you run no group), `not_your_group` (a group is
    another leader's); 422 `item_not_found`, `group_not_found`, `group_archived`,
    `drop_too_far`, `title_too_long`; 409 `item_not_listed`. Nothing is written
    when refused. Platform-only items may be dropped too (posted into the
    groups as content; they stay public).
    """
    drop = services.drop_create(
        actor=request.user,
        item_ids=payload.item_ids,
        group_ids=payload.group_ids,
        drop_at=payload.drop_at,
        title=payload.title,
    )
    return Status(201, _drop(selectors.drops_for(request.user).get(pk=drop.pk)))


@router.get(
    "/community/drops",
    response={200: list[DropOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Drops I may see, newest first",
)
def drop_list(
    request,
    status: str = Query("", description="scheduled, live or cancelled; empty for all"),
    group_id: int | None = Query(None, ge=1, le=MAX_ID, description="Only drops into this group"),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=100_000),
):
    """Operators: every drop. Leaders and assistants: drops into the groups they run. Others: 403."""
    _require_dropper(request.user)
    if status and status not in Drop.Status.values:
        raise ValidationFailed(_("Unknown value."), code="filter_invalid", fields={"status": [_("Unknown value.")]})
    services.drops_release_due()
    drops = selectors.drops_for(request.user, status=status or None, group_id=group_id)
    return [_drop(drop) for drop in drops[offset : offset + limit]]


@router.post("/community/drops/{int:drop_id}/cancel", response={200: DropOut, **ERRORS}, summary="Cancel a drop")
def drop_cancel(request, drop_id: Id, payload: CancelIn | None = None):
    """Before its time only: 409 `drop_already_out` once it dropped, `drop_cancelled` when cancelled already.
    404 `drop_not_found`; 403 as for creating (another leader's group: `not_your_group`)."""
    services.drop_cancel(actor=request.user, drop_id=drop_id, reason=payload.reason if payload else "")
    return Status(200, _drop(selectors.drops_for(request.user).get(pk=drop_id)))


@router.get(
    "/groups/{int:group_id}/feed",
    response={200: list[FeedItemOut], 401: ErrorOut, 404: ErrorOut},
    summary="A group's feed: items dropped into it, on sale, newest drop first",
)
def group_feed(
    request,
    group_id: Id,
    limit: int = Query(30, ge=1, le=100),
    offset: int = Query(0, ge=0, le=10_000),
):
    """For the group's active members (and operators); 404 `group_not_found` for anyone else."""
    group = Group.objects.filter(pk=group_id).first()
    if group is None or not (
        selectors.is_active_member(request.user, group) or selectors.is_community_operator(request.user)
    ):
        raise NotFound(_("No such group."), code="group_not_found")
    services.drops_release_due()
    return [_feed_item(request, item) for item in selectors.group_feed(group, limit=limit, offset=offset)]


@router.get(
    "/community/items/{int:item_id}/suggested-groups",
    response={200: list[SuggestionOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="The groups an item suits best, with the reasons",
)
def suggested_groups(request, item_id: Id, limit: int = Query(5, ge=1, le=50)):
    """Among the groups you may drop into, best first. For items on sale; 404 `item_not_found` otherwise."""
    _require_dropper(request.user)
    item = (
        Item.objects.select_related("category__parent__parent", "brand")
        .filter(pk=item_id, status=Item.Status.LISTED)
        .first()
    )
    if item is None:
        raise NotFound(_("Item not found."), code="item_not_found")
    suggestions = selectors.drop_suggest_groups(
        item=item, limit=limit, among=selectors.drop_target_groups(request.user).values("pk")
    )
    return [
        {
            "group_id": suggestion.group.pk,
            "name": suggestion.group.name,
            "member_count": suggestion.group.member_count,
            "score": suggestion.score,
            "reasons": suggestion.reasons,
        }
        for suggestion in suggestions
    ]
