"""Buy-with-gift and giveaways under racing requests, against a real database from many threads at once
(the community's concurrency helpers: a shared SQLite file as in production, or PostgreSQL's row locks).

The last gift goes to exactly one of the orders placed at the same instant; the others are made without
one. A member entering the same giveaway from several requests at once enters once."""

import pytest
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community.models import Activity, ActivityEntry, ActivityGift
from erhuo.community.services import activities as activity_services
from erhuo.community.tests import factories as community
from erhuo.core.errors import DomainError
from erhuo.core.testing import run_at_once
from erhuo.ledger.selectors import ledger_problems
from erhuo.market import selectors, services
from erhuo.market.models import Order, OrderLine
from erhuo.market.tests.factories import buyer, listed_item

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.ERHUO_CLAIM_PAYMENT_MINUTES = 30
    with translation.override("en"):
        yield


def test_orders_placed_at_once_share_one_last_gift_exactly_once(real_database):
    leader = UserFactory(roles=[roles.EXPERT])
    group = community.group(leader=leader)
    offer = community.activity(
        actor=leader,
        groups=[group],
        kind="buy_with_gift",
        threshold_fen=10_000,
        gifts=[listed_item(seller=leader, price_fen=3_000, title="唯一的赠品").pk],
    )
    buyers = []
    for _ in range(5):
        member = buyer()
        community.member_of(group, member)
        claim = services.claim_create(item_id=listed_item(price_fen=12_000).pk, member=member)
        buyers.append((member, claim))

    results = run_at_once(
        real_database,
        [
            lambda member=member, claim=claim: services.order_create(buyer=member, claim_ids=[claim.pk])
            for member, claim in buyers
        ],
    )

    assert all(isinstance(result, Order) for result in results), results
    gift_lines = list(OrderLine.objects.filter(is_gift=True))
    assert len(gift_lines) == 1
    assert Order.objects.count() == 5
    assert Activity.objects.get(pk=offer.pk).gifts_left == 0
    assert list(ActivityEntry.objects.values_list("reference", flat=True)) == [gift_lines[0].order.reference]
    assert ActivityGift.objects.get(activity=offer).reference == gift_lines[0].order.reference
    assert ledger_problems() == [] and selectors.money_problems() == []


def test_one_member_entering_from_several_requests_at_once_enters_once(real_database):
    operator = UserFactory(roles=[roles.COMMUNITY_MANAGER])
    group = community.group(leader=operator)
    giveaway = community.activity(actor=operator, groups=[group])
    member = community.member_of(group).user

    results = run_at_once(
        real_database,
        [lambda: activity_services.giveaway_enter(activity_id=giveaway.pk, user=member) for _ in range(4)],
    )

    entered = [result for result in results if isinstance(result, ActivityEntry)]
    refused = [result.code for result in results if isinstance(result, DomainError)]
    assert len(entered) == 1 and refused == ["already_entered"] * 3
    assert ActivityEntry.objects.filter(activity=giveaway).count() == 1
