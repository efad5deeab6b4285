"""The member's market pages: the shop, claiming, my claims, checkout, my orders, one order, returns, buyer shows.

Each page shows its owner exactly what matters (price, place in the queue,
totals, status); private pages send an anonymous visitor to the login page;
another member's order, return or return photo is a 404 and nothing changes;
a refused claim says why and writes nothing.
"""

import io
import re
from datetime import timedelta

import pytest
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item, ItemPhoto
from erhuo.market import services
from erhuo.market.models import BuyerShow, Claim, Order, OrderLine, ReturnRequest
from erhuo.market.tests import factories
from erhuo.payments import services as payment_services
from erhuo.payments.models import Payment

pytestmark = pytest.mark.django_db

S = Order.Status


@pytest.fixture(autouse=True)
def _english(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    settings.ERHUO_SHIPPING_FEE_FEN = 1_000
    settings.ERHUO_FREE_SHIPPING_FROM_FEN = 29_900
    with translation.override("en"):
        yield


# --- helpers ------------------------------------------------------------------------------


def as_user(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def anonymous() -> Client:
    return Client(headers={"accept-language": "en"})


def squeeze(html: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def text_of(html: str, name: str) -> str:
    """The text of the first element with `data-testid="name"` (up to its closing tag), tags inside dropped."""
    found = re.search(rf'<(\w+)[^>]*data-testid="{name}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, f"no data-testid={name}"
    return squeeze(found.group(2))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def png(name="photo.png", size=(40, 30)):
    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 100)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def claimed(item, member) -> Claim:
    return services.claim_create(item_id=item.pk, member=member)


def ordered(buyer, *items) -> Order:
    claims = [claimed(item, buyer) for item in items]
    return services.order_create(buyer=buyer, claim_ids=[claim.pk for claim in claims])


def paid(order: Order) -> Order:
    payment = services.order_pay(order_id=order.pk, buyer=order.buyer, provider="sandbox")
    with TestCase.captureOnCommitCallbacks(execute=True):
        payment_services.sandbox_pay(payment_id=payment.pk, payer=order.buyer)
    order.refresh_from_db()
    assert order.status == S.PAID
    return order


def delivered(order: Order) -> Order:
    clerk = UserFactory(roles=[roles.INTAKE_CLERK])
    services.order_ship(order_id=order.pk, actor=clerk, carrier="顺丰速运", tracking_number=f"SF{order.pk:08d}")
    services.order_deliver(order_id=order.pk, actor=clerk)
    order.refresh_from_db()
    return order


def snapshot() -> dict:
    return {
        "claims": list(Claim.objects.order_by("pk").values_list("pk", "status")),
        "orders": list(Order.objects.order_by("pk").values_list("pk", "status", "refunded_fen")),
        "returns": list(ReturnRequest.objects.order_by("pk").values_list("pk", "status")),
        "shows": BuyerShow.objects.count(),
        "payments": Payment.objects.count(),
        "items": list(Item.objects.order_by("pk").values_list("pk", "status")),
    }


@pytest.fixture
def shopper(db):
    return factories.buyer(display_name="Mei")


@pytest.fixture
def rival(db):
    return factories.buyer(display_name="Ana")


# --- anonymous and other members ----------------------------------------------------------


PRIVATE_GETS = ["market:my_claims", "market:checkout", "market:my_orders"]


@pytest.mark.parametrize("name", PRIVATE_GETS)
def test_private_pages_send_an_anonymous_visitor_to_log_in(name):
    response = anonymous().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_order_return_and_photo_pages_send_an_anonymous_visitor_to_log_in(shopper):
    order = delivered(paid(ordered(shopper, factories.listed_item())))
    line = order.lines.get()
    request = services.return_request_create(
        line_id=line.pk, buyer=shopper, reason="damaged", description="A hole in the sleeve", photos=[png()]
    )
    photo = request.photos.get()
    for url in (
        reverse("market:order", args=[order.pk]),
        reverse("market:return_new", args=[line.pk]),
        reverse("market:show_new", args=[line.pk]),
        reverse("market:return_detail", args=[request.pk]),
        reverse("market:return_photo", args=[request.pk, photo.pk]),
    ):
        response = anonymous().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login"))


def test_anonymous_claim_goes_to_login_and_back_to_the_item_and_writes_nothing():
    item = factories.listed_item()
    response = anonymous().post(reverse("market:claim", args=[item.pk]))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=/items/{item.pk}/"
    assert Claim.objects.count() == 0
    item.refresh_from_db()
    assert item.status == Item.Status.LISTED


def test_another_member_gets_404_for_an_order_and_changes_nothing(shopper, rival):
    order = ordered(shopper, factories.listed_item())
    client = as_user(rival)
    before = snapshot()
    assert client.get(reverse("market:order", args=[order.pk])).status_code == 404
    assert (
        client.post(
            reverse("market:order_pay", args=[order.pk]), {"provider": "sandbox", "idempotency_key": "k1"}
        ).status_code
        == 404
    )
    assert client.post(reverse("market:order_cancel", args=[order.pk]), {"reason": "x"}).status_code == 404
    assert client.post(reverse("market:order_confirm", args=[order.pk])).status_code == 404
    line = order.lines.get()
    assert client.get(reverse("market:return_new", args=[line.pk])).status_code == 404
    assert client.post(reverse("market:show_new", args=[line.pk]), {"stars": "5"}).status_code == 404
    assert snapshot() == before


def test_another_member_gets_404_for_a_return_and_its_photo_and_changes_nothing(shopper, rival):
    order = delivered(paid(ordered(shopper, factories.listed_item())))
    request = services.return_request_create(
        line_id=order.lines.get().pk,
        buyer=shopper,
        reason="damaged",
        description="A hole in the sleeve",
        photos=[png()],
    )
    photo = request.photos.get()
    client = as_user(rival)
    before = snapshot()
    assert client.get(reverse("market:return_detail", args=[request.pk])).status_code == 404
    assert client.get(reverse("market:return_photo", args=[request.pk, photo.pk])).status_code == 404
    assert client.post(reverse("market:return_withdraw", args=[request.pk])).status_code == 404
    assert snapshot() == before


def test_a_photo_of_another_return_is_404_even_for_the_buyer(shopper):
    first = delivered(paid(ordered(shopper, factories.listed_item(title="A"))))
    second = delivered(paid(ordered(shopper, factories.listed_item(title="B"))))
    one = services.return_request_create(
        line_id=first.lines.get().pk, buyer=shopper, reason="size", description="Too small for me", photos=[png()]
    )
    two = services.return_request_create(
        line_id=second.lines.get().pk, buyer=shopper, reason="size", description="Too small for me", photos=[png()]
    )
    other_photo = two.photos.get()
    response = as_user(shopper).get(reverse("market:return_photo", args=[one.pk, other_photo.pk]))
    assert response.status_code == 404


# --- the shop -----------------------------------------------------------------------------


def test_shop_shows_items_on_sale_with_price_grade_waiting_and_a_claim_button(shopper, rival):
    on_sale = factories.listed_item(title="羊绒大衣", price_fen=45_600)
    reserved = factories.listed_item(title="真丝衬衫", price_fen=12_000)
    claimed(reserved, rival)
    claimed(reserved, factories.buyer())
    withdrawn = factories.listed_item(title="已下架")
    Item.objects.filter(pk=withdrawn.pk).update(status=Item.Status.WITHDRAWN)
    hidden = factories.listed_item(title="社群专享", channel=Item.Channel.COMMUNITY)

    response = anonymous().get(reverse("market:shop"))

    assert response.status_code == 200
    html = response.content.decode()
    cards = response.context["cards"]
    assert [card["item"].pk for card in cards] == [reserved.pk, on_sale.pk]
    assert "羊绒大衣" in html and "¥456.00" in html
    assert "已下架" not in html and hidden.title not in html
    assert "1 waiting" in squeeze(html)
    assert html.count('data-testid="card-claim"') == 2
    assert f'action="{reverse("market:claim", args=[on_sale.pk])}"' in html
    assert 'data-testid="card-price">¥120.00<' in html
    assert "Join the queue" in html and "Claim it (接龙)" in html


def test_shop_shows_a_community_only_item_to_its_seller(shopper):
    mine = factories.listed_item(title="社群专享", seller=shopper, channel=Item.Channel.COMMUNITY)
    response = as_user(shopper).get(reverse("market:shop"))
    assert [card["item"].pk for card in response.context["cards"]] == [mine.pk]
    assert "Your item" in response.content.decode()


def test_shop_filters_by_top_level_category_and_says_which_claims_are_mine(shopper):
    from erhuo.catalog.models import Category

    bags = Category.objects.create(name="Bags", slug="t-bags")
    totes = Category.objects.create(name="Totes", slug="t-totes", parent=bags)
    tote = factories.listed_item(title="Tote", category_obj=totes)
    factories.listed_item(title="Shirt")
    claimed(tote, shopper)

    response = as_user(shopper).get(reverse("market:shop"), {"category": "t-bags"})

    assert [card["item"].pk for card in response.context["cards"]] == [tote.pk]
    assert text_of(response.content.decode(), "card-mine") == "Reserved for you"


def test_shop_picks_the_flat_photo_as_the_card_thumbnail(shopper):
    item = factories.listed_item()
    staff = UserFactory(roles=[roles.INTAKE_CLERK])
    ItemPhoto.objects.create(item=item, kind=ItemPhoto.Kind.AUTHENTICATION, image="items/secret.jpg", uploaded_by=staff)
    ItemPhoto.objects.create(item=item, kind=ItemPhoto.Kind.DETAIL, image="items/detail.jpg", uploaded_by=staff)
    ItemPhoto.objects.create(item=item, kind=ItemPhoto.Kind.FLAT, image="items/flat.jpg", uploaded_by=staff)
    html = anonymous().get(reverse("market:shop")).content.decode()
    assert 'src="/media/items/flat.jpg"' in html
    assert "secret.jpg" not in html


def test_shop_is_paginated_by_24(shopper):
    for n in range(25):
        factories.listed_item(title=f"Item {n}")
    first = anonymous().get(reverse("market:shop"))
    second = anonymous().get(reverse("market:shop"), {"page": 2})
    assert len(first.context["cards"]) == 24
    assert [card["item"].title for card in second.context["cards"]] == ["Item 0"]


@pytest.mark.parametrize("count", [5, 25])
def test_shop_query_count_does_not_grow_with_the_items(count, django_assert_max_num_queries, shopper):
    staff = UserFactory(roles=[roles.INTAKE_CLERK])
    for n in range(count):
        item = factories.listed_item(title=f"Item {n}")
        ItemPhoto.objects.create(item=item, kind=ItemPhoto.Kind.FLAT, image=f"items/{n}.jpg", uploaded_by=staff)
        if n % 2:
            claimed(item, factories.buyer())
            claimed(item, factories.buyer())
    client = as_user(shopper)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("market:shop"))
    assert len(response.context["cards"]) == min(count, 24)


# --- claiming -----------------------------------------------------------------------------


def test_claim_reserves_a_free_item_and_says_until_when(shopper):
    item = factories.listed_item()
    response = as_user(shopper).post(reverse("market:claim", args=[item.pk]), follow=True)
    made = Claim.objects.get()
    assert (made.member, made.status) == (shopper, Claim.Status.RESERVED)
    until = timezone.localtime(made.reserved_until).strftime("%H:%M")
    assert messages_of(response) == [f"Reserved for you until {until} — pay to make it yours."]
    assert response.redirect_chain == [(f"/items/{item.pk}/", 302)]


def test_claim_on_a_reserved_item_queues_once_and_shows_the_position(shopper, rival):
    item = factories.listed_item()
    claimed(item, rival)
    client = as_user(shopper)
    response = client.post(reverse("market:claim", args=[item.pk]), {"next": "/shop/?page=1"}, follow=True)
    assert Claim.objects.filter(member=shopper).count() == 1
    made = Claim.objects.get(member=shopper)
    assert made.status == Claim.Status.QUEUED
    assert messages_of(response) == ["You are number 1 in the queue. We tell you when it is your turn."]
    assert response.redirect_chain == [("/shop/?page=1", 302)]

    again = client.post(reverse("market:claim", args=[item.pk]), follow=True)
    assert messages_of(again) == ["You already have a place in this queue."]
    assert Claim.objects.filter(member=shopper).count() == 1


def test_claim_ignores_a_next_that_leaves_the_site(shopper):
    item = factories.listed_item()
    response = as_user(shopper).post(reverse("market:claim", args=[item.pk]), {"next": "https://evil.example/x"})
    assert response["Location"] == f"/items/{item.pk}/"
    response = as_user(shopper).post(reverse("market:claim", args=[item.pk]), {"next": "//evil.example/x"})
    assert response["Location"] == f"/items/{item.pk}/"


def test_a_refused_claim_on_a_sold_item_shows_the_reason_and_writes_nothing(shopper, rival):
    item = factories.listed_item()
    paid(ordered(rival, item))
    before = snapshot()
    response = as_user(shopper).post(
        reverse("market:claim", args=[item.pk]), {"next": reverse("market:shop")}, follow=True
    )
    assert messages_of(response) == ["Sorry, this item has been sold."]
    assert 'class="message message-error"' in response.content.decode()
    assert snapshot() == before


def test_claim_on_a_missing_item_is_404(shopper):
    assert as_user(shopper).post(reverse("market:claim", args=[999_999])).status_code == 404
    assert Claim.objects.count() == 0


def test_claim_needs_get_to_be_refused(shopper):
    item = factories.listed_item()
    assert as_user(shopper).get(reverse("market:claim", args=[item.pk])).status_code == 405
    assert Claim.objects.count() == 0


def test_csrf_is_enforced_on_claims(shopper):
    item = factories.listed_item()
    client = Client(enforce_csrf_checks=True, headers={"accept-language": "en"})
    client.force_login(shopper)
    response = client.post(reverse("market:claim", args=[item.pk]))
    assert response.status_code == 403
    assert Claim.objects.count() == 0
    # With the token from a page, the same request goes through.
    client.get(reverse("market:shop"))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("market:claim", args=[item.pk]), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Claim.objects.count() == 1


def test_item_page_has_the_claim_button_posting_to_claim(shopper):
    item = factories.listed_item()
    html = as_user(shopper).get(reverse("consignment:item_public", args=[item.pk])).content.decode()
    assert f'action="{reverse("market:claim", args=[item.pk])}"' in html
    assert 'data-testid="claim-button"' in html
    claimed(item, shopper)
    html = as_user(shopper).get(reverse("consignment:item_public", args=[item.pk])).content.decode()
    claim = Claim.objects.get()
    assert f'href="{reverse("market:checkout")}?claim={claim.pk}"' in html


# --- my claims ----------------------------------------------------------------------------


def test_my_claims_lists_reserved_with_countdown_queued_with_position_then_ended(shopper, rival):
    mine = factories.listed_item(title="Mine", price_fen=8_800)
    waiting = factories.listed_item(title="Waiting", price_fen=9_900)
    lost = factories.listed_item(title="Lost")
    reserved = claimed(mine, shopper)
    claimed(waiting, rival)
    claimed(waiting, factories.buyer())
    queued = claimed(waiting, shopper)
    gone = claimed(lost, shopper)
    services.claim_withdraw(claim_id=gone.pk, member=shopper)

    response = as_user(shopper).get(reverse("market:my_claims"))

    html = response.content.decode()
    assert [row.pk for row in response.context["reserved"]] == [reserved.pk]
    assert [row.pk for row in response.context["queued"]] == [queued.pk]
    assert [row.pk for row in response.context["ended"]] == [gone.pk]
    assert text_of(html, "claim-position") == "Number 2 in the queue"
    assert f'data-countdown="{timezone.localtime(reserved.reserved_until).isoformat()}"' in html
    assert f'href="{reverse("market:checkout")}?claim={reserved.pk}"' in html
    assert text_of(html, "claim-status") == "Withdrawn"
    assert html.index("Mine") < html.index("Waiting") < html.index("Lost")
    assert "market/claims.js" in html and "data-live-claims" in html


def test_my_claims_settles_an_overdue_reservation_first(shopper, rival):
    item = factories.listed_item()
    first = claimed(item, rival)
    second = claimed(item, shopper)
    Claim.objects.filter(pk=first.pk).update(reserved_until=timezone.now() - timedelta(minutes=1))

    response = as_user(shopper).get(reverse("market:my_claims"))

    assert [row.pk for row in response.context["reserved"]] == [second.pk]
    first.refresh_from_db()
    assert first.status == Claim.Status.EXPIRED


def test_withdrawing_a_queued_claim(shopper, rival):
    item = factories.listed_item()
    claimed(item, rival)
    queued = claimed(item, shopper)
    response = as_user(shopper).post(reverse("market:claim_withdraw", args=[queued.pk]), follow=True)
    queued.refresh_from_db()
    assert queued.status == Claim.Status.WITHDRAWN
    assert messages_of(response) == ["You gave up your place. The next in line is told."]


def test_withdrawing_someone_elses_claim_is_404_and_changes_nothing(shopper, rival):
    item = factories.listed_item()
    theirs = claimed(item, rival)
    before = snapshot()
    assert as_user(shopper).post(reverse("market:claim_withdraw", args=[theirs.pk])).status_code == 404
    assert snapshot() == before


# --- checkout -----------------------------------------------------------------------------


def test_checkout_lists_reserved_claims_and_addresses(shopper):
    one = claimed(factories.listed_item(title="One", price_fen=10_000), shopper)
    two = claimed(factories.listed_item(title="Two", price_fen=5_000), shopper)
    response = as_user(shopper).get(reverse("market:checkout"), {"claim": one.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{one.pk}"' in html and f'value="{two.pk}"' in html
    assert re.search(rf'value="{one.pk}"[^>]*checked', html)
    assert not re.search(rf'value="{two.pk}"[^>]*checked', html)
    assert "林小雨" in html and "漕溪北路 88 号 3 栋 1201" in html
    assert "Items ¥100.00 Shipping ¥10.00" in squeeze(html)


def test_checkout_creates_the_order_and_goes_to_it(shopper):
    one = claimed(factories.listed_item(title="One", price_fen=10_000), shopper)
    two = claimed(factories.listed_item(title="Two", price_fen=5_000), shopper)
    address = shopper.addresses.get()
    response = as_user(shopper).post(
        reverse("market:checkout"), {"claims": [one.pk, two.pk], "address": address.pk, "note": "Call first"}
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("market:order", args=[order.pk])
    assert (order.buyer, order.status, order.items_fen, order.shipping_fen, order.total_fen) == (
        shopper,
        S.PENDING_PAYMENT,
        15_000,
        1_000,
        16_000,
    )
    assert order.buyer_note == "Call first"
    assert sorted(order.lines.values_list("claim_id", flat=True)) == sorted([one.pk, two.pk])


def test_checkout_refusal_keeps_what_she_typed(shopper):
    platform = claimed(factories.listed_item(title="Platform"), shopper)
    self_ship = claimed(factories.listed_item(title="Self", fulfilment=Item.Fulfilment.SELF_SHIP), shopper)
    address = shopper.addresses.get()
    before = snapshot()
    response = as_user(shopper).post(
        reverse("market:checkout"),
        {"claims": [platform.pk, self_ship.pk], "address": address.pk, "note": "Leave at the door"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Order the platform&#x27;s items and each seller&#x27;s own items separately." in html
    assert 'value="Leave at the door"' in html
    assert re.search(rf'value="{self_ship.pk}"[^>]*checked', html)
    assert snapshot() == before


def test_checkout_without_an_address_links_to_the_address_book_and_back(db):
    member = UserFactory(roles=[roles.MEMBER])
    claimed(factories.listed_item(), member)
    html = as_user(member).get(reverse("market:checkout")).content.decode()
    assert f'href="{reverse("accounts:address_new")}?next=/checkout/"' in html
    assert 'data-testid="no-address"' in html


# --- my orders and one order --------------------------------------------------------------


def test_my_orders_lists_hers_only_with_tabs_by_status(shopper, rival):
    pending = ordered(shopper, factories.listed_item(title="Pending", price_fen=10_000))
    done = paid(ordered(shopper, factories.listed_item(title="Paid one", price_fen=20_000)))
    ordered(rival, factories.listed_item(title="Not hers"))
    client = as_user(shopper)

    response = client.get(reverse("market:my_orders"))
    html = response.content.decode()
    assert [order.pk for order in response.context["page"].object_list] == [done.pk, pending.pk]
    assert "Not hers" not in html
    assert "¥110.00" in html and "¥210.00" in html
    tabs = {tab["key"]: tab["count"] for tab in response.context["tabs"]}
    assert (tabs[""], tabs["pending_payment"], tabs["paid"], tabs["shipped"]) == (2, 1, 1, 0)

    only_paid = client.get(reverse("market:my_orders"), {"status": "paid"})
    assert [order.pk for order in only_paid.context["page"].object_list] == [done.pk]


def test_order_page_shows_lines_totals_address_deadline_and_pay_choices(shopper):
    order = ordered(shopper, factories.listed_item(title="Coat", price_fen=45_600))
    response = as_user(shopper).get(reverse("market:order", args=[order.pk]))
    html = response.content.decode()
    assert text_of(html, "order-status") == "Waiting for payment"
    assert text_of(html, "total-items") == "¥456.00"
    assert text_of(html, "total-shipping") == "Free"
    assert text_of(html, "total") == "¥456.00"
    assert text_of(html, "line-price") == "¥456.00"
    # Her own address, in full.
    assert "林小雨" in html and "13912345678" in html and "漕溪北路 88 号 3 栋 1201" in html
    assert text_of(html, "deadline-pay") == timezone.localtime(order.pay_by).strftime("%Y-%m-%d %H:%M")
    assert 'name="provider" value="manual"' in html and 'name="provider" value="sandbox"' in html
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html)
    assert key
    second = as_user(shopper).get(reverse("market:order", args=[order.pk])).content.decode()
    assert key.group(1) not in second
    assert 'data-testid="cancel-form"' in html and 'data-testid="confirm-form"' not in html


def test_paying_goes_to_the_payment_page_once_for_a_double_submit(shopper):
    order = ordered(shopper, factories.listed_item(price_fen=12_000))
    client = as_user(shopper)
    data = {"provider": "sandbox", "idempotency_key": "render-1"}
    first = client.post(reverse("market:order_pay", args=[order.pk]), data)
    second = client.post(reverse("market:order_pay", args=[order.pk]), data)
    payment = Payment.objects.get()
    assert first["Location"] == second["Location"] == reverse("payments:pay", args=[payment.pk])
    assert (payment.amount_fen, payment.reference, payment.return_path) == (
        13_000,
        order.reference,
        f"/orders/{order.pk}/",
    )


def test_paying_a_cancelled_order_shows_why_and_writes_nothing(shopper):
    order = ordered(shopper, factories.listed_item())
    services.order_cancel(order_id=order.pk, actor=shopper)
    before = snapshot()
    response = as_user(shopper).post(
        reverse("market:order_pay", args=[order.pk]), {"provider": "sandbox", "idempotency_key": "k"}
    )
    assert response.status_code == 409
    assert messages_of(response) == ["This order was cancelled: Cancelled by the buyer."]
    assert 'data-testid="pay-form"' not in response.content.decode()
    assert snapshot() == before


def test_cancelling_an_unpaid_order(shopper):
    order = ordered(shopper, factories.listed_item())
    response = as_user(shopper).post(reverse("market:order_cancel", args=[order.pk]), {"reason": ""}, follow=True)
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert messages_of(response) == ["The order is cancelled. Nothing was charged."]
    assert text_of(response.content.decode(), "order-status") == "Cancelled"


def test_a_delivered_order_offers_confirm_return_and_show(shopper):
    order = delivered(paid(ordered(shopper, factories.listed_item(title="Dress"))))
    line = order.lines.get()
    html = as_user(shopper).get(reverse("market:order", args=[order.pk])).content.decode()
    assert text_of(html, "order-status") == "Delivered"
    assert "confirming pays the seller and ends your return window" in html
    assert f'href="{reverse("market:return_new", args=[line.pk])}"' in html
    assert f'href="{reverse("market:show_new", args=[line.pk])}"' in html
    assert text_of(html, "deadline-confirm") == timezone.localtime(order.complete_after).strftime("%Y-%m-%d")
    assert 'data-testid="pay-form"' not in html


def test_hygiene_goods_say_no_returns(shopper):
    hygiene = factories.category("t-hygiene", returnable=False)
    order = delivered(paid(ordered(shopper, factories.listed_item(category_obj=hygiene))))
    line = order.lines.get()
    html = as_user(shopper).get(reverse("market:order", args=[order.pk])).content.decode()
    assert text_of(html, "no-returns") == "No returns (hygiene goods)"
    assert reverse("market:return_new", args=[line.pk]) not in html
    page = as_user(shopper).get(reverse("market:return_new", args=[line.pk])).content.decode()
    assert 'data-testid="return-form"' not in page and 'data-testid="no-returns"' in page


def test_confirming_receipt_completes_the_order(shopper):
    order = delivered(paid(ordered(shopper, factories.listed_item())))
    response = as_user(shopper).post(reverse("market:order_confirm", args=[order.pk]), follow=True)
    order.refresh_from_db()
    assert order.status == S.COMPLETED
    assert messages_of(response) == ["Thank you! The order is complete and the seller is paid."]


def test_confirming_an_unpaid_order_is_refused_with_a_message(shopper):
    order = ordered(shopper, factories.listed_item())
    before = snapshot()
    response = as_user(shopper).post(reverse("market:order_confirm", args=[order.pk]), follow=True)
    assert messages_of(response) == ["This order is already Waiting for payment."]
    assert snapshot() == before


# --- returns ------------------------------------------------------------------------------


def test_requesting_a_return_with_photos_and_reading_it(shopper):
    order = delivered(paid(ordered(shopper, factories.listed_item(title="Dress"))))
    line = order.lines.get()
    client = as_user(shopper)
    form = client.get(reverse("market:return_new", args=[line.pk]))
    assert 'enctype="multipart/form-data"' in form.content.decode()

    response = client.post(
        reverse("market:return_new", args=[line.pk]),
        {"reason": "damaged", "description": "A hole in the left sleeve", "photos": [png("a.png"), png("b.png")]},
    )
    made = ReturnRequest.objects.get()
    assert response["Location"] == reverse("market:return_detail", args=[made.pk])
    assert made.photos.count() == 2

    page = client.get(reverse("market:return_detail", args=[made.pk])).content.decode()
    assert text_of(page, "return-status") == "Waiting for customer service"
    assert text_of(page, "return-reason") == "Damaged in transit"
    assert "A hole in the left sleeve" in page
    for photo in made.photos.all():
        assert reverse("market:return_photo", args=[made.pk, photo.pk]) in page
    assert "Waiting for customer service" in text_of(page, "return-timeline")


def test_a_refused_return_keeps_what_she_typed_and_writes_nothing(shopper):
    order = paid(ordered(shopper, factories.listed_item()))  # not delivered: the window is not open
    line = order.lines.get()
    before = snapshot()
    response = as_user(shopper).post(
        reverse("market:return_new", args=[line.pk]),
        {"reason": "size", "description": "Too small for me, sadly"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert text_of(html, "form-errors") == "The return window for this order has closed."
    assert "Too small for me, sadly" in html
    assert re.search(r'value="size"[^>]*checked', html)
    assert snapshot() == before


def test_the_return_photo_is_private_and_served_to_the_buyer_and_customer_service(shopper):
    order = delivered(paid(ordered(shopper, factories.listed_item())))
    made = services.return_request_create(
        line_id=order.lines.get().pk, buyer=shopper, reason="damaged", description="A hole in it", photos=[png()]
    )
    photo = made.photos.get()
    url = reverse("market:return_photo", args=[made.pk, photo.pk])
    response = as_user(shopper).get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content)[:4] == b"\x89PNG"
    service = UserFactory(roles=[roles.CUSTOMER_SERVICE])
    assert as_user(service).get(url).status_code == 200
    page = as_user(shopper).get(reverse("market:return_detail", args=[made.pk])).content.decode()
    assert photo.image.name not in page


def test_the_decided_return_shows_the_decision_and_its_timeline(shopper):
    order = delivered(paid(ordered(shopper, factories.listed_item(price_fen=12_000))))
    made = services.return_request_create(
        line_id=order.lines.get().pk, buyer=shopper, reason="size", description="Too small for me"
    )
    service = UserFactory(roles=[roles.CUSTOMER_SERVICE])
    services.return_decide(return_id=made.pk, actor=service, outcome="rejected", decision="Fits as described.")
    html = as_user(shopper).get(reverse("market:return_detail", args=[made.pk])).content.decode()
    assert text_of(html, "return-status") == "Rejected"
    assert "Fits as described." in text_of(html, "decision")
    timeline = text_of(html, "return-timeline")
    assert "Waiting for customer service" in timeline and "Rejected" in timeline


# --- buyer shows --------------------------------------------------------------------------


def test_posting_a_buyer_show_goes_back_to_the_order(shopper):
    order = delivered(paid(ordered(shopper, factories.listed_item(title="Dress"))))
    line = order.lines.get()
    response = as_user(shopper).post(
        reverse("market:show_new", args=[line.pk]),
        {"stars": "4", "text": "Lovely fabric", "photos": [png()]},
        follow=True,
    )
    show = BuyerShow.objects.get()
    assert (show.stars, show.text, show.photos.count()) == (4, "Lovely fabric", 1)
    assert response.redirect_chain == [(reverse("market:order", args=[order.pk]), 302)]
    assert messages_of(response) == ["Thank you! Your buyer show is posted."]
    assert "Buyer show posted" in response.content.decode()


def test_a_buyer_show_before_delivery_is_refused_and_writes_nothing(shopper):
    order = paid(ordered(shopper, factories.listed_item()))
    line = order.lines.get()
    before = snapshot()
    response = as_user(shopper).post(reverse("market:show_new", args=[line.pk]), {"stars": "5", "text": "Nice"})
    assert response.status_code == 409
    refusal = text_of(response.content.decode(), "form-errors")
    assert refusal == "You can post a buyer show once your order is delivered."
    assert snapshot() == before
    assert OrderLine.objects.get(pk=line.pk).active


def test_featured_shows_are_public_and_show_only_featured_ones(shopper):
    order = delivered(paid(ordered(shopper, factories.listed_item(title="Dress"))))
    show = services.buyer_show_create(line_id=order.lines.get().pk, buyer=shopper, stars=5, text="Perfect fit")
    other = delivered(paid(ordered(shopper, factories.listed_item(title="Skirt"))))
    services.buyer_show_create(line_id=other.lines.get().pk, buyer=shopper, stars=3, text="Not featured")
    operator = UserFactory(roles=[roles.COMMUNITY_MANAGER])
    services.buyer_show_feature(show_id=show.pk, actor=operator)

    html = anonymous().get(reverse("market:featured_shows")).content.decode()

    assert "Perfect fit" in html and "Not featured" not in html
    assert html.count('data-testid="buyer-show"') == 1
    assert "M**" in html and ">Mei<" not in html
    assert f'href="{reverse("consignment:item_public", args=[order.lines.get().item_id])}"' in html
