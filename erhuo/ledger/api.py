"""The ledger API.

- finance and the owner (`ledger.view_ledger`): accounts, a statement, the
  books' check and reconciliation. Read-only.
- finance (`ledger.manage_payouts`): payout batches: list, preview, create,
  detail, confirm a line or a whole batch paid, fail a line. The services
  check the permission again.

Anyone else gets 403.
"""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import NotFound, PermissionRefused
from erhuo.ledger import payouts, reconciliation, selectors

router = Router(tags=["ledger"])

VIEW_PERMISSION = "ledger.view_ledger"
ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class AccountOut(Schema):
    code: str
    name: str
    kind: str
    balance_fen: int = Field(..., description="On the account's normal side")
    owner_id: int | None


class PostingOut(Schema):
    entry_id: int
    kind: str
    memo: str
    reference: str
    amount_fen: int = Field(..., description="Effect on the account's normal-side balance (+ raises it)")
    signed_amount_fen: int = Field(..., description="Debit positive, credit negative")
    balance_after_fen: int
    created_at: datetime

    @staticmethod
    def resolve_kind(obj):
        return obj.entry.kind

    @staticmethod
    def resolve_memo(obj):
        return obj.entry.memo

    @staticmethod
    def resolve_reference(obj):
        return obj.entry.reference

    @staticmethod
    def resolve_amount_fen(obj):
        return obj.account.normal_amount(obj.amount_fen)

    @staticmethod
    def resolve_signed_amount_fen(obj):
        return obj.amount_fen


class CheckOut(Schema):
    balances: bool = Field(..., description="True when every entry sums to zero and every balance matches")
    problems: list[str]
    debits_fen: int
    credits_fen: int
    difference_fen: int
    postings: int


def _require_ledger(request) -> None:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionRefused(_("Only finance and the owner read the ledger."), code="ledger_denied")


@router.get("/ledger/accounts", response={200: list[AccountOut], 403: ErrorOut}, summary="Accounts and balances")
@paginate(PageNumberPagination, page_size=100)
def account_list(request):
    _require_ledger(request)
    return selectors.accounts_with_balances()


@router.get(
    "/ledger/accounts/{code}/postings",
    response={200: list[PostingOut], 403: ErrorOut, 404: ErrorOut},
    summary="An account's postings, newest first",
)
@paginate(PageNumberPagination, page_size=50)
def account_postings(request, code: str):
    _require_ledger(request)
    account = selectors.account_by_code(code)
    if account is None:
        raise NotFound(_("No such account."), code="account_not_found")
    return selectors.account_history(account)


@router.get("/ledger/check", response={200: CheckOut, 403: ErrorOut}, summary="Do the books balance?")
def check(request):
    _require_ledger(request)
    problems = selectors.ledger_problems()
    return Status(200, {"balances": not problems, "problems": problems, **selectors.trial_balance()})


class CheckResultOut(Schema):
    name: str
    label: str
    ok: bool
    problems: list[str]


class TrialBalanceOut(Schema):
    debits_fen: int
    credits_fen: int
    difference_fen: int
    postings: int


class ReconciliationOut(Schema):
    ok: bool = Field(..., description="True when every check passes")
    checks: list[CheckResultOut]
    trial_balance: TrialBalanceOut


@router.get(
    "/ledger/reconciliation",
    response={200: ReconciliationOut, 403: ErrorOut},
    summary="Every reconciliation check (the ledger, payouts, orders…)",
)
def reconciliation_checks(request):
    _require_ledger(request)
    results = reconciliation.run_all()
    checks = [
        {"name": result.name, "label": result.label, "ok": result.ok, "problems": result.problems} for result in results
    ]
    return Status(
        200,
        {"ok": all(result.ok for result in results), "checks": checks, "trial_balance": selectors.trial_balance()},
    )


# --- payouts ------------------------------------------------------------------------------------


class PayoutLineOut(Schema):
    id: int
    batch_id: int
    payee_id: int
    payee_name: str
    account_code: str
    amount_fen: int
    status: str
    status_label: str
    reference: str = Field(..., description="The bank's or Alipay's transfer reference, once paid")
    paid_at: datetime | None
    paid_by_id: int | None
    failure_reason: str
    created_at: datetime

    @staticmethod
    def resolve_payee_name(obj):
        return obj.payee.display_name

    @staticmethod
    def resolve_account_code(obj):
        return obj.account.code

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()


class PayoutBatchOut(Schema):
    id: int
    status: str
    status_label: str
    created_at: datetime
    created_by_id: int
    line_count: int
    total_fen: int
    paid_fen: int
    pending_fen: int
    failed_fen: int

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_total_fen(obj):
        return obj.total_fen or 0

    @staticmethod
    def resolve_paid_fen(obj):
        return obj.paid_fen or 0

    @staticmethod
    def resolve_pending_fen(obj):
        return obj.pending_fen or 0

    @staticmethod
    def resolve_failed_fen(obj):
        return obj.failed_fen or 0


class PayoutBatchDetailOut(PayoutBatchOut):
    lines: list[PayoutLineOut]

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.all())


