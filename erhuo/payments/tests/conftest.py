"""Fixtures of the payments tests: finance, and Alipay and WeChat Pay configured with keys made in the test."""

import types

import pytest

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.payments.tests import fakes
from erhuo.payments.tests.fakes import no_network  # noqa: F401 (a fixture)


@pytest.fixture
def finance(db):
    return UserFactory(roles=[roles.FINANCE])


@pytest.fixture
def alipay(settings, no_network):  # noqa: F811
    """Alipay on: our app key signs, "Alipay's" key (made here) signs what Alipay sends."""
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox", "alipay"]
    settings.ERHUO_PAYMENT_BASE_URL = fakes.BASE_URL
    settings.ERHUO_PAYMENT_TRADE_PREFIX = "EH"
    settings.ERHUO_ALIPAY_APP_ID = fakes.ALIPAY_APP_ID
    # Our key as PKCS#1 PEM and Alipay's as the console's bare base64: both forms are read.
    settings.ERHUO_ALIPAY_PRIVATE_KEY = fakes.private_pem(fakes.rsa_key("app"), pkcs1=True)
    settings.ERHUO_ALIPAY_PUBLIC_KEY = fakes.public_base64(fakes.rsa_key("alipay"))
    settings.ERHUO_ALIPAY_SANDBOX = False
    return types.SimpleNamespace(app_key=fakes.rsa_key("app"), alipay_key=fakes.rsa_key("alipay"))


@pytest.fixture
def wechat(settings, no_network):  # noqa: F811
    """WeChat Pay on, in "WeChat Pay public key" mode: the platform key (made here) signs what WeChat sends."""
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox", "wechat"]
    settings.ERHUO_PAYMENT_BASE_URL = fakes.BASE_URL
    settings.ERHUO_PAYMENT_TRADE_PREFIX = "EH"
    settings.ERHUO_WECHATPAY_MCHID = fakes.WECHAT_MCHID
    settings.ERHUO_WECHATPAY_APPID = fakes.WECHAT_APPID
    settings.ERHUO_WECHATPAY_PRIVATE_KEY = fakes.private_pem(fakes.rsa_key("wechat-merchant"))
    settings.ERHUO_WECHATPAY_CERT_SERIAL_NO = fakes.WECHAT_SERIAL
    settings.ERHUO_WECHATPAY_APIV3_KEY = fakes.APIV3_KEY
    settings.ERHUO_WECHATPAY_PUBLIC_KEY = fakes.public_pem(fakes.rsa_key("wechat-platform"))
    settings.ERHUO_WECHATPAY_PUBLIC_KEY_ID = fakes.WECHAT_PUBLIC_KEY_ID
    settings.ERHUO_WECHATPAY_NOTIFY_MAX_AGE = 300
    return types.SimpleNamespace(
        merchant_key=fakes.rsa_key("wechat-merchant"), platform_key=fakes.rsa_key("wechat-platform")
    )
