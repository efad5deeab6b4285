"""WeChat Pay v3: offline client, verified and decrypted notifications applied once, JSAPI/H5, refunds.

Keys are made in the test. Notifications are built exactly as WeChat Pay
builds them: the resource encrypted with AES-256-GCM under the APIv3 key,
the platform key's RSA signature over "timestamp\\nnonce\\nbody\\n" in the
Wechatpay-* headers. The SDK's HTTP calls (`requests.post`) are answered by
a stand-in that signs its answers like WeChat Pay; any other attempt to
reach the network fails the test.
"""

import time
from unittest import mock

import pytest
import requests
from django.test import Client
from django.utils import translation

from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.models import JournalEntry
from erhuo.payments import services
from erhuo.payments.models import Payment, PaymentNotification, PaymentTransition, Refund
from erhuo.payments.providers import NotificationRejected, ProviderError, WechatProvider, enabled_providers
from erhuo.payments.tests import fakes

pytestmark = pytest.mark.django_db

NOTIFY = "/api/v1/payments/notify/wechat"


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
        provider="wechat",
    )


def post(body: bytes, headers: dict):
    return Client(headers={"accept-language": "en"}).post(
        NOTIFY, body, content_type="application/json", headers=headers
    )


def snapshot() -> dict:
    return {
        "payments": list(Payment.objects.order_by("pk").values_list("pk", "status", "paid_at", "provider_reference")),
        "transitions": PaymentTransition.objects.count(),
        "entries": JournalEntry.objects.count(),
        "applied": PaymentNotification.objects.filter(outcome="applied").count(),
        "refunds": list(Refund.objects.order_by("pk").values_list("pk", "status", "provider_reference")),
    }


def paid(member) -> Payment:
    payment = make_payment(member)
    body, headers = fakes.wechat_callback(fakes.wechat_transaction(payment), event_id=f"EV-pay-{payment.pk}")
    assert post(body, headers).status_code == 204
    payment.refresh_from_db()
    return payment


# --- configuration ----------------------------------------------------------------------------------


def test_the_client_is_built_offline_in_public_key_mode(wechat):
    # `no_network` (through the fixture) fails the test on any connection or name lookup.
    client = WechatProvider().client()

    assert client._core._certificates == []
    assert client._core._public_key_id == fakes.WECHAT_PUBLIC_KEY_ID
    assert "wechat" in enabled_providers()


@pytest.mark.parametrize(
    "missing", ["ERHUO_WECHATPAY_PUBLIC_KEY_ID", "ERHUO_WECHATPAY_APIV3_KEY", "ERHUO_WECHATPAY_MCHID"]
)
def test_wechat_pay_is_off_without_every_setting(wechat, settings, missing):
    setattr(settings, missing, "")
    assert "wechat" not in enabled_providers()


# --- notifications ---------------------------------------------------------------------------------------


def test_a_verified_decrypted_notification_pays_and_answers_204(member, wechat):
    payment = make_payment(member)
    body, headers = fakes.wechat_callback(fakes.wechat_transaction(payment), event_id="EV-0001")

    response = post(body, headers)

    assert (response.status_code, response.content) == (204, b"")
    payment.refresh_from_db()
    assert (payment.status, payment.provider_reference) == ("succeeded", f"42000012342026120512{payment.pk:08d}")
    record = PaymentNotification.objects.get()
    assert (record.event_key, record.outcome) == ("wechat:EV-0001", "applied")
    # The stored payload is the decrypted resource, not the ciphertext.
    assert record.payload["resource"]["trade_state"] == "SUCCESS"
    assert ledger_selectors.balance_by_code("cash:wechat") == 30_000
    assert ledger_selectors.ledger_problems() == []


def test_the_sdk_decrypts_what_wechat_encrypts(wechat):
    plain = {"mchid": fakes.WECHAT_MCHID, "out_trade_no": "EH1", "amount": {"total": 1}}
    body, headers = fakes.wechat_callback(plain, event_id="EV-x")

    data = WechatProvider().client().callback(headers, body)

    assert data["resource"] == plain
    assert data["id"] == "EV-x"