class PayoutPreviewLineOut(Schema):
    payee_id: int
    payee_name: str
    account_code: str
    amount_fen: int


class PayoutPreviewOut(Schema):
    minimum_fen: int
    total_fen: int
    lines: list[PayoutPreviewLineOut]


MAX_MINIMUM_FEN = 100_000_000_000  # ¥1,000,000,000: a bound, so that no number reaches the database unchecked


class BatchCreateIn(Schema):
    minimum_fen: int = Field(
        payouts.DEFAULT_MINIMUM_FEN, ge=1, le=MAX_MINIMUM_FEN, description="Pay every balance of at least this"
    )


class PreviewIn(Schema):
    minimum_fen: int = Field(
        payouts.DEFAULT_MINIMUM_FEN, ge=1, le=MAX_MINIMUM_FEN, description="Pay every balance of at least this"
    )


class PaidIn(Schema):
    reference: str = Field(..., min_length=1, max_length=payouts.REFERENCE_MAX_LENGTH)


class FailIn(Schema):
    reason: str = Field(..., min_length=1, max_length=payouts.REASON_MAX_LENGTH)


def _require_payouts(request) -> None:
    if not request.user.has_perm(payouts.MANAGE_PERMISSION):
        raise PermissionRefused(_("Only finance can run payouts."), code="payouts_denied")


def _batch_detail(batch_id: int):
    batch = selectors.payout_batch_get(batch_id=batch_id)
    if batch is None:
        raise NotFound(_("Payout batch not found."), code="payout_batch_not_found")
    return batch


@router.get(
    "/ledger/payouts/batches",
    response={200: list[PayoutBatchOut], 403: ErrorOut},
    summary="Payout batches, newest first",
)
@paginate(PageNumberPagination, page_size=20)
def payout_batch_list(request):
    _require_payouts(request)
    return selectors.payout_batches()


@router.get(
    "/ledger/payouts/preview",
    response={200: PayoutPreviewOut, 403: ErrorOut, 422: ErrorOut},
    summary="Who a new batch would pay, and how much",
)
def payout_preview(request, filters: Query[PreviewIn]):
    _require_payouts(request)
    minimum_fen = filters.minimum_fen
    accounts = list(selectors.payout_candidates(minimum_fen=minimum_fen))
    lines = [
        {
            "payee_id": account.owner_id,
            "payee_name": account.owner.display_name,
            "account_code": account.code,
            "amount_fen": account.balance_fen,
        }
        for account in accounts
    ]
    return Status(200, {"minimum_fen": minimum_fen, "total_fen": sum(a.balance_fen for a in accounts), "lines": lines})


@router.post(
    "/ledger/payouts/batches",
    response={201: PayoutBatchDetailOut, **ERRORS},
    summary="Create a batch paying everyone owed at least the minimum",
)
def payout_batch_create(request, payload: BatchCreateIn = None):
    """409 `nothing_to_pay` when nobody is owed the minimum."""
    _require_payouts(request)
    minimum_fen = payload.minimum_fen if payload else payouts.DEFAULT_MINIMUM_FEN
    batch = payouts.payout_batch_create(actor=request.user, minimum_fen=minimum_fen)
    return Status(201, _batch_detail(batch.pk))


@router.get(
    "/ledger/payouts/batches/{int:batch_id}",
    response={200: PayoutBatchDetailOut, 403: ErrorOut, 404: ErrorOut},
    summary="A payout batch with its lines",
)
def payout_batch_detail(request, batch_id: int):
    _require_payouts(request)
    return Status(200, _batch_detail(batch_id))


@router.post(
    "/ledger/payouts/batches/{int:batch_id}/paid",
    response={200: PayoutBatchDetailOut, **ERRORS},
    summary="Confirm every pending line of the batch paid (one reference)",
)
def payout_batch_mark_paid(request, batch_id: int, payload: PaidIn):
    """403 `own_payout` when one of the pending lines pays the caller: a colleague confirms it."""
    _require_payouts(request)
    payouts.payout_batch_mark_paid(batch_id=batch_id, actor=request.user, reference=payload.reference)
    return Status(200, _batch_detail(batch_id))


def _line_out(line_id: int):
    line = selectors.payout_line_get(line_id=line_id)
    if line is None:
        raise NotFound(_("Payout line not found."), code="payout_line_not_found")
    return line


@router.post(
    "/ledger/payouts/lines/{int:line_id}/paid",
    response={200: PayoutLineOut, **ERRORS},
    summary="Confirm one payout transferred",
)
def payout_line_mark_paid(request, line_id: int, payload: PaidIn):
    _require_payouts(request)
    payouts.payout_line_mark_paid(line_id=line_id, actor=request.user, reference=payload.reference)
    return Status(200, _line_out(line_id))


@router.post(
    "/ledger/payouts/lines/{int:line_id}/fail",
    response={200: PayoutLineOut, **ERRORS},
    summary="The transfer bounced: put the money back on the payee's balance",
)
def payout_line_fail(request, line_id: int, payload: FailIn):
    _require_payouts(request)
    payouts.payout_line_fail(line_id=line_id, actor=request.user, reason=payload.reason)
    return Status(200, _line_out(line_id))
