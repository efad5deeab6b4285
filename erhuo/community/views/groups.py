"""Community pages: invites and the questionnaire, my groups, a group's page, its leader's admin page, and the
operators' pages (segments, groups, tags, invites).

- `/join/<code>/`: anyone may read what an invite opens (404 page when it is not
  valid); answering needs a login (the login and sign-up links keep `next`).
- `/groups/…`: a member sees only groups she is in (404 otherwise).
- `/groups/<id>/admin/…`: the group's leader and assistants, and operators; a
  leader of another group gets 403, anyone else 404.
- `/ops/community/…`: operators (`community.manage_community`), 403 otherwise.

Thin: forms parse, one service writes, selectors read; a service's refusal
becomes a message (or the form's errors) with nothing changed.
"""

import io
from datetime import timedelta
from functools import wraps

import qrcode
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erhuo.accounts.models import User
from erhuo.community import selectors
from erhuo.community.forms import (
    GroupCreateForm,
    GroupSettingsForm,
    InviteForm,
    MuteForm,
    ReasonForm,
    SegmentEditForm,
    SegmentForm,
    TagEditForm,
    TagForm,
    answers_for_form,
    answers_from_post,
)
from erhuo.community.models import Group, Invite, MemberProfile, Membership, Segment, Tag
from erhuo.community.services import groups as services
from erhuo.core.errors import DomainError

SESSION_RESULT = "community_admission"
M = Membership.Status


# --- access and small helpers --------------------------------------------------------------------


def operator_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not services.is_operator(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _member_group(request, group_id: int) -> tuple[Group, Membership | None]:
    """The group and her live place in it; 404 unless she has one (operators see every group on their pages)."""
    group = selectors.group_of(group_id)
    if group is None:
        raise Http404
    mine = selectors.live_membership(request.user, group)
    if mine is None and not services.is_operator(request.user):
        raise Http404
    return group, mine


def _admin_group(request, group_id: int) -> Group:
    """The group, if she runs it or is an operator: 403 for another group's leader, 404 for anyone else."""
    group = selectors.group_of(group_id)
    if group is None:
        raise Http404
    try:
        services.require_group_admin(request.user, group)
    except DomainError as error:
        if error.code == "not_your_group":
            raise PermissionDenied from error
        raise Http404 from error
    return group


def _safe_next(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if (
        candidate.startswith("/")
        and not candidate.startswith("//")
        and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()})
    ):
        return candidate
    return default


def _refused(request, error: DomainError) -> None:
    if error.status == 404:
        raise Http404
    messages.error(request, str(error.message))


