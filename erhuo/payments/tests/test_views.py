"""Payment pages: the payer's pay page (manual and sandbox), the transfer screenshot, and finance's queue.

A payment exists only for its payer (404 for anyone else); only finance
confirms or rejects transfers, and a refused attempt changes nothing: the
payment keeps its status and the ledger gets no entry.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from PIL import Image

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.ledger.models import JournalEntry
from erhuo.payments import services
from erhuo.payments.models import Payment, PaymentNotification, PaymentTransition

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sandbox_and_english(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    settings.ERHUO_MANUAL_PAYEE_NAME = "二货社区 收款账户"
    with translation.override("en"):
        yield


@pytest.fixture
def finance(db):
    return UserFactory(roles=[roles.FINANCE])


def png(name="proof.png", size=(20, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 160, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def make_payment(payer, *, provider="manual", amount_fen=30_000, **kwargs) -> Payment:
    return services.payment_create(
        payer=payer,
        amount_fen=amount_fen,
        # Not "deposit": trust's handler would allocate it when events are delivered; payments knows no purposes.
        purpose="test",
        reference=f"test:{payer.pk}",
        description="Seller deposit",
        provider=provider,
        return_path="/trust/deposit/",
        **kwargs,
    )


def submitted(payer) -> Payment:
    payment = make_payment(payer)
    return services.payment_proof_submit(payment_id=payment.pk, payer=payer, proof=png())


def as_user(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def snapshot() -> dict:
    return {
        "payments": list(Payment.objects.order_by("pk").values_list("pk", "status", "proof", "confirmed_by_id")),
        "transitions": PaymentTransition.objects.count(),
        "entries": JournalEntry.objects.count(),
    }


def pay_url(payment) -> str:
    return reverse("payments:pay", args=[payment.pk])


# --- the pay page -----------------------------------------------------------------------------


def test_the_manual_pay_page_shows_payee_note_and_proof_form(member):
    payment = make_payment(member)

    response = as_user(member).get(pay_url(payment))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Seller deposit" in body
    assert "¥300.00" in body
    assert "二货社区 收款账户" in body
    assert f"EH-PAY-{payment.pk}" in body
    assert 'enctype="multipart/form-data"' in body
    assert "in the sandbox" not in body


def test_the_sandbox_pay_page_pays_and_links_back(member):
    payment = make_payment(member, provider="sandbox")
    client = as_user(member)
    assert "Pay ¥300.00 in the sandbox" in client.get(pay_url(payment)).content.decode()

    response = client.post(reverse("payments:sandbox_pay", args=[payment.pk]))

    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    page = client.get(pay_url(payment))
    assert b'href="/trust/deposit/"' in page.content
    assert JournalEntry.objects.filter(key=f"payment:{payment.pk}").count() == 1


def test_a_member_opening_another_members_pay_page_gets_404_and_changes_nothing(member, other_member):
    payment = make_payment(member)
    sandbox = make_payment(member, provider="sandbox", amount_fen=100)
    client = as_user(other_member)
    before = snapshot()

    assert client.get(pay_url(payment)).status_code == 404
    assert client.post(reverse("payments:proof_submit", args=[payment.pk]), {"proof": png()}).status_code == 404
    assert client.post(reverse("payments:cancel", args=[payment.pk])).status_code == 404
    assert client.post(reverse("payments:sandbox_pay", args=[sandbox.pk])).status_code == 404
    assert snapshot() == before


def test_the_pay_page_needs_a_login(client, member):
    payment = make_payment(member)
    response = client.get(pay_url(payment))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_sending_a_proof(member):
    payment = make_payment(member)

    response = as_user(member).post(
        reverse("payments:proof_submit", args=[payment.pk]), {"proof": png(), "note": "用老公的支付宝付的"}
    )

    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.payer_note) == ("submitted", "用老公的支付宝付的")
    assert payment.proof.name.startswith("payments/proofs/")


def test_a_proof_that_is_not_an_image_is_refused_and_nothing_changes(member):
    payment = make_payment(member)
    before = snapshot()

    response = as_user(member).post(
        reverse("payments:proof_submit", args=[payment.pk]), {"proof": SimpleUploadedFile("x.png", b"not an image")}
    )

    assert response.status_code == 422
    assert response.context["proof_form"].errors["proof"] == ["Not a JPEG, PNG or WebP image."]
    assert snapshot() == before


def test_cancelling(member):
    payment = make_payment(member)

    response = as_user(member).post(reverse("payments:cancel", args=[payment.pk]))

    assert response.status_code == 302
    assert Payment.objects.get(pk=payment.pk).status == "cancelled"
    again = as_user(member).post(reverse("payments:cancel", args=[payment.pk]))
    assert again.status_code == 409


def test_a_rejected_transfer_shows_finances_reason(member, finance):
    payment = submitted(member)
    services.payment_manual_reject(payment_id=payment.pk, actor=finance, reason="没有收到这笔转账")

    response = as_user(member).get(pay_url(payment))

    assert response.context["rejection_reason"] == "没有收到这笔转账"
    assert "没有收到这笔转账" in response.content.decode()


# --- the transfer screenshot -----------------------------------------------------------------------


def test_the_proof_image_is_for_the_payer_and_finance_only(member, other_member, finance):
    payment = submitted(member)
    url = reverse("payments:proof_image", args=[payment.pk])

    for user in (member, finance):
        response = as_user(user).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["Cache-Control"] == "private, no-store"
    for user in (other_member, UserFactory(roles=[roles.CUSTOMER_SERVICE]), UserFactory(roles=[roles.OWNER])):
        assert as_user(user).get(url).status_code == 404


def test_a_proof_is_kept_where_no_url_reaches_it_and_pages_link_the_checked_view(member, finance, settings):
    payment = submitted(member)

    # The file is in the private storage, outside MEDIA_ROOT, and has no URL at all
    assert (settings.ERHUO_PRIVATE_MEDIA_ROOT / payment.proof.name).is_file()
    assert not (settings.MEDIA_ROOT / payment.proof.name).exists()
    with pytest.raises(ValueError):
        payment.proof.url
    for client, url in ((as_user(member), pay_url(payment)), (as_user(finance), reverse("payments:finance_queue"))):
        body = client.get(url).content.decode()
        assert payment.proof.name not in body
        assert reverse("payments:proof_image", args=[payment.pk]) in body


# --- finance ----------------------------------------------------------------------------------------


def test_the_queue_lists_submitted_transfers_oldest_first(member, other_member, finance):
    first = submitted(member)
    second = submitted(other_member)
    make_payment(member, amount_fen=100)  # no proof yet: not in the queue

    response = as_user(finance).get(reverse("payments:finance_queue"))

    assert response.status_code == 200
    assert [row["payment"].pk for row in response.context["rows"]] == [first.pk, second.pk]


def test_finance_confirms_a_transfer(member, finance):
    payment = submitted(member)

    response = as_user(finance).post(
        reverse("payments:finance_confirm", args=[payment.pk]), {f"c{payment.pk}-note": ""}
    )

    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.confirmed_by) == ("succeeded", finance)
    assert JournalEntry.objects.filter(key=f"payment:{payment.pk}").count() == 1


def test_finance_rejects_with_a_reason_and_a_missing_reason_changes_nothing(member, finance):
    payment = submitted(member)
    client = as_user(finance)
    before = snapshot()

    empty = client.post(reverse("payments:finance_reject", args=[payment.pk]), {f"r{payment.pk}-reason": ""})
    assert empty.status_code == 422
    assert snapshot() == before

    response = client.post(reverse("payments:finance_reject", args=[payment.pk]), {f"r{payment.pk}-reason": "金额不符"})
    assert response.status_code == 302
    assert Payment.objects.get(pk=payment.pk).status == "failed"


@pytest.mark.parametrize("role", [roles.CUSTOMER_SERVICE, roles.OWNER, roles.MEMBER, roles.COMMUNITY_MANAGER])
def test_only_finance_sees_the_queue_and_confirms(member, role):
    payment = submitted(member)
    client = as_user(UserFactory(roles=[role]))
    before = snapshot()

    assert client.get(reverse("payments:finance_queue")).status_code == 403
    assert client.post(reverse("payments:finance_confirm", args=[payment.pk])).status_code == 403
    assert (
        client.post(reverse("payments:finance_reject", args=[payment.pk]), {f"r{payment.pk}-reason": "x"}).status_code
        == 403
    )

    assert snapshot() == before
    assert Payment.objects.get(pk=payment.pk).status == "submitted"
    assert JournalEntry.objects.count() == 0


def test_finance_cannot_confirm_their_own_payment(finance):
    payment = submitted(finance)
    before = snapshot()

    response = as_user(finance).post(reverse("payments:finance_confirm", args=[payment.pk]))

    assert response.status_code == 403
    assert snapshot() == before


def test_the_queue_shows_recent_notifications(member, finance):
    payment = make_payment(member, provider="sandbox")
    services.sandbox_pay(payment_id=payment.pk, payer=member)

    response = as_user(finance).get(reverse("payments:finance_queue"))

    assert [(n.payment_id, n.outcome) for n in response.context["notifications"]] == [(payment.pk, "applied")]


def test_the_queue_runs_a_constant_number_of_queries(finance, django_assert_max_num_queries):
    client = as_user(finance)
    url = reverse("payments:finance_queue")
    for _ in range(3):
        submitted(UserFactory(roles=[roles.MEMBER]))
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(20):
        submitted(UserFactory(roles=[roles.MEMBER]))
    sandbox_payer = UserFactory(roles=[roles.MEMBER])
    for _ in range(5):
        services.sandbox_pay(
            payment_id=make_payment(sandbox_payer, provider="sandbox", amount_fen=100).pk, payer=sandbox_payer
        )

    with django_assert_max_num_queries(len(few)):
        response = client.get(url)

    assert len(response.context["rows"]) == 23
    assert len(few) <= 15
    assert PaymentNotification.objects.count() == 5
