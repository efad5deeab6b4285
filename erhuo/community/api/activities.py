"""Community API: activities — buy-with-gift (买赠), giveaways with a verifiable draw (抽奖), themed drops.

- Members see the activities of the groups they are active members of
  (operators: all); anything else is 404 `activity_not_found`.
- Organisers — operators, or the leader/assistant of every target group —
  create, cancel, draw and link drops; anyone else 403 `not_your_group`,
  nothing changed. The participation report is for operators and the
  leaders/assistants of a target group (403 for other members).
- `GET /activities/{id}/draw` publishes a giveaway's fair draw: the seed's
  hash (from creation), the entrants and their hash (after entries close),
  the seed and every step (after the draw). The seed is never in any answer
  before the draw. `scripts/verify_draw.py` re-checks the answer offline.
"""

from datetime import datetime
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from erhuo.community import draw, selectors
from erhuo.community.models import Activity
from erhuo.community.services import activities as services
from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import NotFound, PermissionRefused, ValidationFailed

router = Router(tags=["community: activities"])

MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- schemas ----------------------------------------------------------------------------------


class ActivityIn(Schema):
    kind: str = Field(..., description="buy_with_gift, giveaway or themed_drop", examples=["giveaway"])
    title: str = Field(..., max_length=services.TITLE_MAX, examples=["母亲节抽奖 · 送一只 Longchamp"])
    description: str = Field("", max_length=services.DESCRIPTION_MAX)
    group_ids: list[Id] = Field(..., min_length=1, max_length=services.MAX_GROUPS, examples=[[3, 4]])
    starts_at: datetime = Field(
        ..., description="With a time zone; past: it starts at once", examples=["2026-05-08T20:00:00+08:00"]
    )
    ends_at: datetime = Field(
        ..., description="After starts_at; at most 90 days later", examples=["2026-05-10T20:00:00+08:00"]
    )
    threshold_fen: int | None = Field(
        None, ge=0, le=services.MAX_THRESHOLD_FEN, description="Buy-with-gift: an order of at least this gets a gift"
    )
    gifts: list[Id] = Field(
        [],
        max_length=services.MAX_GIFTS,
        description="Buy-with-gift: ids of your own listed, platform-shipped items given as gifts (one gift each)",
        examples=[[51, 52]],
    )
    gift_item_id: Id | None = Field(None, description="Buy-with-gift: one gift item (added to `gifts`)")
    prize: str = Field(
        "", max_length=services.PRIZE_MAX, description="Giveaway: the prize", examples=["Longchamp 饺子包"]
    )
    winners_count: int = Field(1, ge=1, le=services.MAX_WINNERS, description="Giveaway: how many win")


class ReasonIn(Schema):
    reason: str = Field(
        ..., min_length=1, max_length=services.REASON_MAX, examples=["The prize did not arrive in time"]
    )


class DropLinkIn(Schema):
    drop_id: Id = Field(..., examples=[7])


class GroupRefOut(Schema):
    id: int
    name: str


class GiftOut(Schema):
    item_id: int
    title: str


