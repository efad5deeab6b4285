"""Every write to the ledger goes through `entry_post`.

It checks that the lines balance, locks the accounts it touches in a fixed
order (primary key) so two entries on the same accounts cannot deadlock,
re-reads their balances under the lock, refuses an entry that would take a
guarded account below zero, then writes the entry, its postings (with the
balance after each) and the new balances with F() expressions, in one
transaction. An entry with an idempotency key is written once: posting it
again returns the first one.
"""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from erhuo.core.errors import Conflict, ValidationFailed
from erhuo.core.money import format_fen
from erhuo.ledger.models import Account, JournalEntry, Posting


class InsufficientBalance(Conflict):
    code = "insufficient_balance"


class UnbalancedEntry(ValidationFailed):
    code = "unbalanced_entry"


def account_for(*, code: str, name: str = "", kind: str, owner=None) -> Account:
    """The account with this code, created on first use."""
    if kind not in Account.Kind.values:
        raise ValidationFailed(f"unknown account kind {kind!r}", code="account_kind_invalid")
    account = Account.objects.filter(code=code).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(code=code, name=name or code, kind=kind, owner=owner)
    except IntegrityError:
        # Someone created it between our read and our insert.
        return Account.objects.get(code=code)


def entry_post(
    *,
    kind: str,
    lines: list[tuple[Account, int]],
    memo: str = "",
    reference: str = "",
    key: str | None = None,
    actor=None,
    nonnegative: tuple[Account, ...] = (),
) -> JournalEntry:
    """Post a balanced journal entry and return it.

    `lines` are (account, signed amount in fen): debit positive, credit
    negative. Lines on the same account are merged. Accounts in
    `nonnegative` may not end below zero on their normal side
    (`InsufficientBalance`, nothing written).
    """
    merged: dict[int, int] = {}
    accounts: dict[int, Account] = {}
    for account, amount in lines:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise UnbalancedEntry(_("Amounts are whole numbers of fen."))
        merged[account.pk] = merged.get(account.pk, 0) + amount
        accounts[account.pk] = account
    merged = {pk: amount for pk, amount in merged.items() if amount != 0}
    if len(merged) < 2:
        raise UnbalancedEntry(_("A journal entry moves money between at least two accounts."))
    if sum(merged.values()) != 0:
        raise UnbalancedEntry(_("A journal entry must balance: debits equal credits."))
    guarded = {account.pk for account in nonnegative}

    with transaction.atomic():
        if key is not None:
            existing = JournalEntry.objects.filter(key=key).first()
            if existing is not None:
                return existing
        locked = {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=merged).order_by("pk")}
        new_balances = {pk: locked[pk].balance_fen + locked[pk].normal_amount(amount) for pk, amount in merged.items()}
        for pk in guarded & set(merged):
            if new_balances[pk] < 0:
                account = locked[pk]
                raise InsufficientBalance(
                    _("Not enough in “%(account)s”: the balance is %(balance)s.")
                    % {"account": account.name, "balance": format_fen(account.balance_fen)}
                )
        try:
            with transaction.atomic():
                entry = JournalEntry.objects.create(
                    kind=kind, memo=(memo or "")[:300], reference=reference, key=key, actor=actor
                )
        except IntegrityError:
            # The same key was posted concurrently; the first one stands.
            return JournalEntry.objects.get(key=key)
        Posting.objects.bulk_create(
            [
                Posting(entry=entry, account_id=pk, amount_fen=amount, balance_after_fen=new_balances[pk])
                for pk, amount in sorted(merged.items())
            ]
        )
        for pk, amount in merged.items():
            Account.objects.filter(pk=pk).update(balance_fen=F("balance_fen") + locked[pk].normal_amount(amount))
            if pk in accounts:
                accounts[pk].balance_fen = new_balances[pk]
    return entry


def entry_reverse(*, entry: JournalEntry, kind: str, memo: str = "", key: str | None = None, actor=None):
    """Post the exact opposite of `entry` (a correction; entries are never edited)."""
    postings = list(entry.postings.select_related("account"))
    return entry_post(
        kind=kind,
        lines=[(posting.account, -posting.amount_fen) for posting in postings],
        memo=memo or _("Reversal of entry #%(id)s") % {"id": entry.pk},
        reference=entry.reference,
        key=key,
        actor=actor,
    )


def erase_blockers(*, user) -> list[str]:
    """Money still held for or owed to the user: the account cannot be erased until it is settled.

    Deposit accounts are left to trust, which says the same thing with what to do about it.
    """
    return [
        _("%(account)s still holds %(amount)s.") % {"account": account.name, "amount": format_fen(account.balance_fen)}
        for account in Account.objects.filter(owner=user)
        .exclude(balance_fen=0)
        .exclude(code__startswith="deposit:")
        .order_by("code")
    ]


def personal_data_erase(*, user) -> None:
    """Nothing to erase: ledger rows are accounting records kept by law; they name the user only by id."""
