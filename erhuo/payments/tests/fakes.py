"""The providers' side of the wire, built in the test as Alipay and WeChat Pay build it, with keys made here.

Nothing here talks to the SDKs: signatures and encryption are made with
`cryptography` directly, following the providers' published rules, so the
SDKs' verification is tested against an independent implementation.
"""

import base64
import functools
import json
import os
import socket
import time
from urllib.parse import urlencode

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

BASE_URL = "https://erhuo.example.com"
ALIPAY_APP_ID = "2021004100000001"
WECHAT_MCHID = "1900000109"
WECHAT_APPID = "wx8888888888888888"
WECHAT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
WECHAT_PUBLIC_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"
APIV3_KEY = "a" * 16 + "B" * 16  # 32 characters, as WeChat Pay's APIv3 key is
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """A fresh RSA 2048 key per role (our app, Alipay, the WeChat merchant, the WeChat platform, a stranger)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key, *, pkcs1: bool = False) -> str:
    form = serialization.PrivateFormat.TraditionalOpenSSL if pkcs1 else serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, form, serialization.NoEncryption()).decode()


def public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def public_base64(key) -> str:
    """The bare base64 body a provider's console shows (no PEM lines)."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def rsa_sha256_sign(key, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_sha256_verifies(public_key, message: str, signature: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


@pytest.fixture
def no_network(monkeypatch):
    """Any connection or name lookup beyond this machine fails the test (the database and Redis are local)."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            # pytest.fail raises a BaseException: no `except Exception` in the code under test can swallow it.
            pytest.fail(f"a test tried to reach {address}")
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOOPBACK and host is not None:
            pytest.fail(f"a test tried to look up {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# --- Alipay ------------------------------------------------------------------------------------------


def alipay_content(params: dict, *, request: bool = False) -> str:
    """What is signed: every parameter but sign (and, in a notification, sign_type), sorted, name=value joined by &.

    Alipay's rules differ by direction: a request's signature covers sign_type, a notification's does not.
    """
    left_out = ("sign",) if request else ("sign", "sign_type")
    return "&".join(f"{name}={params[name]}" for name in sorted(params) if name not in left_out)


def alipay_notification(params: dict, *, key=None) -> bytes:
    """An asynchronous notification as Alipay posts it: form-encoded, RSA2-signed with Alipay's key."""
    key = key or rsa_key("alipay")
    signed = {**params, "sign_type": "RSA2"}
    signed["sign"] = rsa_sha256_sign(key, alipay_content(signed))
    return urlencode(signed).encode()


def alipay_trade_params(payment, **overrides) -> dict:
    params = {
        "gmt_create": "2026-12-05 10:00:00",
        "charset": "utf-8",
        "gmt_payment": "2026-12-05 10:00:05",
        "notify_time": "2026-12-05 10:00:06",
        "subject": payment.description,
        "buyer_id": "2088102177846880",
        "invoice_amount": "300.00",
        "version": "1.0",
        "notify_id": f"2026120500222100006{payment.pk:05d}",
        "fund_bill_list": '[{"amount":"300.00","fundChannel":"ALIPAYACCOUNT"}]',
        "notify_type": "trade_status_sync",
        "out_trade_no": f"EH{payment.pk}",
        "total_amount": "300.00",
        "trade_status": "TRADE_SUCCESS",
        "trade_no": f"2026120522001446881{payment.pk:09d}",
        "auth_app_id": ALIPAY_APP_ID,
        "receipt_amount": "300.00",
        "point_amount": "0.00",
        "app_id": ALIPAY_APP_ID,
        "buyer_pay_amount": "300.00",
        "seller_id": "2088102176218412",
    }
    params.update(overrides)
    return params


class AlipayGateway:
    """Stands in for `urlopen` in the SDK: records each request URL and answers signed JSON like Alipay."""

    def __init__(self, answer: dict | None = None, *, error: Exception | None = None, key=None):
        self.answer = answer
        self.error = error
        self.key = key or rsa_key("alipay")
        self.urls: list[str] = []

    def __call__(self, url, timeout=None):
        self.urls.append(url)
        if self.error is not None:
            raise self.error
        content = json.dumps(self.answer, separators=(",", ":"), ensure_ascii=False)
        raw = f'{{"alipay_trade_refund_response":{content},"sign":"{rsa_sha256_sign(self.key, content)}"}}'
        return _Readable(raw.encode())


