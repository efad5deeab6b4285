"""Payment providers behind one interface.

A provider turns a payment into what the payer must do (`start`) and turns
what the provider sends back into a verified `Notification`
(`verify_notification`), or raises `NotificationRejected`. Alipay and
WeChat Pay (issue 5) implement the same two methods with their SDKs.

- `manual`: the payer transfers to the group's WeChat/Alipay QR code and
  uploads a screenshot; finance confirms. There are no notifications.
- `sandbox`: a stand-in for a real provider in demos and tests. Its
  notifications are signed like real ones (HMAC-SHA256 over the raw body
  with a secret only the server knows), so the same verification path is
  exercised: a tampered or unsigned body is rejected.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from erhuo.core.errors import DomainError
from erhuo.payments.models import Payment, Provider

SANDBOX_SIGNATURE_HEADER = "X-Sandbox-Signature"


class NotificationRejected(DomainError):
    code = "notification_rejected"
    status = 400


@dataclass(frozen=True)
class Notification:
    event_key: str
    payment_id: int
    status: str
    amount_fen: int
    provider_reference: str
    payload: dict


class ManualProvider:
    name = Provider.MANUAL

    def start(self, payment: Payment) -> dict:
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


def sandbox_secret() -> bytes:
    configured = getattr(settings, "ERHUO_SANDBOX_PAY_SECRET", "")
    base = configured or settings.SECRET_KEY
    return hmac.new(base.encode(), b"erhuo sandbox payments v1", hashlib.sha256).digest()


def sandbox_sign(body: bytes) -> str:
    return hmac.new(sandbox_secret(), body, hashlib.sha256).hexdigest()


class SandboxProvider:
    name = Provider.SANDBOX

    def start(self, payment: Payment) -> dict:
        return {"kind": "redirect", "url": reverse("payments:pay", args=[payment.pk])}

    def notification_for(self, payment: Payment, *, status: str = "succeeded", event_id: str | None = None):
        """What the sandbox 'provider' sends when the payer pays: (body bytes, headers)."""
        body = json.dumps(
            {
                "event_id": event_id or f"sbx-{payment.pk}-{status}",
                "payment_id": payment.pk,
                "status": status,
                "amount_fen": payment.amount_fen,
                "transaction_id": f"SBX{payment.pk:010d}",
            },
            sort_keys=True,
        ).encode()
        return body, {SANDBOX_SIGNATURE_HEADER: sandbox_sign(body)}

    def verify_notification(self, body: bytes, headers) -> Notification:
        signature = headers.get(SANDBOX_SIGNATURE_HEADER, "")
        if not signature or not hmac.compare_digest(signature, sandbox_sign(body)):
            raise NotificationRejected(_("The notification's signature is not valid."), code="signature_invalid")
        try:
            data = json.loads(body)
            return Notification(
                event_key=f"sandbox:{data['event_id']}",
                payment_id=int(data["payment_id"]),
                status=str(data["status"]),
                amount_fen=int(data["amount_fen"]),
                provider_reference=str(data.get("transaction_id", "")),
                payload=data,
            )
        except (ValueError, KeyError, TypeError):
            raise NotificationRejected(
                _("The notification could not be read."), code="notification_malformed"
            ) from None


PROVIDERS = {Provider.MANUAL: ManualProvider(), Provider.SANDBOX: SandboxProvider()}


def provider_for(name: str):
    try:
        return PROVIDERS[name]
    except KeyError:
        raise DomainError(_("This payment method is not available."), code="provider_unavailable") from None


def enabled_providers() -> list[str]:
    return [name for name in settings.ERHUO_PAYMENT_PROVIDERS if name in PROVIDERS]
