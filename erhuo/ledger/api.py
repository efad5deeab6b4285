"""The ledger API for finance and the owner (`ledger.view_ledger`): accounts, a statement, and the books' check.
Read-only; anyone else gets 403."""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import NotFound, PermissionRefused
from erhuo.ledger import selectors

router = Router(tags=["ledger"])

VIEW_PERMISSION = "ledger.view_ledger"


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