def test_a_tampered_body_is_rejected_with_wechats_fail_answer_and_changes_nothing(member, wechat):
    payment = make_payment(member)
    body, headers = fakes.wechat_callback(fakes.wechat_transaction(payment), event_id="EV-0001")
    tampered = body.replace("支付成功".encode(), "支付失败".encode())
    assert tampered != body
    before = snapshot()

    response = post(tampered, headers)

    assert response.status_code == 400
    assert response.json() == {"code": "FAIL", "message": "The notification's signature is not valid."}
    assert snapshot() == before
    assert PaymentNotification.objects.get().outcome == "rejected"


@pytest.mark.parametrize(
    "change",
    [
        {"key": "stranger"},  # signed by someone else
        {"serial": "PUB_KEY_ID_SOMEONE_ELSE"},  # another key id: the SDK would go and download certificates
        {"apiv3_key": "z" * 32},  # encrypted under another APIv3 key: AES-GCM refuses it
        {"timestamp": int(time.time()) - 3600},  # signed an hour ago
    ],
)
def test_a_notification_wechat_did_not_send_is_rejected_and_changes_nothing(member, wechat, change):
    payment = make_payment(member)
    options = dict(change)
    if "key" in options:
        options["key"] = fakes.rsa_key(options["key"])
    body, headers = fakes.wechat_callback(fakes.wechat_transaction(payment), event_id="EV-0001", **options)
    before = snapshot()

    response = post(body, headers)

    assert (response.status_code, response.json()["code"]) == (400, "FAIL")
    assert snapshot() == before
    assert PaymentNotification.objects.get().outcome == "rejected"


def test_missing_headers_or_a_bad_body_are_rejected(member, wechat):
    payment = make_payment(member)
    body, headers = fakes.wechat_callback(fakes.wechat_transaction(payment), event_id="EV-0001")
    before = snapshot()

    assert post(body, {}).status_code == 400
    assert post(b"\xff\xfe not json", headers).status_code == 400
    assert post(body, {**headers, "Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"}).status_code == 400
    assert snapshot() == before


def test_a_replay_answers_204_and_changes_nothing(member, wechat):
    payment = make_payment(member)
    body, headers = fakes.wechat_callback(fakes.wechat_transaction(payment), event_id="EV-0001")
    assert post(body, headers).status_code == 204
    after_first = snapshot()

    # WeChat Pay sends the same notification again (same id), freshly signed.
    again, again_headers = fakes.wechat_callback(fakes.wechat_transaction(payment), event_id="EV-0001")
    replay = post(again, again_headers)

    assert replay.status_code == 204
    assert snapshot() == after_first
    assert list(PaymentNotification.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "applied",
        "duplicate",
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": {"total": 1, "payer_total": 1, "currency": "CNY"}},
        {"out_trade_no": "EH999999"},
        {"out_trade_no": "1"},
        {"mchid": "1900000000"},
        {"appid": "wx0000000000000000"},
    ],
)
def test_a_verified_notification_that_does_not_match_the_payment_is_rejected(member, wechat, overrides):
    payment = make_payment(member)
    body, headers = fakes.wechat_callback(fakes.wechat_transaction(payment, **overrides), event_id="EV-0001")
    before = snapshot()

    response = post(body, headers)

    assert (response.status_code, response.json()["code"]) == (400, "FAIL")
    assert snapshot() == before


def test_a_late_failure_after_success_changes_nothing(member, wechat):
    payment = paid(member)
    body, headers = fakes.wechat_callback(fakes.wechat_transaction(payment, trade_state="CLOSED"), event_id="EV-late")

    assert post(body, headers).status_code == 204

    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert ledger_selectors.balance_by_code("cash:wechat") == 30_000


def test_the_endpoint_answers_fail_when_wechat_pay_is_off(member, wechat, settings):
    payment = make_payment(member)
    body, headers = fakes.wechat_callback(fakes.wechat_transaction(payment), event_id="EV-0001")
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual"]

    response = post(body, headers)

    assert (response.status_code, response.json()["code"]) == (404, "FAIL")
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    with pytest.raises(NotificationRejected):
        services.notification_receive(provider="wechat", body=body, headers=headers)


# --- paying ---------------------------------------------------------------------------------------------------