class _Readable:
    def __init__(self, data: bytes):
        self.data = data

    def read(self):
        return self.data


# --- WeChat Pay ---------------------------------------------------------------------------------------------


def wechat_resource(plain: dict, *, apiv3_key: str = APIV3_KEY, associated_data: str = "transaction") -> dict:
    """A notification's resource: the JSON encrypted with AES-256-GCM under the APIv3 key, as WeChat Pay does."""
    nonce = base64.b32encode(os.urandom(10)).decode()[:12]
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(
        nonce.encode(), json.dumps(plain, ensure_ascii=False).encode(), associated_data.encode()
    )
    return {
        "original_type": associated_data,
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def wechat_signed_headers(body: str, *, key=None, serial: str = WECHAT_PUBLIC_KEY_ID, timestamp=None) -> dict:
    """WeChat Pay's headers: the platform key's signature over "timestamp\\nnonce\\nbody\\n"."""
    key = key or rsa_key("wechat-platform")
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = base64.b32encode(os.urandom(20)).decode()
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": rsa_sha256_sign(key, f"{timestamp}\n{nonce}\n{body}\n"),
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }


def wechat_transaction(payment, **overrides) -> dict:
    plain = {
        "mchid": WECHAT_MCHID,
        "appid": WECHAT_APPID,
        "out_trade_no": f"EH{payment.pk}",
        "transaction_id": f"42000012342026120512{payment.pk:08d}",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "CMC",
        "attach": "",
        "success_time": "2026-12-05T10:00:05+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": payment.amount_fen, "payer_total": payment.amount_fen, "currency": "CNY"},
    }
    plain.update(overrides)
    return plain


def wechat_refund_resource(refund, **overrides) -> dict:
    plain = {
        "mchid": WECHAT_MCHID,
        "out_trade_no": f"EH{refund.payment_id}",
        "transaction_id": f"42000012342026120512{refund.payment_id:08d}",
        "out_refund_no": f"EHR{refund.pk}",
        "refund_id": f"50300902022026120512{refund.pk:08d}",
        "refund_status": "SUCCESS",
        "success_time": "2026-12-06T09:00:00+08:00",
        "user_received_account": "招商银行信用卡0403",
        "amount": {
            "total": refund.payment.amount_fen,
            "refund": refund.amount_fen,
            "payer_total": refund.payment.amount_fen,
            "payer_refund": refund.amount_fen,
        },
    }
    plain.update(overrides)
    return plain


def wechat_callback(
    plain: dict,
    *,
    event_id: str,
    event_type: str = "TRANSACTION.SUCCESS",
    apiv3_key: str = APIV3_KEY,
    key=None,
    serial: str = WECHAT_PUBLIC_KEY_ID,
    timestamp=None,
):
    """(body bytes, headers) exactly as WeChat Pay posts a notification."""
    original_type = "refund" if event_type.startswith("REFUND.") else "transaction"
    body = json.dumps(
        {
            "id": event_id,
            "create_time": "2026-12-05T10:00:06+08:00",
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": "支付成功" if original_type == "transaction" else "退款成功",
            "resource": wechat_resource(plain, apiv3_key=apiv3_key, associated_data=original_type),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return body.encode(), wechat_signed_headers(body, key=key, serial=serial, timestamp=timestamp)


class WechatGateway:
    """Stands in for `requests.post` under the SDK: records each call, answers as WeChat Pay does (signed)."""

    def __init__(self, *answers: tuple[int, dict], error: Exception | None = None, key=None):
        self.answers = list(answers)
        self.error = error
        self.key = key or rsa_key("wechat-platform")
        self.calls: list[dict] = []

    def __call__(self, url, json=None, data=None, headers=None, files=None, proxies=None, timeout=None):
        self.calls.append({"url": url, "json": json, "headers": headers})
        if self.error is not None:
            raise self.error
        status, payload = self.answers.pop(0)
        text = _json_text(payload)
        response = requests.Response()
        response.status_code = status
        response._content = text.encode()
        response.encoding = "utf-8"
        response.headers.update(
            {"Content-Type": "application/json; charset=utf-8", **wechat_signed_headers(text, key=self.key)}
        )
        return response


def _json_text(payload) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
