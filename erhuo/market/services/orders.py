"""Orders: from reservations to a paid, shipped, delivered and completed sale, and every way out.

Money, in the ledger (see ADR 10):

- the buyer pays: provider cash → payments clearing (payments app), then
  clearing → escrow here, when the payment is allocated to its order;
- a refund: escrow → clearing here, then clearing → provider cash when
  the provider pays it back (payments app);
- completion: escrow → the seller's payable account, commission income,
  service-fee income and shipping income, by each line's frozen breakdown;
- a payment that arrives for an order that can no longer take it (too late,
  or twice) never enters escrow: it is refunded from clearing at once.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.accounts.models import Address
from erhuo.catalog.models import Item
from erhuo.core import states
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.money import format_fen
from erhuo.ledger import accounts as ledger_accounts
from erhuo.ledger.services import entry_post
from erhuo.market import accounts as market_accounts
from erhuo.market import selectors
from erhuo.market.models import Claim, Order, OrderLine, ReturnRequest
from erhuo.market.services import claims as claim_services
from erhuo.payments import services as payment_services
from erhuo.payments.models import Payment, Provider

logger = logging.getLogger(__name__)

FULFIL_PERMISSION = "market.fulfil_order"
MANAGE_PERMISSION = "market.manage_order"
MAX_LINES = 20
S = Order.Status


class OrderError(Conflict):
    code = "order_not_allowed"


def _closed(order: Order) -> OrderError:
    return OrderError(
        _("This order is already %(status)s.") % {"status": order.get_status_display()}, code="order_closed"
    )


# --- making an order --------------------------------------------------------------------------


def shipping_fee_fen(items_fen: int) -> int:
    free_from = settings.ERHUO_FREE_SHIPPING_FROM_FEN
    if free_from and items_fen >= free_from:
        return 0
    return settings.ERHUO_SHIPPING_FEE_FEN


def _address_snapshot(buyer, address_id: int | None) -> dict:
    addresses = Address.objects.filter(user=buyer)
    address = addresses.filter(pk=address_id).first() if address_id else addresses.order_by("-is_default").first()
    if address is None:
        raise ValidationFailed(
            _("Add a shipping address first."),
            code="address_required",
            fields={"address": [_("Choose one of your addresses.")]},
        )
    return {
        "recipient_name": address.recipient_name,
        "recipient_phone": address.recipient_phone,
        "region": address.region[:64],
        "address_detail": address.detail,
    }


def order_create(*, buyer, claim_ids: list[int], address_id: int | None = None, note: str = "", now=None) -> Order:
    """One order for the buyer's reservations, with one shipping fee, waiting for payment.

    Every claim must be hers and reserved now. Items the platform ships and
    items a seller ships herself cannot share an order (they travel
    separately), nor can two self-ship sellers.
    """
    now = now or timezone.now()
    claim_ids = sorted({int(pk) for pk in claim_ids or []})
    if not claim_ids:
        raise ValidationFailed(
            _("Choose at least one reserved item."), code="claims_required", fields={"claims": [_("Required.")]}
        )
    if len(claim_ids) > MAX_LINES:
        raise ValidationFailed(_("At most %(count)s items per order.") % {"count": MAX_LINES}, code="too_many_items")
    for item_id in set(Claim.objects.filter(pk__in=claim_ids).values_list("item_id", flat=True)):
        claim_services.claims_settle_item(item_id=item_id, now=now)
    snapshot = _address_snapshot(buyer, address_id)
    with transaction.atomic():
        # The items first, in primary-key order, as claiming, settling and paying lock them: holding a
        # claim's row while waiting for its item (the order line's foreign key) deadlocks with them.
        item_ids = Claim.objects.filter(pk__in=claim_ids, member=buyer).values_list("item_id", flat=True)
        list(Item.objects.select_for_update().filter(pk__in=list(item_ids)).order_by("pk").values_list("pk", flat=True))
        claims = list(
            Claim.objects.select_for_update(of=("self",))
            .select_related("item", "item__category", "item__category__parent")
            .filter(pk__in=claim_ids, member=buyer)
            .order_by("pk")
        )
        if len(claims) != len(claim_ids):
            raise NotFound(_("Claim not found."), code="claim_not_found")
        for claim in claims:
            if claim.status != Claim.Status.RESERVED or claim.reserved_until <= now:
                raise OrderError(
                    _("“%(title)s” is no longer reserved for you.") % {"title": claim.item.title},
                    code="reservation_expired",
                )
            if selectors.live_line_of_claim(claim.pk) is not None:
                raise OrderError(
                    _("“%(title)s” is already in an order waiting for payment.") % {"title": claim.item.title},
                    code="already_ordered",
                )
        items = [claim.item for claim in claims]
        self_ship_sellers = {item.seller_id for item in items if item.fulfilment == Item.Fulfilment.SELF_SHIP}
        platform_items = [item for item in items if item.fulfilment == Item.Fulfilment.PLATFORM]
        if self_ship_sellers and (platform_items or len(self_ship_sellers) > 1):
            raise ValidationFailed(
                _("Items shipped by different senders need separate orders."),
                code="split_order",
                fields={"claims": [_("Order the platform's items and each seller's own items separately.")]},
            )
        items_fen = sum(item.price_fen for item in items)
        shipping = shipping_fee_fen(items_fen)
        order = Order.objects.create(
            buyer=buyer,
            fulfilment=Order.Fulfilment.SELF_SHIP if self_ship_sellers else Order.Fulfilment.PLATFORM,
            shipper_id=next(iter(self_ship_sellers)) if self_ship_sellers else None,
            items_fen=items_fen,
            shipping_fen=shipping,
            discount_fen=0,
            total_fen=items_fen + shipping,
            buyer_note=(note or "").strip()[:200],
            pay_by=min(claim.reserved_until for claim in claims),
            **snapshot,
        )
        for claim in claims:
            breakdown = selectors.sale_breakdown(claim.item)
            OrderLine.objects.create(
                order=order,
                item=claim.item,
                claim=claim,
                seller_id=claim.item.seller_id,
                title=claim.item.title,
                price_fen=claim.item.price_fen,
                commission_fen=breakdown.commission_fen,
                service_fees_fen=breakdown.service_fees_fen,
                seller_net_fen=breakdown.seller_net_fen,
                breakdown=breakdown.as_dict(),
            )
        _add_gift(order, now=now)
        states.record_start(order, actor=buyer)
    return order


def _add_gift(order: Order, *, now) -> None:
    """A running buy-with-gift activity of the buyer's groups may add its gift (price 0) to the order.

    Only to an order the platform ships: the gift waits in the warehouse and
    travels in the same parcel. The community takes it from its stock under
    the activity's lock, once per order; it returns it if the order ends
    without a sale (`_return_gift`).
    """
    from erhuo.community.services import activities as community_activities

    if order.fulfilment != Order.Fulfilment.PLATFORM:
        return
    gift = community_activities.gift_for_order(
        user=order.buyer, items_total_fen=order.items_fen, reference=order.reference, now=now
    )
    if gift is not None:
        OrderLine.objects.create(
            order=order, item=gift, claim=None, seller_id=gift.seller_id, title=gift.title, price_fen=0, is_gift=True
        )


def _return_gift(order: Order, *, now=None) -> None:
    """The order ended without a sale: its gift goes back to the activity's stock (or on sale)."""
    from erhuo.community.services import activities as community_activities

    if order.lines.filter(is_gift=True).exists():
        community_activities.gift_return(reference=order.reference, now=now)


