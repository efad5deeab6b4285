"""Community pages: micro-classes (微课).

- `/classes/<id>/`: the class for the members of its groups, its speaker and
  operators (404 for anyone else): details, time (China time), sign up or
  cancel, "I'm here" while it is on, materials, the replay once it has ended;
  its managers also see how many signed up, were reminded and attended.
- `/classes/<id>/manage/`: materials, the replay, attendance, start and end,
  for the speaker and the class's managers (the operators and whoever runs
  every one of its groups); 403 for another member who can read the class.
- `/groups/<id>/admin/classes/…`: a group's classes, a new one, change and
  cancel, for the group's leader and assistants and operators; a leader of
  another group gets 403, anyone else 404.

Thin: forms parse, one service writes, selectors read; a service's refusal
becomes a message (or the form's errors), with nothing changed. Reads settle
the clock first (a class whose time came is on; one whose time is over has
ended).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erhuo.accounts.forms import ServiceFormMixin
from erhuo.accounts.models import User
from erhuo.community import selectors
from erhuo.community.models import ClassMaterial, Group, MicroClass
from erhuo.community.services import classes as services
from erhuo.community.services.groups import require_group_admin
from erhuo.core.errors import DomainError, NotFound

# Classes are announced in China time, whatever the server's zone.
CLASS_TIME_ZONE = ZoneInfo("Asia/Shanghai")
IMAGE_ACCEPT = "image/jpeg,image/png,image/webp"
C = MicroClass.Status


# --- forms ---------------------------------------------------------------------------------------


class ClassForm(ServiceFormMixin, forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=services.TITLE_MAX)
    topic = forms.CharField(
        label=gettext_lazy("Topic"),
        max_length=services.TOPIC_MAX,
        help_text=gettext_lazy("e.g. Luxury authentication, Office styling, A child's night fever"),
    )
    description = forms.CharField(
        label=gettext_lazy("What it covers (optional)"),
        required=False,
        max_length=services.DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    speaker = forms.CharField(
        label=gettext_lazy("Speaker (username)"),
        max_length=40,
        help_text=gettext_lazy("One of our experts."),
        widget=forms.TextInput(attrs={"list": "class-speakers", "autocomplete": "off"}),
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts at (China time)"),
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Length (minutes)"),
        min_value=services.MIN_MINUTES,
        max_value=services.MAX_MINUTES,
        initial=45,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    capacity = forms.IntegerField(
        label=gettext_lazy("Places (optional)"),
        required=False,
        min_value=1,
        max_value=services.MAX_CAPACITY,
        help_text=gettext_lazy("Empty: as many as want to come."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    group_ids = forms.TypedMultipleChoiceField(
        label=gettext_lazy("For the groups"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, groups=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["group_ids"]
        else:
            self.fields["group_ids"].choices = [(group.pk, group.name) for group in groups or []]

    def clean_starts_at(self):
        # The form's field reads the time in the current zone; a class's time is China time.
        value = self.cleaned_data["starts_at"]
        return timezone.make_aware(timezone.make_naive(value), CLASS_TIME_ZONE) if value else value

    def speaker_user(self):
        username = self.cleaned_data["speaker"].strip().lstrip("@")
        return User.objects.filter(username=username).first()


class CancelForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why (the members who signed up read it)"), max_length=200)


class MaterialForm(ServiceFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=ClassMaterial.Kind.choices, widget=forms.RadioSelect, initial="text"
    )
    title = forms.CharField(label=gettext_lazy("Title (optional)"), max_length=80, required=False)
    text = forms.CharField(
        label=gettext_lazy("Text"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    url = forms.CharField(
        label=gettext_lazy("Link"),
        required=False,
        max_length=services.URL_MAX,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    image = forms.FileField(
        label=gettext_lazy("Photo"), required=False, widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT})
    )


class ReplayForm(ServiceFormMixin, forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Replay link"),
        required=False,
        max_length=services.URL_MAX,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )


# --- access --------------------------------------------------------------------------------------


def _visible_class(request, class_id: int) -> MicroClass:
    """The class (the clock settled) if she may read it; 404 otherwise."""
    services.classes_settle(class_ids=[class_id])
    micro_class = selectors.visible_class(request.user, class_id)
    if micro_class is None:
        raise Http404
    return micro_class


def _managed_class(request, class_id: int) -> MicroClass:
    """The class for its speaker and managers; 403 for another reader, 404 for anyone else."""
    micro_class = _visible_class(request, class_id)
    if micro_class.speaker_id != request.user.pk and not _manages(request.user, micro_class):
        raise PermissionDenied
    return micro_class


def _manages(user, micro_class: MicroClass) -> bool:
    return services.may_manage(user, micro_class, group_ids=[group.pk for group in micro_class.groups.all()])


def _admin_group(request, group_id: int) -> Group:
    """The group, if she runs it or is an operator: 403 for another group's leader, 404 for anyone else."""
    group = selectors.group_of(group_id)
    if group is None:
        raise Http404
    try:
        require_group_admin(request.user, group)
    except DomainError as error:
        if error.code == "not_your_group":
            raise PermissionDenied from error
        raise Http404 from error
    return group


