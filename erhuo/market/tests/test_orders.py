"""Orders through the services: making them, paying (idempotent, late, twice, tampered, replayed),
cancelling, the self-ship deadline, fulfilment, and completion splitting the escrow to the fen.

Shared helpers (`reserve`, `place_order`, `pay`, `deliver`, `money_snapshot`, …) are imported by the
returns, shows and ledger tests.
"""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.models import Address
from erhuo.accounts.tests.factories import AddressFactory, UserFactory
from erhuo.catalog.models import Item
from erhuo.consignment.models import AuthenticationReport, CareRecord
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.ledger import accounts as ledger_accounts
from erhuo.ledger.models import Account, JournalEntry
from erhuo.ledger.selectors import balance_by_code, ledger_problems
from erhuo.market import selectors, services
from erhuo.market.accounts import (
    COMMISSION_INCOME,
    ESCROW,
    SERVICE_FEE_INCOME,
    SHIPPING_INCOME,
    seller_payable_code,
)
from erhuo.market.models import Claim, Order, OrderLine, OrderTransition, ReturnRequest
from erhuo.market.services.orders import orders_allocate_missed
from erhuo.market.tests.factories import buyer, category, listed_item
from erhuo.payments import services as payment_services
from erhuo.payments.models import Payment, PaymentNotification, Refund
from erhuo.payments.providers import SANDBOX_SIGNATURE_HEADER, NotificationRejected, SandboxProvider, sandbox_sign
from erhuo.trust.models import SellerRecord

pytestmark = pytest.mark.django_db

WINDOW = timedelta(minutes=30)
SHIPPING = 1_000
FREE_FROM = 29_900


