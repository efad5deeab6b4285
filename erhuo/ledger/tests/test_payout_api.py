"""The payouts API: finance lists, previews, creates, confirms and fails; everyone else gets 403."""

import pytest

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.ledger import payouts, selectors
from erhuo.ledger.models import PayoutBatch
from erhuo.ledger.tests.factories import money_snapshot, owe

pytestmark = pytest.mark.django_db

API = "/api/v1/ledger/payouts"


@pytest.fixture
def finance():
    return UserFactory(roles=[roles.FINANCE])


@pytest.fixture
def seller():
    return UserFactory(roles=[roles.SELLER])


@pytest.fixture
def expert():
    return UserFactory(roles=[roles.EXPERT])


@pytest.fixture
def batch(finance, seller, expert):
    owe(seller, 12_000)
    owe(expert, 3_000, kind="expert_commission")
    return payouts.payout_batch_create(actor=finance)


def test_preview_then_create_a_batch(api_client, finance, seller, expert):
    owe(seller, 12_000)
    owe(expert, 3_000, kind="expert_commission")
    owe(UserFactory(roles=[roles.SELLER]), 99)
    api_client.login(finance)

    preview = api_client.get(f"{API}/preview")
    created = api_client.post(f"{API}/batches", {"minimum_fen": 100})

    assert preview.status_code == 200
    assert preview.json() == {
        "minimum_fen": 100,
        "total_fen": 15_000,
        "lines": [
            {
                "payee_id": expert.pk,
                "payee_name": expert.display_name,
                "account_code": f"payable:expert_commission:{expert.pk}",
                "amount_fen": 3_000,
            },
            {
                "payee_id": seller.pk,
                "payee_name": seller.display_name,
                "account_code": f"payable:seller:{seller.pk}",
                "amount_fen": 12_000,
            },
        ],
    }
    assert created.status_code == 201
    data = created.json()
    batch = PayoutBatch.objects.get()
    assert (data["id"], data["status"], data["created_by_id"]) == (batch.pk, "open", finance.pk)
    assert (data["line_count"], data["total_fen"], data["pending_fen"], data["paid_fen"], data["failed_fen"]) == (
        2,
        15_000,
        15_000,
        0,
        0,
    )
    assert [(line["payee_id"], line["account_code"], line["amount_fen"], line["status"]) for line in data["lines"]] == [
        (expert.pk, f"payable:expert_commission:{expert.pk}", 3_000, "pending"),
        (seller.pk, f"payable:seller:{seller.pk}", 12_000, "pending"),
    ]
    assert selectors.ledger_problems() == []


def test_creating_with_no_body_uses_the_default_minimum(api_client, finance, seller):
    owe(seller, 100)
    api_client.login(finance)
    response = api_client.post(f"{API}/batches")
    assert response.status_code == 201
    assert response.json()["total_fen"] == 100


def test_nothing_to_pay_is_409(api_client, finance, seller):
    owe(seller, 99)
    api_client.login(finance)
    before = money_snapshot()

    response = api_client.post(f"{API}/batches", {"minimum_fen": 100})

    assert (response.status_code, response.json()["code"]) == (409, "nothing_to_pay")
    assert money_snapshot() == before


def test_a_minimum_below_one_fen_is_422(api_client, finance, seller):
    owe(seller, 500)
    api_client.login(finance)
    before = money_snapshot()
    response = api_client.post(f"{API}/batches", {"minimum_fen": 0})
    assert response.status_code == 422
    assert money_snapshot() == before


def test_list_and_detail(api_client, finance, batch):
    api_client.login(finance)

    listed = api_client.get(f"{API}/batches")
    detail = api_client.get(f"{API}/batches/{batch.pk}")
    missing = api_client.get(f"{API}/batches/404")

    assert [(b["id"], b["total_fen"], b["line_count"]) for b in listed.json()["items"]] == [(batch.pk, 15_000, 2)]
    assert detail.status_code == 200
    assert [line["id"] for line in detail.json()["lines"]] == list(batch.lines.values_list("pk", flat=True))
    assert (missing.status_code, missing.json()["code"]) == (404, "payout_batch_not_found")


def test_mark_a_line_paid_then_fail_the_other(api_client, finance, seller, expert, batch):
    api_client.login(finance)
    seller_line = batch.lines.get(payee=seller)
    expert_line = batch.lines.get(payee=expert)

    paid = api_client.post(f"{API}/lines/{seller_line.pk}/paid", {"reference": "ALI-1"})
    failed = api_client.post(f"{API}/lines/{expert_line.pk}/fail", {"reason": "Wrong account"})

    assert paid.status_code == 200
    assert (paid.json()["status"], paid.json()["reference"], paid.json()["paid_by_id"]) == ("paid", "ALI-1", finance.pk)
    assert paid.json()["paid_at"] is not None
    assert failed.status_code == 200
    assert (failed.json()["status"], failed.json()["failure_reason"]) == ("failed", "Wrong account")
    detail = api_client.get(f"{API}/batches/{batch.pk}").json()
    assert (detail["status"], detail["paid_fen"], detail["failed_fen"], detail["pending_fen"]) == (
        "partly_paid",
        12_000,
        3_000,
        0,
    )
    assert selectors.pending_payable_fen(expert, kind="expert_commission") == 3_000
    assert selectors.ledger_problems() == selectors.payouts_problems() == []


