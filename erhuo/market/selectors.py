"""Reads of the market: queues and positions, orders, returns, buyer shows, and the money checks."""

from datetime import timedelta

from django.db.models import Count, F, Prefetch, Sum
from django.utils import timezone

from erhuo.catalog.models import Item
from erhuo.community import selectors as community_selectors
from erhuo.market.models import BuyerShow, Claim, Order, OrderLine, ReturnRequest

STAFF_PERMISSION = "market.view_all_orders"


# --- visibility -------------------------------------------------------------------------------


def item_visible_to(item: Item, user) -> bool:
    """May `user` see (and so claim) this item?

    Platform items and items on both channels: everyone. Community-only
    items (社群款): the active members of a group they were dropped into
    (a drop that is out), their seller, and staff; to anyone else they do
    not exist. The community decides (`community.selectors.item_visible_in_groups`;
    as a queryset filter, `items_visible_filter`).
    """
    return community_selectors.item_visible_in_groups(item, user)


# --- claims -----------------------------------------------------------------------------------


def claim_position(claim: Claim) -> int | None:
    """0 for the reservation, 1… for the queue (live places ahead + 1), None once the claim has ended."""
    if claim.status == Claim.Status.RESERVED:
        return 0
    if claim.status != Claim.Status.QUEUED:
        return None
    return Claim.objects.filter(item_id=claim.item_id, status=Claim.Status.QUEUED, seq__lt=claim.seq).count() + 1


def claims_of(member, *, live_only: bool = False):
    """The member's claims, newest first, each with its `position` (one query for all the positions)."""
    claims = Claim.objects.filter(member=member).select_related("item", "item__brand").order_by("-created_at", "-pk")
    if live_only:
        claims = claims.filter(status__in=Claim.LIVE)
    claims = list(claims[:200])
    queued = [claim for claim in claims if claim.status == Claim.Status.QUEUED]
    ahead: dict[int, int] = {}
    if queued:
        rows = Claim.objects.filter(item_id__in={c.item_id for c in queued}, status=Claim.Status.QUEUED).values_list(
            "item_id", "seq"
        )
        by_item: dict[int, list[int]] = {}
        for item_id, seq in rows:
            by_item.setdefault(item_id, []).append(seq)
        for claim in queued:
            ahead[claim.pk] = sum(1 for seq in by_item.get(claim.item_id, ()) if seq < claim.seq)
    for claim in claims:
        if claim.status == Claim.Status.RESERVED:
            claim.position = 0
        elif claim.status == Claim.Status.QUEUED:
            claim.position = ahead[claim.pk] + 1
        else:
            claim.position = None
        claim.open_order_id = None
    reserved_ids = [claim.pk for claim in claims if claim.status == Claim.Status.RESERVED]
    if reserved_ids:
        open_orders = dict(
            OrderLine.objects.filter(claim_id__in=reserved_ids, active=True).values_list("claim_id", "order_id")
        )
        for claim in claims:
            claim.open_order_id = open_orders.get(claim.pk)
    return claims


def claim_of(*, claim_id: int, member) -> Claim | None:
    claim = Claim.objects.select_related("item").filter(pk=claim_id, member=member).first()
    if claim is not None:
        claim.position = claim_position(claim)
    return claim


def queue_summary(item: Item, user=None) -> dict:
    """How many wait for the item, and the user's own live claim (for the claim button)."""
    queued = Claim.objects.filter(item=item, status=Claim.Status.QUEUED).count()
    mine = None
    if user is not None and user.is_authenticated:
        mine = Claim.objects.filter(item=item, member=user, status__in=Claim.LIVE).first()
        if mine is not None:
            mine.position = claim_position(mine)
    return {"queued": queued, "mine": mine}


def live_line_of_claim(claim_id: int) -> OrderLine | None:
    return OrderLine.objects.select_related("order").filter(claim_id=claim_id, active=True).first()


# --- orders -----------------------------------------------------------------------------------


def order_id_from_reference(reference: str) -> int | None:
    kind, _, number = (reference or "").partition(":")
    return int(number) if kind == "order" and number.isdigit() else None


def _order_queryset():
    return Order.objects.select_related("buyer", "shipper", "payment").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("item", "seller").order_by("pk"))
    )


def orders_of(buyer, *, status: str | None = None):
    orders = _order_queryset().filter(buyer=buyer)
    if status:
        orders = orders.filter(status=status)
    return orders.order_by("-created_at", "-pk")