@pytest.fixture(autouse=True)
def _market_settings(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    settings.ERHUO_CLAIM_PAYMENT_MINUTES = 30
    settings.ERHUO_SHIPPING_FEE_FEN = SHIPPING
    settings.ERHUO_FREE_SHIPPING_FROM_FEN = FREE_FROM
    settings.ERHUO_SELF_SHIP_HOURS = 48
    settings.ERHUO_AUTO_CONFIRM_DAYS = 7
    with translation.override("en"):
        yield


@pytest.fixture
def warehouse(db):
    return UserFactory(roles=[roles.INTAKE_CLERK])


@pytest.fixture
def customer_service(db):
    return UserFactory(roles=[roles.CUSTOMER_SERVICE])


@pytest.fixture
def finance(db):
    return UserFactory(roles=[roles.FINANCE])


# --- helpers (shared with the other market tests) ---------------------------------------------------


def reserve(member, *items, now=None) -> list[Claim]:
    claims = [services.claim_create(item_id=item.pk, member=member, now=now) for item in items]
    assert all(claim.status == "reserved" for claim in claims)
    return claims


def place_order(member, *items, now=None) -> Order:
    claims = reserve(member, *items, now=now)
    return services.order_create(buyer=member, claim_ids=[claim.pk for claim in claims], now=now)


def sandbox_notify(payment: Payment, **kwargs) -> PaymentNotification:
    """The sandbox provider's signed notification, delivered to the payments app (no event is run)."""
    body, headers = SandboxProvider().notification_for(payment, **kwargs)
    return payment_services.notification_receive(provider="sandbox", body=body, headers=headers)


def pay(order: Order, *, now=None, key: str | None = None) -> Payment:
    """Pay the order in the sandbox and allocate the payment (what the `payment_succeeded` handler does)."""
    payment = services.order_pay(order_id=order.pk, buyer=order.buyer, provider="sandbox", idempotency_key=key, now=now)
    sandbox_notify(payment)
    services.order_payment_allocate(payment_id=payment.pk, now=now)
    order.refresh_from_db()
    payment.refresh_from_db()
    return payment


def paid_order(member, *items, now=None) -> Order:
    order = place_order(member, *items, now=now)
    pay(order, now=now)
    assert order.status == "paid", order.status
    return order


def deliver(order: Order, warehouse, *, now=None) -> Order:
    if order.fulfilment == Order.Fulfilment.PLATFORM:
        services.order_pack(order_id=order.pk, actor=warehouse)
        shipper = warehouse
    else:
        shipper = order.shipper
    services.order_ship(order_id=order.pk, actor=shipper, carrier="顺丰", tracking_number="SF1000000001", now=now)
    services.order_deliver(order_id=order.pk, actor=shipper, now=now)
    order.refresh_from_db()
    return order


def delivered_order(member, *items, warehouse, now=None) -> Order:
    return deliver(paid_order(member, *items, now=now), warehouse, now=now)


def refunds_of(payment: Payment) -> list[int]:
    """The amounts refunded (or being refunded) on a payment, oldest first."""
    return list(payment.refunds.order_by("pk").values_list("amount_fen", flat=True))


def money_snapshot() -> dict:
    """Every row the order flow writes: compared before and after a refused action."""
    return {
        "orders": list(
            Order.objects.order_by("pk").values_list(
                "pk", "status", "paid_fen", "refunded_fen", "payment_id", "ship_by", "complete_after", "closed_reason"
            )
        ),
        "order_steps": OrderTransition.objects.count(),
        "lines": list(OrderLine.objects.order_by("pk").values_list("pk", "active", "refunded_fen")),
        "claims": list(Claim.objects.order_by("pk").values_list("pk", "status", "reserved_until")),
        "items": list(Item.objects.order_by("pk").values_list("pk", "status")),
        "payments": list(Payment.objects.order_by("pk").values_list("pk", "status", "amount_fen")),
        "entries": list(JournalEntry.objects.order_by("pk").values_list("pk", "kind", "key")),
        "balances": list(Account.objects.order_by("code").values_list("code", "balance_fen")),
        "refunds": list(Refund.objects.order_by("pk").values_list("pk", "amount_fen", "status")),
        "returns": list(ReturnRequest.objects.order_by("pk").values_list("pk", "status", "refund_fen")),
    }


def books_are_right() -> None:
    assert ledger_problems() == []
    assert selectors.money_problems() == []


def item_status(item) -> str:
    item.refresh_from_db()
    return item.status


# --- making an order ------------------------------------------------------------------------------


def test_several_reservations_make_one_order_with_one_shipping_fee():
    member = buyer()
    items = [listed_item(price_fen=price, title=f"衬衫 {price}") for price in (5_000, 7_000, 9_000)]
    start = timezone.now()
    claims = reserve(member, *items, now=start)
    later = start + timedelta(minutes=5)
    claims.append(reserve(member, listed_item(price_fen=4_000, title="围巾"), now=later)[0])

    order = services.order_create(buyer=member, claim_ids=[claim.pk for claim in claims], note="  请用纸箱 ", now=later)

    assert (order.status, order.fulfilment, order.shipper_id) == ("pending_payment", "platform", None)
    assert (order.items_fen, order.shipping_fen, order.discount_fen, order.total_fen) == (25_000, SHIPPING, 0, 26_000)
    assert order.buyer_note == "请用纸箱"
    # The order must be paid while every reservation in it lasts: by the earliest end.
    assert order.pay_by == start + WINDOW
    address = Address.objects.get(user=member)
    assert (order.recipient_name, order.recipient_phone, order.address_detail) == (
        address.recipient_name,
        address.recipient_phone,
        address.detail,
    )
    lines = list(order.lines.order_by("pk"))
    assert [(line.item_id, line.claim_id, line.price_fen, line.active) for line in lines] == [
        (claim.item_id, claim.pk, claim.item.price_fen, True) for claim in sorted(claims, key=lambda c: c.pk)
    ]
    for line in lines:
        expected = selectors.sale_breakdown(line.item)
        assert line.breakdown == expected.as_dict()
        assert (line.commission_fen, line.service_fees_fen, line.seller_net_fen, line.seller_id) == (
            expected.commission_fen,
            expected.service_fees_fen,
            expected.seller_net_fen,
            line.item.seller_id,
        )
    assert list(order.transitions.values_list("from_state", "to_state", "actor_id")) == [
        ("", "pending_payment", member.pk)
    ]


@pytest.mark.parametrize(("items_fen", "shipping"), [(FREE_FROM - 1, SHIPPING), (FREE_FROM, 0), (FREE_FROM + 1, 0)])
def test_free_shipping_from_the_threshold(items_fen, shipping):
    member = buyer()

    order = place_order(member, listed_item(price_fen=items_fen))

    assert (order.items_fen, order.shipping_fen, order.total_fen) == (items_fen, shipping, items_fen + shipping)


def test_the_threshold_counts_every_item_of_the_order():
    member = buyer()

    order = place_order(member, listed_item(price_fen=15_000), listed_item(price_fen=14_900))

    assert (order.items_fen, order.shipping_fen, order.total_fen) == (29_900, 0, 29_900)


def test_a_sellers_own_items_ship_in_one_self_ship_order():
    seller = UserFactory(roles=[roles.SELLER])
    member = buyer()
    items = [listed_item(seller=seller, fulfilment=Item.Fulfilment.SELF_SHIP, price_fen=6_000) for _ in range(2)]

    order = place_order(member, *items)

    assert (order.fulfilment, order.shipper_id, order.shipping_fen, order.total_fen) == (
        "self_ship",
        seller.pk,
        SHIPPING,
        13_000,
    )
    # Self-ship sales carry no care or authentication fee.
    assert [line.service_fees_fen for line in order.lines.all()] == [0, 0]


@pytest.mark.parametrize("mix", ["self_ship_and_platform", "two_self_ship_sellers"])
def test_items_from_different_senders_must_be_split(mix):
    member = buyer()
    self_ship = listed_item(fulfilment=Item.Fulfilment.SELF_SHIP)
    other = listed_item() if mix == "self_ship_and_platform" else listed_item(fulfilment=Item.Fulfilment.SELF_SHIP)
    claims = reserve(member, self_ship, other)
    before = money_snapshot()

    with pytest.raises(ValidationFailed) as refused:
        services.order_create(buyer=member, claim_ids=[claim.pk for claim in claims])

    assert refused.value.code == "split_order"
    assert refused.value.fields == {"claims": ["Order the platform's items and each seller's own items separately."]}
    assert money_snapshot() == before


def test_a_queued_claim_or_an_expired_reservation_cannot_be_ordered():
    member, first = buyer(), buyer()
    item = listed_item()
    start = timezone.now()
    services.claim_create(item_id=item.pk, member=first, now=start)
    queued = services.claim_create(item_id=item.pk, member=member, now=start)
    own = reserve(first, listed_item(title="另一件"), now=start)[0]

    with pytest.raises(Conflict) as not_reserved:
        services.order_create(buyer=member, claim_ids=[queued.pk], now=start)
    with pytest.raises(Conflict) as expired:
        services.order_create(buyer=first, claim_ids=[own.pk], now=start + WINDOW)

    assert (not_reserved.value.code, expired.value.code) == ("reservation_expired", "reservation_expired")
    assert expired.value.message == "“另一件” is no longer reserved for you."
    assert not Order.objects.exists()


def test_an_order_needs_an_address_of_the_buyers_own():
    member = UserFactory(roles=[roles.MEMBER])
    claim = reserve(member, listed_item())[0]
    stranger_address = AddressFactory()
    before = money_snapshot()

    for address_id in (None, stranger_address.pk):
        with pytest.raises(ValidationFailed) as refused:
            services.order_create(buyer=member, claim_ids=[claim.pk], address_id=address_id)
        assert refused.value.code == "address_required"
        assert refused.value.fields == {"address": ["Choose one of your addresses."]}

    assert money_snapshot() == before


def test_a_chosen_address_is_copied_into_the_order():
    member = buyer()
    office = AddressFactory(user=member, is_default=False, recipient_name="林小雨（公司）", detail="世纪大道 100 号")

    claim = reserve(member, listed_item())[0]
    order = services.order_create(buyer=member, claim_ids=[claim.pk], address_id=office.pk)
    office.delete()

    order.refresh_from_db()
    assert (order.recipient_name, order.address_detail) == ("林小雨（公司）", "世纪大道 100 号")


def test_another_members_claim_is_not_found_and_nothing_is_written():
    member, other = buyer(), buyer()
    mine = reserve(member, listed_item())[0]
    hers = reserve(other, listed_item(title="她的"))[0]
    before = money_snapshot()

    with pytest.raises(NotFound) as refused:
        services.order_create(buyer=member, claim_ids=[mine.pk, hers.pk])

    assert refused.value.code == "claim_not_found"
    assert money_snapshot() == before


def test_a_reservation_goes_into_one_order_only():
    member = buyer()
    claim = reserve(member, listed_item())[0]
    services.order_create(buyer=member, claim_ids=[claim.pk])
    before = money_snapshot()

    with pytest.raises(Conflict) as refused:
        services.order_create(buyer=member, claim_ids=[claim.pk])

    assert refused.value.code == "already_ordered"
    assert money_snapshot() == before


def test_withdrawing_one_item_ends_the_order_and_the_other_reservation_can_be_ordered_again():
    # Found by the stateful test: the kept reservation's first line had ended, and a second line for the
    # same claim broke a one-line-per-claim constraint (a 500) instead of making the new order.
    member = buyer()
    kept, dropped = reserve(member, listed_item(title="留下的"), listed_item(title="不要了"))
    first = services.order_create(buyer=member, claim_ids=[kept.pk, dropped.pk])

    services.claim_withdraw(claim_id=dropped.pk, member=member)

    first.refresh_from_db()
    assert first.status == "cancelled"
    assert Claim.objects.get(pk=kept.pk).status == "reserved"
    second = services.order_create(buyer=member, claim_ids=[kept.pk])
    assert [line.title for line in second.lines.all()] == ["留下的"]
    assert list(OrderLine.objects.filter(claim=kept).values_list("order_id", "active")) == [
        (first.pk, False),
        (second.pk, True),
    ]
    with pytest.raises(Conflict) as refused:
        services.order_create(buyer=member, claim_ids=[kept.pk])
    assert refused.value.code == "already_ordered"


def test_no_claims_no_order():
    with pytest.raises(ValidationFailed) as refused:
        services.order_create(buyer=buyer(), claim_ids=[])

    assert refused.value.code == "claims_required"


# --- paying ---------------------------------------------------------------------------------------


def test_the_same_idempotency_key_returns_the_same_payment():
    member = buyer()
    order = place_order(member, listed_item(price_fen=12_000))

    first = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox", idempotency_key="pay-1")
    again = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox", idempotency_key="pay-1")
    other_key = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox", idempotency_key="pay-2")

    assert first.pk == again.pk
    assert other_key.pk != first.pk
    assert (first.amount_fen, first.purpose, first.reference, first.status) == (
        13_000,
        "order",
        f"order:{order.pk}",
        "pending",
    )
    assert Payment.objects.filter(reference=order.reference).count() == 2


def test_without_a_key_the_open_payment_of_the_same_method_is_reused():
    member = buyer()
    order = place_order(member, listed_item())

    first = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox")
    again = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox")
    manual = services.order_pay(order_id=order.pk, buyer=member, provider="manual")

    assert first.pk == again.pk
    assert manual.pk != first.pk and manual.provider == "manual"


def test_a_key_used_for_another_order_is_a_conflict_of_the_payments_app():
    member = buyer()
    first = place_order(member, listed_item(price_fen=12_000))
    second = place_order(member, listed_item(price_fen=8_000, title="裙子"))
    services.order_pay(order_id=first.pk, buyer=member, provider="sandbox", idempotency_key="same")
    before = money_snapshot()

    with pytest.raises(Conflict) as refused:
        services.order_pay(order_id=second.pk, buyer=member, provider="sandbox", idempotency_key="same")

    assert refused.value.code == "idempotency_key_reused"
    assert money_snapshot() == before


def test_paying_someone_elses_order_is_not_found():
    member = buyer()
    order = place_order(member, listed_item())

    with pytest.raises(NotFound) as refused:
        services.order_pay(order_id=order.pk, buyer=buyer(), provider="sandbox")

    assert refused.value.code == "order_not_found"
    assert not Payment.objects.exists()


def test_paying_after_the_reservation_expired_is_refused_and_the_order_is_cancelled():
    member, next_in_line = buyer(), buyer()
    item = listed_item()
    start = timezone.now()
    order = place_order(member, item, now=start)
    services.claim_create(item_id=item.pk, member=next_in_line, now=start)

    with pytest.raises(Conflict) as refused:
        services.order_pay(order_id=order.pk, buyer=member, provider="sandbox", now=start + WINDOW)

    assert refused.value.code == "reservation_expired"
    assert refused.value.message == "This order was cancelled: Not paid within the payment window."
    assert not Payment.objects.exists()
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert Claim.objects.get(member=next_in_line).status == "reserved"


def test_the_payment_is_allocated_by_the_payment_succeeded_event(django_capture_on_commit_callbacks):
    member = buyer()
    seller = UserFactory(roles=[roles.SELLER])
    item = listed_item(seller=seller, price_fen=12_000)
    waiting = buyer()
    order = place_order(member, item)
    services.claim_create(item_id=item.pk, member=waiting)
    payment = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox")
    spare = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox", idempotency_key="spare")

    with django_capture_on_commit_callbacks(execute=True):
        payment_services.sandbox_pay(payment_id=payment.pk, payer=member)

    order.refresh_from_db()
    assert (order.status, order.payment_id, order.paid_fen, order.refunded_fen, order.pay_by) == (
        "paid",
        payment.pk,
        13_000,
        0,
        None,
    )
    assert list(Claim.objects.filter(item=item).order_by("seq").values_list("member_id", "status")) == [
        (member.pk, "purchased"),
        (waiting.pk, "closed"),
    ]
    assert item_status(item) == Item.Status.SOLD
    assert Payment.objects.get(pk=spare.pk).status == "cancelled"
    entry = JournalEntry.objects.get(key=f"order-paid:{payment.pk}")
    assert (entry.kind, entry.reference) == ("order_paid", order.reference)
    assert balance_by_code(ESCROW) == 13_000
    assert balance_by_code(ledger_accounts.CLEARING_PAYMENTS) == 0
    books_are_right()
    # A platform order has no shipping deadline for a seller.
    assert order.ship_by is None


def test_allocating_the_same_payment_again_changes_nothing():
    member = buyer()
    order = paid_order(member, listed_item())
    before = money_snapshot()

    services.order_payment_allocate(payment_id=order.payment_id)
    orders_allocate_missed()

    assert money_snapshot() == before


def test_a_lost_event_is_made_good_by_the_periodic_allocation():
    from erhuo.market.tasks import allocate_missed_payments

    member = buyer()
    order = place_order(member, listed_item())
    payment = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox")
    sandbox_notify(payment)  # succeeded; its event never ran

    assert allocate_missed_payments.call_local() == 1

    order.refresh_from_db()
    assert (order.status, order.payment_id) == ("paid", payment.pk)
    assert allocate_missed_payments.call_local() == 0
    books_are_right()


def test_a_late_sandbox_payment_is_refunded_in_full_and_never_enters_escrow(django_capture_on_commit_callbacks):
    member, next_in_line = buyer(), buyer()
    item = listed_item(price_fen=12_000)
    long_ago = timezone.now() - WINDOW - timedelta(minutes=1)
    order = place_order(member, item, now=long_ago)
    payment = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox", now=long_ago)
    services.claim_create(item_id=item.pk, member=next_in_line, now=long_ago)

    # Nobody read the item since the window closed; the provider's notification arrives now.
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_notify(payment)

    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == "succeeded"
    assert (order.status, order.payment_id, order.paid_fen) == ("cancelled", None, 0)
    assert order.closed_reason == "Not paid within the payment window."
    assert list(payment.refunds.values_list("amount_fen", "status", "key")) == [
        (13_000, "succeeded", f"unallocated:{payment.pk}")
    ]
    assert not JournalEntry.objects.filter(key=f"order-paid:{payment.pk}").exists()
    assert not JournalEntry.objects.filter(kind="order_paid").exists()
    assert balance_by_code(ESCROW) == 0
    # In through the sandbox and straight back out: nothing left in clearing or in the sandbox's cash.
    assert balance_by_code(ledger_accounts.CLEARING_PAYMENTS) == 0
    assert balance_by_code(ledger_accounts.cash_code("sandbox")) == 0
    # The item went to the next in line, as it would have without the payment.
    assert Claim.objects.get(member=next_in_line).status == "reserved"
    assert item_status(item) == Item.Status.RESERVED
    books_are_right()


def test_a_manual_transfer_confirmed_after_the_order_was_cancelled_is_refunded(finance):
    from erhuo.trust.tests.factories import id_photo

    member = buyer()
    item = listed_item(price_fen=12_000)
    long_ago = timezone.now() - WINDOW - timedelta(minutes=1)
    order = place_order(member, item, now=long_ago)
    payment = services.order_pay(order_id=order.pk, buyer=member, provider="manual", now=long_ago)
    payment_services.payment_proof_submit(payment_id=payment.pk, payer=member, proof=id_photo("proof.png"))
    services.claims_settle_item(item_id=item.pk)  # a read: the reservation expires, the order is cancelled
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert Payment.objects.get(pk=payment.pk).status == "submitted"  # a sent proof is not cancelled

    payment_services.payment_manual_confirm(payment_id=payment.pk, actor=finance)
    services.order_payment_allocate(payment_id=payment.pk)

    order.refresh_from_db()
    assert (order.status, order.payment_id, order.paid_fen) == ("cancelled", None, 0)
    # Finance sends a transfer back by hand: until she confirms it, the money waits in clearing.
    assert list(payment.refunds.values_list("amount_fen", "status")) == [(13_000, "pending")]
    assert balance_by_code(ledger_accounts.CLEARING_PAYMENTS) == 13_000
    assert balance_by_code(ESCROW) == 0
    assert item_status(item) == Item.Status.LISTED
    books_are_right()


def test_a_second_successful_payment_of_a_paid_order_is_refunded():
    member = buyer()
    order = place_order(member, listed_item(price_fen=12_000))
    first = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox", idempotency_key="tab-1")
    second = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox", idempotency_key="tab-2")
    # Two tabs, both paid before either payment was allocated.
    sandbox_notify(first)
    sandbox_notify(second)

    services.order_payment_allocate(payment_id=first.pk)
    services.order_payment_allocate(payment_id=second.pk)

    order.refresh_from_db()
    assert (order.status, order.payment_id, order.paid_fen, order.refunded_fen) == ("paid", first.pk, 13_000, 0)
    assert refunds_of(Payment.objects.get(pk=first.pk)) == []
    assert refunds_of(Payment.objects.get(pk=second.pk)) == [13_000]
    assert balance_by_code(ESCROW) == 13_000
    assert JournalEntry.objects.filter(kind="order_paid").count() == 1
    books_are_right()
    # Allocating the refunded one again refunds nothing more.
    services.order_payment_allocate(payment_id=second.pk)
    assert refunds_of(Payment.objects.get(pk=second.pk)) == [13_000]
    books_are_right()


def test_a_manual_transfer_confirmed_after_the_order_was_paid_is_refunded(finance):
    from erhuo.trust.tests.factories import id_photo

    member = buyer()
    order = place_order(member, listed_item(price_fen=12_000))
    manual = services.order_pay(order_id=order.pk, buyer=member, provider="manual")
    payment_services.payment_proof_submit(payment_id=manual.pk, payer=member, proof=id_photo("proof.png"))
    pay(order)

    payment_services.payment_manual_confirm(payment_id=manual.pk, actor=finance)
    services.order_payment_allocate(payment_id=manual.pk)

    order.refresh_from_db()
    assert (order.status, order.paid_fen) == ("paid", 13_000)
    assert order.payment_id != manual.pk
    assert refunds_of(Payment.objects.get(pk=manual.pk)) == [13_000]
    assert balance_by_code(ESCROW) == 13_000
    books_are_right()


def test_a_tampered_notification_is_rejected_and_changes_nothing():
    member = buyer()
    order = place_order(member, listed_item(price_fen=12_000))
    payment = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox")
    body, headers = SandboxProvider().notification_for(payment)
    before = money_snapshot()

    forged_amount = body.replace(b'"amount_fen": 13000', b'"amount_fen": 1')
    with pytest.raises(NotificationRejected) as bad_signature:
        payment_services.notification_receive(provider="sandbox", body=forged_amount, headers=headers)
    with pytest.raises(NotificationRejected) as unsigned:
        payment_services.notification_receive(provider="sandbox", body=body, headers={})
    # Even correctly signed, an amount that is not the payment's is refused.
    with pytest.raises(NotificationRejected) as wrong_amount:
        payment_services.notification_receive(
            provider="sandbox", body=forged_amount, headers={SANDBOX_SIGNATURE_HEADER: sandbox_sign(forged_amount)}
        )

    assert (bad_signature.value.code, unsigned.value.code) == ("signature_invalid", "signature_invalid")
    assert wrong_amount.value.code == "notification_rejected"
    assert money_snapshot() == before
    assert list(PaymentNotification.objects.values_list("outcome", flat=True)) == ["rejected"] * 3
    orders_allocate_missed()
    assert money_snapshot() == before


def test_a_replayed_notification_changes_nothing(django_capture_on_commit_callbacks):
    member = buyer()
    order = place_order(member, listed_item(price_fen=12_000))
    payment = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox")
    body, headers = SandboxProvider().notification_for(payment)
    with django_capture_on_commit_callbacks(execute=True):
        payment_services.notification_receive(provider="sandbox", body=body, headers=headers)
    before = money_snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        replay = payment_services.notification_receive(provider="sandbox", body=body, headers=headers)
        # A failure for the same payment after its success changes nothing either.
        sandbox_notify(payment, status="failed")

    assert replay.outcome == "duplicate"
    assert money_snapshot() == before
    assert balance_by_code(ESCROW) == 13_000
    assert JournalEntry.objects.filter(kind="order_paid").count() == 1


# --- cancelling -----------------------------------------------------------------------------------


def test_the_buyer_cancels_an_unpaid_order_and_the_next_in_line_is_offered_the_item():
    member, waiting = buyer(), buyer()
    item = listed_item()
    order = place_order(member, item)
    services.claim_create(item_id=item.pk, member=waiting)
    payment = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox")

    services.order_cancel(order_id=order.pk, actor=member)

    order.refresh_from_db()
    assert (order.status, order.closed_reason) == ("cancelled", "Cancelled by the buyer.")
    assert Payment.objects.get(pk=payment.pk).status == "cancelled"
    assert list(Claim.objects.filter(item=item).order_by("seq").values_list("member_id", "status")) == [
        (member.pk, "withdrawn"),
        (waiting.pk, "reserved"),
    ]
    assert not JournalEntry.objects.exists()


def test_the_buyer_cancels_a_paid_order_before_packing_refunded_in_full_and_back_on_sale():
    member = buyer()
    items = [listed_item(price_fen=12_000), listed_item(price_fen=5_000, title="围巾")]
    order = paid_order(member, *items)
    payment = order.payment

    services.order_cancel(order_id=order.pk, actor=member, reason="买错了")

    order.refresh_from_db()
    assert (order.status, order.paid_fen, order.refunded_fen, order.closed_reason) == (
        "refunded",
        18_000,
        18_000,
        "买错了",
    )
    assert refunds_of(payment) == [18_000]
    assert [item_status(item) for item in items] == [Item.Status.LISTED, Item.Status.LISTED]
    assert not OrderLine.objects.filter(order=order, active=True).exists()
    assert balance_by_code(ESCROW) == 0
    books_are_right()
    # On sale again: someone else can claim it at once.
    assert services.claim_create(item_id=items[0].pk, member=buyer()).status == "reserved"


def test_a_packed_order_is_cancelled_only_by_customer_service(warehouse, customer_service):
    member = buyer()
    item = listed_item(price_fen=12_000)
    order = paid_order(member, item)
    services.order_pack(order_id=order.pk, actor=warehouse)
    before = money_snapshot()

    with pytest.raises(Conflict) as by_buyer:
        services.order_cancel(order_id=order.pk, actor=member)
    assert (by_buyer.value.code, by_buyer.value.message) == (
        "order_packed",
        "The order is packed: ask customer service to cancel it.",
    )
    for outsider in (warehouse, buyer()):
        with pytest.raises(NotFound):
            services.order_cancel(order_id=order.pk, actor=outsider, reason="test")
    with pytest.raises(ValidationFailed) as no_reason:
        services.order_cancel(order_id=order.pk, actor=customer_service)
    assert no_reason.value.code == "reason_required"
    assert money_snapshot() == before

    services.order_cancel(order_id=order.pk, actor=customer_service, reason="仓库发现污渍，与买家协商取消")

    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == ("refunded", 13_000)
    assert item_status(item) == Item.Status.LISTED
    assert refunds_of(order.payment) == [13_000]
    books_are_right()


def test_a_shipped_order_cannot_be_cancelled(warehouse, customer_service):
    member = buyer()
    order = paid_order(member, listed_item())
    services.order_pack(order_id=order.pk, actor=warehouse)
    services.order_ship(order_id=order.pk, actor=warehouse, carrier="顺丰", tracking_number="SF1")
    before = money_snapshot()

    for actor in (member, customer_service):
        with pytest.raises(Conflict) as refused:
            services.order_cancel(order_id=order.pk, actor=actor, reason="太晚了")
        assert refused.value.code == "order_closed"

    assert money_snapshot() == before


# --- fulfilment -----------------------------------------------------------------------------------


def test_only_the_warehouse_fulfils_platform_orders(warehouse, customer_service):
    member = buyer()
    seller = UserFactory(roles=[roles.SELLER])
    order = paid_order(member, listed_item(seller=seller))
    before = money_snapshot()

    for actor in (member, seller, customer_service, None):
        with pytest.raises(PermissionRefused) as refused:
            services.order_pack(order_id=order.pk, actor=actor)
        assert refused.value.code == "fulfil_denied"
        with pytest.raises(PermissionRefused):
            services.order_ship(order_id=order.pk, actor=actor, carrier="顺丰", tracking_number="SF1")
    with pytest.raises(ValidationFailed) as no_tracking:
        services.order_ship(order_id=order.pk, actor=warehouse, carrier="顺丰", tracking_number="SF 1/2")
    assert no_tracking.value.code == "tracking_required"
    assert money_snapshot() == before


def test_fulfilment_moves_the_order_and_its_items(warehouse):
    member = buyer()
    item = listed_item()
    order = paid_order(member, item)
    start = timezone.now()

    services.order_pack(order_id=order.pk, actor=warehouse)
    assert item_status(item) == Item.Status.PACKED
    services.order_ship(order_id=order.pk, actor=warehouse, carrier=" 顺丰 ", tracking_number="SF-123", now=start)
    assert item_status(item) == Item.Status.SHIPPED
    services.order_deliver(order_id=order.pk, actor=warehouse, now=start + timedelta(days=2))

    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number, order.shipped_at) == (
        "delivered",
        "顺丰",
        "SF-123",
        start,
    )
    assert order.delivered_at == start + timedelta(days=2)
    assert order.complete_after == start + timedelta(days=9)
    assert item_status(item) == Item.Status.DELIVERED
    assert list(order.transitions.values_list("to_state", flat=True)) == [
        "pending_payment",
        "paid",
        "packed",
        "shipped",
        "delivered",
    ]


