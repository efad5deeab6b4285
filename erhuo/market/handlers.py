"""What the market does when lower apps tell it something, and what it adds to their pages."""

import logging

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from erhuo.core import events, realtime

logger = logging.getLogger(__name__)


def _payment_succeeded(event: events.Event) -> None:
    if event.payload.get("purpose") != "order":
        return
    from erhuo.market.services import order_payment_allocate

    order_payment_allocate(payment_id=event.payload["payment_id"])


def _claim_reserved(event: events.Event) -> None:
    """The next in line got the item: tell her open pages at once, and leave her a notice (once per claim)."""
    payload = event.payload
    if payload.get("offered") and payload.get("member_id"):
        realtime.send_to_user(
            payload["member_id"], "claim_offered", {"claim_id": payload["pk"], "item_id": payload["item_id"]}
        )
        _notice_claim_offered(claim_id=payload["pk"], member_id=payload["member_id"])


def _notice_claim_offered(*, claim_id: int, member_id: int) -> None:
    from erhuo.market.models import Claim
    from erhuo.notifications.services import notice_send, site_language

    claim = Claim.objects.filter(pk=claim_id).values("item_id", "item__title", "reserved_until").first()
    if claim is None:
        return
    until = timezone.localtime(claim["reserved_until"]).strftime("%H:%M") if claim["reserved_until"] else ""
    with site_language():
        notice_send(
            user=member_id,
            kind="claim_offered",
            title=_("Your turn: “%(title)s” is reserved for you") % {"title": claim["item__title"]},
            body=_("Pay by %(time)s, or it passes to the next in line.") % {"time": until} if until else "",
            url=reverse("market:my_claims"),
            data={"claim_id": claim_id, "item_id": claim["item_id"]},
            # A claim is offered at most once (queued → reserved); the key makes a repeated event harmless.
            key=f"claim-offered:{claim_id}",
        )


def register() -> None:
    events.on("payment_succeeded")(_payment_succeeded)
    events.on("claim_reserved")(_claim_reserved)
    from erhuo.ledger import reconciliation
    from erhuo.market import page_slots, selectors

    page_slots.register()
    reconciliation.register(
        "orders",
        gettext_lazy("Orders: escrow equals what open paid orders hold, and each order's money adds up"),
        selectors.money_problems,
    )
