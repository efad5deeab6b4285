"""WeChat Pay v3 (微信支付) through the `wechatpayv3` package.

On when "wechat" is in `ERHUO_PAYMENT_PROVIDERS` and `ERHUO_WECHATPAY_MCHID`,
`ERHUO_WECHATPAY_APPID`, `ERHUO_WECHATPAY_PRIVATE_KEY` (the merchant's API
key), `ERHUO_WECHATPAY_CERT_SERIAL_NO` (its certificate's serial),
`ERHUO_WECHATPAY_APIV3_KEY` (32 characters, decrypts notifications),
`ERHUO_WECHATPAY_PUBLIC_KEY` + `ERHUO_WECHATPAY_PUBLIC_KEY_ID` (the
"WeChat Pay public key" that verifies WeChat's signatures) and
`ERHUO_PAYMENT_BASE_URL` are set.

With the platform public key given, the SDK never downloads platform
certificates: building the client only loads keys. A notification signed
under any other key id is refused before the SDK sees it, so it cannot make
the SDK go looking for a certificate over the network either.

- `start`: JSAPI when the payer's openid is known (inside WeChat), H5
  otherwise; the prepay answer is cached briefly so that reading a payment
  does not call WeChat Pay every time.
- `verify_notification`: the SDK verifies the signature over
  "timestamp\\nnonce\\nbody\\n" with the platform key and decrypts the
  AES-256-GCM resource with the APIv3 key; the event key is the
  notification's id. TRANSACTION.* events are payments, REFUND.* refunds.
- `refund`: `/v3/refund/domestic/refunds`; SUCCESS at once, or PROCESSING
  until the refund notification comes (the periodic task also asks again:
  the same out_refund_no never pays twice).
"""

import functools
import json
import logging
import time
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from wechatpayv3 import WeChatPay, WeChatPayType

from erhuo.payments.models import Payment, Provider, Refund
from erhuo.payments.providers.base import (
    FAILED,
    PENDING,
    SUCCEEDED,
    Notification,
    NotificationRejected,
    ProviderError,
    RefundResult,
    lower_headers,
    malformed,
    payment_id_from,
    private_key_pem,
    public_key_pem,
    public_url,
    refund_id_from,
    refund_number,
    return_url,
    trade_number,
)

logger = logging.getLogger(__name__)

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
TRADE_STATES = {"SUCCESS": SUCCEEDED, "CLOSED": FAILED, "REVOKED": FAILED, "PAYERROR": FAILED}
# ABNORMAL (the payer's account cannot receive it) is settled in WeChat Pay's merchant platform and may
# still succeed: it stays pending here.
REFUND_STATES = {"SUCCESS": SUCCEEDED, "CLOSED": FAILED, "PROCESSING": PENDING, "ABNORMAL": PENDING}
# Error codes that mean "try again later", not "no".
RETRY_CODES = {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "NOT_ENOUGH", "RESOURCE_ALREADY_EXISTS", "USER_ACCOUNT_ABNORMAL"}
JSAPI_CACHE_SECONDS = 60 * 60  # a prepay_id lives two hours
H5_CACHE_SECONDS = 4 * 60  # an h5_url lives five minutes
TIMEOUT = (5, 15)


@functools.lru_cache(maxsize=4)
def _client(
    mchid: str, appid: str, private_key: str, serial_no: str, apiv3_key: str, public_key: str, public_key_id: str
) -> WeChatPay:
    # With public_key and public_key_id the SDK's Core loads keys only (no certificate download).
    return WeChatPay(
        wechatpay_type=WeChatPayType.JSAPI,
        mchid=mchid,
        private_key=private_key_pem(private_key, "ERHUO_WECHATPAY_PRIVATE_KEY"),
        cert_serial_no=serial_no,
        appid=appid,
        apiv3_key=apiv3_key,
        notify_url=None,
        public_key=public_key_pem(public_key, "ERHUO_WECHATPAY_PUBLIC_KEY"),
        public_key_id=public_key_id,
        timeout=TIMEOUT,
    )


