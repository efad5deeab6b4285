"""Community pages: scheduling drops, the lists of drops, and cancelling one.

- `/groups/<id>/admin/drops/` and `/groups/<id>/admin/drops/new/`: the group's
  leader and assistants (and operators). A leader of another group gets 403
  (wrong group); anyone else 404 (a member does not know admin pages exist).
- `/ops/community/drops/` and `/ops/community/drops/new/`: operators
  (`community.manage_community`), 403 otherwise.

Thin: a form parses, one service writes, selectors read. The form page is
also its own preview: choosing items and pressing "Suggest groups" (a GET)
redraws it with the groups they suit pre-checked, the score and why.
"""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from erhuo.community import selectors
from erhuo.community.models import Drop, Group
from erhuo.community.services import drops as services
from erhuo.core.errors import DomainError

SUGGESTIONS_PRECHECKED = 3
DROPS_SHOWN = 100


# --- access -------------------------------------------------------------------------------------


def _group_admin(request, group_id: int) -> Group:
    """The group, if the person runs it or is an operator: 403 for another group's leader, 404 for anyone else."""
    group = Group.objects.select_related("segment").filter(pk=group_id).first()
    if group is None:
        raise Http404
    user = request.user
    if selectors.is_community_operator(user) or selectors.leads(user, group):
        return group
    if selectors.drop_target_groups(user).exists():
        raise PermissionDenied
    raise Http404