class ActivityOut(Schema):
    id: int = Field(..., examples=[12])
    kind: str = Field(..., description="buy_with_gift, giveaway or themed_drop")
    kind_label: str
    title: str
    description: str
    status: str = Field(..., description="scheduled, running, ended, drawn (giveaways) or cancelled")
    status_label: str
    groups: list[GroupRefOut]
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    threshold_fen: int | None = Field(None, description="Buy-with-gift: the order amount that earns a gift")
    gifts_left: int | None = Field(None, description="Buy-with-gift: gifts still in stock")
    gift: GiftOut | None = Field(None, description="Buy-with-gift: the first gift item")
    prize: str
    winners_count: int
    seed_hash: str = Field(..., description="Giveaway: SHA-256 of the seed, published at creation")
    entrants_hash: str = Field(..., description="Giveaway: SHA-256 of the entrants list, once entries closed")
    seed: str = Field(..., description="Giveaway: the seed, empty until the draw")
    drawn_at: datetime | None
    entered: bool = Field(..., description="Giveaway: you entered")
    won: bool = Field(..., description="Giveaway: you won")
    organiser: bool = Field(..., description="You may cancel, draw and read the report")
    url: str

    @staticmethod
    def resolve_kind_label(obj):
        return obj.get_kind_display()

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_groups(obj):
        return [{"id": group.pk, "name": group.name} for group in obj.groups.all()]

    @staticmethod
    def resolve_gift(obj):
        return {"item_id": obj.gift_item_id, "title": obj.gift_item.title} if obj.gift_item_id else None

    @staticmethod
    def resolve_seed(obj):
        # Only a drawn giveaway's seed is public (the column is empty before; said again here on purpose).
        return obj.seed if obj.status == Activity.Status.DRAWN else ""

    @staticmethod
    def resolve_entered(obj, context):
        if hasattr(obj, "my_entered"):
            return obj.my_entered
        return _mine(obj, context) is not None

    @staticmethod
    def resolve_won(obj, context):
        if hasattr(obj, "my_won"):
            return obj.my_won
        entry = _mine(obj, context)
        return bool(entry and entry.won)

    @staticmethod
    def resolve_organiser(obj, context):
        request = context["request"]
        if not hasattr(request, "_erhuo_led_groups"):
            request._erhuo_led_groups = selectors.led_group_ids(request.user)
        if services.is_operator(request.user):
            return True
        group_ids = {group.pk for group in obj.groups.all()}
        return bool(group_ids) and group_ids <= request._erhuo_led_groups

    @staticmethod
    def resolve_url(obj, context):
        return context["request"].build_absolute_uri(f"/activities/{obj.pk}/")


def _mine(activity, context):
    request = context["request"]
    cache = request.__dict__.setdefault("_erhuo_activity_entries", {})
    if activity.pk not in cache:
        cache[activity.pk] = selectors.activity_entry_of(activity, request.user)
    return cache[activity.pk]


class EntryOut(Schema):
    activity_id: int
    entered_at: datetime
    entrants_count: int


class EntrantOut(Schema):
    user_id: int
    display_name: str = Field(..., description="Masked: the first character only")


class WinnerOut(EntrantOut):
    rank: int


class StepOut(Schema):
    rank: int
    hmac: str = Field(..., description="HMAC-SHA256(seed bytes, entrants_hash + ':' + rank), hex")
    remaining: int = Field(..., description="Entrants still in the list before this pick")
    index: int = Field(..., description="int(hmac) mod remaining: the 0-based position picked in the sorted list")
    user_id: int


class DrawOut(Schema):
    activity_id: int
    title: str
    prize: str
    status: str
    winners_count: int
    algorithm: str = Field(..., examples=[draw.ALGORITHM])
    algorithm_text: str
    seed_hash: str = Field(..., description="SHA-256 of the seed's 32 bytes, hex; published at creation")
    seed_committed_at: datetime
    entries_open_at: datetime
    entries_close_at: datetime
    entrants_count: int
    first_entry_at: datetime | None = Field(None, description="When the first entrant entered")
    committed_before_entries: bool = Field(..., description="The seed hash was published before the first entry")
    entrants: list[EntrantOut] = Field(..., description="Sorted by user id; empty until entries close")
    entrants_text: str | None = Field(None, description="The canonical list that entrants_hash hashes")
    entrants_hash: str | None = Field(None, description="SHA-256 of entrants_text (ASCII), hex; after the close")
    seed: str | None = Field(None, description="The seed (64 hex characters): null until the draw")
    drawn_at: datetime | None
    winners: list[WinnerOut]
    steps: list[StepOut] = Field(..., description="Each pick, re-computed from the published data")
    recomputed_winners: list[int]
    seed_matches: bool | None = Field(None, description="SHA-256(seed) equals the committed seed_hash")
    entrants_match: bool | None = Field(None, description="SHA-256(entrants_text) equals entrants_hash")


