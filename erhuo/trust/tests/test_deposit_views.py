"""Deposit pages: the seller's deposit, operators' list and deduction form, finance's returns, evidence photos.

Every page refuses the wrong role (403, or 404 for what is someone else's)
and a refused form changes nothing.
"""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.models import PersonalDataAccess, User
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

MINE = reverse("trust:deposit")
OPS_LIST = reverse("trust:ops_deposits")
RETURNS = reverse("trust:ops_deposit_returns")


@pytest.fixture(autouse=True)
def _sandbox_and_english(settings):
    enable_sandbox(settings)
    with translation.override("en"):
        yield


@pytest.fixture
def seller(db):
    return make_verified_seller(display_name="林小雨")


@pytest.fixture
def kefu(db):
    return make_reviewer()


@pytest.fixture
def finance(db):
    return make_finance()


def as_user(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def seller_url(user) -> str:
    return reverse("trust:ops_deposit_seller", args=[user.pk])


def deduct(kefu, seller, amount_fen=5_000, photos=1) -> DepositDeduction:
    return services.deposit_deduct(
        seller=seller,
        actor=kefu,
        amount_fen=amount_fen,
        violation="misrepresentation",
        decision="描述与实物不符：袖口有破损。",
        evidence_photos=[evidence_photo(f"{n}.png") for n in range(photos)],
    )


# --- the seller's page ----------------------------------------------------------------------


def test_the_deposit_page_shows_what_is_held_required_and_missing(seller):
    response = as_user(seller).get(MINE)

    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary.balance_fen, summary.required_fen, summary.shortfall_fen) == (0, 30_000, 30_000)
    body = response.content.decode()
    assert "Trust lowers what is at stake" in body
    assert "Pay the ¥300.00 missing" in body


def test_the_page_allocates_a_payment_the_handler_missed(seller):
    payment = services.deposit_payment_start(seller=seller, provider="sandbox")
    from erhuo.payments import services as payment_services

    payment_services.sandbox_pay(payment_id=payment.pk, payer=seller)
    assert ledger_selectors.deposit_balance_fen(seller) == 0

    response = as_user(seller).get(MINE)

    assert response.context["summary"].balance_fen == 30_000


def test_paying_from_the_page_goes_to_the_pay_page(seller):
    response = as_user(seller).post(reverse("trust:deposit_pay"), {"provider": "sandbox", "amount": ""})

    payment = Payment.objects.get(payer=seller)
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:pay", args=[payment.pk])
    assert (payment.amount_fen, payment.provider) == (30_000, "sandbox")


def test_a_member_who_is_not_verified_is_told_so_and_cannot_pay(member):
    client = as_user(member)
    assert b"Only verified sellers pay a deposit." in client.get(MINE).content

    before = deposit_snapshot()
    response = client.post(reverse("trust:deposit_pay"), {"provider": "manual"})

    assert response.status_code == 403
    assert deposit_snapshot() == before


def test_a_top_up_below_one_yuan_is_refused_on_the_form(seller):
    pay_deposit(seller)
    before = deposit_snapshot()

    response = as_user(seller).post(reverse("trust:deposit_pay"), {"provider": "manual", "amount": "0.5"})

    assert response.status_code == 422
    assert response.context["pay_form"].errors["amount"] == ["Between ¥1.00 and ¥10,000.00."]
    assert deposit_snapshot() == before


def test_history_shows_postings_and_each_deduction_with_its_decision_and_evidence(seller, kefu):
    pay_deposit(seller)
    deduction = deduct(kefu, seller)

    response = as_user(seller).get(MINE)

    history = response.context["history"]
    assert [line.amount_fen for line in history.lines] == [-5_000, 30_000]
    body = response.content.decode()
    assert "描述与实物不符：袖口有破损。" in body
    photo = deduction.photos.get()
    assert reverse("trust:deposit_evidence", args=[photo.pk]) in body
    assert "decided by" not in body  # the seller sees the decision, not who of the staff decided


def test_leaving_with_an_item_in_the_pipeline_lists_the_blocker_and_changes_nothing(seller):
    pay_deposit(seller)
    Item.objects.create(seller=seller, title="包", category=Category.objects.first(), status=Item.Status.LISTED)
    client = as_user(seller)
    assert b"still in consignment" in client.get(MINE).content
    before = deposit_snapshot()

    response = client.post(reverse("trust:deposit_return"))

    assert response.status_code == 409
    assert response.context["blockers"] == [
        "1 item(s) still in consignment: wait until they are sold, returned to you or withdrawn."
    ]
    assert deposit_snapshot() == before


def test_leaving_and_staying_after_all(seller):
    pay_deposit(seller)
    client = as_user(seller)

    response = client.post(reverse("trust:deposit_return"))
    assert response.status_code == 302
    request = DepositReturn.objects.get(seller=seller)
    assert request.status == "requested"
    assert not User.objects.get(pk=seller.pk).has_role(roles.SELLER)

    response = client.post(reverse("trust:deposit_return_cancel"))
    assert response.status_code == 302
    assert DepositReturn.objects.get(pk=request.pk).status == "cancelled"
    assert User.objects.get(pk=seller.pk).has_role(roles.SELLER)


def test_the_pages_need_a_login(client):
    for url in (MINE, OPS_LIST, RETURNS):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


