"""Buy-with-gift (买赠) through the market: the gift joins a qualifying order as a free line, once; it travels,
completes and returns with the order; the books add up at every step; held gifts cannot be claimed."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item
from erhuo.community.models import Activity, ActivityEntry, ActivityGift
from erhuo.community.services import activities as activity_services
from erhuo.community.tests import factories as community
from erhuo.core.errors import Conflict
from erhuo.ledger.models import JournalEntry
from erhuo.ledger.selectors import balance_by_code
from erhuo.market import services
from erhuo.market.accounts import COMMISSION_INCOME, ESCROW, SHIPPING_INCOME, seller_payable_code
from erhuo.market.models import Claim, Order, OrderLine
from erhuo.market.tests.factories import buyer, listed_item
from erhuo.market.tests.test_orders import (
    SHIPPING,
    WINDOW,
    books_are_right,
    deliver,
    item_status,
    money_snapshot,
    pay,
    place_order,
)

pytestmark = pytest.mark.django_db

THRESHOLD = 20_000


@pytest.fixture(autouse=True)
def _market_settings(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    settings.ERHUO_CLAIM_PAYMENT_MINUTES = 30
    settings.ERHUO_SHIPPING_FEE_FEN = SHIPPING
    settings.ERHUO_FREE_SHIPPING_FROM_FEN = 29_900
    settings.ERHUO_SELF_SHIP_HOURS = 48
    settings.ERHUO_AUTO_CONFIRM_DAYS = 7
    with translation.override("en"):
        yield


@pytest.fixture
def warehouse(db):
    return UserFactory(roles=[roles.INTAKE_CLERK])


@pytest.fixture
def leader(db):
    return UserFactory(roles=[roles.EXPERT])


@pytest.fixture
def group(leader):
    return community.group(leader=leader)


def gift_offer(leader, group, *, gifts: int = 1, threshold: int = THRESHOLD, now=None) -> Activity:
    items = [listed_item(seller=leader, price_fen=5_000, title=f"赠品丝巾 {n}") for n in range(gifts)]
    return community.activity(
        actor=leader,
        groups=[group],
        kind="buy_with_gift",
        threshold_fen=threshold,
        gifts=[item.pk for item in items],
        now=now,
    )


def member_of(group):
    member = buyer()
    community.member_of(group, member)
    return member


def gift_line(order: Order) -> OrderLine | None:
    return order.lines.filter(is_gift=True).first()


def gifts_left(activity: Activity) -> int:
    return Activity.objects.get(pk=activity.pk).gifts_left


def test_an_order_reaching_the_threshold_gets_the_gift_and_completes_with_the_books_right(leader, group, warehouse):
    offer = gift_offer(leader, group)
    member = member_of(group)
    seller = UserFactory(roles=[roles.SELLER])
    coat = listed_item(seller=seller, price_fen=THRESHOLD, title="羊毛大衣")

    order = place_order(member, coat)

    line = gift_line(order)
    assert (line.item_id, line.price_fen, line.seller_id, line.claim_id, line.title) == (
        offer.gift_item_id,
        0,
        leader.pk,
        None,
        "赠品丝巾 0",
    )
    assert (line.commission_fen, line.service_fees_fen, line.seller_net_fen) == (0, 0, 0)
    # The gift changes no amount of the order.
    assert (order.items_fen, order.shipping_fen, order.total_fen) == (THRESHOLD, SHIPPING, THRESHOLD + SHIPPING)
    assert list(ActivityEntry.objects.values_list("activity_id", "user_id", "reference")) == [
        (offer.pk, member.pk, order.reference)
    ]
    assert gifts_left(offer) == 0
    assert ActivityGift.objects.get(activity=offer).reference == order.reference

    pay(order)
    assert order.status == "paid"
    assert item_status(line.item) == Item.Status.SOLD
    assert balance_by_code(ESCROW) == THRESHOLD + SHIPPING
    books_are_right()

    deliver(order, warehouse)
    assert item_status(line.item) == Item.Status.DELIVERED
    services.order_confirm(order_id=order.pk, buyer=member)
    order.refresh_from_db()
    coat_line = order.lines.get(is_gift=False)
    assert order.status == "completed"
    assert item_status(line.item) == Item.Status.COMPLETED
    # The gift's giver gets nothing for it; the coat's seller her share; escrow is empty.
    assert balance_by_code(seller_payable_code(leader.pk)) == 0
    assert balance_by_code(seller_payable_code(seller.pk)) == coat_line.seller_net_fen
    assert balance_by_code(COMMISSION_INCOME) == coat_line.commission_fen
    assert balance_by_code(SHIPPING_INCOME) == SHIPPING
    assert balance_by_code(ESCROW) == 0
    entry = JournalEntry.objects.get(key=f"order-complete:{order.pk}")
    assert seller_payable_code(leader.pk) not in set(entry.postings.values_list("account__code", flat=True))
    books_are_right()


def test_no_gift_below_the_threshold_nor_for_someone_outside_the_groups(leader, group):
    offer = gift_offer(leader, group)
    member = member_of(group)
    below = place_order(member, listed_item(price_fen=THRESHOLD - 1))
    outsider = place_order(buyer(), listed_item(price_fen=THRESHOLD * 2))
    assert gift_line(below) is None and gift_line(outsider) is None
    assert gifts_left(offer) == 1 and not ActivityEntry.objects.exists()


def test_the_threshold_counts_every_item_of_the_order(leader, group):
    gift_offer(leader, group)
    member = member_of(group)
    order = place_order(member, listed_item(price_fen=12_000), listed_item(price_fen=8_000, title="半裙"))
    assert gift_line(order) is not None
    assert order.lines.count() == 3


def test_an_order_the_seller_ships_herself_gets_no_gift(leader, group):
    offer = gift_offer(leader, group)
    member = member_of(group)
    order = place_order(member, listed_item(price_fen=THRESHOLD, fulfilment=Item.Fulfilment.SELF_SHIP))
    assert gift_line(order) is None and gifts_left(offer) == 1


def test_when_the_gifts_run_out_the_order_is_made_without_one(leader, group):
    offer = gift_offer(leader, group, gifts=1)
    first, second = member_of(group), member_of(group)
    with_gift = place_order(first, listed_item(price_fen=THRESHOLD))
    without = place_order(second, listed_item(price_fen=THRESHOLD))
    assert gift_line(with_gift) is not None
    assert gift_line(without) is None and without.status == "pending_payment"
    assert gifts_left(offer) == 0


def test_a_member_gets_one_gift_per_activity(leader, group):
    offer = gift_offer(leader, group, gifts=2)
    member = member_of(group)
    first = place_order(member, listed_item(price_fen=THRESHOLD))
    second = place_order(member, listed_item(price_fen=THRESHOLD))
    assert gift_line(first) is not None and gift_line(second) is None
    assert gifts_left(offer) == 1


def test_a_held_gift_cannot_be_claimed(leader, group):
    offer = gift_offer(leader, group)
    gift = Item.objects.get(pk=offer.gift_item_id)
    member = member_of(group)
    before = money_snapshot()
    with pytest.raises(Conflict) as refused:
        services.claim_create(item_id=gift.pk, member=member)
    assert refused.value.code == "item_is_gift"
    assert money_snapshot() == before
    assert not Claim.objects.exists()


def test_a_held_gift_shows_as_a_gift_without_a_claim_button_in_the_shop_and_on_its_page(client, leader, group):
    offer = gift_offer(leader, group)
    gift = Item.objects.get(pk=offer.gift_item_id)
    coat = listed_item(price_fen=THRESHOLD, title="羊毛大衣")
    client.force_login(member_of(group))

    shop = client.get("/shop/").content.decode()
    page = client.get(f"/items/{gift.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    coat_page = client.get(f"/items/{coat.pk}/").content.decode()

    assert shop.count('data-testid="card-gift"') == 1
    assert shop.count('data-testid="card-claim"') == 1  # the coat's
    assert f'action="/items/{gift.pk}/claim/"' not in shop
    assert 'data-testid="claim-gift"' in page and "This item is a gift in a community activity." in page
    assert 'data-testid="claim-button"' not in page
    assert 'data-testid="claim-button"' in coat_page and 'data-testid="claim-gift"' not in coat_page


def test_an_unpaid_order_cancelled_by_the_buyer_returns_its_gift_to_stock(leader, group):
    offer = gift_offer(leader, group)
    member = member_of(group)
    coat = listed_item(price_fen=THRESHOLD)
    order = place_order(member, coat)
    gift = gift_line(order).item

    services.order_cancel(order_id=order.pk, actor=member, reason="买错了")

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert not order.lines.filter(active=True).exists()
    assert (item_status(gift), item_status(coat)) == (Item.Status.RESERVED, Item.Status.LISTED)
    assert gifts_left(offer) == 1
    assert not ActivityEntry.objects.exists()
    assert ActivityGift.objects.get(activity=offer).reference == ""
    # The next qualifying order gets it.
    again = place_order(member_of(group), listed_item(price_fen=THRESHOLD))
    assert gift_line(again).item_id == gift.pk
    books_are_right()


def test_an_order_not_paid_in_time_returns_its_gift(leader, group):
    offer = gift_offer(leader, group)
    member = member_of(group)
    start = timezone.now()
    coat = listed_item(price_fen=THRESHOLD)
    order = place_order(member, coat, now=start)
    services.claims_settle_item(item_id=coat.pk, now=start + WINDOW)
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert gifts_left(offer) == 1 and item_status(Item.objects.get(pk=offer.gift_item_id)) == Item.Status.RESERVED


def test_a_paid_order_cancelled_before_shipping_is_refunded_in_full_and_its_gift_goes_back(leader, group):
    offer = gift_offer(leader, group)
    member = member_of(group)
    order = place_order(member, listed_item(price_fen=THRESHOLD))
    gift = gift_line(order).item
    pay(order)

    services.order_cancel(order_id=order.pk, actor=member, reason="不想要了")

    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == ("refunded", THRESHOLD + SHIPPING)
    assert item_status(gift) == Item.Status.RESERVED  # back in the stock: the activity still runs
    assert gifts_left(offer) == 1 and not ActivityEntry.objects.exists()
    assert balance_by_code(ESCROW) == 0
    books_are_right()


def test_a_gift_returned_after_the_activity_ended_goes_back_on_sale(leader, group):
    now = timezone.now()
    offer = gift_offer(leader, group, now=now)
    member = member_of(group)
    order = place_order(member, listed_item(price_fen=THRESHOLD))
    gift = gift_line(order).item
    pay(order)
    activity_services.activities_settle_due(now=now + timedelta(days=2))
    assert Activity.objects.get(pk=offer.pk).status == "ended"
    assert item_status(gift) == Item.Status.SOLD  # in a paid order: the end does not touch it

    services.order_cancel(order_id=order.pk, actor=member, reason="不想要了")

    assert item_status(gift) == Item.Status.LISTED
    returned = ActivityGift.objects.get(activity=offer)
    assert returned.released_at is not None
    assert (returned.reference, returned.given_to_id, returned.given_at) == ("", None, None)  # not given after all
    assert not ActivityEntry.objects.exists()
    assert gifts_left(offer) == 0
    books_are_right()


def test_an_unpaid_order_cancelled_after_the_activity_ended_puts_the_gift_on_sale(leader, group):
    now = timezone.now()
    offer = gift_offer(leader, group, now=now)
    member = member_of(group)
    order = place_order(member, listed_item(price_fen=THRESHOLD), now=now)
    gift = gift_line(order).item
    activity_services.activities_settle_due(now=now + timedelta(days=2))
    assert item_status(gift) == Item.Status.RESERVED  # still in the order

    services.order_cancel(order_id=order.pk, actor=member, reason="算了", now=now + timedelta(minutes=5))

    assert item_status(gift) == Item.Status.LISTED
    assert not ActivityGift.objects.filter(activity=offer, released_at__isnull=True).exists()
    claim = services.claim_create(item_id=gift.pk, member=member_of(group))
    assert claim.status == "reserved"


def test_the_gift_line_cannot_be_returned_for_money(leader, group, warehouse):
    gift_offer(leader, group)
    member = member_of(group)
    order = place_order(member, listed_item(price_fen=THRESHOLD))
    pay(order)
    deliver(order, warehouse)
    before = money_snapshot()
    with pytest.raises(Conflict) as refused:
        services.return_request_create(
            line_id=gift_line(order).pk, buyer=member, reason="damaged", description="赠品有一点脱线"
        )
    assert refused.value.code == "already_refunded"
    assert money_snapshot() == before


def test_a_second_payment_of_a_gift_order_is_refused_and_the_books_stay_right(leader, group):
    gift_offer(leader, group)
    member = member_of(group)
    order = place_order(member, listed_item(price_fen=THRESHOLD))
    pay(order)
    before = money_snapshot()
    with pytest.raises(Conflict) as refused:
        services.order_pay(order_id=order.pk, buyer=member, provider="sandbox")
    assert refused.value.code == "order_closed"
    assert money_snapshot() == before
    assert balance_by_code(ESCROW) == order.total_fen
    books_are_right()