def _own_order(order_id: int, buyer) -> Order:
    order = Order.objects.filter(pk=order_id, buyer=buyer).first()
    if order is None:
        raise NotFound(_("Order not found."), code="order_not_found")
    return order


def order_pay(*, order_id: int, buyer, provider: str, idempotency_key: str | None = None, now=None) -> Payment:
    """A payment for the order's total, while its reservations last. The same key returns the same payment."""
    now = now or timezone.now()
    order = _own_order(order_id, buyer)
    orders_settle(order=order, now=now)
    order.refresh_from_db()
    if order.status != S.PENDING_PAYMENT:
        if order.status == S.CANCELLED:
            raise OrderError(
                _("This order was cancelled: %(reason)s") % {"reason": order.closed_reason or "—"},
                code="reservation_expired",
            )
        raise _closed(order)
    if order.pay_by and order.pay_by <= now:
        raise OrderError(_("The payment window has closed."), code="reservation_expired")
    if not idempotency_key:
        open_payment = Payment.objects.filter(
            purpose="order", reference=order.reference, provider=provider, status__in=Payment.OPEN
        ).first()
        if open_payment is not None:
            return open_payment
    return payment_services.payment_create(
        payer=buyer,
        amount_fen=order.total_fen,
        purpose="order",
        reference=order.reference,
        description=_("Order %(number)s") % {"number": order.number},
        provider=provider,
        idempotency_key=idempotency_key,
        return_path=f"/orders/{order.pk}/",
    )


