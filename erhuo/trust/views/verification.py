"""Seller verification pages: the member's application, and the reviewers' queue and decision.

Thin: forms parse, one service writes, selectors read.

- `/trust/verify/`: where the member stands (not started, under review,
  approved until a date, rejected with the reason and note, expired) and the
  application form. Bad input shows each field's message and keeps what she
  typed (except the photos, which a browser never re-sends).
- `/ops/trust/verifications/`: the queue for `trust.review_verification`,
  oldest first, masked.
- `/ops/trust/verifications/<id>/`: one application with its checks and the
  decision form. The real name, ID number, phone, Alipay account and the ID
  photos are shown whole only to `trust.view_identity_documents`; each
  showing is written to the personal data access log, and each photo is
  served by its own permission-checked, logged, uncached view.
  Anyone without the review permission gets 404, as if it did not exist.
"""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erhuo.accounts.forms import ServiceFormMixin
from erhuo.core.errors import DomainError, PermissionRefused
from erhuo.trust import levels, selectors
from erhuo.trust.models import IdentityDocument, SellerLevel, SellerVerification, TrustPolicy, VerificationCheck
from erhuo.trust.services import verification as services

V = SellerVerification.Status
IMAGE_ACCEPT = "image/jpeg,image/png,image/webp"


# --- the member's application -------------------------------------------------------------