def test_jsapi_with_the_payers_openid_gives_signed_parameters_for_the_page(member, wechat):
    payment = make_payment(member)
    gateway = fakes.WechatGateway((200, {"prepay_id": "wx201410272009395522657a690389285100"}))

    with mock.patch("requests.post", gateway):
        started = services.payment_start(payment=payment, openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        again = services.payment_start(payment=payment, openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")

    [call] = gateway.calls  # the second start used the cached prepay answer
    assert call["url"] == "https://api.mch.weixin.qq.com/v3/pay/transactions/jsapi"
    assert call["json"]["out_trade_no"] == f"EH{payment.pk}"
    assert call["json"]["amount"] == {"total": 30_000, "currency": "CNY"}
    assert call["json"]["payer"] == {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
    assert call["json"]["notify_url"] == f"{fakes.BASE_URL}/api/v1/payments/notify/wechat"
    assert call["headers"]["Authorization"].startswith("WECHATPAY2-SHA256-RSA2048 ")
    params = started["params"]
    assert (started["kind"], params["appId"], params["package"], params["signType"]) == (
        "wechat_jsapi",
        fakes.WECHAT_APPID,
        "prepay_id=wx201410272009395522657a690389285100",
        "RSA",
    )
    message = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    assert fakes.rsa_sha256_verifies(wechat.merchant_key.public_key(), message, params["paySign"])
    assert again == started


def test_without_an_openid_h5_returns_wechats_page_with_the_way_back(member, wechat):
    payment = make_payment(member)
    gateway = fakes.WechatGateway(
        (200, {"h5_url": "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1"})
    )

    with mock.patch("requests.post", gateway):
        started = services.payment_start(payment=payment, mobile=True, client_ip="203.0.113.7")

    [call] = gateway.calls
    assert call["url"] == "https://api.mch.weixin.qq.com/v3/pay/transactions/h5"
    assert call["json"]["scene_info"] == {"payer_client_ip": "203.0.113.7", "h5_info": {"type": "Wap"}}
    assert started == {
        "kind": "redirect",
        "provider": "wechat",
        "url": "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1"
        f"&redirect_url=https%3A%2F%2Ferhuo.example.com%2Fpay%2F{payment.pk}%2F",
    }


def test_a_start_wechat_refuses_is_a_provider_error_and_the_pay_page_still_opens(member, wechat):
    payment = make_payment(member)
    gateway = fakes.WechatGateway((400, {"code": "PARAM_ERROR", "message": "参数错误"}))
    client = Client(headers={"accept-language": "en"})
    client.force_login(member)

    with mock.patch("requests.post", gateway):
        page = client.get(f"/pay/{payment.pk}/")

    assert page.status_code == 200
    assert "WeChat Pay could not start this payment (PARAM_ERROR)" in page.content.decode()


def test_an_unreachable_wechat_pay_is_a_provider_error(member, wechat):
    payment = make_payment(member)
    down = fakes.WechatGateway(error=requests.ConnectionError("down"))
    with mock.patch("requests.post", down), pytest.raises(ProviderError) as raised:
        services.payment_start(payment=payment, client_ip="203.0.113.7")
    assert raised.value.code == "provider_error"


# --- refunds ----------------------------------------------------------------------------------------------------


def refund_answer(refund, status: str) -> dict:
    return {
        "refund_id": f"50300902022026120512{refund.pk:08d}",
        "out_refund_no": f"EHR{refund.pk}",
        "transaction_id": f"42000012342026120512{refund.payment_id:08d}",
        "out_trade_no": f"EH{refund.payment_id}",
        "channel": "ORIGINAL",
        "user_received_account": "招商银行信用卡0403",
        "create_time": "2026-12-06T09:00:00+08:00",
        "status": status,
        "amount": {
            "total": 30_000,
            "refund": refund.amount_fen,
            "payer_total": 30_000,
            "payer_refund": refund.amount_fen,
        },
    }


class AnswerFor:
    """A WeChat Pay stand-in whose answer is built from the refund being asked for."""

    def __init__(self, status_code: int, build):
        self.status_code = status_code
        self.build = build
        self.calls = []

    def __call__(self, url, json=None, **kwargs):
        self.calls.append({"url": url, "json": json})
        refund = Refund.objects.get(pk=int(json["out_refund_no"][3:]))
        return fakes.WechatGateway((self.status_code, self.build(refund)))(url, json=json, **kwargs)


def test_a_refund_processing_at_wechat_is_finished_by_its_notification(
    member, wechat, django_capture_on_commit_callbacks
):
    payment = paid(member)
    gateway = AnswerFor(200, lambda refund: refund_answer(refund, "PROCESSING"))
    with mock.patch("requests.post", gateway), django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_request(payment_id=payment.pk, amount_fen=12_000, reason="买家退货", key="k1")

    refund.refresh_from_db()
    [call] = gateway.calls
    assert call["url"] == "https://api.mch.weixin.qq.com/v3/refund/domestic/refunds"
    assert (call["json"]["out_refund_no"], call["json"]["out_trade_no"]) == (f"EHR{refund.pk}", f"EH{payment.pk}")
    assert call["json"]["amount"] == {"refund": 12_000, "total": 30_000, "currency": "CNY"}
    assert (refund.status, refund.attempts, refund.provider_reference) == (
        "pending",
        1,
        f"50300902022026120512{refund.pk:08d}",
    )
    assert JournalEntry.objects.filter(kind="refund_paid").count() == 0

    body, headers = fakes.wechat_callback(
        fakes.wechat_refund_resource(refund), event_id="EV-refund-1", event_type="REFUND.SUCCESS"
    )
    assert post(body, headers).status_code == 204

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert PaymentNotification.objects.get(event_key="wechat:EV-refund-1").refund_id == refund.pk
    assert ledger_selectors.balance_by_code("cash:wechat") == 18_000
    assert ledger_selectors.balance_by_code("clearing:payments") == 18_000
    after = snapshot()

    replay_body, replay_headers = fakes.wechat_callback(
        fakes.wechat_refund_resource(refund), event_id="EV-refund-1", event_type="REFUND.SUCCESS"
    )
    assert post(replay_body, replay_headers).status_code == 204
    assert snapshot() == after
    assert JournalEntry.objects.filter(key=f"refund:{refund.pk}").count() == 1
    assert ledger_selectors.ledger_problems() == []


def test_a_refund_wechat_pays_at_once_succeeds_at_once(member, wechat, django_capture_on_commit_callbacks):
    payment = paid(member)
    with (
        mock.patch("requests.post", AnswerFor(200, lambda refund: refund_answer(refund, "SUCCESS"))),
        django_capture_on_commit_callbacks(execute=True),
    ):
        refund = services.refund_request(payment_id=payment.pk, amount_fen=30_000, reason="取消订单", key="k1")

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert ledger_selectors.balance_by_code("cash:wechat") == 0


def test_a_refund_wechat_refuses_fails_and_a_busy_wechat_is_asked_again(
    member, wechat, django_capture_on_commit_callbacks
):
    payment = paid(member)
    refusing = AnswerFor(400, lambda refund: {"code": "INVALID_REQUEST", "message": "订单已全额退款"})
    busy = AnswerFor(500, lambda refund: {"code": "SYSTEM_ERROR", "message": "系统繁忙"})
    with mock.patch("requests.post", refusing), django_capture_on_commit_callbacks(execute=True):
        refused = services.refund_request(payment_id=payment.pk, amount_fen=10_000, reason="退款", key="k1")
    with mock.patch("requests.post", busy), django_capture_on_commit_callbacks(execute=True):
        waiting = services.refund_request(payment_id=payment.pk, amount_fen=10_000, reason="退款", key="k2")

    refused.refresh_from_db()
    waiting.refresh_from_db()
    assert (refused.status, waiting.status, waiting.attempts) == ("failed", "pending", 1)
    assert JournalEntry.objects.filter(kind="refund_paid").count() == 0


def test_a_refund_notification_that_does_not_match_its_refund_is_rejected(
    member, wechat, django_capture_on_commit_callbacks
):
    payment = paid(member)
    with (
        mock.patch("requests.post", AnswerFor(200, lambda refund: refund_answer(refund, "PROCESSING"))),
        django_capture_on_commit_callbacks(execute=True),
    ):
        refund = services.refund_request(payment_id=payment.pk, amount_fen=12_000, reason="退款", key="k1")
    before = snapshot()
    wrong_amount = fakes.wechat_refund_resource(refund)
    wrong_amount["amount"]["refund"] = 30_000
    cases = [
        wrong_amount,
        fakes.wechat_refund_resource(refund, out_refund_no="EHR999999"),
        fakes.wechat_refund_resource(refund, out_trade_no="EH999999"),
    ]

    for index, plain in enumerate(cases):
        body, headers = fakes.wechat_callback(plain, event_id=f"EV-r{index}", event_type="REFUND.SUCCESS")
        assert post(body, headers).status_code == 400

    assert snapshot() == before
    assert list(Refund.objects.values_list("status", flat=True)) == ["pending"]