# --- money in ---------------------------------------------------------------------------------


def order_payment_allocate(*, payment_id: int, now=None) -> Order | None:
    """A payment for an order succeeded: move it into escrow and mark the order paid, or refund it.

    Idempotent: the escrow entry's key is the payment's, and a payment that
    is already the order's (or already refunded) changes nothing.
    """
    now = now or timezone.now()
    payment = Payment.objects.filter(pk=payment_id, purpose="order", status=Payment.Status.SUCCEEDED).first()
    if payment is None:
        return None
    order_id = selectors.order_id_from_reference(payment.reference)
    order = Order.objects.filter(pk=order_id).first() if order_id else None
    if order is None:
        logger.error("payment %s names no order (%s)", payment.pk, payment.reference)
        return None
    item_ids = list(order.lines.values_list("item_id", flat=True))
    with transaction.atomic():
        # Items first, in a fixed order, as every claim does: no deadlock with a claim or a settle.
        order = _locked(order.pk)
        if order.payment_id == payment.pk:
            return order
        for item_id in item_ids:
            claim_services._settle_locked_item(Item.objects.get(pk=item_id), now=now)
        order.refresh_from_db()
        lines = list(order.lines.select_related("claim", "item"))
        acceptable = order.status == S.PENDING_PAYMENT and all(
            line.is_gift or (line.claim is not None and line.claim.status == Claim.Status.RESERVED) for line in lines
        )
        if not acceptable or payment.amount_fen != order.total_fen:
            _refund_unallocated(payment, order)
            return order
        # Other open payments of the order will not be needed. Cancelled before the ledger's accounts are
        # locked: a notification paying one of them holds its row while it waits for those accounts.
        others = Payment.objects.filter(purpose="order", reference=order.reference, status__in=Payment.OPEN)
        for other in others.exclude(pk=payment.pk).order_by("pk"):
            _cancel_payment_quietly(other)
        entry_post(
            kind="order_paid",
            lines=[
                (ledger_accounts.clearing_account(), payment.amount_fen),
                (market_accounts.escrow_account(), -payment.amount_fen),
            ],
            memo=_("Order %(number)s paid") % {"number": order.number},
            reference=order.reference,
            key=f"order-paid:{payment.pk}",
        )
        updates = {"payment": payment, "paid_fen": payment.amount_fen, "paid_at": now, "pay_by": None}
        if order.fulfilment == Order.Fulfilment.SELF_SHIP:
            updates["ship_by"] = now + timedelta(hours=settings.ERHUO_SELF_SHIP_HOURS)
        states.transition(order, to=S.PAID, note=payment.get_provider_display(), updates=updates)
        for line in lines:
            if line.is_gift:  # no claim: the gift leaves the activity's stock with the order
                states.transition(line.item, to=Item.Status.SOLD, note=_("Order %(number)s") % {"number": order.number})
                continue
            states.transition(
                line.claim,
                to=Claim.Status.PURCHASED,
                event_payload={"member_id": order.buyer_id, "item_id": line.item_id},
            )
            states.transition(line.item, to=Item.Status.SOLD, note=_("Order %(number)s") % {"number": order.number})
            claim_services.claims_close_queue(item=line.item)
    return order


