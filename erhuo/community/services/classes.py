"""Micro-classes (微课): scheduling, sign-ups, reminders, the clock, attendance, materials and the replay.

A class is scheduled into one or more groups by an operator
(`community.manage_community`), or by the leader (or an assistant) of every one
of those groups: a leader naming another leader's group is refused whole
(`not_your_group`), nothing written. Its speaker is an expert (the EXPERT role)
or an operator. The class's **managers** are the operators and whoever runs
every one of its groups; they change, cancel and report on it. The speaker
also starts and ends it, adds materials and sets the replay.

Who may sign up: the active members of its groups (anyone else is told the
class does not exist, 404). Places are counted under the class's row lock;
a second sign-up returns the first.

The **clock**: a scheduled class goes live at `starts_at` and ends after
`duration_minutes` (`classes_settle`, run every minute by the periodic task
and on every read of a class, so a stopped worker delays nothing anyone can
see); its speaker or a manager may also start it up to `EARLY_START` before,
and end it. **Reminders**: members signed up for a class starting within
`ERHUO_CLASS_REMINDER_MINUTES` get one in-app notice, once
(`classes_remind_due`, every five minutes; the notice's key makes a retried
run harmless). Moving the class to another time reminds them again for it.

Notices go out in the site's language after commit (erhuo.notifications).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from erhuo.accounts import roles
from erhuo.community.models import ClassMaterial, ClassSignup, Group, Membership, MicroClass
from erhuo.core import states
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.images import clean_image
from erhuo.notifications.services import notices_send, site_language

C = MicroClass.Status
K = ClassMaterial.Kind
MANAGE_PERMISSION = "community.manage_community"

TITLE_MAX = MicroClass._meta.get_field("title").max_length
TOPIC_MAX = MicroClass._meta.get_field("topic").max_length
DESCRIPTION_MAX = MicroClass._meta.get_field("description").max_length
MIN_MINUTES = 10
MAX_MINUTES = 240
MAX_CAPACITY = 10_000
MAX_GROUPS = 50
# How far ahead a class may be scheduled.
MAX_AHEAD = timedelta(days=180)
# The speaker may open the room this long before the announced time.
EARLY_START = timedelta(minutes=30)
REASON_MAX = 200
MATERIALS_MAX = 30
MATERIAL_TITLE_MAX = ClassMaterial._meta.get_field("title").max_length
MATERIAL_TEXT_MAX = ClassMaterial._meta.get_field("text").max_length
URL_MAX = 200
IMAGE_MAX_BYTES = 10 * 1024 * 1024
SETTLE_BATCH = 200
# A class is worth reminding about until it ends; look this far back for classes still running.
LATEST_END = timedelta(minutes=MAX_MINUTES)

_url_validator = URLValidator(schemes=["http", "https"])


def _invalid(field_name: str, message, code: str = "validation_error") -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field_name: [message]})


# --- who may do what -------------------------------------------------------------------------------


def is_operator(user) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_perm(MANAGE_PERMISSION)
    )


def _require_person(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionRefused(_("Log in first."), code="login_required")


def _led_group_ids(user) -> set[int]:
    return set(
        Membership.objects.filter(
            user=user,
            status=Membership.Status.ACTIVE,
            role__in=(Membership.Role.LEADER, Membership.Role.ASSISTANT),
        ).values_list("group_id", flat=True)
    )


def _require_runs_every_group(actor, group_ids) -> None:
    """An operator, or the leader (or an assistant) of every one of the groups."""
    _require_person(actor)
    if is_operator(actor):
        return
    led = _led_group_ids(actor)
    if not led:
        raise PermissionRefused(
            _("Only a group's leader, its assistants or an operator can do this."), code="not_group_admin"
        )
    if not set(group_ids) <= led:
        raise PermissionRefused(
            _("This is another leader's group: you can only manage your own."), code="not_your_group"
        )


def may_manage(user, micro_class: MicroClass, *, group_ids=None) -> bool:
    """An operator, or whoever runs every one of the class's groups."""
    try:
        _require_runs_every_group(user, group_ids if group_ids is not None else _group_ids(micro_class))
    except PermissionRefused:
        return False
    return True