def test_a_longer_return_window_delays_the_automatic_confirmation(warehouse):
    member = buyer()
    long_window = category("market-test-bags", window_days=15)
    order = paid_order(member, listed_item(category_obj=long_window))
    start = timezone.now()

    deliver(order, warehouse, now=start)

    assert order.complete_after == start + timedelta(days=15)


def test_a_self_ship_order_is_shipped_by_its_seller_only(warehouse):
    seller = UserFactory(roles=[roles.SELLER])
    member = buyer()
    order = paid_order(member, listed_item(seller=seller, fulfilment=Item.Fulfilment.SELF_SHIP))
    before = money_snapshot()

    with pytest.raises(Conflict) as no_packing:
        services.order_pack(order_id=order.pk, actor=warehouse)
    assert no_packing.value.code == "self_ship_order"
    for actor in (warehouse, member, UserFactory(roles=[roles.SELLER])):
        with pytest.raises(PermissionRefused) as refused:
            services.order_ship(order_id=order.pk, actor=actor, carrier="中通", tracking_number="ZT1")
        assert refused.value.code == "not_your_order"
    assert money_snapshot() == before

    services.order_ship(order_id=order.pk, actor=seller, carrier="中通", tracking_number="ZT1")

    record = SellerRecord.objects.get(user=seller)
    assert (record.orders_shipped, record.orders_shipped_on_time) == (1, 1)


