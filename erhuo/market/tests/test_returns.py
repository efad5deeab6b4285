"""Returns and disputes through the services: the window per category, the three decisions, the seller's
deposit charged for a counterfeit, and who may decide — every refusal leaving everything as it was.
"""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import AddressFactory, UserFactory
from erhuo.catalog.models import Item
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.ledger.models import JournalEntry
from erhuo.ledger.selectors import balance_by_code, deposit_balance_fen
from erhuo.market import selectors, services
from erhuo.market.accounts import COMMISSION_INCOME, ESCROW, SHIPPING_INCOME, seller_payable_code
from erhuo.market.models import Order, ReturnPhoto, ReturnRequest
from erhuo.market.tests.factories import buyer, category, listed_item
from erhuo.market.tests.test_orders import (
    SHIPPING,
    books_are_right,
    deliver,
    delivered_order,
    money_snapshot,
    paid_order,
    refunds_of,
)
from erhuo.trust.models import DepositDeduction, SellerRecord
from erhuo.trust.tests.factories import id_photo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _market_settings(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    settings.ERHUO_CLAIM_PAYMENT_MINUTES = 30
    settings.ERHUO_SHIPPING_FEE_FEN = SHIPPING
    settings.ERHUO_FREE_SHIPPING_FROM_FEN = 29_900
    settings.ERHUO_AUTO_CONFIRM_DAYS = 7
    with translation.override("en"):
        yield


@pytest.fixture
def warehouse(db):
    return UserFactory(roles=[roles.INTAKE_CLERK])


@pytest.fixture
def customer_service(db):
    return UserFactory(roles=[roles.CUSTOMER_SERVICE])


def ask(order: Order, *, reason: str = "size", line=None, now=None, photos=()) -> ReturnRequest:
    line = line or order.lines.order_by("pk").first()
    return services.return_request_create(
        line_id=line.pk, buyer=order.buyer, reason=reason, description="和描述的不一样，想退货", photos=photos, now=now
    )


def return_snapshot() -> dict:
    return {
        **money_snapshot(),
        "return_steps": list(ReturnRequest.objects.order_by("pk").values_list("pk", "status", "decided_by_id")),
        "deductions": list(DepositDeduction.objects.order_by("pk").values_list("pk", "amount_fen")),
        "records": list(SellerRecord.objects.order_by("pk").values_list("user_id", "orders_total", "disputes_lost")),
    }


def item_status(item) -> str:
    item.refresh_from_db()
    return item.status


# --- the window -------------------------------------------------------------------------------------


def test_a_return_may_be_asked_within_the_categorys_window(warehouse):
    member = buyer()
    delivered_at = timezone.now()
    nine_days = category("market-test-shoes", window_days=9)
    order = deliver(paid_order(member, listed_item(category_obj=nine_days)), warehouse, now=delivered_at)

    request = ask(order, now=delivered_at + timedelta(days=9), photos=[id_photo("scratch.png")])

    assert (request.status, request.reason, request.buyer_id, request.line_id) == (
        "requested",
        "size",
        member.pk,
        order.lines.get().pk,
    )
    assert list(request.transitions.values_list("from_state", "to_state", "actor_id")) == [("", "requested", member.pk)]
    photo = ReturnPhoto.objects.get(request=request)
    assert (photo.width, photo.height) == (32, 20)
    assert photo.image.storage.exists(photo.image.name)


def test_after_the_window_the_return_is_refused_and_nothing_is_written(warehouse):
    member = buyer()
    delivered_at = timezone.now()
    order = deliver(paid_order(member, listed_item()), warehouse, now=delivered_at)  # 7-day category
    before = money_snapshot()

    with pytest.raises(Conflict) as refused:
        ask(order, now=delivered_at + timedelta(days=7, seconds=1))

    assert (refused.value.code, refused.value.message) == (
        "return_window_closed",
        "The return window for this order has closed.",
    )
    assert money_snapshot() == before
    assert not selectors.return_window_open(order.lines.get(), delivered_at + timedelta(days=7, seconds=1))
    assert selectors.return_window_open(order.lines.get(), delivered_at + timedelta(days=7))


def test_hygiene_goods_have_no_return_window(warehouse):
    member = buyer()
    hygiene = category("market-test-underwear", returnable=False)
    order = delivered_order(member, listed_item(category_obj=hygiene), warehouse=warehouse)
    before = money_snapshot()

    with pytest.raises(Conflict) as refused:
        ask(order, now=order.delivered_at)

    assert refused.value.code == "not_returnable"
    assert money_snapshot() == before
    # Nothing delays the automatic confirmation either: the default days apply.
    assert order.complete_after == order.delivered_at + timedelta(days=7)


def test_no_return_before_delivery_or_on_someone_elses_line(warehouse):
    member = buyer()
    order = paid_order(member, listed_item())
    before = money_snapshot()

    with pytest.raises(Conflict) as too_early:
        ask(order)
    with pytest.raises(NotFound) as not_hers:
        services.return_request_create(
            line_id=order.lines.get().pk, buyer=buyer(), reason="size", description="不是我的订单"
        )

    assert (too_early.value.code, not_hers.value.code) == ("return_window_closed", "line_not_found")
    assert money_snapshot() == before


def test_a_return_needs_a_reason_and_words_and_one_open_at_a_time(warehouse):
    member = buyer()
    order = delivered_order(member, listed_item(), warehouse=warehouse)
    line = order.lines.get()

    with pytest.raises(ValidationFailed) as invalid:
        services.return_request_create(line_id=line.pk, buyer=member, reason="changed_my_mind", description="不")
    assert invalid.value.code == "return_invalid"
    assert set(invalid.value.fields) == {"reason", "description"}
    ask(order)
    before = money_snapshot()
    with pytest.raises(Conflict) as twice:
        ask(order)

    assert twice.value.code == "return_open"
    assert money_snapshot() == before


# --- decisions ------------------------------------------------------------------------------------------


def test_a_full_refund_of_the_only_item_refunds_the_shipping_and_ends_the_order(warehouse, customer_service):
    member = buyer()
    seller = UserFactory(roles=[roles.SELLER])
    item = listed_item(seller=seller, price_fen=12_000)
    order = delivered_order(member, item, warehouse=warehouse)
    request = ask(order, reason="size")

    services.return_decide(return_id=request.pk, actor=customer_service, outcome="refunded", decision="同意退货")

    request.refresh_from_db()
    assert (request.status, request.refund_fen, request.deposit_charged_fen, request.decided_by_id) == (
        "refunded",
        12_000,
        0,
        customer_service.pk,
    )
    order.refresh_from_db()
    assert (order.status, order.refunded_fen, order.closed_reason) == ("refunded", 13_000, "同意退货")
    assert refunds_of(order.payment) == [12_000, SHIPPING]
    line = order.lines.get()
    assert (line.active, line.refunded_fen) == (False, 12_000)
    # A size return is nobody's fault: the item goes back to the warehouse, the seller's record is untouched.
    assert item_status(item) == Item.Status.RECEIVED
    assert not SellerRecord.objects.filter(user=seller, disputes_lost__gt=0).exists()
    assert balance_by_code(ESCROW) == 0
    assert balance_by_code(seller_payable_code(seller.pk)) == 0
    assert [step.to_state for step in request.transitions.order_by("pk")] == ["requested", "refunded"]
    books_are_right()


def test_a_full_refund_of_one_item_leaves_the_rest_of_the_order_to_complete(warehouse, customer_service):
    member = buyer()
    kept_seller = UserFactory(roles=[roles.SELLER])
    returned = listed_item(price_fen=12_000)
    kept = listed_item(seller=kept_seller, price_fen=8_000, title="裙子")
    order = delivered_order(member, returned, kept, warehouse=warehouse)
    returned_line = order.lines.get(item=returned)

    request = ask(order, line=returned_line, reason="size")
    services.return_decide(return_id=request.pk, actor=customer_service, outcome="refunded", decision="同意退货")

    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == ("delivered", 12_000)
    assert balance_by_code(ESCROW) == 8_000 + SHIPPING
    services.order_confirm(order_id=order.pk, buyer=member)
    assert balance_by_code(seller_payable_code(kept_seller.pk)) == 8_000 - 1_600
    assert balance_by_code(seller_payable_code(returned.seller_id)) == 0
    assert balance_by_code(COMMISSION_INCOME) == 1_600
    assert balance_by_code(SHIPPING_INCOME) == SHIPPING
    assert balance_by_code(ESCROW) == 0
    books_are_right()


def test_a_partial_refund_comes_out_of_the_sellers_share(warehouse, customer_service):
    member = buyer()
    seller = UserFactory(roles=[roles.SELLER])
    order = delivered_order(member, listed_item(seller=seller, price_fen=12_000), warehouse=warehouse)
    line = order.lines.get()
    assert line.seller_net_fen == 9_600  # ¥120 − 20 % commission
    request = ask(order, reason="damaged")

    services.return_decide(
        return_id=request.pk, actor=customer_service, outcome="partial", decision="补偿 ¥30", refund_fen=3_000
    )

    request.refresh_from_db()
    line.refresh_from_db()
    order.refresh_from_db()
    assert (request.status, request.refund_fen) == ("partial", 3_000)
    assert (line.active, line.refunded_fen) == (True, 3_000)
    assert (order.status, order.refunded_fen) == ("delivered", 3_000)
    assert refunds_of(order.payment) == [3_000]
    assert balance_by_code(ESCROW) == 13_000 - 3_000
    books_are_right()
    # A second return on the same line: at most what is left of her share.
    second = ask(order, reason="damaged")
    before = return_snapshot()
    with pytest.raises(ValidationFailed) as over:
        services.return_decide(
            return_id=second.pk, actor=customer_service, outcome="partial", decision="再补偿", refund_fen=6_601
        )
    assert over.value.code == "refund_invalid"
    assert over.value.message == "A partial refund is more than ¥0 and at most ¥66.00 (the seller's share)."
    assert return_snapshot() == before
    services.return_decide(
        return_id=second.pk, actor=customer_service, outcome="partial", decision="再补偿", refund_fen=6_600
    )
    services.order_confirm(order_id=order.pk, buyer=member)
    assert balance_by_code(seller_payable_code(seller.pk)) == 0
    assert balance_by_code(COMMISSION_INCOME) == 2_400
    books_are_right()


@pytest.mark.parametrize("refund_fen", [9_601, 12_000, 0, -100, True, "3000", 30.0])
def test_a_partial_refund_beyond_the_sellers_share_or_not_an_amount_changes_nothing(
    warehouse, customer_service, refund_fen
):
    member = buyer()
    order = delivered_order(member, listed_item(price_fen=12_000), warehouse=warehouse)
    request = ask(order, reason="damaged")
    before = return_snapshot()

    with pytest.raises(ValidationFailed) as refused:
        services.return_decide(
            return_id=request.pk, actor=customer_service, outcome="partial", decision="补偿", refund_fen=refund_fen
        )

    assert refused.value.code == "refund_invalid"
    assert return_snapshot() == before


def test_a_rejected_return_moves_no_money(warehouse, customer_service):
    member = buyer()
    seller = UserFactory(roles=[roles.SELLER])
    order = delivered_order(member, listed_item(seller=seller), warehouse=warehouse)
    request = ask(order, reason="not_as_described")
    entries = JournalEntry.objects.count()

    services.return_decide(
        return_id=request.pk, actor=customer_service, outcome="rejected", decision="照片与描述一致，不予退货"
    )

    request.refresh_from_db()
    assert (request.status, request.refund_fen, request.decision) == ("rejected", 0, "照片与描述一致，不予退货")
    assert JournalEntry.objects.count() == entries
    assert refunds_of(order.payment) == []
    assert Order.objects.get(pk=order.pk).status == "delivered"
    # A dispute the seller won does not count against her.
    assert not SellerRecord.objects.filter(user=seller, disputes_lost__gt=0).exists()
    # Decided: the order may complete now.
    services.order_confirm(order_id=order.pk, buyer=member)
    books_are_right()


def test_a_counterfeit_is_refunded_and_charged_to_the_sellers_deposit(warehouse, customer_service):
    from erhuo.consignment.tests.factories import make_seller

    seller = make_seller()
    deposit = deposit_balance_fen(seller)
    assert deposit > 0
    member = buyer()
    item = listed_item(seller=seller, price_fen=50_000, title="名牌包")
    order = delivered_order(member, item, warehouse=warehouse)
    request = ask(order, reason="counterfeit")
    disputes_before = SellerRecord.objects.get(user=seller).disputes_lost

    services.return_decide(
        return_id=request.pk,
        actor=customer_service,
        outcome="refunded",
        decision="鉴定为仿品，全额退款并扣除保证金",
        deposit_charge_fen=20_000,
    )

    request.refresh_from_db()
    assert (request.status, request.refund_fen, request.deposit_charged_fen) == ("refunded", 50_000, 20_000)
    assert deposit_balance_fen(seller) == deposit - 20_000
    deduction = DepositDeduction.objects.get(seller=seller)
    assert (deduction.amount_fen, deduction.violation, deduction.item_id, deduction.decided_by_id) == (
        20_000,
        "counterfeit",
        item.pk,
        customer_service.pk,
    )
    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == ("refunded", 50_000)
    assert refunds_of(order.payment) == [50_000]
    assert item_status(item) == Item.Status.RETURN_TO_SELLER
    assert SellerRecord.objects.get(user=seller).disputes_lost == disputes_before + 1
    books_are_right()


def test_a_charge_larger_than_the_deposit_refuses_the_whole_decision(warehouse, customer_service):
    from erhuo.consignment.tests.factories import make_seller

    seller = make_seller()
    deposit = deposit_balance_fen(seller)
    member = buyer()
    item = listed_item(seller=seller, price_fen=50_000)
    order = delivered_order(member, item, warehouse=warehouse)
    request = ask(order, reason="counterfeit")
    before = return_snapshot()

    with pytest.raises(Conflict) as refused:
        services.return_decide(
            return_id=request.pk,
            actor=customer_service,
            outcome="refunded",
            decision="鉴定为仿品",
            deposit_charge_fen=deposit + 1,
        )

    assert refused.value.code == "insufficient_balance"
    # Atomic: no deduction, and no refund either.
    assert return_snapshot() == before
    assert deposit_balance_fen(seller) == deposit
    assert item_status(item) == Item.Status.DELIVERED


@pytest.mark.parametrize(
    ("reason", "outcome"), [("size", "refunded"), ("damaged", "refunded"), ("counterfeit", "partial")]
)
def test_only_a_full_refund_for_the_sellers_fault_is_charged_to_her(warehouse, customer_service, reason, outcome):
    member = buyer()
    order = delivered_order(member, listed_item(), warehouse=warehouse)
    request = ask(order, reason=reason)
    before = return_snapshot()

    with pytest.raises(ValidationFailed) as refused:
        services.return_decide(
            return_id=request.pk,
            actor=customer_service,
            outcome=outcome,
            decision="扣保证金",
            refund_fen=1_000,
            deposit_charge_fen=5_000,
        )

    assert refused.value.code == "charge_not_allowed"
    assert return_snapshot() == before


# --- who decides -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["buyer", "seller", "member", "warehouse", "community_manager", "finance", "nobody"])
def test_only_customer_service_decides(warehouse, who):
    seller = UserFactory(roles=[roles.SELLER])
    member = buyer()
    order = delivered_order(member, listed_item(seller=seller), warehouse=warehouse)
    request = ask(order)
    actor = {
        "buyer": member,
        "seller": seller,
        "member": buyer(),
        "warehouse": warehouse,
        "community_manager": UserFactory(roles=[roles.COMMUNITY_MANAGER]),
        "finance": UserFactory(roles=[roles.FINANCE]),
        "nobody": None,
    }[who]
    before = return_snapshot()

    for outcome in ("refunded", "partial", "rejected"):
        with pytest.raises(PermissionRefused) as refused:
            services.return_decide(
                return_id=request.pk, actor=actor, outcome=outcome, decision="我说了算", refund_fen=100
            )
        assert refused.value.code == "decide_denied"

    assert return_snapshot() == before


def test_customer_service_does_not_decide_her_own_return_or_sale(warehouse):
    agent = UserFactory(roles=[roles.CUSTOMER_SERVICE])
    AddressFactory(user=agent)
    order = delivered_order(agent, listed_item(), warehouse=warehouse)
    own_purchase = ask(order)
    selling_agent = UserFactory(roles=[roles.CUSTOMER_SERVICE, roles.SELLER])
    other_order = delivered_order(buyer(), listed_item(seller=selling_agent, title="她卖的"), warehouse=warehouse)
    own_sale = ask(other_order)
    before = return_snapshot()

    for agent_, request in ((agent, own_purchase), (selling_agent, own_sale)):
        with pytest.raises(PermissionRefused) as refused:
            services.return_decide(return_id=request.pk, actor=agent_, outcome="refunded", decision="同意")
        assert refused.value.code == "own_return"

    assert return_snapshot() == before


def test_a_decided_return_is_not_decided_again_and_a_decision_needs_words(warehouse, customer_service):
    member = buyer()
    order = delivered_order(member, listed_item(), warehouse=warehouse)
    request = ask(order)
    before = return_snapshot()

    with pytest.raises(ValidationFailed) as no_words:
        services.return_decide(return_id=request.pk, actor=customer_service, outcome="rejected", decision="  ")
    with pytest.raises(ValidationFailed) as no_outcome:
        services.return_decide(return_id=request.pk, actor=customer_service, outcome="maybe", decision="嗯")
    assert (no_words.value.code, no_outcome.value.code) == ("decision_required", "outcome_invalid")
    assert return_snapshot() == before

    services.return_decide(return_id=request.pk, actor=customer_service, outcome="rejected", decision="不予退货")
    decided = return_snapshot()
    with pytest.raises(Conflict) as again:
        services.return_decide(return_id=request.pk, actor=customer_service, outcome="refunded", decision="改判")

    assert again.value.code == "return_decided"
    assert return_snapshot() == decided


def test_the_buyer_may_withdraw_her_open_return(warehouse, customer_service):
    member = buyer()
    order = delivered_order(member, listed_item(), warehouse=warehouse)
    request = ask(order)

    with pytest.raises(NotFound):
        services.return_request_withdraw(return_id=request.pk, buyer=buyer())
    services.return_request_withdraw(return_id=request.pk, buyer=member)

    assert ReturnRequest.objects.get(pk=request.pk).status == "withdrawn"
    with pytest.raises(Conflict) as decided:
        services.return_decide(return_id=request.pk, actor=customer_service, outcome="refunded", decision="同意")
    assert decided.value.code == "return_decided"
