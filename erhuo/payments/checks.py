"""System checks: a real provider listed in ERHUO_PAYMENT_PROVIDERS is configured, and its keys load.

`manage.py check` (and every start) says so, rather than a payer finding out.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security)
def payment_providers_check(app_configs=None, **kwargs):
    from erhuo.payments.providers import PROVIDERS
    from erhuo.payments.providers.base import trade_prefix

    messages = []
    try:
        trade_prefix()
    except ImproperlyConfigured as error:
        messages.append(checks.Error(str(error), id="payments.E001"))
    for name in settings.ERHUO_PAYMENT_PROVIDERS:
        backend = PROVIDERS.get(name)
        if backend is None:
            messages.append(
                checks.Warning(f"ERHUO_PAYMENT_PROVIDERS lists unknown provider {name!r}.", id="payments.W001")
            )
            continue
        if not backend.calls_out:
            continue
        if not backend.is_configured():
            messages.append(
                checks.Warning(
                    f"{name} is listed in ERHUO_PAYMENT_PROVIDERS but not configured, so it is off.",
                    hint="Set its keys and ERHUO_PAYMENT_BASE_URL (docs/adr/0009-payment-providers-and-refunds.md).",
                    id="payments.W002",
                )
            )
            continue
        try:
            backend.client()
        except ImproperlyConfigured as error:
            messages.append(checks.Error(str(error), id="payments.E002"))
        except Exception as error:  # the SDK refused the keys
            messages.append(checks.Error(f"{name}: the keys do not load ({error}).", id="payments.E002"))
    apiv3_key = settings.ERHUO_WECHATPAY_APIV3_KEY
    if "wechat" in settings.ERHUO_PAYMENT_PROVIDERS and apiv3_key and len(apiv3_key.encode()) != 32:
        messages.append(checks.Error("ERHUO_WECHATPAY_APIV3_KEY must be 32 characters.", id="payments.E003"))
    if settings.ERHUO_PAYMENT_BASE_URL and not settings.ERHUO_PAYMENT_BASE_URL.startswith("https://"):
        messages.append(
            checks.Warning("ERHUO_PAYMENT_BASE_URL should be https: providers call it.", id="payments.W003")
        )
    return messages