def _refund_unallocated(payment: Payment, order: Order) -> None:
    """Money that arrived for an order that cannot take it goes straight back (it never entered escrow)."""
    from erhuo.payments.services import refund_request

    if order.payment_id == payment.pk:
        return
    refund_request(
        payment_id=payment.pk,
        amount_fen=payment.amount_fen,
        reason=_("Order %(number)s could not take this payment (%(status)s); refunded in full.")
        % {"number": order.number, "status": order.get_status_display()},
        key=f"unallocated:{payment.pk}",
    )


def _cancel_payment_quietly(payment: Payment) -> None:
    """Cancel a payment nobody will finish: sandbox, and manual ones without a proof sent.

    A payment with a real provider stays open: if its money still arrives,
    it is refunded when its notification comes (`order_payment_allocate`).
    """
    if payment.provider not in (Provider.SANDBOX, Provider.MANUAL):
        return
    # Locked and read again: a notification may be paying it this very moment. Once it has, it is not
    # ours to cancel any more; its own allocation keeps or refunds the money.
    current = Payment.objects.select_for_update().filter(pk=payment.pk, status__in=Payment.OPEN).first()
    if current is None or (current.provider == Provider.MANUAL and current.status != Payment.Status.PENDING):
        return
    payment_services.payment_cancel(payment_id=current.pk, payer=current.payer)


# --- money out --------------------------------------------------------------------------------


def _refund(order: Order, *, amount_fen: int, reason: str, key: str, actor=None, line: OrderLine | None = None):
    """Give `amount_fen` of the order's escrow back to the buyer (inside the caller's transaction)."""
    from erhuo.payments.services import refund_request

    if amount_fen <= 0:
        return None
    if amount_fen > order.held_fen:
        raise Conflict(
            _("A refund cannot be more than what is held for this order (%(held)s).")
            % {"held": format_fen(order.held_fen)},
            code="refund_exceeds_payment",
        )
    # The payment's row before the ledger's accounts, the order payments takes them in: finance confirming
    # another refund of this payment (or a provider's refund notification) holds the row, then the accounts.
    list(Payment.objects.select_for_update().filter(pk=order.payment_id).values_list("pk", flat=True))
    entry_post(
        kind="order_refund",
        lines=[(market_accounts.escrow_account(), amount_fen), (ledger_accounts.clearing_account(), -amount_fen)],
        memo=reason[:300],
        reference=order.reference,
        key=f"order-refund:{key}",
        actor=actor,
    )
    Order.objects.filter(pk=order.pk).update(refunded_fen=F("refunded_fen") + amount_fen)
    order.refunded_fen += amount_fen
    if line is not None:
        OrderLine.objects.filter(pk=line.pk).update(refunded_fen=F("refunded_fen") + amount_fen)
        line.refunded_fen += amount_fen
    return refund_request(
        payment_id=order.payment_id, amount_fen=amount_fen, reason=reason[:300], key=f"order:{key}", actor=actor
    )


def order_cancel_unpaid(*, order: Order, reason: str, actor=None, release_claims: bool = True, now=None) -> Order:
    """An unpaid order ends. With `release_claims` the buyer also gives up her reservations."""
    now = now or timezone.now()
    with transaction.atomic():
        states.transition(order, to=S.CANCELLED, actor=actor, note=reason, updates={"closed_reason": reason[:300]})
        lines = list(order.lines.select_related("claim", "item"))
        OrderLine.objects.filter(order=order).update(active=False)
        for payment in Payment.objects.filter(purpose="order", reference=order.reference, status__in=Payment.OPEN):
            _cancel_payment_quietly(payment)
        if release_claims:
            for line in lines:
                if line.claim is None:  # a gift: returned below
                    continue
                item = Item.objects.select_for_update().get(pk=line.item_id)
                claim = line.claim
                claim.refresh_from_db()
                if claim.status == Claim.Status.RESERVED:
                    states.transition(claim, to=Claim.Status.WITHDRAWN, actor=actor, note=reason)
                    claim_services._offer_next(item, now=now, actor=actor)
        _return_gift(order, now=now)
    return order


def _may_manage(actor) -> bool:
    return actor is not None and actor.has_perm(MANAGE_PERMISSION)


