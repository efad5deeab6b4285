"""Payments: idempotent creation, manual confirmation by finance only, verified and idempotent notifications."""

import json

import pytest
from django.utils.translation import gettext

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.core import events
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.testing import bad_upload, png_upload
from erhuo.ledger import accounts as ledger_accounts
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.models import JournalEntry
from erhuo.payments import services
from erhuo.payments.models import Payment, PaymentNotification
from erhuo.payments.providers import SANDBOX_SIGNATURE_HEADER, NotificationRejected, provider_for


@pytest.fixture
def finance(db):
    return UserFactory(roles=[roles.FINANCE])


def _payment(payer, *, provider="sandbox", amount_fen=30000, key=None):
    return services.payment_create(
        payer=payer,
        amount_fen=amount_fen,
        purpose="test",
        reference=f"test:{payer.pk}",
        description="测试付款",
        provider=provider,
        idempotency_key=key,
    )


def test_the_same_idempotency_key_returns_the_same_payment(member):
    first = _payment(member, key="abc")
    again = _payment(member, key="abc")

    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert list(first.transitions.values_list("from_state", "to_state")) == [("", "pending")]


def test_a_reused_key_for_a_different_payment_is_refused(member):
    _payment(member, key="abc")

    with pytest.raises(Conflict) as refused:
        _payment(member, key="abc", amount_fen=100)

    assert refused.value.code == "idempotency_key_reused"
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("amount", [0, -5, 10_000_001, 1.5, True])
def test_bad_amounts_are_refused(member, amount):
    with pytest.raises(ValidationFailed):
        _payment(member, amount_fen=amount)
    assert Payment.objects.count() == 0


