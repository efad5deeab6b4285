"""Reconciliation: the registry of checks, `manage.py reconcile`, the page and the API."""

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.ledger import payouts, reconciliation
from erhuo.ledger.management.commands.reconcile import Command as ReconcileCommand
from erhuo.ledger.models import Account
from erhuo.ledger.tests.factories import owe

pytestmark = pytest.mark.django_db

PAGE = reverse("ledger:reconciliation")
API = "/api/v1/ledger/reconciliation"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def finance():
    return UserFactory(roles=[roles.FINANCE])


@pytest.fixture
def broken_check():
    """A registered check that finds a problem, removed again after the test."""
    reconciliation.register("test_broken", "A deliberately broken check", lambda: ["order #7 is missing 100 fen"])
    yield
    reconciliation.unregister("test_broken")


def some_money(finance) -> None:
    """A seller and an expert owed money, one batch created and half settled."""
    seller = UserFactory(roles=[roles.SELLER])
    owe(seller, 12_000)
    owe(UserFactory(roles=[roles.EXPERT]), 3_000, kind="expert_commission")
    batch = payouts.payout_batch_create(actor=finance)
    payouts.payout_line_mark_paid(line_id=batch.lines.get(payee=seller).pk, actor=finance, reference="R1")


def as_user(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def run_command(capsys) -> tuple[int, str]:
    """`manage.py reconcile` as from the shell: its exit status and what it printed."""
    command = ReconcileCommand()
    try:
        command.run_from_argv(["manage.py", "reconcile", "--skip-checks"])
    except SystemExit as exit:
        status = exit.code
    else:
        status = 0
    captured = capsys.readouterr()
    return status, captured.out + captured.err


# --- the registry ---------------------------------------------------------------------------------


def test_the_built_in_checks_run_first_and_pass_on_sound_books(finance):
    some_money(finance)

    results = reconciliation.run_all()

    assert [result.name for result in results[:2]] == ["ledger", "payouts"]
    assert all(result.ok for result in results)
    assert results[0].label == "Every entry balances and every balance matches its postings"


def test_a_registered_check_runs_after_them_and_reports_its_problems(broken_check):
    results = reconciliation.run_all()

    assert results[-1].name == "test_broken"
    assert (results[-1].label, results[-1].problems, results[-1].ok) == (
        "A deliberately broken check",
        ["order #7 is missing 100 fen"],
        False,
    )


def test_registering_the_same_name_again_replaces_the_check(broken_check):
    reconciliation.register("test_broken", "Now fine", lambda: [])

    matching = [result for result in reconciliation.run_all() if result.name == "test_broken"]

    assert [(result.label, result.problems) for result in matching] == [("Now fine", [])]


def test_a_built_in_check_cannot_be_replaced():
    with pytest.raises(ValueError):
        reconciliation.register("ledger", "Always fine", lambda: [])
    assert reconciliation.run_all()[0].problems == []


def test_a_check_that_crashes_is_a_problem_and_the_others_still_run():
    def crash():
        raise RuntimeError("no such table")

    reconciliation.register("test_crash", "Crashes", crash)
    try:
        results = {result.name: result for result in reconciliation.run_all()}
    finally:
        reconciliation.unregister("test_crash")

    assert results["test_crash"].problems == ["the check could not run: RuntimeError: no such table"]
    assert results["ledger"].ok and results["payouts"].ok


# --- the command ----------------------------------------------------------------------------------


@pytest.fixture
def _keep_the_test_connection(monkeypatch):
    # run_from_argv closes every connection when it ends; the test's transaction must outlive it.
    monkeypatch.setattr(connections, "close_all", lambda: None)


@pytest.mark.usefixtures("_keep_the_test_connection")
def test_reconcile_exits_0_and_prints_ok_for_every_check(finance, capsys):
    some_money(finance)

    status, output = run_command(capsys)

    assert status == 0
    assert "OK       ledger: Every entry balances and every balance matches its postings" in output
    assert "OK       payouts: Payouts in transit equal the payout lines still pending" in output
    assert "PROBLEM" not in output
    assert "checks pass." in output


@pytest.mark.usefixtures("_keep_the_test_connection", "broken_check")
def test_reconcile_exits_1_and_prints_the_problem_of_a_broken_check(finance, capsys):
    some_money(finance)

    status, output = run_command(capsys)

    assert status == 1
    assert "PROBLEM  test_broken: A deliberately broken check" in output
    assert "- order #7 is missing 100 fen" in output
    assert "OK       ledger" in output
    assert "1 problem(s) in: test_broken" in output


@pytest.mark.usefixtures("_keep_the_test_connection")
def test_reconcile_exits_1_when_a_balance_was_changed_behind_the_ledgers_back(finance, capsys):
    some_money(finance)
    Account.objects.filter(code="payouts:in_transit").update(balance_fen=0)

    status, output = run_command(capsys)

    assert status == 1
    assert "account payouts:in_transit: stored 0 fen, postings say 3000 fen" in output
    assert "payouts in transit hold 0 fen; pending payout lines add up to 3000 fen" in output


def test_call_command_raises_with_status_1(broken_check):
    from django.core.management import CommandError

    with pytest.raises(CommandError) as failed:
        call_command("reconcile")
    assert failed.value.returncode == 1


# --- the page -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.FINANCE, roles.OWNER])
def test_the_page_shows_every_check_the_trial_balance_and_the_key_accounts(finance, role):
    some_money(finance)

    response = as_user(UserFactory(roles=[role])).get(PAGE)

    assert response.status_code == 200
    names = [result.name for result in response.context["results"]]
    assert names[:2] == ["ledger", "payouts"]
    assert response.context["problem_count"] == 0
    assert response.context["trial"]["difference_fen"] == 0
    assert [(a.code, a.balance_fen) for a in response.context["key_accounts"]] == [
        ("cash:bank", -12_000),
        ("cash:sandbox", 15_000),
        ("payouts:in_transit", 3_000),
    ]
    html = response.content.decode()
    assert "Every check passes" in html
    assert 'data-check="payouts" data-ok="true"' in html


@pytest.mark.usefixtures("broken_check")
def test_the_page_lists_the_problems(finance):
    response = as_user(finance).get(PAGE)

    assert response.context["problem_count"] == 1
    html = response.content.decode()
    assert 'data-check="test_broken" data-ok="false"' in html
    assert "order #7 is missing 100 fen" in html
    assert "is-bad" in html


@pytest.mark.parametrize("role", [roles.MEMBER, roles.SELLER, roles.CUSTOMER_SERVICE, roles.COMMUNITY_MANAGER])
def test_others_are_refused_the_page_and_the_api(api_client, role):
    user = UserFactory(roles=[role])
    assert as_user(user).get(PAGE).status_code == 403
    api_client.login(user)
    response = api_client.get(API)
    assert (response.status_code, response.json()["code"]) == (403, "ledger_denied")


def test_the_page_needs_a_login(client):
    assert client.get(PAGE).status_code == 302


def test_the_page_runs_a_bounded_number_of_queries(finance, django_assert_max_num_queries):
    client = as_user(finance)
    some_money(finance)
    with CaptureQueriesContext(connection) as few:
        client.get(PAGE)
    for _ in range(10):
        some_money(finance)

    with django_assert_max_num_queries(len(few)):
        response = client.get(PAGE)

    assert response.context["problem_count"] == 0
    # Each registered check runs a fixed number of queries (the market's orders check four);
    # the page adds session, user and layout. What matters is that it does not grow with the data.
    assert len(few) <= 30


# --- the API --------------------------------------------------------------------------------------


@pytest.mark.usefixtures("broken_check")
def test_the_api_returns_every_check(api_client, finance):
    some_money(finance)
    api_client.login(finance)

    data = api_client.get(API, headers={"Accept-Language": "en"}).json()

    assert data["ok"] is False
    by_name = {check["name"]: check for check in data["checks"]}
    assert [check["name"] for check in data["checks"]][:2] == ["ledger", "payouts"]
    assert by_name["ledger"] == {
        "name": "ledger",
        "label": "Every entry balances and every balance matches its postings",
        "ok": True,
        "problems": [],
    }
    assert by_name["test_broken"]["problems"] == ["order #7 is missing 100 fen"]
    assert data["trial_balance"]["difference_fen"] == 0
    assert data["trial_balance"]["debits_fen"] == data["trial_balance"]["credits_fen"] > 0