def test_a_self_ship_order_not_shipped_in_time_is_cancelled_and_refunded(django_capture_on_commit_callbacks):
    seller = UserFactory(roles=[roles.SELLER])
    member = buyer()
    item = listed_item(seller=seller, fulfilment=Item.Fulfilment.SELF_SHIP, price_fen=12_000)
    order = paid_order(member, item)
    assert order.ship_by == order.paid_at + timedelta(hours=48)
    on_time_order = paid_order(buyer(), listed_item(seller=seller, fulfilment=Item.Fulfilment.SELF_SHIP))

    assert services.orders_settle(now=order.ship_by - timedelta(seconds=1)) == 0
    assert Order.objects.get(pk=order.pk).status == "paid"
    services.order_ship(order_id=on_time_order.pk, actor=seller, carrier="中通", tracking_number="ZT2")

    assert services.orders_settle(now=order.ship_by) == 1

    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == ("refunded", 13_000)
    assert order.closed_reason.startswith("The seller did not ship by ")
    assert refunds_of(order.payment) == [13_000]
    # The item is taken off sale (the seller failed to ship it) and her record shows a late shipment.
    assert item_status(item) == Item.Status.WITHDRAWN
    record = SellerRecord.objects.get(user=seller)
    assert (record.orders_shipped, record.orders_shipped_on_time) == (2, 1)
    assert balance_by_code(ESCROW) == Order.objects.get(pk=on_time_order.pk).paid_fen
    books_are_right()
    # Too late to ship now.
    with pytest.raises(Conflict):
        services.order_ship(order_id=order.pk, actor=seller, carrier="中通", tracking_number="ZT3")
    assert services.orders_settle(now=order.ship_by + timedelta(days=1)) == 0


