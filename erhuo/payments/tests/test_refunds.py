"""Refunds: never more than was paid, once per key, manual ones confirmed by finance only, books that balance.

The asking app's side of the contract (it moved the money back into
payments clearing first) is played here by the payment itself: a payment
that succeeded and was never allocated still sits in clearing.
"""

import pytest
from django.utils import translation
from django.utils.translation import gettext

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.core import events
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.testing import png_upload
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.models import JournalEntry
from erhuo.payments import selectors, services
from erhuo.payments.models import Payment, PaymentNotification, Refund, RefundTransition
from erhuo.payments.providers import NotificationRejected, SandboxProvider

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    with translation.override("en"):
        yield


def sandbox_paid(payer, amount_fen=30_000) -> Payment:
    payment = services.payment_create(
        payer=payer, amount_fen=amount_fen, purpose="test", reference="test:1", description="测试", provider="sandbox"
    )
    services.sandbox_pay(payment_id=payment.pk, payer=payer)
    payment.refresh_from_db()
    return payment


def manual_paid(payer, finance, amount_fen=30_000) -> Payment:
    payment = services.payment_create(
        payer=payer, amount_fen=amount_fen, purpose="test", reference="test:2", description="测试", provider="manual"
    )
    services.payment_proof_submit(payment_id=payment.pk, payer=payer, proof=png_upload())
    services.payment_manual_confirm(payment_id=payment.pk, actor=finance)
    payment.refresh_from_db()
    return payment


def refund(payment, amount_fen, key, *, reason="买家退货", actor=None) -> Refund:
    return services.refund_request(payment_id=payment.pk, amount_fen=amount_fen, reason=reason, key=key, actor=actor)


def snapshot() -> dict:
    return {
        "refunds": list(Refund.objects.order_by("pk").values_list("pk", "status", "amount_fen", "confirmed_by_id")),
        "steps": RefundTransition.objects.count(),
        "entries": list(JournalEntry.objects.order_by("pk").values_list("pk", "kind", "key")),
        "balances": list(ledger_selectors.accounts_with_balances().values_list("code", "balance_fen")),
        "notifications": PaymentNotification.objects.count(),
    }


def capture(name):
    received = []
    handler = events.on(name)(received.append)
    return received, lambda: events.unregister(name, handler)


# --- the sandbox: paid back at once, through a signed refund notification --------------------------------------


def test_a_sandbox_refund_is_paid_at_once_and_the_books_follow(member, django_capture_on_commit_callbacks):
    payment = sandbox_paid(member)
    received, stop = capture("refund_succeeded")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            done = refund(payment, 12_000, "order:1:return")
    finally:
        stop()

    assert (done.status, done.amount_fen, done.key, done.provider_reference) == (
        "succeeded",
        12_000,
        "order:1:return",
        f"SBXR{done.pk:010d}",
    )
    assert done.succeeded_at is not None
    assert list(done.transitions.values_list("from_state", "to_state")) == [("", "pending"), ("pending", "succeeded")]
    note = PaymentNotification.objects.get(refund=done)
    assert (note.outcome, note.event_key, note.payment_id) == (
        "applied",
        f"sandbox:sbx-refund-{done.pk}-succeeded",
        payment.pk,
    )
    entry = JournalEntry.objects.get(key=f"refund:{done.pk}")
    assert (entry.kind, entry.reference) == ("refund_paid", f"payment:{payment.pk}")
    assert sorted(entry.postings.values_list("account__code", "amount_fen")) == [
        ("cash:sandbox", -12_000),
        ("clearing:payments", 12_000),
    ]
    assert ledger_selectors.balance_by_code("cash:sandbox") == 18_000
    assert ledger_selectors.balance_by_code("clearing:payments") == 18_000
    assert [event.payload for event in received] == [
        {
            "model": "payments.refund",
            "pk": done.pk,
            "from_state": "pending",
            "to_state": "succeeded",
            "actor_id": None,
            "refund_id": done.pk,
            "payment_id": payment.pk,
            "purpose": "test",
            "reference": "test:1",
            "payer_id": member.pk,
            "amount_fen": 12_000,
            "key": "order:1:return",
        }
    ]
    assert (selectors.refunded_fen(payment), selectors.refundable_fen(payment)) == (12_000, 18_000)
    assert ledger_selectors.ledger_problems() == []


