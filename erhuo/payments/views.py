"""Payment pages: the payer's pay page, and finance's queue of manual transfers and refunds.

Thin: forms parse, one service writes, selectors read. A payment exists only
for its payer (another member gets 404, as if it did not exist); finance
(`payments.confirm_manual_payment`) works the queue: transfers to confirm,
and refunds of manual transfers to pay back by hand. The transfer
screenshots are personal: they are never linked by their storage URL, only
through `proof_image`, which checks that the viewer is the payer or finance.
"""

import mimetypes
import re
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from erhuo.accounts.forms import ServiceFormMixin
from erhuo.core.errors import DomainError
from erhuo.payments import selectors, services
from erhuo.payments.models import Payment, Provider
from erhuo.payments.providers import enabled_providers

FINANCE_PERMISSION = services.CONFIRM_PERMISSION
QUEUE_PAGE_SIZE = 30
REFUND_QUEUE_LIMIT = 100
IMAGE_ACCEPT = "image/jpeg,image/png,image/webp"


def finance_required(view):
    """Logged in (else the login page) and finance (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm(FINANCE_PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


# --- forms ------------------------------------------------------------------------


class ProofForm(ServiceFormMixin, forms.Form):
    proof = forms.FileField(
        label=gettext_lazy("Screenshot of the transfer"),
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT}),
        help_text=gettext_lazy("JPEG, PNG or WebP. The amount, time and the note must be readable."),
    )
    note = forms.CharField(
        label=gettext_lazy("Note for finance (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. paid from my husband's Alipay")}),
    )


class ConfirmForm(ServiceFormMixin, forms.Form):
    note = forms.CharField(label=gettext_lazy("Note (optional)"), max_length=300, required=False)


class RefundConfirmForm(ServiceFormMixin, forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. sent back by Alipay transfer")}),
    )


class RetryForm(ServiceFormMixin, forms.Form):
    """No field: the button asks again for the failed refund's amount; the form carries its errors."""


class RejectForm(ServiceFormMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why the transfer is not accepted (the payer reads this)"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. no transfer of this amount arrived")}),
    )


# --- the payer ----------------------------------------------------------------------


def _own_payment_or_404(request, payment_id: int) -> Payment:
    payment = selectors.payment_of(payment_id=payment_id, payer=request.user)
    if payment is None:
        raise Http404
    return payment


MOBILE_AGENT = re.compile(r"Mobile|Android|iPhone|iPad|MicroMessenger|HarmonyOS", re.IGNORECASE)


def client_hints(request) -> dict:
    """What a provider's start needs to know of the payer's device: a phone (Alipay's wap page), their IP
    (WeChat Pay's H5). The WeChat openid comes with WeChat sign-in, which Erhuo does not have yet."""
    return {
        "mobile": bool(MOBILE_AGENT.search(request.headers.get("User-Agent", ""))),
        "client_ip": request.META.get("REMOTE_ADDR", ""),
    }


def _instructions(request, payment: Payment) -> tuple[dict | None, str]:
    """(what the payer does next, or None; an error to show when the provider cannot be reached)."""
    if not payment.is_open:
        return None, ""
    try:
        return services.payment_start(payment=payment, **client_hints(request)), ""
    except DomainError as error:
        return None, str(error.message)


def rejection_reason(steps) -> str:
    """Finance's reason for the last rejection, if the payment was rejected."""
    for step in reversed(steps):
        if step.to_state == Payment.Status.FAILED:
            return step.note
    return ""


def _render_pay(request, payment: Payment, *, proof_form=None, error: str = "", status: int = 200):
    steps = list(selectors.payment_history(payment=payment))
    instructions, provider_error = _instructions(request, payment)
    return render(
        request,
        "payments/pay.html",
        {
            "payment": payment,
            "instructions": instructions,
            "provider_error": provider_error,
            "refunds": list(selectors.refunds_of(payment=payment)),
            "refunded_fen": selectors.refunded_fen(payment),
            "steps": steps,
            "status_labels": dict(Payment.Status.choices),
            "rejection_reason": rejection_reason(steps) if payment.status == Payment.Status.FAILED else "",
            "proof_form": proof_form or ProofForm(),
            "error": error,
            "sandbox_enabled": Provider.SANDBOX in enabled_providers(),
        },
        status=status,
    )