def test_the_periodic_order_task_applies_the_self_ship_deadline():
    from erhuo.market.tasks import settle_orders

    seller = UserFactory(roles=[roles.SELLER])
    member = buyer()
    order = place_order(member, listed_item(seller=seller, fulfilment=Item.Fulfilment.SELF_SHIP))
    pay(order, now=timezone.now() - timedelta(hours=49))
    assert order.status == "paid"

    assert settle_orders.call_local() == 1

    assert Order.objects.get(pk=order.pk).status == "refunded"
    books_are_right()


# --- completion: the escrow split ----------------------------------------------------------------


def with_fees(item, clerk, *, care=("wash", "steam")):
    """Give a platform item an authentication report and care records, so its sale carries service fees."""
    AuthenticationReport.objects.create(item=item, result="pass", checks=[], authenticator=clerk)
    for step in care:
        CareRecord.objects.create(item=item, step=step, done_by=clerk)
    return item


def test_completion_splits_the_escrow_to_the_fen(warehouse, customer_service):
    first_seller, second_seller = UserFactory(roles=[roles.SELLER]), UserFactory(roles=[roles.SELLER])
    member = buyer()
    bag = with_fees(listed_item(seller=first_seller, price_fen=12_345, title="包"), warehouse)
    scarf = listed_item(seller=second_seller, price_fen=3_000, title="围巾")
    order = delivered_order(member, bag, scarf, warehouse=warehouse)
    bag_line, scarf_line = order.lines.order_by("pk")
    assert (bag_line.commission_fen, bag_line.service_fees_fen, bag_line.seller_net_fen) == (
        2_469,  # 20 % of ¥123.45
        3_000 + 1_000 + 500,  # authentication, wash, steam
        12_345 - 2_469 - 4_500,
    )
    assert (scarf_line.commission_fen, scarf_line.service_fees_fen, scarf_line.seller_net_fen) == (600, 0, 2_400)
    # A partial refund on the bag, out of its seller's share.
    request = services.return_request_create(
        line_id=bag_line.pk, buyer=member, reason="damaged", description="肩带有划痕，比描述的严重"
    )
    services.return_decide(
        return_id=request.pk, actor=customer_service, outcome="partial", decision="部分退款 ¥20", refund_fen=2_000
    )
    assert balance_by_code(ESCROW) == 12_345 + 3_000 + SHIPPING - 2_000

    services.order_confirm(order_id=order.pk, buyer=member)

    order.refresh_from_db()
    assert order.status == "completed"
    assert balance_by_code(seller_payable_code(first_seller.pk)) == bag_line.seller_net_fen - 2_000
    assert balance_by_code(seller_payable_code(second_seller.pk)) == 2_400
    assert balance_by_code(COMMISSION_INCOME) == 2_469 + 600
    assert balance_by_code(SERVICE_FEE_INCOME) == 4_500
    assert balance_by_code(SHIPPING_INCOME) == SHIPPING
    assert balance_by_code(ESCROW) == 0
    entry = JournalEntry.objects.get(key=f"order-complete:{order.pk}")
    assert sorted(entry.postings.values_list("account__code", "amount_fen")) == sorted(
        [
            (ESCROW, 12_345 + 3_000 + SHIPPING - 2_000),
            (seller_payable_code(first_seller.pk), -(bag_line.seller_net_fen - 2_000)),
            (seller_payable_code(second_seller.pk), -2_400),
            (COMMISSION_INCOME, -(2_469 + 600)),
            (SERVICE_FEE_INCOME, -4_500),
            (SHIPPING_INCOME, -SHIPPING),
        ]
    )
    assert [item_status(item) for item in (bag, scarf)] == [Item.Status.COMPLETED, Item.Status.COMPLETED]
    assert SellerRecord.objects.get(user=first_seller).orders_total == 1
    books_are_right()
    summary = selectors.seller_money_summary(first_seller)
    assert (summary["earned_fen"], summary["payable_fen"], summary["sold_count"]) == (
        bag_line.seller_net_fen - 2_000,
        bag_line.seller_net_fen - 2_000,
        1,
    )