def test_refunds_up_to_the_whole_payment_and_not_a_fen_more(member):
    payment = sandbox_paid(member)
    refund(payment, 20_000, "a")
    before = snapshot()

    with pytest.raises(Conflict) as refused:
        refund(payment, 10_001, "b")

    assert refused.value.code == "refund_exceeds_payment"
    assert str(refused.value.message) == (
        "A refund of ¥100.01 is more than what is left of this payment: ¥100.00 can still be refunded "
        "(paid ¥300.00, refunded or being refunded ¥200.00)."
    )
    assert snapshot() == before
    assert Refund.objects.count() == 1
    refund(payment, 10_000, "c")
    assert selectors.refunded_fen(payment) == 30_000
    assert ledger_selectors.balance_by_code("cash:sandbox") == 0
    assert ledger_selectors.ledger_problems() == []


def test_a_refund_larger_than_the_payment_creates_nothing(member):
    payment = sandbox_paid(member)
    before = snapshot()

    with pytest.raises(Conflict) as refused:
        refund(payment, 30_001, "too-much")

    assert refused.value.code == "refund_exceeds_payment"
    assert snapshot() == before
    assert not Refund.objects.exists()
    assert not JournalEntry.objects.filter(kind="refund_paid").exists()


@pytest.mark.parametrize("amount", [0, -100, 1.5, True, "100", None])
def test_an_amount_that_is_not_a_positive_number_of_fen_is_refused(member, amount):
    payment = sandbox_paid(member)
    before = snapshot()

    with pytest.raises(ValidationFailed) as refused:
        refund(payment, amount, "k")

    assert refused.value.code == "amount_invalid"
    assert snapshot() == before


def test_a_reason_and_a_key_are_required(member):
    payment = sandbox_paid(member)
    with pytest.raises(ValidationFailed) as no_reason:
        refund(payment, 100, "k", reason="  ")
    with pytest.raises(ValidationFailed) as no_key:
        refund(payment, 100, " ")
    assert (no_reason.value.code, no_key.value.code) == ("reason_required", "key_invalid")
    assert not Refund.objects.exists()


def test_only_a_paid_payment_is_refundable(member):
    pending = services.payment_create(
        payer=member, amount_fen=100, purpose="test", reference="t", description="测试", provider="sandbox"
    )
    cancelled = services.payment_create(
        payer=member, amount_fen=200, purpose="test", reference="t", description="测试", provider="sandbox"
    )
    services.payment_cancel(payment_id=cancelled.pk, payer=member)

    for payment in (pending, cancelled):
        with pytest.raises(Conflict) as refused:
            refund(payment, 100, f"k{payment.pk}")
        assert refused.value.code == "payment_not_refundable"
    with pytest.raises(NotFound):
        services.refund_request(payment_id=999_999, amount_fen=100, reason="x", key="k")
    assert not Refund.objects.exists()


# --- idempotency -------------------------------------------------------------------------------------------------


def test_the_same_key_returns_the_same_refund_and_pays_once(member):
    payment = sandbox_paid(member)
    first = refund(payment, 12_000, "order:7:cancel")
    after_first = snapshot()

    again = refund(payment, 12_000, "order:7:cancel")

    assert again.pk == first.pk
    assert snapshot() == after_first
    assert JournalEntry.objects.filter(key=f"refund:{first.pk}").count() == 1