def _group_class(request, group_id: int, class_id: int) -> tuple[Group, MicroClass]:
    group = _admin_group(request, group_id)
    services.classes_settle(class_ids=[class_id])
    micro_class = selectors.class_of(class_id)
    if micro_class is None or group.pk not in {g.pk for g in micro_class.groups.all()}:
        raise Http404
    return group, micro_class


def _refused(request, error: DomainError) -> None:
    if error.status == 404:
        raise Http404
    messages.error(request, str(error.message))


def _to_class(micro_class_id: int):
    return redirect("community:class_detail", class_id=micro_class_id)


def _china_time(value: datetime) -> str:
    return timezone.localtime(value, CLASS_TIME_ZONE).strftime("%Y-%m-%dT%H:%M")


# --- the class page --------------------------------------------------------------------------------


@login_required
@require_GET
def class_detail(request, class_id: int):
    micro_class = _visible_class(request, class_id)
    manages = _manages(request.user, micro_class)
    is_speaker = micro_class.speaker_id == request.user.pk
    signup = selectors.class_signup_of(micro_class, request.user)
    signed_up = signup is not None and signup.cancelled_at is None
    is_member = selectors.active_memberships(request.user).filter(group__classes=micro_class).exists()
    participation = selectors.class_participation(micro_class)
    groups = list(micro_class.groups.all())
    cancel_reason = ""
    if micro_class.status == C.CANCELLED:
        cancel_reason = micro_class.transitions.filter(to_state=C.CANCELLED).values_list("note", flat=True).first()
    open_for_signup = micro_class.status in (C.SCHEDULED, C.LIVE)
    full = micro_class.capacity is not None and participation["signed_up"] >= micro_class.capacity and not signed_up
    return render(
        request,
        "community/class_detail.html",
        {
            "class": micro_class,
            "groups": groups,
            "materials": selectors.class_materials(micro_class),
            "signup": signup,
            "signed_up": signed_up,
            "attended": signed_up and signup.attended_at is not None,
            "can_sign_up": is_member and open_for_signup and not signed_up and not full,
            "is_full": is_member and open_for_signup and full,
            "can_attend": signed_up and micro_class.status == C.LIVE and signup.attended_at is None,
            "manages": manages,
            "can_run": manages or is_speaker,
            "participation": participation,
            "places_left": (
                max(micro_class.capacity - participation["signed_up"], 0) if micro_class.capacity is not None else None
            ),
            "ends_at": services.ends_at(micro_class),
            "reminder_minutes": int(services.reminder_window().total_seconds() // 60),
            "cancel_reason": cancel_reason or "",
            # Her leaders' pages for changing it go through one of its groups (she runs every one of them).
            "edit_group": groups[0] if manages and groups else None,
        },
    )


def _class_step(request, class_id: int, step, done, *, manage: bool = False):
    """One button on the class page: `step()` (a service call), then back to the page with `done` or why not."""
    (_managed_class if manage else _visible_class)(request, class_id)
    try:
        step()
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, done)
    return _to_class(class_id)


@login_required
@require_POST
def class_signup(request, class_id: int):
    return _class_step(
        request,
        class_id,
        lambda: services.class_signup(class_id=class_id, user=request.user),
        _("You are signed up. We will remind you before it starts."),
    )


@login_required
@require_POST
def class_signup_cancel(request, class_id: int):
    return _class_step(
        request,
        class_id,
        lambda: services.class_signup_cancel(class_id=class_id, user=request.user),
        _("Your place is given up."),
    )


@login_required
@require_POST
def class_attend(request, class_id: int):
    return _class_step(
        request,
        class_id,
        lambda: services.class_attend(class_id=class_id, user=request.user),
        _("Welcome! Your attendance is noted."),
    )