def test_a_self_ship_sellers_payable_includes_the_shipping(warehouse):
    seller = UserFactory(roles=[roles.SELLER])
    member = buyer()
    order = delivered_order(
        member, listed_item(seller=seller, fulfilment=Item.Fulfilment.SELF_SHIP, price_fen=8_000), warehouse=warehouse
    )

    services.order_confirm(order_id=order.pk, buyer=member)

    assert balance_by_code(seller_payable_code(seller.pk)) == 8_000 - 1_600 + SHIPPING
    assert balance_by_code(COMMISSION_INCOME) == 1_600
    assert balance_by_code(SHIPPING_INCOME) == 0
    assert balance_by_code(ESCROW) == 0
    books_are_right()


def test_the_buyer_confirming_a_shipped_order_delivers_and_completes_it(warehouse):
    member = buyer()
    order = paid_order(member, listed_item())
    services.order_pack(order_id=order.pk, actor=warehouse)
    services.order_ship(order_id=order.pk, actor=warehouse, carrier="顺丰", tracking_number="SF1")

    services.order_confirm(order_id=order.pk, buyer=member)

    order.refresh_from_db()
    assert order.status == "completed"
    assert list(order.transitions.values_list("to_state", "actor_id"))[-2:] == [
        ("delivered", member.pk),
        ("completed", member.pk),
    ]


