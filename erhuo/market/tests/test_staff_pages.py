"""Staff pages of the market: every order, the warehouse's steps, cancellations, returns, buyer shows.

Each page and each POST checks its own permission: a member, a seller and an
operator of another station are refused (403) and nothing changes; the
buyer's address is masked except for the warehouse on an order it must ship,
and that look is logged.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from PIL import Image

from erhuo.accounts import roles
from erhuo.accounts.models import PersonalDataAccess
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item
from erhuo.ledger.models import JournalEntry
from erhuo.market import services
from erhuo.market.models import BuyerShow, Order, OrderTransition, ReturnRequest
from erhuo.market.tests.test_seller_pages import (
    SELF_SHIP,
    as_user,
    delivered,
    ordered,
    paid_order,
    shipped,
    squeeze,
    text_of,
    with_fees,
)

pytestmark = pytest.mark.django_db

S = Order.Status
R = ReturnRequest.Status


@pytest.fixture(autouse=True)
def _english(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    with translation.override("en"):
        yield


@pytest.fixture
def warehouse(db):
    return UserFactory(roles=[roles.INTAKE_CLERK], display_name="仓库小张")


@pytest.fixture
def customer_service(db):
    return UserFactory(roles=[roles.CUSTOMER_SERVICE], display_name="客服小李")


@pytest.fixture
def finance(db):
    return UserFactory(roles=[roles.FINANCE])


@pytest.fixture
def photographer(db):
    """An operator of another station: into the console, but none of the market's permissions."""
    return UserFactory(roles=[roles.PHOTOGRAPHER])


@pytest.fixture
def seller(db):
    return UserFactory(roles=[roles.MEMBER, roles.SELLER], display_name="Lin")


