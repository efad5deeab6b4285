"""Deposit services: paying in (sandbox and manual), allocation once, deductions, leaving, and every refusal.

Every refusal leaves every deposit, payment and ledger row (and every media
file) as it was; the books balance after everything.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.models import User
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Category, Item
from erhuo.core import events
from erhuo.core.errors import DomainError
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.accounts import CLEARING_PAYMENTS, DEPOSIT_FORFEITS
from erhuo.ledger.models import JournalEntry
from erhuo.payments import services as payment_services
from erhuo.payments.models import Payment
from erhuo.trust import deposit_selectors as selectors
from erhuo.trust.handlers import allocate_deposit_payment
from erhuo.trust.models import (
    DepositDeduction,
    DepositEvidencePhoto,
    DepositPolicy,
    DepositReturn,
    SellerRecord,
)
from erhuo.trust.services import deposits as services
from erhuo.trust.tests.factories import (
    deposit_snapshot,
    enable_sandbox,
    evidence_photo,
    id_photo,
    make_finance,
    make_reviewer,
    make_verified_seller,
    pay_deposit,
)

pytestmark = pytest.mark.django_db

Violation = DepositDeduction.Violation


@pytest.fixture(autouse=True)
def _sandbox_and_english(settings):
    enable_sandbox(settings)
    # Messages are compared in English, whatever the translations say.
    with translation.override("en"):
        yield


@pytest.fixture
def seller(db):
    return make_verified_seller(display_name="林小雨")


@pytest.fixture
def kefu(db):
    return make_reviewer()


@pytest.fixture
def finance(db):
    return make_finance()


def balance(user) -> int:
    return ledger_selectors.deposit_balance_fen(user)


def is_seller(user) -> bool:
    return User.objects.get(pk=user.pk).has_role(roles.SELLER)


def refused(call, **kwargs) -> DomainError:
    before = deposit_snapshot()
    with pytest.raises(DomainError) as caught:
        call(**kwargs)
    assert deposit_snapshot() == before
    assert ledger_selectors.ledger_problems() == []
    return caught.value


def set_level(user, level: str) -> None:
    SellerRecord.objects.update_or_create(user=user, defaults={"level": level})


def item_of(seller, status: str) -> Item:
    return Item.objects.create(seller=seller, title="连衣裙", category=Category.objects.first(), status=status)


# --- paying in ---------------------------------------------------------------------------


def test_sandbox_path_end_to_end_allocates_through_the_handler(seller, django_capture_on_commit_callbacks):
    # Given a new verified seller with nothing held
    assert selectors.deposit_summary(seller).shortfall_fen == 30_000

    # When she starts her deposit payment and pays it in the sandbox (after-commit events run)
    with django_capture_on_commit_callbacks(execute=True):
        payment = services.deposit_payment_start(seller=seller, provider="sandbox")
    assert (payment.amount_fen, payment.purpose, payment.reference) == (30_000, "deposit", f"deposit:{seller.pk}")
    assert payment.return_path == "/trust/deposit/"
    with django_capture_on_commit_callbacks(execute=True):
        payment_services.sandbox_pay(payment_id=payment.pk, payer=seller)

    # Then the payment succeeded and the handler moved the money from clearing to her deposit
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert balance(seller) == 30_000
    assert ledger_selectors.balance_by_code(CLEARING_PAYMENTS) == 0
    assert ledger_selectors.balance_by_code("cash:sandbox") == 30_000
    entry = JournalEntry.objects.get(key=f"deposit-payment:{payment.pk}")
    assert entry.kind == "deposit_paid"
    summary = selectors.deposit_summary(seller)
    assert (summary.balance_fen, summary.required_fen, summary.shortfall_fen, summary.is_satisfied) == (
        30_000,
        30_000,
        0,
        True,
    )
    assert ledger_selectors.ledger_problems() == []


def test_allocation_happens_once_when_the_handler_and_the_settlement_both_run(seller):
    # Given a succeeded sandbox payment whose event has not been handled (no commit in this test)
    payment = services.deposit_payment_start(seller=seller, provider="sandbox")
    payment_services.sandbox_pay(payment_id=payment.pk, payer=seller)
    assert ledger_selectors.balance_by_code(CLEARING_PAYMENTS) == 30_000
    assert balance(seller) == 0

    # When the handler runs twice and the settlement twice
    event = events.Event("payment_succeeded", {"payment_id": payment.pk, "purpose": "deposit"})
    allocate_deposit_payment(event)
    assert services.deposits_settle() == 0
    allocate_deposit_payment(event)
    assert services.deposits_settle(seller=seller) == 0

    # Then exactly one entry moved the money
    assert JournalEntry.objects.filter(key=f"deposit-payment:{payment.pk}").count() == 1
    assert JournalEntry.objects.filter(kind="deposit_paid").count() == 1
    assert balance(seller) == 30_000
    assert ledger_selectors.balance_by_code(CLEARING_PAYMENTS) == 0


def test_settlement_alone_allocates_what_the_handler_missed(seller):
    payment = services.deposit_payment_start(seller=seller, provider="sandbox")
    payment_services.sandbox_pay(payment_id=payment.pk, payer=seller)

    assert services.deposits_settle() == 1
    assert services.deposits_settle() == 0
    assert balance(seller) == 30_000


def test_handler_ignores_other_purposes_and_open_payments(seller):
    payment = services.deposit_payment_start(seller=seller, provider="sandbox")

    allocate_deposit_payment(events.Event("payment_succeeded", {"payment_id": payment.pk, "purpose": "order"}))
    assert services.deposit_payment_allocate(payment_id=payment.pk) is None

    assert JournalEntry.objects.count() == 0


def test_manual_path_end_to_end(seller, finance):
    # Given a manual deposit payment
    payment = services.deposit_payment_start(seller=seller, provider="manual")
    assert payment.provider == "manual"

    # When she sends the proof and finance confirms
    payment_services.payment_proof_submit(payment_id=payment.pk, payer=seller, proof=id_photo("proof.png"))
    payment_services.payment_manual_confirm(payment_id=payment.pk, actor=finance)
    services.deposits_settle()

    # Then her deposit holds the amount
    assert balance(seller) == 30_000
    assert ledger_selectors.balance_by_code("cash:manual") == 30_000
    assert ledger_selectors.ledger_problems() == []


def test_trusted_and_top_sellers_need_less(seller):
    set_level(seller, "trusted")
    assert selectors.deposit_summary(seller).required_fen == 20_000
    set_level(seller, "top")
    assert selectors.deposit_shortfall_fen(seller) == 10_000
    assert services.deposit_payment_start(seller=seller, provider="manual").amount_fen == 10_000


def test_the_policy_is_editable(seller):
    policy = DepositPolicy.current()
    policy.new_seller_fen = 50_000
    policy.save()
    assert selectors.deposit_summary(seller).required_fen == 50_000


def test_a_member_who_is_not_verified_cannot_pay_a_deposit(member):
    error = refused(services.deposit_payment_start, seller=member, provider="sandbox")
    assert (error.code, error.status) == ("seller_not_verified", 403)


def test_one_open_deposit_payment_at_a_time_and_the_same_key_returns_the_same_payment(seller):
    first = services.deposit_payment_start(seller=seller, provider="manual", idempotency_key="k-1")

    again = services.deposit_payment_start(seller=seller, provider="manual", idempotency_key="k-1")
    assert again.pk == first.pk
    error = refused(services.deposit_payment_start, seller=seller, provider="sandbox")
    assert error.code == "deposit_payment_open"

    payment_services.payment_cancel(payment_id=first.pk, payer=seller)
    assert services.deposit_payment_start(seller=seller, provider="sandbox").pk != first.pk


def test_top_up_needs_an_amount_of_at_least_one_yuan(seller):
    pay_deposit(seller)

    assert refused(services.deposit_payment_start, seller=seller, provider="sandbox").code == "top_up_amount_required"
    assert refused(services.deposit_payment_start, seller=seller, provider="sandbox", amount_fen=99).code == (
        "amount_invalid"
    )
    payment = pay_deposit(seller, amount_fen=5_000)
    assert payment.description == "Seller deposit top-up"
    assert balance(seller) == 35_000


def test_an_amount_below_the_shortfall_is_refused(seller):
    error = refused(services.deposit_payment_start, seller=seller, provider="sandbox", amount_fen=10_000)
    assert error.code == "amount_invalid"


# --- deductions ------------------------------------------------------------------------------


def test_a_deduction_posts_to_forfeits_with_its_decision_and_evidence(seller, kefu, django_capture_on_commit_callbacks):
    pay_deposit(seller)
    received = []
    handler = events.on("deposit_deducted")(received.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            deduction = services.deposit_deduct(
                seller=seller,
                actor=kefu,
                amount_fen=12_000,
                violation=Violation.MISREPRESENTATION,
                decision="买家收到的裙子有明显污渍，卖家描述为全新。",
                evidence_photos=[evidence_photo("a.png"), evidence_photo("b.png")],
                item_reference="eh00000123",
            )
    finally:
        events.unregister("deposit_deducted", handler)

    assert balance(seller) == 18_000
    assert ledger_selectors.balance_by_code(DEPOSIT_FORFEITS) == 12_000
    assert (deduction.amount_fen, deduction.decided_by, deduction.label_code, deduction.item_id) == (
        12_000,
        kefu,
        "EH00000123",
        None,
    )
    assert deduction.entry.kind == "deposit_deducted"
    assert deduction.photos.count() == 2
    assert [event.payload["amount_fen"] for event in received] == [12_000]
    history = selectors.deposit_history(seller)
    assert [line.amount_fen for line in history.lines] == [-12_000, 30_000]
    assert history.lines[0].deduction == deduction
    assert ledger_selectors.ledger_problems() == []


def test_a_deduction_larger_than_the_balance_is_refused_and_nothing_is_written(seller, kefu):
    pay_deposit(seller)

    error = refused(
        services.deposit_deduct,
        seller=seller,
        actor=kefu,
        amount_fen=30_001,
        violation=Violation.COUNTERFEIT,
        decision="鉴定为假货",
        evidence_photos=[evidence_photo()],
    )

    assert (error.code, error.status) == ("insufficient_balance", 409)
    assert balance(seller) == 30_000
    assert DepositEvidencePhoto.objects.count() == 0


def test_a_deduction_from_an_empty_deposit_is_refused(seller, kefu):
    error = refused(services.deposit_deduct, seller=seller, actor=kefu, amount_fen=100, violation="other", decision="x")
    assert error.code == "insufficient_balance"


@pytest.mark.parametrize("role", [roles.FINANCE, roles.MEMBER, roles.COMMUNITY_MANAGER])
def test_only_deciders_deduct(seller, role):
    pay_deposit(seller)
    actor = UserFactory(roles=[role])
    error = refused(
        services.deposit_deduct, seller=seller, actor=actor, amount_fen=100, violation="other", decision="x"
    )
    assert (error.code, error.status) == ("deduction_denied", 403)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        (lambda: {"decision": "   "}, "decision_required"),
        (lambda: {"amount_fen": 0}, "amount_invalid"),
        (lambda: {"violation": "rude"}, "violation_invalid"),
        (lambda: {"item_reference": "not an item"}, "item_reference_invalid"),
        (lambda: {"evidence_photos": [evidence_photo(f"{n}.png") for n in range(7)]}, "too_many_photos"),
        # A file that is not an image after a good one: nothing is kept of either.
        (
            lambda: {"evidence_photos": [evidence_photo(), SimpleUploadedFile("x.png", b"not an image")]},
            "image_invalid",
        ),
    ],
)
def test_a_bad_deduction_is_refused_and_nothing_is_written(seller, kefu, overrides, code):
    pay_deposit(seller)
    values = {"amount_fen": 1_000, "violation": "other", "decision": "迟迟不发货", **overrides()}
    error = refused(services.deposit_deduct, seller=seller, actor=kefu, **values)
    assert error.code == code


def test_nobody_deducts_from_their_own_deposit(kefu):
    error = refused(services.deposit_deduct, seller=kefu, actor=kefu, amount_fen=100, violation="other", decision="x")
    assert error.code == "own_deposit"


# --- leaving ---------------------------------------------------------------------------------


def test_leaving_revokes_the_seller_role_and_finance_returns_the_balance_at_that_moment(seller, kefu, finance):
    # Given a seller with a full deposit
    pay_deposit(seller)
    assert is_seller(seller)

    # When she asks for it back
    request = services.deposit_return_request(seller=seller)

    # Then she is no longer a seller and the request waits for finance
    assert (request.status, request.amount_fen) == ("requested", 30_000)
    assert not is_seller(seller)
    assert selectors.deposit_summary(seller).pending_return == request

    # When a deduction is decided meanwhile and finance confirms
    services.deposit_deduct(seller=seller, actor=kefu, amount_fen=5_000, violation="missed_shipping", decision="超时")
    done = services.deposit_return_confirm(return_id=request.pk, actor=finance, note="支付宝 2026…")

    # Then what is left is paid back and booked, and the deposit is empty
    assert (done.status, done.amount_fen, done.paid_by) == ("paid", 25_000, finance)
    assert done.entry.kind == "deposit_returned"
    assert balance(seller) == 0
    assert ledger_selectors.balance_by_code("cash:sandbox") == 30_000
    assert ledger_selectors.balance_by_code("cash:manual") == -25_000
    assert ledger_selectors.ledger_problems() == []


def test_return_is_blocked_by_items_still_in_the_pipeline(seller):
    pay_deposit(seller)
    item_of(seller, Item.Status.RECEIVED)
    item_of(seller, Item.Status.COMPLETED)  # final: not a blocker

    error = refused(services.deposit_return_request, seller=seller)

    assert (error.code, error.status) == ("deposit_return_blocked", 409)
    assert error.fields["blockers"] == [
        "1 item(s) still in consignment: wait until they are sold, returned to you or withdrawn."
    ]
    assert is_seller(seller)


def test_final_item_states_are_those_without_a_way_out():
    assert sorted(selectors.final_item_states()) == sorted(
        ["completed", "rejected", "withdrawn", "returned", "donated", "lost"]
    )


def test_return_is_blocked_by_an_open_payment_and_by_an_empty_deposit(seller):
    assert refused(services.deposit_return_request, seller=seller).fields["blockers"] == [
        "There is no deposit to give back."
    ]
    pay_deposit(seller)
    services.deposit_payment_start(seller=seller, provider="manual", amount_fen=1_000)

    error = refused(services.deposit_return_request, seller=seller)

    assert error.fields["blockers"] == ["1 deposit payment(s) still open: pay or cancel them first."]


def test_a_second_request_is_refused_and_paying_in_is_refused_while_leaving(seller):
    pay_deposit(seller)
    services.deposit_return_request(seller=seller)

    assert refused(services.deposit_return_request, seller=seller).fields["blockers"] == [
        "You already asked for your deposit back; finance is on it."
    ]
    assert (
        refused(services.deposit_payment_start, seller=seller, provider="sandbox", amount_fen=1_000).code
        == "deposit_return_requested"
    )


def test_cancelling_the_return_gives_the_seller_role_back(seller, other_member):
    pay_deposit(seller)
    request = services.deposit_return_request(seller=seller)

    assert refused(services.deposit_return_cancel, return_id=request.pk, seller=other_member).status == 404
    cancelled = services.deposit_return_cancel(return_id=request.pk, seller=seller)

    assert cancelled.status == "cancelled"
    assert is_seller(seller)
    assert balance(seller) == 30_000
    assert refused(services.deposit_return_cancel, return_id=request.pk, seller=seller).code == "deposit_return_closed"


@pytest.mark.parametrize("role", [roles.CUSTOMER_SERVICE, roles.OWNER, roles.MEMBER])
def test_only_finance_confirms_a_return(seller, role):
    pay_deposit(seller)
    request = services.deposit_return_request(seller=seller)

    error = refused(services.deposit_return_confirm, return_id=request.pk, actor=UserFactory(roles=[role]))

    assert (error.code, error.status) == ("finance_only", 403)
    assert DepositReturn.objects.get(pk=request.pk).status == "requested"


def test_a_confirmed_return_cannot_be_confirmed_again(seller, finance):
    pay_deposit(seller)
    request = services.deposit_return_request(seller=seller)
    services.deposit_return_confirm(return_id=request.pk, actor=finance)

    error = refused(services.deposit_return_confirm, return_id=request.pk, actor=finance)

    assert error.code == "deposit_return_closed"
    assert JournalEntry.objects.filter(kind="deposit_returned").count() == 1


# --- reads and personal data ----------------------------------------------------------------------


def test_sellers_with_deposits_agree_with_the_level_selector(seller):
    from erhuo.trust import selectors as trust_selectors

    other = make_verified_seller()
    set_level(other, "top")
    pay_deposit(seller)
    unverified_seller = UserFactory(roles=[roles.MEMBER, roles.SELLER])

    rows = selectors.sellers_with_deposits()

    by_user = {row.user.pk: row for row in rows}
    assert set(by_user) == {seller.pk, other.pk, unverified_seller.pk}
    for user in (seller, other, unverified_seller):
        assert by_user[user.pk].level == trust_selectors.seller_level(user)
    assert (by_user[seller.pk].balance_fen, by_user[seller.pk].shortfall_fen) == (30_000, 0)
    assert (by_user[other.pk].required_fen, by_user[other.pk].shortfall_fen) == (10_000, 10_000)
    assert rows[0].user.pk == unverified_seller.pk  # ¥300 short: first


def test_erase_blockers_and_export(seller, kefu, finance):
    assert services.erase_blockers(user=seller) == []
    pay_deposit(seller)
    services.deposit_deduct(seller=seller, actor=kefu, amount_fen=1_000, violation="other", decision="违规")
    assert services.erase_blockers(user=seller) == ["Your deposit of ¥290.00 is still held: ask for it back first."]

    request = services.deposit_return_request(seller=seller)
    assert services.erase_blockers(user=seller) == [
        "Your deposit of ¥290.00 is still held: ask for it back first.",
        "Your deposit return is still being processed.",
    ]
    services.deposit_return_confirm(return_id=request.pk, actor=finance)
    assert services.erase_blockers(user=seller) == []

    exported = selectors.personal_data_export(user=seller)["deposit"]
    assert exported["balance_fen"] == 0
    assert [(d["amount_fen"], d["decision"]) for d in exported["deductions"]] == [(1_000, "违规")]
    assert [(r["status"], r["amount_fen"]) for r in exported["returns"]] == [("paid", 29_000)]
    services.personal_data_erase(user=seller)
    assert DepositDeduction.objects.filter(seller=seller).count() == 1


def test_a_seller_who_left_is_not_listed_as_short_of_her_deposit(db):
    from erhuo.trust import deposit_selectors
    from erhuo.trust.services import deposits as deposit_services

    # Given a seller who paid, left, and got her deposit back
    seller = make_verified_seller()
    pay_deposit(seller)
    returned = deposit_services.deposit_return_request(seller=seller)
    deposit_services.deposit_return_confirm(return_id=returned.pk, actor=make_finance())

    # When operators list deposits
    rows = {row.user.pk: row for row in deposit_selectors.sellers_with_deposits()}

    # Then she is there with nothing held and nothing missing
    assert (rows[seller.pk].balance_fen, rows[seller.pk].required_fen, rows[seller.pk].shortfall_fen) == (0, 0, 0)
