"""Who may do what in the market API: 401 without a login, 403 on a staff route without its permission,
404 for another member's claim, order or return; in every case nothing changes.
"""

import pytest

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item
from erhuo.ledger.models import JournalEntry
from erhuo.market import services
from erhuo.market.models import (
    BuyerShow,
    Claim,
    ClaimTransition,
    Order,
    OrderTransition,
    ReturnRequest,
    ReturnTransition,
)
from erhuo.market.tests.factories import buyer, listed_item
from erhuo.market.tests.test_api import _english_and_sandbox, caller  # noqa: F401 (an autouse fixture)
from erhuo.market.tests.test_api_orders import delivered_order, png
from erhuo.payments import services as payment_services
from erhuo.payments.models import Payment

pytestmark = pytest.mark.django_db


def paid_order(member, item) -> Order:
    claim = services.claim_create(item_id=item.pk, member=member)
    order = services.order_create(buyer=member, claim_ids=[claim.pk])
    payment = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox")
    payment_services.sandbox_pay(payment_id=payment.pk, payer=member)
    services.order_payment_allocate(payment_id=payment.pk)
    return Order.objects.get(pk=order.pk)


@pytest.fixture
def warehouse(db):
    return UserFactory(roles=[roles.INTAKE_CLERK])


@pytest.fixture
def world(warehouse):
    """One order in each state a staff route acts on, a return waiting, a buyer show, and a queued claim."""
    member = buyer()
    paid = paid_order(member, listed_item(title="待打包"))
    packed = paid_order(member, listed_item(title="待发货"))
    services.order_pack(order_id=packed.pk, actor=warehouse)
    shipped = paid_order(member, listed_item(title="运输中"))
    services.order_ship(order_id=shipped.pk, actor=warehouse, carrier="顺丰", tracking_number="SF200")
    delivered = delivered_order(member, listed_item(title="已送达"), warehouse)
    line = delivered.lines.get()
    returned = services.return_request_create(
        line_id=line.pk, buyer=member, reason="damaged", description="外包装破损，衣服有污渍。", photos=[png()]
    )
    shown = services.buyer_show_create(line_id=line.pk, buyer=member, stars=5, text="")
    return {
        "member": member,
        "paid": paid,
        "packed": packed,
        "shipped": shipped,
        "delivered": delivered,
        "line": line,
        "return": returned,
        "show": shown,
    }


def everything() -> dict:
    return {
        "orders": list(Order.objects.order_by("pk").values_list("pk", "status", "carrier", "refunded_fen")),
        "order_steps": OrderTransition.objects.count(),
        "items": list(Item.objects.order_by("pk").values_list("pk", "status")),
        "claims": list(Claim.objects.order_by("pk").values_list("pk", "status")),
        "claim_steps": ClaimTransition.objects.count(),
        "returns": list(ReturnRequest.objects.order_by("pk").values_list("pk", "status", "refund_fen")),
        "return_steps": ReturnTransition.objects.count(),
        "shows": list(BuyerShow.objects.order_by("pk").values_list("pk", "hidden", "featured_at")),
        "payments": list(Payment.objects.order_by("pk").values_list("pk", "status")),
        "entries": JournalEntry.objects.count(),
    }


# --- 401 ------------------------------------------------------------------------------------------

PRIVATE_ROUTES = [
    ("post", "/items/1/claims"),
    ("get", "/items/1/queue"),
    ("get", "/claims"),
    ("get", "/claims/1"),
    ("post", "/claims/1/withdraw"),
    ("post", "/orders"),
    ("get", "/orders"),
    ("get", "/orders/1"),
    ("post", "/orders/1/payments"),
    ("post", "/orders/1/cancel"),
    ("post", "/orders/1/confirm"),
    ("post", "/orders/1/pack"),
    ("post", "/orders/1/ship"),
    ("post", "/orders/1/deliver"),
    ("get", "/ops/orders"),
    ("get", "/sales"),
    ("get", "/sales/summary"),
    ("get", "/self-ship-orders"),
    ("post", "/order-lines/1/returns"),
    ("get", "/returns"),
    ("get", "/returns/1"),
    ("get", "/returns/1/photos/1"),
    ("post", "/returns/1/withdraw"),
    ("get", "/ops/returns"),
    ("post", "/returns/1/decide"),
    ("post", "/order-lines/1/show"),
    ("post", "/shows/1/feature"),
    ("post", "/shows/1/hide"),
]


@pytest.mark.parametrize(("method", "path"), PRIVATE_ROUTES)
def test_every_private_route_is_401_without_a_login(method, path):
    item = listed_item()
    before = everything()

    response = getattr(caller(), method)(path.replace("/1/", f"/{item.pk}/"))

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert everything() == before


# --- 403 on staff routes --------------------------------------------------------------------------

