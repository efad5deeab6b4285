"""Payouts: batches that pay exactly what is owed, confirmed or failed line by line, and the books balance."""

import pytest
from django.utils.translation import gettext

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.core import events
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.ledger import accounts as well_known
from erhuo.ledger import payouts, selectors
from erhuo.ledger.models import JournalEntry, PayoutBatch, PayoutLine
from erhuo.ledger.services import entry_post
from erhuo.ledger.tests.factories import money_snapshot, owe

pytestmark = pytest.mark.django_db

IN_TRANSIT = "payouts:in_transit"
BANK = "cash:bank"


@pytest.fixture
def finance():
    return UserFactory(roles=[roles.FINANCE])


@pytest.fixture
def colleague():
    return UserFactory(roles=[roles.FINANCE])


@pytest.fixture
def seller():
    return UserFactory(roles=[roles.SELLER])


@pytest.fixture
def expert():
    return UserFactory(roles=[roles.EXPERT])


@pytest.fixture
def recorded():
    """Events sent after commit, as (name, payload)."""
    seen = []

    def handler(event):
        seen.append((event.name, event.payload))

    for name in ("payout_line_paid", "payout_line_failed"):
        events.on(name)(handler)
    yield seen
    for name in ("payout_line_paid", "payout_line_failed"):
        events.unregister(name, handler)


def lines_of(batch) -> list[tuple]:
    return [(line.payee_id, line.account.code, line.amount_fen, line.status) for line in batch.lines.order_by("pk")]


def books_balance() -> None:
    assert selectors.ledger_problems() == []
    assert selectors.payouts_problems() == []


# --- creating a batch ---------------------------------------------------------------------------


def test_a_batch_pays_exactly_the_payable_accounts_at_or_above_the_minimum(finance, seller, expert):
    small = UserFactory(roles=[roles.SELLER])
    exactly = UserFactory(roles=[roles.SELLER])
    depositor = UserFactory(roles=[roles.SELLER])
    owe(seller, 12_000)
    owe(seller, 345)
    owe(expert, 5_000, kind="expert_commission")
    owe(small, 99)
    owe(exactly, 100)
    owe(depositor, 30_000, kind="refund")  # another payable kind: not in these payouts
    deposit = well_known.deposit_account(depositor)
    entry_post(kind="deposit", lines=[(well_known.cash_account("sandbox"), 20_000), (deposit, -20_000)])

    batch = payouts.payout_batch_create(actor=finance)

    assert batch.status == PayoutBatch.Status.OPEN
    assert batch.created_by == finance
    assert sorted(lines_of(batch)) == sorted(
        [
            (seller.pk, f"payable:seller:{seller.pk}", 12_345, "pending"),
            (expert.pk, f"payable:expert_commission:{expert.pk}", 5_000, "pending"),
            (exactly.pk, f"payable:seller:{exactly.pk}", 100, "pending"),
        ]
    )
    assert selectors.balance_by_code(f"payable:seller:{seller.pk}") == 0
    assert selectors.balance_by_code(f"payable:expert_commission:{expert.pk}") == 0
    assert selectors.balance_by_code(f"payable:seller:{exactly.pk}") == 0
    assert selectors.balance_by_code(f"payable:seller:{small.pk}") == 99
    assert selectors.balance_by_code(f"payable:refund:{depositor.pk}") == 30_000
    assert selectors.balance_by_code(deposit.code) == 20_000
    assert selectors.balance_by_code(IN_TRANSIT) == 17_445
    # One entry per line, idempotent on the line's key, referring to the line
    for line in batch.lines.all():
        entry = JournalEntry.objects.get(key=f"payout-line:{line.pk}")
        assert entry.kind == "payout_batched"
        assert entry.reference == f"payout-line:{line.pk}"
        assert sorted(entry.postings.values_list("account__code", "amount_fen")) == sorted(
            [(line.account.code, line.amount_fen), (IN_TRANSIT, -line.amount_fen)]
        )
    assert [step.to_state for step in batch.transitions.all()] == ["open"]
    books_balance()


