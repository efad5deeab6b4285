"""Community pages: activities — buy-with-gift (买赠), giveaways and their fair draw (抽奖), themed drops.

- `/activities/<id>/`, `/activities/<id>/verify/`: the members of its groups
  and operators (404 for anyone else). Entering a giveaway is a POST there.
- Organiser actions (cancel, draw, link drops) are POSTs for operators and
  the leaders/assistants of every target group: 403 for a member who sees the
  activity, 404 for anyone who does not.
- `/groups/<id>/admin/activities/…`: the group's leader and assistants, and
  operators; a leader of another group gets 403, anyone else 404.
- `/ops/community/activities/…`: operators (`community.manage_community`), 403 otherwise.

Thin: forms parse, one service writes, selectors read; the clock is settled
before a page shows an activity.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erhuo.community import draw, selectors
from erhuo.community.activity_forms import ActivityForm, DropItemsForm, DropLinkForm, ReasonForm
from erhuo.community.models import Activity, Group
from erhuo.community.services import activities as services
from erhuo.core.errors import DomainError

K = Activity.Kind
S = Activity.Status
OPS_PAGE_SIZE = 30


def operator_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not services.is_operator(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _visible_activity(request, activity_id: int) -> Activity:
    """The activity, its clock settled, if she may see it (404 otherwise)."""
    services.activities_settle_due(activity_ids=[activity_id])
    activity = selectors.activity_of(activity_id)
    if activity is None or not selectors.activity_visible_to(request.user, activity):
        raise Http404
    return activity


def _admin_group(request, group_id: int) -> Group:
    """A group she runs (or any, for an operator): 403 for another group's leader, 404 for anyone else."""
    group = Group.objects.filter(pk=group_id).select_related("segment").first()
    if group is None:
        raise Http404
    if services.is_operator(request.user) or selectors.leads(request.user, group):
        return group
    if selectors.led_group_ids(request.user):
        raise PermissionDenied
    raise Http404


def _refused(request, error: DomainError) -> None:
    if error.status == 404:
        raise Http404
    if error.status == 403:
        raise PermissionDenied(str(error.message))
    messages.error(request, str(error.message))


def _countdown(activity: Activity):
    if activity.status == S.SCHEDULED:
        return activity.starts_at
    if activity.status == S.RUNNING:
        return activity.ends_at
    return None


# --- members --------------------------------------------------------------------------------------


def _detail_context(request, activity: Activity, **extra) -> dict:
    user = request.user
    organiser = selectors.activity_organised_by(user, activity)
    context = {
        "activity": activity,
        "groups": list(activity.groups.all()),
        "countdown": _countdown(activity),
        "organiser": organiser,
        "report": selectors.activity_report(activity) if selectors.activity_reportable_by(user, activity) else None,
        "cancel_form": extra.pop("cancel_form", None) or ReasonForm(),
        "now": timezone.now(),
    }
    if activity.kind == K.GIVEAWAY:
        entry = selectors.activity_entry_of(activity, user)
        record = selectors.giveaway_record(activity)
        context.update(
            entry=entry,
            record=record,
            can_enter=(
                activity.status == S.RUNNING
                and entry is None
                and not organiser
                and bool({group.pk for group in context["groups"]} & selectors.active_group_ids(user))
            ),
        )
    elif activity.kind == K.BUY_WITH_GIFT:
        context["gifts"] = list(activity.gifts.select_related("item").order_by("pk"))
        context["my_gift_orders"] = list(
            activity.entries.filter(user=user).exclude(reference="").values_list("reference", flat=True)
        )
    else:
        items = selectors.themed_drop_items(activity, only_out=not organiser)
        context["on_sale"] = [item for item in items if item.status in ("listed", "reserved")]
        context["sold"] = [item for item in items if item.is_sold]
        context["drops"] = selectors.activity_drops(activity) if organiser else []
        open_for_drops = organiser and activity.status in (S.SCHEDULED, S.RUNNING)
        context["linkable"] = selectors.linkable_drops(activity, user) if open_for_drops else []
        context["candidates"] = selectors.drop_candidate_items(limit=12) if open_for_drops else []
    context.update(extra)
    return context


@login_required
@require_GET
def activity_detail(request, activity_id: int):
    activity = _visible_activity(request, activity_id)
    return render(request, "community/activity_detail.html", _detail_context(request, activity))


@login_required
@require_POST
def activity_enter(request, activity_id: int):
    activity = _visible_activity(request, activity_id)
    try:
        services.giveaway_enter(activity_id=activity.pk, user=request.user)
    except DomainError as error:
        if error.status == 404:
            raise Http404 from error
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("You are in the draw. Good luck!"))
    return redirect("community:activity", activity_id=activity.pk)


@login_required
@require_GET
def activity_verify(request, activity_id: int):
    activity = _visible_activity(request, activity_id)
    if activity.kind != K.GIVEAWAY:
        raise Http404
    record = selectors.giveaway_record(activity)
    return render(
        request,
        "community/activity_verify.html",
        {
            "activity": activity,
            "record": record,
            "algorithm": draw.ALGORITHM,
            "winners_match": record["recomputed_winners"] == [winner["user_id"] for winner in record["winners"]],
            "api_path": f"/api/v1/activities/{activity.pk}/draw",
        },
    )


# --- organisers' actions on one activity ----------------------------------------------------------