def test_mark_the_batch_paid(api_client, finance, batch):
    api_client.login(finance)

    response = api_client.post(f"{API}/batches/{batch.pk}/paid", {"reference": "BANK-9"})

    assert response.status_code == 200
    assert response.json()["status"] == "paid"
    assert {line["reference"] for line in response.json()["lines"]} == {"BANK-9"}


def test_refusals_are_json_with_their_code_and_change_nothing(api_client, finance, seller, batch):
    line = batch.lines.get(payee=seller)
    api_client.login(finance)
    before = money_snapshot()

    no_reference = api_client.post(f"{API}/lines/{line.pk}/paid", {"reference": ""})
    no_reason = api_client.post(f"{API}/lines/{line.pk}/fail", {})
    unknown = api_client.post(f"{API}/lines/404/paid", {"reference": "R"})
    unknown_batch = api_client.post(f"{API}/batches/404/paid", {"reference": "R"})

    assert no_reference.status_code == no_reason.status_code == 422
    assert (unknown.status_code, unknown.json()["code"]) == (404, "payout_line_not_found")
    assert (unknown_batch.status_code, unknown_batch.json()["code"]) == (404, "payout_batch_not_found")
    assert money_snapshot() == before

    api_client.post(f"{API}/lines/{line.pk}/paid", {"reference": "R1"})
    again = api_client.post(f"{API}/lines/{line.pk}/paid", {"reference": "R2"})
    assert (again.status_code, again.json()["code"]) == (409, "payout_line_settled")


def test_own_payout_is_403(api_client, finance, seller):
    owe(finance, 4_000)
    batch = payouts.payout_batch_create(actor=finance)
    own = batch.lines.get(payee=finance)
    api_client.login(finance)
    before = money_snapshot()

    line = api_client.post(f"{API}/lines/{own.pk}/paid", {"reference": "R"})
    whole = api_client.post(f"{API}/batches/{batch.pk}/paid", {"reference": "R"})

    assert (line.status_code, line.json()["code"]) == (403, "own_payout")
    assert (whole.status_code, whole.json()["code"]) == (403, "own_payout")
    assert money_snapshot() == before


@pytest.mark.parametrize("role", [roles.MEMBER, roles.SELLER, roles.CUSTOMER_SERVICE, roles.OWNER])
def test_everyone_but_finance_is_refused_every_route_and_nothing_changes(api_client, seller, batch, role):
    line = batch.lines.get(payee=seller)
    owe(UserFactory(roles=[roles.SELLER]), 3_000)
    api_client.login(UserFactory(roles=[role]))
    before = money_snapshot()

    responses = {
        "list": api_client.get(f"{API}/batches"),
        "preview": api_client.get(f"{API}/preview"),
        "detail": api_client.get(f"{API}/batches/{batch.pk}"),
        "create": api_client.post(f"{API}/batches", {"minimum_fen": 100}),
        "batch paid": api_client.post(f"{API}/batches/{batch.pk}/paid", {"reference": "R"}),
        "line paid": api_client.post(f"{API}/lines/{line.pk}/paid", {"reference": "R"}),
        "line fail": api_client.post(f"{API}/lines/{line.pk}/fail", {"reason": "x"}),
    }

    for name, response in responses.items():
        assert (response.status_code, response.json()["code"]) == (403, "payouts_denied"), name
    assert money_snapshot() == before


def test_without_a_token_it_is_401(api_client, batch):
    assert api_client.get(f"{API}/batches").status_code == 401
    assert api_client.post(f"{API}/batches", {}).status_code == 401


def test_the_preview_minimum_is_bounded(api_client, finance, seller):
    owe(seller, 500)
    api_client.login(finance)

    assert [line["amount_fen"] for line in api_client.get(f"{API}/preview", minimum_fen=500).json()["lines"]] == [500]
    assert api_client.get(f"{API}/preview", minimum_fen=501).json()["lines"] == []
    assert api_client.get(f"{API}/preview", minimum_fen=0).status_code == 422
    assert api_client.get(f"{API}/preview", minimum_fen=10**20).status_code == 422
    assert api_client.post(f"{API}/batches", {"minimum_fen": 10**20}).status_code == 422