def test_the_minimum_is_a_parameter(finance, seller, expert):
    owe(seller, 5_000)
    owe(expert, 20_000, kind="expert_commission")

    batch = payouts.payout_batch_create(actor=finance, minimum_fen=10_000)

    assert lines_of(batch) == [(expert.pk, f"payable:expert_commission:{expert.pk}", 20_000, "pending")]
    assert selectors.balance_by_code(f"payable:seller:{seller.pk}") == 5_000


def test_accounts_already_in_transit_are_skipped(finance, seller, expert):
    owe(seller, 10_000)
    first = payouts.payout_batch_create(actor=finance)
    # Given more sales after the first batch, and a new payee
    owe(seller, 3_000)
    owe(expert, 4_000, kind="expert_commission")

    second = payouts.payout_batch_create(actor=finance)

    assert lines_of(second) == [(expert.pk, f"payable:expert_commission:{expert.pk}", 4_000, "pending")]
    assert lines_of(first) == [(seller.pk, f"payable:seller:{seller.pk}", 10_000, "pending")]
    assert selectors.balance_by_code(f"payable:seller:{seller.pk}") == 3_000
    assert selectors.balance_by_code(IN_TRANSIT) == 14_000
    books_balance()


def test_an_empty_batch_is_refused_and_nothing_is_written(finance, seller):
    owe(seller, 99)
    before = money_snapshot()

    with pytest.raises(Conflict) as refused:
        payouts.payout_batch_create(actor=finance)

    assert (refused.value.code, refused.value.status) == ("nothing_to_pay", 409)
    assert "¥1.00" in str(refused.value.message)
    assert money_snapshot() == before
    assert PayoutBatch.objects.count() == 0


def test_only_accounts_in_transit_is_nothing_to_pay(finance, seller):
    owe(seller, 10_000)
    payouts.payout_batch_create(actor=finance)
    owe(seller, 5_000)
    before = money_snapshot()

    with pytest.raises(Conflict) as refused:
        payouts.payout_batch_create(actor=finance)

    assert refused.value.code == "nothing_to_pay"
    assert money_snapshot() == before


@pytest.mark.parametrize("minimum", [0, -5, 1.5, True])
def test_a_minimum_that_is_not_a_positive_number_of_fen_is_refused(finance, seller, minimum):
    owe(seller, 10_000)
    before = money_snapshot()
    with pytest.raises(ValidationFailed) as refused:
        payouts.payout_batch_create(actor=finance, minimum_fen=minimum)
    assert refused.value.code == "minimum_invalid"
    assert money_snapshot() == before


# --- paying --------------------------------------------------------------------------------------


def test_marking_lines_paid_moves_the_money_out_of_the_bank_and_closes_the_batch(
    finance, seller, expert, recorded, django_capture_on_commit_callbacks
):
    owe(seller, 12_000)
    owe(expert, 3_000, kind="expert_commission")
    batch = payouts.payout_batch_create(actor=finance)
    seller_line = batch.lines.get(payee=seller)
    expert_line = batch.lines.get(payee=expert)

    with django_capture_on_commit_callbacks(execute=True):
        payouts.payout_line_mark_paid(line_id=seller_line.pk, actor=finance, reference=" ALI-2026-0001 ")

    seller_line.refresh_from_db()
    batch.refresh_from_db()
    assert seller_line.status == PayoutLine.Status.PAID
    assert (seller_line.reference, seller_line.paid_by) == ("ALI-2026-0001", finance)
    assert seller_line.paid_at is not None
    assert batch.status == PayoutBatch.Status.OPEN
    assert selectors.balance_by_code(IN_TRANSIT) == 3_000
    assert selectors.balance_by_code(BANK) == -12_000  # an asset credited: money left the bank
    assert recorded == [("payout_line_paid", {"line_id": seller_line.pk, "user_id": seller.pk, "amount_fen": 12_000})]
    books_balance()

    payouts.payout_line_mark_paid(line_id=expert_line.pk, actor=finance, reference="ALI-2026-0002")

    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.PAID
    assert [step.to_state for step in batch.transitions.all()] == ["open", "paid"]
    assert selectors.balance_by_code(IN_TRANSIT) == 0
    assert selectors.balance_by_code(BANK) == -15_000
    assert JournalEntry.objects.get(key=f"payout-paid:{expert_line.pk}").reference == f"payout-line:{expert_line.pk}"
    books_balance()


