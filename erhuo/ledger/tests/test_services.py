"""The ledger's one write path: balanced, locked, idempotent, append-only."""

import pytest
from django.db import connection
from django.utils.translation import gettext

from erhuo.core.models import AppendOnlyError
from erhuo.ledger import accounts as well_known
from erhuo.ledger import selectors, services
from erhuo.ledger.models import Account, JournalEntry, Posting


@pytest.fixture
def cash(db):
    return services.account_for(code="cash:test", kind=Account.Kind.ASSET)


@pytest.fixture
def held(db):
    return services.account_for(code="deposit:test", kind=Account.Kind.LIABILITY)


def test_a_balanced_entry_moves_both_balances_on_their_normal_side(cash, held):
    # When ¥300 is received and held for a seller
    entry = services.entry_post(kind="deposit", lines=[(cash, 30000), (held, -30000)], reference="deposit:1")

    # Then the asset and the liability both show +¥300, and each posting records the balance after it
    assert selectors.balance_fen(cash) == 30000
    assert selectors.balance_fen(held) == 30000
    assert sorted(entry.postings.values_list("amount_fen", "balance_after_fen")) == [(-30000, 30000), (30000, 30000)]
    assert selectors.ledger_problems() == []


def test_an_unbalanced_entry_is_refused_and_nothing_is_written(cash, held):
    with pytest.raises(services.UnbalancedEntry):
        services.entry_post(kind="bad", lines=[(cash, 30000), (held, -29999)])
    with pytest.raises(services.UnbalancedEntry):
        services.entry_post(kind="bad", lines=[(cash, 100), (cash, -100)])
    with pytest.raises(services.UnbalancedEntry):
        services.entry_post(kind="bad", lines=[(cash, 1.5), (held, -1.5)])

    assert JournalEntry.objects.count() == 0
    assert Posting.objects.count() == 0
    assert selectors.balance_fen(cash) == 0


def test_the_same_key_posts_once(cash, held):
    first = services.entry_post(kind="deposit", lines=[(cash, 500), (held, -500)], key="payment:7")
    again = services.entry_post(kind="deposit", lines=[(cash, 500), (held, -500)], key="payment:7")

    assert again.pk == first.pk
    assert JournalEntry.objects.count() == 1
    assert selectors.balance_fen(held) == 500


def test_a_guarded_account_cannot_go_below_zero(cash, held):
    services.entry_post(kind="deposit", lines=[(cash, 10000), (held, -10000)])
    forfeits = well_known.forfeits_account()

    with pytest.raises(services.InsufficientBalance) as refused:
        services.entry_post(kind="deduction", lines=[(held, 10001), (forfeits, -10001)], nonnegative=(held,))

    assert refused.value.status == 409
    assert selectors.balance_fen(held) == 10000
    assert selectors.balance_fen(forfeits) == 0
    assert JournalEntry.objects.count() == 1

    # Exactly the balance is allowed
    services.entry_post(kind="deduction", lines=[(held, 10000), (forfeits, -10000)], nonnegative=(held,))
    assert selectors.balance_fen(held) == 0
    assert selectors.balance_fen(forfeits) == 10000


def test_a_reversal_restores_every_balance(cash, held):
    entry = services.entry_post(kind="deposit", lines=[(cash, 700), (held, -700)], reference="deposit:3")

    reversal = services.entry_reverse(entry=entry, kind="deposit_reversal", key="reverse:1")

    assert selectors.balance_fen(cash) == 0
    assert selectors.balance_fen(held) == 0
    assert reversal.reference == "deposit:3"
    assert selectors.ledger_problems() == []


def test_entries_and_postings_cannot_be_changed_or_deleted(cash, held):
    entry = services.entry_post(kind="deposit", lines=[(cash, 100), (held, -100)])
    posting = entry.postings.first()

    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        posting.delete()
    with pytest.raises(AppendOnlyError):
        Posting.objects.filter(pk=posting.pk).update(amount_fen=1)
    with pytest.raises(AppendOnlyError):
        JournalEntry.objects.all().delete()


def test_the_check_finds_a_balance_changed_behind_the_ledgers_back(cash, held):
    services.entry_post(kind="deposit", lines=[(cash, 100), (held, -100)])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_account SET balance_fen = 99 WHERE id = %s", [held.pk])

    assert selectors.ledger_problems() == ["account deposit:test: stored 99 fen, postings say 100 fen"]


def test_the_check_finds_an_entry_that_does_not_balance(cash, held):
    entry = services.entry_post(kind="deposit", lines=[(cash, 100), (held, -100)])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_posting SET amount_fen = 90 WHERE entry_id = %s AND amount_fen = 100", [entry.pk])

    problems = selectors.ledger_problems()

    assert f"entry #{entry.pk}: 2 postings summing to -10 fen" in problems


def test_account_for_creates_once(db):
    first = services.account_for(code="income:x", name="X", kind=Account.Kind.INCOME)
    second = services.account_for(code="income:x", name="other name", kind=Account.Kind.INCOME)

    assert first.pk == second.pk
    assert second.name == "X"


def test_erase_blockers_name_money_still_owed_but_leave_deposits_to_trust(member, cash):
    owed = well_known.payable_account("expert_commission", member)
    deposit = well_known.deposit_account(member)
    assert services.erase_blockers(user=member) == []

    services.entry_post(kind="test", lines=[(cash, 30000), (owed, -20000), (deposit, -10000)])

    assert services.erase_blockers(user=member) == [
        gettext("%(account)s still holds %(amount)s.") % {"account": owed.name, "amount": "¥200.00"}
    ]


def test_ledger_check_command(cash, held, capsys):
    from django.core.management import call_command

    services.entry_post(kind="deposit", lines=[(cash, 100), (held, -100)])
    call_command("ledger_check")

    assert "The ledger balances." in capsys.readouterr().out