def order_cancel(*, order_id: int, actor, reason: str = "", now=None) -> Order:
    """Cancel an order before it ships: the buyer (unpaid, or paid and not yet packed) or customer service.

    A paid order is refunded in full, shipping included, and its items go
    back on sale.
    """
    now = now or timezone.now()
    order = Order.objects.filter(pk=order_id).first()
    if order is None or (order.buyer_id != getattr(actor, "pk", None) and not _may_manage(actor)):
        raise NotFound(_("Order not found."), code="order_not_found")
    is_buyer = order.buyer_id == actor.pk
    reason = (reason or "").strip()[:300] or (_("Cancelled by the buyer.") if is_buyer else "")
    if not reason:
        raise ValidationFailed(_("Say why the order is cancelled."), code="reason_required")
    if order.status == S.PENDING_PAYMENT:
        with transaction.atomic():
            order = _locked(order.pk)
            if order.status != S.PENDING_PAYMENT:
                raise _closed(order)
            return order_cancel_unpaid(order=order, reason=reason, actor=actor, now=now)
    allowed = (S.PAID,) if is_buyer and not _may_manage(actor) else (S.PAID, S.PACKED)
    if order.status not in allowed:
        if order.status == S.PACKED:
            raise OrderError(_("The order is packed: ask customer service to cancel it."), code="order_packed")
        raise _closed(order)
    return _refund_before_shipping(order, reason=reason, actor=actor, withdraw_items=False)


def _refund_before_shipping(order: Order, *, reason: str, actor, withdraw_items: bool) -> Order:
    with transaction.atomic():
        order = _locked(order.pk)
        if order.status not in (S.PAID, S.PACKED):
            raise _closed(order)
        _refund(order, amount_fen=order.held_fen, reason=reason, key=f"{order.pk}:cancel", actor=actor)
        states.transition(order, to=S.REFUNDED, actor=actor, note=reason, updates={"closed_reason": reason})
        OrderLine.objects.filter(order=order).update(active=False)
        for line in order.lines.select_related("item"):
            target = Item.Status.WITHDRAWN if withdraw_items else Item.Status.LISTED
            states.transition(line.item, to=target, actor=actor, note=reason)
        _return_gift(order)
    return order


# --- fulfilment -------------------------------------------------------------------------------


def _locked(order_id: int) -> Order:
    """Lock the order's items (in primary-key order, as claims do), then the order: no deadlock with a claim."""
    item_ids = OrderLine.objects.filter(order_id=order_id).values_list("item_id", flat=True)
    list(Item.objects.select_for_update().filter(pk__in=list(item_ids)).order_by("pk").values_list("pk", flat=True))
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("Order not found."), code="order_not_found")
    return order


def _require_fulfiller(order: Order, actor) -> None:
    if order.fulfilment == Order.Fulfilment.SELF_SHIP:
        if actor is None or order.shipper_id != actor.pk:
            raise PermissionRefused(_("Only the seller ships this order."), code="not_your_order")
    elif actor is None or not actor.has_perm(FULFIL_PERMISSION):
        raise PermissionRefused(_("Only the warehouse ships orders."), code="fulfil_denied")


def _move_items(order: Order, to: str, *, actor, note: str = "") -> None:
    for line in order.lines.filter(active=True).select_related("item"):
        states.transition(line.item, to=to, actor=actor, note=note)


def order_pack(*, order_id: int, actor) -> Order:
    with transaction.atomic():
        order = _locked(order_id)
        if order.fulfilment != Order.Fulfilment.PLATFORM:
            raise OrderError(_("The seller packs her own parcel."), code="self_ship_order")
        _require_fulfiller(order, actor)
        if order.status != S.PAID:
            raise _closed(order)
        states.transition(order, to=S.PACKED, actor=actor)
        _move_items(order, Item.Status.PACKED, actor=actor)
    return order