def _require_manager(actor, micro_class: MicroClass, *, speaker_too: bool = False) -> None:
    _require_person(actor)
    if speaker_too and micro_class.speaker_id == actor.pk:
        return
    _require_runs_every_group(actor, _group_ids(micro_class))


def _group_ids(micro_class: MicroClass) -> list[int]:
    cached = getattr(micro_class, "_group_ids", None)
    if cached is None:
        cached = list(micro_class.groups.values_list("pk", flat=True))
        micro_class._group_ids = cached
    return cached


def _class(class_id, *, lock: bool = False) -> MicroClass:
    rows = MicroClass.objects.all()
    if lock:
        rows = rows.select_for_update()
    micro_class = rows.filter(pk=class_id).first() if isinstance(class_id, int) else None
    if micro_class is None:
        raise NotFound(_("No such class."), code="class_not_found")
    return micro_class


def _is_member_of_class(user, micro_class: MicroClass) -> bool:
    return Membership.objects.filter(
        user=user, status=Membership.Status.ACTIVE, group_id__in=_group_ids(micro_class)
    ).exists()


# --- checking what people type ---------------------------------------------------------------------


def _clean_text(value, *, field_name: str, limit: int, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise _invalid(field_name, _("This field is required."), f"{field_name}_required")
    if len(value) > limit:
        raise _invalid(field_name, _("At most %(count)s characters.") % {"count": limit}, f"{field_name}_too_long")
    return value


def _clean_url(value, *, field_name: str, required: bool = True) -> str:
    value = (value or "").strip()
    if not value:
        if required:
            raise _invalid(field_name, _("Enter a web address."), "url_required")
        return ""
    if len(value) > URL_MAX:
        raise _invalid(field_name, _("At most %(count)s characters.") % {"count": URL_MAX}, "url_invalid")
    try:
        _url_validator(value)
    except ValidationError:
        raise _invalid(field_name, _("Enter a web address (http:// or https://)."), "url_invalid") from None
    return value


def _clean_speaker(speaker):
    if (
        speaker is None
        or not getattr(speaker, "pk", None)
        or not speaker.is_active
        or not (speaker.has_role(roles.EXPERT) or is_operator(speaker))
    ):
        raise _invalid("speaker", _("The speaker must be one of our experts (or an operator)."), "speaker_not_expert")
    return speaker


def _clean_duration(duration_minutes) -> int:
    if (
        isinstance(duration_minutes, bool)
        or not isinstance(duration_minutes, int)
        or not MIN_MINUTES <= duration_minutes <= MAX_MINUTES
    ):
        raise _invalid(
            "duration_minutes",
            _("A class lasts %(min)s to %(max)s minutes.") % {"min": MIN_MINUTES, "max": MAX_MINUTES},
            "duration_invalid",
        )
    return duration_minutes


def _clean_start(starts_at, *, now) -> datetime:
    if not isinstance(starts_at, datetime) or timezone.is_naive(starts_at):
        raise _invalid("starts_at", _("Give the date and time it starts."), "starts_at_required")
    if starts_at <= now:
        raise _invalid("starts_at", _("A class starts in the future."), "class_starts_in_the_past")
    if starts_at > now + MAX_AHEAD:
        raise _invalid(
            "starts_at",
            _("A class is scheduled at most %(days)s days ahead.") % {"days": MAX_AHEAD.days},
            "class_too_far_ahead",
        )
    return starts_at


def _clean_capacity(capacity) -> int | None:
    if capacity in (None, ""):
        return None
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
        raise _invalid(
            "capacity",
            _("Places are from 1 to %(max)s, or empty for no limit.") % {"max": MAX_CAPACITY},
            "capacity_invalid",
        )
    return capacity


def _clean_groups(group_ids) -> list[Group]:
    ids = []
    for value in group_ids or []:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid("group_ids", _("Choose the groups from the list."), "group_not_found")
        if value not in ids:
            ids.append(value)
    if not ids:
        raise _invalid("group_ids", _("Choose at least one group."), "groups_required")
    if len(ids) > MAX_GROUPS:
        raise _invalid("group_ids", _("At most %(count)s groups.") % {"count": MAX_GROUPS}, "groups_too_many")
    groups = list(Group.objects.filter(pk__in=ids).order_by("pk"))
    if len(groups) != len(ids):
        raise _invalid("group_ids", _("One of the groups does not exist."), "group_not_found")
    if any(group.status == Group.Status.ARCHIVED for group in groups):
        raise _invalid("group_ids", _("One of the groups is archived."), "group_archived")
    return groups


# --- notices ----------------------------------------------------------------------------------------


def _class_url(micro_class: MicroClass) -> str:
    return reverse("community:class_detail", args=[micro_class.pk])


def _local_time(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


def _signed_up_ids(micro_class: MicroClass) -> list[int]:
    return list(
        ClassSignup.objects.filter(micro_class=micro_class, cancelled_at__isnull=True)
        .order_by("pk")
        .values_list("user_id", flat=True)
    )


def _notify_signed_up(micro_class: MicroClass, *, kind: str, key: str, title: str, body: str = "") -> None:
    users = _signed_up_ids(micro_class)
    if users:
        notices_send(
            users=users,
            kind=kind,
            title=title,
            body=body,
            url=_class_url(micro_class),
            data={"class_id": micro_class.pk},
            key=key,
        )


# --- scheduling -------------------------------------------------------------------------------------


def class_create(
    *,
    actor,
    title: str,
    topic: str,
    speaker,
    starts_at: datetime,
    duration_minutes: int,
    group_ids,
    description: str = "",
    capacity: int | None = None,
    now: datetime | None = None,
) -> MicroClass:
    """Schedule a class into groups; refused whole (nothing written) when one of them is not the actor's."""
    now = now or timezone.now()
    _require_person(actor)
    groups = _clean_groups(group_ids)
    _require_runs_every_group(actor, [group.pk for group in groups])
    errors = {}
    cleaned = {}
    for name, check in (
        ("title", lambda: _clean_text(title, field_name="title", limit=TITLE_MAX, required=True)),
        ("topic", lambda: _clean_text(topic, field_name="topic", limit=TOPIC_MAX, required=True)),
        ("description", lambda: _clean_text(description, field_name="description", limit=DESCRIPTION_MAX)),
        ("capacity", lambda: _clean_capacity(capacity)),
        ("speaker", lambda: _clean_speaker(speaker)),
        ("starts_at", lambda: _clean_start(starts_at, now=now)),
        ("duration_minutes", lambda: _clean_duration(duration_minutes)),
    ):
        try:
            cleaned[name] = check()
        except ValidationFailed as error:
            errors[name] = error
    if errors:
        first = next(iter(errors.values()))
        fields = {key: value for error in errors.values() for key, value in error.fields.items()}
        raise ValidationFailed(first.message, code=first.code, fields=fields)
    with transaction.atomic():
        micro_class = MicroClass.objects.create(
            title=cleaned["title"],
            topic=cleaned["topic"],
            description=cleaned["description"],
            speaker=cleaned["speaker"],
            starts_at=cleaned["starts_at"],
            duration_minutes=cleaned["duration_minutes"],
            capacity=cleaned["capacity"],
            created_by=actor,
        )
        micro_class.groups.set(groups)
        states.record_start(micro_class, actor=actor, data={"group_ids": [group.pk for group in groups]})
    return micro_class


_UNSET = object()


def class_update(
    *,
    class_id: int,
    actor,
    title=_UNSET,
    topic=_UNSET,
    description=_UNSET,
    speaker=_UNSET,
    starts_at=_UNSET,
    duration_minutes=_UNSET,
    capacity=_UNSET,
    now: datetime | None = None,
) -> MicroClass:
    """Change a scheduled class (only what is given). A new time tells the signed-up members and reminds them
    again before it; fewer places than sign-ups is refused."""
    now = now or timezone.now()
    _require_person(actor)
    with transaction.atomic():
        micro_class = _class(class_id, lock=True)
        _require_manager(actor, micro_class)
        if micro_class.status != C.SCHEDULED:
            raise Conflict(_("Only a class that has not started can be changed."), code="class_not_scheduled")
        changes = {}
        if title is not _UNSET:
            changes["title"] = _clean_text(title, field_name="title", limit=TITLE_MAX, required=True)
        if topic is not _UNSET:
            changes["topic"] = _clean_text(topic, field_name="topic", limit=TOPIC_MAX, required=True)
        if description is not _UNSET:
            changes["description"] = _clean_text(description, field_name="description", limit=DESCRIPTION_MAX)
        if speaker is not _UNSET:
            changes["speaker"] = _clean_speaker(speaker)
        if starts_at is not _UNSET and starts_at != micro_class.starts_at:
            changes["starts_at"] = _clean_start(starts_at, now=now)
        if duration_minutes is not _UNSET:
            changes["duration_minutes"] = _clean_duration(duration_minutes)
        if capacity is not _UNSET:
            changes["capacity"] = _clean_capacity(capacity)
            signed_up = ClassSignup.objects.filter(micro_class=micro_class, cancelled_at__isnull=True).count()
            if changes["capacity"] is not None and changes["capacity"] < signed_up:
                raise Conflict(
                    _("%(count)s members have signed up already: keep at least as many places.") % {"count": signed_up},
                    code="capacity_below_signups",
                )
        moved = "starts_at" in changes and changes["starts_at"] != micro_class.starts_at
        for name, value in changes.items():
            setattr(micro_class, name, value)
        if changes:
            micro_class.save(update_fields=[*changes.keys(), "updated_at"])
        if moved:
            # Reminded for the old time: remind them again before the new one.
            ClassSignup.objects.filter(micro_class=micro_class).update(reminded_at=None)
            with site_language():
                _notify_signed_up(
                    micro_class,
                    kind="class_moved",
                    key=f"class-moved:{micro_class.pk}:{int(micro_class.starts_at.timestamp())}",
                    title=_("New time for “%(title)s”: %(time)s")
                    % {"title": micro_class.title, "time": _local_time(micro_class.starts_at)},
                )
    return micro_class


def class_cancel(*, class_id: int, actor, reason: str) -> MicroClass:
    """Cancel a class that has not started; the signed-up members are told why."""
    _require_person(actor)
    reason = _clean_text(reason, field_name="reason", limit=REASON_MAX, required=True)
    with transaction.atomic():
        micro_class = _class(class_id, lock=True)
        _require_manager(actor, micro_class)
        if micro_class.status != C.SCHEDULED:
            raise Conflict(_("Only a class that has not started can be cancelled."), code="class_not_scheduled")
        states.transition(micro_class, to=C.CANCELLED, actor=actor, note=reason)
        with site_language():
            _notify_signed_up(
                micro_class,
                kind="class_cancelled",
                key=f"class-cancelled:{micro_class.pk}",
                title=_("Cancelled: “%(title)s”") % {"title": micro_class.title},
                body=reason,
            )
    return micro_class


# --- the clock ---------------------------------------------------------------------------------------


def ends_at(micro_class: MicroClass) -> datetime:
    return micro_class.starts_at + timedelta(minutes=micro_class.duration_minutes)


def _settle_one(micro_class: MicroClass, *, now: datetime) -> bool:
    """Move one class along the clock (its row is re-read under lock); True if it moved."""
    with transaction.atomic():
        micro_class = MicroClass.objects.select_for_update().filter(pk=micro_class.pk).first()
        if micro_class is None:
            return False
        over = ends_at(micro_class) <= now
        if micro_class.status == C.SCHEDULED and micro_class.starts_at <= now:
            note = _("Its time came") if not over else _("Its time came and went")
            states.transition(micro_class, to=C.ENDED if over else C.LIVE, note=note)
            return True
        if micro_class.status == C.LIVE and over:
            states.transition(micro_class, to=C.ENDED, note=_("Its time is over"))
            return True
    return False


def classes_settle(*, now: datetime | None = None, class_ids=None) -> int:
    """Start the scheduled classes whose time came, end those whose time is over; how many moved.

    One query when nothing is due (a page reads it before showing classes)."""
    now = now or timezone.now()
    due = MicroClass.objects.filter(
        Q(status=C.SCHEDULED, starts_at__lte=now)
        | Q(status=C.LIVE, starts_at__lte=now - timedelta(minutes=MIN_MINUTES))
    )
    if class_ids is not None:
        due = due.filter(pk__in=list(class_ids))
    moved = 0
    for micro_class in due.order_by("starts_at", "pk")[:SETTLE_BATCH]:
        if micro_class.status == C.LIVE and ends_at(micro_class) > now:
            continue
        moved += _settle_one(micro_class, now=now)
    return moved


def class_start(*, class_id: int, actor, now: datetime | None = None) -> MicroClass:
    """The speaker or a manager opens the class (from `EARLY_START` before its time)."""
    now = now or timezone.now()
    _require_person(actor)
    with transaction.atomic():
        micro_class = _class(class_id, lock=True)
        _require_manager(actor, micro_class, speaker_too=True)
        if micro_class.status != C.SCHEDULED:
            raise Conflict(_("This class has already started or ended."), code="class_not_scheduled")
        if micro_class.starts_at - EARLY_START > now:
            raise Conflict(
                _("It is too early: a class opens at most %(minutes)s minutes before its time.")
                % {"minutes": int(EARLY_START.total_seconds() // 60)},
                code="class_too_early",
            )
        states.transition(micro_class, to=C.LIVE, actor=actor, note=_("Started by hand"))
    return micro_class


def class_end(*, class_id: int, actor) -> MicroClass:
    """The speaker or a manager closes a live class."""
    _require_person(actor)
    with transaction.atomic():
        micro_class = _class(class_id, lock=True)
        _require_manager(actor, micro_class, speaker_too=True)
        if micro_class.status != C.LIVE:
            raise Conflict(_("Only a class that is on now can be ended."), code="class_not_live")
        states.transition(micro_class, to=C.ENDED, actor=actor, note=_("Ended by hand"))
    return micro_class


# --- sign-ups, reminders and attendance ----------------------------------------------------------------


def class_signup(*, class_id: int, user, now: datetime | None = None) -> ClassSignup:
    """Sign `user` up (an active member of one of its groups); the same sign-up again returns the first."""
    now = now or timezone.now()
    _require_person(user)
    classes_settle(now=now, class_ids=[class_id] if isinstance(class_id, int) else [])
    with transaction.atomic():
        # The class's row is the lock under which places are counted.
        micro_class = _class(class_id, lock=True)
        if not _is_member_of_class(user, micro_class):
            raise NotFound(_("No such class."), code="class_not_found")
        if micro_class.status not in (C.SCHEDULED, C.LIVE):
            raise Conflict(_("Sign-up is closed: this class has ended or was cancelled."), code="class_closed")
        signup = ClassSignup.objects.filter(micro_class=micro_class, user=user).first()
        if signup is not None and signup.cancelled_at is None:
            return signup
        if micro_class.capacity is not None:
            taken = ClassSignup.objects.filter(micro_class=micro_class, cancelled_at__isnull=True).count()
            if taken >= micro_class.capacity:
                raise Conflict(_("This class is full."), code="class_full")
        if signup is None:
            signup = ClassSignup.objects.create(micro_class=micro_class, user=user)
        else:
            # Back again: her earlier reminder was for her earlier sign-up; keep it (it was for this time).
            signup.cancelled_at = None
            signup.save(update_fields=["cancelled_at", "updated_at"])
    return signup


def class_signup_cancel(*, class_id: int, user) -> ClassSignup:
    """She will not come after all: her place is freed (before the class ends)."""
    _require_person(user)
    with transaction.atomic():
        micro_class = _class(class_id, lock=True)
        signup = ClassSignup.objects.filter(micro_class=micro_class, user=user, cancelled_at__isnull=True).first()
        if signup is None:
            if not _is_member_of_class(user, micro_class):
                raise NotFound(_("No such class."), code="class_not_found")
            raise NotFound(_("You have not signed up for this class."), code="signup_not_found")
        if micro_class.status not in (C.SCHEDULED, C.LIVE):
            raise Conflict(_("This class has ended or was cancelled."), code="class_closed")
        signup.cancelled_at = timezone.now()
        signup.save(update_fields=["cancelled_at", "updated_at"])
    return signup


def reminder_window() -> timedelta:
    return timedelta(minutes=getattr(settings, "ERHUO_CLASS_REMINDER_MINUTES", 60))


def classes_remind_due(*, now: datetime | None = None) -> int:
    """Remind, once, the members signed up for classes starting within the reminder window (and still to come
    or on now). Returns how many were reminded. Safe to run again: the notice's key and `reminded_at` agree."""
    now = now or timezone.now()
    due = (
        ClassSignup.objects.filter(
            reminded_at__isnull=True,
            cancelled_at__isnull=True,
            micro_class__status__in=(C.SCHEDULED, C.LIVE),
            micro_class__starts_at__lte=now + reminder_window(),
            micro_class__starts_at__gt=now - LATEST_END,
        )
        .values_list("micro_class_id", flat=True)
        .distinct()
    )
    reminded = 0
    for micro_class in MicroClass.objects.filter(pk__in=list(due)).select_related("speaker").order_by("starts_at"):
        if ends_at(micro_class) <= now:
            continue
        with transaction.atomic():
            signups = list(
                ClassSignup.objects.select_for_update()
                .filter(micro_class=micro_class, reminded_at__isnull=True, cancelled_at__isnull=True)
                .order_by("pk")
            )
            if not signups:
                continue
            with site_language():
                started = micro_class.starts_at <= now
                title = (_("On now: “%(title)s”") if started else _("Starting at %(time)s: “%(title)s”")) % {
                    "title": micro_class.title,
                    "time": timezone.localtime(micro_class.starts_at).strftime("%H:%M"),
                }
                notices_send(
                    users=[signup.user_id for signup in signups],
                    kind="class_reminder",
                    title=title,
                    body=_("%(speaker)s on %(topic)s. Open the class page to join.")
                    % {"speaker": micro_class.speaker.display_name, "topic": micro_class.topic},
                    url=_class_url(micro_class),
                    data={"class_id": micro_class.pk, "starts_at": micro_class.starts_at.isoformat()},
                    # One reminder per member and class time (a moved class reminds again).
                    key=f"class-reminder:{micro_class.pk}:{int(micro_class.starts_at.timestamp())}",
                )
            reminded += ClassSignup.objects.filter(
                pk__in=[signup.pk for signup in signups], reminded_at__isnull=True
            ).update(reminded_at=now)
    return reminded


def class_attend(*, class_id: int, user, actor=None, now: datetime | None = None) -> ClassSignup:
    """Mark `user` as attending. By herself: signed up, while the class is on. By a manager (`actor`): any active
    member of its groups, once it has started (she may have come without signing up)."""
    now = now or timezone.now()
    actor = actor or user
    _require_person(actor)
    classes_settle(now=now, class_ids=[class_id] if isinstance(class_id, int) else [])
    with transaction.atomic():
        micro_class = _class(class_id, lock=True)
        by_herself = actor.pk == user.pk
        if by_herself:
            signup = ClassSignup.objects.filter(micro_class=micro_class, user=user, cancelled_at__isnull=True).first()
            if signup is None:
                if not _is_member_of_class(user, micro_class):
                    raise NotFound(_("No such class."), code="class_not_found")
                raise Conflict(_("Sign up first."), code="not_signed_up")
            if micro_class.status != C.LIVE:
                raise Conflict(_("Attendance is marked while the class is on."), code="class_not_live")
        else:
            _require_manager(actor, micro_class)
            if micro_class.status not in (C.LIVE, C.ENDED):
                raise Conflict(_("Attendance is marked once the class has started."), code="class_not_started")
            if not _is_member_of_class(user, micro_class):
                raise NotFound(_("She is not a member of this class's groups."), code="member_not_found")
            signup = ClassSignup.objects.filter(micro_class=micro_class, user=user).first()
            if signup is None:
                signup = ClassSignup.objects.create(micro_class=micro_class, user=user)
            elif signup.cancelled_at is not None:
                signup.cancelled_at = None
                signup.save(update_fields=["cancelled_at", "updated_at"])
        if signup.attended_at is None:
            signup.attended_at = now
            signup.save(update_fields=["attended_at", "updated_at"])
    return signup


# --- materials and the replay ----------------------------------------------------------------------------


@dataclass
class _CleanMaterial:
    kind: str
    title: str
    text: str
    url: str
    image: ContentFile | None
    image_name: str


def _clean_material(*, kind, title, text, image, url) -> _CleanMaterial:
    if kind not in K.values:
        raise _invalid("kind", _("Choose text, image or link."), "material_kind_invalid")
    title = _clean_text(title, field_name="title", limit=MATERIAL_TITLE_MAX)
    cleaned = _CleanMaterial(kind=kind, title=title, text="", url="", image=None, image_name="")
    if kind == K.TEXT:
        cleaned.text = _clean_text(text, field_name="text", limit=MATERIAL_TEXT_MAX, required=True)
    elif kind == K.LINK:
        cleaned.url = _clean_url(url, field_name="url")
    else:
        if not image:
            raise _invalid("image", _("Choose a photo."), "image_required")
        clean = clean_image(image, max_bytes=IMAGE_MAX_BYTES, field="image")
        cleaned.image = clean.content
        cleaned.image_name = f"{get_random_string(12)}.{clean.format}"
    return cleaned


def material_add(
    *, class_id: int, actor, kind: str, title: str = "", text: str = "", image=None, url: str = ""
) -> ClassMaterial:
    """Add a text, a photo (checked and re-encoded without its metadata, like every upload) or a link."""
    _require_person(actor)
    micro_class = _class(class_id)
    _require_manager(actor, micro_class, speaker_too=True)
    if micro_class.status == C.CANCELLED:
        raise Conflict(_("This class was cancelled."), code="class_cancelled")
    cleaned = _clean_material(kind=kind, title=title, text=text, image=image, url=url)
    written = None
    try:
        with transaction.atomic():
            micro_class = _class(class_id, lock=True)
            existing = ClassMaterial.objects.filter(micro_class=micro_class).aggregate(
                count=Count("pk"), last=Max("sort")
            )
            if existing["count"] >= MATERIALS_MAX:
                raise Conflict(
                    _("A class has at most %(count)s materials.") % {"count": MATERIALS_MAX}, code="materials_full"
                )
            material = ClassMaterial(
                micro_class=micro_class,
                kind=cleaned.kind,
                title=cleaned.title,
                text=cleaned.text,
                url=cleaned.url,
                sort=(existing["last"] or 0) + 1 if existing["count"] else 0,
            )
            if cleaned.image is not None:
                material.image.save(cleaned.image_name, cleaned.image, save=False)
                written = (material.image.storage, material.image.name)
            material.save()
    except BaseException:
        if written is not None:
            written[0].delete(written[1])
        raise
    return material


def material_remove(*, material_id: int, actor) -> None:
    _require_person(actor)
    material = ClassMaterial.objects.select_related("micro_class").filter(pk=material_id).first()
    if material is None:
        raise NotFound(_("No such material."), code="material_not_found")
    _require_manager(actor, material.micro_class, speaker_too=True)
    with transaction.atomic():
        ClassMaterial.objects.filter(pk=material.pk).delete()
        if material.image:
            storage, name = material.image.storage, material.image.name
            transaction.on_commit(lambda: storage.delete(name))


def class_replay_set(*, class_id: int, actor, url: str) -> MicroClass:
    """The replay's link, once the class has ended (empty removes it). The signed-up members are told once."""
    _require_person(actor)
    classes_settle(class_ids=[class_id] if isinstance(class_id, int) else [])
    with transaction.atomic():
        micro_class = _class(class_id, lock=True)
        _require_manager(actor, micro_class, speaker_too=True)
        if micro_class.status != C.ENDED:
            raise Conflict(_("The replay is added once the class has ended."), code="class_not_ended")
        micro_class.replay_url = _clean_url(url, field_name="url", required=False)
        micro_class.save(update_fields=["replay_url", "updated_at"])
        if micro_class.replay_url:
            with site_language():
                _notify_signed_up(
                    micro_class,
                    kind="class_replay",
                    key=f"class-replay:{micro_class.pk}",
                    title=_("The replay of “%(title)s” is ready") % {"title": micro_class.title},
                )
    return micro_class


__all__ = [
    "class_attend",
    "class_cancel",
    "class_create",
    "class_end",
    "class_replay_set",
    "class_signup",
    "class_signup_cancel",
    "class_start",
    "class_update",
    "classes_remind_due",
    "classes_settle",
    "material_add",
    "material_remove",
    "may_manage",
]