class WechatProvider:
    name = Provider.WECHAT
    calls_out = True

    SETTINGS = (
        "ERHUO_WECHATPAY_MCHID",
        "ERHUO_WECHATPAY_APPID",
        "ERHUO_WECHATPAY_PRIVATE_KEY",
        "ERHUO_WECHATPAY_CERT_SERIAL_NO",
        "ERHUO_WECHATPAY_APIV3_KEY",
        "ERHUO_WECHATPAY_PUBLIC_KEY",
        "ERHUO_WECHATPAY_PUBLIC_KEY_ID",
    )

    def is_configured(self) -> bool:
        return all(getattr(settings, name, "") for name in self.SETTINGS) and bool(settings.ERHUO_PAYMENT_BASE_URL)

    def client(self) -> WeChatPay:
        return _client(*(getattr(settings, name) for name in self.SETTINGS))

    @staticmethod
    def notify_url() -> str:
        return public_url(reverse("api:notify_wechat"))

    # --- paying ---------------------------------------------------------------------------------------

    def start(self, payment: Payment, *, mobile: bool = False, openid: str = "", client_ip: str = "") -> dict:
        mode = "jsapi" if openid else "h5"
        cache_key = f"payments:wechat:start:{payment.pk}:{mode}:{openid}"
        cached = cache.get(cache_key)
        if cached is not None:
            return cached
        common = {
            "description": payment.description[:127],
            "out_trade_no": trade_number(payment.pk),
            "amount": {"total": payment.amount_fen, "currency": "CNY"},
            "notify_url": self.notify_url(),
        }
        if openid:
            payer = {"openid": openid}
            answer = self._call(lambda client: client.pay(payer=payer, pay_type=WeChatPayType.JSAPI, **common))
            prepay_id = answer.get("prepay_id")
            if not prepay_id:
                raise self._start_error(answer)
            result = {"kind": "wechat_jsapi", "provider": self.name, "params": self._jsapi_params(prepay_id)}
            cache.set(cache_key, result, JSAPI_CACHE_SECONDS)
        else:
            scene = {"payer_client_ip": client_ip or "127.0.0.1", "h5_info": {"type": "Wap"}}
            answer = self._call(lambda client: client.pay(scene_info=scene, pay_type=WeChatPayType.H5, **common))
            h5_url = answer.get("h5_url")
            if not h5_url:
                raise self._start_error(answer)
            url = f"{h5_url}&redirect_url={quote(return_url(payment), safe='')}"
            result = {"kind": "redirect", "provider": self.name, "url": url}
            cache.set(cache_key, result, H5_CACHE_SECONDS)
        return result

    def _jsapi_params(self, prepay_id: str) -> dict:
        """What the page hands to WeixinJSBridge's getBrandWCPayRequest, signed with the merchant key."""
        client = self.client()
        timestamp = str(int(time.time()))
        nonce = get_random_string(32)
        package = f"prepay_id={prepay_id}"
        appid = settings.ERHUO_WECHATPAY_APPID
        return {
            "appId": appid,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": client.sign([appid, timestamp, nonce, package]),
        }

    def _call(self, request) -> dict:
        try:
            status, text = request(self.client())
        except Exception as error:  # network, or an answer whose signature did not verify
            logger.warning("WeChat Pay request failed: %s", error)
            raise ProviderError(_("WeChat Pay cannot be reached just now. Try again in a moment.")) from None
        try:
            answer = json.loads(text) if text else {}
        except (TypeError, ValueError):
            answer = {}
        if not 200 <= status < 300:
            logger.warning("WeChat Pay answered %s: %s", status, str(text)[:300])
            raise self._start_error(answer)
        return answer if isinstance(answer, dict) else {}

    @staticmethod
    def _start_error(answer) -> ProviderError:
        return ProviderError(
            _("WeChat Pay could not start this payment (%(code)s). Try again or choose another payment method.")
            % {"code": (answer or {}).get("code", "?") if isinstance(answer, dict) else "?"}
        )

    # --- notifications -------------------------------------------------------------------------------

    def verify_notification(self, body: bytes, headers) -> Notification:
        given = lower_headers(headers)
        signature_headers = {
            "Wechatpay-Signature": given.get("wechatpay-signature", ""),
            "Wechatpay-Timestamp": given.get("wechatpay-timestamp", ""),
            "Wechatpay-Nonce": given.get("wechatpay-nonce", ""),
            "Wechatpay-Serial": given.get("wechatpay-serial", ""),
            "Wechatpay-Signature-Type": given.get("wechatpay-signature-type", ""),
        }
        invalid = NotificationRejected(_("The notification's signature is not valid."), code="signature_invalid")
        if not signature_headers["Wechatpay-Signature"] or signature_headers["Wechatpay-Signature-Type"] != (
            SIGNATURE_TYPE
        ):
            raise invalid
        # Any other key id would send the SDK to download certificates: refuse it here.
        if signature_headers["Wechatpay-Serial"] != settings.ERHUO_WECHATPAY_PUBLIC_KEY_ID:
            raise invalid
        try:
            signed_at = int(signature_headers["Wechatpay-Timestamp"])
        except ValueError:
            raise invalid from None
        if abs(time.time() - signed_at) > settings.ERHUO_WECHATPAY_NOTIFY_MAX_AGE:
            raise NotificationRejected(_("The notification is too old."), code="notification_stale")
        try:
            # Verifies the signature over "timestamp\nnonce\nbody\n", then decrypts the AES-256-GCM resource.
            data = self.client().callback(signature_headers, body)
        except Exception:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("resource"), dict):
            raise invalid
        event_id = data.get("id")
        event_type = str(data.get("event_type", ""))
        resource = data["resource"]
        if not isinstance(event_id, str) or not event_id or len(event_id) > 100:
            raise malformed()
        if resource.get("mchid") != settings.ERHUO_WECHATPAY_MCHID:
            raise NotificationRejected(_("The notification is for another merchant."))
        amount = resource.get("amount") if isinstance(resource.get("amount"), dict) else {}
        if event_type.startswith("REFUND."):
            status = REFUND_STATES.get(resource.get("refund_status"))
            refund_fen = amount.get("refund")
            if status is None or not isinstance(refund_fen, int) or isinstance(refund_fen, bool):
                raise malformed()
            return Notification(
                event_key=f"wechat:{event_id}",
                payment_id=payment_id_from(resource.get("out_trade_no")),
                status=status,
                amount_fen=refund_fen,
                provider_reference=str(resource.get("refund_id", ""))[:80],
                payload=data,
                kind="refund",
                refund_id=refund_id_from(resource.get("out_refund_no")),
            )
        if resource.get("appid") != settings.ERHUO_WECHATPAY_APPID:
            raise NotificationRejected(_("The notification is for another application."))
        status = TRADE_STATES.get(resource.get("trade_state"), PENDING)
        total_fen = amount.get("total")
        if not isinstance(total_fen, int) or isinstance(total_fen, bool):
            raise malformed()
        return Notification(
            event_key=f"wechat:{event_id}",
            payment_id=payment_id_from(resource.get("out_trade_no")),
            status=status,
            amount_fen=total_fen,
            provider_reference=str(resource.get("transaction_id", ""))[:80],
            payload=data,
        )

    # --- refunds -------------------------------------------------------------------------------------------

    def refund(self, refund: Refund) -> RefundResult:
        payment = refund.payment
        try:
            status, text = self.client().refund(
                out_refund_no=refund_number(refund.pk),
                amount={"refund": refund.amount_fen, "total": payment.amount_fen, "currency": "CNY"},
                out_trade_no=trade_number(payment.pk),
                reason=refund.reason[:80],
                notify_url=self.notify_url(),
            )
        except Exception as error:  # network, or an answer whose signature did not verify: ask again later
            logger.warning("WeChat Pay refund %s: %s", refund.pk, error)
            return RefundResult(status=PENDING, detail=type(error).__name__)
        try:
            answer = json.loads(text) if text else {}
        except (TypeError, ValueError):
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if 200 <= status < 300:
            state = REFUND_STATES.get(answer.get("status"), PENDING)
            return RefundResult(
                status=state,
                provider_reference=str(answer.get("refund_id", ""))[:80],
                detail=str(answer.get("status", "")),
                data=answer,
            )
        code = str(answer.get("code", ""))
        detail = f"{status} {code} {answer.get('message', '')}".strip()[:300]
        if status >= 500 or status == 429 or code in RETRY_CODES:
            return RefundResult(status=PENDING, detail=detail, data=answer)
        return RefundResult(status=FAILED, detail=detail, data=answer)
