"""A failed refund: its money waits in payments clearing until finance asks again, once per failure.

Service, finance's page (/ops/payments/) and the API; only finance, nothing changed on a refusal.
"""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.core.errors import PermissionRefused
from erhuo.core.testing import png_upload
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.models import JournalEntry
from erhuo.payments import selectors, services
from erhuo.payments.models import Payment, Refund, RefundTransition
from erhuo.payments.services import RefundError

pytestmark = pytest.mark.django_db

API = "/api/v1"
QUEUE = "/ops/payments/"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    with translation.override("en"):
        yield


def manual_paid(payer, finance, amount_fen=30_000) -> Payment:
    payment = services.payment_create(
        payer=payer, amount_fen=amount_fen, purpose="test", reference="test:r", description="押金", provider="manual"
    )
    services.payment_proof_submit(payment_id=payment.pk, payer=payer, proof=png_upload())
    return services.payment_manual_confirm(payment_id=payment.pk, actor=finance)


def failed_refund(payer, finance, amount_fen=12_000) -> Refund:
    payment = manual_paid(payer, finance)
    refund = services.refund_request(
        payment_id=payment.pk, amount_fen=amount_fen, reason="买家退货", key=f"order:{payment.pk}"
    )
    return services.refund_fail(refund_id=refund.pk, actor=finance, reason="收款账户已注销")


def snapshot() -> dict:
    return {
        "refunds": list(Refund.objects.order_by("pk").values_list("pk", "status", "amount_fen", "key")),
        "steps": RefundTransition.objects.count(),
        "entries": JournalEntry.objects.count(),
        "clearing": ledger_selectors.balance_by_code("clearing:payments"),
    }


def as_user(user, **kwargs) -> Client:
    client = Client(headers={"accept-language": "en"}, **kwargs)
    client.force_login(user)
    return client


def retry_url(refund) -> str:
    return reverse("payments:finance_refund_retry", args=[refund.pk])


# --- the service ----------------------------------------------------------------------------------------------------


def test_finance_asks_again_and_the_new_refund_pays_the_money_waiting_in_clearing(member, finance):
    failed = failed_refund(member, finance)
    assert list(selectors.failed_refunds_unretried()) == [failed]
    assert ledger_selectors.balance_by_code("clearing:payments") == 30_000

    retry = services.refund_retry(refund_id=failed.pk, actor=finance)

    assert (retry.payment_id, retry.amount_fen, retry.status, retry.key) == (
        failed.payment_id,
        12_000,
        "pending",
        f"retry:{failed.pk}",
    )
    assert retry.reason == f"Asked again after refund #{failed.pk} failed: 买家退货"
    assert retry.requested_by == finance
    assert list(selectors.failed_refunds_unretried()) == []
    # Nothing moved yet: the money stays in clearing until the retry is paid.
    assert ledger_selectors.balance_by_code("clearing:payments") == 30_000

    services.refund_manual_confirm(refund_id=retry.pk, actor=finance)

    assert ledger_selectors.balance_by_code("clearing:payments") == 18_000
    assert ledger_selectors.balance_by_code("cash:manual") == 18_000


def test_asking_again_twice_returns_the_same_retry(member, finance):
    failed = failed_refund(member, finance)

    first = services.refund_retry(refund_id=failed.pk, actor=finance)
    second = services.refund_retry(refund_id=failed.pk, actor=finance)

    assert first.pk == second.pk
    assert Refund.objects.filter(payment_id=failed.payment_id).count() == 2


def test_a_retry_that_fails_too_can_be_asked_again(member, finance):
    failed = failed_refund(member, finance)
    retry = services.refund_retry(refund_id=failed.pk, actor=finance)
    services.refund_fail(refund_id=retry.pk, actor=finance, reason="还是不行")

    assert list(selectors.failed_refunds_unretried()) == [retry]
    third = services.refund_retry(refund_id=retry.pk, actor=finance)
    assert (third.key, third.amount_fen) == (f"retry:{retry.pk}", 12_000)


def test_a_refund_that_has_not_failed_is_not_asked_again(member, finance):
    payment = manual_paid(member, finance)
    pending = services.refund_request(payment_id=payment.pk, amount_fen=5_000, reason="退货", key="p")
    before = snapshot()

    with pytest.raises(RefundError) as refused:
        services.refund_retry(refund_id=pending.pk, actor=finance)

    assert refused.value.code == "refund_not_failed"
    assert str(refused.value) == "Only a failed refund can be asked again; this one is Being refunded."
    assert snapshot() == before


