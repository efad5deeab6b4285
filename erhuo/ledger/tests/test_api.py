"""The ledger API: accounts, a statement and the books' check, for finance and the owner only."""

import pytest

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.ledger import accounts as well_known
from erhuo.ledger.models import Account
from erhuo.ledger.services import entry_post

pytestmark = pytest.mark.django_db

API = "/api/v1"


def hold(user, amount_fen: int) -> None:
    entry_post(
        kind="payment_received",
        lines=[(well_known.cash_account("manual"), amount_fen), (well_known.deposit_account(user), -amount_fen)],
        memo="Deposit paid in",
        reference=f"deposit:{user.pk}",
    )


@pytest.mark.parametrize("role", [roles.FINANCE, roles.OWNER])
def test_accounts_and_check(api_client, member, role):
    hold(member, 30_000)
    api_client.login(UserFactory(roles=[role]))

    accounts = api_client.get(f"{API}/ledger/accounts")
    check = api_client.get(f"{API}/ledger/check")

    assert accounts.status_code == 200
    assert [(a["code"], a["kind"], a["balance_fen"], a["owner_id"]) for a in accounts.json()["items"]] == [
        ("cash:manual", "asset", 30_000, None),
        (f"deposit:{member.pk}", "liability", 30_000, member.pk),
    ]
    assert check.json() == {
        "balances": True,
        "problems": [],
        "debits_fen": 30_000,
        "credits_fen": 30_000,
        "difference_fen": 0,
        "postings": 2,
    }


def test_postings_of_an_account(api_client, member):
    hold(member, 30_000)
    hold(member, 5_000)
    api_client.login(UserFactory(roles=[roles.FINANCE]))

    response = api_client.get(f"{API}/ledger/accounts/deposit:{member.pk}/postings")

    assert response.status_code == 200
    rows = response.json()["items"]
    assert [(r["amount_fen"], r["signed_amount_fen"], r["balance_after_fen"]) for r in rows] == [
        (5_000, -5_000, 35_000),
        (30_000, -30_000, 30_000),
    ]
    assert rows[0]["memo"] == "Deposit paid in"
    assert rows[0]["reference"] == f"deposit:{member.pk}"


def test_an_unknown_account_is_404(api_client):
    api_client.login(UserFactory(roles=[roles.FINANCE]))
    response = api_client.get(f"{API}/ledger/accounts/nope:1/postings")
    assert (response.status_code, response.json()["code"]) == (404, "account_not_found")


def test_the_check_reports_problems(api_client, member):
    hold(member, 100)
    Account.objects.filter(code="cash:manual").update(balance_fen=7)
    api_client.login(UserFactory(roles=[roles.FINANCE]))

    data = api_client.get(f"{API}/ledger/check").json()

    assert data["balances"] is False
    assert data["problems"] == ["account cash:manual: stored 7 fen, postings say 100 fen"]


@pytest.mark.parametrize("role", [roles.CUSTOMER_SERVICE, roles.MEMBER, roles.SELLER])
def test_other_roles_are_refused(api_client, member, role):
    hold(member, 100)
    api_client.login(UserFactory(roles=[role]))
    for path in ("/ledger/accounts", "/ledger/accounts/cash:manual/postings", "/ledger/check"):
        response = api_client.get(f"{API}{path}")
        assert (response.status_code, response.json()["code"]) == (403, "ledger_denied"), path
