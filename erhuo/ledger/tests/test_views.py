"""Ledger pages: the books at a glance and one account's statement, for finance and the owner only."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.ledger import accounts as well_known
from erhuo.ledger.models import Account
from erhuo.ledger.services import entry_post

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("ledger:overview")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def as_user(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def receive_and_hold(user, amount_fen: int) -> None:
    """Money received in the sandbox, then held as the user's deposit."""
    entry_post(
        kind="payment_received",
        lines=[(well_known.cash_account("sandbox"), amount_fen), (well_known.clearing_account(), -amount_fen)],
        memo="Payment",
    )
    entry_post(
        kind="deposit_paid",
        lines=[(well_known.clearing_account(), amount_fen), (well_known.deposit_account(user), -amount_fen)],
        memo="Deposit paid in",
    )


@pytest.mark.parametrize("role", [roles.FINANCE, roles.OWNER])
def test_the_overview_groups_accounts_and_says_the_books_balance(member, role):
    receive_and_hold(member, 30_000)

    response = as_user(UserFactory(roles=[role])).get(OVERVIEW)

    assert response.status_code == 200
    groups = {group["kind"]: group for group in response.context["groups"]}
    assert groups["asset"]["total_fen"] == 30_000
    assert groups["liability"]["total_fen"] == 30_000
    assert [a.code for a in groups["liability"]["accounts"]] == ["clearing:payments", f"deposit:{member.pk}"]
    assert response.context["problems"] == []
    assert response.context["trial"]["difference_fen"] == 0
    assert b"The books balance" in response.content


def test_the_overview_lists_problems_in_red(member):
    receive_and_hold(member, 30_000)
    # A balance changed behind the ledger's back.
    Account.objects.filter(code="clearing:payments").update(balance_fen=5)

    response = as_user(UserFactory(roles=[roles.FINANCE])).get(OVERVIEW)

    assert response.context["problems"] == ["account clearing:payments: stored 5 fen, postings say 0 fen"]
    assert b"is-bad" in response.content


def test_a_statement_newest_first_on_the_normal_side(member):
    receive_and_hold(member, 30_000)
    entry_post(
        kind="deposit_deducted",
        lines=[(well_known.deposit_account(member), 5_000), (well_known.forfeits_account(), -5_000)],
        memo="Deducted",
    )

    response = as_user(UserFactory(roles=[roles.FINANCE])).get(
        reverse("ledger:statement", args=[f"deposit:{member.pk}"])
    )

    assert response.status_code == 200
    assert [(line["amount_fen"], line["posting"].balance_after_fen) for line in response.context["lines"]] == [
        (-5_000, 25_000),
        (30_000, 30_000),
    ]
    assert "Deducted" in response.content.decode()


def test_an_unknown_account_is_404():
    response = as_user(UserFactory(roles=[roles.FINANCE])).get(reverse("ledger:statement", args=["nope:1"]))
    assert response.status_code == 404


@pytest.mark.parametrize("role", [roles.CUSTOMER_SERVICE, roles.MEMBER, roles.SELLER, roles.COMMUNITY_MANAGER])
def test_other_roles_are_refused(member, role):
    receive_and_hold(member, 100)
    client = as_user(UserFactory(roles=[role]))
    assert client.get(OVERVIEW).status_code == 403
    assert client.get(reverse("ledger:statement", args=["clearing:payments"])).status_code == 403


def test_the_pages_need_a_login(client):
    response = client.get(OVERVIEW)
    assert response.status_code == 302


def test_the_overview_runs_a_constant_number_of_queries(django_assert_max_num_queries):
    client = as_user(UserFactory(roles=[roles.FINANCE]))
    for _ in range(2):
        receive_and_hold(UserFactory(roles=[roles.MEMBER]), 1_000)
    with CaptureQueriesContext(connection) as few:
        client.get(OVERVIEW)
    for _ in range(20):
        receive_and_hold(UserFactory(roles=[roles.MEMBER]), 1_000)

    with django_assert_max_num_queries(len(few)):
        response = client.get(OVERVIEW)

    assert response.context["trial"]["debits_fen"] == 44_000
    assert len(few) <= 15


def test_the_statement_runs_a_constant_number_of_queries(django_assert_max_num_queries):
    client = as_user(UserFactory(roles=[roles.FINANCE]))
    url = reverse("ledger:statement", args=["clearing:payments"])
    receive_and_hold(UserFactory(roles=[roles.MEMBER]), 1_000)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(10):
        receive_and_hold(UserFactory(roles=[roles.MEMBER]), 1_000)

    with django_assert_max_num_queries(len(few)):
        response = client.get(url)

    assert len(response.context["lines"]) == 22