def test_marking_the_batch_paid_pays_every_pending_line_with_one_reference(finance, seller, expert, recorded):
    third = UserFactory(roles=[roles.SELLER])
    owe(seller, 12_000)
    owe(expert, 3_000, kind="expert_commission")
    owe(third, 700)
    batch = payouts.payout_batch_create(actor=finance)
    bounced = batch.lines.get(payee=third)
    payouts.payout_line_fail(line_id=bounced.pk, actor=finance, reason="No such Alipay account")

    batch = payouts.payout_batch_mark_paid(batch_id=batch.pk, actor=finance, reference="BANK-BATCH-7")

    assert batch.status == PayoutBatch.Status.PARTLY_PAID
    assert sorted(batch.lines.values_list("payee_id", "status", "reference")) == sorted(
        [(seller.pk, "paid", "BANK-BATCH-7"), (expert.pk, "paid", "BANK-BATCH-7"), (third.pk, "failed", "")]
    )
    assert selectors.balance_by_code(IN_TRANSIT) == 0
    assert selectors.balance_by_code(BANK) == -15_000
    assert selectors.balance_by_code(f"payable:seller:{third.pk}") == 700
    books_balance()


def test_a_settled_batch_cannot_be_marked_paid_again(finance, seller):
    owe(seller, 1_000)
    batch = payouts.payout_batch_create(actor=finance)
    payouts.payout_batch_mark_paid(batch_id=batch.pk, actor=finance, reference="R1")
    before = money_snapshot()

    with pytest.raises(Conflict) as refused:
        payouts.payout_batch_mark_paid(batch_id=batch.pk, actor=finance, reference="R2")

    assert refused.value.code == "payout_batch_settled"
    assert money_snapshot() == before


# --- failing -------------------------------------------------------------------------------------


def test_a_failed_transfer_puts_the_money_back_and_the_next_batch_pays_it(
    finance, seller, recorded, django_capture_on_commit_callbacks
):
    owe(seller, 8_000)
    batch = payouts.payout_batch_create(actor=finance)
    line = batch.lines.get()
    owe(seller, 500)  # a sale after the batch

    with django_capture_on_commit_callbacks(execute=True):
        payouts.payout_line_fail(line_id=line.pk, actor=finance, reason="  The bank returned the transfer ")

    line.refresh_from_db()
    batch.refresh_from_db()
    assert line.status == PayoutLine.Status.FAILED
    assert line.failure_reason == "The bank returned the transfer"
    assert batch.status == PayoutBatch.Status.FAILED
    assert selectors.balance_by_code(f"payable:seller:{seller.pk}") == 8_500
    assert selectors.balance_by_code(IN_TRANSIT) == 0
    assert selectors.balance_by_code(BANK) == 0
    assert recorded == [
        (
            "payout_line_failed",
            {
                "line_id": line.pk,
                "user_id": seller.pk,
                "amount_fen": 8_000,
                "reason": "The bank returned the transfer",
            },
        )
    ]
    books_balance()

    again = payouts.payout_batch_create(actor=finance)

    assert lines_of(again) == [(seller.pk, f"payable:seller:{seller.pk}", 8_500, "pending")]
    books_balance()


