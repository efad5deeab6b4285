"""Deposit pages: the seller's own deposit, operators' list and deductions, finance's returns.

Thin: forms parse, one service writes, selectors read. Reading a deposit page
first allocates any succeeded deposit payment not yet allocated
(`deposits_settle`), so what is shown never waits for the worker.

- member: /trust/deposit/ (any logged-in member; paying needs verification);
- operators: /ops/trust/deposits/ and one seller's deposit
  (`trust.decide_deposit_deduction` or `ledger.view_ledger` to read; the
  deduction form is for `trust.decide_deposit_deduction` only);
- finance: /ops/trust/deposit-returns/ (`trust.confirm_deposit_return`).

Evidence photos are served only through `evidence_image`, to the seller they
concern and to operators who may read deposits.
"""

import mimetypes
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erhuo.accounts.forms import ServiceFormMixin
from erhuo.accounts.models import User
from erhuo.accounts.services import personal_data_access_record
from erhuo.core.errors import DomainError
from erhuo.core.money import parse_yuan
from erhuo.ledger.accounts import deposit_code
from erhuo.payments.models import Provider
from erhuo.payments.providers import enabled_providers
from erhuo.trust import deposit_selectors as selectors
from erhuo.trust import selectors as trust_selectors
from erhuo.trust.models import DepositDeduction, DepositPolicy, SellerLevel
from erhuo.trust.services import deposits as services

DEDUCT_PERMISSION = services.DEDUCT_PERMISSION
RETURN_PERMISSION = services.RETURN_PERMISSION
LEDGER_PERMISSION = "ledger.view_ledger"
IMAGE_ACCEPT = "image/jpeg,image/png,image/webp"
LIST_PAGE_SIZE = 50


def may_read_deposits(user) -> bool:
    return user.is_authenticated and (user.has_perm(DEDUCT_PERMISSION) or user.has_perm(LEDGER_PERMISSION))


def _guard(test):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


deposit_readers_only = _guard(may_read_deposits)
deduction_deciders_only = _guard(lambda user: user.has_perm(DEDUCT_PERMISSION))
finance_only = _guard(lambda user: user.has_perm(RETURN_PERMISSION))


# --- forms ----------------------------------------------------------------------------


def _yuan(value: str, *, field: str) -> int:
    try:
        return parse_yuan(value)
    except DomainError as error:
        raise forms.ValidationError(str(error.message)) from None


