"""The deposit API: my deposit, paying in with an idempotency key, leaving, operators' deductions, finance's returns.

A wrong role gets 403 and nothing changes; someone else's things are 404.
"""

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from erhuo.accounts import roles
from erhuo.accounts.services import api_token_issue
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Category, Item
from erhuo.ledger import selectors as ledger_selectors
from erhuo.payments.models import Payment
from erhuo.trust.models import DepositDeduction, DepositReturn
from erhuo.trust.services import deposits as services
from erhuo.trust.tests.factories import (
    deposit_snapshot,
    enable_sandbox,
    evidence_photo,
    make_finance,
    make_reviewer,
    make_verified_seller,
    pay_deposit,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _sandbox_and_english(settings):
    enable_sandbox(settings)
    with translation.override("en"):
        yield


@pytest.fixture
def seller(db):
    return make_verified_seller(display_name="林小雨")


def bearer(user) -> dict:
    _row, token = api_token_issue(user=user, name="test")
    return {"Authorization": f"Bearer {token}", "accept-language": "en"}


def test_my_deposit(api_client, seller):
    pay_deposit(seller)
    kefu = make_reviewer()
    services.deposit_deduct(
        seller=seller,
        actor=kefu,
        amount_fen=1_000,
        violation="other",
        decision="违规",
        evidence_photos=[evidence_photo()],
    )
    api_client.login(seller)

    response = api_client.get(f"{API}/trust/deposit")

    assert response.status_code == 200
    data = response.json()
    assert (data["balance_fen"], data["required_fen"], data["shortfall_fen"], data["is_satisfied"]) == (
        29_000,
        30_000,
        1_000,
        False,
    )
    assert [line["amount_fen"] for line in data["history"]] == [-1_000, 30_000]
    assert data["history"][0]["deduction_id"] == data["deductions"][0]["id"]
    assert data["deductions"][0]["decision"] == "违规"
    assert data["deductions"][0]["photos"][0]["url"].startswith("/trust/deposit/evidence/")
    assert data["return_blockers"] == []


def test_starting_a_payment_with_an_idempotency_key_is_201_then_200(api_client, seller):
    api_client.login(seller)
    headers = {"Idempotency-Key": "phone-retry-1"}

    first = api_client.post(f"{API}/trust/deposit/payments", {"provider": "sandbox"}, headers=headers)
    again = api_client.post(f"{API}/trust/deposit/payments", {"provider": "sandbox"}, headers=headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert first.json()["amount_fen"] == 30_000
    assert first.json()["pay_url"] == f"/pay/{first.json()['id']}/"
    assert Payment.objects.count() == 1


def test_a_second_payment_without_a_key_while_one_is_open_is_409(api_client, seller):
    api_client.login(seller)
    api_client.post(f"{API}/trust/deposit/payments", {"provider": "manual"})

    response = api_client.post(f"{API}/trust/deposit/payments", {"provider": "manual"})

    assert response.status_code == 409
    assert response.json()["code"] == "deposit_payment_open"
    assert Payment.objects.count() == 1


def test_a_member_who_is_not_verified_gets_403(api_client, member):
    api_client.login(member)
    before = deposit_snapshot()

    response = api_client.post(f"{API}/trust/deposit/payments", {"provider": "manual"})

    assert (response.status_code, response.json()["code"]) == (403, "seller_not_verified")
    assert deposit_snapshot() == before


def test_leaving_blocked_then_allowed_then_cancelled(api_client, seller):
    pay_deposit(seller)
    item = Item.objects.create(seller=seller, title="包", category=Category.objects.first(), status=Item.Status.PRICED)
    api_client.login(seller)

    blocked = api_client.post(f"{API}/trust/deposit/return")
    assert blocked.status_code == 409
    assert blocked.json()["code"] == "deposit_return_blocked"
    assert blocked.json()["errors"]["blockers"] == [
        gettext("%(count)s item(s) still in consignment: wait until they are sold, returned to you or withdrawn.")
        % {"count": 1}
    ]
    assert DepositReturn.objects.count() == 0

    Item.objects.filter(pk=item.pk).update(status=Item.Status.WITHDRAWN)
    created = api_client.post(f"{API}/trust/deposit/return")
    assert created.status_code == 201
    assert (created.json()["status"], created.json()["amount_fen"]) == ("requested", 30_000)

    cancelled = api_client.delete(f"{API}/trust/deposit/return")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert api_client.delete(f"{API}/trust/deposit/return").status_code == 404


def test_operators_list_deposits(api_client, seller):
    pay_deposit(seller)
    api_client.login(make_reviewer())

    response = api_client.get(f"{API}/trust/deposits")

    assert response.status_code == 200
    assert [(row["user_id"], row["balance_fen"]) for row in response.json()["items"]] == [(seller.pk, 30_000)]


@pytest.mark.parametrize("role", [roles.MEMBER, roles.SELLER, roles.INTAKE_CLERK])
def test_the_operator_list_refuses_other_roles(api_client, role):
    api_client.login(UserFactory(roles=[role]))
    assert api_client.get(f"{API}/trust/deposits").status_code == 403


def test_a_deduction_with_evidence_photos_multipart(client, seller):
    pay_deposit(seller)
    kefu = make_reviewer()

    response = client.post(
        f"{API}/trust/deposits/{seller.pk}/deductions",
        {
            "amount_fen": "8000",
            "violation": "missed_shipping",
            "decision": "超过 72 小时未发货。",
            "item_reference": "EH00000042",
            "evidence_photos": [evidence_photo("a.png"), evidence_photo("b.png")],
        },
        headers=bearer(kefu),
    )

    assert response.status_code == 201
    data = response.json()
    assert (data["amount_fen"], data["violation"], data["label_code"], len(data["photos"])) == (
        8_000,
        "missed_shipping",
        "EH00000042",
        2,
    )
    assert ledger_selectors.deposit_balance_fen(seller) == 22_000


def test_a_deduction_larger_than_the_balance_is_409_and_nothing_changes(client, seller):
    pay_deposit(seller)
    before = deposit_snapshot()

    response = client.post(
        f"{API}/trust/deposits/{seller.pk}/deductions",
        {"amount_fen": "30001", "violation": "other", "decision": "x", "evidence_photos": [evidence_photo()]},
        headers=bearer(make_reviewer()),
    )

    assert (response.status_code, response.json()["code"]) == (409, "insufficient_balance")
    assert deposit_snapshot() == before


@pytest.mark.parametrize("role", [roles.FINANCE, roles.MEMBER, roles.COMMUNITY_MANAGER])
def test_a_deduction_by_another_role_is_403_and_nothing_changes(client, seller, role):
    pay_deposit(seller)
    before = deposit_snapshot()

    response = client.post(
        f"{API}/trust/deposits/{seller.pk}/deductions",
        {"amount_fen": "100", "violation": "other", "decision": "x"},
        headers=bearer(UserFactory(roles=[role])),
    )

    assert response.status_code == 403
    assert deposit_snapshot() == before
    assert DepositDeduction.objects.count() == 0


def test_finance_lists_and_confirms_returns(api_client, seller):
    pay_deposit(seller)
    request = services.deposit_return_request(seller=seller)
    api_client.login(make_finance())

    listed = api_client.get(f"{API}/trust/deposit-returns")
    assert [row["id"] for row in listed.json()] == [request.pk]
    response = api_client.post(f"{API}/trust/deposit-returns/{request.pk}/confirm", {"note": "已转账"})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["amount_fen"]) == ("paid", 30_000)
    assert ledger_selectors.deposit_balance_fen(seller) == 0


@pytest.mark.parametrize("role", [roles.CUSTOMER_SERVICE, roles.OWNER])
def test_only_finance_confirms_returns_through_the_api(api_client, seller, role):
    pay_deposit(seller)
    request = services.deposit_return_request(seller=seller)
    api_client.login(UserFactory(roles=[role]))
    before = deposit_snapshot()

    assert api_client.get(f"{API}/trust/deposit-returns").status_code == 403
    assert api_client.post(f"{API}/trust/deposit-returns/{request.pk}/confirm").status_code == 403
    assert deposit_snapshot() == before


def test_the_deposit_api_needs_authentication():
    client = Client()
    assert client.get(f"{API}/trust/deposit").status_code == 401
