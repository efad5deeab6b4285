"""Refunds of one payment from several threads at once, against a real database (SQLite file or PostgreSQL).

The payment's row lock (SELECT … FOR UPDATE on PostgreSQL; SQLite's
IMMEDIATE transactions serialise writers) makes the check "no more than
what is left" and the insert one step: two refunds can never add up to more
than the payment, and one key gives one refund however many ask at once.
Each thread has its own connection; on SQLite they share a copy of the
migrated test database in a file, configured as production is.
"""

import pytest

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.core.errors import DomainError
from erhuo.core.testing import run_at_once
from erhuo.ledger.models import JournalEntry
from erhuo.ledger.selectors import balance_by_code, ledger_problems
from erhuo.payments import services
from erhuo.payments.models import Payment, Refund

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6


@pytest.fixture(autouse=True)
def _providers(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]


def paid_payment(amount_fen=30_000) -> Payment:
    payer = UserFactory(roles=[roles.MEMBER])
    payment = services.payment_create(
        payer=payer, amount_fen=amount_fen, purpose="test", reference="test:1", description="测试", provider="sandbox"
    )
    services.sandbox_pay(payment_id=payment.pk, payer=payer)
    return payment


def test_the_same_key_at_once_gives_one_refund_paid_once(real_database):
    payment = paid_payment()

    results = run_at_once(
        real_database,
        [
            lambda: services.refund_request(payment_id=payment.pk, amount_fen=12_000, reason="退货", key="same")
            for _ in range(THREADS)
        ],
    )

    refund = Refund.objects.get()
    assert [getattr(result, "pk", result) for result in results] == [refund.pk] * THREADS
    assert refund.status == "succeeded"
    assert JournalEntry.objects.filter(kind="refund_paid").count() == 1
    assert balance_by_code("cash:sandbox") == 18_000
    assert ledger_problems() == []


def test_refunds_with_different_keys_at_once_never_exceed_the_payment(real_database):
    payment = paid_payment()

    results = run_at_once(
        real_database,
        [
            lambda index=index: services.refund_request(
                payment_id=payment.pk, amount_fen=10_000, reason="退货", key=f"key-{index}"
            )
            for index in range(THREADS)
        ],
    )

    refunded = [result for result in results if isinstance(result, Refund)]
    refused = [result for result in results if isinstance(result, DomainError)]
    assert len(refunded) == 3
    assert [error.code for error in refused] == ["refund_exceeds_payment"] * (THREADS - 3)
    assert sum(Refund.objects.values_list("amount_fen", flat=True)) == 30_000
    assert balance_by_code("cash:sandbox") == 0
    assert ledger_problems() == []