class DepositPayForm(ServiceFormMixin, forms.Form):
    provider = forms.ChoiceField(label=gettext_lazy("How do you pay?"), widget=forms.RadioSelect)
    amount = forms.CharField(
        label=gettext_lazy("Amount (yuan)"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=gettext_lazy("To top up, at least ¥1."),
    )

    def __init__(self, *args, shortfall_fen: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Provider.choices)
        choices = [(name, labels.get(name, name)) for name in enabled_providers()]
        self.fields["provider"].choices = choices
        if choices:
            self.fields["provider"].initial = choices[0][0]
        if shortfall_fen:
            self.fields["amount"].help_text = gettext_lazy(
                "Leave empty to pay exactly what is missing; to top up, at least ¥1."
            )

    def clean_amount(self):
        value = (self.cleaned_data.get("amount") or "").strip()
        return _yuan(value, field="amount") if value else None


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several images in one input; the service validates each one (format, size, pixels)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": IMAGE_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleImageField, self).clean(file, initial) for file in files]


class DeductionForm(ServiceFormMixin, forms.Form):
    amount = forms.CharField(
        label=gettext_lazy("Amount to deduct (yuan)"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    violation = forms.ChoiceField(
        label=gettext_lazy("Violation"), choices=DepositDeduction.Violation.choices, widget=forms.RadioSelect
    )
    decision = forms.CharField(
        label=gettext_lazy("Decision"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("What was proven, how, and why this amount. The seller reads this."),
    )
    item_reference = forms.CharField(
        label=gettext_lazy("Item number or label code (optional)"), max_length=20, required=False
    )
    evidence_photos = MultipleImageField(
        label=gettext_lazy("Evidence photos (up to 6)"),
        help_text=gettext_lazy("Kept with the decision, shown to the seller."),
    )

    def clean_amount(self):
        return _yuan(self.cleaned_data.get("amount", ""), field="amount")


class ReturnConfirmForm(ServiceFormMixin, forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Transfer reference (optional)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. Alipay transaction number")}),
    )


# --- the seller's deposit ----------------------------------------------------------------


def _policy_rows(policy: DepositPolicy, level: str) -> list[dict]:
    return [
        {"level": value, "label": label, "required_fen": policy.required_fen(value), "is_mine": value == level}
        for value, label in SellerLevel.choices
    ]


def _render_deposit(request, *, pay_form=None, blockers=None, error: str = "", status: int = 200):
    user = request.user
    summary = selectors.deposit_summary(user)
    return render(
        request,
        "trust/deposits/mine.html",
        {
            "summary": summary,
            "level_label": SellerLevel(summary.level).label,
            "policy_rows": _policy_rows(DepositPolicy.current(), summary.level),
            "history": selectors.deposit_history(user),
            "pay_form": pay_form or DepositPayForm(shortfall_fen=summary.shortfall_fen),
            "blockers": blockers if blockers is not None else selectors.deposit_return_blockers(seller=user),
            "error": error,
            "verification_url": reverse("trust:verify"),
        },
        status=status,
    )


@login_required
@require_GET
def deposit(request):
    services.deposits_settle(seller=request.user)
    return _render_deposit(request)


@login_required
@require_POST
def deposit_pay(request):
    form = DepositPayForm(request.POST, shortfall_fen=selectors.deposit_shortfall_fen(request.user))
    status = 422
    if form.is_valid():
        try:
            payment = services.deposit_payment_start(
                seller=request.user, provider=form.cleaned_data["provider"], amount_fen=form.cleaned_data["amount"]
            )
        except DomainError as error:
            form.add_service_error(error)
            status = error.status
        else:
            return redirect("payments:pay", payment_id=payment.pk)
    return _render_deposit(request, pay_form=form, status=status)


@login_required
@require_POST
def deposit_return(request):
    try:
        services.deposit_return_request(seller=request.user)
    except DomainError as error:
        return _render_deposit(
            request,
            blockers=[str(b) for b in error.fields.get("blockers", [])],
            error=str(error.message),
            status=error.status,
        )
    messages.success(
        request,
        _("We received your request. Finance transfers your deposit back, usually within three working days."),
    )
    return redirect("trust:deposit")


@login_required
@require_POST
def deposit_return_cancel(request):
    pending = selectors.pending_return(request.user)
    if pending is None:
        raise Http404
    try:
        services.deposit_return_cancel(return_id=pending.pk, seller=request.user)
    except DomainError as error:
        return _render_deposit(request, error=str(error.message), status=error.status)
    messages.success(request, _("Your deposit stays with us; welcome back."))
    return redirect("trust:deposit")


@login_required
@require_GET
def evidence_image(request, photo_id: int):
    """An evidence photo, for the seller it concerns and for operators who may read deposits; 404 otherwise."""
    photo = selectors.evidence_photo(photo_id)
    if photo is None or (photo.deduction.seller_id != request.user.pk and not may_read_deposits(request.user)):
        raise Http404
    try:
        handle = photo.image.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    content_type = mimetypes.guess_type(photo.image.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- operators -------------------------------------------------------------------------------


@deposit_readers_only
@require_GET
def ops_deposits(request):
    query = request.GET.get("q", "").strip()[:40]
    page = Paginator(selectors.sellers_with_deposits(query=query), LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "trust/deposits/ops_list.html",
        {"page": page, "rows": page.object_list, "query": query, "level_labels": dict(SellerLevel.choices)},
    )


def _seller_or_404(user_id: int) -> User:
    seller = User.objects.filter(pk=user_id).first()
    if seller is None:
        raise Http404
    return seller


def _render_seller(request, seller: User, *, form=None, status: int = 200):
    summary = selectors.deposit_summary(seller)
    may_deduct = request.user.has_perm(DEDUCT_PERMISSION) and request.user.pk != seller.pk
    return render(
        request,
        "trust/deposits/ops_seller.html",
        {
            "seller": seller,
            "summary": summary,
            "level_label": SellerLevel(summary.level).label,
            "history": selectors.deposit_history(seller),
            "may_deduct": may_deduct,
            "ledger_code": deposit_code(seller.pk),
            "form": (form or DeductionForm()) if may_deduct else None,
        },
        status=status,
    )


@deposit_readers_only
@require_http_methods(["GET", "POST"])
def ops_seller(request, user_id: int):
    seller = _seller_or_404(user_id)
    if request.method == "GET":
        services.deposits_settle(seller=seller)
        return _render_seller(request, seller)
    if not request.user.has_perm(DEDUCT_PERMISSION):
        raise PermissionDenied
    form = DeductionForm(request.POST, request.FILES)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            deduction = services.deposit_deduct(
                seller=seller,
                actor=request.user,
                amount_fen=data["amount"],
                violation=data["violation"],
                decision=data["decision"],
                evidence_photos=data["evidence_photos"],
                item_reference=data["item_reference"],
            )
        except DomainError as error:
            form.add_service_error(error)
            status = error.status
        else:
            messages.success(
                request,
                _("Deducted from %(name)s's deposit; she sees the decision and the evidence.")
                % {"name": seller.display_name},
            )
            return redirect(f"{reverse('trust:ops_deposit_seller', args=[seller.pk])}#deduction-{deduction.pk}")
    return _render_seller(request, seller, form=form, status=status)


# --- finance ------------------------------------------------------------------------------------


def _render_returns(request, *, forms_for: dict | None = None, revealed: dict | None = None, status: int = 200):
    forms_for = forms_for or {}
    revealed = revealed or {}
    rows = []
    for request_row in selectors.returns_requested():
        verification = trust_selectors.latest_verification(request_row.seller)
        alipay = verification.alipay_account if verification is not None else ""
        rows.append(
            {
                "request": request_row,
                "balance_fen": selectors.deposit_balance_fen(request_row.seller),
                "alipay": revealed.get(request_row.pk) or trust_selectors.mask_alipay(alipay),
                "alipay_revealed": request_row.pk in revealed,
                "has_alipay": bool(alipay),
                "form": forms_for.get(request_row.pk) or ReturnConfirmForm(prefix=f"r{request_row.pk}"),
            }
        )
    return render(request, "trust/deposits/returns.html", {"rows": rows}, status=status)


@finance_only
@require_GET
def ops_returns(request):
    return _render_returns(request)


@finance_only
@require_POST
def ops_return_confirm(request, return_id: int):
    form = ReturnConfirmForm(request.POST, prefix=f"r{return_id}")
    status = 422
    if form.is_valid():
        try:
            done = services.deposit_return_confirm(
                return_id=return_id, actor=request.user, note=form.cleaned_data["note"]
            )
        except DomainError as error:
            if error.status == 404:
                raise Http404 from None
            form.add_service_error(error)
            status = error.status
        else:
            messages.success(
                request,
                _("Deposit return #%(id)s confirmed: the deposit account is settled.") % {"id": done.pk},
            )
            return redirect("trust:ops_deposit_returns")
    return _render_returns(request, forms_for={return_id: form}, status=status)


@finance_only
@require_POST
def ops_return_reveal(request, return_id: int):
    """Show the seller's Alipay account in full to transfer the deposit back; the look is logged."""
    request_row = selectors.deposit_return_of(return_id=return_id)
    if request_row is None or request_row.status != request_row.Status.REQUESTED:
        raise Http404
    verification = trust_selectors.latest_verification(request_row.seller)
    if verification is None or not verification.alipay_account:
        raise Http404
    personal_data_access_record(
        actor=request.user,
        subject=request_row.seller,
        fields=["alipay_account"],
        reason=f"deposit return #{request_row.pk}",
        request=request,
    )
    return _render_returns(request, revealed={request_row.pk: verification.alipay_account})


urlpatterns = [
    path("trust/deposit/", deposit, name="deposit"),
    path("trust/deposit/pay/", deposit_pay, name="deposit_pay"),
    path("trust/deposit/return/", deposit_return, name="deposit_return"),
    path("trust/deposit/return/cancel/", deposit_return_cancel, name="deposit_return_cancel"),
    path("trust/deposit/evidence/<int:photo_id>/", evidence_image, name="deposit_evidence"),
    path("ops/trust/deposits/", ops_deposits, name="ops_deposits"),
    path("ops/trust/deposits/<int:user_id>/", ops_seller, name="ops_deposit_seller"),
    path("ops/trust/deposit-returns/", ops_returns, name="ops_deposit_returns"),
    path("ops/trust/deposit-returns/<int:return_id>/confirm/", ops_return_confirm, name="ops_deposit_return_confirm"),
    path("ops/trust/deposit-returns/<int:return_id>/reveal/", ops_return_reveal, name="ops_deposit_return_reveal"),
]
