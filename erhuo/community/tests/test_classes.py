"""Micro-classes through the services: who may schedule, sign up, run and report on a class; capacity;
reminders sent once; the clock; attendance; materials and the replay. Every refusal changes nothing."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community.models import ClassMaterial, ClassSignup, Group, Membership, MicroClass, MicroClassTransition
from erhuo.community.services import classes as services
from erhuo.community.tests.classes_setup import expert, png, refused, schedule, world_fixture  # noqa: F401
from erhuo.community.tests.factories import member_of
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.notifications.models import Notice

pytestmark = pytest.mark.django_db

C = MicroClass.Status


@pytest.fixture(autouse=True)
def _site_in_english(settings):
    # Notices are written in the site's language; these tests read them in English.
    settings.LANGUAGE_CODE = "en"
    settings.ERHUO_CLASS_REMINDER_MINUTES = 60


# --- scheduling ---------------------------------------------------------------------------------------


def test_a_leader_schedules_a_class_into_her_group(world):
    now = timezone.now()
    micro_class = schedule(world["leader"], [world["group"]], speaker=world["speaker"], now=now, capacity=30)

    stored = MicroClass.objects.get()
    assert (stored.pk, stored.title, stored.topic, stored.status, stored.capacity, stored.duration_minutes) == (
        micro_class.pk,
        "奢侈品包袋鉴定入门",
        "鉴定",
        "scheduled",
        30,
        45,
    )
    assert (stored.speaker_id, stored.created_by_id, stored.starts_at) == (
        world["speaker"].pk,
        world["leader"].pk,
        now + timedelta(days=2),
    )
    assert list(stored.groups.values_list("pk", flat=True)) == [world["group"].pk]
    assert list(MicroClassTransition.objects.values_list("from_state", "to_state", "actor_id")) == [
        ("", "scheduled", world["leader"].pk)
    ]


def test_an_assistant_schedules_too_and_an_operator_into_any_groups(world):
    assistant = member_of(world["group"], role=Membership.Role.ASSISTANT).user
    schedule(assistant, [world["group"]])
    both = schedule(world["operator"], [world["group"], world["other_group"]], speaker=world["operator"])
    assert sorted(both.groups.values_list("pk", flat=True)) == sorted([world["group"].pk, world["other_group"].pk])
    assert both.speaker_id == world["operator"].pk


def test_a_leader_cannot_schedule_into_another_leaders_group(world):
    refused(PermissionRefused, "not_your_group", lambda: schedule(world["leader"], [world["other_group"]]))
    # Her own group and another's: refused whole.
    refused(
        PermissionRefused,
        "not_your_group",
        lambda: schedule(world["leader"], [world["group"], world["other_group"]]),
    )


def test_members_and_visitors_cannot_schedule(world):
    from django.contrib.auth.models import AnonymousUser

    refused(PermissionRefused, "not_group_admin", lambda: schedule(world["member"], [world["group"]]))
    refused(PermissionRefused, "login_required", lambda: schedule(AnonymousUser(), [world["group"]]))
    refused(PermissionRefused, "login_required", lambda: schedule(None, [world["group"]]))


def test_the_speaker_must_be_an_expert_or_an_operator(world):
    error = refused(
        ValidationFailed,
        "speaker_not_expert",
        lambda: schedule(world["leader"], [world["group"]], speaker=world["member"]),
    )
    assert error.fields == {"speaker": ["The speaker must be one of our experts (or an operator)."]}
    retired = expert()
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    refused(
        ValidationFailed, "speaker_not_expert", lambda: schedule(world["leader"], [world["group"]], speaker=retired)
    )


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"starts_in": timedelta(minutes=-1)}, "class_starts_in_the_past", "starts_at"),
        ({"starts_in": timedelta(days=181)}, "class_too_far_ahead", "starts_at"),
        ({"duration_minutes": 5}, "duration_invalid", "duration_minutes"),
        ({"duration_minutes": 241}, "duration_invalid", "duration_minutes"),
        ({"title": "  "}, "title_required", "title"),
        ({"title": "课" * 81}, "title_too_long", "title"),
        ({"topic": ""}, "topic_required", "topic"),
        ({"capacity": 0}, "capacity_invalid", "capacity"),
    ],
)
def test_bad_fields_are_refused_and_nothing_is_written(world, overrides, code, field):
    error = refused(ValidationFailed, code, lambda: schedule(world["leader"], [world["group"]], **overrides))
    assert field in error.fields


def test_groups_must_exist_be_open_and_be_named(world):
    operator = world["operator"]
    refused(ValidationFailed, "groups_required", lambda: schedule(operator, []))
    refused(
        ValidationFailed,
        "group_not_found",
        lambda: services.class_create(
            actor=operator,
            title="t",
            topic="t",
            speaker=world["speaker"],
            starts_at=timezone.now() + timedelta(days=1),
            duration_minutes=30,
            group_ids=[world["group"].pk + 1000],
        ),
    )
    Group.objects.filter(pk=world["other_group"].pk).update(status=Group.Status.ARCHIVED)
    refused(ValidationFailed, "group_archived", lambda: schedule(operator, [world["other_group"]]))


# --- changing and cancelling ------------------------------------------------------------------------------


def test_changing_the_time_tells_the_signed_up_and_reminds_them_again(world, django_capture_on_commit_callbacks):
    now = timezone.now()
    micro_class = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=50), now=now)
    services.class_signup(class_id=micro_class.pk, user=world["member"], now=now)
    assert services.classes_remind_due(now=now) == 1

    later = now + timedelta(days=1)
    services.class_update(class_id=micro_class.pk, actor=world["leader"], starts_at=later, title="新标题", now=now)

    micro_class.refresh_from_db()
    assert (micro_class.title, micro_class.starts_at) == ("新标题", later)
    assert ClassSignup.objects.get().reminded_at is None
    moved = Notice.objects.get(kind="class_moved")
    assert (moved.user_id, moved.url) == (world["member"].pk, f"/classes/{micro_class.pk}/")
    assert moved.title.startswith("New time for “新标题”: ")
    # Reminded again before the new time (a new key), once.
    assert services.classes_remind_due(now=later - timedelta(minutes=30)) == 1
    assert services.classes_remind_due(now=later - timedelta(minutes=20)) == 0
    assert Notice.objects.filter(kind="class_reminder", user=world["member"]).count() == 2


def test_changes_are_refused_for_other_leaders_members_and_started_classes(world):
    micro_class = schedule(world["leader"], [world["group"]], capacity=5)
    services.class_signup(class_id=micro_class.pk, user=world["member"])
    services.class_signup(class_id=micro_class.pk, user=member_of(world["group"]).user)
    refused(
        PermissionRefused,
        "not_your_group",
        lambda: services.class_update(class_id=micro_class.pk, actor=world["other_leader"], title="Hijacked"),
    )
    refused(
        PermissionRefused,
        "not_group_admin",
        lambda: services.class_update(class_id=micro_class.pk, actor=world["member"], title="Mine now"),
    )
    refused(
        Conflict,
        "capacity_below_signups",
        lambda: services.class_update(class_id=micro_class.pk, actor=world["leader"], capacity=1),
    )
    refused(
        ValidationFailed,
        "class_starts_in_the_past",
        lambda: services.class_update(
            class_id=micro_class.pk, actor=world["leader"], starts_at=timezone.now() - timedelta(hours=1)
        ),
    )
    refused(
        NotFound, "class_not_found", lambda: services.class_update(class_id=10**9, actor=world["leader"], title="x")
    )
    MicroClass.objects.filter(pk=micro_class.pk).update(status=C.LIVE)
    refused(
        Conflict,
        "class_not_scheduled",
        lambda: services.class_update(class_id=micro_class.pk, actor=world["leader"], title="Too late"),
    )


def test_cancelling_tells_the_signed_up_members_why(world, django_capture_on_commit_callbacks):
    micro_class = schedule(world["leader"], [world["group"]])
    services.class_signup(class_id=micro_class.pk, user=world["member"])
    gave_up = member_of(world["group"]).user
    services.class_signup(class_id=micro_class.pk, user=gave_up)
    services.class_signup_cancel(class_id=micro_class.pk, user=gave_up)

    refused(
        PermissionRefused,
        "not_your_group",
        lambda: services.class_cancel(class_id=micro_class.pk, actor=world["other_leader"], reason="No"),
    )
    refused(
        ValidationFailed,
        "reason_required",
        lambda: services.class_cancel(class_id=micro_class.pk, actor=world["leader"], reason=" "),
    )
    services.class_cancel(class_id=micro_class.pk, actor=world["leader"], reason="The speaker is ill")

    micro_class.refresh_from_db()
    assert micro_class.status == C.CANCELLED
    assert MicroClassTransition.objects.filter(to_state=C.CANCELLED).values_list("note", flat=True).get() == (
        "The speaker is ill"
    )
    assert list(Notice.objects.values_list("user_id", "kind", "title", "body")) == [
        (world["member"].pk, "class_cancelled", "Cancelled: “奢侈品包袋鉴定入门”", "The speaker is ill")
    ]
    refused(
        Conflict,
        "class_not_scheduled",
        lambda: services.class_cancel(class_id=micro_class.pk, actor=world["leader"], reason="Again"),
    )


# --- sign-ups ---------------------------------------------------------------------------------------------


def test_a_member_signs_up_once(world):
    micro_class = schedule(world["leader"], [world["group"]])
    first = services.class_signup(class_id=micro_class.pk, user=world["member"])
    again = services.class_signup(class_id=micro_class.pk, user=world["member"])
    assert again.pk == first.pk
    assert ClassSignup.objects.count() == 1
    assert (first.user_id, first.reminded_at, first.attended_at, first.cancelled_at) == (
        world["member"].pk,
        None,
        None,
        None,
    )


def test_only_active_members_of_its_groups_sign_up(world):
    micro_class = schedule(world["leader"], [world["group"]])
    outsider = UserFactory(roles=[roles.MEMBER])
    left = member_of(world["group"])
    Membership.objects.filter(pk=left.pk).update(status=Membership.Status.LEFT)
    for person in (world["other_member"], world["other_leader"], outsider, left.user, world["operator"]):
        refused(NotFound, "class_not_found", lambda p=person: services.class_signup(class_id=micro_class.pk, user=p))
    refused(NotFound, "class_not_found", lambda: services.class_signup(class_id=10**9, user=world["member"]))


def test_a_full_class_refuses_and_a_place_given_up_is_taken_again(world):
    micro_class = schedule(world["leader"], [world["group"]], capacity=2)
    first, second, third = world["member"], member_of(world["group"]).user, member_of(world["group"]).user
    services.class_signup(class_id=micro_class.pk, user=first)
    services.class_signup(class_id=micro_class.pk, user=second)

    error = refused(Conflict, "class_full", lambda: services.class_signup(class_id=micro_class.pk, user=third))
    assert error.message == "This class is full."
    # Already in: still hers when full.
    assert services.class_signup(class_id=micro_class.pk, user=first).user_id == first.pk

    services.class_signup_cancel(class_id=micro_class.pk, user=second)
    services.class_signup(class_id=micro_class.pk, user=third)
    refused(Conflict, "class_full", lambda: services.class_signup(class_id=micro_class.pk, user=second))
    assert sorted(ClassSignup.objects.filter(cancelled_at__isnull=True).values_list("user_id", flat=True)) == sorted(
        [first.pk, third.pk]
    )


def test_coming_back_after_giving_up_reuses_the_sign_up(world):
    micro_class = schedule(world["leader"], [world["group"]])
    signup = services.class_signup(class_id=micro_class.pk, user=world["member"])
    cancelled = services.class_signup_cancel(class_id=micro_class.pk, user=world["member"])
    assert cancelled.cancelled_at is not None
    back = services.class_signup(class_id=micro_class.pk, user=world["member"])
    assert (back.pk, back.cancelled_at) == (signup.pk, None)
    refused(
        NotFound,
        "signup_not_found",
        lambda: services.class_signup_cancel(class_id=micro_class.pk, user=member_of(world["group"]).user),
    )
    refused(
        NotFound,
        "class_not_found",
        lambda: services.class_signup_cancel(class_id=micro_class.pk, user=world["other_member"]),
    )


def test_no_sign_up_once_a_class_is_over_or_cancelled(world):
    now = timezone.now()
    over = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=10), now=now)
    cancelled = schedule(world["leader"], [world["group"]])
    services.class_cancel(class_id=cancelled.pk, actor=world["leader"], reason="Moved")
    services.classes_settle(now=now + timedelta(hours=2))
    refused(Conflict, "class_closed", lambda: services.class_signup(class_id=over.pk, user=world["member"]))
    refused(Conflict, "class_closed", lambda: services.class_signup(class_id=cancelled.pk, user=world["member"]))


# --- reminders --------------------------------------------------------------------------------------------


def test_reminders_go_once_to_those_signed_up_for_classes_starting_soon(world, django_capture_on_commit_callbacks):
    now = timezone.now()
    soon = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=45), now=now)
    later = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=90), now=now)
    second = member_of(world["group"]).user
    gave_up = member_of(world["group"]).user
    for person in (world["member"], second, gave_up):
        services.class_signup(class_id=soon.pk, user=person, now=now)
    services.class_signup(class_id=later.pk, user=world["member"], now=now)
    services.class_signup_cancel(class_id=soon.pk, user=gave_up)

    assert services.classes_remind_due(now=now) == 2
    assert services.classes_remind_due(now=now + timedelta(minutes=5)) == 0

    reminders = list(Notice.objects.filter(kind="class_reminder").order_by("user_id"))
    assert [(n.user_id, n.url, n.data["class_id"]) for n in reminders] == [
        (world["member"].pk, f"/classes/{soon.pk}/", soon.pk),
        (second.pk, f"/classes/{soon.pk}/", soon.pk),
    ]
    start = timezone.localtime(soon.starts_at).strftime("%H:%M")
    assert reminders[0].title == f"Starting at {start}: “奢侈品包袋鉴定入门”"
    assert reminders[0].body == f"{soon.speaker.display_name} on 鉴定. Open the class page to join."
    assert set(ClassSignup.objects.filter(reminded_at__isnull=False).values_list("micro_class_id", "user_id")) == {
        (soon.pk, world["member"].pk),
        (soon.pk, second.pk),
    }
    # The later class comes into the window on a later run.
    assert services.classes_remind_due(now=now + timedelta(minutes=31)) == 1
    assert Notice.objects.filter(kind="class_reminder").count() == 3


def test_a_late_sign_up_is_reminded_on_the_next_run_and_a_crashed_run_never_reminds_twice(world):
    now = timezone.now()
    micro_class = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=30), now=now)
    services.class_signup(class_id=micro_class.pk, user=world["member"], now=now)
    assert services.classes_remind_due(now=now) == 1
    # A run that sent the notice but died before writing reminded_at: the next run writes it, sends nothing.
    ClassSignup.objects.update(reminded_at=None)
    assert services.classes_remind_due(now=now + timedelta(minutes=5)) == 1
    assert Notice.objects.filter(kind="class_reminder").count() == 1

    late = member_of(world["group"]).user
    services.class_signup(class_id=micro_class.pk, user=late, now=now + timedelta(minutes=10))
    assert services.classes_remind_due(now=now + timedelta(minutes=10)) == 1
    assert Notice.objects.filter(kind="class_reminder").count() == 2


def test_no_reminder_for_cancelled_or_finished_classes(world):
    now = timezone.now()
    cancelled = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=30), now=now)
    services.class_signup(class_id=cancelled.pk, user=world["member"], now=now)
    services.class_cancel(class_id=cancelled.pk, actor=world["leader"], reason="Ill")
    finished = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=10), now=now)
    services.class_signup(class_id=finished.pk, user=world["member"], now=now)
    # The worker was down through the whole class: nothing to remind about afterwards.
    assert services.classes_remind_due(now=now + timedelta(minutes=56)) == 0
    assert Notice.objects.filter(kind="class_reminder").count() == 0


# --- the clock, start and end -------------------------------------------------------------------------------


def test_the_clock_starts_and_ends_classes(world):
    now = timezone.now()
    micro_class = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=10), now=now)
    assert services.classes_settle(now=now) == 0
    assert services.classes_settle(now=now + timedelta(minutes=10)) == 1
    micro_class.refresh_from_db()
    assert micro_class.status == C.LIVE
    assert services.classes_settle(now=now + timedelta(minutes=54)) == 0
    assert services.classes_settle(now=now + timedelta(minutes=55)) == 1
    micro_class.refresh_from_db()
    assert micro_class.status == C.ENDED
    assert list(MicroClassTransition.objects.values_list("from_state", "to_state", "actor_id")) == [
        ("", "scheduled", world["leader"].pk),
        ("scheduled", "live", None),
        ("live", "ended", None),
    ]


def test_a_class_whose_whole_time_passed_unseen_ends_directly(world):
    now = timezone.now()
    micro_class = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=10), now=now)
    assert services.classes_settle(now=now + timedelta(days=1)) == 1
    micro_class.refresh_from_db()
    assert micro_class.status == C.ENDED


def test_the_speaker_starts_early_and_ends_it_members_cannot(world):
    now = timezone.now()
    micro_class = schedule(
        world["leader"], [world["group"]], speaker=world["speaker"], starts_in=timedelta(minutes=40), now=now
    )
    refused(
        Conflict,
        "class_too_early",
        lambda: services.class_start(class_id=micro_class.pk, actor=world["speaker"], now=now),
    )
    refused(
        PermissionRefused,
        "not_group_admin",
        lambda: services.class_start(class_id=micro_class.pk, actor=world["member"], now=now + timedelta(minutes=15)),
    )
    refused(
        PermissionRefused,
        "not_your_group",
        lambda: services.class_start(
            class_id=micro_class.pk, actor=world["other_leader"], now=now + timedelta(minutes=15)
        ),
    )
    refused(Conflict, "class_not_live", lambda: services.class_end(class_id=micro_class.pk, actor=world["speaker"]))
    services.class_start(class_id=micro_class.pk, actor=world["speaker"], now=now + timedelta(minutes=15))
    micro_class.refresh_from_db()
    assert micro_class.status == C.LIVE
    refused(
        PermissionRefused, "not_group_admin", lambda: services.class_end(class_id=micro_class.pk, actor=world["member"])
    )
    services.class_end(class_id=micro_class.pk, actor=world["speaker"])
    micro_class.refresh_from_db()
    assert micro_class.status == C.ENDED


# --- attendance -----------------------------------------------------------------------------------------------


def test_a_signed_up_member_marks_her_attendance_while_it_is_on(world):
    now = timezone.now()
    micro_class = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=10), now=now)
    services.class_signup(class_id=micro_class.pk, user=world["member"], now=now)
    refused(
        Conflict,
        "class_not_live",
        lambda: services.class_attend(class_id=micro_class.pk, user=world["member"], now=now),
    )
    not_signed = member_of(world["group"]).user
    during = now + timedelta(minutes=15)
    # The clock first (each service settles it too; a refusal changes nothing else).
    services.classes_settle(now=during)
    refused(
        Conflict, "not_signed_up", lambda: services.class_attend(class_id=micro_class.pk, user=not_signed, now=during)
    )
    refused(
        NotFound,
        "class_not_found",
        lambda: services.class_attend(class_id=micro_class.pk, user=world["other_member"], now=during),
    )
    signup = services.class_attend(class_id=micro_class.pk, user=world["member"], now=during)
    assert signup.attended_at == during
    again = services.class_attend(class_id=micro_class.pk, user=world["member"], now=during + timedelta(minutes=5))
    assert again.attended_at == during


def test_the_leader_marks_who_came_even_without_signing_up(world):
    now = timezone.now()
    micro_class = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=10), now=now)
    walk_in = member_of(world["group"]).user
    refused(
        Conflict,
        "class_not_started",
        lambda: services.class_attend(class_id=micro_class.pk, user=walk_in, actor=world["leader"], now=now),
    )
    after = now + timedelta(hours=2)
    services.classes_settle(now=after)
    refused(
        PermissionRefused,
        "not_your_group",
        lambda: services.class_attend(class_id=micro_class.pk, user=walk_in, actor=world["other_leader"], now=after),
    )
    refused(
        NotFound,
        "member_not_found",
        lambda: services.class_attend(
            class_id=micro_class.pk, user=world["other_member"], actor=world["leader"], now=after
        ),
    )
    signup = services.class_attend(class_id=micro_class.pk, user=walk_in, actor=world["leader"], now=after)
    assert (signup.user_id, signup.attended_at, signup.cancelled_at) == (walk_in.pk, after, None)
    micro_class.refresh_from_db()
    assert micro_class.status == C.ENDED


# --- materials and the replay -----------------------------------------------------------------------------------


def media_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_the_speaker_and_leaders_add_text_photos_and_links(world, settings):
    micro_class = schedule(world["leader"], [world["group"]], speaker=world["speaker"])
    text = services.material_add(
        class_id=micro_class.pk, actor=world["speaker"], kind="text", title="提纲", text="一、看走线\n二、看五金"
    )
    photo = services.material_add(class_id=micro_class.pk, actor=world["leader"], kind="image", image=png())
    link = services.material_add(
        class_id=micro_class.pk, actor=world["operator"], kind="link", url="https://example.com/slides"
    )
    rows = list(ClassMaterial.objects.order_by("sort").values_list("kind", "title", "text", "url", "sort"))
    assert rows == [
        ("text", "提纲", "一、看走线\n二、看五金", "", 0),
        ("image", "", "", "", 1),
        ("link", "", "", "https://example.com/slides", 2),
    ]
    assert text.pk and link.pk
    photo.refresh_from_db()
    assert photo.image.name.startswith("classes/") and photo.image.name.endswith(".png")
    with Image.open(photo.image.path) as stored:
        assert stored.size == (20, 10)
        assert not stored.info.get("exif")
    assert media_files(settings) == [photo.image.name]


def test_bad_materials_and_wrong_people_are_refused_with_no_rows_and_no_files(world, settings):
    micro_class = schedule(world["leader"], [world["group"]])
    not_an_image = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    cases = [
        (ValidationFailed, "image_invalid", {"actor": world["leader"], "kind": "image", "image": not_an_image}),
        (ValidationFailed, "image_required", {"actor": world["leader"], "kind": "image"}),
        (ValidationFailed, "text_required", {"actor": world["leader"], "kind": "text", "text": " "}),
        (ValidationFailed, "url_invalid", {"actor": world["leader"], "kind": "link", "url": "javascript:alert(1)"}),
        (ValidationFailed, "material_kind_invalid", {"actor": world["leader"], "kind": "video"}),
        (PermissionRefused, "not_group_admin", {"actor": world["member"], "kind": "image", "image": png()}),
        (PermissionRefused, "not_your_group", {"actor": world["other_leader"], "kind": "text", "text": "hi"}),
    ]
    for error_type, code, fields in cases:
        refused(error_type, code, lambda f=fields: services.material_add(class_id=micro_class.pk, **f))
    assert media_files(settings) == []


def test_removing_a_material_removes_its_file_after_commit(world, settings, django_capture_on_commit_callbacks):
    micro_class = schedule(world["leader"], [world["group"]], speaker=world["speaker"])
    photo = services.material_add(class_id=micro_class.pk, actor=world["speaker"], kind="image", image=png())
    refused(
        PermissionRefused,
        "not_group_admin",
        lambda: services.material_remove(material_id=photo.pk, actor=world["member"]),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.material_remove(material_id=photo.pk, actor=world["speaker"])
    assert ClassMaterial.objects.count() == 0
    assert media_files(settings) == []
    refused(
        NotFound, "material_not_found", lambda: services.material_remove(material_id=photo.pk, actor=world["leader"])
    )


def test_the_replay_is_set_once_the_class_has_ended_and_members_are_told_once(world):
    now = timezone.now()
    micro_class = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=10), now=now)
    services.class_signup(class_id=micro_class.pk, user=world["member"], now=now)
    refused(
        Conflict,
        "class_not_ended",
        lambda: services.class_replay_set(class_id=micro_class.pk, actor=world["leader"], url="https://x.example/r"),
    )
    services.classes_settle(now=now + timedelta(hours=1))
    refused(
        ValidationFailed,
        "url_invalid",
        lambda: services.class_replay_set(class_id=micro_class.pk, actor=world["leader"], url="ftp://x.example/r"),
    )
    refused(
        PermissionRefused,
        "not_your_group",
        lambda: services.class_replay_set(class_id=micro_class.pk, actor=world["other_leader"], url="https://x.ex/r"),
    )
    services.class_replay_set(class_id=micro_class.pk, actor=world["leader"], url="https://x.example/replay")
    services.class_replay_set(class_id=micro_class.pk, actor=world["leader"], url="https://x.example/replay2")
    micro_class.refresh_from_db()
    assert micro_class.replay_url == "https://x.example/replay2"
    assert list(Notice.objects.filter(kind="class_replay").values_list("user_id", "title")) == [
        (world["member"].pk, "The replay of “奢侈品包袋鉴定入门” is ready")
    ]
    services.class_replay_set(class_id=micro_class.pk, actor=world["leader"], url="")
    micro_class.refresh_from_db()
    assert micro_class.replay_url == ""


def test_the_periodic_tasks_run_the_services(world):
    from erhuo.community import tasks

    now = timezone.now()
    micro_class = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=20), now=now)
    services.class_signup(class_id=micro_class.pk, user=world["member"], now=now)
    assert tasks.remind_classes.call_local() == 1
    assert tasks.settle_classes.call_local() == 0
    assert Notice.objects.filter(kind="class_reminder").count() == 1