@pytest.mark.parametrize("settle", ["paid", "failed"])
def test_a_settled_line_is_not_settled_again(finance, seller, settle):
    owe(seller, 1_000)
    line = payouts.payout_batch_create(actor=finance).lines.get()
    if settle == "paid":
        payouts.payout_line_mark_paid(line_id=line.pk, actor=finance, reference="R1")
    else:
        payouts.payout_line_fail(line_id=line.pk, actor=finance, reason="bounced")
    before = money_snapshot()

    with pytest.raises(Conflict) as paid_again:
        payouts.payout_line_mark_paid(line_id=line.pk, actor=finance, reference="R2")
    with pytest.raises(Conflict) as failed_again:
        payouts.payout_line_fail(line_id=line.pk, actor=finance, reason="again")

    assert paid_again.value.code == failed_again.value.code == "payout_line_settled"
    assert money_snapshot() == before
    books_balance()


def test_a_reference_and_a_reason_are_required(finance, seller):
    owe(seller, 1_000)
    batch = payouts.payout_batch_create(actor=finance)
    line = batch.lines.get()
    before = money_snapshot()

    with pytest.raises(ValidationFailed) as no_reference:
        payouts.payout_line_mark_paid(line_id=line.pk, actor=finance, reference="   ")
    with pytest.raises(ValidationFailed) as no_batch_reference:
        payouts.payout_batch_mark_paid(batch_id=batch.pk, actor=finance, reference="")
    with pytest.raises(ValidationFailed) as no_reason:
        payouts.payout_line_fail(line_id=line.pk, actor=finance, reason="")

    assert no_reference.value.code == no_batch_reference.value.code == "reference_required"
    assert no_reference.value.fields == {"reference": [gettext("Required.")]}
    assert no_reason.value.code == "reason_required"
    assert money_snapshot() == before


def test_unknown_lines_and_batches_are_not_found(finance):
    with pytest.raises(NotFound) as line:
        payouts.payout_line_mark_paid(line_id=404, actor=finance, reference="R")
    with pytest.raises(NotFound) as failed:
        payouts.payout_line_fail(line_id=404, actor=finance, reason="x")
    with pytest.raises(NotFound) as batch:
        payouts.payout_batch_mark_paid(batch_id=404, actor=finance, reference="R")
    assert line.value.code == failed.value.code == "payout_line_not_found"
    assert batch.value.code == "payout_batch_not_found"


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.MEMBER, roles.SELLER, roles.CUSTOMER_SERVICE, roles.OWNER])
def test_everyone_but_finance_is_refused_every_service_and_nothing_changes(finance, seller, role):
    owe(seller, 6_000)
    other = UserFactory(roles=[roles.SELLER])
    owe(other, 2_000)
    batch = payouts.payout_batch_create(actor=finance)
    line = batch.lines.get(payee=seller)
    owe(UserFactory(roles=[roles.SELLER]), 3_000)  # something a new batch could pay
    intruder = UserFactory(roles=[role])
    before = money_snapshot()

    calls = [
        lambda: payouts.payout_batch_create(actor=intruder),
        lambda: payouts.payout_line_mark_paid(line_id=line.pk, actor=intruder, reference="R"),
        lambda: payouts.payout_batch_mark_paid(batch_id=batch.pk, actor=intruder, reference="R"),
        lambda: payouts.payout_line_fail(line_id=line.pk, actor=intruder, reason="x"),
    ]
    for call in calls:
        with pytest.raises(PermissionRefused) as refused:
            call()
        assert (refused.value.code, refused.value.status) == ("payouts_denied", 403)

    assert money_snapshot() == before


def test_nobody_and_an_inactive_finance_user_are_refused(finance, seller):
    owe(seller, 6_000)
    before = money_snapshot()
    with pytest.raises(PermissionRefused):
        payouts.payout_batch_create(actor=None)
    finance.is_active = False
    finance.save(update_fields=["is_active"])
    with pytest.raises(PermissionRefused):
        payouts.payout_batch_create(actor=finance)
    assert money_snapshot() == before