# (route, who may not, body): a member, and operators whose role lacks the permission.
STAFF_ROUTES = [
    ("post", "/orders/{paid}/pack", {}, [roles.MEMBER, roles.COMMUNITY_MANAGER, roles.CUSTOMER_SERVICE]),
    (
        "post",
        "/orders/{packed}/ship",
        {"carrier": "顺丰", "tracking_number": "SF300"},
        [roles.MEMBER, roles.COMMUNITY_MANAGER, roles.FINANCE],
    ),
    ("post", "/orders/{shipped}/deliver", {}, [roles.MEMBER, roles.CUSTOMER_SERVICE, roles.COMMUNITY_MANAGER]),
    ("get", "/ops/orders", None, [roles.MEMBER, roles.PHOTOGRAPHER, roles.AUTHENTICATOR]),
    ("get", "/ops/returns", None, [roles.MEMBER, roles.COMMUNITY_MANAGER, roles.INTAKE_CLERK]),
    (
        "post",
        "/returns/{return}/decide",
        {"outcome": "rejected", "decision": "不予退货"},
        [roles.MEMBER, roles.INTAKE_CLERK, roles.COMMUNITY_MANAGER, roles.FINANCE],
    ),
    ("post", "/shows/{show}/feature", {"featured": True}, [roles.MEMBER, roles.INTAKE_CLERK, roles.FINANCE]),
    ("post", "/shows/{show}/hide", {"reason": "广告"}, [roles.MEMBER, roles.INTAKE_CLERK, roles.FINANCE]),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "role"),
    [(method, path, body, role) for method, path, body, refused in STAFF_ROUTES for role in refused],
)
def test_staff_routes_refuse_members_and_other_roles_and_change_nothing(world, method, path, body, role):
    path = path.format(
        paid=world["paid"].pk,
        packed=world["packed"].pk,
        shipped=world["shipped"].pk,
        **{"return": world["return"].pk, "show": world["show"].pk},
    )
    before = everything()

    who = caller(UserFactory(roles=[role]))
    response = who.get(path) if method == "get" else who.post(path, body)

    assert response.status_code == 403, response.content
    assert set(response.json()) >= {"code", "detail"}
    assert everything() == before


def test_the_buyer_cannot_pack_or_ship_her_own_order(world):
    me = caller(world["member"])
    before = everything()

    packed = me.post(f"/orders/{world['paid'].pk}/pack")
    shipped = me.post(f"/orders/{world['packed'].pk}/ship", {"carrier": "顺丰", "tracking_number": "SF1"})

    assert (packed.status_code, shipped.status_code) == (403, 403)
    assert everything() == before


def test_a_self_ship_seller_cannot_ship_a_platform_order(world):
    seller = UserFactory(roles=[roles.SELLER])
    own = listed_item(seller=seller, fulfilment=Item.Fulfilment.SELF_SHIP)
    paid_order(buyer(), own)
    before = everything()

    response = caller(seller).post(f"/orders/{world['packed'].pk}/ship", {"carrier": "顺丰", "tracking_number": "SF9"})

    assert response.status_code == 403
    assert everything() == before


# --- 404 for what is someone else's -------------------------------------------------------------


def test_another_members_order_return_and_lines_are_404(world):
    stranger = caller(buyer())
    order, line, returned = world["delivered"], world["line"], world["return"]
    photo = returned.photos.get()
    before = everything()

    answers = {
        "order": stranger.get(f"/orders/{order.pk}"),
        "pay": stranger.post(f"/orders/{world['paid'].pk}/payments", {"provider": "sandbox"}),
        "cancel": stranger.post(f"/orders/{world['paid'].pk}/cancel", {"reason": "不要了"}),
        "confirm": stranger.post(f"/orders/{order.pk}/confirm"),
        "return": stranger.get(f"/returns/{returned.pk}"),
        "return_photo": stranger.get(f"/returns/{returned.pk}/photos/{photo.pk}"),
        "return_withdraw": stranger.post(f"/returns/{returned.pk}/withdraw"),
        "new_return": stranger.post_form(
            f"/order-lines/{line.pk}/returns", {"reason": "size", "description": "尺码不合适，想退。"}
        ),
        "new_show": stranger.post_form(f"/order-lines/{line.pk}/show", {"stars": "1"}),
    }

    assert {name: (r.status_code, r.json()["code"]) for name, r in answers.items()} == {
        "order": (404, "order_not_found"),
        "pay": (404, "order_not_found"),
        "cancel": (404, "order_not_found"),
        "confirm": (404, "order_not_found"),
        "return": (404, "return_not_found"),
        "return_photo": (404, "return_not_found"),
        "return_withdraw": (404, "return_not_found"),
        "new_return": (404, "line_not_found"),
        "new_show": (404, "line_not_found"),
    }
    assert everything() == before
    assert stranger.get("/orders").json()["count"] == 0
    assert stranger.get("/returns").json()["count"] == 0


def test_the_seller_of_a_platform_order_does_not_see_the_order_itself(world):
    seller = world["delivered"].lines.get().seller

    response = caller(seller).get(f"/orders/{world['delivered'].pk}")

    assert (response.status_code, response.json()["code"]) == (404, "order_not_found")
    assert caller(seller).get("/sales").json()["count"] == 1


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"claims": []},
        {"claims": [2**63]},
        {"claims": ["one"]},
        {"claims": list(range(1, 22))},
        {"claims": [1], "note": "长" * 201},
    ],
)
def test_an_invalid_order_body_is_422_and_writes_nothing(body):
    before = everything()

    response = caller(buyer()).post("/orders", body)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert everything() == before


def test_an_order_of_someone_elses_claim_is_404():
    item = listed_item()
    claim = services.claim_create(item_id=item.pk, member=buyer())
    before = everything()

    response = caller(buyer()).post("/orders", {"claims": [claim.pk]})

    assert (response.status_code, response.json()["code"]) == (404, "claim_not_found")
    assert everything() == before


def test_a_huge_item_number_is_422_not_a_server_error():
    response = caller(buyer()).post(f"/items/{2**64}/claims")

    assert response.status_code == 422
    assert not Claim.objects.exists()
