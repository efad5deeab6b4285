"""Alipay: a signed page/wap pay URL, RSA2-verified notifications applied once, refunds through its API.

Keys are made in the test: "Alipay's" private key signs the notifications
and answers, and its public key is configured as the Alipay public key. The
SDK's HTTP call (`urlopen`) is replaced by a stand-in that answers as Alipay
does; any other attempt to reach the network fails the test.
"""

from unittest import mock
from urllib.error import URLError
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone, translation

from erhuo.core import events
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.models import JournalEntry
from erhuo.payments import services
from erhuo.payments.models import Payment, PaymentNotification, PaymentTransition, Refund
from erhuo.payments.providers import AlipayProvider, NotificationRejected, enabled_providers
from erhuo.payments.tests import fakes

pytestmark = pytest.mark.django_db

NOTIFY = "/api/v1/payments/notify/alipay"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def make_payment(payer, *, amount_fen=30_000) -> Payment:
    return services.payment_create(
        payer=payer,
        amount_fen=amount_fen,
        purpose="test",
        reference=f"test:{payer.pk}",
        description="押金 Seller deposit",
        provider="alipay",
    )


def post(body: bytes):
    return Client(headers={"accept-language": "en"}).post(
        NOTIFY, body, content_type="application/x-www-form-urlencoded"
    )


def snapshot() -> dict:
    return {
        "payments": list(Payment.objects.order_by("pk").values_list("pk", "status", "paid_at", "provider_reference")),
        "transitions": PaymentTransition.objects.count(),
        "entries": JournalEntry.objects.count(),
        "applied": PaymentNotification.objects.filter(outcome="applied").count(),
        "refunds": list(Refund.objects.order_by("pk").values_list("pk", "status", "attempts")),
    }


def paid(member, alipay) -> Payment:
    payment = make_payment(member)
    assert post(fakes.alipay_notification(fakes.alipay_trade_params(payment))).content == b"success"
    payment.refresh_from_db()
    return payment


# --- configuration ----------------------------------------------------------------------------------


def test_alipay_is_on_only_when_listed_and_configured(settings, alipay):
    assert "alipay" in enabled_providers()

    settings.ERHUO_ALIPAY_PUBLIC_KEY = ""
    assert "alipay" not in enabled_providers()

    settings.ERHUO_ALIPAY_PUBLIC_KEY = fakes.public_pem(alipay.alipay_key)
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    assert "alipay" not in enabled_providers()


def test_the_client_reads_keys_as_pem_text_a_file_or_bare_base64(settings, alipay, tmp_path):
    key_file = tmp_path / "app_private_key.pem"
    key_file.write_text(fakes.private_pem(alipay.app_key))
    settings.ERHUO_ALIPAY_PRIVATE_KEY = str(key_file)

    client = AlipayProvider().client()

    assert client.app_private_key.n == alipay.app_key.private_numbers().public_numbers.n
    assert client.alipay_public_key.n == alipay.alipay_key.public_key().public_numbers().n


# --- paying -----------------------------------------------------------------------------------------------


def test_start_gives_a_signed_page_pay_url_for_a_desktop_and_wap_pay_for_a_phone(member, alipay, settings):
    payment = make_payment(member)

    desktop = services.payment_start(payment=payment)
    phone = services.payment_start(payment=payment, mobile=True)

    url = urlsplit(desktop["url"])
    assert (desktop["kind"], url.scheme, url.netloc, url.path) == (
        "redirect",
        "https",
        "openapi.alipay.com",
        "/gateway.do",
    )
    query = dict(parse_qsl(url.query))
    assert (query["method"], query["app_id"], query["sign_type"]) == (
        "alipay.trade.page.pay",
        fakes.ALIPAY_APP_ID,
        "RSA2",
    )
    assert query["notify_url"] == f"{fakes.BASE_URL}/api/v1/payments/notify/alipay"
    assert query["return_url"] == f"{fakes.BASE_URL}/pay/{payment.pk}/"
    assert f'"out_trade_no":"EH{payment.pk}"' in query["biz_content"]
    assert '"total_amount":"300.00"' in query["biz_content"]
    # Signed with our app key over every other parameter, as Alipay checks it.
    assert fakes.rsa_sha256_verifies(
        alipay.app_key.public_key(), fakes.alipay_content(query, request=True), query["sign"]
    )
    assert dict(parse_qsl(urlsplit(phone["url"]).query))["method"] == "alipay.trade.wap.pay"

    settings.ERHUO_ALIPAY_SANDBOX = True
    sandbox = urlsplit(services.payment_start(payment=payment)["url"])
    assert sandbox.netloc == "openapi-sandbox.dl.alipaydev.com"