def operator_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.is_community_operator(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


# --- the form -----------------------------------------------------------------------------------


class DropForm(forms.Form):
    """What the page posts: item and group ids (checked against what she may drop by the service), a time, a title."""

    items = forms.TypedMultipleChoiceField(coerce=int, label=gettext_lazy("Items"))
    groups = forms.TypedMultipleChoiceField(coerce=int, label=gettext_lazy("Groups"))
    drop_at = forms.DateTimeField(
        label=gettext_lazy("Drops at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("Leave empty to drop now."),
    )
    title = forms.CharField(label=gettext_lazy("Title"), required=False, max_length=services.TITLE_MAX)

    def __init__(self, *args, item_ids=(), group_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(item_id, item_id) for item_id in item_ids]
        self.fields["groups"].choices = [(group_id, group_id) for group_id in group_ids]


def _ids(values) -> list[int]:
    ids = []
    for value in values:
        if value.isdigit() and len(value) < 19 and int(value) not in ids:
            ids.append(int(value))
    return ids[: services.MAX_ITEMS]


def _show_errors(form: DropForm, error: DomainError) -> None:
    fields = error.fields or {}
    placed = False
    for name, field_messages in fields.items():
        target = {"drop_at": "drop_at", "title": "title", "groups": "groups", "items": "items"}.get(name)
        if target:
            for message in field_messages:
                form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(error.message))


def _drop_form_page(request, *, group: Group | None):
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    chosen_ids = _ids(source.getlist("items"))
    targets = list(selectors.drop_target_groups(user).order_by("segment__name", "number", "pk")[:200])
    target_ids = [target.pk for target in targets]
    form = DropForm(
        request.POST if request.method == "POST" else None,
        item_ids=chosen_ids,
        group_ids=target_ids,
        initial={"title": source.get("title", ""), "drop_at": source.get("drop_at", "")},
    )
    if request.method == "POST" and form.is_valid():
        drop_at = form.cleaned_data["drop_at"]
        try:
            drop = services.drop_create(
                actor=user,
                item_ids=form.cleaned_data["items"],
                group_ids=form.cleaned_data["groups"],
                drop_at=drop_at,
                title=form.cleaned_data["title"],
            )
        except DomainError as error:
            _show_errors(form, error)
        else:
            if drop.status == Drop.Status.LIVE:
                messages.success(request, _("Dropped: the groups' members see it now."))
            else:
                messages.success(
                    request,
                    _("Scheduled for %(when)s.")
                    % {"when": timezone.localtime(drop.drop_at).strftime("%Y-%m-%d %H:%M")},
                )
            if group is not None:
                return redirect("community:group_drops", group_id=group.pk)
            return redirect("community:ops_drops")

    chosen = selectors.items_for_drop(chosen_ids)
    query = source.get("q", "").strip()[:80]
    found = selectors.drop_candidate_items(query=query, exclude_ids=[item.pk for item in chosen])
    suggestions = {}
    if chosen:
        for suggestion in selectors.drop_suggest_groups(items=chosen, limit=len(targets) or 1, among=target_ids):
            suggestions[suggestion.group.pk] = suggestion
    if request.method == "POST" or "groups" in source:
        checked = set(_ids(source.getlist("groups")))
    else:
        # First look: the best-suited groups pre-checked, and the group she came from.
        ranked = sorted(suggestions.values(), key=lambda s: (-s.score, -s.group.member_count, s.group.pk))
        checked = {s.group.pk for s in ranked[:SUGGESTIONS_PRECHECKED]}
        if group is not None and not suggestions:
            checked.add(group.pk)
    group_rows = [
        {"group": target, "suggestion": suggestions.get(target.pk), "checked": target.pk in checked}
        for target in targets
    ]
    # Suggested groups first, best first; then the others in their usual order.
    group_rows.sort(key=lambda row: (row["suggestion"] is None, -(row["suggestion"].score if row["suggestion"] else 0)))
    return render(
        request,
        "community/drop_new.html",
        {
            "group": group,
            "form": form,
            "chosen": [_item_row(item) for item in chosen],
            "found": [_item_row(item) for item in found],
            "query": query,
            "group_rows": group_rows,
            "has_suggestions": bool(suggestions),
            "min_drop_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
        status=422 if form.errors else 200,
    )


def _item_row(item) -> dict:
    photo = selectors.card_photo(item)
    return {
        "item": item,
        "thumb": (photo.thumbnail or photo.image).url if photo else "",
        "url": reverse("consignment:item_public", args=[item.pk]),
    }


@login_required
@require_http_methods(["GET", "POST"])
def drop_new(request, group_id: int):
    group = _group_admin(request, group_id)
    return _drop_form_page(request, group=group)


@operator_required
@require_http_methods(["GET", "POST"])
def ops_drop_new(request):
    return _drop_form_page(request, group=None)


# --- lists and cancelling -----------------------------------------------------------------------


def _drop_rows(drops) -> list[dict]:
    now = timezone.now()
    rows = []
    for drop in drops[:DROPS_SHOWN]:
        items = list(drop.items.all())
        rows.append(
            {
                "drop": drop,
                "items": items[:4],
                "more_items": max(0, len(items) - 4),
                "groups": list(drop.groups.all()),
                "cancellable": drop.status == Drop.Status.SCHEDULED and drop.drop_at > now,
            }
        )
    return rows


def _status_filter(request) -> str:
    status = request.GET.get("status", "")
    return status if status in Drop.Status.values else ""


@login_required
@require_http_methods(["GET"])
def group_drops(request, group_id: int):
    group = _group_admin(request, group_id)
    services.drops_release_due()
    status = _status_filter(request)
    drops = selectors.drops_for(request.user, status=status or None, group_id=group.pk)
    return render(
        request,
        "community/drop_list.html",
        {
            "group": group,
            "rows": _drop_rows(drops),
            "status": status,
            "statuses": Drop.Status.choices,
            "new_url": reverse("community:drop_new", args=[group.pk]),
            "cancel_name": "community:group_drop_cancel",
        },
    )


@operator_required
@require_http_methods(["GET"])
def ops_drops(request):
    services.drops_release_due()
    status = _status_filter(request)
    drops = selectors.drops_for(request.user, status=status or None)
    counts = dict(Drop.objects.values_list("status").order_by().annotate(count=Count("pk")))
    return render(
        request,
        "community/drop_list.html",
        {
            "group": None,
            "rows": _drop_rows(drops),
            "status": status,
            "statuses": Drop.Status.choices,
            "counts": counts,
            "new_url": reverse("community:ops_drop_new"),
            "cancel_name": "community:ops_drop_cancel",
        },
    )


def _cancel(request, drop_id: int, back: str):
    try:
        services.drop_cancel(actor=request.user, drop_id=drop_id, reason=request.POST.get("reason", ""))
    except DomainError as error:
        if error.status == 404:
            raise Http404 from None
        if error.status == 403:
            raise PermissionDenied from None
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The drop is cancelled."))
    return redirect(back)


@login_required
@require_POST
def group_drop_cancel(request, group_id: int, drop_id: int):
    group = _group_admin(request, group_id)
    if not Drop.groups.through.objects.filter(drop_id=drop_id, group_id=group.pk).exists():
        raise Http404
    return _cancel(request, drop_id, reverse("community:group_drops", args=[group.pk]))


@operator_required
@require_POST
def ops_drop_cancel(request, drop_id: int):
    return _cancel(request, drop_id, reverse("community:ops_drops"))


urlpatterns = [
    path("groups/<int:group_id>/admin/drops/", group_drops, name="group_drops"),
    path("groups/<int:group_id>/admin/drops/new/", drop_new, name="drop_new"),
    path("groups/<int:group_id>/admin/drops/<int:drop_id>/cancel/", group_drop_cancel, name="group_drop_cancel"),
    path("ops/community/drops/", ops_drops, name="ops_drops"),
    path("ops/community/drops/new/", ops_drop_new, name="ops_drop_new"),
    path("ops/community/drops/<int:drop_id>/cancel/", ops_drop_cancel, name="ops_drop_cancel"),
]
