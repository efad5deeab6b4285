"""Reads about seller deposits: what a seller holds, needs and did, for her, for operators and for finance.

The balance is always the ledger's (`deposit:<user_id>`); the rows here add
why money moved (a deduction's decision and evidence, a return).
"""

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.accounts import roles as role_registry
from erhuo.accounts.models import User
from erhuo.catalog.models import Item
from erhuo.ledger import accounts as ledger_accounts
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.models import Account, Posting
from erhuo.payments.models import Payment
from erhuo.trust import selectors as trust_selectors
from erhuo.trust.models import (
    DepositDeduction,
    DepositEvidencePhoto,
    DepositPolicy,
    DepositReturn,
    SellerLevel,
    SellerRecord,
    SellerVerification,
)

PURPOSE = "deposit"


def final_item_states() -> list[str]:
    """Item states with no way out: the item has left the consignment pipeline for good."""
    return [state for state, targets in Item.TRANSITIONS.items() if not targets]


@dataclass
class DepositSummary:
    balance_fen: int
    required_fen: int
    level: str
    shortfall_fen: int
    is_satisfied: bool
    is_verified: bool
    open_payment: Payment | None = None
    pending_return: DepositReturn | None = None


def required_fen_for(user, *, policy: DepositPolicy | None = None) -> int:
    return (policy or DepositPolicy.current()).required_fen(trust_selectors.seller_level(user))


def deposit_balance_fen(user) -> int:
    return ledger_selectors.deposit_balance_fen(user)


def deposit_summary(user) -> DepositSummary:
    """The seller's deposit: what she holds, what her level requires, what is missing."""
    balance = ledger_selectors.deposit_balance_fen(user)
    level = trust_selectors.seller_level(user)
    required = DepositPolicy.current().required_fen(level)
    shortfall = max(0, required - balance)
    return DepositSummary(
        balance_fen=balance,
        required_fen=required,
        level=level,
        shortfall_fen=shortfall,
        is_satisfied=shortfall == 0,
        is_verified=trust_selectors.is_verified(user),
        open_payment=open_deposit_payment(user),
        pending_return=pending_return(user),
    )


def deposit_shortfall_fen(user) -> int:
    return max(0, required_fen_for(user) - ledger_selectors.deposit_balance_fen(user))


def deposit_is_satisfied(user) -> bool:
    """The seller keeps at least the deposit her level requires (what consignment may gate on)."""
    return deposit_shortfall_fen(user) == 0


def open_deposit_payment(user) -> Payment | None:
    return Payment.objects.filter(payer=user, purpose=PURPOSE, status__in=Payment.OPEN).order_by("-created_at").first()


def deposit_payment_for_key(user, idempotency_key: str) -> Payment | None:
    key = (idempotency_key or "").strip()[:80]
    if not key:
        return None
    return Payment.objects.filter(payer=user, idempotency_key=key, purpose=PURPOSE).first()


def pending_return(user) -> DepositReturn | None:
    return DepositReturn.objects.filter(seller=user, status=DepositReturn.Status.REQUESTED).first()


@dataclass
class HistoryLine:
    posting: Posting
    amount_fen: int  # on the deposit's normal side: paid in +, deducted or returned −
    balance_after_fen: int
    deduction: DepositDeduction | None = None
    deposit_return: DepositReturn | None = None


@dataclass
class DepositHistory:
    lines: list[HistoryLine] = field(default_factory=list)
    deductions: list[DepositDeduction] = field(default_factory=list)
    returns: list[DepositReturn] = field(default_factory=list)


def _deductions_of(user):
    return (
        DepositDeduction.objects.filter(seller=user)
        .select_related("decided_by", "entry")
        .prefetch_related(Prefetch("photos", queryset=DepositEvidencePhoto.objects.order_by("pk")))
        .order_by("-created_at", "-pk")
    )


def deposit_history(user, *, limit: int | None = None) -> DepositHistory:
    """Each posting of the seller's deposit account (newest first, with its memo), the deduction or return
    behind it, and every deduction with its decision and evidence."""
    account = ledger_selectors.account_by_code(ledger_accounts.deposit_code(user.pk))
    deductions = list(_deductions_of(user))
    returns = list(DepositReturn.objects.filter(seller=user).select_related("paid_by").order_by("-created_at", "-pk"))
    lines = []
    if account is not None:
        by_entry = {d.entry_id: d for d in deductions}
        returns_by_entry = {r.entry_id: r for r in returns if r.entry_id}
        for posting in ledger_selectors.account_history(account, limit=limit):
            lines.append(
                HistoryLine(
                    posting=posting,
                    amount_fen=account.normal_amount(posting.amount_fen),
                    balance_after_fen=posting.balance_after_fen,
                    deduction=by_entry.get(posting.entry_id),
                    deposit_return=returns_by_entry.get(posting.entry_id),
                )
            )
    return DepositHistory(lines=lines, deductions=deductions, returns=returns)


def evidence_photo(photo_id: int) -> DepositEvidencePhoto | None:
    return DepositEvidencePhoto.objects.select_related("deduction").filter(pk=photo_id).first()