def test_a_signed_notification_pays_once_and_answers_success(member, alipay, django_capture_on_commit_callbacks):
    payment = make_payment(member)
    received = []
    handler = events.on("payment_succeeded")(received.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = post(fakes.alipay_notification(fakes.alipay_trade_params(payment)))
    finally:
        events.unregister("payment_succeeded", handler)

    assert (response.status_code, response["Content-Type"], response.content) == (200, "text/plain", b"success")
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert payment.provider_reference == f"2026120522001446881{payment.pk:09d}"
    assert ledger_selectors.balance_by_code("cash:alipay") == 30_000
    assert ledger_selectors.balance_by_code("clearing:payments") == 30_000
    assert [(e.payload["payment_id"], e.payload["amount_fen"]) for e in received] == [(payment.pk, 30_000)]
    assert ledger_selectors.ledger_problems() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_amount", "0.01"),
        ("trade_status", "TRADE_SUCCESS "),
        ("out_trade_no", "EH77777"),
        ("buyer_id", "2088000000000000"),
    ],
)
def test_a_field_changed_after_signing_is_rejected_and_changes_nothing(member, alipay, field, value):
    payment = make_payment(member)
    params = fakes.alipay_trade_params(payment)
    signed = dict(parse_qsl(fakes.alipay_notification(params).decode(), keep_blank_values=True))
    signed[field] = value
    before = snapshot()

    response = post(urlencode(signed).encode())

    assert (response.status_code, response.content) == (400, b"fail")
    assert snapshot() == before
    rejected = PaymentNotification.objects.get()
    assert (rejected.outcome, rejected.detail) == ("rejected", "The notification's signature is not valid.")


def test_a_notification_signed_with_another_key_or_unsigned_is_rejected(member, alipay):
    payment = make_payment(member)
    params = fakes.alipay_trade_params(payment)
    before = snapshot()

    forged = post(fakes.alipay_notification(params, key=fakes.rsa_key("stranger")))
    unsigned = post(urlencode(params).encode())
    garbage = post(b"sign=%%%&&=")

    assert [r.content for r in (forged, unsigned, garbage)] == [b"fail", b"fail", b"fail"]
    assert snapshot() == before
    assert list(PaymentNotification.objects.values_list("outcome", flat=True)) == ["rejected"] * 3


def test_a_replay_answers_success_and_changes_nothing(member, alipay):
    payment = make_payment(member)
    body = fakes.alipay_notification(fakes.alipay_trade_params(payment))
    assert post(body).content == b"success"
    after_first = snapshot()

    replay = post(body)

    assert (replay.status_code, replay.content) == (200, b"success")
    assert snapshot() == after_first
    assert PaymentNotification.objects.filter(outcome="duplicate").count() == 1
    assert JournalEntry.objects.filter(key=f"payment:{payment.pk}").count() == 1


def test_a_late_trade_closed_after_success_changes_nothing(member, alipay):
    payment = paid(member, alipay)
    after_payment = snapshot()
    closed = fakes.alipay_trade_params(payment, trade_status="TRADE_CLOSED", notify_id="closed-later-1")

    response = post(fakes.alipay_notification(closed))

    assert response.content == b"success"
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    after = snapshot()
    assert (after.pop("applied"), after_payment.pop("applied")) == (2, 1)  # recorded, and nothing else
    assert after == after_payment
    assert ledger_selectors.balance_by_code("cash:alipay") == 30_000


def test_trade_closed_before_payment_fails_the_payment(member, alipay):
    payment = make_payment(member)

    post(fakes.alipay_notification(fakes.alipay_trade_params(payment, trade_status="TRADE_CLOSED")))

    payment.refresh_from_db()
    assert payment.status == "failed"
    assert JournalEntry.objects.count() == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"total_amount": "299.99"},  # signed, but not the payment's amount
        {"total_amount": "300.001"},  # not an amount in yuan and fen
        {"total_amount": "3e2"},
        {"out_trade_no": "EH0"},
        {"out_trade_no": "EH12x"},
        {"out_trade_no": "XX1"},
        {"out_trade_no": "EH999999"},  # no such payment
        {"app_id": "2021000000000999"},  # another application's notification
        {"trade_status": "SOMETHING_ELSE"},
    ],
)
def test_a_signed_notification_that_does_not_match_the_payment_is_rejected(member, alipay, overrides):
    payment = make_payment(member)
    before = snapshot()

    response = post(fakes.alipay_notification(fakes.alipay_trade_params(payment, **overrides)))

    assert response.content == b"fail"
    assert snapshot() == before
    assert PaymentNotification.objects.get().outcome == "rejected"


def test_an_amount_in_yuan_is_read_exactly(member, alipay):
    payment = make_payment(member, amount_fen=1_999)

    post(fakes.alipay_notification(fakes.alipay_trade_params(payment, total_amount="19.99")))

    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert ledger_selectors.balance_by_code("cash:alipay") == 1_999


def test_the_endpoint_is_404_when_alipay_is_not_configured(member, alipay, settings):
    payment = make_payment(member)
    body = fakes.alipay_notification(fakes.alipay_trade_params(payment))
    settings.ERHUO_ALIPAY_APP_ID = ""

    response = post(body)

    assert (response.status_code, response.json()["code"]) == (404, "provider_unavailable")
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    with pytest.raises(NotificationRejected):
        services.notification_receive(provider="alipay", body=body, headers={})


# --- refunds ----------------------------------------------------------------------------------------------------


