"""The ledger pages for finance and the owner (`ledger.view_ledger`): the books at a glance, and one account's
statement. Read-only: the ledger is written only by its services."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from erhuo.ledger import selectors
from erhuo.ledger.models import Account

VIEW_PERMISSION = "ledger.view_ledger"
STATEMENT_PAGE_SIZE = 50


def ledger_required(view):
    """Logged in (else the login page) and allowed to read the ledger (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm(VIEW_PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def accounts_by_kind() -> list[dict]:
    """Accounts grouped by kind (assets, liabilities, equity, income, expenses), each group with its total."""
    groups = {
        kind: {"kind": kind, "label": label, "accounts": [], "total_fen": 0} for kind, label in Account.Kind.choices
    }
    for account in selectors.accounts_with_balances():
        group = groups[account.kind]
        group["accounts"].append(account)
        group["total_fen"] += account.balance_fen
    return [group for group in groups.values() if group["accounts"]]


@ledger_required
@require_GET
def overview(request):
    return render(
        request,
        "ledger/overview.html",
        {
            "groups": accounts_by_kind(),
            "trial": selectors.trial_balance(),
            "problems": selectors.ledger_problems(),
        },
    )


@ledger_required
@require_GET
def statement(request, code: str):
    account = selectors.account_by_code(code)
    if account is None:
        raise Http404
    postings = selectors.account_history(account).select_related("entry__actor")
    page = Paginator(postings, STATEMENT_PAGE_SIZE).get_page(request.GET.get("page"))
    lines = [
        {"posting": posting, "amount_fen": account.normal_amount(posting.amount_fen)} for posting in page.object_list
    ]
    return render(request, "ledger/statement.html", {"account": account, "page": page, "lines": lines})


urlpatterns = [
    path("ops/ledger/", overview, name="overview"),
    path("ops/ledger/accounts/<str:code>/", statement, name="statement"),
]
