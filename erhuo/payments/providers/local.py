"""The two providers that need no outside service.

- `manual`: the payer transfers to the group's WeChat/Alipay QR code and
  uploads a screenshot; finance confirms. There are no notifications. A
  refund is transferred back by finance, who then confirms it.
- `sandbox`: a stand-in for a real provider in demos and tests. Its
  notifications (payments and refunds) are signed like real ones
  (HMAC-SHA256 over the raw body with a secret only the server knows), so
  the same verification path is exercised: a tampered or unsigned body is
  rejected. A refund is accepted at once and confirmed by its signed
  refund notification.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from erhuo.payments.models import Payment, Provider, Refund
from erhuo.payments.providers.base import PENDING, Notification, NotificationRejected, RefundResult

SANDBOX_SIGNATURE_HEADER = "X-Sandbox-Signature"


class ManualProvider:
    name = Provider.MANUAL
    calls_out = False

    def is_configured(self) -> bool:
        return True

    def start(self, payment: Payment, *, mobile: bool = False, openid: str = "", client_ip: str = "") -> dict:
        return {
            "kind": "manual_transfer",
            "account_name": settings.ERHUO_MANUAL_PAYEE_NAME,
            "instructions": _(
                "Transfer exactly the amount to the account below with WeChat or Alipay, write the payment number "
                "in the note, then upload a screenshot of the transfer. Finance confirms it within one working day."
            ),
            "note_to_write": f"EH-PAY-{payment.pk}",
            "proof_url": reverse("payments:pay", args=[payment.pk]),
        }

    def verify_notification(self, body: bytes, headers) -> Notification:
        raise NotificationRejected(_("Manual transfers have no provider notifications."))

    def refund(self, refund: Refund) -> RefundResult:
        # Finance transfers the money back by hand and confirms (`refund_manual_confirm`).
        return RefundResult(status=PENDING, detail="waiting for finance")


def sandbox_secret() -> bytes:
    configured = getattr(settings, "ERHUO_SANDBOX_PAY_SECRET", "")
    base = configured or settings.SECRET_KEY
    return hmac.new(base.encode(), b"erhuo sandbox payments v1", hashlib.sha256).digest()


def sandbox_sign(body: bytes) -> str:
    return hmac.new(sandbox_secret(), body, hashlib.sha256).hexdigest()


class SandboxProvider:
    name = Provider.SANDBOX
    calls_out = False

    def is_configured(self) -> bool:
        return True

    def start(self, payment: Payment, *, mobile: bool = False, openid: str = "", client_ip: str = "") -> dict:
        return {"kind": "redirect", "url": reverse("payments:pay", args=[payment.pk])}

    def notification_for(self, payment: Payment, *, status: str = "succeeded", event_id: str | None = None):
        """What the sandbox 'provider' sends when the payer pays: (body bytes, headers)."""
        return self._signed(
            {
                "event_id": event_id or f"sbx-{payment.pk}-{status}",
                "payment_id": payment.pk,
                "status": status,
                "amount_fen": payment.amount_fen,
                "transaction_id": f"SBX{payment.pk:010d}",
            }
        )

    def refund(self, refund: Refund) -> RefundResult:
        # Accepted; the refund notification (`refund_notification_for`) confirms it, like WeChat Pay's.
        return RefundResult(status=PENDING, provider_reference=self.refund_reference(refund))

    @staticmethod
    def refund_reference(refund: Refund) -> str:
        return f"SBXR{refund.pk:010d}"

    def refund_notification_for(self, refund: Refund, *, status: str = "succeeded", event_id: str | None = None):
        """What the sandbox sends when it has paid a refund back: (body bytes, headers)."""
        return self._signed(
            {
                "event_id": event_id or f"sbx-refund-{refund.pk}-{status}",
                "kind": "refund",
                "refund_id": refund.pk,
                "payment_id": refund.payment_id,
                "status": status,
                "amount_fen": refund.amount_fen,
                "transaction_id": self.refund_reference(refund),
            }
        )

    @staticmethod
    def _signed(data: dict):
        body = json.dumps(data, sort_keys=True).encode()
        return body, {SANDBOX_SIGNATURE_HEADER: sandbox_sign(body)}

    def verify_notification(self, body: bytes, headers) -> Notification:
        signature = headers.get(SANDBOX_SIGNATURE_HEADER, "")
        if not signature or not hmac.compare_digest(signature, sandbox_sign(body)):
            raise NotificationRejected(_("The notification's signature is not valid."), code="signature_invalid")
        try:
            data = json.loads(body)
            kind = str(data.get("kind", "payment"))
            if kind not in ("payment", "refund"):
                raise ValueError(kind)
            return Notification(
                event_key=f"sandbox:{data['event_id']}",
                payment_id=int(data["payment_id"]),
                status=str(data["status"]),
                amount_fen=int(data["amount_fen"]),
                provider_reference=str(data.get("transaction_id", "")),
                payload=data,
                kind=kind,
                refund_id=int(data["refund_id"]) if kind == "refund" else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise NotificationRejected(
                _("The notification could not be read."), code="notification_malformed"
            ) from None
