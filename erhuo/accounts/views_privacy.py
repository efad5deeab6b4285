"""Operators and personal data: the "show in full" of a member's data, and the owner's access log.

Every page that shows another person's data unmasked logs it through
`services.personal_data_access_record` (here via `member_personal_data_reveal`).
The member's own privacy page, download and deletion request live in
`erhuo.web.views_privacy`: they gather every app's part, which only `web` may import.
"""

from django import forms
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from erhuo.accounts import selectors, services
from erhuo.accounts.forms import ServiceFormMixin
from erhuo.accounts.models import PersonalDataAccess, User
from erhuo.accounts.views import _member_detail_page
from erhuo.core.errors import DomainError
from erhuo.core.pii import mask_name

ACCESSES_PER_PAGE = 30


class RevealForm(ServiceFormMixin, forms.Form):
    reason = forms.ChoiceField(label=_("Why do you need it?"), choices=PersonalDataAccess.Reason.choices)
    note = forms.CharField(label=_("Note (order number, ticket…)"), max_length=300, required=False)


@require_POST
@never_cache
@permission_required("accounts.view_member_directory", raise_exception=True)
def member_reveal(request, user_id: int):
    """Show one member's phone and addresses in full, once; the response is never cached."""
    if not request.user.has_perm("accounts.view_member_pii"):
        raise PermissionDenied
    member = User.objects.filter(pk=user_id).first()
    if member is None:
        raise Http404
    form = RevealForm(request.POST)
    if not form.is_valid():
        return _member_detail_page(request, member, status=422, extra={"reveal_form": form})
    try:
        revealed = services.member_personal_data_reveal(
            actor=request.user,
            subject=member,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            request=request,
        )
    except DomainError as error:
        form.add_service_error(error)
        return _member_detail_page(request, member, status=error.status, extra={"reveal_form": form})
    return _member_detail_page(request, member, extra={"revealed": revealed, "reveal_form": RevealForm()})


@require_GET
@permission_required("accounts.view_personal_data_access", raise_exception=True)
def personal_data_access_log(request):
    subject_reference = request.GET.get("subject", "")[:64]
    actor_reference = request.GET.get("actor", "")[:64]
    subject = selectors.user_by_reference(subject_reference)
    actor = selectors.user_by_reference(actor_reference)
    accesses = selectors.personal_data_access_list(subject=subject, actor=actor)
    if (subject_reference and subject is None) or (actor_reference and actor is None):
        accesses = accesses.none()
    page = Paginator(accesses, ACCESSES_PER_PAGE).get_page(request.GET.get("page"))
    for access in page:
        access.subject_masked_name = mask_name(access.subject.display_name)
    return render(
        request,
        "accounts/privacy_access_log.html",
        {"page": page, "subject": subject_reference, "actor": actor_reference},
    )
