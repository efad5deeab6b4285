"""Personal data: encryption at rest, blind indexes, and masking.

Phone numbers, real names, ID numbers and addresses are stored encrypted
(Fernet: AES-128-CBC + HMAC-SHA256) with the key(s) in `ERHUO_PII_KEY`. The
variable holds one or more comma-separated keys: the first encrypts, every
one decrypts, so a key can be rotated by putting a new key first and running
`manage.py pii_reencrypt`.

Encrypted values cannot be searched or made unique, so a field that must be
(a phone number used to log in) keeps a blind index beside it: an HMAC of the
normalised value under a key derived from the PII key (`pii_digest`).

Masking helpers are the only way personal data is shown to people who do not
need the whole value.
"""

import base64
import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

# Used only when DEBUG is on and no key is configured (development, tests,
# `make demo`). Production refuses to start without ERHUO_PII_KEY.
_DEVELOPMENT_KEY_SEED = b"erhuo-development-pii-key-not-for-production"


def _configured_keys() -> list[bytes]:
    raw = getattr(settings, "ERHUO_PII_KEY", "") or ""
    keys = [part.strip().encode() for part in raw.split(",") if part.strip()]
    if keys:
        return keys
    if not settings.DEBUG and not getattr(settings, "TESTING", False):
        raise ImproperlyConfigured("ERHUO_PII_KEY is not set; personal data cannot be encrypted.")
    return [base64.urlsafe_b64encode(hashlib.sha256(_DEVELOPMENT_KEY_SEED).digest())]


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[bytes, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            "ERHUO_PII_KEY must be one or more comma-separated Fernet keys (32 url-safe base64 bytes)."
        ) from error


def _fernet() -> MultiFernet:
    return _fernet_for(tuple(_configured_keys()))


def validate_pii_keys() -> None:
    """Raise ImproperlyConfigured if the configured keys are unusable."""
    _fernet()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "A personal-data value could not be decrypted: ERHUO_PII_KEY does not hold the key it was encrypted with."
        ) from error


def reencrypt(token: str) -> str:
    """Re-encrypt a stored token under the current first key (key rotation)."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


@lru_cache(maxsize=4)
def _digest_key_for(first_key: bytes) -> bytes:
    return hmac.new(first_key, b"erhuo blind index v1", hashlib.sha256).digest()


def pii_digest(normalised_value: str) -> str:
    """A keyed, deterministic digest of a normalised value, for lookups and uniqueness.

    Derived from the *last* configured key: rotation adds keys in front, so
    blind indexes stay valid while the oldest key is kept.
    """
    key = _digest_key_for(_configured_keys()[-1])
    return hmac.new(key, normalised_value.encode("utf-8"), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text field stored encrypted. It cannot be filtered or ordered on.

    Empty strings are stored as empty strings (nothing to protect), so a
    blank optional field stays blank.
    """

    description = _("Encrypted text")

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name not in {"isnull", "exact"}:
            raise TypeError(f"encrypted field {self.name!r} cannot be queried with __{lookup_name}")
        return super().get_lookup(lookup_name)


# --- normalisation -------------------------------------------------------

PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(value: str) -> str:
    """Mainland mobile numbers: strip spaces, dashes and a +86/0086 prefix."""
    digits = re.sub(r"[\s\-()]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def is_valid_phone(value: str) -> bool:
    return bool(PHONE_PATTERN.match(normalise_phone(value)))


# --- masking -------------------------------------------------------------


def mask_phone(value: str | None) -> str:
    """`13812345678` → `138****5678`."""
    if not value:
        return ""
    phone = normalise_phone(value)
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def mask_id_number(value: str | None) -> str:
    """`110101199003071234` → `1101**********1234` (first four, last four)."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


def mask_name(value: str | None) -> str:
    """`王小明` → `王**`; `Anna Li` → `A******`: the first character only."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)


def mask_address(value: str | None, *, keep: int = 6) -> str:
    """Keep the first `keep` characters (province/city), hide the rest."""
    if not value:
        return ""
    if len(value) <= keep:
        return value
    return value[:keep] + "****"