@login_required
@require_POST
def class_start(request, class_id: int):
    return _class_step(
        request,
        class_id,
        lambda: services.class_start(class_id=class_id, actor=request.user),
        _("The class is on."),
        manage=True,
    )


@login_required
@require_POST
def class_end(request, class_id: int):
    return _class_step(
        request,
        class_id,
        lambda: services.class_end(class_id=class_id, actor=request.user),
        _("The class has ended. Add the replay link when it is ready."),
        manage=True,
    )


# --- running a class: materials, the replay, attendance ----------------------------------------------


def _render_manage(request, micro_class: MicroClass, *, material_form=None, replay_form=None, status: int = 200):
    return render(
        request,
        "community/class_manage.html",
        {
            "class": micro_class,
            "groups": list(micro_class.groups.all()),
            "materials": selectors.class_materials(micro_class),
            "signups": selectors.class_signups(micro_class),
            "participation": selectors.class_participation(micro_class),
            "manages": _manages(request.user, micro_class),
            "material_form": material_form or MaterialForm(),
            "replay_form": replay_form or ReplayForm(initial={"url": micro_class.replay_url}),
            "materials_max": services.MATERIALS_MAX,
        },
        status=status,
    )


@login_required
@require_GET
def class_manage(request, class_id: int):
    return _render_manage(request, _managed_class(request, class_id))


def _to_manage(class_id: int, anchor: str = ""):
    return redirect(reverse("community:class_manage", args=[class_id]) + (f"#{anchor}" if anchor else ""))


@login_required
@require_POST
def material_add(request, class_id: int):
    micro_class = _managed_class(request, class_id)
    form = MaterialForm(request.POST, request.FILES)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.material_add(
                class_id=micro_class.pk,
                actor=request.user,
                kind=data["kind"],
                title=data["title"],
                text=data["text"],
                url=data["url"],
                image=data["image"],
            )
        except NotFound:
            raise Http404 from None
        except DomainError as error:
            form.add_service_error(error)
            status = error.status
        else:
            messages.success(request, _("Material added."))
            return _to_manage(micro_class.pk, "materials")
    return _render_manage(request, micro_class, material_form=form, status=status)


@login_required
@require_POST
def material_remove(request, class_id: int, material_id: int):
    micro_class = _managed_class(request, class_id)
    if not ClassMaterial.objects.filter(pk=material_id, micro_class=micro_class).exists():
        raise Http404
    try:
        services.material_remove(material_id=material_id, actor=request.user)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Material removed."))
    return _to_manage(micro_class.pk, "materials")


@login_required
@require_POST
def class_replay(request, class_id: int):
    micro_class = _managed_class(request, class_id)
    form = ReplayForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.class_replay_set(class_id=micro_class.pk, actor=request.user, url=form.cleaned_data["url"])
        except DomainError as error:
            form.add_service_error(error)
            status = error.status
        else:
            messages.success(request, _("Replay saved."))
            return _to_manage(micro_class.pk, "replay")
    return _render_manage(request, micro_class, replay_form=form, status=status)


@login_required
@require_POST
def class_mark_attended(request, class_id: int, user_id: int):
    micro_class = _managed_class(request, class_id)
    member = User.objects.filter(pk=user_id).first()
    if member is None:
        raise Http404
    try:
        services.class_attend(class_id=micro_class.pk, user=member, actor=request.user)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Attendance noted for %(name)s.") % {"name": member.display_name})
    return _to_manage(micro_class.pk, "attendance")


# --- the group's leaders: its classes, a new one, change and cancel -----------------------------------


@login_required
@require_GET
def group_classes_admin(request, group_id: int):
    group = _admin_group(request, group_id)
    services.classes_settle()
    return render(
        request,
        "community/class_admin_list.html",
        {"group": group, **selectors.group_classes(group, user=request.user, past_shown=50)},
    )


