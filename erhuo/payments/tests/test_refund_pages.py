"""Refund pages: finance's queue at /ops/payments/ lists manual refunds to pay back and confirms them (CSRF,
finance only, nothing changed otherwise); the payer's pay page shows her refunds; Alipay's pay button."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.core.testing import png_upload
from erhuo.ledger.models import JournalEntry
from erhuo.payments import services
from erhuo.payments.models import Payment, Refund, RefundTransition
from erhuo.payments.tests import fakes

pytestmark = pytest.mark.django_db

QUEUE = "/ops/payments/"


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


def pending_refund(payer, finance, amount_fen=10_000) -> Refund:
    payment = manual_paid(payer, finance)
    return services.refund_request(
        payment_id=payment.pk, amount_fen=amount_fen, reason="买家退货", key=f"k{payment.pk}"
    )


def as_user(user, **kwargs) -> Client:
    client = Client(headers={"accept-language": "en"}, **kwargs)
    client.force_login(user)
    return client


def confirm_url(refund) -> str:
    return reverse("payments:finance_refund_confirm", args=[refund.pk])


def snapshot() -> dict:
    return {
        "refunds": list(Refund.objects.order_by("pk").values_list("pk", "status", "confirmed_by_id")),
        "steps": RefundTransition.objects.count(),
        "entries": JournalEntry.objects.count(),
    }


def test_the_queue_lists_refunds_to_pay_back_with_a_confirm_form(member, other_member, finance):
    first = pending_refund(member, finance)
    second = pending_refund(other_member, finance, amount_fen=5_000)

    response = as_user(finance).get(QUEUE)

    assert response.status_code == 200
    assert [row["refund"].pk for row in response.context["refund_rows"]] == [first.pk, second.pk]
    body = response.content.decode()
    assert f'action="{confirm_url(first)}"' in body
    assert "csrfmiddlewaretoken" in body
    assert "2 refunds waiting, oldest first" in body
    assert "¥100.00" in body and "买家退货" in body


def test_finance_confirms_a_refund_from_the_queue(member, finance):
    refund = pending_refund(member, finance)

    response = as_user(finance).post(confirm_url(refund), {f"f{refund.pk}-note": "微信转回"})

    assert (response.status_code, response["Location"]) == (302, QUEUE)
    refund.refresh_from_db()
    assert (refund.status, refund.confirmed_by, refund.transitions.last().note) == ("succeeded", finance, "微信转回")
    assert JournalEntry.objects.filter(key=f"refund:{refund.pk}").count() == 1
    assert as_user(finance).get(QUEUE).context["refund_rows"] == []


def test_confirming_without_the_csrf_token_is_refused_and_changes_nothing(member, finance):
    refund = pending_refund(member, finance)
    before = snapshot()

    response = as_user(finance, enforce_csrf_checks=True).post(confirm_url(refund), {f"f{refund.pk}-note": ""})

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("role", [roles.MEMBER, roles.OWNER, roles.CUSTOMER_SERVICE, roles.COMMUNITY_MANAGER])
def test_only_finance_confirms_refunds_and_a_refusal_changes_nothing(member, finance, role):
    refund = pending_refund(member, finance)
    before = snapshot()

    for user in (UserFactory(roles=[role]), member):
        assert as_user(user).post(confirm_url(refund), {f"f{refund.pk}-note": ""}).status_code == 403

    assert snapshot() == before
    assert Client().post(confirm_url(refund)).status_code == 302  # to the login page
    assert snapshot() == before


def test_a_refund_to_finance_themselves_is_refused_on_the_page(finance):
    other_finance = UserFactory(roles=[roles.FINANCE])
    refund = pending_refund(finance, other_finance)
    before = snapshot()

    response = as_user(finance).post(confirm_url(refund), {f"f{refund.pk}-note": ""})

    assert response.status_code == 403
    assert "Nobody confirms a refund to themselves." in response.content.decode()
    assert snapshot() == before


def test_the_queue_with_refunds_runs_a_constant_number_of_queries(finance, django_assert_max_num_queries):
    client = as_user(finance)
    for _ in range(2):
        pending_refund(UserFactory(roles=[roles.MEMBER]), finance)
    with CaptureQueriesContext(connection) as few:
        client.get(QUEUE)
    for _ in range(12):
        pending_refund(UserFactory(roles=[roles.MEMBER]), finance)

    with django_assert_max_num_queries(len(few)):
        response = client.get(QUEUE)

    assert len(response.context["refund_rows"]) == 14


def test_the_payer_sees_her_refunds_on_the_pay_page(member, finance):
    refund = pending_refund(member, finance)
    payment = refund.payment

    page = as_user(member).get(reverse("payments:pay", args=[payment.pk]))
    assert "Finance sends it back to you the way you paid" in page.content.decode()

    services.refund_manual_confirm(refund_id=refund.pk, actor=finance)
    page = as_user(member).get(reverse("payments:pay", args=[payment.pk]))

    body = page.content.decode()
    assert [r.pk for r in page.context["refunds"]] == [refund.pk]
    assert "¥100.00 paid back to you." in body
    assert "Refunded" in body


def test_the_alipay_pay_page_links_to_alipay(member, alipay):
    payment = services.payment_create(
        payer=member, amount_fen=30_000, purpose="test", reference="t", description="押金", provider="alipay"
    )

    page = as_user(member).get(reverse("payments:pay", args=[payment.pk]))

    body = page.content.decode()
    assert page.context["instructions"]["url"].startswith("https://openapi.alipay.com/gateway.do?")
    assert 'data-testid="provider-pay-link"' in body
    assert "Pay ¥300.00 with Alipay" in body


def test_the_queue_shows_refunds_still_waiting_for_a_provider(member, finance, alipay):
    payment = services.payment_create(
        payer=member, amount_fen=30_000, purpose="test", reference="t", description="押金", provider="alipay"
    )
    body = fakes.alipay_notification(fakes.alipay_trade_params(payment))
    services.notification_receive(provider="alipay", body=body, headers={})
    # Asked, but the call to Alipay (after commit) has not happened: it waits.
    refund = services.refund_request(payment_id=payment.pk, amount_fen=12_000, reason="退货", key="k")

    response = as_user(finance).get(QUEUE)

    assert [r.pk for r in response.context["provider_refunds"]] == [refund.pk]
    assert response.context["refund_rows"] == []
    assert 'data-testid="provider-refunds"' in response.content.decode()