def test_nobody_marks_their_own_payout_paid(finance, colleague, seller):
    owe(finance, 4_000)  # finance is also a seller
    owe(seller, 1_000)
    batch = payouts.payout_batch_create(actor=finance)
    own = batch.lines.get(payee=finance)
    before = money_snapshot()

    with pytest.raises(PermissionRefused) as line_refused:
        payouts.payout_line_mark_paid(line_id=own.pk, actor=finance, reference="R")
    with pytest.raises(PermissionRefused) as batch_refused:
        payouts.payout_batch_mark_paid(batch_id=batch.pk, actor=finance, reference="R")

    assert line_refused.value.code == batch_refused.value.code == "own_payout"
    assert money_snapshot() == before

    # A colleague confirms it
    payouts.payout_batch_mark_paid(batch_id=batch.pk, actor=colleague, reference="R")
    own.refresh_from_db()
    assert (own.status, own.paid_by) == (PayoutLine.Status.PAID, colleague)
    books_balance()


# --- reading ------------------------------------------------------------------------------------


def test_a_payees_payouts_newest_first_and_what_she_is_still_owed(finance, colleague, seller):
    owe(seller, 2_000)
    first = payouts.payout_batch_create(actor=finance).lines.get()
    payouts.payout_line_fail(line_id=first.pk, actor=finance, reason="bounced")
    second = payouts.payout_batch_create(actor=finance).lines.get()
    payouts.payout_line_mark_paid(line_id=second.pk, actor=finance, reference="R")
    owe(seller, 750)
    owe(seller, 900, kind="expert_commission")

    assert [(line.pk, line.status) for line in selectors.payouts_for(seller)] == [
        (second.pk, "paid"),
        (first.pk, "failed"),
    ]
    assert list(selectors.payouts_for(colleague)) == []
    assert selectors.pending_payable_fen(seller) == 750
    assert selectors.pending_payable_fen(seller, kind="expert_commission") == 900
    assert selectors.pending_payable_fen(colleague) == 0


def test_the_batch_list_sums_its_lines(finance, seller, expert):
    owe(seller, 2_000)
    owe(expert, 500, kind="expert_commission")
    batch = payouts.payout_batch_create(actor=finance)
    payouts.payout_line_mark_paid(line_id=batch.lines.get(payee=seller).pk, actor=finance, reference="R")

    row = selectors.payout_batches().get(pk=batch.pk)
    detail = selectors.payout_batch_get(batch_id=batch.pk)

    assert (row.line_count, row.total_fen, row.paid_fen, row.pending_fen, row.failed_fen, row.pending_count) == (
        2,
        2_500,
        2_000,
        500,
        None,
        1,
    )
    assert [line.pk for line in detail.lines.all()] == sorted(batch.lines.values_list("pk", flat=True))
    assert detail.total_fen == 2_500
    assert selectors.payout_batch_get(batch_id=404) is None


def test_the_database_refuses_a_second_pending_line_for_one_account(finance, seller):
    from django.db import IntegrityError, transaction

    owe(seller, 1_000)
    line = payouts.payout_batch_create(actor=finance).lines.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutLine.objects.create(batch=line.batch, payee=seller, account=line.account, amount_fen=1)


def test_the_payouts_check_finds_money_in_transit_without_a_pending_line(finance, seller):
    owe(seller, 1_000)
    line = payouts.payout_batch_create(actor=finance).lines.get()
    # A line settled behind the services' back: the money is still in transit.
    PayoutLine.objects.filter(pk=line.pk).update(status=PayoutLine.Status.PAID)

    assert selectors.payouts_problems() == [
        "payouts in transit hold 1000 fen; pending payout lines add up to 0 fen",
        f"payout line #{line.pk} (paid): in transit 1000 fen, should be 0",
        f"payout line #{line.pk} (paid): 0 fen left the bank, should be 1000",
    ]
    assert selectors.ledger_problems() == []
