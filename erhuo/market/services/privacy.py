"""A member's market data when she erases her account (erhuo/web/privacy.py asks every app).

Kept, and said so on the deletion page: orders and their lines (amounts, items,
dates) are accounting records, and decided returns are dispute records. Erased:
the shipping addresses copied into her orders, and her buyer shows (words and
photos, which were public). Refused while anything is still moving: an order
she must pay, receive or ship, or a return being decided.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from erhuo.market.models import BuyerShow, Order, ReturnRequest

ERASED = "—"
MOVING = (Order.Status.PENDING_PAYMENT, *Order.OPEN_PAID)


def erase_blockers(*, user) -> list[str]:
    blockers = []
    bought = Order.objects.filter(buyer=user, status__in=MOVING).order_by("pk")
    if bought.exists():
        blockers.append(
            _("Orders still open (to pay, to ship or to receive): %(numbers)s.")
            % {"numbers": "、".join(order.number for order in bought[:5])}
        )
    shipping = Order.objects.filter(shipper=user, status__in=Order.OPEN_PAID).order_by("pk")
    if shipping.exists():
        blockers.append(
            _("Orders you ship yourself are not finished: %(numbers)s.")
            % {"numbers": "、".join(order.number for order in shipping[:5])}
        )
    if ReturnRequest.objects.filter(line__order__buyer=user, status=ReturnRequest.Status.REQUESTED).exists():
        blockers.append(_("A return you asked for is still being decided."))
    return blockers


def personal_data_erase(*, user) -> None:
    with transaction.atomic():
        for order in Order.objects.filter(buyer=user).exclude(recipient_name=ERASED):
            # Encrypted fields: saved one by one (an UPDATE of the queryset would not encrypt).
            order.recipient_name = ERASED
            order.recipient_phone = ERASED
            order.address_detail = ERASED
            order.buyer_note = ""
            order.save(update_fields=["recipient_name", "recipient_phone", "address_detail", "buyer_note"])
        for show in BuyerShow.objects.filter(buyer=user).prefetch_related("photos"):
            for photo in show.photos.all():
                for image in (photo.image, photo.thumbnail):
                    if image:
                        image.delete(save=False)
            show.photos.all().delete()
            show.text = ""
            show.hidden = True
            show.hidden_reason = _("The buyer deleted her account.")
            show.featured_at = None
            show.save(update_fields=["text", "hidden", "hidden_reason", "featured_at", "updated_at"])