@login_required
@require_POST
def activity_cancel(request, activity_id: int):
    activity = _visible_activity(request, activity_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why it is cancelled: members read it."))
        return redirect("community:activity", activity_id=activity.pk)
    try:
        services.activity_cancel(activity_id=activity.pk, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The activity is cancelled."))
    return redirect("community:activity", activity_id=activity.pk)


@login_required
@require_POST
def activity_draw(request, activity_id: int):
    activity = _visible_activity(request, activity_id)
    try:
        services.giveaway_draw(activity_id=activity.pk, actor=request.user)
    except DomainError as error:
        _refused(request, error)
        return redirect("community:activity", activity_id=activity.pk)
    messages.success(request, _("The winners are drawn. Anyone can check the draw on this page."))
    return redirect("community:activity_verify", activity_id=activity.pk)


@login_required
@require_POST
def activity_drop_link(request, activity_id: int):
    activity = _visible_activity(request, activity_id)
    form = DropLinkForm(request.POST)
    if form.is_valid():
        try:
            services.activity_drop_link(
                activity_id=activity.pk, drop_id=form.cleaned_data["drop_id"], actor=request.user
            )
        except DomainError as error:
            _refused(request, error)
        else:
            messages.success(request, _("The drop is part of this themed drop."))
    return redirect("community:activity", activity_id=activity.pk)


@login_required
@require_POST
def activity_drop_create(request, activity_id: int):
    activity = _visible_activity(request, activity_id)
    form = DropItemsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the items to drop."))
        return redirect("community:activity", activity_id=activity.pk)
    try:
        services.activity_drop_create(
            activity_id=activity.pk,
            actor=request.user,
            item_ids=form.cleaned_data["item_ids"],
            drop_at=form.cleaned_data.get("drop_at"),
        )
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The items are dropped into this sale's groups."))
    return redirect("community:activity", activity_id=activity.pk)


@login_required
@require_POST
def activity_drop_unlink(request, activity_id: int, drop_id: int):
    activity = _visible_activity(request, activity_id)
    try:
        services.activity_drop_unlink(activity_id=activity.pk, drop_id=drop_id, actor=request.user)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The drop is no longer part of this themed drop."))
    return redirect("community:activity", activity_id=activity.pk)


# --- creating: a group's leader, operators ----------------------------------------------------------


def _form(request, *, data=None, group: Group | None = None) -> ActivityForm:
    user = request.user
    if group is not None:
        groups = Group.objects.filter(pk=group.pk)
    elif services.is_operator(user):
        groups = Group.objects.exclude(status=Group.Status.ARCHIVED).select_related("segment").order_by("pk")
    else:
        groups = Group.objects.filter(pk__in=selectors.led_group_ids(user)).order_by("pk")
    initial = {"kind": request.GET.get("kind")} if request.GET.get("kind") in K.values else {}
    return ActivityForm(
        data, groups=groups, gift_items=list(selectors.giftable_items(user)[:50]), fixed_group=group, initial=initial
    )


def _create(request, *, group: Group | None, template: str, context: dict):
    if request.method == "GET":
        return render(request, template, {**context, "form": _form(request, group=group)})
    form = _form(request, data=request.POST, group=group)
    status = 422
    if form.is_valid():
        try:
            activity = services.activity_create(actor=request.user, **form.service_arguments())
        except DomainError as error:
            if error.status == 403:
                raise PermissionDenied(str(error.message)) from error
            form.add_service_error(error)
            status = error.status
        else:
            messages.success(request, _("“%(title)s” is scheduled.") % {"title": activity.title})
            return redirect("community:activity", activity_id=activity.pk)
    return render(request, template, {**context, "form": form}, status=status)


@login_required
@require_GET
def group_activities(request, group_id: int):
    group = _admin_group(request, group_id)
    services.activities_settle_due()
    activities = selectors.activities_for_operators().filter(groups=group)
    page = Paginator(activities, OPS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "community/activities_admin.html",
        {
            "group": group,
            "page": page,
            "ops": False,
            "new_url": reverse("community:group_activity_new", args=[group.pk]),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def group_activity_new(request, group_id: int):
    group = _admin_group(request, group_id)
    return _create(request, group=group, template="community/activity_form.html", context={"group": group})


@operator_required
@require_GET
def ops_activities(request):
    services.activities_settle_due()
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    status = status if status in S.values else ""
    kind = kind if kind in K.values else ""
    page = Paginator(selectors.activities_for_operators(status=status, kind=kind), OPS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "community/activities_admin.html",
        {
            "page": page,
            "ops": True,
            "status": status,
            "kind": kind,
            "statuses": S.choices,
            "kinds": K.choices,
            "new_url": reverse("community:ops_activity_new"),
        },
    )


@operator_required
@require_http_methods(["GET", "POST"])
def ops_activity_new(request):
    return _create(request, group=None, template="community/activity_form.html", context={"group": None})


urlpatterns = [
    path("activities/<int:activity_id>/", activity_detail, name="activity"),
    path("activities/<int:activity_id>/enter/", activity_enter, name="activity_enter"),
    path("activities/<int:activity_id>/verify/", activity_verify, name="activity_verify"),
    path("activities/<int:activity_id>/cancel/", activity_cancel, name="activity_cancel"),
    path("activities/<int:activity_id>/draw/", activity_draw, name="activity_draw"),
    path("activities/<int:activity_id>/drops/", activity_drop_link, name="activity_drop_link"),
    path("activities/<int:activity_id>/drops/new/", activity_drop_create, name="activity_drop_create"),
    path("activities/<int:activity_id>/drops/<int:drop_id>/remove/", activity_drop_unlink, name="activity_drop_unlink"),
    path("groups/<int:group_id>/admin/activities/", group_activities, name="group_activities"),
    path("groups/<int:group_id>/admin/activities/new/", group_activity_new, name="group_activity_new"),
    path("ops/community/activities/", ops_activities, name="ops_activities"),
    path("ops/community/activities/new/", ops_activity_new, name="ops_activity_new"),
]