def _seller_levels(users) -> dict[int, str]:
    """`trust.selectors.seller_level` for many users in two queries (a verified seller has her record's
    level, everyone else is new); tests check it agrees with `seller_level` user by user."""
    ids = [user.pk for user in users]
    verified = set(
        SellerVerification.objects.filter(
            user_id__in=ids, status=SellerVerification.Status.APPROVED, expires_at__gt=timezone.now()
        ).values_list("user_id", flat=True)
    )
    recorded = dict(SellerRecord.objects.filter(user_id__in=verified).values_list("user_id", "level"))
    return {pk: (recorded.get(pk) or SellerLevel.NEW) if pk in verified else SellerLevel.NEW for pk in ids}


@dataclass
class SellerDepositRow:
    user: User
    balance_fen: int
    required_fen: int
    shortfall_fen: int
    level: str
    pending_return: bool


def sellers_with_deposits(*, query: str = "") -> list[SellerDepositRow]:
    """Every seller (the seller role) and everyone holding a deposit, with balance, requirement and shortfall.

    Sorted by the largest shortfall first, then by name: operators see who is short at the top.
    """
    deposit_accounts = Account.objects.filter(code__startswith="deposit:", owner__isnull=False)
    users = User.objects.filter(
        Q(groups__name=role_registry.SELLER) | Q(pk__in=deposit_accounts.values("owner_id"))
    ).distinct()
    if query:
        users = users.filter(Q(display_name__icontains=query) | Q(username__icontains=query))
    users = list(users.order_by("pk"))
    balances = dict(deposit_accounts.filter(owner__in=users).values_list("owner_id", "balance_fen"))
    levels = _seller_levels(users)
    returning = set(
        DepositReturn.objects.filter(seller__in=users, status=DepositReturn.Status.REQUESTED).values_list(
            "seller_id", flat=True
        )
    )
    sellers = set(
        User.objects.filter(pk__in=[user.pk for user in users], groups__name=role_registry.SELLER).values_list(
            "pk", flat=True
        )
    )
    policy = DepositPolicy.current()
    rows = []
    for user in users:
        level = levels[user.pk]
        # Someone who left (or whose verification lapsed) owes no deposit: nothing is missing.
        required = policy.required_fen(level) if user.pk in sellers else 0
        balance = balances.get(user.pk, 0)
        rows.append(
            SellerDepositRow(
                user=user,
                balance_fen=balance,
                required_fen=required,
                shortfall_fen=max(0, required - balance),
                level=level,
                pending_return=user.pk in returning,
            )
        )
    rows.sort(key=lambda row: (-row.shortfall_fen, row.user.display_name, row.user.pk))
    return rows


def returns_requested():
    """Deposit returns waiting for finance, oldest first."""
    return (
        DepositReturn.objects.filter(status=DepositReturn.Status.REQUESTED)
        .select_related("seller")
        .order_by("created_at", "pk")
    )


def deposit_return_of(*, return_id: int) -> DepositReturn | None:
    return DepositReturn.objects.select_related("seller", "paid_by").filter(pk=return_id).first()


def deposit_return_blockers(*, seller) -> list[str]:
    """Why the seller cannot ask for her deposit back now; empty when she can."""
    blockers = []
    open_payments = Payment.objects.filter(payer=seller, purpose=PURPOSE, status__in=Payment.OPEN).count()
    if open_payments:
        blockers.append(
            _("%(count)s deposit payment(s) still open: pay or cancel them first.") % {"count": open_payments}
        )
    items = Item.objects.filter(seller=seller).exclude(status__in=final_item_states()).count()
    if items:
        blockers.append(
            _("%(count)s item(s) still in consignment: wait until they are sold, returned to you or withdrawn.")
            % {"count": items}
        )
    if DepositReturn.objects.filter(seller=seller, status=DepositReturn.Status.REQUESTED).exists():
        blockers.append(_("You already asked for your deposit back; finance is on it."))
    elif ledger_selectors.deposit_balance_fen(seller) <= 0:
        blockers.append(_("There is no deposit to give back."))
    return blockers


def personal_data_export(*, user) -> dict:
    """The member's deposit: balance, requirement, each deduction with its decision, each return."""
    summary_balance = ledger_selectors.deposit_balance_fen(user)
    return {
        "deposit": {
            "balance_fen": summary_balance,
            "required_fen": required_fen_for(user),
            "deductions": [
                {
                    "at": d.created_at.isoformat(),
                    "amount_fen": d.amount_fen,
                    "violation": d.violation,
                    "decision": d.decision,
                    "item_id": d.item_id,
                    "label_code": d.label_code,
                    "evidence_photos": len(d.photos.all()),
                }
                for d in _deductions_of(user)
            ],
            "returns": [
                {
                    "requested_at": r.created_at.isoformat(),
                    "status": r.status,
                    "amount_fen": r.amount_fen,
                    "paid_at": r.paid_at.isoformat() if r.paid_at else None,
                }
                for r in DepositReturn.objects.filter(seller=user).order_by("created_at", "pk")
            ],
        }
    }