@login_required
@require_GET
def pay(request, payment_id: int):
    return _render_pay(request, _own_payment_or_404(request, payment_id))


@login_required
@require_POST
def proof_submit(request, payment_id: int):
    payment = _own_payment_or_404(request, payment_id)
    form = ProofForm(request.POST, request.FILES)
    status = 422
    if form.is_valid():
        try:
            services.payment_proof_submit(
                payment_id=payment.pk,
                payer=request.user,
                proof=form.cleaned_data["proof"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            form.add_service_error(error)
            status = error.status
        else:
            messages.success(request, _("Thank you! Finance checks the transfer within one working day."))
            return redirect("payments:pay", payment_id=payment.pk)
    payment.refresh_from_db()
    return _render_pay(request, payment, proof_form=form, status=status)


def _payer_action(request, payment_id: int, call, success: str):
    payment = _own_payment_or_404(request, payment_id)
    try:
        call(payment)
    except DomainError as error:
        payment.refresh_from_db()
        return _render_pay(request, payment, error=str(error.message), status=error.status)
    messages.success(request, success)
    return redirect("payments:pay", payment_id=payment.pk)


@login_required
@require_POST
def cancel(request, payment_id: int):
    return _payer_action(
        request,
        payment_id,
        lambda payment: services.payment_cancel(payment_id=payment.pk, payer=request.user),
        _("The payment is cancelled. Nothing was charged."),
    )


@login_required
@require_POST
def sandbox_pay(request, payment_id: int):
    return _payer_action(
        request,
        payment_id,
        lambda payment: services.sandbox_pay(payment_id=payment.pk, payer=request.user),
        _("Paid in the sandbox. Thank you!"),
    )


@login_required
@require_GET
def proof_image(request, payment_id: int):
    """The transfer screenshot, for its payer and for finance only; never cached by shared caches."""
    payment = selectors.payment_get(payment_id=payment_id)
    if payment is None or not payment.proof:
        raise Http404
    if payment.payer_id != request.user.pk and not request.user.has_perm(FINANCE_PERMISSION):
        raise Http404
    try:
        handle = payment.proof.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    content_type = mimetypes.guess_type(payment.proof.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- finance ----------------------------------------------------------------------------


def _render_queue(request, *, forms_for: dict | None = None, status: int = 200):
    page = Paginator(selectors.manual_queue(), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    forms_for = forms_for or {}
    rows = [
        {
            "payment": payment,
            "confirm_form": forms_for.get(("confirm", payment.pk)) or ConfirmForm(prefix=f"c{payment.pk}"),
            "reject_form": forms_for.get(("reject", payment.pk)) or RejectForm(prefix=f"r{payment.pk}"),
        }
        for payment in page.object_list
    ]
    refund_rows = [
        {
            "refund": refund,
            "confirm_form": forms_for.get(("refund", refund.pk)) or RefundConfirmForm(prefix=f"f{refund.pk}"),
        }
        # Refunds wait on money someone is owed: all of them are shown, oldest first.
        for refund in selectors.manual_refund_queue()[:REFUND_QUEUE_LIMIT]
    ]
    failed_rows = [
        {"refund": refund, "retry_form": forms_for.get(("retry", refund.pk)) or RetryForm(prefix=f"t{refund.pk}")}
        for refund in selectors.failed_refunds_unretried()[:REFUND_QUEUE_LIMIT]
    ]
    shown = {(kind, row["payment"].pk) for row in rows for kind in ("confirm", "reject")}
    shown |= {("refund", row["refund"].pk) for row in refund_rows}
    shown |= {("retry", row["refund"].pk) for row in failed_rows}
    return render(
        request,
        "payments/finance_queue.html",
        {
            # An action on something no longer listed (settled meanwhile): its error is shown at the top.
            "unlisted_forms": [form for key, form in forms_for.items() if key not in shown],
            "page": page,
            "rows": rows,
            "refund_rows": refund_rows,
            "refund_count": selectors.manual_refund_queue().count(),
            "provider_refunds": list(selectors.provider_refunds_pending()[:REFUND_QUEUE_LIMIT]),
            "failed_rows": failed_rows,
            "notifications": list(selectors.notifications_recent(limit=30)),
        },
        status=status,
    )


@finance_required
@require_GET
def finance_queue(request):
    return _render_queue(request)


def _finance_action(request, object_id: int, *, kind: str, form, call, success: str):
    status = 422
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except DomainError as error:
            if error.status == 404:
                raise Http404 from None
            form.add_service_error(error)
            status = error.status
        else:
            messages.success(request, success)
            return redirect("payments:finance_queue")
    return _render_queue(request, forms_for={(kind, object_id): form}, status=status)


@finance_required
@require_POST
def finance_confirm(request, payment_id: int):
    return _finance_action(
        request,
        payment_id,
        kind="confirm",
        form=ConfirmForm(request.POST, prefix=f"c{payment_id}"),
        call=lambda data: services.payment_manual_confirm(payment_id=payment_id, actor=request.user, note=data["note"]),
        success=_("Payment #%(id)s confirmed: the money is booked.") % {"id": payment_id},
    )


@finance_required
@require_POST
def finance_reject(request, payment_id: int):
    return _finance_action(
        request,
        payment_id,
        kind="reject",
        form=RejectForm(request.POST, prefix=f"r{payment_id}"),
        call=lambda data: services.payment_manual_reject(
            payment_id=payment_id, actor=request.user, reason=data["reason"]
        ),
        success=_("Payment #%(id)s rejected; the payer sees your reason.") % {"id": payment_id},
    )


@finance_required
@require_POST
def finance_refund_confirm(request, refund_id: int):
    return _finance_action(
        request,
        refund_id,
        kind="refund",
        form=RefundConfirmForm(request.POST, prefix=f"f{refund_id}"),
        call=lambda data: services.refund_manual_confirm(refund_id=refund_id, actor=request.user, note=data["note"]),
        success=_("Refund #%(id)s confirmed: the books show the money paid back.") % {"id": refund_id},
    )


@finance_required
@require_POST
def finance_refund_retry(request, refund_id: int):
    return _finance_action(
        request,
        refund_id,
        kind="retry",
        form=RetryForm(request.POST, prefix=f"t{refund_id}"),
        call=lambda data: services.refund_retry(refund_id=refund_id, actor=request.user),
        success=_("Refund #%(id)s asked again: a new refund of the same amount is on its way.") % {"id": refund_id},
    )


urlpatterns = [
    path("pay/<int:payment_id>/", pay, name="pay"),
    path("pay/<int:payment_id>/proof/", proof_submit, name="proof_submit"),
    path("pay/<int:payment_id>/proof/image/", proof_image, name="proof_image"),
    path("pay/<int:payment_id>/cancel/", cancel, name="cancel"),
    path("pay/<int:payment_id>/sandbox/", sandbox_pay, name="sandbox_pay"),
    path("ops/payments/", finance_queue, name="finance_queue"),
    path("ops/payments/<int:payment_id>/confirm/", finance_confirm, name="finance_confirm"),
    path("ops/payments/<int:payment_id>/reject/", finance_reject, name="finance_reject"),
    path("ops/payments/refunds/<int:refund_id>/confirm/", finance_refund_confirm, name="finance_refund_confirm"),
    path("ops/payments/refunds/<int:refund_id>/retry/", finance_refund_retry, name="finance_refund_retry"),
]