# --- evidence photos ----------------------------------------------------------------------------------


def test_evidence_photos_are_for_the_seller_and_deposit_operators_only(seller, kefu, other_member, finance):
    pay_deposit(seller)
    photo = deduct(kefu, seller).photos.get()
    url = reverse("trust:deposit_evidence", args=[photo.pk])

    for user in (seller, kefu, UserFactory(roles=[roles.OWNER])):
        response = as_user(user).get(url)
        assert response.status_code == 200, user
        assert response["Cache-Control"] == "private, no-store"
        assert response["Content-Type"] == "image/png"
    assert as_user(finance).get(url).status_code == 200  # finance reads the ledger
    assert as_user(other_member).get(url).status_code == 404
    assert as_user(UserFactory(roles=[roles.INTAKE_CLERK])).get(url).status_code == 404


# --- operators ---------------------------------------------------------------------------------------


def test_the_operator_list_shows_sellers_shortest_first(seller, kefu):
    pay_deposit(seller)
    short = make_verified_seller(display_name="王小花")

    response = as_user(kefu).get(OPS_LIST)

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(row.user.pk, row.shortfall_fen) for row in rows] == [(short.pk, 30_000), (seller.pk, 0)]


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INTAKE_CLERK, roles.COMMUNITY_MANAGER, roles.SELLER])
def test_the_operator_pages_refuse_other_roles(seller, role):
    client = as_user(UserFactory(roles=[role]))
    for url in (OPS_LIST, seller_url(seller), RETURNS):
        assert client.get(url).status_code == 403, url


def test_a_deduction_through_the_form(seller, kefu):
    pay_deposit(seller)

    response = as_user(kefu).post(
        seller_url(seller),
        {
            "amount": "120",
            "violation": "counterfeit",
            "decision": "鉴定为仿品。",
            "item_reference": "42",
            "evidence_photos": [evidence_photo("a.png"), evidence_photo("b.png")],
        },
    )

    deduction = DepositDeduction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{seller_url(seller)}#deduction-{deduction.pk}"
    assert (deduction.amount_fen, deduction.item_id, deduction.photos.count()) == (12_000, 42, 2)
    assert ledger_selectors.deposit_balance_fen(seller) == 18_000


def test_a_deduction_larger_than_the_balance_is_refused_on_the_form_and_nothing_changes(seller, kefu):
    pay_deposit(seller)
    before = deposit_snapshot()

    response = as_user(kefu).post(
        seller_url(seller),
        {"amount": "300.01", "violation": "other", "decision": "违规", "evidence_photos": [evidence_photo()]},
    )

    assert response.status_code == 409
    assert response.context["form"].errors["amount"] == ["At most ¥300.00."]
    assert deposit_snapshot() == before


def test_finance_reads_a_sellers_deposit_but_cannot_deduct(seller, finance):
    pay_deposit(seller)
    client = as_user(finance)

    response = client.get(seller_url(seller))
    assert response.status_code == 200
    assert response.context["form"] is None

    before = deposit_snapshot()
    response = client.post(seller_url(seller), {"amount": "1", "violation": "other", "decision": "x"})
    assert response.status_code == 403
    assert deposit_snapshot() == before


def test_an_unknown_seller_is_404(kefu):
    assert as_user(kefu).get(reverse("trust:ops_deposit_seller", args=[999_999])).status_code == 404


# --- finance: returns ------------------------------------------------------------------------------


def test_finance_confirms_a_return(seller, finance):
    pay_deposit(seller)
    request = services.deposit_return_request(seller=seller)
    client = as_user(finance)

    page = client.get(RETURNS)
    assert [row["request"].pk for row in page.context["rows"]] == [request.pk]
    assert page.context["rows"][0]["alipay"] == "139****5678"  # masked until revealed

    response = client.post(
        reverse("trust:ops_deposit_return_confirm", args=[request.pk]), {f"r{request.pk}-note": "OK"}
    )

    assert response.status_code == 302
    assert DepositReturn.objects.get(pk=request.pk).status == "paid"
    assert ledger_selectors.deposit_balance_fen(seller) == 0


def test_revealing_the_alipay_account_is_logged(seller, finance):
    pay_deposit(seller)
    request = services.deposit_return_request(seller=seller)

    response = as_user(finance).post(reverse("trust:ops_deposit_return_reveal", args=[request.pk]))

    assert response.status_code == 200
    assert response.context["rows"][0]["alipay"] == "13912345678"
    access = PersonalDataAccess.objects.get()
    assert (access.actor, access.subject, access.fields) == (finance, seller, ["alipay_account"])


@pytest.mark.parametrize("role", [roles.CUSTOMER_SERVICE, roles.OWNER])
def test_only_finance_confirms_returns_on_the_page(seller, role):
    pay_deposit(seller)
    request = services.deposit_return_request(seller=seller)
    client = as_user(UserFactory(roles=[role]))
    before = deposit_snapshot()

    assert client.get(RETURNS).status_code == 403
    assert client.post(reverse("trust:ops_deposit_return_confirm", args=[request.pk])).status_code == 403
    assert client.post(reverse("trust:ops_deposit_return_reveal", args=[request.pk])).status_code == 403
    assert deposit_snapshot() == before
    assert PersonalDataAccess.objects.count() == 0
