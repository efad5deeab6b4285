"""The demo consignment data: every station and exit, and the guarantees kept.

The demo is seeded once for this module (it takes seconds) inside a
transaction that is rolled back at the end, so other tests never see it.
"""

from collections import Counter
from datetime import timedelta
from io import StringIO
from itertools import pairwise

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from erhuo.accounts import roles
from erhuo.accounts.models import User
from erhuo.catalog.models import CareStep, Item, ItemPhoto, ItemTransition
from erhuo.consignment import selectors, services
from erhuo.consignment.models import AuthenticationReport, CareRecord, Consignment, IntakeBatch, Station
from erhuo.market import services as market_services
from erhuo.market.models import Claim, Order, OrderLine
from erhuo.market.services.orders import orders_allocate_missed
from erhuo.web import demo
from erhuo.web.demo import community as demo_community
from erhuo.web.demo import consignment as demo_consignment
from erhuo.web.demo import history as demo_history
from erhuo.web.demo import market as demo_market

# The mark makes pytest-django set up the test database (the module fixture seeds into it).
pytestmark = pytest.mark.django_db
S = Item.Status
# The services move a failed item on to `return_to_seller` in the same call, so no item
# rests in `authentication_failed`; its chain of custody passes through it instead.
TRANSIENT = {S.AUTHENTICATION_FAILED}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("demo-media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media / "public", ERHUO_PRIVATE_MEDIA_ROOT=media / "private"),
    ):
        # Never the development database: only a test database (in memory, or named test_*).
        name = str(connection.settings_dict["NAME"])
        assert "memory" in name or "test" in name, name
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out = StringIO()
            demo.seed(stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def db_seeded(seeded):
    return seeded


def _chain(item) -> list[ItemTransition]:
    return list(ItemTransition.objects.filter(subject=item).order_by("created_at", "pk"))


CONSIGNMENT_TITLES = [plan.title for batch in demo_consignment.BATCHES for plan in batch.items]


def _consignment_items():
    """The consignment demo's items: not the sales history seeded before it (history.py), nor the market
    demo's items (market.py)."""
    return Item.objects.filter(title__in=CONSIGNMENT_TITLES)


def test_the_summary_counts_the_items(db_seeded):
    assert "consignment: 65 items in 17 batches from 5 sellers" in db_seeded
    assert _consignment_items().count() == len(CONSIGNMENT_TITLES) == 65
    assert Item.objects.filter(title__in=demo_history.TITLES).count() == 58
    assert Item.objects.count() == 65 + 58 + len(demo_market.ITEMS) + len(demo_community.ITEMS)


def test_every_status_has_an_item(db_seeded):
    counts = Counter(Item.objects.values_list("status", flat=True))

    assert {status for status in S.values if status not in TRANSIENT} <= set(counts)
    assert counts[S.LISTED] >= 20
    assert ItemTransition.objects.filter(to_state=S.AUTHENTICATION_FAILED).count() == 1
    failed = AuthenticationReport.objects.get(result=AuthenticationReport.Result.FAIL).item
    assert failed.status == S.RETURN_TO_SELLER


def test_every_exit_and_station_is_represented(db_seeded):
    consignments = Consignment.objects.select_related("item")

    assert set(consignments.filter(item__status=S.REJECTED).values_list("rejection_reason", flat=True)) == {
        "brand",
        "counterfeit",
        "condition",
        "hygiene",
    }
    assert consignments.filter(item__status=S.PRICED, price_decision=Consignment.PriceDecision.COUNTERED).count() == 1
    assert consignments.filter(item__status=S.PRICED, price_decision=Consignment.PriceDecision.PENDING).count() == 2
    assert Item.objects.filter(status=S.LISTED, fulfilment=Item.Fulfilment.SELF_SHIP).count() == 2
    assert _consignment_items().filter(status=S.WITHDRAWN, fulfilment=Item.Fulfilment.SELF_SHIP).count() == 1
    assert Item.objects.get(status=S.DONATED).consignment.unsold_choice == Consignment.UnsoldChoice.DONATE
    returned = Consignment.objects.get(item__status=S.RETURNED)
    assert (returned.withdrawal_fee_fen, returned.return_shipping_fee_fen) == (2_000, 1_500)
    lost = Item.objects.get(status=S.LOST)
    assert _chain(lost)[-1].actor.username == "owner"
    assert Consignment.objects.filter(item__status=S.GRADED, needs_authentication=True).count() == 2
    assert Consignment.objects.filter(repair_consent=Consignment.RepairConsent.ASKED).count() == 1
    for station in Station.values:
        assert Item.objects.filter(selectors.station_filter(station)).exists(), station


def test_some_items_are_late_at_their_station(db_seeded):
    counts = selectors.station_counts(now=timezone.now())

    assert counts[Station.PRESCREEN] == {"waiting": 4, "late": 2}
    assert counts[Station.AUTHENTICATE]["late"] == 1
    assert sum(row["late"] for row in counts.values()) >= 4


def test_every_listed_item_that_needs_authentication_has_a_passing_report(db_seeded):
    listed = Item.objects.filter(status=S.LISTED, fulfilment=Item.Fulfilment.PLATFORM).select_related(
        "category__parent", "consignment"
    )
    needing = [item for item in listed if item.category.requires_authentication(item.consignment.declared_value_fen)]

    assert len(needing) >= 5
    for item in needing:
        assert item.consignment.needs_authentication
        assert AuthenticationReport.objects.get(item=item).result == AuthenticationReport.Result.PASS, item.title
        assert ItemPhoto.objects.filter(item=item, kind=ItemPhoto.Kind.AUTHENTICATION).count() == 2


def test_every_listed_baby_toy_was_disinfected(db_seeded):
    toys = Item.objects.filter(status=S.LISTED, category__slug="baby-toys")

    assert toys.count() == 4  # one of them consigned by the community demo (a 社群款 LEGO set)
    for toy in toys:
        assert CareRecord.objects.filter(item=toy, step=CareStep.DISINFECT).exists(), toy.title


def test_every_chain_of_custody_starts_at_submitted_and_skips_no_step(db_seeded):
    for item in Item.objects.all():
        chain = _chain(item)
        assert (chain[0].from_state, chain[0].to_state) == ("", S.SUBMITTED), item.title
        for previous, row in pairwise(chain):
            assert row.from_state == previous.to_state, item.title
            assert row.created_at >= previous.created_at, item.title
        assert chain[-1].to_state == item.status
        assert item.status_changed_at == chain[-1].created_at


def test_listed_items_went_through_every_station(db_seeded):
    platform_path = [S.SUBMITTED, S.ACCEPTED, S.IN_TRANSIT, S.RECEIVED, S.GRADED]
    for item in Item.objects.filter(status=S.LISTED, fulfilment=Item.Fulfilment.PLATFORM):
        states = [row.to_state for row in _chain(item)]
        assert states[:5] == platform_path, item.title
        assert states[5:8] in ([S.AUTHENTICATED, S.CARED, S.PHOTOGRAPHED], [S.CARED, S.PHOTOGRAPHED, S.PRICED])
        assert S.LISTED in states
        assert item.listed_at == next(row.created_at for row in _chain(item) if row.to_state == S.LISTED)


def test_markdowns_follow_the_schedule(db_seeded):
    markdowns = ItemTransition.objects.filter(from_state=S.LISTED, to_state=S.LISTED)

    assert markdowns.count() == 5
    for row in markdowns:
        assert row.data["to_price_fen"] < row.data["from_price_fen"]
        assert (row.created_at - row.subject.listed_at).days in (14, 28)


def test_history_is_in_the_past_and_batches_carry_their_day(db_seeded):
    now = timezone.now()
    assert not ItemTransition.objects.filter(created_at__gt=now).exists()
    assert ItemTransition.objects.order_by("created_at").first().created_at < now - timedelta(days=40)
    for batch in IntakeBatch.objects.all():
        assert batch.code.startswith(f"B{timezone.localtime(batch.created_at):%y%m%d}-")
        # Submitted when its items' chains of custody start (every demo's batches, moved into the past).
        first = ItemTransition.objects.filter(subject__consignment__batch=batch).order_by("created_at").first()
        assert batch.created_at == first.created_at < now, batch.code
    # Price answers still pending are due in the future (the deadline rule would list them otherwise).
    pending = Consignment.objects.filter(item__status=S.PRICED, price_decision=Consignment.PriceDecision.PENDING)
    assert pending.count() == 2
    for consignment in pending:
        assert consignment.price_deadline > now


def test_operators_did_the_station_work(db_seeded):
    # Received from the courier (a return refunded by customer service comes back to `received` too).
    station_rows = ItemTransition.objects.exclude(from_state=S.DELIVERED).filter(
        to_state__in=[S.RECEIVED, S.AUTHENTICATED, S.CARED, S.PHOTOGRAPHED, S.PRICED]
    )
    actors = {row.to_state: set() for row in station_rows}
    for row in station_rows.select_related("actor"):
        actors[row.to_state].add(row.actor.username)

    assert actors == {
        S.RECEIVED: {"ruku"},
        S.AUTHENTICATED: {"jianding"},
        S.CARED: {"qingxi"},
        S.PHOTOGRAPHED: {"sheying"},
        S.PRICED: {"yunying"},
    }


def test_each_photo_has_its_own_file(db_seeded):
    names = list(ItemPhoto.objects.values_list("image", flat=True))

    assert len(names) == len(set(names)) > 150


def test_five_people_sell(db_seeded):
    sellers = User.objects.filter(items__in=_consignment_items()).distinct()

    assert sellers.count() == 5
    assert all(seller.has_role(roles.SELLER) for seller in sellers)
    assert {"seller", "expert"} <= set(sellers.values_list("username", flat=True))


def test_titles_and_prices_are_deterministic(db_seeded):
    plans = [plan for batch in demo_consignment.BATCHES for plan in batch.items]

    assert [item.title for item in _consignment_items().order_by("pk")] == [plan.title for plan in plans]
    assert Item.objects.get(title="Chanel CF 中号 黑色羊皮金扣").price_fen == 4_500_000


def test_the_periodic_rules_change_nothing_right_after_seeding(db_seeded):
    assert services.price_deadlines_settle() == 0
    assert services.unsold_items_settle() == {"marked_down": 0, "returned": 0, "donated": 0}
    # Nor the market's clock: every reservation is inside its window, every deadline still ahead.
    assert market_services.claims_settle_due() == 0
    assert market_services.orders_settle() == 0
    assert orders_allocate_missed() == 0


def test_the_sold_items_went_through_the_market(db_seeded):
    sold = {
        item.title: item
        for item in _consignment_items().filter(
            status__in=[S.RESERVED, S.SOLD, S.PACKED, S.SHIPPED, S.DELIVERED, S.COMPLETED]
        )
    }
    assert {title: item.status for title, item in sold.items()} == {
        "Chanel CF 中号 黑色羊皮金扣": S.RESERVED,
        "Celine Triomphe 老花腋下包": S.SOLD,
        "Cartier Love 手镯 18K 玫瑰金 17 号": S.PACKED,
        "Coach Tabby 26 枕头包 奶白": S.SHIPPED,
        "Ray-Ban 雷朋 飞行员太阳镜 金框": S.DELIVERED,
        "施华洛世奇 天鹅项链 银色": S.COMPLETED,
    }
    # Claimed six minutes ago, not ordered yet: the bag is hers for another 24 minutes.
    claim = Claim.objects.get(item=sold.pop("Chanel CF 中号 黑色羊皮金扣"))
    assert claim.status == Claim.Status.RESERVED
    # (Measured from the claim, not from now: the suite may read the demo minutes after it ran.)
    assert timezone.now() - claim.reserved_at >= timedelta(minutes=6)
    assert claim.reserved_until - claim.reserved_at == timedelta(minutes=30)
    assert claim.reserved_until > timezone.now()
    assert not OrderLine.objects.filter(claim=claim).exists()
    orders = {title: OrderLine.objects.select_related("order").get(item=item).order for title, item in sold.items()}
    assert {title: order.status for title, order in orders.items()} == {
        "Celine Triomphe 老花腋下包": Order.Status.PAID,
        "Cartier Love 手镯 18K 玫瑰金 17 号": Order.Status.PACKED,
        "Coach Tabby 26 枕头包 奶白": Order.Status.SHIPPED,
        "Ray-Ban 雷朋 飞行员太阳镜 金框": Order.Status.DELIVERED,
        "施华洛世奇 天鹅项链 银色": Order.Status.COMPLETED,
    }
    for order in orders.values():
        assert order.payment.status == "succeeded" and order.paid_fen == order.total_fen
        assert order.fulfilment == Order.Fulfilment.PLATFORM
    assert orders["Coach Tabby 26 枕头包 奶白"].carrier == "顺丰"
    assert orders["施华洛世奇 天鹅项链 银色"].buyer.username == "member"
