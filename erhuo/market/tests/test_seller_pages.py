"""The seller's market pages: my sales with their breakdowns, one sale, the parcels she ships herself.

A seller sees only her own sales and orders (404 for anyone else's); the
buyer's full address is shown only on the self-ship page, for orders paid
and not yet shipped, and every such look is in the personal-data access log.
"""

import itertools
import re
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.models import PersonalDataAccess
from erhuo.accounts.tests.factories import AddressFactory, UserFactory
from erhuo.catalog.models import Item
from erhuo.core.money import format_fen
from erhuo.market import selectors, services
from erhuo.market.models import Order, OrderTransition
from erhuo.market.tests import factories
from erhuo.payments import services as payment_services
from erhuo.pricing import fees

pytestmark = pytest.mark.django_db

S = Order.Status
PLATFORM = Item.Fulfilment.PLATFORM
SELF_SHIP = Item.Fulfilment.SELF_SHIP


@pytest.fixture(autouse=True)
def _english(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    with translation.override("en"):
        yield


# --- making sales (shared with the staff pages' tests) -------------------------------------------


@contextmanager
def with_fees():
    """Orders made inside freeze a breakdown with an authentication fee and a wash, as a consigned item has."""

    def breakdown(item):
        return fees.breakdown(item.price_fen, authenticated=True, care_steps=[("wash", "Wash")])

    with mock.patch.object(selectors, "sale_breakdown", breakdown):
        yield


_buyers = itertools.count(1)


def new_buyer():
    """A member with an address of her own: no two buyers share a name, phone or street."""
    number = next(_buyers)
    user = UserFactory(roles=[roles.MEMBER])
    AddressFactory(
        user=user,
        recipient_name=f"买家{number:03d}",
        recipient_phone=f"1390000{number:04d}",
        detail=f"漕溪北路 {number} 号 {number} 栋 1201",
        district="徐汇区",
    )
    return user


def ordered(*, seller=None, buyer=None, price_fen=12_000, title="真丝衬衫", fulfilment=PLATFORM) -> Order:
    """An order waiting for payment: the buyer claimed the item and ordered it."""
    item = factories.listed_item(seller=seller, price_fen=price_fen, title=title, fulfilment=fulfilment)
    buyer = buyer or new_buyer()
    claim = services.claim_create(item_id=item.pk, member=buyer)
    return services.order_create(buyer=buyer, claim_ids=[claim.pk])


def paid(order: Order) -> Order:
    """The buyer pays in the sandbox; the payment event moves the money into escrow."""
    payment = services.order_pay(order_id=order.pk, buyer=order.buyer, provider="sandbox")
    with TestCase.captureOnCommitCallbacks(execute=True):
        payment_services.sandbox_pay(payment_id=payment.pk, payer=order.buyer)
    order.refresh_from_db()
    assert order.status == S.PAID
    return order


def paid_order(**kwargs) -> Order:
    return paid(ordered(**kwargs))


def shipped(order: Order, actor) -> Order:
    services.order_ship(order_id=order.pk, actor=actor, carrier="顺丰速运", tracking_number=f"SF{order.pk:010d}")
    order.refresh_from_db()
    return order


def delivered(order: Order, actor) -> Order:
    if order.status in (S.PAID, S.PACKED):
        shipped(order, actor)
    services.order_deliver(order_id=order.pk, actor=actor)
    order.refresh_from_db()
    return order


def completed(order: Order, actor) -> Order:
    if order.status != S.DELIVERED:
        delivered(order, actor)
    services.order_confirm(order_id=order.pk, buyer=order.buyer)
    order.refresh_from_db()
    return order


def as_user(user, **kwargs) -> Client:
    client = Client(headers={"accept-language": "en"}, **kwargs)
    client.force_login(user)
    return client


def text_of(html: str, name: str) -> str:
    """The text inside the first element with `data-testid="name"` (no nested tags)."""
    found = re.search(rf'data-testid="{name}"[^>]*>([^<]*)<', html)
    assert found, f"no data-testid={name}"
    return found.group(1).strip()


def squeeze(html: str) -> str:
    """The page's text without tags, whitespace collapsed: for sentences that span elements."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@pytest.fixture
def seller(db):
    return UserFactory(roles=[roles.MEMBER, roles.SELLER], display_name="Lin")


@pytest.fixture
def other_seller(db):
    return UserFactory(roles=[roles.MEMBER, roles.SELLER], display_name="Wu")


@pytest.fixture
def warehouse(db):
    return UserFactory(roles=[roles.INTAKE_CLERK])


# --- my sales ------------------------------------------------------------------------------------


def test_my_sales_shows_the_money_summary_and_each_sale_with_its_frozen_breakdown(seller, other_seller, warehouse):
    # ¥120 with fees: 20% commission ¥24, authentication ¥30, wash ¥10 → ¥56; completed (earned, payable).
    with with_fees():
        done = completed(paid_order(seller=seller, price_fen=12_000, title="真丝衬衫"), warehouse)
    # ¥80, paid and in escrow: 20% commission ¥16 → ¥64 pending.
    held = paid_order(seller=seller, price_fen=8_000, title="羊绒围巾")
    # Ordered and then cancelled before payment: nothing was sold.
    cancelled = ordered(seller=seller, price_fen=5_000, title="没卖出的包")
    services.order_cancel(order_id=cancelled.pk, actor=cancelled.buyer, reason="changed my mind")
    # Another seller's sale.
    paid_order(seller=other_seller, price_fen=9_900, title="别人的裙子")

    response = as_user(seller).get(reverse("market:my_sales"))

    assert response.status_code == 200
    html = response.content.decode()
    assert text_of(html, "pending") == "¥64.00"
    assert text_of(html, "earned") == "¥56.00"
    assert text_of(html, "payable") == "¥56.00"
    assert text_of(html, "sold-count") == "1"
    lines = [line.pk for line in response.context["page"].object_list]
    assert lines == [held.lines.get().pk, done.lines.get().pk]  # newest first, the cancelled one not at all
    assert "没卖出的包" not in html and "别人的裙子" not in html
    text = squeeze(html)
    assert "羊绒围巾 Paid" in text
    assert "¥80.00 − commission 20% ¥16.00 = ¥64.00 to you" in text
    assert "真丝衬衫 Completed" in text
    assert "¥120.00 − commission 20% ¥24.00 − Authentication ¥30.00 − Care: Wash ¥10.00 = ¥56.00 to you" in text


def test_my_sales_lists_her_payouts_and_a_sale_names_the_payout_that_carried_it(seller, warehouse):
    from erhuo.ledger import payouts

    finance = UserFactory(roles=[roles.FINANCE])
    with with_fees():
        first = completed(paid_order(seller=seller, price_fen=12_000), warehouse)  # ¥56 to her
    batch = payouts.payout_batch_create(actor=finance)
    payout = batch.lines.get(payee=seller)
    payouts.payout_line_mark_paid(line_id=payout.pk, actor=finance, reference="ALI20260101")
    second = completed(paid_order(seller=seller, price_fen=8_000), warehouse)  # ¥64, not paid out yet
    client = as_user(seller)

    html = client.get(reverse("market:my_sales")).content.decode()

    assert [p.pk for p in client.get(reverse("market:my_sales")).context["payouts"]] == [payout.pk]
    assert text_of(html, "payout-amount") == "¥56.00"
    assert text_of(html, "payout-status") == "Paid"
    assert "ALI20260101" in html
    assert text_of(html, "payable") == "¥64.00"
    assert text_of(html, "earned") == "¥120.00"
    paid_sale = client.get(reverse("market:sale", args=[first.lines.get().pk]))
    assert paid_sale.context["payout"] == payout
    assert f"Paid out with batch #{batch.pk}" in squeeze(paid_sale.content.decode())
    waiting = client.get(reverse("market:sale", args=[second.lines.get().pk]))
    assert waiting.context["payout"] is None
    assert "Booked to you; it goes out with the next payout." in waiting.content.decode()


def test_my_sales_needs_a_login(client):
    response = client.get(reverse("market:my_sales"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_my_sales_reads_a_constant_number_of_queries(seller, django_assert_max_num_queries):
    client = as_user(seller)
    for _ in range(2):
        paid_order(seller=seller)
    # (1 of them is the header's unread notices)
    with django_assert_max_num_queries(11) as few:
        assert client.get(reverse("market:my_sales")).status_code == 200
    for _ in range(6):
        paid_order(seller=seller)
    with django_assert_max_num_queries(len(few)) as many:
        assert client.get(reverse("market:my_sales")).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


# --- one sale ------------------------------------------------------------------------------------


def test_a_sale_shows_its_breakdown_timeline_and_region_but_not_the_buyers_personal_data(seller, warehouse):
    with with_fees():
        order = delivered(paid_order(seller=seller, price_fen=12_000), warehouse)
    line = order.lines.get()

    response = as_user(seller).get(reverse("market:sale", args=[line.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    text = squeeze(html)
    assert "Sale price ¥120.00" in text
    assert "Commission (20%) −¥24.00" in text
    assert "Authentication −¥30.00" in text
    assert "Care: Wash −¥10.00" in text
    assert "To you ¥56.00" in text
    assert text_of(html, "region") == order.region
    assert order.recipient_name not in html
    assert order.recipient_phone not in html
    assert order.address_detail not in html
    assert order.buyer.display_name not in html
    steps = [step.status for step in response.context["steps"]]
    assert steps == [S.PENDING_PAYMENT, S.PAID, S.SHIPPED, S.DELIVERED]
    assert [step.who for step in response.context["steps"]] == ["the buyer", "automatically", "Erhuo", "Erhuo"]
    assert "Paid out once the order is completed." in text


def test_another_sellers_sale_is_not_found(seller, other_seller):
    line = paid_order(seller=seller).lines.get()

    assert as_user(other_seller).get(reverse("market:sale", args=[line.pk])).status_code == 404
    assert as_user(line.order.buyer).get(reverse("market:sale", args=[line.pk])).status_code == 404
    assert as_user(seller).get(reverse("market:sale", args=[line.pk + 1000])).status_code == 404


# --- the parcels she ships herself ---------------------------------------------------------------


def test_the_self_ship_page_shows_the_address_only_for_paid_orders_and_logs_each_look(seller, other_seller):
    to_send = paid_order(seller=seller, fulfilment=SELF_SHIP, title="自己寄的包")
    sent = shipped(paid_order(seller=seller, fulfilment=SELF_SHIP, title="已寄出的鞋"), seller)
    waiting = ordered(seller=seller, fulfilment=SELF_SHIP, title="等付款的帽子")

    response = as_user(seller).get(reverse("market:self_ship_orders"))

    assert response.status_code == 200
    html = response.content.decode()
    assert to_send.recipient_name in html and to_send.recipient_phone in html and to_send.address_detail in html
    for order in (sent, waiting):
        assert order.recipient_phone not in html and order.address_detail not in html
    assert [row["order"].pk for row in response.context["rows"]] == [to_send.pk]
    assert [order.pk for order in response.context["sent"]] == [sent.pk]
    assert "1 more order is waiting for the buyer's payment." in squeeze(html)
    looks = list(PersonalDataAccess.objects.values_list("actor_id", "subject_id", "fields", "reason"))
    assert looks == [(seller.pk, to_send.buyer_id, ["address"], PersonalDataAccess.Reason.ORDER_SUPPORT)]
    assert PersonalDataAccess.objects.get().note == f"Seller ships order {to_send.number}"

    # Another seller sees none of it, and nothing is logged for her.
    other = as_user(other_seller).get(reverse("market:self_ship_orders")).content.decode()
    assert to_send.address_detail not in other and to_send.recipient_phone not in other
    assert PersonalDataAccess.objects.filter(actor=other_seller).count() == 0


def test_a_deadline_less_than_12_hours_away_is_marked_urgent(seller):
    later = paid_order(seller=seller, fulfilment=SELF_SHIP)
    soon = paid_order(seller=seller, fulfilment=SELF_SHIP)
    Order.objects.filter(pk=soon.pk).update(ship_by=timezone.now() + timedelta(hours=11))

    response = as_user(seller).get(reverse("market:self_ship_orders"))

    urgent = {row["order"].pk: row["urgent"] for row in response.context["rows"]}
    assert urgent == {soon.pk: True, later.pk: False}
    html = response.content.decode()
    assert html.count('data-urgent="1"') == 1


def test_an_order_past_its_deadline_is_cancelled_and_refunded_before_the_page_shows(seller):
    late = paid_order(seller=seller, fulfilment=SELF_SHIP)
    Order.objects.filter(pk=late.pk).update(ship_by=timezone.now() - timedelta(minutes=1))

    response = as_user(seller).get(reverse("market:self_ship_orders"))

    assert response.context["rows"] == []
    late.refresh_from_db()
    assert late.status == S.REFUNDED
    assert late.refunded_fen == late.paid_fen
    assert PersonalDataAccess.objects.count() == 0


def test_the_seller_ships_with_carrier_and_tracking_number(seller):
    order = paid_order(seller=seller, fulfilment=SELF_SHIP)

    response = as_user(seller).post(
        reverse("market:self_ship_send", args=[order.pk]),
        {f"s{order.pk}-carrier": "中通快递", f"s{order.pk}-tracking_number": "ZT123456789"},
    )

    assert response.status_code == 302
    assert response.url == reverse("market:self_ship_orders")
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (S.SHIPPED, "中通快递", "ZT123456789")
    assert order.lines.get().item.status == Item.Status.SHIPPED


def order_snapshot(order: Order) -> tuple:
    order.refresh_from_db()
    return (order.status, order.carrier, order.tracking_number, OrderTransition.objects.filter(subject=order).count())


def test_a_bad_tracking_number_is_refused_with_the_reason_and_nothing_changes(seller):
    order = paid_order(seller=seller, fulfilment=SELF_SHIP)
    before = order_snapshot(order)

    response = as_user(seller).post(
        reverse("market:self_ship_send", args=[order.pk]),
        {f"s{order.pk}-carrier": "中通快递", f"s{order.pk}-tracking_number": "no such #"},
    )

    assert response.status_code == 422
    assert "Letters and digits as printed on the waybill." in response.content.decode()
    assert order_snapshot(order) == before


def test_nobody_else_ships_a_sellers_order(seller, other_seller, warehouse):
    order = paid_order(seller=seller, fulfilment=SELF_SHIP)
    before = order_snapshot(order)
    data = {f"s{order.pk}-carrier": "中通快递", f"s{order.pk}-tracking_number": "ZT123456789"}
    url = reverse("market:self_ship_send", args=[order.pk])

    assert as_user(other_seller).post(url, data).status_code == 404
    assert as_user(order.buyer).post(url, data).status_code == 404
    assert as_user(warehouse).post(url, data).status_code == 404
    assert Client().post(url, data).status_code == 302  # to the login page
    assert order_snapshot(order) == before


# --- the price decision on the consignment item page ---------------------------------------------


def test_the_price_decision_shows_the_breakdown_at_the_suggested_price_and_the_commission_tiers(client):
    from erhuo.consignment.models import Consignment
    from erhuo.consignment.selectors import sale_breakdown
    from erhuo.consignment.tests.factories import drive_to, make_operators, make_seller, submit_item

    consigner = make_seller()
    item = drive_to(
        submit_item(consigner, "womens-tops", original_price_fen=100_000), Item.Status.PRICED, make_operators()
    )
    consignment = Consignment.objects.get(item=item)
    expected = sale_breakdown(item, price_fen=consignment.suggested_price_fen)
    client.force_login(consigner)

    response = client.get(reverse("consignment:seller_item", args=[item.pk]), headers={"accept-language": "en"})

    assert response.status_code == 200
    assert response.context["price_breakdown"] == expected
    html = response.content.decode()
    text = squeeze(html)
    assert f"Sale price {format_fen(expected.price_fen)}" in text
    assert f"Commission ({expected.commission_percent}) −{format_fen(expected.commission_fen)}" in text
    for fee in expected.service_fees:
        assert f"{fee.label} −{format_fen(fee.amount_fen)}" in text
    assert f"To you {format_fen(expected.seller_net_fen)}" in text
    for row in fees.tier_rows():
        assert row in text
    assert "¥0.00 – ¥200.00: 20%" in text
    assert "Above ¥5,000.00: 10%" in text


def test_the_seller_marks_a_shipped_parcel_delivered_from_the_self_ship_page(seller, other_seller):
    order = shipped(paid_order(seller=seller, fulfilment=SELF_SHIP, title="已寄出的鞋"), seller)
    url = reverse("market:self_ship_delivered", args=[order.pk])
    page = as_user(seller).get(reverse("market:self_ship_orders")).content.decode()
    assert f'action="{url}"' in page

    # Another seller, a member, no CSRF token: refused, nothing changed.
    assert as_user(other_seller).post(url).status_code == 404
    assert as_user(order.buyer).post(url).status_code == 404
    assert as_user(seller, enforce_csrf_checks=True).post(url).status_code == 403
    assert Order.objects.get(pk=order.pk).status == S.SHIPPED

    response = as_user(seller).post(url)

    assert (response.status_code, response["Location"]) == (302, reverse("market:self_ship_orders"))
    order.refresh_from_db()
    assert order.status == S.DELIVERED
    assert order.transitions.order_by("pk").last().actor_id == seller.pk
    # Delivered: no button any more; asking again says why.
    again = as_user(seller).post(url)
    assert again.status_code == 409
    assert f'action="{url}"' not in again.content.decode()
