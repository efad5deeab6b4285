"""Claims (接龙): one winner per item, a fair queue behind her, and the hand-over when she does not pay.

Every claim on an item is taken with the item's row locked (SELECT … FOR
UPDATE on PostgreSQL; on SQLite every write transaction is IMMEDIATE, so
writers are serialised anyway). Inside that lock the claim's place (`seq`)
is the next number for the item, and the first claim moves the item
listed → reserved with one conditional UPDATE whose row count is checked
(`core.states.transition`). Partial unique constraints keep one live claim
per member per item and one reservation per item, whatever happens.

A reservation that passes its `reserved_until` is settled by whoever comes
first: the periodic task, or any read of the item, the claim or the
member's claims (`claims_settle_item`). Settling expires the claim, cancels
its unpaid order, and offers the item to the next in line with a fresh
window; with nobody in line the item is listed again.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.catalog.models import Item
from erhuo.community import selectors as community_selectors
from erhuo.core import events, states
from erhuo.core.errors import Conflict, NotFound, PermissionRefused
from erhuo.market import selectors
from erhuo.market.models import Claim, Order

CLAIMABLE = (Item.Status.LISTED, Item.Status.RESERVED)
SOLD_STATUSES = (
    Item.Status.SOLD,
    Item.Status.PACKED,
    Item.Status.SHIPPED,
    Item.Status.DELIVERED,
    Item.Status.COMPLETED,
)


# The item's columns claim_create reads: the checks (_refuse_unclaimable, selectors.item_visible_to) and the transition.
CLAIM_READS_ITEM = ("id", "status", "seller_id", "channel")


class ClaimRefused(Conflict):
    code = "claim_refused"


def payment_window() -> timedelta:
    return timedelta(minutes=settings.ERHUO_CLAIM_PAYMENT_MINUTES)


def _refuse_unclaimable(item: Item, member, *, reservations: int) -> None:
    if not selectors.item_visible_to(item, member):
        raise ClaimRefused(_("This item is not offered to you."), code="item_not_visible")
    if item.status in SOLD_STATUSES:
        raise ClaimRefused(_("Sorry, this item has been sold."), code="item_sold")
    if item.status not in CLAIMABLE:
        raise ClaimRefused(_("This item is not on sale."), code="item_not_listed")
    # Reserved with no claim: held as a gift of a community activity (it leaves sale while the activity runs).
    # A claim's reservation rules that out without asking: one read fewer under the item's lock in a storm.
    if item.status == Item.Status.RESERVED and not reservations and community_selectors.gift_item_held(item.pk):
        raise ClaimRefused(_("This item is a gift in a community activity."), code="item_is_gift")
    if item.seller_id == member.pk:
        raise ClaimRefused(_("You cannot claim your own item."), code="own_item")


# The queue of one item in one read. Written out in SQL: this is the hot path of a claim storm, and the ORM
# spends ten times the query's own time compiling four filtered aggregates on every claim.
_QUEUE_STATE_SQL = (
    "SELECT MAX(seq),"
    " COALESCE(SUM(CASE WHEN status = %s THEN 1 ELSE 0 END), 0),"
    " COALESCE(SUM(CASE WHEN status = %s AND reserved_until <= %s THEN 1 ELSE 0 END), 0),"
    " COALESCE(SUM(CASE WHEN member_id = %s AND status IN (%s, %s) THEN 1 ELSE 0 END), 0),"
    " COALESCE(SUM(CASE WHEN status = %s THEN 1 ELSE 0 END), 0)"
    " FROM {table} WHERE item_id = %s"
)


def _queue_state(item: Item, *, member, now) -> dict:
    """The item's queue (its row locked by the caller): the last place taken, how many queue, how many
    reservations are overdue, how many live places `member` holds, and how many reservations there are."""
    sql = _QUEUE_STATE_SQL.format(table=connection.ops.quote_name(Claim._meta.db_table))
    params = [
        Claim.Status.QUEUED,
        Claim.Status.RESERVED,
        connection.ops.adapt_datetimefield_value(now),
        member.pk,
        *Claim.LIVE,
        Claim.Status.RESERVED,
        item.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        last, queued, overdue, mine, reserved = cursor.fetchone()
    return {"last": last, "queued": queued, "overdue": overdue, "mine": mine, "reserved": reserved}


def claim_create(*, item_id: int, member, now=None) -> Claim:
    """Take a place for `member` in the item's queue: 0 (reserved) if it was free, else the next place.

    Refused (409, nothing written) when the item is sold, not on sale, not
    visible to her, her own, or when she already holds a place.
    """
    if member is None or not member.is_authenticated or not member.is_active:
        raise PermissionRefused(_("Log in to claim."), code="login_required")
    now = now or timezone.now()
    try:
        with transaction.atomic():
            # Only the columns a claim reads (the item has forty); any other one would load when first used.
            try:
                item = Item.objects.select_for_update().only(*CLAIM_READS_ITEM).get(pk=item_id)
            except Item.DoesNotExist:
                raise NotFound(_("Item not found."), code="item_not_found") from None
            queue = _queue_state(item, member=member, now=now)
            if queue["overdue"]:
                _settle_locked_item(item, now=now)
                queue = _queue_state(item, member=member, now=now)
            _refuse_unclaimable(item, member, reservations=queue["reserved"])
            if queue["mine"]:
                raise ClaimRefused(_("You already have a place in this queue."), code="already_claimed")
            seq = (queue["last"] or 0) + 1
            if item.status == Item.Status.LISTED:
                states.transition(item, to=Item.Status.RESERVED, actor=member, note=_("Claimed"))
                claim = Claim.objects.create(
                    item=item,
                    member=member,
                    seq=seq,
                    status=Claim.Status.RESERVED,
                    reserved_at=now,
                    reserved_until=now + payment_window(),
                )
                claim.position = 0
            else:
                claim = Claim.objects.create(item=item, member=member, seq=seq, status=Claim.Status.QUEUED)
                claim.position = queue["queued"] + 1
            states.record_start(claim, actor=member)
            # For whoever learns from what members want (the community's behaviour tags); sent after commit.
            events.emit("claim_created", claim_id=claim.pk, item_id=item.pk, member_id=member.pk)
    except IntegrityError:
        # Only the unique constraints can get here: the same member twice at the same instant.
        raise ClaimRefused(_("You already have a place in this queue."), code="already_claimed") from None
    return claim


def claim_withdraw(*, claim_id: int, member, now=None) -> Claim:
    """The claimer gives up her place; a reservation passes to the next in line."""
    now = now or timezone.now()
    with transaction.atomic():
        claim = Claim.objects.filter(pk=claim_id, member=member).first()
        if claim is None:
            raise NotFound(_("Claim not found."), code="claim_not_found")
        item = Item.objects.select_for_update().get(pk=claim.item_id)
        claim.refresh_from_db()
        if claim.status not in Claim.LIVE:
            raise Conflict(
                _("This claim is already %(status)s.") % {"status": claim.get_status_display()},
                code="claim_closed",
            )
        was_reserved = claim.status == Claim.Status.RESERVED
        states.transition(claim, to=Claim.Status.WITHDRAWN, actor=member)
        if was_reserved:
            _end_unpaid_order(claim, reason=_("The buyer withdrew her claim."), actor=member)
            _offer_next(item, now=now, actor=member)
    return claim


def _end_unpaid_order(claim: Claim, *, reason: str, actor=None) -> None:
    from erhuo.market.services.orders import order_cancel_unpaid

    line = selectors.live_line_of_claim(claim.pk)
    if line is not None and line.order.status == Order.Status.PENDING_PAYMENT:
        order_cancel_unpaid(order=line.order, reason=reason, actor=actor, release_claims=False)


def _offer_next(item: Item, *, now, actor=None) -> Claim | None:
    """Offer the item to the first one in line, with a fresh window; list it again if nobody waits.

    Called with the item's row locked, after its reservation ended.
    """
    item.refresh_from_db(fields=["status"])
    following = Claim.objects.filter(item=item, status=Claim.Status.QUEUED).order_by("seq").first()
    if following is None:
        if item.status == Item.Status.RESERVED:
            states.transition(item, to=Item.Status.LISTED, actor=actor, note=_("Nobody left in the queue"))
        return None
    if item.status == Item.Status.LISTED:
        states.transition(item, to=Item.Status.RESERVED, actor=actor, note=_("Offered to the next in line"))
    states.transition(
        following,
        to=Claim.Status.RESERVED,
        actor=actor,
        note=_("Your turn: the item is reserved for you."),
        updates={"reserved_at": now, "reserved_until": now + payment_window()},
        event_payload={"member_id": following.member_id, "item_id": item.pk, "offered": True},
    )
    return following


def _settle_locked_item(item: Item, *, now) -> int:
    """Expire the item's overdue reservation (the item's row is locked by the caller); returns how many ended."""
    ended = 0
    # A hand-over can itself be overdue only if `now` jumped; loop until the reservation is current.
    while True:
        overdue = (
            Claim.objects.filter(item=item, status=Claim.Status.RESERVED, reserved_until__lte=now)
            .order_by("seq")
            .first()
        )
        if overdue is None:
            return ended
        states.transition(overdue, to=Claim.Status.EXPIRED, note=_("Not paid within the payment window"))
        _end_unpaid_order(overdue, reason=_("Not paid within the payment window."))
        _offer_next(item, now=now)
        ended += 1


def claims_settle_item(*, item_id: int, now=None) -> int:
    """Settle one item's overdue reservation, if it has one (cheap when it has none)."""
    now = now or timezone.now()
    if not Claim.objects.filter(item_id=item_id, status=Claim.Status.RESERVED, reserved_until__lte=now).exists():
        return 0
    with transaction.atomic():
        item = Item.objects.select_for_update().filter(pk=item_id).first()
        return _settle_locked_item(item, now=now) if item else 0


