"""Claims, hand-overs and payment notifications from many threads at once, against a real database.

Each thread opens its own connection. On SQLite the threads share a file
database configured as the project configures production (WAL, IMMEDIATE
transactions, a busy timeout; see `erhuo/settings.py`): pytest-django's
shared in-memory test database locks whole tables and answers "locked" at
once instead of waiting, which is not what production does. The fixture
copies the migrated test database into a file and points every thread (and
the test itself) at it. On PostgreSQL (`DATABASE_URL`, CI's second pass) the
threads connect to the test database directly, each with its own connection
outside the pool, so that all of them really run at the same time.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import AddressFactory, UserFactory
from erhuo.catalog.models import Item, ItemTransition
from erhuo.core.errors import DomainError
from erhuo.core.testing import run_at_once
from erhuo.ledger.models import JournalEntry
from erhuo.ledger.selectors import balance_by_code, ledger_problems
from erhuo.market import selectors, services
from erhuo.market.accounts import ESCROW
from erhuo.market.models import Claim, ClaimTransition, Order, ReturnRequest
from erhuo.market.tests.factories import category
from erhuo.payments import services as payment_services
from erhuo.payments.models import Payment, PaymentNotification
from erhuo.payments.providers import SandboxProvider

pytestmark = pytest.mark.django_db(transaction=True)

CLAIMERS = 30
WINDOW = timedelta(minutes=30)


@pytest.fixture(autouse=True)
def _market_settings(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    settings.ERHUO_CLAIM_PAYMENT_MINUTES = 30


def on_sale(title="真丝衬衫", price_fen=12_000) -> Item:
    seller = UserFactory(roles=[roles.SELLER])
    return Item.objects.create(
        seller=seller,
        title=title,
        category=category(),
        grade="A",
        price_fen=price_fen,
        status=Item.Status.LISTED,
        listed_at=timezone.now(),
    )


def members(count: int) -> list:
    return [UserFactory(roles=[roles.MEMBER]) for _ in range(count)]


# --- thirty members claim one item at the same instant -------------------------------------------------


def test_thirty_members_claim_one_item_at_once_one_winner_and_a_fair_queue(real_database):
    item = on_sale()
    claimers = members(CLAIMERS)

    results = run_at_once(
        real_database,
        [lambda member=member: services.claim_create(item_id=item.pk, member=member) for member in claimers],
    )

    refused = [result for result in results if isinstance(result, DomainError)]
    assert refused == []
    assert [claim.status for claim in results].count("reserved") == 1
    assert sorted(claim.position for claim in results) == list(range(CLAIMERS))
    # The place each was told is her place in the order the database accepted the claims.
    assert all(claim.position == claim.seq - 1 for claim in results)
    rows = list(Claim.objects.filter(item=item).order_by("seq"))
    assert [claim.seq for claim in rows] == list(range(1, CLAIMERS + 1))
    assert sorted(claim.member_id for claim in rows) == sorted(member.pk for member in claimers)
    assert [claim.status for claim in rows] == ["reserved"] + ["queued"] * (CLAIMERS - 1)
    assert [selectors.claim_position(claim) for claim in rows] == list(range(CLAIMERS))
    assert {claim.pk: claim.position for claim in results} == {
        claim.pk: selectors.claim_position(claim) for claim in rows
    }
    assert Item.objects.get(pk=item.pk).status == Item.Status.RESERVED
    assert list(ItemTransition.objects.filter(subject=item).values_list("from_state", "to_state")) == [
        ("listed", "reserved")
    ]
    assert ClaimTransition.objects.filter(subject__item=item).count() == CLAIMERS


def test_the_same_member_claiming_from_many_tabs_at_once_gets_one_place(real_database):
    item = on_sale()
    member = UserFactory(roles=[roles.MEMBER])

    results = run_at_once(real_database, [lambda: services.claim_create(item_id=item.pk, member=member)] * 8)

    taken = [result for result in results if isinstance(result, Claim)]
    refused = [result.code for result in results if isinstance(result, DomainError)]
    assert len(taken) == 1
    assert refused == ["already_claimed"] * 7
    assert list(Claim.objects.filter(item=item).values_list("member_id", "status", "seq")) == [
        (member.pk, "reserved", 1)
    ]


# --- the hand-over, raced -----------------------------------------------------------------------------


def test_withdrawing_the_reservation_while_reads_settle_it_hands_over_exactly_once(real_database):
    for _round in range(6):
        item = on_sale()
        first, second, third, latecomer = members(4)
        long_ago = timezone.now() - WINDOW - timedelta(minutes=1)
        reserved = services.claim_create(item_id=item.pk, member=first, now=long_ago)
        services.claim_create(item_id=item.pk, member=second, now=long_ago)
        services.claim_create(item_id=item.pk, member=third, now=long_ago)
        start = timezone.now()

        withdrawn, settled_item, settled_member, late_claim = run_at_once(
            real_database,
            [
                lambda: services.claim_withdraw(claim_id=reserved.pk, member=first),
                lambda: services.claims_settle_item(item_id=item.pk),
                lambda: services.claims_settle_member(member=third),
                lambda: services.claim_create(item_id=item.pk, member=latecomer),
            ],
        )

        first_claim = Claim.objects.get(pk=reserved.pk)
        if first_claim.status == "withdrawn":
            assert isinstance(withdrawn, Claim)
            assert (settled_item, settled_member) == (0, 0)
        else:
            # A read got there first: her reservation had expired, and she is told so.
            assert first_claim.status == "expired"
            assert isinstance(withdrawn, DomainError) and withdrawn.code == "claim_closed"
            assert settled_item + settled_member <= 1
        assert (late_claim.status, late_claim.position, late_claim.seq) == ("queued", 2, 4)
        rows = list(Claim.objects.filter(item=item).order_by("seq"))
        assert [(claim.member_id, claim.status) for claim in rows] == [
            (first.pk, first_claim.status),
            (second.pk, "reserved"),
            (third.pk, "queued"),
            (latecomer.pk, "queued"),
        ]
        assert [selectors.claim_position(claim) for claim in rows] == [None, 0, 1, 2]
        # Exactly one hand-over, with a window fresh from the moment it happened.
        assert ClaimTransition.objects.filter(subject__item=item, from_state="queued", to_state="reserved").count() == 1
        assert rows[1].reserved_at >= start
        assert rows[1].reserved_until == rows[1].reserved_at + WINDOW
        assert Item.objects.get(pk=item.pk).status == Item.Status.RESERVED


# --- payment notifications, raced -------------------------------------------------------------------


def unpaid_order() -> tuple[Order, Payment]:
    item = on_sale(price_fen=12_000)
    member = UserFactory(roles=[roles.MEMBER])
    AddressFactory(user=member)
    claim = services.claim_create(item_id=item.pk, member=member)
    order = services.order_create(buyer=member, claim_ids=[claim.pk])
    payment = services.order_pay(order_id=order.pk, buyer=member, provider="sandbox")
    return order, payment


def test_two_deliveries_of_the_same_notification_at_once_apply_once(real_database):
    order, payment = unpaid_order()
    body, headers = SandboxProvider().notification_for(payment)

    results = run_at_once(
        real_database,
        [lambda: payment_services.notification_receive(provider="sandbox", body=body, headers=headers)] * 2,
    )

    assert sorted(result.outcome for result in results) == ["applied", "duplicate"]
    assert Payment.objects.get(pk=payment.pk).status == "succeeded"
    assert PaymentNotification.objects.filter(payment=payment, outcome="applied").count() == 1
    # The money came in once, and went into escrow once (the `payment_succeeded` handler ran after commit).
    assert JournalEntry.objects.filter(key=f"payment:{payment.pk}").count() == 1
    assert JournalEntry.objects.filter(kind="order_paid", reference=order.reference).count() == 1
    order.refresh_from_db()
    assert (order.status, order.payment_id, order.paid_fen) == ("paid", payment.pk, 13_000)
    assert balance_by_code(ESCROW) == 13_000
    assert ledger_problems() == []
    assert selectors.money_problems() == []


def test_allocating_one_payment_from_several_places_at_once_allocates_it_once(real_database):
    order, payment = unpaid_order()
    body, headers = SandboxProvider().notification_for(payment)
    # Received with its event lost (no handler ran): the periodic task and a retried handler race to allocate.
    from erhuo.core import events

    handlers = events.handlers_for("payment_succeeded")
    for handler in handlers:
        events.unregister("payment_succeeded", handler)
    try:
        payment_services.notification_receive(provider="sandbox", body=body, headers=headers)
    finally:
        for handler in handlers:
            events.on("payment_succeeded")(handler)
    assert Order.objects.get(pk=order.pk).status == "pending_payment"

    from erhuo.market.services.orders import orders_allocate_missed

    run_at_once(
        real_database,
        [lambda: services.order_payment_allocate(payment_id=payment.pk)] * 3 + [orders_allocate_missed],
    )

    order.refresh_from_db()
    assert (order.status, order.payment_id) == ("paid", payment.pk)
    assert JournalEntry.objects.filter(kind="order_paid").count() == 1
    assert balance_by_code(ESCROW) == 13_000
    assert not JournalEntry.objects.filter(kind__icontains="refund").exists()
    assert ledger_problems() == []
    assert selectors.money_problems() == []


# --- an order made at the moment its reservation runs out ---------------------------------------------


def test_ordering_while_the_reservation_is_settled_or_withdrawn_never_deadlocks(real_database):
    """The buyer orders at the last second while a read settles the item and she withdraws in another tab.

    Whatever wins, nobody gets a database error, and an order never outlives its reservation.
    """
    for _round in range(8):
        item = on_sale()
        member, waiting = members(2)
        AddressFactory(user=member)
        start = timezone.now()
        claim = services.claim_create(item_id=item.pk, member=member, now=start)
        services.claim_create(item_id=item.pk, member=waiting, now=start)
        expiry = claim.reserved_until

        ordered, settled, withdrawn = run_at_once(
            real_database,
            [
                lambda claim=claim, member=member: services.order_create(buyer=member, claim_ids=[claim.pk], now=start),
                lambda item=item, expiry=expiry: services.claims_settle_item(item_id=item.pk, now=expiry),
                lambda claim=claim, member=member: services.claim_withdraw(
                    claim_id=claim.pk, member=member, now=start + timedelta(minutes=1)
                ),
            ],
        )

        ended = Claim.objects.get(pk=claim.pk)
        assert ended.status in ("expired", "withdrawn")
        assert (settled == 1) == (ended.status == "expired")
        assert isinstance(withdrawn, Claim) == (ended.status == "withdrawn")
        if isinstance(ordered, Order):
            # Made before the reservation ended: the end cancelled it.
            assert Order.objects.get(pk=ordered.pk).status == "cancelled"
        else:
            assert ordered.code == "reservation_expired"
        assert not Order.objects.filter(status="pending_payment").exists()
        assert list(Claim.objects.filter(item=item, member=waiting).values_list("status", flat=True)) == ["reserved"]


def test_a_payment_allocated_while_a_second_one_is_being_paid_neither_fails_nor_deadlocks(real_database):
    """Two tabs: the first payment is being allocated (the ledger's accounts locked) while the provider's
    notification for the second arrives (its payment locked). Whichever reaches the order first is kept; the
    other is cancelled unpaid, or refunded in full."""
    from erhuo.core import events

    for _round in range(10):
        order, first = unpaid_order()
        second = services.order_pay(
            order_id=order.pk, buyer=order.buyer, provider="sandbox", idempotency_key=f"second-{order.pk}"
        )
        handlers = events.handlers_for("payment_succeeded")
        for handler in handlers:
            events.unregister("payment_succeeded", handler)
        try:
            body, headers = SandboxProvider().notification_for(first)
            payment_services.notification_receive(provider="sandbox", body=body, headers=headers)
        finally:
            for handler in handlers:
                events.on("payment_succeeded")(handler)
        body, headers = SandboxProvider().notification_for(second)

        _allocated, notified = run_at_once(
            real_database,
            [
                lambda first=first: services.order_payment_allocate(payment_id=first.pk),
                lambda body=body, headers=headers: payment_services.notification_receive(
                    provider="sandbox", body=body, headers=headers
                ),
            ],
        )

        if isinstance(notified, DomainError):
            raise AssertionError(f"the second notification was refused: {notified.code}")
        order.refresh_from_db()
        assert (order.status, order.paid_fen) == ("paid", 13_000)
        kept = Payment.objects.get(pk=order.payment_id)
        other = Payment.objects.get(pk=second.pk if kept.pk == first.pk else first.pk)
        assert list(kept.refunds.values_list("amount_fen", flat=True)) == []
        if other.status == "succeeded":
            # Its money came in too: it never entered escrow and went back in full.
            assert list(other.refunds.values_list("amount_fen", "status")) == [(13_000, "succeeded")]
        else:
            # The second tab was cancelled before its notification could pay it.
            assert (other.pk, other.status) == (second.pk, "cancelled")
        assert JournalEntry.objects.filter(kind="order_paid", reference=order.reference).count() == 1
        assert ledger_problems() == []
        assert selectors.money_problems() == []


def test_a_return_asked_as_the_order_completes_automatically_is_one_or_the_other(real_database):
    """The last moment of the return window is the moment of automatic confirmation: either the return
    is open and the order waits for its decision, or the order completed and the return is refused."""
    warehouse = UserFactory(roles=[roles.INTAKE_CLERK])
    for _round in range(8):
        order, payment = unpaid_order()
        payment_services.sandbox_pay(payment_id=payment.pk, payer=order.buyer)
        services.order_pack(order_id=order.pk, actor=warehouse)
        services.order_ship(order_id=order.pk, actor=warehouse, carrier="顺丰", tracking_number="SF1")
        services.order_deliver(order_id=order.pk, actor=warehouse)
        order.refresh_from_db()
        line = order.lines.get()
        moment = order.complete_after

        asked, settled = run_at_once(
            real_database,
            [
                lambda line=line, order=order, moment=moment: services.return_request_create(
                    line_id=line.pk, buyer=order.buyer, reason="size", description="尺码不合适，想退", now=moment
                ),
                lambda order=order, moment=moment: services.orders_settle(order=order, now=moment),
            ],
        )

        order.refresh_from_db()
        open_returns = ReturnRequest.objects.filter(line=line, status="requested").count()
        if order.status == "completed":
            assert settled == 1
            assert open_returns == 0
            assert isinstance(asked, DomainError) and asked.code == "return_window_closed"
        else:
            assert (order.status, open_returns, settled) == ("delivered", 1, 0)
        assert selectors.money_problems() == []


def test_a_refund_decided_while_finance_confirms_another_of_the_same_payment(real_database):
    """Customer service refunds one item while finance confirms the manual refund of another item of the
    same order: the payment's row and the ledger's accounts are taken in one order by both, no deadlock."""
    from erhuo.payments.services import refund_manual_confirm
    from erhuo.trust.tests.factories import id_photo

    warehouse = UserFactory(roles=[roles.INTAKE_CLERK])
    finance = UserFactory(roles=[roles.FINANCE])
    agent = UserFactory(roles=[roles.CUSTOMER_SERVICE])
    for _round in range(8):
        member = UserFactory(roles=[roles.MEMBER])
        AddressFactory(user=member)
        items = [on_sale(title=f"衬衫 {index}", price_fen=12_000) for index in range(2)]
        claims = [services.claim_create(item_id=item.pk, member=member) for item in items]
        order = services.order_create(buyer=member, claim_ids=[claim.pk for claim in claims])
        payment = services.order_pay(order_id=order.pk, buyer=member, provider="manual")
        payment_services.payment_proof_submit(payment_id=payment.pk, payer=member, proof=id_photo("proof.png"))
        payment_services.payment_manual_confirm(payment_id=payment.pk, actor=finance)
        services.order_pack(order_id=order.pk, actor=warehouse)
        services.order_ship(order_id=order.pk, actor=warehouse, carrier="顺丰", tracking_number="SF1")
        services.order_deliver(order_id=order.pk, actor=warehouse)
        first_line, second_line = order.lines.order_by("pk")
        requests = [
            services.return_request_create(
                line_id=line.pk, buyer=member, reason="damaged", description="有划痕，申请补偿"
            )
            for line in (first_line, second_line)
        ]
        services.return_decide(
            return_id=requests[0].pk, actor=agent, outcome="partial", decision="补偿 ¥10", refund_fen=1_000
        )
        pending = payment.refunds.get()
        assert pending.status == "pending"

        confirmed, decided = run_at_once(
            real_database,
            [
                lambda pending=pending: refund_manual_confirm(refund_id=pending.pk, actor=finance),
                lambda request=requests[1]: services.return_decide(
                    return_id=request.pk, actor=agent, outcome="partial", decision="补偿 ¥20", refund_fen=2_000
                ),
            ],
        )

        assert not isinstance(confirmed, DomainError) and not isinstance(decided, DomainError)
        assert sorted(payment.refunds.values_list("amount_fen", "status")) == [
            (1_000, "succeeded"),
            (2_000, "pending"),
        ]
        order.refresh_from_db()
        assert (order.status, order.refunded_fen) == ("delivered", 3_000)
        assert ledger_problems() == []
        assert selectors.money_problems() == []
