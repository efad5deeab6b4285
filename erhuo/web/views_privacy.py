"""Privacy pages that need every app: the member's privacy page, her data download, her deletion request,
and the operators' deletion queue.

They live in `web` because gathering each app's part (`erhuo.web.privacy`)
means importing every app, which only `web` may do. Thin: a form parses, one
service writes, selectors read. A member only ever acts on her own request
(someone else's is a 404); the queue needs `accounts.process_deletion_request`.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erhuo.accounts import selectors as account_selectors
from erhuo.accounts import services as account_services
from erhuo.accounts.forms import ServiceFormMixin
from erhuo.accounts.models import DeletionRequest
from erhuo.core import ratelimit
from erhuo.core.errors import DomainError
from erhuo.core.pii import mask_name
from erhuo.web import privacy

REQUESTS_PER_PAGE = 30
# Building the download reads every app; a handful an hour is plenty for one person.
DOWNLOADS_PER_HOUR = 10


class DeletionRequestForm(ServiceFormMixin, forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password, to confirm it is you"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Why are you leaving? (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecisionForm(ServiceFormMixin, forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I have read the request and understand that erasing cannot be undone"), required=False
    )


# --- the member -------------------------------------------------------------


def _privacy_page(request, *, form=None, status=200):
    user = request.user
    open_request = account_selectors.deletion_request_open(user=user)
    return render(
        request,
        "accounts/privacy.html",
        {
            "accesses": account_selectors.personal_data_access_for_member(user=user),
            "open_request": open_request,
            "past_requests": account_selectors.deletion_request_list(user=user).exclude(
                status=DeletionRequest.Status.REQUESTED
            )[:10],
            "blockers": privacy.erase_blockers(user=user),
            "form": form or DeletionRequestForm(),
        },
        status=status,
    )


@login_required
@require_GET
def privacy_page(request):
    return _privacy_page(request)


@login_required
@require_POST
@never_cache
def privacy_download(request):
    """The member's own data, unmasked, as a JSON attachment."""
    if not ratelimit.allow(f"privacy-download:{request.user.pk}", limit=DOWNLOADS_PER_HOUR, window_seconds=3600):
        messages.error(request, _("You have downloaded your data several times this hour. Please try again later."))
        return redirect("privacy:page")
    response = HttpResponse(privacy.personal_data_export_json(user=request.user), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{privacy.export_filename()}"'
    return response


@login_required
@require_POST
def deletion_request_create(request):
    form = DeletionRequestForm(request.POST)
    if not form.is_valid():
        return _privacy_page(request, form=form, status=422)
    try:
        privacy.deletion_request_create(
            user=request.user, password=form.cleaned_data["password"], reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        form.add_service_error(error)
        return _privacy_page(request, form=form, status=error.status)
    messages.success(request, _("We have your request. Customer service will process it within 15 working days."))
    return redirect("privacy:page")


@login_required
@require_POST
def deletion_request_cancel(request, request_id: int):
    try:
        account_services.deletion_request_cancel(user=request.user, request_id=request_id)
    except DomainError as error:
        if error.status == 404:
            raise Http404 from None
        messages.error(request, str(error.message))
        return redirect("privacy:page")
    messages.success(request, _("Your deletion request is cancelled. Your account stays as it is."))
    return redirect("privacy:page")


# --- operators --------------------------------------------------------------


@permission_required("accounts.process_deletion_request", raise_exception=True)
@require_GET
def deletion_queue(request):
    status = request.GET.get("status", DeletionRequest.Status.REQUESTED)
    if status and status not in DeletionRequest.Status.values:
        status = DeletionRequest.Status.REQUESTED
    page = Paginator(account_selectors.deletion_request_queue(status=status), REQUESTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for deletion_request in page:
        deletion_request.member_masked_name = mask_name(deletion_request.user.display_name)
    return render(
        request,
        "accounts/privacy_deletion_queue.html",
        {"page": page, "status": status, "statuses": DeletionRequest.Status.choices},
    )


def _deletion_detail_page(request, deletion_request, *, form=None, status=200):
    return render(
        request,
        "accounts/privacy_deletion_detail.html",
        {
            "deletion_request": deletion_request,
            "member": deletion_request.user,
            "member_masked_name": mask_name(deletion_request.user.display_name),
            "blockers": privacy.erase_blockers(user=deletion_request.user) if deletion_request.is_open else [],
            "transitions": deletion_request.transitions.select_related("actor").order_by("created_at", "pk"),
            "form": form or DecisionForm(),
            "is_own": deletion_request.user_id == request.user.pk,
            "status_labels": dict(DeletionRequest.Status.choices),
        },
        status=status,
    )


def _deletion_request_or_404(request_id: int) -> DeletionRequest:
    deletion_request = account_selectors.deletion_request_get(request_id=request_id)
    if deletion_request is None:
        raise Http404
    return deletion_request


@permission_required("accounts.process_deletion_request", raise_exception=True)
@require_GET
def deletion_detail(request, request_id: int):
    return _deletion_detail_page(request, _deletion_request_or_404(request_id))


@permission_required("accounts.process_deletion_request", raise_exception=True)
@require_http_methods(["POST"])
def deletion_decide(request, request_id: int, decision: str):
    deletion_request = _deletion_request_or_404(request_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _deletion_detail_page(request, deletion_request, form=form, status=422)
    if decision == "erase" and not form.cleaned_data["confirm"]:
        form.add_error("confirm", _("Tick this box to erase: it cannot be undone."))
        return _deletion_detail_page(request, deletion_request, form=form, status=422)
    try:
        if decision == "erase":
            privacy.deletion_request_erase(actor=request.user, request_id=request_id, note=form.cleaned_data["note"])
            messages.success(request, _("The member's personal data is erased and the request completed."))
        else:
            account_services.deletion_request_refuse(
                actor=request.user, request_id=request_id, note=form.cleaned_data["note"]
            )
            messages.success(request, _("The request is refused; the member sees your note."))
    except DomainError as error:
        form.add_service_error(error)
        return _deletion_detail_page(request, _deletion_request_or_404(request_id), form=form, status=error.status)
    return redirect("privacy:deletion_detail", request_id=request_id)