class VerificationForm(ServiceFormMixin, forms.Form):
    """Every rule is the service's (one set of messages for pages and API); the form only carries the input."""

    real_name = forms.CharField(
        label=gettext_lazy("Real name"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("Exactly as on your ID card."),
        widget=forms.TextInput(attrs={"autocomplete": "name", "required": True}),
    )
    id_number = forms.CharField(
        label=gettext_lazy("Resident ID number"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("18 characters; the last one may be X."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "required": True}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    alipay_account = forms.CharField(
        label=gettext_lazy("Alipay account"),
        max_length=120,
        required=False,
        help_text=gettext_lazy("The mobile number or e-mail address you log into Alipay with."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "required": True}),
    )
    sesame_score = forms.CharField(
        label=gettext_lazy("Sesame credit score (芝麻分)"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "required": True}),
    )
    id_photo_front = forms.FileField(
        label=gettext_lazy("Photo of your ID card: portrait side"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT, "required": True}),
    )
    id_photo_back = forms.FileField(
        label=gettext_lazy("Photo of your ID card: national emblem side"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT, "required": True}),
    )

    def __init__(self, *args, user=None, policy: TrustPolicy | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["phone"].help_text = _("Leave empty to use your account's number (%(phone)s).") % {
                "phone": user.masked_phone
            }
        if policy is not None:
            self.fields["sesame_score"].help_text = _("In Alipay: 我的 → 芝麻信用. Sellers need at least %(min)s.") % {
                "min": policy.min_sesame_score
            }


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    policy = selectors.trust_policy()
    bound = request.method == "POST"
    form = VerificationForm(
        request.POST if bound else None, request.FILES if bound else None, user=request.user, policy=policy
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            verification = services.verification_submit(user=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_service_error(error)
            status = error.status
        else:
            if verification.status == V.APPROVED:
                messages.success(request, _("You are now a verified seller."))
            else:
                messages.success(
                    request, _("Thank you. Your application is under review; we will tell you the result.")
                )
            return redirect("trust:verify")
    elif request.method == "POST":
        status = 422
    # Settles an overdue approval on read: the page never shows "approved" past its date.
    verification = selectors.verification_status(request.user)
    level = selectors.seller_level(request.user)
    return render(
        request,
        "trust/verification/verify.html",
        {
            "form": form,
            "verification": verification,
            "masked": selectors.masked(verification) if verification else None,
            "may_apply": selectors.may_apply(verification),
            "policy": policy,
            "level": level,
            "level_label": SellerLevel(level).label,
            "level_meaning": levels.LEVEL_MEANINGS[level],
            "active_nav": "sell",
        },
        status=status,
    )


# --- reviewers -------------------------------------------------------------------------------


def reviewer_page(view):
    """Logged in (else the login page); the review permission (else 404: nothing to see here)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.is_reviewer(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


QUEUE_PAGE_SIZE = selectors.QUEUE_PAGE_SIZE


@login_required
@require_GET
def queue(request):
    if not selectors.is_reviewer(request.user):
        raise PermissionDenied
    page = Paginator(selectors.verification_queue(), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        {
            "masked": selectors.masked(verification),
            "waiting_hours": int((now - verification.created_at).total_seconds() // 3600),
        }
        for verification in page.object_list
    ]
    return render(request, "trust/verification/queue.html", {"page": page, "rows": rows})


CHECK_CHOICES = [
    ("", gettext_lazy("Undecided")),
    (VerificationCheck.Result.PASSED, gettext_lazy("Passed")),
    (VerificationCheck.Result.FAILED, gettext_lazy("Failed")),
]


class DecisionForm(ServiceFormMixin, forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "approve"), ("reject", "reject")], widget=forms.HiddenInput, required=True
    )
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason for rejection"),
        required=False,
        choices=[("", "—"), *SellerVerification.RejectionReason.choices],
    )
    note = forms.CharField(
        label=gettext_lazy("Note to the member"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("The member reads it. Needed for “another reason”."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in VerificationCheck.Kind.choices:
            self.fields[f"check_{kind}"] = forms.ChoiceField(
                label=label, choices=CHECK_CHOICES, required=False, widget=forms.RadioSelect
            )

    def checks(self) -> dict[str, bool]:
        result = {}
        for kind in VerificationCheck.Kind.values:
            value = self.cleaned_data.get(f"check_{kind}")
            if value:
                result[kind] = value == VerificationCheck.Result.PASSED
        return result

    def check_fields(self):
        return [self[f"check_{kind}"] for kind in VerificationCheck.KIND_ORDER]


def _detail_page(request, verification_id: int, *, form: DecisionForm | None = None, status: int = 200):
    verification = selectors.verification_for_review(verification_id=verification_id)
    if verification is None:
        raise Http404
    see_identity = selectors.may_see_identity(request.user) and not verification.is_erased
    if see_identity:
        # Written before the page is rendered: no unlogged look, even if rendering fails.
        services.verification_identity_reveal(actor=request.user, verification=verification, request=request)
        shown = selectors.unmasked(verification)
    else:
        shown = selectors.masked(verification)
    return render(
        request,
        "trust/verification/detail.html",
        {
            "verification": verification,
            "shown": shown,
            "see_identity": see_identity,
            "sides": selectors.document_sides(verification) if see_identity else [],
            "side_labels": dict(IdentityDocument.Side.choices),
            "checks": selectors.checks_in_order(verification),
            "form": form or DecisionForm(),
            "can_decide": verification.status == V.SUBMITTED and verification.user_id != request.user.pk,
            "transitions": list(verification.transitions.all()),
            "status_labels": dict(V.choices),
            "previous": SellerVerification.objects.filter(user_id=verification.user_id)
            .exclude(pk=verification.pk)
            .order_by("-created_at")
            .only("pk", "status", "created_at", "rejection_reason"),
        },
        status=status,
    )


@reviewer_page
@require_GET
def detail(request, verification_id: int):
    return _detail_page(request, verification_id)


@reviewer_page
@require_POST
def decide(request, verification_id: int):
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, verification_id, form=form, status=422)
    try:
        services.verification_decide(
            verification_id=verification_id,
            actor=request.user,
            approve=form.cleaned_data["decision"] == "approve",
            checks=form.checks(),
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except DomainError as error:
        if error.status == 404:
            raise Http404 from None
        form.add_service_error(error)
        return _detail_page(request, verification_id, form=form, status=error.status)
    if form.cleaned_data["decision"] == "approve":
        messages.success(request, _("Approved. The member is now a verified seller."))
    else:
        messages.success(request, _("Rejected. The member sees the reason and may apply again."))
    return redirect("trust:ops_verification_queue")


@reviewer_page
@require_GET
def photo(request, verification_id: int, side: str):
    if side not in IdentityDocument.Side.values:
        raise Http404
    try:
        content, content_type = services.identity_document_open(
            actor=request.user, verification_id=verification_id, side=side, request=request
        )
    except PermissionRefused:
        raise PermissionDenied from None
    except DomainError:
        raise Http404 from None
    response = HttpResponse(content, content_type=content_type)
    # An ID photo must not stay in a browser's or a proxy's cache.
    response["Cache-Control"] = "no-store, private"
    response["Pragma"] = "no-cache"
    response["Content-Disposition"] = "inline"
    return response


urlpatterns = [
    path("trust/verify/", verify, name="verify"),
    path("ops/trust/verifications/", queue, name="ops_verification_queue"),
    path("ops/trust/verifications/<int:verification_id>/", detail, name="ops_verification_detail"),
    path("ops/trust/verifications/<int:verification_id>/decide/", decide, name="ops_verification_decide"),
    path(
        "ops/trust/verifications/<int:verification_id>/photos/<str:side>/",
        photo,
        name="ops_verification_photo",
    ),
]