def test_the_same_key_for_another_amount_or_payment_is_refused(member):
    payment = sandbox_paid(member)
    other = sandbox_paid(member, amount_fen=5_000)
    refund(payment, 12_000, "k")
    before = snapshot()

    for target, amount in ((payment, 11_000), (other, 12_000)):
        with pytest.raises(Conflict) as refused:
            refund(target, amount, "k")
        assert refused.value.code == "idempotency_key_reused"
    assert snapshot() == before


def test_a_failed_refund_frees_its_amount_for_another(member, finance):
    payment = manual_paid(member, finance)
    given_up = refund(payment, 30_000, "first")
    with pytest.raises(Conflict):
        refund(payment, 1, "second")

    services.refund_fail(refund_id=given_up.pk, actor=finance, reason="买家的账户已注销")

    assert selectors.refundable_fen(payment) == 30_000
    assert refund(payment, 30_000, "third").status == "pending"


# --- manual transfers: finance pays back by hand, then confirms -------------------------------------------------------


def test_a_manual_refund_waits_for_finance_who_confirms_it(member, finance, django_capture_on_commit_callbacks):
    payment = manual_paid(member, finance)
    pending = refund(payment, 12_000, "k")
    assert pending.status == "pending"
    assert list(selectors.manual_refund_queue()) == [pending]
    assert JournalEntry.objects.filter(kind="refund_paid").count() == 0
    received, stop = capture("refund_succeeded")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            done = services.refund_manual_confirm(refund_id=pending.pk, actor=finance, note="支付宝转回")
    finally:
        stop()

    assert (done.status, done.confirmed_by, done.transitions.last().note) == ("succeeded", finance, "支付宝转回")
    assert ledger_selectors.balance_by_code("cash:manual") == 18_000
    assert list(selectors.manual_refund_queue()) == []
    assert [event.payload["refund_id"] for event in received] == [pending.pk]
    assert received[0].payload["actor_id"] == finance.pk
    assert ledger_selectors.ledger_problems() == []


@pytest.mark.parametrize("role", [roles.MEMBER, roles.OWNER, roles.CUSTOMER_SERVICE, roles.COMMUNITY_MANAGER])
def test_only_finance_confirms_a_manual_refund_and_a_refusal_changes_nothing(member, finance, role):
    payment = manual_paid(member, finance)
    pending = refund(payment, 12_000, "k")
    before = snapshot()

    for someone in (UserFactory(roles=[role]), member, None):
        with pytest.raises(PermissionRefused) as refused:
            services.refund_manual_confirm(refund_id=pending.pk, actor=someone)
        assert refused.value.code == "finance_only"
        with pytest.raises(PermissionRefused):
            services.refund_fail(refund_id=pending.pk, actor=someone or member, reason="x")

    assert snapshot() == before
    assert Refund.objects.get().status == "pending"


def test_finance_does_not_confirm_a_refund_to_themselves(finance):
    other_finance = UserFactory(roles=[roles.FINANCE])
    payment = manual_paid(finance, other_finance)
    pending = refund(payment, 100, "k")
    before = snapshot()

    with pytest.raises(PermissionRefused) as refused:
        services.refund_manual_confirm(refund_id=pending.pk, actor=finance)

    assert refused.value.code == "own_refund"
    assert snapshot() == before
    assert services.refund_manual_confirm(refund_id=pending.pk, actor=other_finance).status == "succeeded"


def test_a_settled_refund_cannot_be_confirmed_or_failed_again(member, finance):
    payment = manual_paid(member, finance)
    pending = refund(payment, 100, "k")
    services.refund_manual_confirm(refund_id=pending.pk, actor=finance)
    before = snapshot()

    with pytest.raises(Conflict) as again:
        services.refund_manual_confirm(refund_id=pending.pk, actor=finance)
    with pytest.raises(Conflict):
        services.refund_fail(refund_id=pending.pk, actor=finance, reason="x")

    assert again.value.code == "refund_closed"
    assert snapshot() == before
    with pytest.raises(NotFound):
        services.refund_manual_confirm(refund_id=999_999, actor=finance)


