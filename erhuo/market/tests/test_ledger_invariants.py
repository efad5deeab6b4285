"""Random sequences of market actions against the books (Hypothesis stateful test).

Hypothesis drives the real services with a fake clock (`now`, passed into
every service that takes it, and moved forward by some steps): claims by
several members on a few items, withdrawals, orders of one or more
reservations, sandbox payments (on time, late, twice, their notifications
replayed or tampered with, their allocation delayed), cancellations before
and after payment, packing, shipping (by the warehouse or the self-ship
seller, and by the wrong people), delivery, the buyer's confirmation, the
automatic completion and the self-ship deadline when the clock moves,
expiries settled by reads and by the periodic functions, and returns decided
with full and partial refunds and deposit charges (some too large).

After every step:
- `ledger_problems()` is empty: every entry sums to zero, every stored
  balance equals its postings;
- `money_problems()` is empty and, said again here, escrow holds exactly
  what open paid orders hold (paid − refunded);
- no order and no line is refunded more than was paid for it, and no
  payment is refunded more than its amount;
- each item has at most one reserved claim and one active order line, a live
  queue only while it is reserved, and its queue positions are 0, 1, … once each;
- a refused action that does not settle anything first changed no row.

Each example runs inside a savepoint of the test's transaction, rolled back
in `teardown()`, so every example starts from the same people and items.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone, translation
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import AddressFactory, UserFactory
from erhuo.catalog.models import Item
from erhuo.consignment.models import AuthenticationReport, CareRecord
from erhuo.core.errors import DomainError
from erhuo.ledger.selectors import balance_by_code, ledger_problems
from erhuo.market import selectors, services
from erhuo.market.accounts import ESCROW
from erhuo.market.models import Claim, Order, OrderLine, ReturnRequest
from erhuo.market.tests.factories import category
from erhuo.market.tests.test_orders import money_snapshot
from erhuo.payments import services as payment_services
from erhuo.payments.models import Payment
from erhuo.payments.providers import SANDBOX_SIGNATURE_HEADER, NotificationRejected, SandboxProvider
from erhuo.trust.models import DepositDeduction

S = Order.Status
PICK = st.integers(0, 40)
# Minutes the clock moves: within a window, past a window, past the self-ship deadline, past auto-confirmation.
CLOCK_STEPS = st.sampled_from([1, 5, 10, 31, 31, 60 * 49, 60 * 24 * 8, 60 * 24 * 16])


# Refusals that are bugs in one thread: the books, the state machines or the refunds disagreeing with the services.
NEVER_AN_ANSWER = {
    "unbalanced_entry",
    "state_changed",
    "transition_not_allowed",
    "refund_exceeds_payment",
    "payment_not_refundable",
    "idempotency_key_reused",
    "amount_invalid",
    "key_invalid",
}


@dataclass
class World:
    buyers: list
    sellers: list  # sellers[0] has a deposit (for charges); sellers[1] ships her own items
    warehouse: object
    customer_service: object
    items: list

    @classmethod
    def create(cls) -> "World":
        from erhuo.consignment.tests.factories import make_seller
        from erhuo.experts import services as expert_services
        from erhuo.experts.tests.factories import make_expert

        buyers = [UserFactory(roles=[roles.MEMBER]) for _ in range(3)]
        for member in buyers:
            AddressFactory(user=member)
        expert = make_expert()
        expert_services.referral_visit(code=expert.referral_code, visitor=buyers[0], visited_at=timezone.now())
        sellers = [make_seller(), UserFactory(roles=[roles.SELLER])]
        warehouse = UserFactory(roles=[roles.INTAKE_CLERK])
        clothes = category("market-invariants-clothes", window_days=7)
        hygiene = category("market-invariants-hygiene", returnable=False)

        def item(seller, price, *, fulfilment=Item.Fulfilment.PLATFORM, category_obj=clothes):
            return Item.objects.create(
                seller=seller,
                title=f"物品 {price}",
                category=category_obj,
                grade="A",
                price_fen=price,
                fulfilment=fulfilment,
                status=Item.Status.LISTED,
                listed_at=timezone.now(),
            )

        authenticated = item(sellers[0], 18_800)
        AuthenticationReport.objects.create(item=authenticated, result="pass", checks=[], authenticator=warehouse)
        CareRecord.objects.create(item=authenticated, step="wash", done_by=warehouse)
        items = [
            authenticated,
            item(sellers[0], 12_345),
            item(sellers[1], 6_000, fulfilment=Item.Fulfilment.SELF_SHIP),
            item(sellers[1], 4_500, fulfilment=Item.Fulfilment.SELF_SHIP, category_obj=hygiene),
            item(sellers[0], 30_000),
        ]
        return cls(
            buyers=buyers,
            sellers=sellers,
            warehouse=warehouse,
            customer_service=UserFactory(roles=[roles.CUSTOMER_SERVICE]),
            items=items,
        )


def snapshot() -> dict:
    return {
        **money_snapshot(),
        "deductions": list(DepositDeduction.objects.order_by("pk").values_list("pk", "amount_fen")),
    }


def pick(queryset, index):
    rows = list(queryset.order_by("pk"))
    return rows[index % len(rows)] if rows else None


def payment_refunded_fen(payment: Payment) -> int:
    return payment.refunds.aggregate(total=Sum("amount_fen"))["total"] or 0


class MarketMachine(RuleBasedStateMachine):
    world: World  # set by the test before running

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.now = timezone.now()
        self.keys = 0
        self.refusals: Counter = Counter()

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    # --- helpers ------------------------------------------------------------------------------------

    def attempt(self, name: str, call, *, pure: bool = True, **kwargs):
        """Run a service; a refusal of a `pure` action (one that settles nothing first) must change nothing."""
        before = snapshot() if pure else None
        try:
            return call(**kwargs)
        except DomainError as error:
            assert error.code not in NEVER_AN_ANSWER, f"{name}: {error.code} ({error.message})"
            if pure:
                assert snapshot() == before, f"{name} refused ({error.code}) but changed something"
            self.refusals[f"{name}:{error.code}"] += 1
            return None

    def notify(self, payment: Payment, *, tamper: bool = False):
        body, headers = SandboxProvider().notification_for(payment)
        if tamper:
            body = body.replace(b'"status": "succeeded"', b'"status": "failed"')
        try:
            return payment_services.notification_receive(provider="sandbox", body=body, headers=headers)
        except NotificationRejected as error:
            assert tamper, f"a genuine notification was rejected: {error.code}"
            return None

    def allocate(self, payment: Payment):
        services.order_payment_allocate(payment_id=payment.pk, now=self.now)

    def buy(self, member: int, items, *, delay: int = 0, allocate: bool = True):
        """Claim the items, order what she got and pay in the sandbox (the notification maybe late)."""
        buyer = self.world.buyers[member]
        for index in sorted(items):
            self.attempt("claim", services.claim_create, item_id=self.world.items[index].pk, member=buyer, now=self.now)
        # Her reservations not yet in an order, those that may travel together (the platform's, or one seller's).
        reserved = Claim.objects.filter(member=buyer, status=Claim.Status.RESERVED).exclude(order_lines__active=True)
        groups: dict[tuple, list[int]] = {}
        for claim in reserved.select_related("item").order_by("pk"):
            self_ship = claim.item.fulfilment == Item.Fulfilment.SELF_SHIP
            groups.setdefault((self_ship, claim.item.seller_id if self_ship else None), []).append(claim.pk)
        for claim_ids in groups.values():
            order = self.attempt(
                "order", services.order_create, pure=False, buyer=buyer, claim_ids=claim_ids, now=self.now
            )
            if order is not None:
                self.pay_order(order, delay=delay, allocate=allocate)

    def pay_order(self, order: Order, *, delay: int, allocate: bool):
        payment = self.attempt(
            "pay",
            services.order_pay,
            pure=False,
            order_id=order.pk,
            buyer=order.buyer,
            provider="sandbox",
            now=self.now,
        )
        if payment is None:
            return
        self.now += timedelta(minutes=delay)
        self.notify(payment)
        if allocate:
            self.allocate(payment)

    def fulfil_order(self, order: Order, *, right_person: bool = True):
        """The next step of an order: pack, ship or deliver, by whoever does it (or by someone else, refused)."""
        fulfiller = self.world.warehouse if order.fulfilment == Order.Fulfilment.PLATFORM else order.shipper
        actor = fulfiller if right_person else self.world.customer_service
        if order.status == S.PAID and order.fulfilment == Order.Fulfilment.PLATFORM:
            self.attempt("pack", services.order_pack, order_id=order.pk, actor=actor)
        elif order.status in (S.PAID, S.PACKED):
            self.attempt(
                "ship",
                services.order_ship,
                order_id=order.pk,
                actor=actor,
                carrier="顺丰",
                tracking_number=f"SF{order.pk:08d}",
                now=self.now,
            )
        elif order.status == S.SHIPPED:
            self.attempt("deliver", services.order_deliver, order_id=order.pk, actor=actor, now=self.now)

    # --- a head start ------------------------------------------------------------------------------------

    @initialize(start=st.sampled_from(["nothing", "paid", "delivered", "delivered"]), member=st.integers(0, 2))
    def head_start(self, start, member):
        """Most examples start with an order already paid or delivered, so that later steps reach returns."""
        if start == "nothing":
            return
        self.buy(member, {member, 4})
        order = Order.objects.filter(buyer=self.world.buyers[member], status=S.PAID).first()
        while start == "delivered" and order is not None and order.status != S.DELIVERED:
            self.fulfil_order(order)
            order.refresh_from_db()

    # --- claims ---------------------------------------------------------------------------------------

    @rule(
        member=st.integers(0, 2),
        items=st.sets(st.integers(0, 4), min_size=1, max_size=3),
        delay=st.sampled_from([0, 0, 0, 0, 31]),
        allocate=st.sampled_from([True, True, True, False]),
    )
    def buy_now(self, member, items, delay, allocate):
        """A member in a hurry: claims, orders and pays in one go (late one time in five)."""
        self.buy(member, items, delay=delay, allocate=allocate)

    @rule(member=st.integers(0, 2), item=st.integers(0, 4))
    def claim(self, member, item):
        self.attempt(
            "claim",
            services.claim_create,
            item_id=self.world.items[item].pk,
            member=self.world.buyers[member],
            now=self.now,
        )

    @precondition(lambda self: Claim.objects.filter(status__in=Claim.LIVE).exists())
    @rule(index=PICK, changes_her_mind=st.sampled_from([True, False, False]))
    def withdraw(self, index, changes_her_mind):
        if not changes_her_mind:
            return
        claim = pick(Claim.objects.filter(status__in=Claim.LIVE), index)
        self.attempt("withdraw", services.claim_withdraw, claim_id=claim.pk, member=claim.member, now=self.now)

    @rule(member=st.integers(0, 2), which=st.sets(st.integers(0, 4), min_size=1, max_size=3))
    def order(self, member, which):
        buyer = self.world.buyers[member]
        claims = list(Claim.objects.filter(member=buyer, status=Claim.Status.RESERVED).order_by("pk"))
        chosen = [claim.pk for index, claim in enumerate(claims) if index in which] or [c.pk for c in claims[:1]]
        if chosen:
            # Not `pure`: it settles the items' overdue reservations before it may refuse.
            self.attempt("order", services.order_create, pure=False, buyer=buyer, claim_ids=chosen, now=self.now)

    # --- paying ----------------------------------------------------------------------------------------

    @precondition(lambda self: Order.objects.filter(status=S.PENDING_PAYMENT).exists())
    @rule(index=PICK, delay=st.sampled_from([0, 0, 0, 5, 31]), allocate=st.sampled_from([True, True, False]))
    def pay(self, index, delay, allocate):
        """Pay in the sandbox; the notification may arrive late (after the window), and its event may be lost."""
        self.pay_order(pick(Order.objects.filter(status=S.PENDING_PAYMENT), index), delay=delay, allocate=allocate)

    @precondition(lambda self: Order.objects.filter(status=S.PENDING_PAYMENT).exists())
    @rule(index=PICK, second_first=st.booleans())
    def pay_twice(self, index, second_first):
        """Two tabs, two payments, both paid; both allocated, in either order."""
        order = pick(Order.objects.filter(status=S.PENDING_PAYMENT), index)
        payments = []
        for _tab in range(2):
            self.keys += 1
            payment = self.attempt(
                "pay",
                services.order_pay,
                pure=False,
                order_id=order.pk,
                buyer=order.buyer,
                provider="sandbox",
                idempotency_key=f"tab-{self.keys}",
                now=self.now,
            )
            if payment is None:
                return
            payments.append(payment)
        for payment in payments:
            self.notify(payment)
        for payment in reversed(payments) if second_first else payments:
            self.allocate(payment)

    @precondition(lambda self: Payment.objects.filter(purpose="order", status="succeeded").exists())
    @rule()
    def allocate_every_payment(self):
        """The event handler retried, or the periodic task: allocating is idempotent."""
        for payment in Payment.objects.filter(purpose="order", status="succeeded").order_by("pk"):
            self.allocate(payment)

    @precondition(lambda self: Payment.objects.filter(purpose="order").exists())
    @rule(index=PICK, tamper=st.booleans())
    def replay_notification(self, index, tamper):
        """A replay of an applied notification, or a tampered one, changes nothing."""
        candidates = Payment.objects.filter(purpose="order")
        if not tamper:
            candidates = candidates.filter(status="succeeded")
        payment = pick(candidates, index)
        if payment is None:
            return
        before = snapshot()
        if tamper:
            body, headers = SandboxProvider().notification_for(payment)
            forged = body.replace(b'"status": "succeeded"', b'"status": "failed"')
            try:
                payment_services.notification_receive(
                    provider="sandbox",
                    body=forged,
                    headers={SANDBOX_SIGNATURE_HEADER: headers[SANDBOX_SIGNATURE_HEADER]},
                )
            except NotificationRejected:
                pass
            else:
                raise AssertionError("a tampered notification was accepted")
        else:
            self.notify(payment)
        assert snapshot() == before

    # --- cancelling and fulfilment --------------------------------------------------------------------------

    @precondition(lambda self: Order.objects.filter(status__in=(S.PENDING_PAYMENT, S.PAID, S.PACKED)).exists())
    @rule(index=PICK, who=st.sampled_from(["buyer", "buyer", "customer_service", "stranger"]))
    def cancel(self, index, who):
        order = pick(Order.objects.filter(status__in=(S.PENDING_PAYMENT, S.PAID, S.PACKED, S.SHIPPED)), index)
        actor = {
            "buyer": order.buyer,
            "customer_service": self.world.customer_service,
            "stranger": self.world.warehouse,
        }[who]
        self.attempt("cancel", services.order_cancel, order_id=order.pk, actor=actor, reason="测试取消", now=self.now)

    @precondition(lambda self: Order.objects.filter(status__in=(S.PAID, S.PACKED, S.SHIPPED)).exists())
    @rule(index=PICK, right_person=st.sampled_from([True, True, True, False]), to_the_door=st.booleans())
    def fulfil(self, index, right_person, to_the_door):
        """The next step of an order (or every step to delivery), by whoever does it or by someone else."""
        order = pick(Order.objects.filter(status__in=(S.PAID, S.PACKED, S.SHIPPED)), index)
        for _step in range(3 if to_the_door and right_person else 1):
            self.fulfil_order(order, right_person=right_person)
            order.refresh_from_db()

    @precondition(lambda self: Order.objects.filter(status__in=(S.SHIPPED, S.DELIVERED)).exists())
    @rule(index=PICK)
    def confirm(self, index):
        order = pick(Order.objects.filter(status__in=(S.SHIPPED, S.DELIVERED)), index)
        self.attempt("confirm", services.order_confirm, order_id=order.pk, buyer=order.buyer, now=self.now)

    # --- the clock ---------------------------------------------------------------------------------------

    @rule(minutes=CLOCK_STEPS, settle=st.sampled_from(["nothing", "reads", "claims", "orders", "both"]))
    def time_passes(self, minutes, settle):
        self.now += timedelta(minutes=minutes)
        if settle in ("claims", "both"):
            services.claims_settle_due(now=self.now)
        if settle in ("orders", "both"):
            services.orders_settle(now=self.now)
        if settle == "reads":
            for member in self.world.buyers:
                services.claims_settle_member(member=member, now=self.now)
            for order in Order.objects.filter(status__in=(S.PENDING_PAYMENT, S.PAID, S.DELIVERED)):
                services.orders_settle(order=order, now=self.now)

    # --- returns -------------------------------------------------------------------------------------------

    @precondition(lambda self: Order.objects.filter(status__in=(S.PAID, S.PACKED, S.SHIPPED, S.DELIVERED)).exists())
    @rule(
        index=PICK,
        reason=st.sampled_from(["size", "damaged", "counterfeit", "not_as_described"]),
        decide_at_once=st.sampled_from([True, True, False]),
        outcome=st.sampled_from(["refunded", "partial", "partial", "rejected"]),
        refund=st.sampled_from([1, 500, 2_000, 9_999, 10**7]),
        charge=st.sampled_from([0, 0, 1_000, 10**7]),
    )
    def ask_for_a_return(self, index, reason, decide_at_once, outcome, refund, charge):
        """The buyer asks (mostly on a line with no open return), and customer service often decides at once.

        With no order delivered yet, one on its way is delivered first."""
        if not Order.objects.filter(status=S.DELIVERED).exists():
            order = pick(Order.objects.filter(status__in=(S.PAID, S.PACKED, S.SHIPPED)), index)
            for _step in range(3):
                self.fulfil_order(order)
                order.refresh_from_db()
        delivered = OrderLine.objects.filter(order__status=S.DELIVERED)
        if not delivered.exists():
            return
        line = pick(delivered.exclude(returns__status="requested"), index) or pick(delivered, index)
        request = self.attempt(
            "return",
            services.return_request_create,
            line_id=line.pk,
            buyer=line.order.buyer,
            reason=reason,
            description="与描述不符，申请退货",
            now=self.now,
        )
        if request is not None and decide_at_once:
            self.decide(request, outcome=outcome, refund=refund, charge=charge, who="customer_service")

    def decide(self, request: ReturnRequest, *, outcome: str, refund: int, charge: int, who: str):
        actor = self.world.customer_service if who == "customer_service" else request.buyer
        self.attempt(
            "decide",
            services.return_decide,
            return_id=request.pk,
            actor=actor,
            outcome=outcome,
            decision="客服核实后决定",
            refund_fen=refund,
            deposit_charge_fen=charge,
            now=self.now,
        )

    @precondition(lambda self: ReturnRequest.objects.filter(status="requested").exists())
    @rule(
        index=PICK,
        outcome=st.sampled_from(["refunded", "partial", "partial", "rejected"]),
        refund=st.sampled_from([1, 500, 2_000, 9_999, 10**7]),
        charge=st.sampled_from([0, 0, 1_000, 10**7]),
        who=st.sampled_from(["customer_service", "customer_service", "customer_service", "buyer"]),
    )
    def decide_a_return(self, index, outcome, refund, charge, who):
        request = pick(ReturnRequest.objects.filter(status="requested"), index)
        self.decide(request, outcome=outcome, refund=refund, charge=charge, who=who)

    @precondition(lambda self: ReturnRequest.objects.filter(status="requested").exists())
    @rule(index=PICK)
    def withdraw_a_return(self, index):
        request = pick(ReturnRequest.objects.filter(status="requested"), index)
        self.attempt("return_withdraw", services.return_request_withdraw, return_id=request.pk, buyer=request.buyer)

    # --- invariants -------------------------------------------------------------------------------------------

    @invariant()
    def the_books_balance(self):
        assert ledger_problems() == []

    @invariant()
    def escrow_holds_what_open_paid_orders_hold(self):
        assert selectors.money_problems() == []
        held = Order.objects.filter(status__in=Order.OPEN_PAID).aggregate(
            paid=Sum("paid_fen"), refunded=Sum("refunded_fen")
        )
        assert balance_by_code(ESCROW) == (held["paid"] or 0) - (held["refunded"] or 0)

    @invariant()
    def nothing_is_refunded_beyond_what_was_paid(self):
        assert not Order.objects.filter(refunded_fen__gt=F("paid_fen")).exists()
        assert not OrderLine.objects.filter(refunded_fen__gt=F("price_fen")).exists()
        assert not Order.objects.filter(refunded_fen__lt=0).exists()
        for payment in Payment.objects.filter(purpose="order", status="succeeded"):
            assert payment_refunded_fen(payment) <= payment.amount_fen, payment
        # An order's money is its one payment's: the total, while it is paid and open.
        for order in Order.objects.filter(status__in=Order.OPEN_PAID):
            assert order.payment_id is not None and order.paid_fen == order.total_fen, order
        assert not Order.objects.filter(status__in=(S.PENDING_PAYMENT, S.CANCELLED), paid_fen__gt=0).exists()
        assert not Order.objects.filter(status=S.REFUNDED).exclude(refunded_fen=F("paid_fen")).exists()

    @invariant()
    def one_reservation_one_active_line_and_a_clean_queue_per_item(self):
        for item in Item.objects.filter(pk__in=[item.pk for item in self.world.items]):
            claims = list(Claim.objects.filter(item=item, status__in=Claim.LIVE).order_by("seq"))
            reserved = [claim for claim in claims if claim.status == Claim.Status.RESERVED]
            assert len(reserved) <= 1
            assert OrderLine.objects.filter(item=item, active=True).count() <= 1
            if item.status == Item.Status.RESERVED:
                assert len(reserved) == 1, f"item {item.pk} is reserved for nobody"
            else:
                assert claims == [], f"item {item.pk} is {item.status} with a live queue"
            positions = [selectors.claim_position(claim) for claim in claims]
            assert positions == list(range(len(claims))), positions
            seqs = list(Claim.objects.filter(item=item).values_list("seq", flat=True))
            assert len(seqs) == len(set(seqs))


SETTINGS = hypothesis_settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@pytest.mark.django_db
def test_random_market_sequences_keep_the_books(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    settings.ERHUO_CLAIM_PAYMENT_MINUTES = 30
    settings.ERHUO_SHIPPING_FEE_FEN = 1_000
    settings.ERHUO_FREE_SHIPPING_FROM_FEN = 29_900
    settings.ERHUO_SELF_SHIP_HOURS = 48
    settings.ERHUO_AUTO_CONFIRM_DAYS = 7
    with translation.override("en"):
        MarketMachine.world = World.create()
        run_state_machine_as_test(MarketMachine, settings=SETTINGS)
