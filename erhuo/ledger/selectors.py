"""Reads of the ledger: balances, statements, and the checks reconciliation relies on."""

from django.db.models import Count, Sum

from erhuo.ledger import accounts as well_known
from erhuo.ledger.models import Account, JournalEntry, Posting


def balance_fen(account: Account | None) -> int:
    if account is None:
        return 0
    return Account.objects.filter(pk=account.pk).values_list("balance_fen", flat=True).first() or 0


def balance_by_code(code: str) -> int:
    return Account.objects.filter(code=code).values_list("balance_fen", flat=True).first() or 0


def account_by_code(code: str) -> Account | None:
    return Account.objects.filter(code=code).first()


def account_history(account: Account, *, limit: int | None = None):
    """The account's postings, newest first, with their entries."""
    postings = Posting.objects.filter(account=account).select_related("entry", "account").order_by("-pk")
    return postings[:limit] if limit else postings


def accounts_with_balances():
    return Account.objects.select_related("owner").order_by("code")


def trial_balance() -> dict:
    """Debits and credits over every posting; they are equal when the books balance."""
    totals = Posting.objects.aggregate(total=Sum("amount_fen"), count=Count("pk"))
    debits = Posting.objects.filter(amount_fen__gt=0).aggregate(s=Sum("amount_fen"))["s"] or 0
    credits = -(Posting.objects.filter(amount_fen__lt=0).aggregate(s=Sum("amount_fen"))["s"] or 0)
    return {
        "debits_fen": debits,
        "credits_fen": credits,
        "difference_fen": totals["total"] or 0,
        "postings": totals["count"],
    }


def ledger_problems() -> list[str]:
    """Every way the books could be wrong, as readable lines; empty when all is well.

    - an entry whose postings do not sum to zero, or with fewer than two;
    - an account whose stored balance differs from the sum of its postings.
    """
    problems = []
    unbalanced = (
        JournalEntry.objects.annotate(total=Sum("postings__amount_fen"), lines=Count("postings"))
        .exclude(total=0, lines__gte=2)
        .values_list("pk", "total", "lines")
    )
    for pk, total, lines in unbalanced:
        problems.append(f"entry #{pk}: {lines} postings summing to {total or 0} fen")
    sums = dict(
        Posting.objects.values_list("account_id").annotate(total=Sum("amount_fen")).values_list("account_id", "total")
    )
    for account in Account.objects.all():
        expected = account.normal_amount(sums.get(account.pk, 0) or 0)
        if expected != account.balance_fen:
            problems.append(f"account {account.code}: stored {account.balance_fen} fen, postings say {expected} fen")
    return problems


def deposit_balance_fen(user) -> int:
    return balance_by_code(well_known.deposit_code(user.pk))


def personal_data_export(*, user) -> dict:
    """The user's own ledger accounts and their postings (accounting data about them)."""
    data = []
    for account in Account.objects.filter(owner=user).order_by("code"):
        data.append(
            {
                "code": account.code,
                "name": account.name,
                "balance_fen": account.balance_fen,
                "postings": [
                    {
                        "at": p.created_at.isoformat(),
                        "kind": p.entry.kind,
                        "memo": p.entry.memo,
                        "amount_fen": account.normal_amount(p.amount_fen),
                        "balance_after_fen": p.balance_after_fen,
                    }
                    for p in account_history(account)
                ],
            }
        )
    return {"accounts": data}
