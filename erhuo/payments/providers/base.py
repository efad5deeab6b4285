"""What every payment provider has in common: the interface's data, errors, trade numbers, amounts and keys.

A provider implements:

- `is_configured() -> bool`: its settings are all there (Alipay and WeChat
  Pay are enabled only then, and only when listed in
  `ERHUO_PAYMENT_PROVIDERS`);
- `start(payment, *, mobile, openid, client_ip) -> dict`: what the payer
  must do next (instructions, a URL to go to, or parameters for a page);
- `verify_notification(body, headers) -> Notification`: the provider's
  asynchronous notification, trusted only once its signature is verified;
  raises `NotificationRejected` otherwise;
- `refund(refund) -> RefundResult`: ask the provider to pay a refund back;
- `calls_out`: True when `refund` goes over the network, so it is called
  after commit and outside any lock, never inside a transaction.
"""

import base64
import binascii
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils.translation import gettext as _

from erhuo.core.errors import DomainError


class NotificationRejected(DomainError):
    code = "notification_rejected"
    status = 400


class ProviderError(DomainError):
    """The provider could not be reached or refused the request; nothing was changed here."""

    code = "provider_error"
    status = 502


@dataclass(frozen=True)
class Notification:
    """A verified provider notification, about a payment or (kind "refund") one of its refunds."""

    event_key: str
    payment_id: int
    # "succeeded", "failed", or "pending" (the provider reports no change yet)
    status: str
    amount_fen: int
    provider_reference: str
    payload: dict
    kind: str = "payment"
    refund_id: int | None = None


@dataclass(frozen=True)
class RefundResult:
    """What a provider answered to a refund: "succeeded", "failed", or "pending" (ask again or wait)."""

    status: str
    provider_reference: str = ""
    detail: str = ""
    data: dict = field(default_factory=dict)


SUCCEEDED = "succeeded"
FAILED = "failed"
PENDING = "pending"


def malformed(message=None) -> NotificationRejected:
    return NotificationRejected(message or _("The notification could not be read."), code="notification_malformed")


# --- trade numbers --------------------------------------------------------------------------------

PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9]{1,16}$")


def trade_prefix() -> str:
    prefix = settings.ERHUO_PAYMENT_TRADE_PREFIX
    if not PREFIX_PATTERN.match(prefix):
        raise ImproperlyConfigured("ERHUO_PAYMENT_TRADE_PREFIX is 1 to 16 letters or digits.")
    return prefix


def trade_number(payment_id: int) -> str:
    """The payment's number at the provider (Alipay out_trade_no, WeChat Pay out_trade_no)."""
    return f"{trade_prefix()}{payment_id}"


def refund_number(refund_id: int) -> str:
    """The refund's number at the provider (Alipay out_request_no, WeChat Pay out_refund_no).

    The refund's own id, not the asking app's key: keys may hold characters
    or lengths a provider refuses, and one key maps to one refund row, so a
    refund asked again reaches the provider under the same number.
    """
    return f"{trade_prefix()}R{refund_id}"


def _parse_number(value, pattern: str) -> int:
    match = re.fullmatch(pattern, value) if isinstance(value, str) else None
    if match is None:
        raise malformed(_("The notification names a trade number that is not ours."))
    return int(match.group(1))


def payment_id_from(number) -> int:
    return _parse_number(number, rf"{re.escape(trade_prefix())}([1-9][0-9]{{0,17}})")


def refund_id_from(number) -> int:
    return _parse_number(number, rf"{re.escape(trade_prefix())}R([1-9][0-9]{{0,17}})")


# --- amounts ------------------------------------------------------------------------------------------

YUAN_PATTERN = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?")


def fen_from_yuan_text(value) -> int:
    """A provider's amount in yuan ("123.45") to fen, exactly; anything else is refused."""
    if not isinstance(value, str) or not YUAN_PATTERN.fullmatch(value):
        raise malformed(_("The notification's amount could not be read."))
    return int(Decimal(value) * 100)


def yuan_text(amount_fen: int) -> str:
    """Fen to the yuan string providers expect ("123.45")."""
    yuan, fen = divmod(amount_fen, 100)
    return f"{yuan}.{fen:02d}"


# --- addresses ----------------------------------------------------------------------------------------


def public_url(path: str) -> str:
    """An absolute URL providers reach us at (notifications) or send the payer back to."""
    return f"{settings.ERHUO_PAYMENT_BASE_URL}{path}"


def return_url(payment) -> str:
    return public_url(reverse("payments:pay", args=[payment.pk]))


# --- keys -----------------------------------------------------------------------------------------------


def _key_bytes(value: str, setting: str) -> tuple[bytes, bool]:
    """(bytes, is_pem) from PEM text, a path to a PEM file, or the bare base64 body."""
    value = value.strip()
    if "-----BEGIN" in value:
        return value.encode(), True
    # A key's base64 body starts with "MI" (a DER sequence); anything path-like is read as a file.
    if value.startswith(("/", "./", "../", "~")) or value.endswith((".pem", ".key")):
        path = Path(value).expanduser()
        try:
            return path.read_bytes(), True
        except OSError as error:
            raise ImproperlyConfigured(f"{setting}: cannot read {path}: {error.strerror}") from None
    try:
        return base64.b64decode("".join(value.split()), validate=True), False
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{setting} is neither PEM, a PEM file, nor a base64 key.") from None


def private_key_pem(value: str, setting: str) -> str:
    """An RSA private key in any of the accepted forms, as PKCS#8 PEM text (what both SDKs read)."""
    data, is_pem = _key_bytes(value, setting)
    try:
        loader = serialization.load_pem_private_key if is_pem else serialization.load_der_private_key
        key = loader(data, password=None)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(f"{setting} is not a readable private key (no passphrase).") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ImproperlyConfigured(f"{setting} must be an RSA key.")
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_key_pem(value: str, setting: str) -> str:
    """An RSA public key in any of the accepted forms, as SubjectPublicKeyInfo PEM text."""
    data, is_pem = _key_bytes(value, setting)
    try:
        loader = serialization.load_pem_public_key if is_pem else serialization.load_der_public_key
        key = loader(data)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(f"{setting} is not a readable public key.") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ImproperlyConfigured(f"{setting} must be an RSA key.")
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def lower_headers(headers) -> dict:
    """Request headers (Django's, a dict, or requests') keyed in lower case."""
    return {str(name).lower(): value for name, value in dict(headers or {}).items()}