class GiftRowOut(Schema):
    item_id: int
    title: str
    item_status: str
    order_reference: str
    given_at: datetime | None
    back_on_sale_at: datetime | None


class ReportOut(Schema):
    kind: str
    members_reached: int = Field(..., description="Distinct active members of its groups")
    participants: int
    participation_rate: float = Field(..., description="participants / members_reached")
    orders_with_gift: int | None = None
    gifts_total: int | None = None
    gifts_given: int | None = None
    gifts_left: int | None = None
    gifts_back_on_sale: int | None = None
    gifts: list[GiftRowOut] | None = None
    entrants: int | None = None
    winners: list[int] | None = None
    drops: int | None = None
    items: int | None = None
    items_sold: int | None = None
    items_on_sale: int | None = None
    items_by_status: dict[str, int] | None = None
    sell_through: float | None = None


class ThemedItemOut(Schema):
    id: int
    title: str
    price_fen: int | None
    status: str
    sold: bool
    dropped_at: datetime

    @staticmethod
    def resolve_sold(obj):
        return obj.is_sold


# --- helpers ----------------------------------------------------------------------------------


def _visible(request, activity_id: int) -> Activity:
    services.activities_settle_due(activity_ids=[activity_id])
    activity = selectors.activity_of(activity_id)
    if activity is None or not selectors.activity_visible_to(request.user, activity):
        raise NotFound(_("Activity not found."), code="activity_not_found")
    return activity


def _giveaway(activity: Activity) -> None:
    if activity.kind != Activity.Kind.GIVEAWAY:
        raise NotFound(_("This activity has no draw."), code="not_a_giveaway")


def _draw_answer(activity: Activity) -> dict:
    return {**selectors.giveaway_record(activity), "algorithm_text": draw.__doc__.strip()}


# --- routes -----------------------------------------------------------------------------------


@router.get(
    "/activities",
    response={200: list[ActivityOut], 401: ErrorOut, 422: ErrorOut},
    summary="Activities of my groups (operators: every one), newest first",
)
@paginate(PageNumberPagination, page_size=30)
def activity_list(
    request,
    group_id: int | None = Query(None, ge=1, le=MAX_ID, description="Only this group's"),
    kind: str = Query("", max_length=16, description="buy_with_gift, giveaway or themed_drop"),
    status: str = Query("", max_length=16, description="scheduled, running, ended, drawn or cancelled"),
):
    if kind and kind not in Activity.Kind.values:
        raise ValidationFailed(_("Unknown kind."), fields={"kind": [_("Unknown kind.")]})
    if status and status not in Activity.Status.values:
        raise ValidationFailed(_("Unknown status."), fields={"status": [_("Unknown status.")]})
    services.activities_settle_due()
    activities = selectors.activities_visible_to(request.user, group_id=group_id, kind=kind, status=status)
    return selectors.with_my_entries(activities, request.user)


@router.post("/activities", response={201: ActivityOut, **ERRORS}, summary="Create an activity (organisers)")
def activity_create(request, payload: ActivityIn):
    """Operators anywhere; a leader or assistant only for groups she runs (403 `not_your_group` otherwise,
    nothing created). A giveaway's seed is drawn and its hash published at once."""
    activity = services.activity_create(
        actor=request.user,
        kind=payload.kind,
        title=payload.title,
        description=payload.description,
        group_ids=payload.group_ids,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        threshold_fen=payload.threshold_fen,
        gifts=payload.gifts,
        gift_item_id=payload.gift_item_id,
        prize=payload.prize,
        winners_count=payload.winners_count,
    )
    return Status(201, selectors.activity_of(activity.pk))


@router.get("/activities/{activity_id}", response={200: ActivityOut, **ERRORS}, summary="One activity")
def activity_detail(request, activity_id: Id):
    return Status(200, _visible(request, activity_id))