def test_a_retry_never_pays_more_than_is_left_of_the_payment(member, finance):
    failed = failed_refund(member, finance, amount_fen=30_000)
    # Meanwhile another refund took part of the payment.
    services.refund_request(payment_id=failed.payment_id, amount_fen=20_000, reason="部分退款", key="other")
    before = snapshot()

    with pytest.raises(RefundError) as refused:
        services.refund_retry(refund_id=failed.pk, actor=finance)

    assert refused.value.code == "refund_exceeds_payment"
    assert snapshot() == before


@pytest.mark.parametrize("role", [roles.MEMBER, roles.CUSTOMER_SERVICE, roles.OWNER])
def test_only_finance_asks_again_and_a_refusal_changes_nothing(member, finance, role):
    failed = failed_refund(member, finance)
    before = snapshot()

    for user in (UserFactory(roles=[role]), member):
        with pytest.raises(PermissionRefused):
            services.refund_retry(refund_id=failed.pk, actor=user)

    assert snapshot() == before


# --- finance's page -------------------------------------------------------------------------------------------------


def test_the_queue_lists_failed_refunds_and_asks_again(member, finance):
    failed = failed_refund(member, finance)
    client = as_user(finance)

    page = client.get(QUEUE)

    assert [row["refund"].pk for row in page.context["failed_rows"]] == [failed.pk]
    body = page.content.decode()
    assert f'action="{retry_url(failed)}"' in body
    assert "收款账户已注销" in body and "¥120.00" in body

    response = client.post(retry_url(failed))

    assert (response.status_code, response["Location"]) == (302, QUEUE)
    retry = Refund.objects.get(key=f"retry:{failed.pk}")
    after = client.get(QUEUE)
    assert after.context["failed_rows"] == []
    assert [row["refund"].pk for row in after.context["refund_rows"]] == [retry.pk]


def test_asking_again_for_a_refund_that_did_not_fail_shows_why_on_the_page(member, finance):
    payment = manual_paid(member, finance)
    pending = services.refund_request(payment_id=payment.pk, amount_fen=5_000, reason="退货", key="p")
    before = snapshot()

    response = as_user(finance).post(retry_url(pending))

    assert response.status_code == 409
    assert "Only a failed refund can be asked again" in response.content.decode()
    assert snapshot() == before


def test_asking_again_on_the_page_needs_finance_and_the_csrf_token(member, finance):
    failed = failed_refund(member, finance)
    before = snapshot()

    for user in (UserFactory(roles=[roles.CUSTOMER_SERVICE]), member):
        assert as_user(user).post(retry_url(failed)).status_code == 403
    assert as_user(finance, enforce_csrf_checks=True).post(retry_url(failed)).status_code == 403
    assert Client().post(retry_url(failed)).status_code == 302  # to the login page

    assert snapshot() == before


# --- the API --------------------------------------------------------------------------------------------------------


def test_finance_lists_failed_refunds_and_asks_again_in_the_api(api_client, member, finance):
    failed = failed_refund(member, finance)
    api_client.login(finance)

    listed = api_client.get(f"{API}/payments/refunds/failed").json()
    assert [(r["id"], r["status"], r["amount_fen"], r["payer_id"]) for r in listed["items"]] == [
        (failed.pk, "failed", 12_000, member.pk)
    ]

    created = api_client.post(f"{API}/payments/refunds/{failed.pk}/retry")

    assert created.status_code == 201
    assert (created.json()["status"], created.json()["amount_fen"]) == ("pending", 12_000)
    assert api_client.get(f"{API}/payments/refunds/failed").json()["items"] == []
    missing = api_client.post(f"{API}/payments/refunds/999999/retry")
    assert (missing.status_code, missing.json()["code"]) == (404, "refund_not_found")


def test_only_finance_asks_again_in_the_api(api_client, member, finance):
    failed = failed_refund(member, finance)
    before = snapshot()

    for user in (UserFactory(roles=[roles.CUSTOMER_SERVICE]), member):
        api_client.login(user)
        listed = api_client.get(f"{API}/payments/refunds/failed")
        retried = api_client.post(f"{API}/payments/refunds/{failed.pk}/retry")
        assert (listed.status_code, retried.status_code, retried.json()["code"]) == (403, 403, "finance_only")

    assert snapshot() == before