def refund_answer(payment, refund_fen: int, **overrides) -> dict:
    answer = {
        "code": "10000",
        "msg": "Success",
        "buyer_logon_id": "mqv***@sandbox.com",
        "buyer_user_id": "2088102177846880",
        "fund_change": "Y",
        "gmt_refund_pay": "2026-12-06 09:00:00",
        "out_trade_no": f"EH{payment.pk}",
        "refund_fee": f"{refund_fen // 100}.{refund_fen % 100:02d}",
        "send_back_fee": "0.00",
        "trade_no": payment.provider_reference,
    }
    answer.update(overrides)
    return answer


def request_refund(payment, amount_fen: int, key: str, capture):
    with capture(execute=True):
        return services.refund_request(payment_id=payment.pk, amount_fen=amount_fen, reason="买家退货", key=key)


def test_a_refund_is_paid_through_alipays_refund_api_after_commit(member, alipay, django_capture_on_commit_callbacks):
    payment = paid(member, alipay)
    gateway = fakes.AlipayGateway(refund_answer(payment, 12_000))
    received = []
    handler = events.on("refund_succeeded")(received.append)
    try:
        with mock.patch("alipay.urlopen", gateway), django_capture_on_commit_callbacks(execute=True) as callbacks:
            refund = services.refund_request(payment_id=payment.pk, amount_fen=12_000, reason="买家退货", key="k1")
            # Nothing was asked of Alipay inside the transaction: only after commit.
            assert gateway.urls == []
    finally:
        events.unregister("refund_succeeded", handler)

    assert len(callbacks) >= 1
    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.provider_reference) == ("succeeded", 1, payment.provider_reference)
    [url] = gateway.urls
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["method"] == "alipay.trade.refund"
    assert '"refund_amount":"120.00"' in query["biz_content"]
    assert f'"out_request_no":"EHR{refund.pk}"' in query["biz_content"]
    assert f'"out_trade_no":"EH{payment.pk}"' in query["biz_content"]
    assert ledger_selectors.balance_by_code("cash:alipay") == 18_000
    assert ledger_selectors.balance_by_code("clearing:payments") == 18_000
    entry = JournalEntry.objects.get(key=f"refund:{refund.pk}")
    assert (entry.kind, entry.reference) == ("refund_paid", f"payment:{payment.pk}")
    assert [e.payload["refund_id"] for e in received] == [refund.pk]
    assert ledger_selectors.ledger_problems() == []


def test_a_refund_alipay_refuses_fails_and_the_money_stays_in_clearing(
    member, alipay, django_capture_on_commit_callbacks
):
    payment = paid(member, alipay)
    answer = {
        "code": "40004",
        "msg": "Business Failed",
        "sub_code": "ACQ.TRADE_STATUS_ERROR",
        "sub_msg": "交易状态不合法",
    }
    failed = []
    handler = events.on("refund_failed")(failed.append)
    try:
        with mock.patch("alipay.urlopen", fakes.AlipayGateway(answer)):
            refund = request_refund(payment, 12_000, "k1", django_capture_on_commit_callbacks)
    finally:
        events.unregister("refund_failed", handler)

    refund.refresh_from_db()
    assert refund.status == "failed"
    assert "ACQ.TRADE_STATUS_ERROR" in refund.transitions.last().note
    assert JournalEntry.objects.filter(kind="refund_paid").count() == 0
    assert ledger_selectors.balance_by_code("cash:alipay") == 30_000
    assert [(e.payload["refund_id"], e.payload["amount_fen"]) for e in failed] == [(refund.pk, 12_000)]


def test_a_refund_that_could_not_reach_alipay_stays_pending_and_is_asked_again(
    member, alipay, django_capture_on_commit_callbacks
):
    payment = paid(member, alipay)
    with mock.patch("alipay.urlopen", fakes.AlipayGateway(error=URLError("timed out"))):
        refund = request_refund(payment, 12_000, "k1", django_capture_on_commit_callbacks)
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("pending", 1)
    assert services.refunds_submit_due() == 0  # asked a moment ago: not yet

    gateway = fakes.AlipayGateway(refund_answer(payment, 12_000))
    with mock.patch("alipay.urlopen", gateway):
        asked = services.refunds_submit_due(now=timezone.now() + timezone.timedelta(minutes=11))

    refund.refresh_from_db()
    assert (asked, refund.status, refund.attempts) == (1, "succeeded", 2)
    # The same request number both times: Alipay pays a refund once, however often it is asked.
    assert f'"out_request_no":"EHR{refund.pk}"' in dict(parse_qsl(urlsplit(gateway.urls[0]).query))["biz_content"]
    assert ledger_selectors.balance_by_code("cash:alipay") == 18_000


def test_an_answer_with_a_bad_signature_is_not_trusted(member, alipay, django_capture_on_commit_callbacks):
    payment = paid(member, alipay)
    forged = fakes.AlipayGateway(refund_answer(payment, 12_000), key=fakes.rsa_key("stranger"))
    with mock.patch("alipay.urlopen", forged):
        refund = request_refund(payment, 12_000, "k1", django_capture_on_commit_callbacks)

    refund.refresh_from_db()
    assert refund.status == "pending"
    assert JournalEntry.objects.filter(kind="refund_paid").count() == 0
