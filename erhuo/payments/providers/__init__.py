"""Payment providers behind one interface (see `base` for the methods every provider has).

- `manual` and `sandbox` (`local`): no outside service;
- `alipay` (`python-alipay-sdk`) and `wechat` (`wechatpayv3`): enabled only
  when listed in `ERHUO_PAYMENT_PROVIDERS` *and* configured (their keys and
  `ERHUO_PAYMENT_BASE_URL`); ADR 9 lists the settings.
"""

from django.conf import settings
from django.utils.translation import gettext as _

from erhuo.core.errors import DomainError
from erhuo.payments.models import Provider
from erhuo.payments.providers.alipay import AlipayProvider
from erhuo.payments.providers.base import (
    FAILED,
    PENDING,
    SUCCEEDED,
    Notification,
    NotificationRejected,
    ProviderError,
    RefundResult,
    payment_id_from,
    refund_id_from,
    refund_number,
    trade_number,
)
from erhuo.payments.providers.local import (
    SANDBOX_SIGNATURE_HEADER,
    ManualProvider,
    SandboxProvider,
    sandbox_secret,
    sandbox_sign,
)
from erhuo.payments.providers.wechat import WechatProvider

__all__ = [
    "FAILED",
    "PENDING",
    "PROVIDERS",
    "SANDBOX_SIGNATURE_HEADER",
    "SUCCEEDED",
    "AlipayProvider",
    "ManualProvider",
    "Notification",
    "NotificationRejected",
    "ProviderError",
    "RefundResult",
    "SandboxProvider",
    "WechatProvider",
    "enabled_providers",
    "payment_id_from",
    "provider_for",
    "refund_id_from",
    "refund_number",
    "sandbox_secret",
    "sandbox_sign",
    "trade_number",
]

PROVIDERS = {
    Provider.MANUAL: ManualProvider(),
    Provider.SANDBOX: SandboxProvider(),
    Provider.ALIPAY: AlipayProvider(),
    Provider.WECHAT: WechatProvider(),
}


def provider_for(name: str):
    try:
        return PROVIDERS[name]
    except KeyError:
        raise DomainError(_("This payment method is not available."), code="provider_unavailable") from None


def enabled_providers() -> list[str]:
    """Listed in ERHUO_PAYMENT_PROVIDERS, known, and configured, in the listed order."""
    return [name for name in settings.ERHUO_PAYMENT_PROVIDERS if name in PROVIDERS and PROVIDERS[name].is_configured()]