def test_a_disabled_provider_is_refused(member, settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual"]
    with pytest.raises(ValidationFailed) as refused:
        _payment(member, provider="sandbox")
    assert refused.value.code == "provider_unavailable"


def test_a_sandbox_payment_succeeds_posts_the_money_and_tells_the_purpose_after_commit(
    member, django_capture_on_commit_callbacks
):
    payment = _payment(member)
    received = []
    handler = events.on("payment_succeeded")(received.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            record = services.sandbox_pay(payment_id=payment.pk, payer=member)
    finally:
        events.unregister("payment_succeeded", handler)

    payment.refresh_from_db()
    assert record.outcome == PaymentNotification.Outcome.APPLIED
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.provider_reference == f"SBX{payment.pk:010d}"
    assert ledger_selectors.balance_by_code("cash:sandbox") == 30000
    assert ledger_selectors.balance_by_code(ledger_accounts.CLEARING_PAYMENTS) == 30000
    assert [e.payload["reference"] for e in received] == [f"test:{member.pk}"]
    assert received[0].payload["purpose"] == "test"
    assert received[0].payload["amount_fen"] == 30000


def test_a_replayed_notification_changes_nothing(member):
    payment = _payment(member)
    body, headers = provider_for("sandbox").notification_for(payment)
    services.notification_receive(provider="sandbox", body=body, headers=headers)

    replay = services.notification_receive(provider="sandbox", body=body, headers=headers)

    assert replay.outcome == PaymentNotification.Outcome.DUPLICATE
    assert JournalEntry.objects.count() == 1
    assert ledger_selectors.balance_by_code("cash:sandbox") == 30000
    assert payment.transitions.count() == 2


def test_a_late_failure_after_success_changes_nothing(member):
    payment = _payment(member)
    services.sandbox_pay(payment_id=payment.pk, payer=member)
    body, headers = provider_for("sandbox").notification_for(payment, status="failed")

    services.notification_receive(provider="sandbox", body=body, headers=headers)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert ledger_selectors.balance_by_code("cash:sandbox") == 30000


def test_a_tampered_notification_is_rejected_logged_and_changes_nothing(member):
    payment = _payment(member)
    body, headers = provider_for("sandbox").notification_for(payment)
    tampered = body.replace(b'"amount_fen": 30000', b'"amount_fen": 1')

    with pytest.raises(NotificationRejected) as refused:
        services.notification_receive(provider="sandbox", body=tampered, headers=headers)
    with pytest.raises(NotificationRejected):
        services.notification_receive(provider="sandbox", body=body, headers={})

    assert refused.value.code == "signature_invalid"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert JournalEntry.objects.count() == 0
    assert list(PaymentNotification.objects.values_list("outcome", flat=True)) == ["rejected", "rejected"]


def test_a_signed_notification_with_the_wrong_amount_is_rejected(member):
    from erhuo.payments.providers import sandbox_sign

    payment = _payment(member)
    body = json.dumps({"event_id": "x1", "payment_id": payment.pk, "status": "succeeded", "amount_fen": 1}).encode()

    with pytest.raises(NotificationRejected):
        services.notification_receive(
            provider="sandbox", body=body, headers={SANDBOX_SIGNATURE_HEADER: sandbox_sign(body)}
        )

    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert PaymentNotification.objects.get().outcome == "rejected"
    assert JournalEntry.objects.count() == 0


def test_manual_transfer_proof_then_finance_confirms(member, finance):
    payment = _payment(member, provider="manual")

    services.payment_proof_submit(payment_id=payment.pk, payer=member, proof=png_upload(), note="微信转账")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUBMITTED
    assert payment.proof.name.startswith("payments/proofs/")

    services.payment_manual_confirm(payment_id=payment.pk, actor=finance)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.confirmed_by == finance
    assert ledger_selectors.balance_by_code("cash:manual") == 30000


@pytest.mark.parametrize("role", [roles.OWNER, roles.CUSTOMER_SERVICE, roles.MEMBER])
def test_only_finance_confirms_a_transfer(member, role):
    payment = _payment(member, provider="manual")
    services.payment_proof_submit(payment_id=payment.pk, payer=member, proof=png_upload())
    someone = UserFactory(roles=[role])

    with pytest.raises(PermissionRefused):
        services.payment_manual_confirm(payment_id=payment.pk, actor=someone)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUBMITTED
    assert JournalEntry.objects.count() == 0


def test_finance_cannot_confirm_their_own_payment(finance):
    payment = _payment(finance, provider="manual")
    with pytest.raises(PermissionRefused):
        services.payment_manual_confirm(payment_id=payment.pk, actor=finance)
    assert Payment.objects.get().status == Payment.Status.PENDING


def test_rejecting_a_transfer_needs_a_reason_and_lets_the_payer_pay_again(member, finance):
    payment = _payment(member, provider="manual")
    with pytest.raises(ValidationFailed):
        services.payment_manual_reject(payment_id=payment.pk, actor=finance, reason=" ")

    services.payment_manual_reject(payment_id=payment.pk, actor=finance, reason="没有查到这笔转账")

    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert payment.transitions.last().note == "没有查到这笔转账"
    with pytest.raises(Conflict):
        services.payment_manual_confirm(payment_id=payment.pk, actor=finance)


def test_a_bad_proof_leaves_the_payment_as_it_was(member):
    payment = _payment(member, provider="manual")
    with pytest.raises(ValidationFailed):
        services.payment_proof_submit(payment_id=payment.pk, payer=member, proof=bad_upload())
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert payment.proof.name == ""


def test_another_member_cannot_touch_a_payment(member, other_member):
    payment = _payment(member, provider="manual")
    with pytest.raises(NotFound):
        services.payment_proof_submit(payment_id=payment.pk, payer=other_member, proof=png_upload())
    with pytest.raises(NotFound):
        services.payment_cancel(payment_id=payment.pk, payer=other_member)
    sandbox = _payment(member)
    with pytest.raises(NotFound):
        services.sandbox_pay(payment_id=sandbox.pk, payer=other_member)
    assert set(Payment.objects.values_list("status", flat=True)) == {"pending"}


def test_a_cancelled_payment_cannot_be_paid(member):
    payment = _payment(member)
    services.payment_cancel(payment_id=payment.pk, payer=member)
    with pytest.raises(Conflict):
        services.sandbox_pay(payment_id=payment.pk, payer=member)
    assert JournalEntry.objects.count() == 0


def test_open_payments_block_erasure(member):
    payment = _payment(member)
    assert services.erase_blockers(user=member) == [
        gettext("%(count)s payment(s) still waiting; pay or cancel them first.") % {"count": 1}
    ]
    services.payment_cancel(payment_id=payment.pk, payer=member)
    assert services.erase_blockers(user=member) == []


def test_a_disabled_provider_accepts_no_notification_even_correctly_signed(member, settings):
    payment = _payment(member)
    body, headers = provider_for("sandbox").notification_for(payment)
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual"]

    with pytest.raises(NotificationRejected) as refused:
        services.notification_receive(provider="sandbox", body=body, headers=headers)

    assert refused.value.code == "provider_unavailable"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert JournalEntry.objects.count() == 0
    assert PaymentNotification.objects.get().outcome == "rejected"