def test_a_sandbox_refund_is_not_confirmed_or_failed_by_hand(member, finance):
    done = refund(sandbox_paid(member), 100, "k")
    with pytest.raises(Conflict) as confirm:
        services.refund_manual_confirm(refund_id=done.pk, actor=finance)
    assert confirm.value.code == "not_manual"


def test_finance_gives_up_a_manual_refund_and_the_asking_app_is_told(
    member, finance, django_capture_on_commit_callbacks
):
    payment = manual_paid(member, finance)
    pending = refund(payment, 12_000, "k")
    failed, stop = capture("refund_failed")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.refund_fail(refund_id=pending.pk, actor=finance, reason="买家的账户已注销")
    finally:
        stop()

    pending.refresh_from_db()
    assert pending.status == "failed"
    assert [(e.payload["refund_id"], e.payload["key"], e.payload["detail"]) for e in failed] == [
        (pending.pk, "k", "买家的账户已注销")
    ]
    # The money stays in clearing: the asking app decides what becomes of it.
    assert ledger_selectors.balance_by_code("clearing:payments") == 30_000
    assert JournalEntry.objects.filter(kind="refund_paid").count() == 0


# --- sandbox refund notifications -------------------------------------------------------------------------------------


def test_a_tampered_replayed_or_late_refund_notification_changes_nothing(member):
    payment = sandbox_paid(member)
    done = refund(payment, 12_000, "k")
    sandbox = SandboxProvider()
    body, headers = sandbox.refund_notification_for(done)
    before = snapshot()

    replay = services.notification_receive(provider="sandbox", body=body, headers=headers)
    late_body, late_headers = sandbox.refund_notification_for(done, status="failed")
    services.notification_receive(provider="sandbox", body=late_body, headers=late_headers)
    tampered = body.replace(b'"amount_fen": 12000', b'"amount_fen": 30000')
    with pytest.raises(NotificationRejected) as rejected:
        services.notification_receive(provider="sandbox", body=tampered, headers=headers)

    assert replay.outcome == "duplicate"
    assert rejected.value.code == "signature_invalid"
    assert Refund.objects.get().status == "succeeded"
    after = snapshot()
    assert after.pop("notifications") == before.pop("notifications") + 3
    assert after == before


def test_a_refund_notification_for_another_payments_refund_is_rejected(member):
    first = sandbox_paid(member)
    second = sandbox_paid(member, amount_fen=5_000)
    done = refund(first, 100, "k")
    sandbox = SandboxProvider()
    body, headers = sandbox._signed(
        {
            "event_id": "forged",
            "kind": "refund",
            "refund_id": done.pk,
            "payment_id": second.pk,
            "status": "succeeded",
            "amount_fen": 100,
        }
    )

    with pytest.raises(NotificationRejected) as rejected:
        services.notification_receive(provider="sandbox", body=body, headers=headers)

    assert rejected.value.code == "notification_rejected"
    assert str(rejected.value.message) == gettext("The notification names an unknown refund.")


# --- what else reads refunds ------------------------------------------------------------------------------------------


def test_a_pending_refund_blocks_erasing_the_payers_account(member, finance):
    payment = manual_paid(member, finance)
    pending = refund(payment, 100, "k")

    assert services.erase_blockers(user=member) == ["1 refund(s) still on their way to you."]

    services.refund_manual_confirm(refund_id=pending.pk, actor=finance)
    assert services.erase_blockers(user=member) == []


def test_the_payers_data_export_lists_refunds(member):
    done = refund(sandbox_paid(member), 100, "k")

    exported = selectors.personal_data_export(user=member)["refunds"]

    assert [(r["id"], r["amount_fen"], r["status"]) for r in exported] == [(done.pk, 100, "succeeded")]