@router.post("/activities/{activity_id}/cancel", response={200: ActivityOut, **ERRORS}, summary="Call an activity off")
def activity_cancel(request, activity_id: Id, payload: ReasonIn):
    """Before it ends. Unused gifts go back on sale; a cancelled giveaway is not drawn."""
    services.activity_cancel(activity_id=activity_id, actor=request.user, reason=payload.reason)
    return Status(200, selectors.activity_of(activity_id))


@router.post(
    "/activities/{activity_id}/entries", response={201: EntryOut, **ERRORS}, summary="Enter a running giveaway"
)
def giveaway_enter(request, activity_id: Id):
    """Active members of its groups, once, while it runs; organisers cannot enter."""
    entry = services.giveaway_enter(activity_id=activity_id, user=request.user)
    count = entry.activity.entries.filter(reference="").count()
    return Status(201, {"activity_id": activity_id, "entered_at": entry.created_at, "entrants_count": count})


@router.get(
    "/activities/{activity_id}/draw",
    response={200: DrawOut, **ERRORS},
    summary="A giveaway's fair draw: everything needed to re-check it",
)
def draw_record(request, activity_id: Id):
    activity = _visible(request, activity_id)
    _giveaway(activity)
    return Status(200, _draw_answer(activity))


@router.post("/activities/{activity_id}/draw", response={200: DrawOut, **ERRORS}, summary="Draw a giveaway's winners")
def draw_run(request, activity_id: Id):
    """Organisers, once entries have closed: reveals the seed and marks the winners."""
    services.giveaway_draw(activity_id=activity_id, actor=request.user)
    return Status(200, _draw_answer(selectors.activity_of(activity_id)))


@router.get(
    "/activities/{activity_id}/report",
    response={200: ReportOut, **ERRORS},
    summary="Participation in an activity (operators and its groups' leaders)",
)
def activity_report(request, activity_id: Id):
    activity = _visible(request, activity_id)
    if not selectors.activity_reportable_by(request.user, activity):
        raise PermissionRefused(_("Only the groups' leaders and operators read the report."), code="not_your_group")
    return Status(200, selectors.activity_report(activity))


@router.get(
    "/activities/{activity_id}/items",
    response={200: list[ThemedItemOut], **ERRORS},
    summary="The items of a themed drop's drops",
)
def themed_items(request, activity_id: Id):
    activity = _visible(request, activity_id)
    if activity.kind != Activity.Kind.THEMED_DROP:
        raise NotFound(_("This activity has no items of its own."), code="not_a_themed_drop")
    return Status(200, selectors.themed_drop_items(activity))


@router.post(
    "/activities/{activity_id}/drops",
    response={200: ActivityOut, **ERRORS},
    summary="Put a drop under a themed drop's banner",
)
def drop_link(request, activity_id: Id, payload: DropLinkIn):
    services.activity_drop_link(activity_id=activity_id, drop_id=payload.drop_id, actor=request.user)
    return Status(200, selectors.activity_of(activity_id))


class DropItemsIn(Schema):
    item_ids: list[Id] = Field(..., min_length=1, max_length=50, examples=[[21, 22]])
    drop_at: datetime | None = Field(None, description="While the activity runs; empty: when it starts (or now)")
    title: str = Field("", max_length=80)


@router.post(
    "/activities/{activity_id}/drops/new",
    response={201: ActivityOut, **ERRORS},
    summary="Drop items into a themed drop's groups, under its banner",
)
def drop_create(request, activity_id: Id, payload: DropItemsIn):
    services.activity_drop_create(
        activity_id=activity_id,
        actor=request.user,
        item_ids=payload.item_ids,
        drop_at=payload.drop_at,
        title=payload.title,
    )
    return Status(201, selectors.activity_of(activity_id))


@router.delete(
    "/activities/{activity_id}/drops/{drop_id}",
    response={200: ActivityOut, **ERRORS},
    summary="Take a drop out of a themed drop",
)
def drop_unlink(request, activity_id: Id, drop_id: Id):
    services.activity_drop_unlink(activity_id=activity_id, drop_id=drop_id, actor=request.user)
    return Status(200, selectors.activity_of(activity_id))
