"""Random sequences of deposit and payment actions, by the right and the wrong people, against the books.

Hypothesis drives the real services: deposit payments started (manual and
sandbox, shortfalls and top-ups, with and without idempotency keys), paid in
the sandbox, proven and confirmed or rejected by finance (and by people who
may not), cancelled; sandbox notifications replayed and tampered with;
deductions (some larger than the balance, some by the wrong role); return
requests, confirmations and cancellations; items entering and leaving the
pipeline; levels changing; the periodic settlement; and `entry_post` with
random valid and invalid lines. After-commit events (and so the
`payment_succeeded` handler) are delivered on some steps and not on others.

After every step:
- `ledger_problems()` is empty: every entry balances, every stored balance
  equals its postings;
- each seller's deposit balance equals her allocated deposit payments minus
  her deductions minus her paid returns, all read from the domain rows;
- no deposit balance is below zero;
- `clearing:payments` holds exactly the succeeded deposit payments not yet
  allocated, and each cash account exactly what was received through it
  minus the deposits returned from it;
- a refused action (any DomainError) changed no row and no file (a rejected
  provider notification is recorded, by design, and nothing else).

Each example runs inside a savepoint of the test's transaction, rolled back
in `teardown()`, so every example starts from the same database.
"""

import shutil
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Sum
from django.test import TestCase
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
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Category, Item
from erhuo.core.errors import DomainError
from erhuo.ledger import accounts as well_known
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.models import Account, JournalEntry
from erhuo.ledger.services import account_for, entry_post
from erhuo.payments import services as payment_services
from erhuo.payments.models import Payment
from erhuo.payments.providers import SANDBOX_SIGNATURE_HEADER, SandboxProvider
from erhuo.trust.models import DepositDeduction, DepositReturn, SellerRecord
from erhuo.trust.services import deposits as services
from erhuo.trust.tests.factories import (
    deposit_snapshot,
    enable_sandbox,
    evidence_photo,
    id_photo,
    make_finance,
    make_reviewer,
    make_verified_seller,
)

S = Payment.Status
# Act on a closed payment one time in four (a refusal that must change nothing), on an open one otherwise.
CLOSED = st.sampled_from([False, False, False, True])
TEST_ACCOUNTS = (
    ("test:asset", Account.Kind.ASSET),
    ("test:equity", Account.Kind.EQUITY),
    ("test:expense", Account.Kind.EXPENSE),
    ("test:income", Account.Kind.INCOME),
)


@dataclass
class People:
    sellers: list
    kefu: object  # customer service: decides deductions, may not confirm transfers
    finance: object
    owner: object  # reads the ledger, may not confirm transfers
    member: object  # not verified

    @classmethod
    def create(cls) -> "People":
        return cls(
            sellers=[make_verified_seller(), make_verified_seller()],
            kefu=make_reviewer(),
            finance=make_finance(),
            owner=UserFactory(roles=[roles.OWNER]),
            member=UserFactory(roles=[roles.MEMBER]),
        )


def bad_image() -> SimpleUploadedFile:
    return SimpleUploadedFile("bad.png", b"this is not an image", content_type="image/png")


