"""Payout pages for finance: the batches, a preview, creating a batch, confirming and failing its transfers."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.ledger import payouts, selectors
from erhuo.ledger.models import PayoutBatch, PayoutLine
from erhuo.ledger.tests.factories import money_snapshot, owe

pytestmark = pytest.mark.django_db

LIST = reverse("ledger:payouts")
CREATE = reverse("ledger:payout_batch_create")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def finance():
    return UserFactory(roles=[roles.FINANCE])


@pytest.fixture
def seller():
    return UserFactory(roles=[roles.SELLER])


def as_user(user, **kwargs) -> Client:
    client = Client(headers={"accept-language": "en"}, **kwargs)
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def batch_url(batch) -> str:
    return reverse("ledger:payout_batch", args=[batch.pk])


def line_paid_url(line) -> str:
    return reverse("ledger:payout_line_mark_paid", args=[line.pk])


def line_fail_url(line) -> str:
    return reverse("ledger:payout_line_fail", args=[line.pk])


def batch_paid_url(batch) -> str:
    return reverse("ledger:payout_batch_mark_paid", args=[batch.pk])


# --- the list and the preview -----------------------------------------------------------------


def test_the_page_previews_who_gets_what(finance, seller):
    expert = UserFactory(roles=[roles.EXPERT])
    small = UserFactory(roles=[roles.SELLER])
    owe(seller, 12_345)
    owe(expert, 5_000, kind="expert_commission")
    owe(small, 99)

    response = as_user(finance).get(LIST)

    assert response.status_code == 200
    assert [(a.code, a.balance_fen) for a in response.context["preview"]] == [
        (f"payable:expert_commission:{expert.pk}", 5_000),
        (f"payable:seller:{seller.pk}", 12_345),
    ]
    assert response.context["preview_total_fen"] == 17_345
    html = response.content.decode()
    assert "2 payees owed at least ¥1.00: ¥173.45 in all." in html
    assert 'data-testid="create-batch"' in html
    assert 'name="minimum" value="1.00"' in html


def test_the_preview_follows_the_minimum(finance, seller):
    owe(seller, 12_345)
    owe(UserFactory(roles=[roles.SELLER]), 5_000)

    response = as_user(finance).get(LIST, {"minimum": "100"})

    assert response.context["minimum_fen"] == 10_000
    assert [a.code for a in response.context["preview"]] == [f"payable:seller:{seller.pk}"]
    assert 'name="minimum" value="100.00"' in response.content.decode()


def test_an_invalid_minimum_previews_with_the_default_and_says_why(finance, seller):
    owe(seller, 500)
    response = as_user(finance).get(LIST, {"minimum": "abc"})
    assert response.context["minimum_fen"] == 100
    assert response.context["form"].errors["minimum"]


def test_nobody_owed_says_so(finance):
    response = as_user(finance).get(LIST)
    assert response.context["preview"] == []
    assert 'data-testid="preview-empty"' in response.content.decode()
    assert 'data-testid="create-batch"' not in response.content.decode()


# --- creating -----------------------------------------------------------------------------------


def test_creating_a_batch_redirects_to_it(finance, seller):
    owe(seller, 12_345)
    owe(UserFactory(roles=[roles.SELLER]), 150)

    response = as_user(finance).post(CREATE, {"minimum": "2"})

    batch = PayoutBatch.objects.get()
    assert response.status_code == 302
    assert response.url == batch_url(batch)
    assert [(line.payee_id, line.amount_fen) for line in batch.lines.all()] == [(seller.pk, 12_345)]
    assert messages_of(response) == [
        f"Payout batch #{batch.pk} created: transfer each line, then confirm it with the bank's reference."
    ]
    assert selectors.ledger_problems() == []


def test_nothing_to_pay_is_a_message_and_nothing_changes(finance, seller):
    owe(seller, 50)
    before = money_snapshot()

    response = as_user(finance).post(CREATE, {"minimum": "1"})

    assert response.status_code == 409
    assert messages_of(response) == ["Nobody is owed at least ¥1.00 right now: there is nothing to pay."]
    assert "Nobody is owed at least ¥1.00 right now" in response.content.decode()
    assert money_snapshot() == before


@pytest.mark.parametrize("minimum", ["", "abc", "0", "1.234"])
def test_an_invalid_minimum_creates_nothing(finance, seller, minimum):
    owe(seller, 5_000)
    before = money_snapshot()

    response = as_user(finance).post(CREATE, {"minimum": minimum})

    assert response.status_code == 422
    assert response.context["form"].errors["minimum"]
    assert money_snapshot() == before


# --- a batch ------------------------------------------------------------------------------------


@pytest.fixture
def batch(finance, seller):
    owe(seller, 12_000)
    owe(UserFactory(roles=[roles.EXPERT]), 3_000, kind="expert_commission")
    return payouts.payout_batch_create(actor=finance)


def test_the_batch_page_lists_its_lines_with_their_forms(finance, batch):
    response = as_user(finance).get(batch_url(batch))

    assert response.status_code == 200
    # Lines in the order they were created: accounts by code, experts' commissions before sellers'
    assert [row["line"].amount_fen for row in response.context["rows"]] == [3_000, 12_000]
    assert {row["line"].pk for row in response.context["rows"]} == set(batch.lines.values_list("pk", flat=True))
    assert all(row["paid_form"] and row["fail_form"] for row in response.context["rows"])
    html = response.content.decode()
    assert html.count('data-testid="line-paid"') == 2
    assert html.count('data-testid="line-fail"') == 2
    assert 'data-testid="batch-paid"' in html


def test_marking_a_line_paid(finance, seller, batch):
    line = batch.lines.get(payee=seller)

    response = as_user(finance).post(line_paid_url(line), {f"p{line.pk}-reference": "ALI-0001"})

    assert response.status_code == 302
    assert response.url == batch_url(batch)
    line.refresh_from_db()
    assert (line.status, line.reference, line.paid_by) == ("paid", "ALI-0001", finance)
    assert messages_of(response) == [f"Payout #{line.pk} to {seller.display_name} confirmed paid: ¥120.00."]
    page = as_user(finance).get(batch_url(batch)).content.decode()
    assert "ALI-0001" in page
    assert page.count('data-testid="line-paid"') == 1


def test_a_line_without_a_reference_is_not_paid(finance, seller, batch):
    line = batch.lines.get(payee=seller)
    before = money_snapshot()

    response = as_user(finance).post(line_paid_url(line), {f"p{line.pk}-reference": ""})

    assert response.status_code == 422
    row = next(row for row in response.context["rows"] if row["line"].pk == line.pk)
    assert row["paid_form"].errors["reference"]
    assert money_snapshot() == before


def test_failing_a_line_puts_the_money_back(finance, seller, batch):
    line = batch.lines.get(payee=seller)

    response = as_user(finance).post(line_fail_url(line), {f"f{line.pk}-reason": "Account closed"})

    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.status, line.failure_reason) == ("failed", "Account closed")
    assert selectors.pending_payable_fen(seller) == 12_000
    assert messages_of(response) == [
        f"Payout #{line.pk} failed: ¥120.00 is back on {seller.display_name}'s balance for the next batch."
    ]


def test_marking_the_batch_paid(finance, batch):
    response = as_user(finance).post(batch_paid_url(batch), {"batch-reference": "BANK-7"})

    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.PAID
    assert set(batch.lines.values_list("status", "reference")) == {("paid", "BANK-7")}
    page = as_user(finance).get(batch_url(batch)).content.decode()
    assert 'data-testid="batch-paid"' not in page
    assert 'data-testid="line-paid"' not in page


def test_a_settled_line_is_refused_with_a_message(finance, seller, batch):
    line = batch.lines.get(payee=seller)
    payouts.payout_line_mark_paid(line_id=line.pk, actor=finance, reference="R1")
    before = money_snapshot()

    response = as_user(finance).post(line_fail_url(line), {f"f{line.pk}-reason": "oops"})

    assert response.status_code == 409
    assert messages_of(response) == [f"Payout #{line.pk} is already settled: Paid."]
    assert money_snapshot() == before


def test_ones_own_payout_shows_no_paid_form_and_is_refused(finance, seller):
    owe(finance, 4_000)
    owe(seller, 1_000)
    batch = payouts.payout_batch_create(actor=finance)
    own = batch.lines.get(payee=finance)
    client = as_user(finance)

    page = client.get(batch_url(batch))
    rows = {row["line"].pk: row for row in page.context["rows"]}
    assert rows[own.pk]["is_mine"] is True
    assert page.context["has_own_line"] is True
    assert 'data-testid="batch-paid"' not in page.content.decode()
    before = money_snapshot()

    line_response = client.post(line_paid_url(own), {f"p{own.pk}-reference": "R"})
    batch_response = client.post(batch_paid_url(batch), {"batch-reference": "R"})

    assert line_response.status_code == batch_response.status_code == 403
    assert messages_of(line_response) == [
        f"Nobody confirms a payout to themselves: payout #{own.pk} is yours; ask a colleague."
    ]
    assert money_snapshot() == before


def test_unknown_batches_and_lines_are_404(finance):
    client = as_user(finance)
    assert client.get(reverse("ledger:payout_batch", args=[404])).status_code == 404
    assert (
        client.post(reverse("ledger:payout_batch_mark_paid", args=[404]), {"batch-reference": "R"}).status_code == 404
    )
    assert client.post(reverse("ledger:payout_line_mark_paid", args=[404]), {"p404-reference": "R"}).status_code == 404
    assert client.post(reverse("ledger:payout_line_fail", args=[404]), {"f404-reason": "x"}).status_code == 404


def test_a_post_without_the_csrf_token_is_refused(finance, seller, batch):
    line = batch.lines.get(payee=seller)
    client = as_user(finance, enforce_csrf_checks=True)
    before = money_snapshot()

    for url, data in [
        (CREATE, {"minimum": "1"}),
        (line_paid_url(line), {f"p{line.pk}-reference": "R"}),
        (line_fail_url(line), {f"f{line.pk}-reason": "x"}),
        (batch_paid_url(batch), {"batch-reference": "R"}),
    ]:
        assert client.post(url, data).status_code == 403, url

    assert money_snapshot() == before


def test_the_forms_carry_the_csrf_token(finance, batch):
    html = as_user(finance).get(batch_url(batch)).content.decode()
    # Five payout forms (two per line, one for the batch), plus the site's own (logging out)
    assert html.count('name="csrfmiddlewaretoken"') == html.count('method="post"') >= 5


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.MEMBER, roles.SELLER, roles.CUSTOMER_SERVICE, roles.OWNER])
def test_everyone_but_finance_is_refused_every_page_and_nothing_changes(finance, seller, batch, role):
    line = batch.lines.get(payee=seller)
    owe(UserFactory(roles=[roles.SELLER]), 3_000)
    client = as_user(UserFactory(roles=[role]))
    before = money_snapshot()

    assert client.get(LIST).status_code == 403
    assert client.get(batch_url(batch)).status_code == 403
    assert client.post(CREATE, {"minimum": "1"}).status_code == 403
    assert client.post(line_paid_url(line), {f"p{line.pk}-reference": "R"}).status_code == 403
    assert client.post(line_fail_url(line), {f"f{line.pk}-reason": "x"}).status_code == 403
    assert client.post(batch_paid_url(batch), {"batch-reference": "R"}).status_code == 403

    assert money_snapshot() == before


def test_the_pages_need_a_login(client, batch):
    assert client.get(LIST).status_code == 302
    assert client.post(CREATE, {"minimum": "1"}).status_code == 302
    assert PayoutBatch.objects.count() == 1


# --- queries ------------------------------------------------------------------------------------


def test_the_pages_run_a_bounded_number_of_queries(finance, django_assert_max_num_queries):
    client = as_user(finance)
    for _ in range(2):
        owe(UserFactory(roles=[roles.SELLER]), 1_000)
    first = payouts.payout_batch_create(actor=finance)
    owe(UserFactory(roles=[roles.SELLER]), 1_000)
    with CaptureQueriesContext(connection) as list_few:
        client.get(LIST)
    with CaptureQueriesContext(connection) as detail_few:
        client.get(batch_url(first))

    for _ in range(15):
        owe(UserFactory(roles=[roles.SELLER]), 1_000)
    big = payouts.payout_batch_create(actor=finance)
    payouts.payout_line_mark_paid(line_id=big.lines.first().pk, actor=finance, reference="R")
    payouts.payout_line_fail(line_id=big.lines.last().pk, actor=finance, reason="x")
    for _ in range(15):
        owe(UserFactory(roles=[roles.SELLER]), 1_000)

    with django_assert_max_num_queries(len(list_few)):
        listed = client.get(LIST)
    with django_assert_max_num_queries(len(detail_few)):
        detailed = client.get(batch_url(big))

    assert len(listed.context["preview"]) == 16
    assert len(detailed.context["rows"]) == 16
    assert PayoutLine.objects.filter(batch=big).count() == 16
    assert len(list_few) <= 20
    assert len(detail_few) <= 20