def _render_form(request, *, group: Group, form: ClassForm, micro_class: MicroClass | None = None, status=200):
    return render(
        request,
        "community/class_form.html",
        {
            "group": group,
            "form": form,
            "class": micro_class,
            "speakers": selectors.class_speakers(),
            "cancel_form": CancelForm() if micro_class is not None else None,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def class_new(request, group_id: int):
    group = _admin_group(request, group_id)
    groups = list(selectors.class_schedulable_groups(request.user).order_by("segment__name", "number", "pk"))
    if request.method == "GET":
        form = ClassForm(groups=groups, initial={"group_ids": [group.pk]})
        return _render_form(request, group=group, form=form)
    form = ClassForm(request.POST, groups=groups)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        speaker = form.speaker_user()
        if speaker is None:
            form.add_error("speaker", _("No member with this username."))
        else:
            try:
                micro_class = services.class_create(
                    actor=request.user,
                    title=data["title"],
                    topic=data["topic"],
                    description=data["description"],
                    speaker=speaker,
                    starts_at=data["starts_at"],
                    duration_minutes=data["duration_minutes"],
                    capacity=data["capacity"],
                    group_ids=data["group_ids"],
                )
            except DomainError as error:
                form.add_service_error(error)
                status = error.status
            else:
                messages.success(request, _("The class is scheduled. Add its materials when you have them."))
                return _to_class(micro_class.pk)
    return _render_form(request, group=group, form=form, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def class_edit(request, group_id: int, class_id: int):
    group, micro_class = _group_class(request, group_id, class_id)
    if not _manages(request.user, micro_class):
        raise PermissionDenied
    if request.method == "GET":
        form = ClassForm(
            editing=True,
            initial={
                "title": micro_class.title,
                "topic": micro_class.topic,
                "description": micro_class.description,
                "speaker": micro_class.speaker.username,
                "starts_at": _china_time(micro_class.starts_at),
                "duration_minutes": micro_class.duration_minutes,
                "capacity": micro_class.capacity,
            },
        )
        return _render_form(request, group=group, form=form, micro_class=micro_class)
    form = ClassForm(request.POST, editing=True)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        speaker = form.speaker_user()
        if speaker is None:
            form.add_error("speaker", _("No member with this username."))
        else:
            starts_at = data["starts_at"]
            if starts_at == micro_class.starts_at.replace(second=0, microsecond=0):
                # The form shows minutes: the same minute is the same time (no "new time" notice).
                starts_at = micro_class.starts_at
            try:
                services.class_update(
                    class_id=micro_class.pk,
                    actor=request.user,
                    title=data["title"],
                    topic=data["topic"],
                    description=data["description"],
                    speaker=speaker,
                    starts_at=starts_at,
                    duration_minutes=data["duration_minutes"],
                    capacity=data["capacity"],
                )
            except DomainError as error:
                form.add_service_error(error)
                status = error.status
            else:
                messages.success(request, _("The class is changed."))
                return _to_class(micro_class.pk)
    return _render_form(request, group=group, form=form, micro_class=micro_class, status=status)


@login_required
@require_POST
def class_cancel(request, group_id: int, class_id: int):
    group, micro_class = _group_class(request, group_id, class_id)
    if not _manages(request.user, micro_class):
        raise PermissionDenied
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the class is cancelled: the members who signed up read it."))
        return redirect("community:class_edit", group_id=group.pk, class_id=micro_class.pk)
    try:
        services.class_cancel(class_id=micro_class.pk, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as error:
        _refused(request, error)
        return redirect("community:class_edit", group_id=group.pk, class_id=micro_class.pk)
    messages.success(request, _("The class is cancelled; the members who signed up are told."))
    return redirect("community:group_classes_admin", group_id=group.pk)


urlpatterns = [
    path("classes/<int:class_id>/", class_detail, name="class_detail"),
    path("classes/<int:class_id>/signup/", class_signup, name="class_signup"),
    path("classes/<int:class_id>/signup/cancel/", class_signup_cancel, name="class_signup_cancel"),
    path("classes/<int:class_id>/attend/", class_attend, name="class_attend"),
    path("classes/<int:class_id>/start/", class_start, name="class_start"),
    path("classes/<int:class_id>/end/", class_end, name="class_end"),
    path("classes/<int:class_id>/manage/", class_manage, name="class_manage"),
    path("classes/<int:class_id>/materials/", material_add, name="class_material_add"),
    path("classes/<int:class_id>/materials/<int:material_id>/remove/", material_remove, name="class_material_remove"),
    path("classes/<int:class_id>/replay/", class_replay, name="class_replay"),
    path("classes/<int:class_id>/attendance/<int:user_id>/", class_mark_attended, name="class_mark_attended"),
    path("groups/<int:group_id>/admin/classes/", group_classes_admin, name="group_classes_admin"),
    path("groups/<int:group_id>/admin/classes/new/", class_new, name="class_new"),
    path("groups/<int:group_id>/admin/classes/<int:class_id>/edit/", class_edit, name="class_edit"),
    path("groups/<int:group_id>/admin/classes/<int:class_id>/cancel/", class_cancel, name="class_cancel"),
]
