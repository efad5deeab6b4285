"""Ledger test helpers: money owed to sellers and experts, and a snapshot to prove nothing changed."""

from erhuo.ledger import accounts as well_known
from erhuo.ledger.models import Account, JournalEntry, PayoutBatch, PayoutLine
from erhuo.ledger.services import entry_post


def owe(user, amount_fen: int, *, kind: str = "seller") -> Account:
    """Book `amount_fen` as owed to `user` on `payable:<kind>:<id>` (received in the sandbox, as a sale would be)."""
    payable = well_known.payable_account(kind, user)
    entry_post(
        kind="test_owed",
        lines=[(well_known.cash_account("sandbox"), amount_fen), (payable, -amount_fen)],
        memo=f"owed to #{user.pk}",
        reference=f"test:{user.pk}",
    )
    return payable


def money_snapshot() -> tuple:
    """Everything a payout service may change: compare before and after a refusal."""
    return (
        list(PayoutBatch.objects.order_by("pk").values_list("pk", "status")),
        list(
            PayoutLine.objects.order_by("pk").values_list(
                "pk", "status", "reference", "failure_reason", "paid_at", "paid_by_id"
            )
        ),
        JournalEntry.objects.count(),
        list(Account.objects.order_by("code").values_list("code", "balance_fen")),
    )
