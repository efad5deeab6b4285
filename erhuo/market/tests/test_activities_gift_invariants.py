"""The market's random sequences (test_ledger_invariants.MarketMachine) with a buy-with-gift offer running for
the buyers' group: every order of the platform's items reaching the threshold may take one of three gifts.

Besides the market's own invariants after every step (the books balance, escrow holds what open paid
orders hold, no refund beyond what was paid, clean queues), these hold for the gifts:
- a gift item is in at most one active order line, and a gift line costs 0;
- a gift given to an order ("order:<id>") is that order's active gift line, and the order is still alive
  (waiting for payment, paid, on its way or done); its entry records it, and only it;
- a gift in stock is held off sale (reserved, in no order); one back on sale is in no gift line;
- while the offer runs, `gifts_left` is the number of gifts in stock;
- nobody got two gifts from the offer.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone, translation
from hypothesis.stateful import invariant, rule, run_state_machine_as_test

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item
from erhuo.community.models import Activity, ActivityEntry, ActivityGift
from erhuo.community.services import activities as activity_services
from erhuo.community.tests import factories as community
from erhuo.market.models import Order, OrderLine
from erhuo.market.tests.factories import listed_item
from erhuo.market.tests.test_ledger_invariants import SETTINGS, MarketMachine, World

S = Order.Status
ALIVE = (S.PENDING_PAYMENT, S.PAID, S.PACKED, S.SHIPPED, S.DELIVERED, S.COMPLETED)


class GiftMachine(MarketMachine):
    offer: Activity  # set by the test before running
    seen: Counter = Counter()  # over the whole run: proof that the gifts' paths were taken

    @rule()
    def the_clock_settles_activities(self):
        activity_services.activities_settle_due(now=self.now)

    @invariant()
    def gifts_are_given_once_and_returned_whole(self):
        # Someone reads the activity's page, which settles its clock (as every read does).
        activity_services.activities_settle_due(now=self.now, activity_ids=[self.offer.pk])
        offer = Activity.objects.get(pk=self.offer.pk)
        gifts = list(ActivityGift.objects.filter(activity=offer).select_related("item"))
        self.seen[f"offer {offer.status}"] += 1
        for gift in gifts:
            lines = list(OrderLine.objects.filter(item=gift.item, active=True).select_related("order"))
            assert len(lines) <= 1, f"gift {gift.item_id} is in {len(lines)} active lines"
            gift_lines = [line for line in lines if line.is_gift]
            if gift.reference:
                self.seen["given"] += 1
                self.seen[f"given, order {gift_lines[0].order.status if gift_lines else '?'}"] += 1
                assert gift.released_at is None
                assert len(gift_lines) == 1, f"gift {gift.item_id} given to {gift.reference} has no active line"
                line = gift_lines[0]
                assert line.order.reference == gift.reference and line.price_fen == 0
                assert line.order.status in ALIVE, line.order.status
            elif gift.released_at is None:
                assert gift_lines == [] and lines == []
                assert gift.item.status == Item.Status.RESERVED, f"gift {gift.item_id} in stock is {gift.item.status}"
            else:
                self.seen["back on sale"] += 1
                assert gift_lines == []
                assert (
                    gift.item.status != Item.Status.RESERVED
                    or OrderLine.objects.filter(item=gift.item, active=True, is_gift=False).exists()
                )
        given = {gift.reference for gift in gifts if gift.reference}
        recorded = set(ActivityEntry.objects.filter(activity=offer).values_list("reference", flat=True))
        assert given == recorded
        assert not OrderLine.objects.filter(is_gift=True).exclude(price_fen=0).exists()
        if offer.status == Activity.Status.RUNNING:
            in_stock = sum(1 for gift in gifts if not gift.reference and gift.released_at is None)
            assert offer.gifts_left == in_stock
        assert not (
            ActivityEntry.objects.filter(activity=offer).values("user_id").annotate(n=Count("pk")).filter(n__gt=1)
        )


@pytest.mark.django_db
def test_random_market_sequences_with_a_gift_offer_keep_the_books_and_the_gifts(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    settings.ERHUO_CLAIM_PAYMENT_MINUTES = 30
    settings.ERHUO_SHIPPING_FEE_FEN = 1_000
    settings.ERHUO_FREE_SHIPPING_FROM_FEN = 29_900
    settings.ERHUO_SELF_SHIP_HOURS = 48
    settings.ERHUO_AUTO_CONFIRM_DAYS = 7
    with translation.override("en"):
        world = World.create()
        leader = UserFactory(roles=[roles.EXPERT])
        group = community.group(leader=leader)
        for member in world.buyers:
            community.member_of(group, member)
        gifts = [listed_item(seller=leader, price_fen=2_000, title=f"赠品 {n}") for n in range(3)]
        GiftMachine.world = world
        GiftMachine.offer = community.activity(
            actor=leader,
            groups=[group],
            kind="buy_with_gift",
            threshold_fen=30_000,
            gifts=[gift.pk for gift in gifts],
            lasts=timedelta(days=3),
            now=timezone.now(),
        )
        run_state_machine_as_test(GiftMachine, settings=SETTINGS)
    seen = GiftMachine.seen
    assert seen["given"] and seen["given, order paid"] + seen["given, order delivered"] and seen["back on sale"], seen
