"""Alipay (支付宝) through the `python-alipay-sdk` package (import `alipay`).

On when "alipay" is in `ERHUO_PAYMENT_PROVIDERS` and `ERHUO_ALIPAY_APP_ID`,
`ERHUO_ALIPAY_PRIVATE_KEY` (ours, signs requests), `ERHUO_ALIPAY_PUBLIC_KEY`
(Alipay's, verifies what Alipay sends) and `ERHUO_PAYMENT_BASE_URL` are set;
`ERHUO_ALIPAY_SANDBOX=1` uses Alipay's sandbox gateway.

- `start`: a signed page-pay (desktop) or wap-pay (phone) URL on Alipay's
  gateway; nothing goes over the network until the payer follows it.
- `verify_notification`: the form-encoded asynchronous notification, its
  RSA2 signature verified by the SDK over every other field before any is
  read. TRADE_SUCCESS and TRADE_FINISHED mean paid, TRADE_CLOSED means
  failed (or, after success, fully refunded: it changes nothing then).
- `refund`: `alipay.trade.refund`, synchronous; the refund's number is the
  `out_request_no`, so asking again never pays twice.
"""

import functools
import logging
from urllib.parse import parse_qsl

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from erhuo.payments.models import Payment, Provider, Refund
from erhuo.payments.providers.base import (
    FAILED,
    PENDING,
    SUCCEEDED,
    Notification,
    NotificationRejected,
    RefundResult,
    fen_from_yuan_text,
    malformed,
    payment_id_from,
    private_key_pem,
    public_key_pem,
    public_url,
    refund_number,
    return_url,
    trade_number,
    yuan_text,
)

logger = logging.getLogger(__name__)

TRADE_STATUSES = {
    "TRADE_SUCCESS": SUCCEEDED,
    "TRADE_FINISHED": SUCCEEDED,
    "TRADE_CLOSED": FAILED,
    "WAIT_BUYER_PAY": PENDING,
}
# Answers to a refund that say "try again later" rather than "no".
RETRY_CODES = {"20000"}
RETRY_SUB_CODES = {"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR", "ACQ.SELLER_BALANCE_NOT_ENOUGH"}


@functools.lru_cache(maxsize=4)
def _client(app_id: str, private_key: str, public_key: str, sandbox: bool) -> AliPay:
    # Loading the keys is all the constructor does: no network.
    return AliPay(
        appid=app_id,
        app_notify_url=None,
        app_private_key_string=private_key_pem(private_key, "ERHUO_ALIPAY_PRIVATE_KEY"),
        alipay_public_key_string=public_key_pem(public_key, "ERHUO_ALIPAY_PUBLIC_KEY"),
        sign_type="RSA2",
        debug=sandbox,
    )


class AlipayProvider:
    name = Provider.ALIPAY
    calls_out = True

    def is_configured(self) -> bool:
        return all(
            (
                settings.ERHUO_ALIPAY_APP_ID,
                settings.ERHUO_ALIPAY_PRIVATE_KEY,
                settings.ERHUO_ALIPAY_PUBLIC_KEY,
                settings.ERHUO_PAYMENT_BASE_URL,
            )
        )

    def client(self) -> AliPay:
        return _client(
            settings.ERHUO_ALIPAY_APP_ID,
            settings.ERHUO_ALIPAY_PRIVATE_KEY,
            settings.ERHUO_ALIPAY_PUBLIC_KEY,
            bool(settings.ERHUO_ALIPAY_SANDBOX),
        )

    @staticmethod
    def notify_url() -> str:
        return public_url(reverse("api:notify_alipay"))

    def start(self, payment: Payment, *, mobile: bool = False, openid: str = "", client_ip: str = "") -> dict:
        client = self.client()
        pay = client.api_alipay_trade_wap_pay if mobile else client.api_alipay_trade_page_pay
        signed_query = pay(
            subject=payment.description[:256],
            out_trade_no=trade_number(payment.pk),
            total_amount=yuan_text(payment.amount_fen),
            return_url=return_url(payment),
            notify_url=self.notify_url(),
        )
        # The SDK picks the gateway (production or sandbox) when built; the page URL goes to the same one.
        return {"kind": "redirect", "provider": self.name, "url": f"{client._gateway}?{signed_query}"}

    def verify_notification(self, body: bytes, headers) -> Notification:
        try:
            pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise malformed() from None
        data = dict(pairs)
        if len(data) != len(pairs):
            raise malformed(_("The notification repeats a field."))
        signature = data.pop("sign", "")
        if not signature:
            raise NotificationRejected(_("The notification's signature is not valid."), code="signature_invalid")
        try:
            # The SDK checks sign_type (RSA2) and verifies the signature over every other field, sorted.
            verified = self.client().verify(dict(data), signature)
        except Exception:  # a malformed signature or sign type is simply not valid
            verified = False
        if not verified:
            raise NotificationRejected(_("The notification's signature is not valid."), code="signature_invalid")
        if data.get("app_id") != settings.ERHUO_ALIPAY_APP_ID:
            raise NotificationRejected(_("The notification is for another Alipay application."))
        status = TRADE_STATUSES.get(data.get("trade_status", ""))
        notify_id = data.get("notify_id", "")
        if status is None or not notify_id or len(notify_id) > 100:
            raise malformed()
        return Notification(
            event_key=f"alipay:{notify_id}",
            payment_id=payment_id_from(data.get("out_trade_no")),
            status=status,
            amount_fen=fen_from_yuan_text(data.get("total_amount")),
            provider_reference=data.get("trade_no", "")[:80],
            payload=data,
        )

    def refund(self, refund: Refund) -> RefundResult:
        payment = refund.payment
        try:
            answer = self.client().api_alipay_trade_refund(
                refund_amount=yuan_text(refund.amount_fen),
                out_trade_no=trade_number(payment.pk),
                out_request_no=refund_number(refund.pk),
                refund_reason=refund.reason[:256],
            )
        except AliPayValidationError:
            # An answer we cannot trust: ask again later (the same out_request_no never pays twice).
            logger.error("Alipay refund %s: the answer's signature did not verify", refund.pk)
            return RefundResult(status=PENDING, detail="answer signature not valid")
        except AliPayException as error:
            # An unsigned error answer (e.g. a wrong app id); the SDK keeps its code name-mangled.
            code = str(getattr(error, "_AliPayException__code", ""))
            status = PENDING if code in RETRY_CODES else FAILED
            return RefundResult(status=status, detail=f"Alipay {code}"[:300])
        except Exception as error:  # network, timeout: nothing is known, ask again later
            logger.warning("Alipay refund %s: %s", refund.pk, error)
            return RefundResult(status=PENDING, detail=type(error).__name__)
        code = str(answer.get("code", ""))
        sub_code = str(answer.get("sub_code", ""))
        if code == "10000":
            return RefundResult(status=SUCCEEDED, provider_reference=str(answer.get("trade_no", ""))[:80], data=answer)
        detail = f"{code} {sub_code} {answer.get('sub_msg', '')}".strip()[:300]
        if code in RETRY_CODES or sub_code in RETRY_SUB_CODES:
            return RefundResult(status=PENDING, detail=detail, data=answer)
        return RefundResult(status=FAILED, detail=detail, data=answer)
