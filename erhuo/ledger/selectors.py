"""Reads of the ledger: balances, statements, and the checks reconciliation relies on."""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Sum

from erhuo.ledger import accounts as well_known
from erhuo.ledger.models import Account, JournalEntry, PayoutBatch, PayoutLine, Posting

# Who is paid out: sellers for their sales, experts for their commissions.
PAYABLE_PREFIXES = ("payable:seller:", "payable:expert_commission:")
# The accounts the reconciliation page shows on top: money in the bank and the providers (to compare with
# their statements), held for others, on its way, or earned.
KEY_ACCOUNT_PREFIXES = ("cash:", "escrow:", "clearing:", "payouts:", "income:")


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


# --- payouts ------------------------------------------------------------------------------------


def payout_candidates(*, minimum_fen: int = 100, prefixes: tuple[str, ...] = PAYABLE_PREFIXES):
    """The payable accounts a new batch would pay, with their owners, by code.

    An account is paid when its code starts with one of `prefixes`, it has an
    owner, holds at least `minimum_fen`, and is not already in a pending line
    (that line's money has left the account already; what came in since waits
    for the next batch).
    """
    if not prefixes:
        return Account.objects.none()
    code_filter = Q()
    for prefix in prefixes:
        code_filter |= Q(code__startswith=prefix)
    pending = PayoutLine.objects.filter(account=OuterRef("pk"), status=PayoutLine.Status.PENDING)
    return (
        Account.objects.filter(code_filter, owner__isnull=False, balance_fen__gte=max(minimum_fen, 1))
        .exclude(Exists(pending))
        .select_related("owner")
        .order_by("code")
    )


def payout_batches():
    """Batches, newest first, with their number of lines and totals (paid, pending, failed)."""
    S = PayoutLine.Status
    return (
        PayoutBatch.objects.select_related("created_by")
        .annotate(
            line_count=Count("lines"),
            total_fen=Sum("lines__amount_fen"),
            paid_fen=Sum("lines__amount_fen", filter=Q(lines__status=S.PAID)),
            pending_fen=Sum("lines__amount_fen", filter=Q(lines__status=S.PENDING)),
            failed_fen=Sum("lines__amount_fen", filter=Q(lines__status=S.FAILED)),
            pending_count=Count("lines", filter=Q(lines__status=S.PENDING)),
        )
        .order_by("-created_at", "-pk")
    )


def payout_batch_get(*, batch_id: int) -> PayoutBatch | None:
    """One batch with its totals and its lines (payee, account, who confirmed), or None."""
    lines = PayoutLine.objects.select_related("payee", "account", "paid_by").order_by("pk")
    return payout_batches().prefetch_related(Prefetch("lines", queryset=lines)).filter(pk=batch_id).first()


def payout_line_get(*, line_id: int) -> PayoutLine | None:
    return PayoutLine.objects.select_related("batch", "payee", "account", "paid_by").filter(pk=line_id).first()


def payouts_for(user):
    """A payee's payout lines, newest first, with their batch."""
    return PayoutLine.objects.filter(payee=user).select_related("batch", "account").order_by("-created_at", "-pk")


def pending_payable_fen(user, kind: str = "seller") -> int:
    """What the user is owed and not yet batched for payout (the balance of `payable:<kind>:<user>`)."""
    return balance_by_code(well_known.payable_code(kind, user.pk))


def payouts_problems() -> list[str]:
    """Every way the payouts' money could fail to add up; empty when it does.

    - `payouts:in_transit` holds exactly the pending lines' amounts;
    - each line: what the ledger moved into and out of transit for it equals
      its amount while pending, zero once paid or failed, and a paid line
      took its amount out of the bank.
    """
    S = PayoutLine.Status
    problems = []
    pending = PayoutLine.objects.filter(status=S.PENDING).aggregate(total=Sum("amount_fen"))["total"] or 0
    in_transit = balance_by_code(well_known.PAYOUTS_IN_TRANSIT)
    if in_transit != pending:
        problems.append(f"payouts in transit hold {in_transit} fen; pending payout lines add up to {pending} fen")

    def sums_by_reference(code: str) -> dict[str, int]:
        return dict(
            Posting.objects.filter(account__code=code, entry__reference__startswith="payout-line:")
            .values_list("entry__reference")
            .annotate(total=Sum("amount_fen"))
            .values_list("entry__reference", "total")
        )

    transit = sums_by_reference(well_known.PAYOUTS_IN_TRANSIT)
    bank = sums_by_reference(well_known.cash_code(well_known.BANK))
    for line in PayoutLine.objects.only("pk", "status", "amount_fen").order_by("pk"):
        held = -(transit.get(line.reference_key) or 0)  # a liability: credits are positive here
        should = line.amount_fen if line.status == S.PENDING else 0
        if held != should:
            problems.append(f"payout line #{line.pk} ({line.status}): in transit {held} fen, should be {should}")
        paid_out = -(bank.get(line.reference_key) or 0)
        should_pay = line.amount_fen if line.status == S.PAID else 0
        if paid_out != should_pay:
            problems.append(
                f"payout line #{line.pk} ({line.status}): {paid_out} fen left the bank, should be {should_pay}"
            )
    return problems


def key_accounts():
    """Cash, escrow, clearing, payouts in transit and income accounts, by code: what reconciliation shows first."""
    code_filter = Q()
    for prefix in KEY_ACCOUNT_PREFIXES:
        code_filter |= Q(code__startswith=prefix)
    return Account.objects.filter(code_filter).order_by("code")