def _qr_png(data: str) -> HttpResponse:
    image = qrcode.make(data, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _join_url(request, code: str) -> str:
    return request.build_absolute_uri(reverse("community:join", args=[code]))


INVITE_STATES = {
    "revoked": gettext_lazy("withdrawn"),
    "expired": gettext_lazy("expired"),
    "used_up": gettext_lazy("used up"),
    "group_archived": gettext_lazy("group closed"),
}


def _invite_rows(request, invites) -> list[dict]:
    now = timezone.now()
    rows = []
    for invite in invites:
        problem = services.invite_problem(invite, now=now)
        rows.append(
            {
                "invite": invite,
                "url": _join_url(request, invite.code),
                "problem": problem,
                "state": INVITE_STATES.get(problem, "") if problem else "",
            }
        )
    return rows


def _invite_from_form(request, form: InviteForm, *, group=None):
    data = form.cleaned_data
    expires_at = timezone.now() + timedelta(days=data["days"]) if data.get("days") else None
    return services.invite_create(
        actor=request.user, group=group, label=data["label"], expires_at=expires_at, max_uses=data.get("max_uses")
    )


# --- the invite and the questionnaire ------------------------------------------------------------


def _questions(answers: dict, errors: dict) -> list[dict]:
    options = services.questionnaire_options()
    rows = []
    for question in services.QUESTIONNAIRE:
        value = answers.get(question.key)
        chosen = set(value) if isinstance(value, list) else ({value} if value else set())
        rows.append(
            {
                "q": question,
                "options": [{"tag": tag, "checked": tag.code in chosen} for tag in options[question.key]],
                "errors": errors.get(question.key, []),
                "answered": bool(chosen),
            }
        )
    return rows


def _join_page(request, invite, *, answers=None, errors=None, status=200):
    user = request.user
    mine = None
    if user.is_authenticated and invite.group_id:
        mine = selectors.live_membership(user, invite.group_id)
    if answers is None and user.is_authenticated:
        profile = MemberProfile.objects.filter(user=user).first()
        answers = profile.answers if profile else {}
    answers = answers_for_form(answers or {})
    errors = errors or {}
    known = {question.key for question in services.QUESTIONNAIRE}
    return render(
        request,
        "community/join.html",
        {
            "invite": invite,
            "code": invite.code,
            "mine": mine,
            "answers": answers,
            "questions": _questions(answers, errors),
            "other_errors": [message for key, items in errors.items() if key not in known for message in items],
            "child_age_max": services.CHILD_AGE_MAX,
            "next_url": reverse("community:join", args=[invite.code]),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def join(request, code: str):
    invite = services.invite_for_code(code)
    problem = services.invite_problem(invite)
    if problem:
        return render(request, "community/join_invalid.html", {"reason": services.INVITE_REASONS[problem]}, status=404)
    if request.method == "GET":
        return _join_page(request, invite)
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={reverse('community:join', args=[invite.code])}")
    answers = answers_from_post(request.POST)
    try:
        admission = services.admission_answer(user=request.user, invite_code=invite.code, answers=answers)
    except DomainError as error:
        if error.code == "answers_invalid":
            return _join_page(request, invite, answers=answers, errors=error.fields, status=422)
        if error.code == "invite_invalid":
            return render(request, "community/join_invalid.html", {"reason": error.message}, status=404)
        messages.error(request, str(error.message))
        return _join_page(request, invite, answers=answers, status=409 if error.status == 409 else error.status)
    request.session[SESSION_RESULT] = {
        "membership_id": admission.placed.pk if admission.placed else None,
        "offered": [[group.pk, round(score, 4)] for group, score in admission.offered],
        "why": list(admission.why),
        "note": str(admission.note),
    }
    return redirect("community:join_done")


@login_required
@require_GET
def join_done(request):
    result = request.session.get(SESSION_RESULT)
    if not result:
        return redirect("community:my_groups")
    placed = (
        Membership.objects.select_related("group", "group__segment", "group__leader")
        .filter(pk=result.get("membership_id"), user=request.user)
        .first()
    )
    scores = dict((group_id, score) for group_id, score in result.get("offered", []))
    groups = {group.pk: group for group in Group.objects.select_related("segment").filter(pk__in=list(scores))}
    joined = selectors.active_group_ids(request.user) | {
        m.group_id for m in selectors.my_memberships(request.user) if m.status == M.PENDING
    }
    offered = [
        {"group": groups[group_id], "score": score, "joined": group_id in joined}
        for group_id, score in scores.items()
        if group_id in groups
    ]
    names = selectors.tag_names(result.get("why", []))
    return render(
        request,
        "community/join_done.html",
        {
            "placed": placed,
            "offered": offered,
            "why": [names[code] for code in result.get("why", []) if code in names],
            "note": result.get("note", ""),
        },
    )


@login_required
@require_POST
def join_offered(request, group_id: int):
    try:
        membership = services.admission_join_offered(user=request.user, group_id=group_id)
    except DomainError as error:
        _refused(request, error)
        return redirect(_safe_next(request, reverse("community:my_groups")))
    if membership.status == M.PENDING:
        messages.success(request, _("Asked to join “%(group)s”: the leader will decide.") % {"group": membership.group})
    else:
        messages.success(request, _("You joined “%(group)s”.") % {"group": membership.group})
    return redirect(_safe_next(request, reverse("community:group", args=[group_id])))


# --- my groups and a group's page ----------------------------------------------------------------


@login_required
@require_GET
def my_groups(request):
    memberships = selectors.my_memberships(request.user)
    return render(
        request,
        "community/my_groups.html",
        {
            "active": [m for m in memberships if m.status == M.ACTIVE],
            "pending": [m for m in memberships if m.status == M.PENDING],
            "leads": [m for m in memberships if m.status == M.ACTIVE and m.role != Membership.Role.MEMBER],
        },
    )


@login_required
@require_GET
def group_page(request, group_id: int):
    group, mine = _member_group(request, group_id)
    return render(
        request,
        "community/group.html",
        {
            "group": group,
            "mine": mine,
            "is_active_member": mine is not None and mine.status == M.ACTIVE,
            "runs_it": services.is_operator(request.user) or selectors.leads(request.user, group),
        },
    )


@login_required
@require_POST
def group_leave(request, group_id: int):
    group, mine = _member_group(request, group_id)
    if mine is None:
        raise Http404
    try:
        services.membership_leave(membership_id=mine.pk, user=request.user)
    except DomainError as error:
        _refused(request, error)
        return redirect("community:group", group_id=group.pk)
    messages.success(request, _("You left “%(group)s”.") % {"group": group.name})
    return redirect("community:my_groups")


# --- the leader's admin page ---------------------------------------------------------------------


def _admin_context(request, group: Group, *, ops: bool) -> dict:
    members = selectors.group_members(group, statuses=Membership.LIVE)
    purity = selectors.group_purities([group.pk])[group.pk]
    return {
        "group": group,
        "ops": ops,
        "active": [m for m in members if m.status == M.ACTIVE],
        "pending": [m for m in members if m.status == M.PENDING],
        "purity": purity,
        "invites": _invite_rows(request, selectors.invites_of(group=group)[:20]),
        "standing_url": _join_url(request, group.invite_code),
        "settings_form": GroupSettingsForm(
            initial={"announcement": group.announcement, "join_policy": group.join_policy}
        ),
        "invite_form": InviteForm(),
        "mute_form": MuteForm(),
        "now": timezone.now(),
        "is_operator": services.is_operator(request.user),
        "chooses_assistants": services.is_operator(request.user) or group.leader_id == request.user.pk,
    }


@login_required
@require_GET
def group_admin(request, group_id: int):
    group = _admin_group(request, group_id)
    return render(request, "community/group_admin.html", _admin_context(request, group, ops=False))


@operator_required
@require_GET
def ops_group(request, group_id: int):
    group = selectors.group_of(group_id)
    if group is None:
        raise Http404
    return render(request, "community/group_admin.html", _admin_context(request, group, ops=True))


def _back_to_admin(request, group: Group):
    return redirect(_safe_next(request, reverse("community:group_admin", args=[group.pk])))


@login_required
@require_POST
def member_action(request, group_id: int, membership_id: int, action: str):
    group = _admin_group(request, group_id)
    target = Membership.objects.filter(pk=membership_id, group=group).first()
    if target is None:
        raise Http404
    try:
        if action in ("approve", "reject"):
            form = ReasonForm(request.POST)
            form.is_valid()
            services.membership_decide(
                membership_id=target.pk,
                actor=request.user,
                approve=action == "approve",
                reason=form.cleaned_data.get("reason", ""),
            )
            messages.success(request, _("Admitted.") if action == "approve" else _("Turned away."))
        elif action == "remove":
            form = ReasonForm(request.POST)
            form.is_valid()
            services.membership_remove(
                membership_id=target.pk, actor=request.user, reason=form.cleaned_data.get("reason", "")
            )
            messages.success(request, _("Removed from the group."))
        elif action in ("make_assistant", "make_member"):
            role = Membership.Role.ASSISTANT if action == "make_assistant" else Membership.Role.MEMBER
            services.membership_set_role(membership_id=target.pk, actor=request.user, role=role)
            messages.success(request, _("Saved."))
        elif action == "mute":
            form = MuteForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Choose how long to mute her."))
                return _back_to_admin(request, group)
            hours = form.cleaned_data["hours"]
            until = timezone.now() + timedelta(hours=hours) if hours else None
            services.membership_mute(membership_id=target.pk, actor=request.user, until=until)
            messages.success(request, _("Muted.") if until else _("The mute is lifted."))
        else:
            raise Http404
    except DomainError as error:
        _refused(request, error)
    return _back_to_admin(request, group)


@login_required
@require_POST
def group_settings(request, group_id: int):
    group = _admin_group(request, group_id)
    form = GroupSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the announcement and how members join."))
        return _back_to_admin(request, group)
    try:
        services.group_update(
            actor=request.user,
            group_id=group.pk,
            announcement=form.cleaned_data["announcement"],
            join_policy=form.cleaned_data["join_policy"],
        )
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Saved."))
    return _back_to_admin(request, group)


@login_required
@require_POST
def group_invite_create(request, group_id: int):
    group = _admin_group(request, group_id)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return _back_to_admin(request, group)
    try:
        _invite_from_form(request, form, group=group)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Invite created."))
    return _back_to_admin(request, group)


@login_required
@require_POST
def group_invite_revoke(request, group_id: int, invite_id: int):
    group = _admin_group(request, group_id)
    invite = Invite.objects.filter(pk=invite_id, group=group).first()
    if invite is None:
        raise Http404
    try:
        services.invite_revoke(actor=request.user, invite_id=invite.pk)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Invite withdrawn."))
    return _back_to_admin(request, group)


@login_required
@require_GET
def group_qr(request, group_id: int):
    """The group's standing invite link as a QR code (PNG), for the leader to post."""
    group = _admin_group(request, group_id)
    return _qr_png(_join_url(request, group.invite_code))


@login_required
@require_GET
def group_invite_qr(request, group_id: int, invite_id: int):
    group = _admin_group(request, group_id)
    invite = Invite.objects.filter(pk=invite_id, group=group).first()
    if invite is None:
        raise Http404
    return _qr_png(_join_url(request, invite.code))


# --- operators -----------------------------------------------------------------------------------


def _ops_page(request, *, status=200, **forms_):
    segments, loose_groups = selectors.segments_overview()
    tags = list(Tag.objects.filter(active=True).order_by("dimension", "sort", "pk"))
    active_segments = [segment for segment in segments if segment.active]
    names = selectors.tag_names(
        {code for segment in segments for codes in (segment.rule or {}).values() for code in codes}
    )
    for segment in segments:
        segment.rule_names = {
            key: [names.get(code, code) for code in (segment.rule or {}).get(key, [])] for key in ("all", "any", "none")
        }
    segment_form = forms_.get("segment_form") or SegmentForm(tags=tags)
    context = {
        "segments": segments,
        "loose_groups": loose_groups,
        "dimensions": selectors.tags_by_dimension(),
        "invites": _invite_rows(request, selectors.invites_of(community=True)[:30]),
        "segment_form": segment_form,
        "rule_fields": [
            {"key": key, "field": segment_form[f"rule_{key}"], "value": segment_form[f"rule_{key}"].value() or []}
            for key in ("all", "any", "none")
        ],
        "tag_form": forms_.get("tag_form") or TagForm(),
        "group_form": forms_.get("group_form") or GroupCreateForm(segments=active_segments),
        "invite_form": forms_.get("invite_form") or InviteForm(),
        "rule_tags": selectors.tags_by_dimension(active_only=True),
        "open_form": forms_.get("open_form", ""),
    }
    return render(request, "community/ops.html", context, status=status)


@operator_required
@require_GET
def ops_community(request):
    return _ops_page(request)


def _back_to_ops(anchor: str = ""):
    return redirect(reverse("community:ops_community") + (f"#{anchor}" if anchor else ""))


@operator_required
@require_POST
def ops_segment_create(request):
    tags = list(Tag.objects.filter(active=True).order_by("dimension", "sort", "pk"))
    form = SegmentForm(request.POST, tags=tags)
    if form.is_valid():
        data = form.cleaned_data
        try:
            segment = services.segment_create(
                actor=request.user,
                name=data["name"],
                slug=data["slug"],
                rule=form.rule(),
                capacity=data["capacity"],
                description=data["description"],
            )
        except DomainError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Segment “%(name)s” created. Open its first group below.") % {"name": segment})
            return _back_to_ops("segments")
    return _ops_page(request, segment_form=form, open_form="segment", status=422)


@operator_required
@require_POST
def ops_segment_update(request, segment_id: int):
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        raise Http404
    form = SegmentEditForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.segment_update(
                actor=request.user,
                segment_id=segment.pk,
                capacity=data.get("capacity"),
                active=None if data.get("active") in (None, "") else data["active"] == "1",
            )
        except DomainError as error:
            _refused(request, error)
        else:
            messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Group size is from 2 to 500."))
    return _back_to_ops(f"segment-{segment.pk}")


@operator_required
@require_POST
def ops_tag_create(request):
    form = TagForm(request.POST)
    if form.is_valid():
        try:
            services.tag_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Tag added."))
            return _back_to_ops("tags")
    return _ops_page(request, tag_form=form, open_form="tag", status=422)


@operator_required
@require_POST
def ops_tag_update(request, tag_id: int):
    form = TagEditForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.tag_update(
                actor=request.user,
                tag_id=tag_id,
                name=data["name"] or None,
                active=None if data.get("active") in (None, "") else data["active"] == "1",
            )
        except DomainError as error:
            _refused(request, error)
        else:
            messages.success(request, _("Saved."))
    return _back_to_ops("tags")


@operator_required
@require_POST
def ops_group_create(request):
    segments = list(Segment.objects.filter(active=True).order_by("name"))
    form = GroupCreateForm(request.POST, segments=segments)
    if form.is_valid():
        data = form.cleaned_data
        leader = User.objects.filter(username=data["leader"].strip().lstrip("@")).first()
        if leader is None:
            form.add_error("leader", _("No member with this username."))
        else:
            try:
                group = services.group_create(
                    actor=request.user,
                    leader=leader,
                    segment=next((s for s in segments if s.pk == data["segment"]), None),
                    name=data["name"],
                    capacity=data["capacity"],
                    join_policy=data["join_policy"],
                    wechat_group_id=data["wechat_group_id"],
                )
            except DomainError as error:
                form.add_service_error(error)
            else:
                messages.success(request, _("Group “%(name)s” opened.") % {"name": group.name})
                return redirect("community:ops_group", group_id=group.pk)
    return _ops_page(request, group_form=form, open_form="group", status=422)


@operator_required
@require_POST
def ops_group_archive(request, group_id: int):
    group = selectors.group_of(group_id)
    if group is None:
        raise Http404
    try:
        services.group_archive(actor=request.user, group_id=group.pk, reason=request.POST.get("reason", ""))
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Archived: nobody joins it any more."))
    return redirect("community:ops_group", group_id=group.pk)


@operator_required
@require_POST
def ops_member_ban(request, user_id: int):
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise Http404
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        if request.POST.get("unban"):
            services.member_unban(user=user, actor=request.user)
            messages.success(request, _("The ban is lifted."))
        else:
            services.member_ban(user=user, actor=request.user, reason=form.cleaned_data.get("reason", ""))
            messages.success(request, _("Banned from the community: her places in groups have ended."))
    except DomainError as error:
        _refused(request, error)
    return redirect(_safe_next(request, reverse("community:ops_community")))


@operator_required
@require_POST
def ops_invite_create(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            _invite_from_form(request, form)
        except DomainError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Invite created."))
            return _back_to_ops("invites")
    return _ops_page(request, invite_form=form, open_form="invite", status=422)


@operator_required
@require_POST
def ops_invite_revoke(request, invite_id: int):
    try:
        services.invite_revoke(actor=request.user, invite_id=invite_id)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Invite withdrawn."))
    return _back_to_ops("invites")


@operator_required
@require_GET
def ops_invite_qr(request, invite_id: int):
    invite = Invite.objects.filter(pk=invite_id).first()
    if invite is None:
        raise Http404
    return _qr_png(_join_url(request, invite.code))


urlpatterns = [
    path("join/<str:code>/", join, name="join"),
    path("groups/welcome/", join_done, name="join_done"),
    path("groups/", my_groups, name="my_groups"),
    path("groups/<int:group_id>/", group_page, name="group"),
    path("groups/<int:group_id>/join/", join_offered, name="join_offered"),
    path("groups/<int:group_id>/leave/", group_leave, name="group_leave"),
    path("groups/<int:group_id>/admin/", group_admin, name="group_admin"),
    path("groups/<int:group_id>/admin/settings/", group_settings, name="group_settings"),
    path(
        "groups/<int:group_id>/admin/members/<int:membership_id>/<str:action>/",
        member_action,
        name="member_action",
    ),
    path("groups/<int:group_id>/admin/invites/", group_invite_create, name="group_invite_create"),
    path(
        "groups/<int:group_id>/admin/invites/<int:invite_id>/revoke/",
        group_invite_revoke,
        name="group_invite_revoke",
    ),
    path("groups/<int:group_id>/admin/invites/<int:invite_id>/qr.png", group_invite_qr, name="group_invite_qr"),
    path("groups/<int:group_id>/admin/qr.png", group_qr, name="group_qr"),
    path("ops/community/", ops_community, name="ops_community"),
    path("ops/community/segments/", ops_segment_create, name="ops_segment_create"),
    path("ops/community/segments/<int:segment_id>/", ops_segment_update, name="ops_segment_update"),
    path("ops/community/tags/", ops_tag_create, name="ops_tag_create"),
    path("ops/community/tags/<int:tag_id>/", ops_tag_update, name="ops_tag_update"),
    path("ops/community/groups/", ops_group_create, name="ops_group_create"),
    path("ops/community/groups/<int:group_id>/", ops_group, name="ops_group"),
    path("ops/community/groups/<int:group_id>/archive/", ops_group_archive, name="ops_group_archive"),
    path("ops/community/members/<int:user_id>/ban/", ops_member_ban, name="ops_member_ban"),
    path("ops/community/invites/", ops_invite_create, name="ops_invite_create"),
    path("ops/community/invites/<int:invite_id>/revoke/", ops_invite_revoke, name="ops_invite_revoke"),
    path("ops/community/invites/<int:invite_id>/qr.png", ops_invite_qr, name="ops_invite_qr"),
]