def order_of(*, order_id: int, user) -> Order | None:
    """The order for its buyer, its self-ship seller, or staff who may see every order; else None."""
    order = _order_queryset().filter(pk=order_id).first()
    if order is None or user is None or not user.is_authenticated:
        return None
    if order.buyer_id == user.pk or order.shipper_id == user.pk or user.has_perm(STAFF_PERMISSION):
        return order
    return None


def order_timeline(order: Order):
    return order.transitions.select_related("actor").order_by("created_at", "pk")


def orders_for_staff(*, status: str | None = None, fulfilment: str | None = None):
    orders = _order_queryset()
    if status:
        orders = orders.filter(status=status)
    if fulfilment:
        orders = orders.filter(fulfilment=fulfilment)
    return orders.order_by("created_at", "pk")


def orders_to_ship_by(seller):
    """Self-ship orders the seller must send, the most urgent first."""
    return _order_queryset().filter(shipper=seller).order_by("ship_by", "pk")


def sales_of(seller):
    """The seller's order lines (what she sold), newest first, with their orders."""
    return (
        OrderLine.objects.filter(seller=seller, is_gift=False)
        .select_related("order", "item")
        .order_by("-order__created_at", "-pk")
    )


def sale_breakdown(item: Item):
    from erhuo.consignment.selectors import sale_breakdown as consignment_breakdown

    return consignment_breakdown(item)


def seller_money_summary(seller) -> dict:
    """Pending (in escrow), earned (payable, not yet paid out) and sold counts for the seller's page."""
    from erhuo.ledger.selectors import balance_by_code
    from erhuo.market.accounts import seller_payable_code

    lines = OrderLine.objects.filter(seller=seller, is_gift=False, active=True)
    pending = lines.filter(order__status__in=Order.OPEN_PAID).aggregate(
        net=Sum("seller_net_fen"), refunded=Sum("refunded_fen"), count=Count("pk")
    )
    completed = lines.filter(order__status=Order.Status.COMPLETED).aggregate(
        net=Sum("seller_net_fen"), refunded=Sum("refunded_fen"), count=Count("pk")
    )
    return {
        "pending_fen": (pending["net"] or 0) - (pending["refunded"] or 0),
        "pending_count": pending["count"],
        "earned_fen": (completed["net"] or 0) - (completed["refunded"] or 0),
        "sold_count": completed["count"],
        "payable_fen": balance_by_code(seller_payable_code(seller.pk)),
    }


# --- returns ----------------------------------------------------------------------------------


def returns_of(buyer):
    return ReturnRequest.objects.filter(buyer=buyer).select_related("line", "line__order", "line__item")


def return_of(*, return_id: int, user) -> ReturnRequest | None:
    request = (
        ReturnRequest.objects.select_related("line", "line__order", "line__item", "line__seller", "buyer")
        .prefetch_related("photos")
        .filter(pk=return_id)
        .first()
    )
    if request is None or user is None or not user.is_authenticated:
        return None
    if request.buyer_id == user.pk or user.has_perm("market.decide_return"):
        return request
    return None


def return_queue(*, status: str = ReturnRequest.Status.REQUESTED):
    return (
        ReturnRequest.objects.filter(status=status)
        .select_related("line", "line__order", "line__item", "line__seller", "buyer")
        .order_by("created_at", "pk")
    )


def return_window_open(line: OrderLine, now) -> bool:
    order = line.order
    if order.status != Order.Status.DELIVERED or order.delivered_at is None:
        return False
    category = line.item.category
    if not category.effective_returnable():
        return False
    return now <= order.delivered_at + timedelta(days=category.effective_return_window_days())


# --- buyer shows ------------------------------------------------------------------------------


def _shows():
    return (
        BuyerShow.objects.filter(hidden=False)
        .select_related("buyer", "item")
        .prefetch_related("photos")
        .order_by("-created_at", "-pk")
    )


def shows_for_item(item_id: int, *, limit: int = 10):
    return list(_shows().filter(item_id=item_id)[:limit])


def shows_for_seller(seller_id: int, *, limit: int = 10):
    return list(_shows().filter(seller_id=seller_id)[:limit])


def shows_for_expert(expert_user_id: int, *, limit: int = 10):
    """Shows of sales attributed to the expert (the ones that earned her a commission)."""
    from erhuo.experts.models import ExpertCommission

    references = ExpertCommission.objects.filter(expert__user_id=expert_user_id).values_list(
        "sale_reference", flat=True
    )
    line_ids = [int(ref.split(":", 1)[1]) for ref in references if ref.startswith("order-line:")]
    return list(_shows().filter(line_id__in=line_ids)[:limit])


def featured_shows(*, limit: int = 20):
    return list(_shows().filter(featured_at__isnull=False).order_by("-featured_at", "-pk")[:limit])


