"""Returns and disputes: the buyer asks within her category's window, customer service decides.

Hygiene goods (a category that is not returnable) have no window at all.
The decision is a full refund, a partial one, or a rejection, with the
reasons written down; every step is a row of the return's timeline, which
the buyer reads. When the item was not as described or counterfeit, the
refund comes out of escrow and a penalty is charged to the seller's
deposit (trust), recorded with the same decision.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from erhuo.catalog.models import Item
from erhuo.core import states
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.images import clean_image
from erhuo.core.money import format_fen
from erhuo.market import selectors
from erhuo.market.models import Order, OrderLine, ReturnPhoto, ReturnRequest
from erhuo.market.services.orders import _locked, _refund
from erhuo.payments.models import Payment

DECIDE_PERMISSION = "market.decide_return"
MAX_PHOTOS = 6
PHOTO_MAX_BYTES = 8 * 1024 * 1024
R = ReturnRequest.Status


def return_request_create(*, line_id: int, buyer, reason: str, description: str, photos=(), now=None):
    now = now or timezone.now()
    line = (
        OrderLine.objects.select_related("order", "item__category", "item__category__parent")
        .filter(pk=line_id, order__buyer=buyer)
        .first()
    )
    if line is None:
        raise NotFound(_("Order line not found."), code="line_not_found")
    errors = {}
    if reason not in ReturnRequest.Reason.values:
        errors["reason"] = [_("Choose a reason.")]
    description = (description or "").strip()
    if len(description) < 5:
        errors["description"] = [_("Say what is wrong, in a sentence or two.")]
    photos = [photo for photo in (photos or ()) if photo]
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = [_("At most %(count)s photos.") % {"count": MAX_PHOTOS}]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), code="return_invalid", fields=errors)
    if not line.item.category.effective_returnable():
        raise Conflict(
            _("Items of this category (hygiene goods) cannot be returned, as said on their page."),
            code="not_returnable",
        )
    if line.order.status != Order.Status.DELIVERED or not selectors.return_window_open(line, now):
        raise Conflict(_("The return window for this order has closed."), code="return_window_closed")
    if not line.active or line.refunded_fen >= line.price_fen:
        raise Conflict(_("This item was already refunded."), code="already_refunded")
    images = [clean_image(photo, max_bytes=PHOTO_MAX_BYTES, field="photos") for photo in photos]
    written = []
    try:
        with transaction.atomic():
            # Under the order's lock, as completion looks for open returns under it: a return asked at the
            # moment the order completes (the window's last moment is auto-confirmation's) waits, then is refused.
            if _locked(line.order_id).status != Order.Status.DELIVERED:
                raise Conflict(_("The return window for this order has closed."), code="return_window_closed")
            if ReturnRequest.objects.filter(line=line, status=R.REQUESTED).exists():
                raise Conflict(_("A return is already open for this item."), code="return_open")
            request = ReturnRequest.objects.create(
                line=line, buyer=buyer, reason=reason, description=description[:1000]
            )
            for image in images:
                photo = ReturnPhoto(request=request, width=image.width, height=image.height)
                photo.image.save(f"{get_random_string(16)}.{image.format}", image.content, save=False)
                written.append((photo.image.storage, photo.image.name))
                photo.save()
            states.record_start(request, actor=buyer, note=description[:300])
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise
    return request


def return_request_withdraw(*, return_id: int, buyer) -> ReturnRequest:
    request = ReturnRequest.objects.filter(pk=return_id, buyer=buyer).first()
    if request is None:
        raise NotFound(_("Return not found."), code="return_not_found")
    if request.status != R.REQUESTED:
        raise Conflict(_("This return is already decided."), code="return_decided")
    states.transition(request, to=R.WITHDRAWN, actor=buyer)
    return request


def return_decide(
    *,
    return_id: int,
    actor,
    outcome: str,
    decision: str,
    refund_fen: int = 0,
    deposit_charge_fen: int = 0,
    now=None,
) -> ReturnRequest:
    """Customer service decides: `outcome` is "refunded" (the line's price), "partial" (`refund_fen`) or "rejected".

    `deposit_charge_fen` (only for a refund on a seller-fault reason) is
    deducted from the seller's deposit with the same decision. Refused with
    nothing changed when the refund is more than the line can give back or
    the charge more than the deposit holds.
    """
    from erhuo.trust.services import deposits, record

    now = now or timezone.now()
    if actor is None or not actor.has_perm(DECIDE_PERMISSION):
        raise PermissionRefused(_("Only customer service decides returns."), code="decide_denied")
    decision = (decision or "").strip()
    if outcome not in (R.REFUNDED, R.PARTIAL, R.REJECTED):
        raise ValidationFailed(_("Choose a decision."), code="outcome_invalid", fields={"outcome": [_("Choose one.")]})
    if not decision:
        raise ValidationFailed(
            _("Write the decision: what was found, and why."),
            code="decision_required",
            fields={"decision": [_("Required.")]},
        )
    request = ReturnRequest.objects.filter(pk=return_id).select_related("line").first()
    if request is None:
        raise NotFound(_("Return not found."), code="return_not_found")
    if request.buyer_id == actor.pk or request.line.seller_id == actor.pk:
        raise PermissionRefused(_("Nobody decides a return on their own order."), code="own_return")
    with transaction.atomic():
        order = _locked(request.line.order_id)
        # The order's payment before any ledger account (the deposit's, the escrow's), as `_refund` explains.
        list(Payment.objects.select_for_update().filter(pk=order.payment_id).values_list("pk", flat=True))
        request = ReturnRequest.objects.select_for_update().get(pk=request.pk)
        line = OrderLine.objects.select_related("item", "seller").get(pk=request.line_id)
        if request.status != R.REQUESTED:
            raise Conflict(_("This return is already decided."), code="return_decided")
        refundable = line.price_fen - line.refunded_fen
        if outcome == R.REFUNDED:
            amount = refundable
        elif outcome == R.PARTIAL:
            # A partial refund comes out of the seller's share.
            limit = line.seller_net_fen - line.refunded_fen
            if isinstance(refund_fen, bool) or not isinstance(refund_fen, int) or not 0 < refund_fen <= limit:
                raise ValidationFailed(
                    _("A partial refund is more than ¥0 and at most %(limit)s (the seller's share).")
                    % {"limit": format_fen(max(limit, 0))},
                    code="refund_invalid",
                    fields={"refund": [_("At most %(limit)s.") % {"limit": format_fen(max(limit, 0))}]},
                )
            amount = refund_fen
        else:
            amount = 0
        charge = int(deposit_charge_fen or 0)
        if charge and (outcome != R.REFUNDED or request.reason not in ReturnRequest.SELLER_FAULT):
            raise ValidationFailed(
                _("Only a full refund for a counterfeit, misdescribed or wrong item is charged to the seller."),
                code="charge_not_allowed",
                fields={"deposit_charge": [_("Leave at ¥0 for this decision.")]},
            )
        if charge < 0:
            raise ValidationFailed(_("The charge cannot be negative."), code="charge_invalid")
        if charge:
            violation = "counterfeit" if request.reason == ReturnRequest.Reason.COUNTERFEIT else "misrepresentation"
            deposits.deposit_deduct(
                seller=line.seller,
                actor=actor,
                amount_fen=charge,
                violation=violation,
                decision=decision,
                item_reference=str(line.item_id),
            )
        full_line = outcome == R.REFUNDED
        if amount:
            _refund(order, amount_fen=amount, reason=decision, key=f"return:{request.pk}", actor=actor, line=line)
        states.transition(
            request,
            to=outcome,
            actor=actor,
            note=decision[:300],
            data={"refund_fen": amount, "deposit_charged_fen": charge},
            updates={
                "refund_fen": amount,
                "deposit_charged_fen": charge,
                "decision": decision[:2000],
                "decided_by": actor,
                "decided_at": now,
            },
        )
        if full_line:
            OrderLine.objects.filter(pk=line.pk).update(active=False)
            to = (
                Item.Status.RETURN_TO_SELLER
                if charge or request.reason in ReturnRequest.SELLER_FAULT
                else Item.Status.RECEIVED
            )
            states.transition(
                line.item,
                to=to,
                actor=actor,
                note=_("Returned by the buyer: %(reason)s") % {"reason": request.get_reason_display()},
            )
            if not order.lines.filter(active=True).exists():
                # Everything came back: the shipping is refunded too and the order ends.
                rest = order.paid_fen - order.refunded_fen
                if rest:
                    _refund(
                        order,
                        amount_fen=rest,
                        reason=_("Shipping refunded: every item was returned."),
                        key=f"return:{request.pk}:shipping",
                        actor=actor,
                    )
                states.transition(
                    order,
                    to=Order.Status.REFUNDED,
                    actor=actor,
                    note=decision[:300],
                    updates={"closed_reason": decision[:300]},
                )
        if outcome != R.REJECTED and request.reason in ReturnRequest.SELLER_FAULT:
            record.seller_record_add_order(user=line.seller, dispute_lost=True)
    return request
