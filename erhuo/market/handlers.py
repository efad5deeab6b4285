"""What the market does when lower apps tell it something, and what it adds to their pages."""

import logging

from django.utils.translation import gettext_lazy

from erhuo.core import events, realtime

logger = logging.getLogger(__name__)


def _payment_succeeded(event: events.Event) -> None:
    if event.payload.get("purpose") != "order":
        return
    from erhuo.market.services import order_payment_allocate

    order_payment_allocate(payment_id=event.payload["payment_id"])


def _claim_reserved(event: events.Event) -> None:
    """The next in line got the item: tell her open pages at once (the notification centre comes with issue 6)."""
    payload = event.payload
    if payload.get("offered") and payload.get("member_id"):
        realtime.send_to_user(
            payload["member_id"], "claim_offered", {"claim_id": payload["pk"], "item_id": payload["item_id"]}
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