def order_ship(*, order_id: int, actor, carrier: str, tracking_number: str, now=None) -> Order:
    from erhuo.trust.services import record as seller_record

    now = now or timezone.now()
    carrier, tracking_number = (carrier or "").strip()[:30], (tracking_number or "").strip()[:40]
    errors = {}
    if not carrier:
        errors["carrier"] = [_("Required.")]
    if not tracking_number or not tracking_number.replace("-", "").isalnum():
        errors["tracking_number"] = [_("Letters and digits as printed on the waybill.")]
    if errors:
        raise ValidationFailed(_("Give the carrier and the tracking number."), code="tracking_required", fields=errors)
    with transaction.atomic():
        order = _locked(order_id)
        _require_fulfiller(order, actor)
        if order.status not in (S.PAID, S.PACKED):
            raise _closed(order)
        states.transition(
            order,
            to=S.SHIPPED,
            actor=actor,
            note=f"{carrier} {tracking_number}",
            updates={"carrier": carrier, "tracking_number": tracking_number, "shipped_at": now},
        )
        _move_items(order, Item.Status.SHIPPED, actor=actor)
        if order.fulfilment == Order.Fulfilment.SELF_SHIP:
            seller_record.seller_record_add_shipment(
                user=order.shipper, on_time=order.ship_by is None or now <= order.ship_by
            )
    return order


def _complete_after(order: Order, delivered_at) -> timedelta:
    days = settings.ERHUO_AUTO_CONFIRM_DAYS
    for line in order.lines.select_related("item__category", "item__category__parent"):
        category = line.item.category
        if category.effective_returnable():
            days = max(days, category.effective_return_window_days())
    return delivered_at + timedelta(days=days)


def order_deliver(*, order_id: int, actor, now=None, note: str = "") -> Order:
    """The carrier delivered the parcel: the warehouse (or the self-ship seller) records it, the buyer's
    confirmation does too, and the clock assumes it ERHUO_ASSUME_DELIVERED_DAYS after shipping (no actor)."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order_id)
        if actor is not None and order.buyer_id != actor.pk:
            _require_fulfiller(order, actor)
        if order.status != S.SHIPPED:
            raise _closed(order)
        states.transition(
            order,
            to=S.DELIVERED,
            actor=actor,
            note=note,
            updates={"delivered_at": now, "complete_after": _complete_after(order, now)},
        )
        _move_items(order, Item.Status.DELIVERED, actor=actor, note=note)
    return order


def order_confirm(*, order_id: int, buyer, now=None) -> Order:
    """The buyer confirms she received what she ordered: the order completes and the seller is paid."""
    now = now or timezone.now()
    order = _own_order(order_id, buyer)
    if order.status == S.SHIPPED:
        order_deliver(order_id=order.pk, actor=buyer, now=now)
    return order_complete(order_id=order.pk, actor=buyer, now=now)


def order_complete(*, order_id: int, actor=None, now=None) -> Order:
    """Split the escrow: the seller's share, the commission, the service fees, the shipping (see module doc)."""
    from erhuo.experts import services as expert_services
    from erhuo.trust.services import record as seller_record

    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order_id)
        if order.status != S.DELIVERED:
            raise _closed(order)
        if ReturnRequest.objects.filter(line__order=order, status=ReturnRequest.Status.REQUESTED).exists():
            raise OrderError(_("A return is open on this order: it completes once it is decided."), code="return_open")
        lines = [line for line in order.lines.select_related("seller", "item") if line.active]
        postings = []
        for line in lines:
            if line.is_gift:
                continue
            net = line.seller_net_fen - line.refunded_fen
            postings.append((market_accounts.seller_payable_account(line.seller), -net))
            postings.append((market_accounts.commission_account(), -line.commission_fen))
            postings.append((market_accounts.service_fee_account(), -line.service_fees_fen))
        if order.shipping_fen:
            receiver = (
                market_accounts.seller_payable_account(order.shipper)
                if order.fulfilment == Order.Fulfilment.SELF_SHIP
                else market_accounts.shipping_account()
            )
            postings.append((receiver, -order.shipping_fen))
        postings.append((market_accounts.escrow_account(), order.held_fen))
        if order.discount_fen:
            postings.append((market_accounts.discount_account(), order.discount_fen))
        entry_post(
            kind="order_completed",
            lines=[(account, amount) for account, amount in postings if amount],
            memo=_("Order %(number)s completed") % {"number": order.number},
            reference=order.reference,
            key=f"order-complete:{order.pk}",
            actor=actor,
        )
        states.transition(order, to=S.COMPLETED, actor=actor, updates={"completed_at": now})
        for line in lines:
            states.transition(line.item, to=Item.Status.COMPLETED, actor=actor)
            if not line.is_gift:
                expert_services.commission_accrue(
                    sale_reference=line.reference,
                    buyer=order.buyer,
                    seller=line.seller,
                    sale_amount_fen=line.price_fen,
                    sold_at=order.paid_at,
                )
        for seller in {line.seller for line in lines}:
            seller_record.seller_record_add_order(user=seller)
    return order


