"""A member's market data in her download and on erasure: addresses and buyer shows go, orders stay as records."""

import pytest
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.market import selectors, services
from erhuo.market.models import BuyerShow, BuyerShowPhoto, Order
from erhuo.market.tests.factories import buyer, listed_item
from erhuo.market.tests.test_orders import SHIPPING, delivered_order, paid_order
from erhuo.trust.tests.factories import id_photo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _market_settings(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    settings.ERHUO_CLAIM_PAYMENT_MINUTES = 30
    settings.ERHUO_SHIPPING_FEE_FEN = SHIPPING
    with translation.override("en"):
        yield


@pytest.fixture
def warehouse(db):
    return UserFactory(roles=[roles.INTAKE_CLERK])


def completed_with_show(member, warehouse) -> Order:
    order = delivered_order(member, listed_item(title="羊绒大衣"), warehouse=warehouse)
    line = order.lines.get()
    services.buyer_show_create(line_id=line.pk, buyer=member, stars=5, text="很好看", photos=[id_photo()])
    services.order_confirm(order_id=order.pk, buyer=member)
    order.refresh_from_db()
    return order


def test_her_download_holds_her_orders_with_their_address_and_her_show(warehouse):
    member = buyer()
    order = completed_with_show(member, warehouse)

    data = selectors.personal_data_export(user=member)

    assert [(o["number"], o["status"], o["items"]) for o in data["orders"]] == [
        (order.number, "completed", ["羊绒大衣"])
    ]
    assert data["orders"][0]["recipient_phone"] == order.recipient_phone
    assert data["orders"][0]["address_detail"] == order.address_detail
    assert [(c["item"], c["status"]) for c in data["claims"]] == [("羊绒大衣", "purchased")]
    assert [(s["item"], s["stars"], s["text"]) for s in data["buyer_shows"]] == [("羊绒大衣", 5, "很好看")]
    # Nobody else's.
    assert selectors.personal_data_export(user=buyer())["orders"] == []


def test_an_open_order_blocks_erasure_and_says_which():
    member = buyer()
    order = paid_order(member, listed_item())

    assert services.erase_blockers(user=member) == [
        f"Orders still open (to pay, to ship or to receive): {order.number}."
    ]


def test_erasing_wipes_the_addresses_and_the_show_and_keeps_the_order(warehouse):
    member = buyer()
    order = completed_with_show(member, warehouse)
    assert services.erase_blockers(user=member) == []

    services.personal_data_erase(user=member)

    order.refresh_from_db()
    assert (order.recipient_name, order.recipient_phone, order.address_detail) == ("—", "—", "—")
    assert (order.status, order.total_fen, order.paid_fen) == ("completed", order.total_fen, order.paid_fen)
    show = BuyerShow.objects.get(buyer=member)
    assert (show.text, show.hidden, show.featured_at) == ("", True, None)
    assert BuyerShowPhoto.objects.filter(show=show).count() == 0