def png(name="evidence.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 60, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def returned(order: Order, *, reason=ReturnRequest.Reason.SIZE, photos=()) -> ReturnRequest:
    return services.return_request_create(
        line_id=order.lines.get().pk,
        buyer=order.buyer,
        reason=reason,
        description="The sleeves are shorter than the photos show.",
        photos=photos,
    )


def world() -> dict:
    """Everything a refused request must leave as it was."""
    return {
        "orders": list(
            Order.objects.order_by("pk").values_list(
                "pk", "status", "paid_fen", "refunded_fen", "carrier", "tracking_number"
            )
        ),
        "order_steps": OrderTransition.objects.count(),
        "items": list(Item.objects.order_by("pk").values_list("pk", "status")),
        "returns": list(ReturnRequest.objects.order_by("pk").values_list("pk", "status", "refund_fen", "decision")),
        "shows": list(BuyerShow.objects.order_by("pk").values_list("pk", "featured_at", "hidden", "hidden_reason")),
        "entries": JournalEntry.objects.count(),
    }


# --- every order --------------------------------------------------------------------------------


def test_orders_page_counts_each_status_and_lists_each_orders_lines(finance, warehouse, seller):
    first = paid_order(seller=seller, title="第一件")
    second = paid_order(seller=seller, title="第二件", price_fen=8_000)
    waiting = ordered(seller=seller, title="等付款")
    sent = shipped(paid_order(seller=seller, title="已发货"), warehouse)
    own = paid_order(seller=seller, title="自己寄", fulfilment=SELF_SHIP)

    response = as_user(finance).get(reverse("market:ops_orders"))

    assert response.status_code == 200
    html = response.content.decode()
    counts = {status: 0 for status in S.values} | {S.PAID: 3, S.PENDING_PAYMENT: 1, S.SHIPPED: 1}
    assert {value: count for value, _label, count in response.context["status_tabs"]} == counts
    assert text_of(html, "count-all") == "5"
    assert 'data-testid="count-paid" data-count="3">Paid 3<' in html
    assert [row["order"].pk for row in response.context["rows"]] == [own.pk, sent.pk, waiting.pk, second.pk, first.pk]
    text = squeeze(html)
    assert f"{second.number} Paid" in text
    assert "第二件 Lin ¥80.00" in text
    # Finance reads; it neither packs nor cancels.
    assert 'data-testid="pack"' not in html and 'data-testid="cancel"' not in html

    paid_only = as_user(finance).get(reverse("market:ops_orders"), {"status": S.PAID})
    assert [row["order"].pk for row in paid_only.context["rows"]] == [first.pk, second.pk, own.pk]  # oldest first
    self_ship = as_user(finance).get(reverse("market:ops_orders"), {"status": S.PAID, "fulfilment": SELF_SHIP})
    assert [row["order"].pk for row in self_ship.context["rows"]] == [own.pk]


def test_the_warehouse_sees_its_actions_on_platform_orders_only(warehouse, seller):
    platform = paid_order(seller=seller)
    own = paid_order(seller=seller, fulfilment=SELF_SHIP)

    response = as_user(warehouse).get(reverse("market:ops_orders"))

    actions = {row["order"].pk: row["actions"] for row in response.context["rows"]}
    assert actions[platform.pk] == {"pack": True, "ship": True, "deliver": False, "cancel": False}
    assert actions[own.pk] == {"pack": False, "ship": False, "deliver": False, "cancel": False}


def test_the_warehouse_packs_ships_and_marks_delivered(warehouse, seller):
    order = paid_order(seller=seller)
    client = as_user(warehouse)
    back = reverse("market:ops_orders") + "?status=paid"

    response = client.post(reverse("market:ops_order_pack", args=[order.pk]), {"next": back})
    assert response.status_code == 302 and response.url == back
    order.refresh_from_db()
    assert order.status == S.PACKED

    client.post(
        reverse("market:ops_order_ship", args=[order.pk]),
        {f"s{order.pk}-carrier": "顺丰速运", f"s{order.pk}-tracking_number": "SF1234567890"},
    )
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (S.SHIPPED, "顺丰速运", "SF1234567890")

    response = client.post(reverse("market:ops_order_deliver", args=[order.pk]))
    assert response.url == reverse("market:ops_order", args=[order.pk])
    order.refresh_from_db()
    assert order.status == S.DELIVERED
    assert order.lines.get().item.status == Item.Status.DELIVERED
    steps = list(OrderTransition.objects.filter(subject=order).values_list("to_state", "actor_id"))
    assert steps[-3:] == [(S.PACKED, warehouse.pk), (S.SHIPPED, warehouse.pk), (S.DELIVERED, warehouse.pk)]


def test_a_refused_warehouse_step_becomes_a_message_and_changes_nothing(warehouse, seller):
    own = paid_order(seller=seller, fulfilment=SELF_SHIP)
    order = paid_order(seller=seller)
    before = world()
    client = as_user(warehouse)

    packed = client.post(reverse("market:ops_order_pack", args=[own.pk]), follow=True)
    no_tracking = client.post(
        reverse("market:ops_order_ship", args=[order.pk]), {f"s{order.pk}-carrier": "顺丰速运"}, follow=True
    )
    too_early = client.post(reverse("market:ops_order_deliver", args=[order.pk]), follow=True)

    assert [str(m) for m in packed.context["messages"]] == ["The seller packs her own parcel."]
    assert [str(m) for m in no_tracking.context["messages"]] == ["Tracking number: This field is required."]
    assert [str(m) for m in too_early.context["messages"]] == ["This order is already Paid."]
    assert world() == before


def test_customer_service_cancels_a_paid_order_and_it_is_refunded_in_full(customer_service, seller):
    order = paid_order(seller=seller, price_fen=12_000)

    response = as_user(customer_service).post(
        reverse("market:ops_order_cancel", args=[order.pk]), {f"c{order.pk}-reason": "仓库发现商品破损"}
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == S.REFUNDED
    assert order.paid_fen == 13_000  # ¥120 and ¥10 shipping
    assert order.refunded_fen == 13_000
    assert order.closed_reason == "仓库发现商品破损"
    assert order.lines.get().item.status == Item.Status.LISTED


def test_customer_service_cancels_an_unpaid_order_but_not_without_a_reason(customer_service, seller):
    order = ordered(seller=seller)
    before = world()

    refused = as_user(customer_service).post(
        reverse("market:ops_order_cancel", args=[order.pk]), {f"c{order.pk}-reason": "  "}, follow=True
    )
    assert world() == before
    assert [str(m) for m in refused.context["messages"]] == [
        "Why the order is cancelled (the buyer reads this): This field is required."
    ]

    as_user(customer_service).post(
        reverse("market:ops_order_cancel", args=[order.pk]), {f"c{order.pk}-reason": "重复下单"}
    )
    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == (S.CANCELLED, 0)


def test_orders_page_reads_a_constant_number_of_queries(warehouse, seller, django_assert_max_num_queries):
    client = as_user(warehouse)
    for _ in range(2):
        paid_order(seller=seller)
    # (1 of them is the header's unread notices)
    with django_assert_max_num_queries(9) as few:
        assert client.get(reverse("market:ops_orders")).status_code == 200
    for _ in range(5):
        paid_order(seller=seller)
    ordered(seller=seller)
    with django_assert_max_num_queries(len(few)) as many:
        assert client.get(reverse("market:ops_orders")).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


# --- one order ----------------------------------------------------------------------------------


def test_one_order_shows_lines_with_breakdowns_payments_refunds_and_the_timeline(customer_service, warehouse, seller):
    with with_fees():
        order = paid_order(seller=seller, price_fen=12_000)
    services.order_cancel(order_id=order.pk, actor=customer_service, reason="缺货")

    response = as_user(customer_service).get(reverse("market:ops_order", args=[order.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    text = squeeze(html)
    assert "Commission (20%) −¥24.00" in text
    assert "Authentication −¥30.00" in text
    assert "To the seller ¥56.00" in text
    assert text_of(html, "order-total") == "¥130.00"
    assert text_of(html, "order-paid") == "¥130.00"
    assert text_of(html, "order-refunded") == "¥130.00"
    payment = response.context["payments"][0]
    assert payment.pk == order.payment_id
    assert f"EH-PAY-{payment.pk}" in html
    assert html.count('data-testid="refund"') == 1
    steps = [step.to_state for step in response.context["steps"]]
    assert steps == [S.PENDING_PAYMENT, S.PAID, S.REFUNDED]
    assert "客服小李 — 缺货" in text


def test_the_address_is_masked_except_for_the_warehouse_on_an_order_to_ship_and_that_look_is_logged(
    warehouse, customer_service, finance, seller
):
    order = paid_order(seller=seller)
    url = reverse("market:ops_order", args=[order.pk])

    for viewer in (customer_service, finance):
        html = as_user(viewer).get(url).content.decode()
        assert order.address_detail not in html and order.recipient_phone not in html
        assert order.recipient_name not in html
    assert PersonalDataAccess.objects.count() == 0

    html = as_user(warehouse).get(url).content.decode()
    assert order.address_detail in html and order.recipient_phone in html and order.recipient_name in html
    look = PersonalDataAccess.objects.get()
    assert (look.actor_id, look.subject_id, look.fields, look.path) == (warehouse.pk, order.buyer_id, ["address"], url)
    assert look.note == f"Warehouse ships order {order.number}"

    shipped(order, warehouse)
    html = as_user(warehouse).get(url).content.decode()
    assert order.address_detail not in html and order.recipient_phone not in html
    assert PersonalDataAccess.objects.count() == 1


def test_the_warehouse_does_not_see_the_address_of_an_order_the_seller_ships(warehouse, seller):
    order = paid_order(seller=seller, fulfilment=SELF_SHIP)

    html = as_user(warehouse).get(reverse("market:ops_order", args=[order.pk])).content.decode()

    assert order.address_detail not in html
    assert PersonalDataAccess.objects.count() == 0


def test_an_unknown_order_is_not_found(finance):
    assert as_user(finance).get(reverse("market:ops_order", args=[999])).status_code == 404


# --- returns ------------------------------------------------------------------------------------


@pytest.fixture
def open_return(warehouse, seller):
    with with_fees():
        order = delivered(paid_order(seller=seller, price_fen=12_000, title="真丝衬衫"), warehouse)
    return returned(order, reason=ReturnRequest.Reason.NOT_AS_DESCRIBED, photos=[png()])


def test_the_returns_page_lists_open_returns_oldest_first_with_price_share_and_photos(
    customer_service, warehouse, seller, open_return
):
    later = returned(delivered(paid_order(seller=seller, price_fen=8_000, title="羊绒围巾"), warehouse))

    response = as_user(customer_service).get(reverse("market:ops_returns"))

    assert response.status_code == 200
    assert [row["request"].pk for row in response.context["rows"]] == [open_return.pk, later.pk]
    html = response.content.decode()
    assert text_of(html, "open-count") == "2"
    assert text_of(html, "price") == "¥120.00"
    assert text_of(html, "seller-share") == "¥56.00"
    assert text_of(html, "reason") == "Not as described"
    photo = open_return.photos.get()
    assert reverse("market:return_photo", args=[open_return.pk, photo.pk]) in html
    assert "The sleeves are shorter than the photos show." in html
    # The deposit charge is offered only where the reason is the seller's fault.
    forms = {row["request"].pk: row["form"] for row in response.context["rows"]}
    assert "deposit_charge" in forms[open_return.pk].fields
    assert "deposit_charge" not in forms[later.pk].fields


def test_the_evidence_photo_link_serves_customer_service_and_nobody_else(
    customer_service, warehouse, finance, photographer, member, open_return
):
    # The member pages' view serves the photos (to the buyer and to `market.decide_return`): reused, not copied.
    photo = open_return.photos.get()
    url = reverse("market:return_photo", args=[open_return.pk, photo.pk])

    response = as_user(customer_service).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")

    for viewer in (warehouse, finance, photographer, member, open_return.line.seller):
        assert as_user(viewer).get(url).status_code == 404
    assert Client().get(url).status_code == 302


def decide(client, request_row, **fields):
    data = {f"r{request_row.pk}-{key}": value for key, value in fields.items()}
    return client.post(reverse("market:ops_return_decide", args=[request_row.pk]), data)


def test_a_full_refund_gives_back_the_price(customer_service, open_return):
    response = decide(as_user(customer_service), open_return, outcome="refunded", decision="袖长与描述不符")

    assert response.status_code == 302
    open_return.refresh_from_db()
    assert (open_return.status, open_return.refund_fen, open_return.deposit_charged_fen) == (R.REFUNDED, 12_000, 0)
    assert open_return.decided_by == customer_service
    order = open_return.line.order
    order.refresh_from_db()
    # The only item came back: the shipping is refunded too and the order ends.
    assert (order.status, order.refunded_fen) == (S.REFUNDED, 13_000)


def test_a_partial_refund_in_yuan_comes_out_of_the_sellers_share(customer_service, open_return):
    decide(as_user(customer_service), open_return, outcome="partial", refund="30.50", decision="轻微色差，部分退款")

    open_return.refresh_from_db()
    assert (open_return.status, open_return.refund_fen) == (R.PARTIAL, 3_050)
    line = open_return.line
    line.refresh_from_db()
    assert line.refunded_fen == 3_050


def test_a_rejection_refunds_nothing(customer_service, open_return):
    decide(as_user(customer_service), open_return, outcome="rejected", decision="照片显示与描述一致")

    open_return.refresh_from_db()
    assert (open_return.status, open_return.refund_fen) == (R.REJECTED, 0)
    decided = as_user(customer_service).get(reverse("market:ops_returns"), {"tab": "decided"})
    assert [row.pk for row in decided.context["decided"]] == [open_return.pk]
    assert text_of(decided.content.decode(), "decided-status") == "Rejected"


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"outcome": "partial", "refund": "56.01", "decision": "太多"}, 422, "At most ¥56.00."),
        ({"outcome": "partial", "refund": "", "decision": "没填金额"}, 422, "Enter an amount in yuan."),
        ({"outcome": "partial", "refund": "1.234", "decision": "三位小数"}, 422, "An amount has at most two decimals"),
        ({"outcome": "rejected", "decision": "", "refund": ""}, 422, "This field is required."),
        (
            {"outcome": "partial", "refund": "10", "decision": "部分", "deposit_charge": "50"},
            422,
            "Leave at ¥0 for this decision.",
        ),
    ],
)
def test_a_bad_decision_is_refused_with_the_reason_and_nothing_changes(
    customer_service, open_return, fields, status, message
):
    before = world()

    response = decide(as_user(customer_service), open_return, **fields)

    assert response.status_code == status
    assert message in response.content.decode()
    assert world() == before


def test_a_counterfeit_refund_is_charged_to_the_sellers_deposit(customer_service, warehouse):
    from erhuo.consignment.tests.factories import make_seller
    from erhuo.ledger.selectors import deposit_balance_fen

    consigner = make_seller()
    deposit = deposit_balance_fen(consigner)
    order = delivered(paid_order(seller=consigner, price_fen=50_000), warehouse)
    request_row = returned(order, reason=ReturnRequest.Reason.COUNTERFEIT)

    decide(as_user(customer_service), request_row, outcome="refunded", decision="鉴定为仿品", deposit_charge="200")

    request_row.refresh_from_db()
    assert (request_row.status, request_row.refund_fen, request_row.deposit_charged_fen) == (R.REFUNDED, 50_000, 20_000)
    assert deposit_balance_fen(consigner) == deposit - 20_000


# --- buyer shows --------------------------------------------------------------------------------


@pytest.fixture
def show(warehouse, seller):
    order = delivered(paid_order(seller=seller, title="真丝衬衫"), warehouse)
    return services.buyer_show_create(line_id=order.lines.get().pk, buyer=order.buyer, stars=4, text="很好看，面料舒服")


def test_the_shows_page_lists_recent_shows_and_features_and_unfeatures(customer_service, show):
    client = as_user(customer_service)

    page = client.get(reverse("market:ops_shows"))
    assert page.status_code == 200
    assert [row["show"].pk for row in page.context["rows"]] == [show.pk]
    assert "很好看，面料舒服" in page.content.decode()

    client.post(reverse("market:ops_show_feature", args=[show.pk]), {"featured": "1"})
    show.refresh_from_db()
    assert show.featured_at is not None and show.featured_by == customer_service
    featured = client.get(reverse("market:ops_shows"), {"filter": "featured"})
    assert [row["show"].pk for row in featured.context["rows"]] == [show.pk]

    client.post(reverse("market:ops_show_feature", args=[show.pk]), {"featured": "0"})
    show.refresh_from_db()
    assert show.featured_at is None


def test_a_show_is_hidden_with_a_reason_only(customer_service, show):
    client = as_user(customer_service)
    before = world()

    refused = client.post(reverse("market:ops_show_hide", args=[show.pk]), {f"h{show.pk}-reason": ""}, follow=True)
    assert world() == before
    assert [str(m) for m in refused.context["messages"]] == ["Why it is hidden: This field is required."]

    client.post(reverse("market:ops_show_hide", args=[show.pk]), {f"h{show.pk}-reason": "照片里有他人正脸"})
    show.refresh_from_db()
    assert (show.hidden, show.hidden_reason) == (True, "照片里有他人正脸")
    hidden = client.get(reverse("market:ops_shows"), {"filter": "hidden"}).content.decode()
    assert "Hidden: 照片里有他人正脸" in squeeze(hidden)


# --- who may do what ----------------------------------------------------------------------------


@pytest.fixture
def scene(warehouse, seller, customer_service):
    """One of everything: an order to pack, an unpaid order, an open return with a photo, a buyer show."""
    to_pack = paid_order(seller=seller)
    unpaid = ordered(seller=seller)
    order = delivered(paid_order(seller=seller, price_fen=8_000), warehouse)
    request_row = returned(order, reason=ReturnRequest.Reason.WRONG_ITEM, photos=[png()])
    shown = delivered(paid_order(seller=seller), warehouse)
    show = services.buyer_show_create(line_id=shown.lines.get().pk, buyer=shown.buyer, stars=5, text="好")
    return {"to_pack": to_pack, "unpaid": unpaid, "return": request_row, "show": show, "shipped": order}


def _pages(scene) -> dict:
    return {
        "orders": reverse("market:ops_orders"),
        "order": reverse("market:ops_order", args=[scene["to_pack"].pk]),
        "returns": reverse("market:ops_returns"),
        "shows": reverse("market:ops_shows"),
    }


def _posts(scene) -> dict:
    order, unpaid, request_row, show = scene["to_pack"], scene["unpaid"], scene["return"], scene["show"]
    return {
        "pack": (reverse("market:ops_order_pack", args=[order.pk]), {}),
        "ship": (
            reverse("market:ops_order_ship", args=[order.pk]),
            {f"s{order.pk}-carrier": "顺丰速运", f"s{order.pk}-tracking_number": "SF1"},
        ),
        "deliver": (reverse("market:ops_order_deliver", args=[scene["shipped"].pk]), {}),
        "cancel": (reverse("market:ops_order_cancel", args=[unpaid.pk]), {f"c{unpaid.pk}-reason": "x"}),
        "cancel_paid": (reverse("market:ops_order_cancel", args=[order.pk]), {f"c{order.pk}-reason": "x"}),
        "decide": (
            reverse("market:ops_return_decide", args=[request_row.pk]),
            {f"r{request_row.pk}-outcome": "refunded", f"r{request_row.pk}-decision": "ok"},
        ),
        "feature": (reverse("market:ops_show_feature", args=[show.pk]), {"featured": "1"}),
        "hide": (reverse("market:ops_show_hide", args=[show.pk]), {f"h{show.pk}-reason": "x"}),
    }


# Who may read which page, and do which step; everyone else is refused.
PAGE_PERMISSION = {
    "orders": "market.view_all_orders",
    "order": "market.view_all_orders",
    "returns": "market.decide_return",
    "shows": "market.moderate_buyer_show",
}
POST_PERMISSION = {
    "pack": "market.fulfil_order",
    "ship": "market.fulfil_order",
    "deliver": "market.fulfil_order",
    "cancel": "market.manage_order",
    "cancel_paid": "market.manage_order",
    "decide": "market.decide_return",
    "feature": "market.moderate_buyer_show",
    "hide": "market.moderate_buyer_show",
}


@pytest.fixture
def refused_people(member, seller, photographer, warehouse, finance, customer_service, community_manager, scene):
    return {
        "member": member,
        "seller": seller,
        "buyer": scene["to_pack"].buyer,
        "photographer": photographer,
        "warehouse": warehouse,
        "finance": finance,
        "customer_service": customer_service,
        "community_manager": community_manager,
    }


def test_every_staff_page_refuses_whoever_lacks_its_permission(scene, refused_people):
    before = world()
    for name, url in _pages(scene).items():
        assert Client().get(url).status_code == 302, name
        for who, user in refused_people.items():
            if user.has_perm(PAGE_PERMISSION[name]):
                continue
            assert as_user(user).get(url).status_code == 403, (name, who)
    assert world() == before
    assert PersonalDataAccess.objects.count() == 0


def test_every_staff_post_refuses_whoever_lacks_its_permission_and_changes_nothing(scene, refused_people):
    before = world()
    refused = 0
    for name, (url, data) in _posts(scene).items():
        assert Client().post(url, data).status_code == 302, name
        for who, user in refused_people.items():
            if user.has_perm(POST_PERMISSION[name]):
                continue
            assert as_user(user).post(url, data).status_code == 403, (name, who)
            refused += 1
        assert world() == before, name
    # Six steps refuse seven of the eight people; the two moderation steps refuse six.
    assert refused == 7 * 6 + 6 * 2


def test_the_right_people_get_each_page(scene, refused_people):
    for name, url in _pages(scene).items():
        for who, user in refused_people.items():
            if user.has_perm(PAGE_PERMISSION[name]):
                assert as_user(user).get(url).status_code == 200, (name, who)


def test_the_console_links_to_the_pages_each_operator_may_use(warehouse, customer_service, finance, photographer):
    def links(user):
        html = as_user(user).get(reverse("web:operator_console")).content.decode()
        names = ("orders", "returns", "shows", "payouts", "reconciliation")
        return {name for name in names if f'data-testid="{name}-link"' in html}

    assert links(warehouse) == {"orders"}
    assert links(customer_service) == {"orders", "returns", "shows"}
    assert links(finance) == {"orders", "payouts", "reconciliation"}
    assert links(photographer) == set()
    html = as_user(customer_service).get(reverse("web:operator_console")).content.decode()
    assert f'href="{reverse("market:ops_returns")}"' in html
