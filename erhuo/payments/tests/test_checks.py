"""`manage.py check` says when a listed provider is off for want of settings, or its keys do not load."""

from erhuo.payments.checks import payment_providers_check
from erhuo.payments.tests import fakes


def ids() -> list[str]:
    return [message.id for message in payment_providers_check()]


def test_configured_providers_pass(alipay, wechat, settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "alipay", "wechat"]
    assert ids() == []


def test_a_listed_provider_without_settings_is_a_warning(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "alipay", "paypal"]
    settings.ERHUO_ALIPAY_APP_ID = ""
    assert ids() == ["payments.W002", "payments.W001"]


def test_keys_that_do_not_load_and_a_short_apiv3_key_are_errors(alipay, wechat, settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["alipay", "wechat"]
    settings.ERHUO_ALIPAY_PUBLIC_KEY = "not a key"
    settings.ERHUO_WECHATPAY_PRIVATE_KEY = fakes.public_pem(fakes.rsa_key("wechat-merchant"))
    settings.ERHUO_WECHATPAY_APIV3_KEY = "short"
    assert ids() == ["payments.E002", "payments.E002", "payments.E003"]


def test_a_bad_trade_prefix_and_plain_http_are_reported(settings):
    settings.ERHUO_PAYMENT_TRADE_PREFIX = "EH-"
    settings.ERHUO_PAYMENT_BASE_URL = "http://erhuo.example.com"
    assert ids() == ["payments.E001", "payments.W003"]
