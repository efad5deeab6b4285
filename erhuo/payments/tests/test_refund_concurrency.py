"""Refunds of one payment from several threads at once, against a real database (SQLite file or PostgreSQL).

The payment's row lock (SELECT … FOR UPDATE on PostgreSQL; SQLite's
IMMEDIATE transactions serialise writers) makes the check "no more than
what is left" and the insert one step: two refunds can never add up to more
than the payment, and one key gives one refund however many ask at once.
Each thread has its own connection; on SQLite they share a copy of the
migrated test database in a file, configured as production is.
"""

import sqlite3
import threading
from contextlib import contextmanager

import pytest
from django.db import connection, connections
from django.db.utils import load_backend

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.core.errors import DomainError
from erhuo.ledger.models import JournalEntry
from erhuo.ledger.selectors import balance_by_code, ledger_problems
from erhuo.payments import services
from erhuo.payments.models import Payment, Refund

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6


@pytest.fixture(autouse=True)
def _providers(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]


def _wrapper(settings_dict):
    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")


@pytest.fixture
def real_database(transactional_db, tmp_path):
    """The settings of the database every thread connects to; the test's own thread uses it too."""
    if connection.vendor == "sqlite":
        path = tmp_path / "erhuo-refunds.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        settings_dict = {**connection.settings_dict, "NAME": str(path)}
    else:
        options = {key: value for key, value in connection.settings_dict["OPTIONS"].items() if key != "pool"}
        settings_dict = {**connection.settings_dict, "OPTIONS": options}
    test_connection = connections["default"]
    mine = _wrapper(settings_dict)
    connections["default"] = mine
    try:
        yield settings_dict
    finally:
        mine.close()
        connections["default"] = test_connection


@contextmanager
def own_connection(settings_dict):
    wrapper = _wrapper(settings_dict)
    connections["default"] = wrapper
    try:
        yield
    finally:
        wrapper.close()
        del connections["default"]


def run_at_once(settings_dict, jobs) -> list:
    """Every job in its own thread with its own connection, released together; a DomainError is a result."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list = []

    def work(index, job):
        with own_connection(settings_dict):
            try:
                barrier.wait(timeout=30)
                results[index] = job()
            except DomainError as error:
                results[index] = error
            except BaseException as error:  # reported below
                errors.append(f"job {index}: {error!r}")

    threads = [threading.Thread(target=work, args=(index, job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    assert errors == []
    return results


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
