"""The ledger pages.

- finance and the owner (`ledger.view_ledger`): the books at a glance, one
  account's statement, and reconciliation (every check, the trial balance,
  the key accounts). Read-only: the ledger is written only by its services.
- finance (`ledger.manage_payouts`): payouts: batches, a preview of the next
  one, creating it, and confirming or failing its transfers. Thin: forms
  parse, one service in `payouts.py` writes; a refusal changes nothing and
  is shown as a message on the same page.
"""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from erhuo.accounts.forms import ServiceFormMixin
from erhuo.core.errors import DomainError
from erhuo.core.money import fen_to_yuan_text, format_fen, parse_yuan
from erhuo.ledger import payouts, reconciliation, selectors
from erhuo.ledger.models import Account, PayoutBatch, PayoutLine

VIEW_PERMISSION = "ledger.view_ledger"
STATEMENT_PAGE_SIZE = 50
BATCHES_PAGE_SIZE = 20


def _permission_required(permission: str):
    def decorator(view):
        """Logged in (else the login page) and holding `permission` (else 403)."""

        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


ledger_required = _permission_required(VIEW_PERMISSION)
payouts_required = _permission_required(payouts.MANAGE_PERMISSION)


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


@ledger_required
@require_GET
def reconciliation_page(request):
    results = reconciliation.run_all()
    return render(
        request,
        "ledger/reconciliation.html",
        {
            "results": results,
            "problem_count": sum(len(result.problems) for result in results),
            "trial": selectors.trial_balance(),
            "key_accounts": list(selectors.key_accounts()),
        },
    )


# --- payouts: forms -------------------------------------------------------------------------------


class BatchCreateForm(ServiceFormMixin, forms.Form):
    minimum = forms.CharField(
        label=gettext_lazy("Pay everyone owed at least (yuan)"),
        max_length=12,
        initial=fen_to_yuan_text(payouts.DEFAULT_MINIMUM_FEN),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=gettext_lazy("Smaller balances wait for a later batch."),
    )

    def clean_minimum(self) -> int:
        try:
            minimum_fen = parse_yuan(self.cleaned_data["minimum"])
        except DomainError as error:
            raise forms.ValidationError(str(error.message)) from None
        if minimum_fen < 1:
            raise forms.ValidationError(_("At least ¥0.01."))
        return minimum_fen


