"""Refunds in the API: the payer sees them on her payment; finance lists and confirms manual ones; others cannot."""

import pytest
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.core.testing import png_upload
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.models import JournalEntry
from erhuo.payments import services
from erhuo.payments.models import Payment, Refund, RefundTransition

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _sandbox_and_english(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    with translation.override("en"):
        yield


def manual_paid(payer, finance, amount_fen=30_000) -> Payment:
    payment = services.payment_create(
        payer=payer, amount_fen=amount_fen, purpose="test", reference="test:1", description="押金", provider="manual"
    )
    services.payment_proof_submit(payment_id=payment.pk, payer=payer, proof=png_upload())
    return services.payment_manual_confirm(payment_id=payment.pk, actor=finance)


def snapshot() -> dict:
    return {
        "refunds": list(Refund.objects.order_by("pk").values_list("pk", "status", "confirmed_by_id")),
        "steps": RefundTransition.objects.count(),
        "entries": JournalEntry.objects.count(),
    }


def test_the_payer_sees_her_refunds_on_her_payment(api_client, member, finance):
    payment = manual_paid(member, finance)
    done = services.refund_request(payment_id=payment.pk, amount_fen=10_000, reason="少发一件", key="a")
    services.refund_manual_confirm(refund_id=done.pk, actor=finance)
    waiting = services.refund_request(payment_id=payment.pk, amount_fen=5_000, reason="运费", key="b")
    api_client.login(member)

    data = api_client.get(f"{API}/payments/{payment.pk}", headers={"Accept-Language": "en"}).json()

    assert data["refunded_fen"] == 10_000
    assert [(r["id"], r["amount_fen"], r["status"], r["reason"]) for r in data["refunds"]] == [
        (done.pk, 10_000, "succeeded", "少发一件"),
        (waiting.pk, 5_000, "pending", "运费"),
    ]
    assert data["refunds"][0]["status_label"] == "Refunded"
    assert data["refunds"][1]["succeeded_at"] is None


def test_a_payment_without_refunds_says_so(api_client, member):
    payment = services.payment_create(
        payer=member, amount_fen=100, purpose="test", reference="t", description="测试", provider="sandbox"
    )
    api_client.login(member)

    data = api_client.get(f"{API}/payments/{payment.pk}").json()

    assert (data["refunded_fen"], data["refunds"]) == (0, [])


def test_finance_lists_and_confirms_manual_refunds(api_client, member, other_member, finance):
    first = services.refund_request(
        payment_id=manual_paid(member, finance).pk, amount_fen=10_000, reason="退货", key="a"
    )
    second = services.refund_request(
        payment_id=manual_paid(other_member, finance, amount_fen=8_000).pk, amount_fen=8_000, reason="取消", key="b"
    )
    api_client.login(finance)

    listed = api_client.get(f"{API}/payments/refunds/pending").json()
    assert [(r["id"], r["payer_id"], r["amount_fen"], r["provider"]) for r in listed["items"]] == [
        (first.pk, member.pk, 10_000, "manual"),
        (second.pk, other_member.pk, 8_000, "manual"),
    ]

    confirmed = api_client.post(f"{API}/payments/refunds/{first.pk}/confirm", {"note": "已原路转回"})

    assert (confirmed.status_code, confirmed.json()["status"], confirmed.json()["id"]) == (200, "succeeded", first.pk)
    assert [r["id"] for r in api_client.get(f"{API}/payments/refunds/pending").json()["items"]] == [second.pk]
    assert ledger_selectors.balance_by_code("cash:manual") == 28_000
    again = api_client.post(f"{API}/payments/refunds/{first.pk}/confirm")
    assert (again.status_code, again.json()["code"]) == (409, "refund_closed")
    missing = api_client.post(f"{API}/payments/refunds/999999/confirm")
    assert (missing.status_code, missing.json()["code"]) == (404, "refund_not_found")


@pytest.mark.parametrize("role", [roles.MEMBER, roles.OWNER, roles.CUSTOMER_SERVICE])
def test_only_finance_lists_or_confirms_refunds_and_nothing_changes(api_client, member, finance, role):
    pending = services.refund_request(
        payment_id=manual_paid(member, finance).pk, amount_fen=10_000, reason="退货", key="a"
    )
    before = snapshot()

    for user in (UserFactory(roles=[role]), member):
        api_client.login(user)
        listed = api_client.get(f"{API}/payments/refunds/pending")
        confirm = api_client.post(f"{API}/payments/refunds/{pending.pk}/confirm")
        assert (listed.status_code, confirm.status_code, confirm.json()["code"]) == (403, 403, "finance_only")

    assert snapshot() == before
    assert Refund.objects.get().status == "pending"


def test_finance_confirming_a_refund_to_themselves_is_403(api_client, finance):
    other_finance = UserFactory(roles=[roles.FINANCE])
    pending = services.refund_request(
        payment_id=manual_paid(finance, other_finance).pk, amount_fen=100, reason="退货", key="a"
    )
    api_client.login(finance)
    before = snapshot()

    response = api_client.post(f"{API}/payments/refunds/{pending.pk}/confirm")

    assert (response.status_code, response.json()["code"]) == (403, "own_refund")
    assert snapshot() == before