# --- the clock --------------------------------------------------------------------------------


def orders_settle(*, order: Order | None = None, now=None) -> int:
    """Apply the deadlines: unpaid orders past their window, self-ship orders not shipped in time,
    shipped orders nobody marked delivered, delivered orders past their confirmation date. For one order
    (a read) or all that are due (the task)."""
    now = now or timezone.now()
    done = 0
    pending = Order.objects.filter(status=S.PENDING_PAYMENT, pay_by__lte=now)
    late = Order.objects.filter(status=S.PAID, fulfilment=Order.Fulfilment.SELF_SHIP, ship_by__lte=now)
    due = Order.objects.filter(status=S.DELIVERED, complete_after__lte=now)
    assumed_days = settings.ERHUO_ASSUME_DELIVERED_DAYS
    unconfirmed = Order.objects.filter(status=S.SHIPPED, shipped_at__lte=now - timedelta(days=assumed_days))
    if order is not None:
        pending, late, due, unconfirmed = (qs.filter(pk=order.pk) for qs in (pending, late, due, unconfirmed))
    for item_id in set(OrderLine.objects.filter(order__in=pending).values_list("item_id", flat=True)):
        done += claim_services.claims_settle_item(item_id=item_id, now=now)
    # Each order is checked again under its lock; one that moved meanwhile (shipped at the last minute, a
    # return opened at the last moment) is left alone rather than failing the others.
    for overdue in list(late[:200]):
        try:
            _cancel_not_shipped(overdue, now=now)
        except Conflict:
            continue
        done += 1
    # Nobody recorded the delivery: assumed delivered, so the buyer's window starts and the money is not stuck.
    for shipped in list(unconfirmed[:200]):
        try:
            order_deliver(
                order_id=shipped.pk,
                actor=None,
                now=now,
                note=_("Assumed delivered %(days)s days after shipping") % {"days": assumed_days},
            )
        except Conflict:
            continue
        done += 1
    for delivered in list(due[:200]):
        if ReturnRequest.objects.filter(line__order=delivered, status=ReturnRequest.Status.REQUESTED).exists():
            continue
        try:
            order_complete(order_id=delivered.pk, now=now)
        except Conflict:
            continue
        done += 1
    return done


def _cancel_not_shipped(order: Order, *, now) -> None:
    from erhuo.trust.services import record as seller_record

    reason = _("The seller did not ship by %(deadline)s; refunded in full.") % {
        "deadline": timezone.localtime(order.ship_by).strftime("%Y-%m-%d %H:%M")
    }
    with transaction.atomic():
        _refund_before_shipping(order, reason=reason, actor=None, withdraw_items=True)
        seller_record.seller_record_add_shipment(user=order.shipper, on_time=False)


def orders_allocate_missed(*, limit: int = 200) -> int:
    """Allocate succeeded order payments that neither reached escrow nor were refunded (a lost event)."""
    from erhuo.ledger.models import JournalEntry

    done = 0
    payments = Payment.objects.filter(purpose="order", status=Payment.Status.SUCCEEDED).order_by("pk")
    for payment in payments.exclude(pk__in=Order.objects.exclude(payment=None).values("payment_id"))[:limit]:
        if JournalEntry.objects.filter(key=f"order-paid:{payment.pk}").exists() or payment.refunds.exists():
            continue
        order_payment_allocate(payment_id=payment.pk)
        done += 1
    return done