def test_only_the_buyer_confirms_and_only_a_delivered_order_completes(warehouse):
    member = buyer()
    order = paid_order(member, listed_item())
    before = money_snapshot()

    with pytest.raises(NotFound):
        services.order_confirm(order_id=order.pk, buyer=buyer())
    with pytest.raises(Conflict) as too_early:
        services.order_confirm(order_id=order.pk, buyer=member)

    assert too_early.value.code == "order_closed"
    assert money_snapshot() == before


def test_auto_confirmation_completes_a_delivered_order_after_its_date(warehouse):
    member = buyer()
    seller = UserFactory(roles=[roles.SELLER])
    order = delivered_order(member, listed_item(seller=seller, price_fen=10_000), warehouse=warehouse)

    assert services.orders_settle(now=order.complete_after - timedelta(seconds=1)) == 0
    assert Order.objects.get(pk=order.pk).status == "delivered"
    assert services.orders_settle(order=order, now=order.complete_after) == 1

    order.refresh_from_db()
    assert (order.status, order.completed_at) == ("completed", order.complete_after)
    assert balance_by_code(seller_payable_code(seller.pk)) == 8_000
    assert list(order.transitions.values_list("to_state", "actor_id"))[-1] == ("completed", None)
    books_are_right()
    assert services.orders_settle(now=order.complete_after + timedelta(days=30)) == 0