class PaidForm(ServiceFormMixin, forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Transfer reference (from the bank or Alipay)"),
        max_length=payouts.REFERENCE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class FailForm(ServiceFormMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why the transfer failed (the payee may read this)"),
        max_length=payouts.REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. the Alipay account does not exist")}),
    )


# --- payouts: pages ---------------------------------------------------------------------------------


def _preview_minimum(request) -> tuple[BatchCreateForm, int]:
    """The create form and the minimum its preview uses (`?minimum=` in yuan, else the default)."""
    if "minimum" in request.GET:
        form = BatchCreateForm(request.GET)
        if form.is_valid():
            return form, form.cleaned_data["minimum"]
        return form, payouts.DEFAULT_MINIMUM_FEN
    return BatchCreateForm(), payouts.DEFAULT_MINIMUM_FEN


def _render_batches(request, *, form: BatchCreateForm, minimum_fen: int, status: int = 200):
    page = Paginator(selectors.payout_batches(), BATCHES_PAGE_SIZE).get_page(request.GET.get("page"))
    preview = list(selectors.payout_candidates(minimum_fen=minimum_fen))
    return render(
        request,
        "ledger/payouts.html",
        {
            "page": page,
            "form": form,
            "minimum_fen": minimum_fen,
            "minimum_yuan": fen_to_yuan_text(minimum_fen),
            "preview": preview,
            "preview_total_fen": sum(account.balance_fen for account in preview),
        },
        status=status,
    )


@payouts_required
@require_GET
def payout_batches(request):
    form, minimum_fen = _preview_minimum(request)
    return _render_batches(request, form=form, minimum_fen=minimum_fen)


@payouts_required
@require_POST
def payout_batch_create(request):
    form = BatchCreateForm(request.POST)
    if not form.is_valid():
        return _render_batches(request, form=form, minimum_fen=payouts.DEFAULT_MINIMUM_FEN, status=422)
    minimum_fen = form.cleaned_data["minimum"]
    try:
        batch = payouts.payout_batch_create(actor=request.user, minimum_fen=minimum_fen)
    except DomainError as error:
        messages.error(request, str(error.message))
        return _render_batches(request, form=form, minimum_fen=minimum_fen, status=error.status)
    messages.success(
        request,
        _("Payout batch #%(id)s created: transfer each line, then confirm it with the bank's reference.")
        % {"id": batch.pk},
    )
    return redirect("ledger:payout_batch", batch_id=batch.pk)


def _render_batch(request, batch_id: int, *, forms_for: dict | None = None, status: int = 200):
    batch = selectors.payout_batch_get(batch_id=batch_id)
    if batch is None:
        raise Http404
    forms_for = forms_for or {}
    rows = []
    for line in batch.lines.all():
        pending = line.status == PayoutLine.Status.PENDING
        rows.append(
            {
                "line": line,
                "is_mine": line.payee_id == request.user.pk,
                "paid_form": (forms_for.get(("paid", line.pk)) or PaidForm(prefix=f"p{line.pk}")) if pending else None,
                "fail_form": (forms_for.get(("fail", line.pk)) or FailForm(prefix=f"f{line.pk}")) if pending else None,
            }
        )
    return render(
        request,
        "ledger/payout_batch.html",
        {
            "batch": batch,
            "rows": rows,
            "has_own_line": any(row["is_mine"] and row["paid_form"] for row in rows),
            "batch_form": forms_for.get(("batch", batch.pk)) or PaidForm(prefix="batch"),
            "steps": list(batch.transitions.select_related("actor").order_by("created_at", "pk")),
            "status_labels": dict(PayoutBatch.Status.choices),
        },
        status=status,
    )


@payouts_required
@require_GET
def payout_batch(request, batch_id: int):
    return _render_batch(request, batch_id)


def _batch_action(request, batch_id: int, *, key: tuple, form, call, success: str):
    status = 422
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except DomainError as error:
            if error.status == 404:
                raise Http404 from None
            messages.error(request, str(error.message))
            status = error.status
        else:
            messages.success(request, success)
            return redirect("ledger:payout_batch", batch_id=batch_id)
    return _render_batch(request, batch_id, forms_for={key: form}, status=status)


@payouts_required
@require_POST
def payout_batch_mark_paid(request, batch_id: int):
    if not PayoutBatch.objects.filter(pk=batch_id).exists():
        raise Http404
    return _batch_action(
        request,
        batch_id,
        key=("batch", batch_id),
        form=PaidForm(request.POST, prefix="batch"),
        call=lambda data: payouts.payout_batch_mark_paid(
            batch_id=batch_id, actor=request.user, reference=data["reference"]
        ),
        success=_("Every pending payout of batch #%(id)s is confirmed paid.") % {"id": batch_id},
    )


def _line_or_404(line_id: int) -> PayoutLine:
    line = selectors.payout_line_get(line_id=line_id)
    if line is None:
        raise Http404
    return line


@payouts_required
@require_POST
def payout_line_mark_paid(request, line_id: int):
    line = _line_or_404(line_id)
    return _batch_action(
        request,
        line.batch_id,
        key=("paid", line.pk),
        form=PaidForm(request.POST, prefix=f"p{line.pk}"),
        call=lambda data: payouts.payout_line_mark_paid(
            line_id=line.pk, actor=request.user, reference=data["reference"]
        ),
        success=_("Payout #%(id)s to %(payee)s confirmed paid: %(amount)s.")
        % {"id": line.pk, "payee": line.payee.display_name, "amount": format_fen(line.amount_fen)},
    )


@payouts_required
@require_POST
def payout_line_fail(request, line_id: int):
    line = _line_or_404(line_id)
    return _batch_action(
        request,
        line.batch_id,
        key=("fail", line.pk),
        form=FailForm(request.POST, prefix=f"f{line.pk}"),
        call=lambda data: payouts.payout_line_fail(line_id=line.pk, actor=request.user, reason=data["reason"]),
        success=_("Payout #%(id)s failed: %(amount)s is back on %(payee)s's balance for the next batch.")
        % {"id": line.pk, "payee": line.payee.display_name, "amount": format_fen(line.amount_fen)},
    )


urlpatterns = [
    path("ops/ledger/", overview, name="overview"),
    path("ops/ledger/accounts/<str:code>/", statement, name="statement"),
    path("ops/reconciliation/", reconciliation_page, name="reconciliation"),
    path("ops/payouts/", payout_batches, name="payouts"),
    path("ops/payouts/create/", payout_batch_create, name="payout_batch_create"),
    path("ops/payouts/<int:batch_id>/", payout_batch, name="payout_batch"),
    path("ops/payouts/<int:batch_id>/paid/", payout_batch_mark_paid, name="payout_batch_mark_paid"),
    path("ops/payouts/lines/<int:line_id>/paid/", payout_line_mark_paid, name="payout_line_mark_paid"),
    path("ops/payouts/lines/<int:line_id>/fail/", payout_line_fail, name="payout_line_fail"),
]