class DepositLedgerMachine(RuleBasedStateMachine):
    people: People  # set by the test before running

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.keys: dict[tuple[int, str], int] = {}
        self.refusals: dict[str, int] = {}

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)
        shutil.rmtree(django_settings.MEDIA_ROOT, ignore_errors=True)
        shutil.rmtree(django_settings.ERHUO_PRIVATE_MEDIA_ROOT, ignore_errors=True)

    # --- helpers -----------------------------------------------------------------------------------

    def attempt(self, name: str, call, *, deliver: bool = False, **kwargs):
        """Run a service; on a DomainError assert that nothing changed. Events are delivered if `deliver`."""
        before = deposit_snapshot()
        try:
            with TestCase.captureOnCommitCallbacks(execute=deliver):
                return call(**kwargs)
        except DomainError as error:
            assert deposit_snapshot() == before, f"{name} refused ({error.code}) but changed something"
            self.refusals[f"{name}:{error.code}"] = self.refusals.get(f"{name}:{error.code}", 0) + 1
            return None

    def payment(self, pick: int, *, any_status: bool = False, **filters) -> Payment | None:
        """An open deposit payment (most of the time), or any (to try acting on a closed one)."""
        payments = Payment.objects.filter(purpose="deposit", **filters)
        if not any_status:
            payments = payments.filter(status__in=Payment.OPEN)
        payments = list(payments.order_by("pk"))
        return payments[pick % len(payments)] if payments else None

    def has_payments(self, **filters) -> bool:
        return Payment.objects.filter(purpose="deposit", **filters).exists()

    def person(self, who: str):
        return getattr(self.people, who)

    # --- paying in ------------------------------------------------------------------------------------

    @initialize(
        paid=st.sampled_from([None, "sandbox", "manual"]),
        deliver=st.booleans(),
        second_is_leaving=st.booleans(),
    )
    def first_deposits(self, paid, deliver, second_is_leaving):
        """Most examples start with the first seller's deposit paid (allocated now, or left for later), and half
        with the second seller's deposit paid and her return requested."""
        if paid is not None:
            self.pay_now(seller=0, provider=paid, amount=None, deliver=deliver)
        if second_is_leaving:
            self.pay_now(seller=1, provider="sandbox", amount=None, deliver=True)
            self.attempt("return", services.deposit_return_request, seller=self.people.sellers[1])

    @rule(
        seller=st.integers(0, 1),
        provider=st.sampled_from(["manual", "sandbox"]),
        amount=st.sampled_from([None, None, 100, 5_000, 40_000]),
        deliver=st.booleans(),
    )
    def pay_now(self, seller, provider, amount, deliver):
        """Start a payment and pay it at once (a seller in a hurry), through the same services."""
        payer = self.people.sellers[seller]
        payment = self.attempt(
            "start", services.deposit_payment_start, seller=payer, provider=provider, amount_fen=amount
        )
        if payment is None:
            return
        if provider == "sandbox":
            self.attempt(
                "sandbox_pay", payment_services.sandbox_pay, deliver=deliver, payment_id=payment.pk, payer=payer
            )
        else:
            self.attempt(
                "proof",
                payment_services.payment_proof_submit,
                payment_id=payment.pk,
                payer=payer,
                proof=id_photo("proof.png"),
            )
            self.attempt(
                "confirm",
                payment_services.payment_manual_confirm,
                deliver=deliver,
                payment_id=payment.pk,
                actor=self.people.finance,
            )

    @rule(
        seller=st.integers(0, 1),
        provider=st.sampled_from(["manual", "sandbox"]),
        amount=st.sampled_from([None, None, None, 99, 100, 5_000, 30_000, 40_000]),
        key=st.one_of(st.none(), st.sampled_from(["retry-a", "retry-b"])),
        unverified=st.booleans(),
    )
    def start_payment(self, seller, provider, amount, key, unverified):
        payer = self.people.member if unverified and seller == 0 else self.people.sellers[seller]
        payment = self.attempt(
            "start",
            services.deposit_payment_start,
            seller=payer,
            provider=provider,
            amount_fen=amount,
            idempotency_key=key,
        )
        if payer is self.people.member:
            assert payment is None
        if payment is not None and key is not None:
            first = self.keys.setdefault((payer.pk, key), payment.pk)
            assert payment.pk == first, "the same idempotency key returned another payment"

    @precondition(lambda self: self.has_payments(provider="sandbox"))
    @rule(pick=st.integers(0, 20), deliver=st.booleans(), closed=CLOSED)
    def pay_in_the_sandbox(self, pick, deliver, closed):
        payment = self.payment(pick, any_status=closed, provider="sandbox")
        if payment is not None:
            self.attempt(
                "sandbox_pay", payment_services.sandbox_pay, deliver=deliver, payment_id=payment.pk, payer=payment.payer
            )

    @precondition(lambda self: self.has_payments(provider="manual"))
    @rule(pick=st.integers(0, 20), good=st.sampled_from([True, True, True, False]), closed=CLOSED)
    def send_proof(self, pick, good, closed):
        payment = self.payment(pick, any_status=closed, provider="manual")
        if payment is not None:
            self.attempt(
                "proof",
                payment_services.payment_proof_submit,
                payment_id=payment.pk,
                payer=payment.payer,
                proof=id_photo("proof.png") if good else bad_image(),
            )

    @precondition(lambda self: self.has_payments(provider="manual"))
    @rule(
        pick=st.integers(0, 20),
        who=st.sampled_from(["finance", "finance", "kefu", "owner", "payer"]),
        deliver=st.booleans(),
        closed=CLOSED,
    )
    def confirm_transfer(self, pick, who, deliver, closed):
        payment = self.payment(pick, any_status=closed, provider="manual")
        if payment is None:
            return
        actor = payment.payer if who == "payer" else self.person(who)
        result = self.attempt(
            "confirm", payment_services.payment_manual_confirm, deliver=deliver, payment_id=payment.pk, actor=actor
        )
        if who != "finance":
            assert result is None, f"{who} confirmed a transfer"
            assert Payment.objects.get(pk=payment.pk).status == payment.status

    @precondition(lambda self: self.has_payments(provider="manual"))
    @rule(pick=st.integers(0, 20), reason=st.sampled_from(["", "没有收到", "没有收到"]), closed=CLOSED)
    def reject_transfer(self, pick, reason, closed):
        payment = self.payment(pick, any_status=closed, provider="manual")
        if payment is not None:
            self.attempt(
                "reject",
                payment_services.payment_manual_reject,
                payment_id=payment.pk,
                actor=self.people.finance,
                reason=reason,
            )

    @precondition(lambda self: self.has_payments())
    @rule(pick=st.integers(0, 20), closed=CLOSED)
    def cancel_payment(self, pick, closed):
        payment = self.payment(pick, any_status=closed)
        if payment is not None:
            self.attempt("cancel", payment_services.payment_cancel, payment_id=payment.pk, payer=payment.payer)

    @precondition(lambda self: self.has_payments(provider="sandbox"))
    @rule(pick=st.integers(0, 20), tamper=st.booleans(), deliver=st.booleans())
    def replay_notification(self, pick, tamper, deliver):
        payment = self.payment(pick, any_status=True, provider="sandbox")
        if payment is None:
            return
        body, headers = SandboxProvider().notification_for(payment)
        if tamper:
            body = body.replace(b'"status": "succeeded"', b'"status": "failed"')
        self.attempt(
            "notify",
            payment_services.notification_receive,
            deliver=deliver,
            provider="sandbox",
            body=body,
            headers={SANDBOX_SIGNATURE_HEADER: headers[SANDBOX_SIGNATURE_HEADER]},
        )

    @rule()
    def settle(self):
        self.attempt("settle", services.deposits_settle)

    # --- deductions and leaving ---------------------------------------------------------------------------

    @rule(
        seller=st.integers(0, 1),
        amount=st.integers(1, 40_000),
        photos=st.integers(0, 2),
        who=st.sampled_from(["kefu", "kefu", "kefu", "finance"]),
        decision=st.sampled_from(["描述不符，证据见图。", ""]),
    )
    def deduct(self, seller, amount, photos, who, decision):
        seller = self.people.sellers[seller]
        balance = ledger_selectors.deposit_balance_fen(seller)
        deduction = self.attempt(
            "deduct",
            services.deposit_deduct,
            seller=seller,
            actor=self.person(who),
            amount_fen=amount,
            violation="misrepresentation",
            decision=decision,
            evidence_photos=[evidence_photo(f"{n}.png") for n in range(photos)],
        )
        if who != "kefu" or not decision:
            assert deduction is None
        # The balance before settling may be lower than after; what matters: never more than there was.
        if deduction is not None:
            assert ledger_selectors.deposit_balance_fen(seller) >= 0
        elif amount <= balance and who == "kefu" and decision:
            raise AssertionError("a deduction within the balance was refused")

    @rule(seller=st.integers(0, 1), tidy=st.sampled_from([True, True, False]))
    def ask_for_the_deposit_back(self, seller, tidy):
        seller = self.people.sellers[seller]
        if tidy:
            # A seller who means to leave first cancels what she started and takes her items back.
            for payment in Payment.objects.filter(payer=seller, purpose="deposit", status__in=Payment.OPEN):
                self.attempt("cancel", payment_services.payment_cancel, payment_id=payment.pk, payer=seller)
            Item.objects.filter(seller=seller).update(status="returned")
        self.attempt("return", services.deposit_return_request, seller=seller)

    @precondition(lambda self: DepositReturn.objects.exists())
    @rule(pick=st.integers(0, 5), who=st.sampled_from(["finance", "finance", "kefu", "owner"]))
    def confirm_return(self, pick, who):
        requests = list(DepositReturn.objects.filter(status="requested").order_by("pk")) or list(
            DepositReturn.objects.order_by("pk")
        )
        if requests:
            request = requests[pick % len(requests)]
            result = self.attempt(
                "return_confirm", services.deposit_return_confirm, return_id=request.pk, actor=self.person(who)
            )
            if who != "finance":
                assert result is None

    @precondition(lambda self: DepositReturn.objects.exists())
    @rule(pick=st.integers(0, 5))
    def cancel_return(self, pick):
        requests = list(DepositReturn.objects.order_by("pk"))
        if requests:
            request = requests[pick % len(requests)]
            self.attempt("return_cancel", services.deposit_return_cancel, return_id=request.pk, seller=request.seller)

    @rule(seller=st.integers(0, 1), into_pipeline=st.booleans())
    def item_moves(self, seller, into_pipeline):
        seller = self.people.sellers[seller]
        if into_pipeline:
            Item.objects.create(seller=seller, title="连衣裙", category=Category.objects.first(), status="received")
        else:
            Item.objects.filter(seller=seller).update(status="returned")

    @rule(seller=st.integers(0, 1), level=st.sampled_from(["new", "trusted", "top"]))
    def level_changes(self, seller, level):
        SellerRecord.objects.update_or_create(user=self.people.sellers[seller], defaults={"level": level})

    # --- the ledger directly --------------------------------------------------------------------------------

    @rule(
        lines=st.lists(st.tuples(st.integers(0, 3), st.integers(-5_000, 5_000)), min_size=1, max_size=4),
        balance_it=st.booleans(),
        guard=st.one_of(st.none(), st.integers(0, 3)),
        not_an_int=st.booleans(),
    )
    def post_an_entry(self, lines, balance_it, guard, not_an_int):
        accounts = [account_for(code=code, kind=kind) for code, kind in TEST_ACCOUNTS]
        posted = [(accounts[index], amount) for index, amount in lines]
        if balance_it:
            remainder = -sum(amount for _account, amount in posted)
            posted.append((accounts[(lines[-1][0] + 1) % 4], remainder))
        if not_an_int:
            account, amount = posted[0]
            posted[0] = (account, amount + 0.5)
        self.attempt(
            "entry",
            entry_post,
            kind="test",
            lines=posted,
            nonnegative=(accounts[guard],) if guard is not None else (),
        )

    # --- invariants ---------------------------------------------------------------------------------------

    @invariant()
    def the_books_balance(self):
        assert ledger_selectors.ledger_problems() == []

    @invariant()
    def deposits_match_their_domain_rows(self):
        deposit_payments = Payment.objects.filter(purpose="deposit")
        allocated = {
            int(key.split(":")[1])
            for key in JournalEntry.objects.filter(key__startswith="deposit-payment:").values_list("key", flat=True)
        }
        succeeded = dict(deposit_payments.filter(status=S.SUCCEEDED).values_list("pk", "amount_fen"))
        assert allocated <= set(succeeded), "a payment was allocated without having succeeded"
        for seller in self.people.sellers:
            paid_in = sum(
                amount
                for pk, amount in deposit_payments.filter(payer=seller, pk__in=allocated).values_list(
                    "pk", "amount_fen"
                )
            )
            deducted = DepositDeduction.objects.filter(seller=seller).aggregate(s=Sum("amount_fen"))["s"] or 0
            returned = (
                DepositReturn.objects.filter(seller=seller, status="paid").aggregate(s=Sum("amount_fen"))["s"] or 0
            )
            balance = ledger_selectors.deposit_balance_fen(seller)
            assert balance == paid_in - deducted - returned, (seller.pk, balance, paid_in, deducted, returned)
            assert balance >= 0

    @invariant()
    def no_deposit_is_below_zero(self):
        assert not Account.objects.filter(code__startswith="deposit:", balance_fen__lt=0).exists()

    @invariant()
    def clearing_holds_exactly_what_is_not_yet_allocated(self):
        allocated_keys = set(
            JournalEntry.objects.filter(key__startswith="deposit-payment:").values_list("key", flat=True)
        )
        unallocated = sum(
            amount
            for pk, amount in Payment.objects.filter(status=S.SUCCEEDED).values_list("pk", "amount_fen")
            if f"deposit-payment:{pk}" not in allocated_keys
        )
        assert ledger_selectors.balance_by_code(well_known.CLEARING_PAYMENTS) == unallocated

    @invariant()
    def cash_is_what_came_in_minus_what_went_back(self):
        def received(provider):
            return (
                Payment.objects.filter(status=S.SUCCEEDED, provider=provider).aggregate(s=Sum("amount_fen"))["s"] or 0
            )

        returned = DepositReturn.objects.filter(status="paid").aggregate(s=Sum("amount_fen"))["s"] or 0
        assert ledger_selectors.balance_by_code("cash:sandbox") == received("sandbox")
        assert ledger_selectors.balance_by_code("cash:manual") == received("manual") - returned

    @invariant()
    def one_open_return_and_one_open_deposit_payment_per_seller_at_most(self):
        for seller in self.people.sellers:
            assert DepositReturn.objects.filter(seller=seller, status="requested").count() <= 1
            assert Payment.objects.filter(payer=seller, purpose="deposit", status__in=Payment.OPEN).count() <= 1


SETTINGS = hypothesis_settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@pytest.mark.django_db
def test_random_deposit_and_payment_sequences_keep_the_books(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ERHUO_PRIVATE_MEDIA_ROOT = tmp_path / "private-media"
    enable_sandbox(settings)
    DepositLedgerMachine.people = People.create()
    run_state_machine_as_test(DepositLedgerMachine, settings=SETTINGS)