def claims_settle_member(*, member, now=None) -> int:
    """Settle the overdue reservations of the items a member is queueing for (her pages read after this)."""
    now = now or timezone.now()
    item_ids = set(Claim.objects.filter(member=member, status__in=Claim.LIVE).values_list("item_id", flat=True))
    due = Claim.objects.filter(item_id__in=item_ids, status=Claim.Status.RESERVED, reserved_until__lte=now)
    return sum(claims_settle_item(item_id=item_id, now=now) for item_id in set(due.values_list("item_id", flat=True)))


def claims_settle_due(*, now=None, limit: int = 500) -> int:
    """Settle every overdue reservation (the periodic task)."""
    now = now or timezone.now()
    item_ids = (
        Claim.objects.filter(status=Claim.Status.RESERVED, reserved_until__lte=now)
        .values_list("item_id", flat=True)
        .distinct()[:limit]
    )
    return sum(claims_settle_item(item_id=item_id, now=now) for item_id in list(item_ids))


def claims_close_queue(*, item: Item, actor=None) -> int:
    """The item is paid for: everyone still waiting is told it went to someone else."""
    closed = 0
    for claim in Claim.objects.filter(item=item, status=Claim.Status.QUEUED).order_by("seq"):
        states.transition(claim, to=Claim.Status.CLOSED, actor=actor, event_payload={"member_id": claim.member_id})
        closed += 1
    return closed
