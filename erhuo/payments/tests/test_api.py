"""The payments API: a payment for its payer and finance, paying it, finance's queue, and signed notifications.

A tampered or replayed sandbox notification changes nothing; a wrong role is
refused (403, or 404 for someone else's payment) and nothing changes.
"""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from PIL import Image

from erhuo.accounts import roles
from erhuo.accounts.services import api_token_issue
from erhuo.accounts.tests.factories import UserFactory
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.models import JournalEntry
from erhuo.payments import services
from erhuo.payments.models import Payment, PaymentNotification, PaymentTransition
from erhuo.payments.providers import SANDBOX_SIGNATURE_HEADER, SandboxProvider, sandbox_sign

pytestmark = pytest.mark.django_db

API = "/api/v1"
NOTIFY = f"{API}/payments/notify/sandbox"


@pytest.fixture(autouse=True)
def _sandbox_and_english(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    with translation.override("en"):
        yield


@pytest.fixture
def finance(db):
    return UserFactory(roles=[roles.FINANCE])


def png(name="proof.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 30), (30, 160, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def make_payment(payer, *, provider="manual", amount_fen=30_000) -> Payment:
    return services.payment_create(
        payer=payer,
        amount_fen=amount_fen,
        # Not "deposit": trust's handler would allocate it when events are delivered; payments knows no purposes.
        purpose="test",
        reference=f"test:{payer.pk}",
        description="Seller deposit",
        provider=provider,
        return_path="/trust/deposit/",
    )


def submitted(payer) -> Payment:
    payment = make_payment(payer)
    return services.payment_proof_submit(payment_id=payment.pk, payer=payer, proof=png())


def bearer(user) -> dict:
    _row, token = api_token_issue(user=user, name="test")
    return {"Authorization": f"Bearer {token}", "accept-language": "en"}


def snapshot() -> dict:
    return {
        "payments": list(Payment.objects.order_by("pk").values_list("pk", "status", "proof", "paid_at")),
        "transitions": PaymentTransition.objects.count(),
        "entries": JournalEntry.objects.count(),
        "accounts": list(ledger_selectors.accounts_with_balances().values_list("code", "balance_fen")),
        "applied": PaymentNotification.objects.filter(outcome="applied").count(),
    }


def notify(body: bytes, signature: str | None):
    headers = {SANDBOX_SIGNATURE_HEADER: signature} if signature is not None else {}
    return Client().post(NOTIFY, body, content_type="application/json", headers=headers)


# --- one payment -------------------------------------------------------------------------------


def test_the_payer_reads_her_payment_with_what_to_do_next(api_client, member):
    payment = make_payment(member)
    api_client.login(member)

    response = api_client.get(f"{API}/payments/{payment.pk}")

    assert response.status_code == 200
    data = response.json()
    assert (data["amount_fen"], data["status"], data["provider"], data["pay_url"]) == (
        30_000,
        "pending",
        "manual",
        f"/pay/{payment.pk}/",
    )
    assert data["next"]["note_to_write"] == f"EH-PAY-{payment.pk}"


def test_finance_reads_a_payment_without_the_payers_instructions(api_client, member, finance):
    payment = submitted(member)
    api_client.login(finance)

    data = api_client.get(f"{API}/payments/{payment.pk}").json()

    assert data["next"] is None
    assert data["proof_url"] == f"/pay/{payment.pk}/proof/image/"


@pytest.mark.parametrize("role", [roles.MEMBER, roles.CUSTOMER_SERVICE, roles.OWNER])
def test_anyone_else_gets_404(api_client, member, role):
    payment = make_payment(member)
    api_client.login(UserFactory(roles=[role]))

    response = api_client.get(f"{API}/payments/{payment.pk}")

    assert (response.status_code, response.json()["code"]) == (404, "payment_not_found")


def test_proof_cancel_and_sandbox_pay_of_someone_elses_payment_are_404_and_change_nothing(client, member, other_member):
    manual = make_payment(member)
    sandbox = make_payment(member, provider="sandbox", amount_fen=100)
    headers = bearer(other_member)
    before = snapshot()

    assert client.post(f"{API}/payments/{manual.pk}/proof", {"proof": png()}, headers=headers).status_code == 404
    assert client.post(f"{API}/payments/{manual.pk}/cancel", headers=headers).status_code == 404
    assert client.post(f"{API}/payments/{sandbox.pk}/sandbox-pay", headers=headers).status_code == 404
    assert snapshot() == before


def test_sending_a_proof_multipart(client, member):
    payment = make_payment(member)

    response = client.post(
        f"{API}/payments/{payment.pk}/proof", {"proof": png(), "note": "已转账"}, headers=bearer(member)
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["payer_note"]) == ("submitted", "已转账")


def test_a_proof_that_is_not_an_image_is_422_and_changes_nothing(client, member):
    payment = make_payment(member)
    before = snapshot()

    response = client.post(
        f"{API}/payments/{payment.pk}/proof",
        {"proof": SimpleUploadedFile("x.png", b"not an image")},
        headers=bearer(member),
    )

    assert (response.status_code, response.json()["code"]) == (422, "image_invalid")
    assert snapshot() == before


def test_cancel_and_sandbox_pay(api_client, member):
    api_client.login(member)
    manual = make_payment(member, amount_fen=100)
    sandbox = make_payment(member, provider="sandbox")

    assert api_client.post(f"{API}/payments/{manual.pk}/cancel").json()["status"] == "cancelled"
    paid = api_client.post(f"{API}/payments/{sandbox.pk}/sandbox-pay")

    assert (paid.status_code, paid.json()["status"]) == (200, "succeeded")
    assert ledger_selectors.balance_by_code("clearing:payments") == 30_000
    again = api_client.post(f"{API}/payments/{sandbox.pk}/sandbox-pay")
    assert (again.status_code, again.json()["code"]) == (409, "payment_closed")


# --- provider notifications ----------------------------------------------------------------------


def test_a_signed_notification_applies_once_and_a_replay_changes_nothing(member):
    payment = make_payment(member, provider="sandbox")
    body, headers = SandboxProvider().notification_for(payment)

    first = notify(body, headers[SANDBOX_SIGNATURE_HEADER])
    assert (first.status_code, first.json()) == (200, {"outcome": "applied"})
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    after_first = snapshot()

    replay = notify(body, headers[SANDBOX_SIGNATURE_HEADER])

    assert (replay.status_code, replay.json()) == (200, {"outcome": "duplicate"})
    assert snapshot() == after_first
    assert JournalEntry.objects.filter(key=f"payment:{payment.pk}").count() == 1


def test_a_tampered_notification_is_400_and_changes_nothing(member):
    payment = make_payment(member, provider="sandbox")
    body, headers = SandboxProvider().notification_for(payment)
    tampered = body.replace(b'"amount_fen": 30000', b'"amount_fen": 1')
    assert tampered != body
    before = snapshot()

    response = notify(tampered, headers[SANDBOX_SIGNATURE_HEADER])

    assert (response.status_code, response.json()["code"]) == (400, "signature_invalid")
    assert snapshot() == before
    assert PaymentNotification.objects.get().outcome == "rejected"


def test_an_unsigned_notification_is_400(member):
    payment = make_payment(member, provider="sandbox")
    body, _headers = SandboxProvider().notification_for(payment)
    before = snapshot()

    assert notify(body, None).status_code == 400
    assert notify(body, "0" * 64).status_code == 400
    assert snapshot() == before


def test_a_validly_signed_notification_with_the_wrong_amount_is_refused(member):
    # Someone holding the secret but lying about the amount still cannot mark the payment paid.
    payment = make_payment(member, provider="sandbox")
    body = json.dumps(
        {"event_id": "x-1", "payment_id": payment.pk, "status": "succeeded", "amount_fen": 1}, sort_keys=True
    ).encode()
    before = snapshot()

    response = notify(body, sandbox_sign(body))

    assert (response.status_code, response.json()["code"]) == (400, "notification_rejected")
    assert snapshot() == before


def test_a_notification_for_an_unknown_payment_is_refused():
    body = json.dumps({"event_id": "x-2", "payment_id": 999_999, "status": "succeeded", "amount_fen": 1}).encode()

    response = notify(body, sandbox_sign(body))

    assert response.status_code == 400
    assert JournalEntry.objects.count() == 0


def test_notifications_are_404_when_the_sandbox_is_off(settings, member):
    payment = make_payment(member, provider="sandbox")
    body, headers = SandboxProvider().notification_for(payment)
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual"]

    response = notify(body, headers[SANDBOX_SIGNATURE_HEADER])

    assert (response.status_code, response.json()["code"]) == (404, "provider_unavailable")
    assert Payment.objects.get(pk=payment.pk).status == "pending"


# --- finance ----------------------------------------------------------------------------------------


def test_finance_works_the_queue(api_client, member, other_member, finance):
    first = submitted(member)
    second = submitted(other_member)
    api_client.login(finance)

    queue = api_client.get(f"{API}/payments/manual-queue")
    assert [row["id"] for row in queue.json()["items"]] == [first.pk, second.pk]

    confirmed = api_client.post(f"{API}/payments/{first.pk}/confirm", {"note": "到账"})
    rejected = api_client.post(f"{API}/payments/{second.pk}/reject", {"reason": "未到账"})

    assert (confirmed.status_code, confirmed.json()["status"]) == (200, "succeeded")
    assert (rejected.status_code, rejected.json()["status"], rejected.json()["rejection_reason"]) == (
        200,
        "failed",
        "未到账",
    )
    assert JournalEntry.objects.filter(key=f"payment:{first.pk}").count() == 1
    assert api_client.get(f"{API}/payments/manual-queue").json()["items"] == []


@pytest.mark.parametrize("role", [roles.CUSTOMER_SERVICE, roles.OWNER, roles.MEMBER])
def test_only_finance_confirms_and_nothing_changes_on_refusal(api_client, member, role):
    payment = submitted(member)
    api_client.login(UserFactory(roles=[role]))
    before = snapshot()

    assert api_client.get(f"{API}/payments/manual-queue").status_code == 403
    confirm = api_client.post(f"{API}/payments/{payment.pk}/confirm")
    reject = api_client.post(f"{API}/payments/{payment.pk}/reject", {"reason": "x"})

    assert (confirm.status_code, confirm.json()["code"]) == (403, "finance_only")
    assert reject.status_code == 403
    assert snapshot() == before
    assert Payment.objects.get(pk=payment.pk).status == "submitted"
    assert JournalEntry.objects.count() == 0