def show_candidates_for(buyer):
    """Her delivered or completed lines without a show yet: what she can still review."""
    return (
        OrderLine.objects.filter(
            order__buyer=buyer,
            is_gift=False,
            order__status__in=(Order.Status.DELIVERED, Order.Status.COMPLETED),
            buyer_show__isnull=True,
        )
        .select_related("item", "order")
        .order_by("-order__delivered_at", "-pk")
    )


# --- the money checks (reconciliation) -------------------------------------------------------


def money_problems() -> list[str]:
    """Every way the orders' money could fail to add up; empty when it does.

    - escrow's balance equals what open paid orders hold (paid − refunded);
    - each order: what the ledger moved into and out of escrow for it equals
      what it holds (open), or zero (completed, refunded, cancelled);
    - each order line's breakdown adds up (also a database constraint).
    """
    from erhuo.ledger.models import Posting
    from erhuo.ledger.selectors import balance_by_code
    from erhuo.market.accounts import ESCROW

    problems = []
    held = Order.objects.filter(status__in=Order.OPEN_PAID).aggregate(
        paid=Sum("paid_fen"), refunded=Sum("refunded_fen")
    )
    expected = (held["paid"] or 0) - (held["refunded"] or 0)
    escrow = balance_by_code(ESCROW)
    if escrow != expected:
        problems.append(f"escrow holds {escrow} fen; open paid orders hold {expected} fen")
    by_reference = dict(
        Posting.objects.filter(account__code=ESCROW)
        .values_list("entry__reference")
        .annotate(total=Sum("amount_fen"))
        .values_list("entry__reference", "total")
    )
    for order in Order.objects.exclude(paid_fen=0).only("pk", "status", "paid_fen", "refunded_fen"):
        in_escrow = -(by_reference.get(order.reference) or 0)  # a liability: credits are positive here
        should = order.held_fen if order.status in Order.OPEN_PAID else 0
        if in_escrow != should:
            problems.append(f"order #{order.pk} ({order.status}): escrow holds {in_escrow} fen, should hold {should}")
    broken = OrderLine.objects.filter(is_gift=False).exclude(
        seller_net_fen=F("price_fen") - F("commission_fen") - F("service_fees_fen")
    )
    for line in broken.values_list("pk", flat=True)[:50]:
        problems.append(f"order line #{line}: breakdown does not add up")
    return problems


def counts_for_console() -> dict:
    return {
        "to_pack": Order.objects.filter(status=Order.Status.PAID, fulfilment=Order.Fulfilment.PLATFORM).count(),
        "to_ship": Order.objects.filter(status=Order.Status.PACKED).count(),
        "returns": ReturnRequest.objects.filter(status=ReturnRequest.Status.REQUESTED).count(),
        "late_self_ship": Order.objects.filter(
            status=Order.Status.PAID, fulfilment=Order.Fulfilment.SELF_SHIP, ship_by__isnull=False
        )
        .filter(ship_by__lte=timezone.now())
        .count(),
    }


# --- personal data (erhuo/web/privacy.py) -----------------------------------------------------


def personal_data_export(*, user) -> dict:
    """Her claims, orders (with the addresses they went to), returns and buyer shows."""
    orders = Order.objects.filter(buyer=user).prefetch_related("lines").order_by("created_at", "pk")
    return {
        "claims": [
            {"item": title, "status": status, "created_at": created.isoformat()}
            for title, status, created in Claim.objects.filter(member=user)
            .order_by("created_at", "pk")
            .values_list("item__title", "status", "created_at")
        ],
        "orders": [
            {
                "number": order.number,
                "status": order.status,
                "items": [line.title for line in order.lines.all()],
                "total_fen": order.total_fen,
                "paid_fen": order.paid_fen,
                "refunded_fen": order.refunded_fen,
                "recipient_name": order.recipient_name,
                "recipient_phone": order.recipient_phone,
                "region": order.region,
                "address_detail": order.address_detail,
                "note": order.buyer_note,
                "created_at": order.created_at.isoformat(),
            }
            for order in orders
        ],
        "returns": [
            {
                "order": request.line.order.number,
                "reason": request.reason,
                "status": request.status,
                "description": request.description,
                "created_at": request.created_at.isoformat(),
            }
            for request in ReturnRequest.objects.filter(line__order__buyer=user)
            .select_related("line__order")
            .order_by("created_at", "pk")
        ],
        "buyer_shows": [
            {"item": show.item.title, "stars": show.stars, "text": show.text, "created_at": show.created_at.isoformat()}
            for show in BuyerShow.objects.filter(buyer=user).select_related("item").order_by("created_at", "pk")
        ],
    }
