"""The orders API end to end: claim → order → payment → fulfilment → confirmation → the seller's sale,
and returns and buyer shows on what was delivered.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item
from erhuo.ledger.models import JournalEntry
from erhuo.ledger.selectors import balance_by_code
from erhuo.market import selectors, services
from erhuo.market.accounts import ESCROW, seller_payable_code
from erhuo.market.models import BuyerShow, Claim, Order, OrderLine, ReturnRequest, ReturnTransition
from erhuo.market.tests.factories import buyer, category, listed_item
from erhuo.market.tests.test_api import _english_and_sandbox, caller  # noqa: F401 (an autouse fixture)
from erhuo.payments import services as payment_services
from erhuo.payments.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse(db):
    return UserFactory(roles=[roles.INTAKE_CLERK])


@pytest.fixture
def customer_service(db):
    return UserFactory(roles=[roles.CUSTOMER_SERVICE])


def png(name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def delivered_order(member, item, warehouse) -> Order:
    """An order of `item` by `member`, paid in the sandbox and delivered, through the services."""
    claim = services.claim_create(item_id=item.pk, member=member)
    order = services.order_create(buyer=member, claim_ids=[claim.pk])
    payment = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox")
    payment_services.sandbox_pay(payment_id=payment.pk, payer=member)
    # The payment_succeeded event runs after commit, which a test transaction never reaches: allocate directly.
    services.order_payment_allocate(payment_id=payment.pk)
    services.order_pack(order_id=order.pk, actor=warehouse)
    services.order_ship(order_id=order.pk, actor=warehouse, carrier="顺丰", tracking_number="SF1000000001")
    services.order_deliver(order_id=order.pk, actor=warehouse)
    return Order.objects.get(pk=order.pk)


# --- the whole way --------------------------------------------------------------------------------


def test_claim_order_pay_ship_deliver_confirm_and_the_seller_sees_her_sale(
    warehouse, django_capture_on_commit_callbacks
):
    seller = UserFactory(roles=[roles.SELLER])
    item = listed_item(seller=seller, price_fen=12_000, title="真丝衬衫")
    expected = selectors.sale_breakdown(item).as_dict()
    member = buyer()
    me, clerk = caller(member), caller(warehouse)

    claim = me.post(f"/items/{item.pk}/claims").json()["claim"]
    created = me.post("/orders", {"claims": [claim["id"]], "note": "请用纸箱"})

    assert created.status_code == 201, created.content
    order = created.json()
    assert (order["status"], order["viewer"], order["fulfilment"]) == ("pending_payment", "buyer", "platform")
    assert (order["items_fen"], order["shipping_fen"], order["discount_fen"], order["total_fen"]) == (
        12_000,
        1_000,
        0,
        13_000,
    )
    assert order["buyer_note"] == "请用纸箱"
    assert order["address"] == {
        "recipient_name": "林小雨",
        "recipient_phone": "13912345678",
        "region": Order.objects.get(pk=order["id"]).region,
        "detail": "漕溪北路 88 号 3 栋 1201",
        "masked": False,
    }
    assert [(line["item_id"], line["title"], line["price_fen"], line["breakdown"]) for line in order["lines"]] == [
        (item.pk, "真丝衬衫", 12_000, None)
    ]
    assert [step["to_state"] for step in order["timeline"]] == ["pending_payment"]
    assert me.get(f"/claims/{claim['id']}").json()["claim"]["order_id"] == order["id"]

    first = me.post(f"/orders/{order['id']}/payments", {"provider": "sandbox"}, headers={"Idempotency-Key": "k-1"})
    again = me.post(f"/orders/{order['id']}/payments", {"provider": "sandbox"}, headers={"Idempotency-Key": "k-1"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    payment = first.json()
    assert (payment["status"], payment["amount_fen"], payment["provider"]) == ("pending", 13_000, "sandbox")
    assert payment["next"] == {"kind": "redirect", "url": reverse("payments:pay", args=[payment["id"]])}
    assert Payment.objects.filter(reference=f"order:{order['id']}").count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        paid = me.post(f"/payments/{payment['id']}/sandbox-pay")
    assert paid.status_code == 200
    assert me.get(f"/orders/{order['id']}").json()["status"] == "paid"
    assert balance_by_code(ESCROW) == 13_000

    assert clerk.post(f"/orders/{order['id']}/pack").json()["status"] == "packed"
    shipped = clerk.post(f"/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_number": "SF1234567890"})
    assert shipped.status_code == 200
    assert (shipped.json()["status"], shipped.json()["tracking_number"]) == ("shipped", "SF1234567890")
    assert clerk.post(f"/orders/{order['id']}/deliver").json()["status"] == "delivered"

    confirmed = me.post(f"/orders/{order['id']}/confirm")

    assert confirmed.status_code == 200
    body = confirmed.json()
    assert body["status"] == "completed"
    assert [(step["to_state"], step["by"]) for step in body["timeline"]] == [
        ("pending_payment", "buyer"),
        ("paid", "system"),
        ("packed", "platform"),
        ("shipped", "platform"),
        ("delivered", "platform"),
        ("completed", "buyer"),
    ]
    sales = caller(seller).get("/sales").json()
    assert sales["count"] == 1
    sale = sales["items"][0]
    assert (sale["order_id"], sale["order_status"], sale["item_id"], sale["price_fen"]) == (
        order["id"],
        "completed",
        item.pk,
        12_000,
    )
    assert (sale["commission_fen"], sale["service_fees_fen"], sale["seller_net_fen"]) == (
        expected["commission_fen"],
        expected["service_fees_fen"],
        expected["seller_net_fen"],
    )
    assert sale["breakdown"] == expected
    assert sale["commission_fen"] + sale["service_fees_fen"] + sale["seller_net_fen"] == 12_000
    summary = caller(seller).get("/sales/summary").json()
    assert summary == {
        "pending_fen": 0,
        "pending_count": 0,
        "earned_fen": expected["seller_net_fen"],
        "sold_count": 1,
        "payable_fen": expected["seller_net_fen"],
    }
    assert balance_by_code(ESCROW) == 0
    assert balance_by_code(seller_payable_code(seller.pk)) == expected["seller_net_fen"]
    assert selectors.money_problems() == []


def test_my_orders_are_paginated_and_filtered_by_status(warehouse):
    member = buyer()
    delivered_order(member, listed_item(), warehouse)
    pending = services.order_create(
        buyer=member, claim_ids=[services.claim_create(item_id=listed_item().pk, member=member).pk]
    )

    everything = caller(member).get("/orders").json()
    waiting = caller(member).get("/orders", status="pending_payment").json()
    unknown = caller(member).get("/orders", status="lost")

    assert everything["count"] == 2
    assert [order["id"] for order in waiting["items"]] == [pending.pk]
    assert waiting["count"] == 1
    assert (unknown.status_code, unknown.json()["code"]) == (422, "filter_invalid")


# --- payments ---------------------------------------------------------------------------------------


def test_paying_after_the_window_closed_is_409_and_creates_no_payment():
    member = buyer()
    item = listed_item()
    claim = services.claim_create(item_id=item.pk, member=member)
    order = services.order_create(buyer=member, claim_ids=[claim.pk])
    past = timezone.now() - timezone.timedelta(seconds=1)
    Claim.objects.filter(pk=claim.pk).update(reserved_until=past)
    Order.objects.filter(pk=order.pk).update(pay_by=past)

    response = caller(member).post(f"/orders/{order.pk}/payments", {"provider": "sandbox"})

    assert response.status_code == 409
    assert response.json()["code"] == "reservation_expired"
    assert not Payment.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_without_a_key_the_open_payment_is_returned_with_200():
    member = buyer()
    claim = services.claim_create(item_id=listed_item().pk, member=member)
    order = services.order_create(buyer=member, claim_ids=[claim.pk])
    me = caller(member)

    first = me.post(f"/orders/{order.pk}/payments", {"provider": "manual"})
    second = me.post(f"/orders/{order.pk}/payments", {"provider": "manual"})

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["next"]["kind"] == "manual_transfer"


def test_an_unknown_provider_is_422():
    member = buyer()
    claim = services.claim_create(item_id=listed_item().pk, member=member)
    order = services.order_create(buyer=member, claim_ids=[claim.pk])

    response = caller(member).post(f"/orders/{order.pk}/payments", {"provider": "paypal"})

    assert (response.status_code, response.json()["code"]) == (422, "provider_unavailable")
    assert not Payment.objects.exists()


def test_cancelling_an_unpaid_order_passes_the_item_to_the_next_in_line():
    member, next_in_line = buyer(), buyer()
    item = listed_item()
    claim = services.claim_create(item_id=item.pk, member=member)
    waiting = services.claim_create(item_id=item.pk, member=next_in_line)
    order = services.order_create(buyer=member, claim_ids=[claim.pk])

    response = caller(member).post(f"/orders/{order.pk}/cancel", {})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["closed_reason"]) == ("cancelled", "Cancelled by the buyer.")
    waiting.refresh_from_db()
    assert waiting.status == Claim.Status.RESERVED


# --- who sees what ------------------------------------------------------------------------------------


def test_the_self_ship_seller_sees_a_masked_address_and_her_breakdown_and_ships_it():
    seller = UserFactory(roles=[roles.SELLER])
    item = listed_item(seller=seller, fulfilment=Item.Fulfilment.SELF_SHIP, price_fen=20_000)
    member = buyer()
    claim = services.claim_create(item_id=item.pk, member=member)
    order = services.order_create(buyer=member, claim_ids=[claim.pk])
    payment = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox")
    payment_services.sandbox_pay(payment_id=payment.pk, payer=member)
    services.order_payment_allocate(payment_id=payment.pk)
    line = OrderLine.objects.get(order=order)
    mine = caller(seller)

    to_ship = mine.get("/self-ship-orders").json()
    seen = mine.get(f"/orders/{order.pk}").json()

    assert [row["id"] for row in to_ship["items"]] == [order.pk]
    assert seen["viewer"] == "seller"
    assert seen["address"] == {
        "recipient_name": "林**",
        "recipient_phone": "139****5678",
        "region": order.region,
        "detail": "****",
        "masked": True,
    }
    assert seen["lines"][0]["breakdown"] == {
        "commission_fen": line.commission_fen,
        "service_fees_fen": line.service_fees_fen,
        "seller_net_fen": line.seller_net_fen,
        "detail": line.breakdown,
    }
    assert caller(member).get(f"/orders/{order.pk}").json()["lines"][0]["breakdown"] is None

    shipped = mine.post(f"/orders/{order.pk}/ship", {"carrier": "中通", "tracking_number": "ZT123456"})

    assert shipped.status_code == 200
    assert shipped.json()["status"] == "shipped"
    assert [step["by"] for step in shipped.json()["timeline"]][-1] == "seller"
    assert mine.get("/self-ship-orders").json()["count"] == 0
    assert mine.get("/self-ship-orders", status="all").json()["count"] == 1


def test_staff_see_every_order_masked_with_breakdowns(warehouse):
    member = buyer()
    order = delivered_order(member, listed_item(), warehouse)
    operator = UserFactory(roles=[roles.COMMUNITY_MANAGER])

    listed = caller(operator).get("/ops/orders", status="delivered", fulfilment="platform").json()
    seen = caller(operator).get(f"/orders/{order.pk}").json()

    assert [row["id"] for row in listed["items"]] == [order.pk]
    assert (seen["viewer"], seen["address"]["masked"], seen["address"]["recipient_name"]) == ("staff", True, "林**")
    assert seen["lines"][0]["breakdown"]["seller_net_fen"] == OrderLine.objects.get(order=order).seller_net_fen


# --- returns ------------------------------------------------------------------------------------------


def test_a_hygiene_item_cannot_be_returned(warehouse):
    member = buyer()
    hygiene = category("market-test-hygiene", returnable=False)
    order = delivered_order(member, listed_item(category_obj=hygiene), warehouse)
    line = order.lines.get()

    response = caller(member).post_form(
        f"/order-lines/{line.pk}/returns", {"reason": "size", "description": "尺码不合适，想退。"}
    )

    assert response.status_code == 409
    assert response.json() == {
        "code": "not_returnable",
        "detail": "Items of this category (hygiene goods) cannot be returned, as said on their page.",
    }
    assert not ReturnRequest.objects.exists()


@pytest.fixture
def requested_return(warehouse):
    member = buyer()
    order = delivered_order(member, listed_item(price_fen=12_000), warehouse)
    line = order.lines.get()
    response = caller(member).post_form(
        f"/order-lines/{line.pk}/returns",
        {"reason": "damaged", "description": "领口有一道裂口，快递盒也压坏了。", "photos": [png(), png("b.png")]},
    )
    assert response.status_code == 201, response.content
    return member, order, line, response.json()


def test_a_return_request_with_its_evidence_and_timeline(requested_return, customer_service):
    member, order, line, created = requested_return

    assert created["status"] == "requested"
    assert (created["reason"], created["line"]["id"], created["line"]["order_id"]) == ("damaged", line.pk, order.pk)
    assert created["deposit_charged_fen"] is None
    assert [step["to_state"] for step in created["timeline"]] == ["requested"]
    assert len(created["photos"]) == 2
    photo_url = created["photos"][0]["url"]
    assert photo_url.startswith(f"/api/v1/returns/{created['id']}/photos/")

    path = photo_url.removeprefix("/api/v1")
    own = caller(member).get(path)
    service = caller(customer_service).get(path)
    stranger = caller(buyer()).get(path)

    assert own.status_code == 200
    assert own["Cache-Control"] == "private, no-store"
    assert b"".join(own.streaming_content).startswith(b"\x89PNG")
    assert service.status_code == 200
    assert (stranger.status_code, stranger.json()["code"]) == (404, "return_not_found")
    assert caller(member).get("/returns").json()["count"] == 1
    queue = caller(customer_service).get("/ops/returns").json()
    assert [row["id"] for row in queue["items"]] == [created["id"]]
    assert queue["items"][0]["deposit_charged_fen"] == 0


@pytest.mark.parametrize("excess", ["seller_share", "paid"])
def test_a_partial_refund_larger_than_the_seller_share_or_the_payment_is_422(
    requested_return, customer_service, excess
):
    _member, order, line, created = requested_return
    refund = line.seller_net_fen + 1 if excess == "seller_share" else order.paid_fen + 1
    entries, steps = JournalEntry.objects.count(), ReturnTransition.objects.count()

    response = caller(customer_service).post(
        f"/returns/{created['id']}/decide", {"outcome": "partial", "decision": "部分退款", "refund_fen": refund}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "refund_invalid"
    assert ReturnRequest.objects.get(pk=created["id"]).status == ReturnRequest.Status.REQUESTED
    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == (Order.Status.DELIVERED, 0)
    assert (JournalEntry.objects.count(), ReturnTransition.objects.count()) == (entries, steps)


def test_a_rejected_return_and_the_buyer_reads_the_decision(requested_return, customer_service):
    member, _order, _line, created = requested_return

    decided = caller(customer_service).post(
        f"/returns/{created['id']}/decide", {"outcome": "rejected", "decision": "照片显示是正常穿着痕迹。"}
    )
    seen = caller(member).get(f"/returns/{created['id']}").json()

    assert decided.status_code == 200
    assert decided.json()["status"] == "rejected"
    assert (seen["status"], seen["decision"], seen["refund_fen"]) == ("rejected", "照片显示是正常穿着痕迹。", 0)
    assert [(step["to_state"], step["by"]) for step in seen["timeline"]] == [
        ("requested", "buyer"),
        ("rejected", "platform"),
    ]
    again = caller(customer_service).post(
        f"/returns/{created['id']}/decide", {"outcome": "rejected", "decision": "再次"}
    )
    assert (again.status_code, again.json()["code"]) == (409, "return_decided")


def test_the_buyer_withdraws_her_return(requested_return):
    member, _order, _line, created = requested_return

    response = caller(member).post(f"/returns/{created['id']}/withdraw")

    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"


# --- buyer shows --------------------------------------------------------------------------------------


def test_a_buyer_show_is_public_featured_and_hidden(warehouse, customer_service):
    member = buyer(display_name="林小雨")
    order = delivered_order(member, listed_item(title="真丝衬衫"), warehouse)
    line = order.lines.get()

    created = caller(member).post_form(
        f"/order-lines/{line.pk}/show", {"stars": "5", "text": "质感很好，和描述一致。", "photos": [png()]}
    )

    assert created.status_code == 201, created.content
    show = created.json()
    assert (show["stars"], show["text"], show["buyer_name"], show["item_title"]) == (
        5,
        "质感很好，和描述一致。",
        "林**",
        "真丝衬衫",
    )
    assert len(show["photos"]) == 1 and show["photos"][0]["thumbnail_url"]
    public = caller().get(f"/items/{line.item_id}/shows")
    assert public.status_code == 200
    assert [row["id"] for row in public.json()] == [show["id"]]
    assert caller().get("/shows/featured").json() == []

    manager = caller(UserFactory(roles=[roles.COMMUNITY_MANAGER]))
    featured = manager.post(f"/shows/{show['id']}/feature", {"featured": True})

    assert featured.status_code == 200
    assert featured.json()["featured_at"] is not None
    assert [row["id"] for row in caller().get("/shows/featured").json()] == [show["id"]]

    hidden = caller(customer_service).post(f"/shows/{show['id']}/hide", {"reason": "含有联系方式"})

    assert hidden.status_code == 200
    assert (hidden.json()["hidden"], hidden.json()["featured_at"]) == (True, None)
    assert caller().get(f"/items/{line.item_id}/shows").json() == []
    assert caller().get("/shows/featured").json() == []
    assert BuyerShow.objects.get(pk=show["id"]).hidden_reason == "含有联系方式"


def test_a_show_before_delivery_is_409():
    member = buyer()
    claim = services.claim_create(item_id=listed_item().pk, member=member)
    order = services.order_create(buyer=member, claim_ids=[claim.pk])

    response = caller(member).post_form(f"/order-lines/{order.lines.get().pk}/show", {"stars": "4"})

    assert (response.status_code, response.json()["code"]) == (409, "not_delivered")
    assert not BuyerShow.objects.exists()