def test_no_auto_confirmation_while_a_return_is_open(warehouse):
    member = buyer()
    order = delivered_order(member, listed_item(), warehouse=warehouse)
    request = services.return_request_create(
        line_id=order.lines.get().pk, buyer=member, reason="size", description="尺码偏小，穿不上"
    )
    before = money_snapshot()

    assert services.orders_settle(now=order.complete_after + timedelta(days=1)) == 0
    with pytest.raises(Conflict) as confirm:
        services.order_confirm(order_id=order.pk, buyer=member)

    assert confirm.value.code == "return_open"
    assert money_snapshot() == before
    services.return_request_withdraw(return_id=request.pk, buyer=member)
    assert services.orders_settle(now=order.complete_after + timedelta(days=1)) == 1
    assert Order.objects.get(pk=order.pk).status == "completed"


def test_an_experts_commission_is_accrued_at_completion_for_an_attributed_buyer(warehouse):
    from erhuo.experts import selectors as expert_selectors
    from erhuo.experts import services as expert_services
    from erhuo.experts.models import ExpertCommission
    from erhuo.experts.tests.factories import make_expert

    expert = make_expert(level="certified")
    member = buyer()
    expert_services.referral_visit(code=expert.referral_code, visitor=member, visited_at=timezone.now())
    seller = UserFactory(roles=[roles.SELLER])
    order = delivered_order(member, listed_item(seller=seller, price_fen=12_345), warehouse=warehouse)
    line = order.lines.get()
    assert not ExpertCommission.objects.exists()  # nothing before the sale is final

    services.order_confirm(order_id=order.pk, buyer=member)

    bps = expert_selectors.policy().bps_for("certified")
    expected = 12_345 * bps // 10_000
    assert expected > 0
    commission = ExpertCommission.objects.get()
    assert (commission.sale_reference, commission.expert_id) == (line.reference, expert.pk)
    assert expert_selectors.commission_payable_fen(user=expert.user) == expected
    # The expert's share is the platform's expense, not the seller's: her payable is untouched.
    assert balance_by_code(seller_payable_code(seller.pk)) == line.seller_net_fen
    books_are_right()


def test_no_commission_without_an_attribution(warehouse):
    from erhuo.experts.models import ExpertCommission

    member = buyer()
    order = delivered_order(member, listed_item(), warehouse=warehouse)

    services.order_confirm(order_id=order.pk, buyer=member)

    assert not ExpertCommission.objects.exists()


def test_a_shipped_order_nobody_marked_delivered_is_assumed_delivered_after_its_days(settings, warehouse):
    settings.ERHUO_ASSUME_DELIVERED_DAYS = 10
    seller = UserFactory(roles=[roles.SELLER])
    order = paid_order(buyer(), listed_item(seller=seller, fulfilment=Item.Fulfilment.SELF_SHIP, price_fen=10_000))
    services.order_ship(order_id=order.pk, actor=seller, carrier="中通", tracking_number="ZT1")
    order.refresh_from_db()
    assumed_at = order.shipped_at + timedelta(days=10)

    assert services.orders_settle(now=assumed_at - timedelta(seconds=1)) == 0
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert services.orders_settle(now=assumed_at) == 1

    order.refresh_from_db()
    assert (order.status, order.delivered_at) == ("delivered", assumed_at)
    assert order.complete_after == assumed_at + timedelta(days=7)
    last = order.transitions.order_by("pk").last()
    assert (last.to_state, last.actor_id, last.note) == ("delivered", None, "Assumed delivered 10 days after shipping")
    assert item_status(order.lines.get().item) == "delivered"
    # Then the usual confirmation window: it completes and the seller is paid.
    assert services.orders_settle(now=order.complete_after) == 1
    assert Order.objects.get(pk=order.pk).status == "completed"
    books_are_right()


def test_the_self_ship_seller_marks_her_parcel_delivered_and_nobody_else_does(warehouse):
    seller = UserFactory(roles=[roles.SELLER])
    member = buyer()
    order = paid_order(member, listed_item(seller=seller, fulfilment=Item.Fulfilment.SELF_SHIP))
    services.order_ship(order_id=order.pk, actor=seller, carrier="中通", tracking_number="ZT1")
    before = money_snapshot()

    for actor in (warehouse, UserFactory(roles=[roles.SELLER])):
        with pytest.raises(PermissionRefused):
            services.order_deliver(order_id=order.pk, actor=actor)
    assert money_snapshot() == before
    assert Order.objects.get(pk=order.pk).status == "shipped"

    services.order_deliver(order_id=order.pk, actor=seller)

    assert Order.objects.get(pk=order.pk).status == "delivered"
