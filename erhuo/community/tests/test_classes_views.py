"""Micro-class pages: the class page, signing up, running the class, the leaders' forms, the group page's list.
A page a person may not see is 404 (a class of groups she is not in) or 403 (a wrong role); nothing changes."""

import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community.models import ClassMaterial, ClassSignup, MicroClass
from erhuo.community.services import classes as services
from erhuo.community.tests.classes_setup import png, schedule, snapshot, world_fixture  # noqa: F401 (fixture)
from erhuo.community.tests.factories import member_of
from erhuo.notifications.models import Notice

pytestmark = pytest.mark.django_db

C = MicroClass.Status


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def as_user(user=None) -> Client:
    client = Client(headers={"accept-language": "en"})
    if user is not None:
        client.force_login(user)
    return client


def page(micro_class) -> str:
    return reverse("community:class_detail", args=[micro_class.pk])


# --- the class page -----------------------------------------------------------------------------------------


def test_a_member_reads_the_class_in_china_time_and_signs_up(world):
    starts = timezone.now().replace(microsecond=0) + timedelta(days=3)
    micro_class = schedule(world["leader"], [world["group"]], speaker=world["speaker"], now=starts - timedelta(days=3))
    MicroClass.objects.filter(pk=micro_class.pk).update(starts_at=starts)
    member = as_user(world["member"])

    response = member.get(page(micro_class))
    assert response.status_code == 200
    html = response.text
    local = timezone.localtime(starts, timezone.get_fixed_timezone(8 * 60))
    assert local.strftime("%Y-%m-%d") in html and local.strftime("%H:%M") in html
    assert "China time" in html
    assert world["speaker"].display_name in html
    assert 'data-testid="class-signup"' in html
    assert 'data-testid="class-participation"' not in html  # members do not get the organisers' numbers

    response = member.post(reverse("community:class_signup", args=[micro_class.pk]))
    assert (response.status_code, response["Location"]) == (302, page(micro_class))
    assert list(ClassSignup.objects.values_list("user_id", flat=True)) == [world["member"].pk]
    after = member.get(page(micro_class)).text
    assert 'data-testid="class-signed-up-mine"' in after
    assert re.search(r'data-testid="class-signed-up">1<', after)

    member.post(reverse("community:class_signup_cancel", args=[micro_class.pk]))
    assert ClassSignup.objects.get().cancelled_at is not None


def test_the_class_page_is_404_for_anyone_outside_its_groups_and_needs_a_login(world):
    micro_class = schedule(world["leader"], [world["group"]])
    for person in (world["other_member"], world["other_leader"], UserFactory(roles=[roles.MEMBER])):
        assert as_user(person).get(page(micro_class)).status_code == 404
    assert as_user(world["member"]).get(reverse("community:class_detail", args=[10**9])).status_code == 404
    anonymous = as_user().get(page(micro_class))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:login"))
    # Operators and the speaker read it.
    assert as_user(world["operator"]).get(page(micro_class)).status_code == 200
    assert as_user(micro_class.speaker).get(page(micro_class)).status_code == 200


def test_posts_from_outside_its_groups_are_404_and_change_nothing(world):
    micro_class = schedule(world["leader"], [world["group"]])
    before = snapshot()
    outsider = as_user(world["other_member"])
    for name in ("class_signup", "class_signup_cancel", "class_attend", "class_start", "class_end"):
        assert outsider.post(reverse(f"community:{name}", args=[micro_class.pk])).status_code == 404
    assert as_user(world["member"]).get(reverse("community:class_signup", args=[micro_class.pk])).status_code == 405
    assert snapshot() == before


def test_posts_need_the_csrf_token(world):
    micro_class = schedule(world["leader"], [world["group"]])
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["member"])
    assert client.post(reverse("community:class_signup", args=[micro_class.pk])).status_code == 403
    assert ClassSignup.objects.count() == 0


def test_a_full_class_says_so_and_a_refused_sign_up_is_a_message(world):
    micro_class = schedule(world["leader"], [world["group"]], capacity=1)
    services.class_signup(class_id=micro_class.pk, user=world["leader"])
    member = as_user(world["member"])
    assert 'data-testid="class-full"' in member.get(page(micro_class)).text
    before = snapshot()
    response = member.post(reverse("community:class_signup", args=[micro_class.pk]), follow=True)
    assert "This class is full." in response.text
    assert snapshot() == before


def test_organisers_see_participation_and_members_mark_attendance_while_it_is_on(world):
    now = timezone.now()
    micro_class = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=20), now=now)
    services.class_signup(class_id=micro_class.pk, user=world["member"])
    second = member_of(world["group"]).user
    services.class_signup(class_id=micro_class.pk, user=second)
    services.classes_remind_due()
    MicroClass.objects.filter(pk=micro_class.pk).update(starts_at=now - timedelta(minutes=1))

    member = as_user(world["member"])
    assert 'data-testid="class-attend"' in member.get(page(micro_class)).text  # the clock put it on
    member.post(reverse("community:class_attend", args=[micro_class.pk]))

    html = as_user(world["leader"]).get(page(micro_class)).text
    numbers = dict(re.findall(r'data-testid="stat-([a-z-]+)">(\d+)<', html))
    assert numbers == {"signed-up": "2", "reminded": "2", "attended": "1"}
    assert 'data-testid="class-end"' in html


def test_ended_class_shows_the_replay(world):
    now = timezone.now()
    micro_class = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=10), now=now)
    services.classes_settle(now=now + timedelta(hours=1))
    member = as_user(world["member"])
    assert 'data-testid="class-replay-pending"' in member.get(page(micro_class)).text
    services.class_replay_set(class_id=micro_class.pk, actor=world["leader"], url="https://replay.example/7")
    html = member.get(page(micro_class)).text
    assert 'href="https://replay.example/7"' in html and 'data-testid="class-replay"' in html


def test_the_class_page_query_count_does_not_grow(world, django_assert_max_num_queries):
    micro_class = schedule(world["leader"], [world["group"]], speaker=world["speaker"])
    services.class_signup(class_id=micro_class.pk, user=world["member"])
    services.material_add(class_id=micro_class.pk, actor=world["leader"], kind="text", text="一")
    member, leader = as_user(world["member"]), as_user(world["leader"])
    # Session, user, the clock, the class with speaker and groups, membership, her permissions (2), whether she
    # runs its groups, her sign-up, the numbers, materials, the bell.
    with django_assert_max_num_queries(14):
        member.get(page(micro_class))
    with django_assert_max_num_queries(14):
        leader.get(page(micro_class))
    for n in range(6):
        services.class_signup(class_id=micro_class.pk, user=member_of(world["group"]).user)
        services.material_add(class_id=micro_class.pk, actor=world["leader"], kind="link", url=f"https://x.ex/{n}")
    with django_assert_max_num_queries(14):
        response = member.get(page(micro_class))
    assert response.text.count('data-testid="class-material"') == 7
    with django_assert_max_num_queries(14):
        leader.get(page(micro_class))


# --- running the class --------------------------------------------------------------------------------------


def test_the_manage_page_is_for_the_speaker_and_managers(world):
    micro_class = schedule(world["leader"], [world["group"]], speaker=world["speaker"])
    url = reverse("community:class_manage", args=[micro_class.pk])
    assert as_user(world["member"]).get(url).status_code == 403
    assert as_user(world["other_leader"]).get(url).status_code == 404
    for person in (world["speaker"], world["leader"], world["operator"]):
        assert as_user(person).get(url).status_code == 200


def test_materials_through_the_page(world, settings):
    micro_class = schedule(world["leader"], [world["group"]], speaker=world["speaker"])
    speaker = as_user(world["speaker"])
    url = reverse("community:class_material_add", args=[micro_class.pk])

    response = speaker.post(url, {"kind": "image", "title": "五金细节", "image": png()})
    assert response.status_code == 302
    bad = speaker.post(url, {"kind": "link", "url": "javascript:alert(1)"})
    assert bad.status_code == 422 and "Enter a web address" in bad.text
    assert list(ClassMaterial.objects.values_list("kind", "title")) == [("image", "五金细节")]
    assert "五金细节" in as_user(world["member"]).get(page(micro_class)).text

    before = snapshot()
    assert as_user(world["member"]).post(url, {"kind": "text", "text": "hi"}).status_code == 403
    assert as_user(world["other_member"]).post(url, {"kind": "text", "text": "hi"}).status_code == 404
    material = ClassMaterial.objects.get()
    remove = reverse("community:class_material_remove", args=[micro_class.pk, material.pk])
    assert as_user(world["member"]).post(remove).status_code == 403
    assert snapshot() == before
    assert speaker.post(remove).status_code == 302
    assert ClassMaterial.objects.count() == 0


def test_the_leader_marks_attendance_and_sets_the_replay(world):
    now = timezone.now()
    micro_class = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=10), now=now)
    services.class_signup(class_id=micro_class.pk, user=world["member"])
    services.classes_settle(now=now + timedelta(hours=1))
    leader = as_user(world["leader"])
    manage = leader.get(reverse("community:class_manage", args=[micro_class.pk])).text
    assert 'data-testid="mark-attended"' in manage

    mark = reverse("community:class_mark_attended", args=[micro_class.pk, world["member"].pk])
    before = snapshot()
    assert as_user(world["member"]).post(mark).status_code == 403
    assert snapshot() == before
    assert leader.post(mark).status_code == 302
    assert ClassSignup.objects.get().attended_at is not None

    replay = reverse("community:class_replay", args=[micro_class.pk])
    assert leader.post(replay, {"url": "https://replay.example/1"}).status_code == 302
    micro_class.refresh_from_db()
    assert micro_class.replay_url == "https://replay.example/1"


# --- the leaders' forms -------------------------------------------------------------------------------------


def new_class_post(world, **overrides) -> dict:
    starts = timezone.localtime(timezone.now() + timedelta(days=2), timezone.get_fixed_timezone(8 * 60))
    data = {
        "title": "通勤穿搭",
        "topic": "穿搭",
        "description": "",
        "speaker": world["speaker"].username,
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "45",
        "capacity": "",
        "group_ids": [str(world["group"].pk)],
    }
    data.update(overrides)
    return data


def test_a_leader_schedules_through_the_form_in_china_time(world, settings):
    settings.TIME_ZONE = "UTC"  # whatever the server's zone, the form's time is China time
    url = reverse("community:class_new", args=[world["group"].pk])
    leader = as_user(world["leader"])
    form = leader.get(url)
    assert form.status_code == 200
    assert f'value="{world["speaker"].username}"' in form.text  # the experts are suggested
    assert f'value="{world["other_group"].pk}"' not in form.text  # only her own groups are offered

    day = (timezone.now() + timedelta(days=30)).date()
    response = leader.post(url, new_class_post(world, starts_at=f"{day.isoformat()}T20:00"))
    micro_class = MicroClass.objects.get()
    assert (response.status_code, response["Location"]) == (302, page(micro_class))
    assert micro_class.starts_at.isoformat() == f"{day.isoformat()}T12:00:00+00:00"
    assert (micro_class.title, micro_class.speaker_id, micro_class.created_by_id) == (
        "通勤穿搭",
        world["speaker"].pk,
        world["leader"].pk,
    )


def test_the_form_shows_the_services_refusals(world):
    leader = as_user(world["leader"])
    url = reverse("community:class_new", args=[world["group"].pk])
    not_expert = leader.post(url, new_class_post(world, speaker=world["member"].username))
    assert not_expert.status_code == 422 and "must be one of our experts" in not_expert.text
    unknown = leader.post(url, new_class_post(world, speaker="nobody-here"))
    assert unknown.status_code == 422 and "No member with this username." in unknown.text
    past = leader.post(url, new_class_post(world, starts_at="2001-01-01T20:00"))
    assert past.status_code == 422 and "A class starts in the future." in past.text
    assert MicroClass.objects.count() == 0


def test_wrong_roles_on_the_leaders_pages(world):
    micro_class = schedule(world["leader"], [world["group"]])
    group_id = world["group"].pk
    new = reverse("community:class_new", args=[group_id])
    edit = reverse("community:class_edit", args=[group_id, micro_class.pk])
    cancel = reverse("community:class_cancel", args=[group_id, micro_class.pk])
    listing = reverse("community:group_classes_admin", args=[group_id])
    before = snapshot()
    for url in (new, edit, listing):
        assert as_user(world["other_leader"]).get(url).status_code == 403
        assert as_user(world["member"]).get(url).status_code == 404
    assert as_user(world["other_leader"]).post(new, new_class_post(world)).status_code == 403
    assert as_user(world["other_leader"]).post(cancel, {"reason": "mine now"}).status_code == 403
    assert as_user(world["member"]).post(cancel, {"reason": "no"}).status_code == 404
    # A class of another group through this group's address: 404.
    theirs = schedule(world["other_leader"], [world["other_group"]])
    before = snapshot()
    their_edit = reverse("community:class_edit", args=[group_id, theirs.pk])
    assert as_user(world["leader"]).get(their_edit).status_code == 404
    assert as_user(world["leader"]).post(their_edit, new_class_post(world)).status_code == 404
    assert snapshot() == before
    assert as_user(world["operator"]).get(new).status_code == 200


def test_a_leader_changes_and_cancels(world, django_capture_on_commit_callbacks):
    micro_class = schedule(world["leader"], [world["group"]], speaker=world["speaker"])
    services.class_signup(class_id=micro_class.pk, user=world["member"])
    leader = as_user(world["leader"])
    edit = reverse("community:class_edit", args=[world["group"].pk, micro_class.pk])
    form = leader.get(edit)
    assert form.status_code == 200 and 'data-testid="class-cancel-form"' in form.text

    data = new_class_post(world, title="改过的标题", capacity="10")
    del data["group_ids"]
    data["starts_at"] = timezone.localtime(micro_class.starts_at, timezone.get_fixed_timezone(480)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    starts_at = micro_class.starts_at
    with django_capture_on_commit_callbacks(execute=True):
        assert leader.post(edit, data).status_code == 302
    micro_class.refresh_from_db()
    assert (micro_class.title, micro_class.capacity) == ("改过的标题", 10)
    # The form shows minutes: the same minute is not a new time (nobody is told, reminders stand).
    assert micro_class.starts_at == starts_at
    assert not Notice.objects.filter(kind="class_moved").exists()

    cancel = reverse("community:class_cancel", args=[world["group"].pk, micro_class.pk])
    assert leader.post(cancel, {"reason": ""}).status_code == 302
    assert MicroClass.objects.get().status == C.SCHEDULED
    assert leader.post(cancel, {"reason": "The speaker is ill"}).status_code == 302
    assert MicroClass.objects.get().status == C.CANCELLED
    html = as_user(world["member"]).get(page(micro_class)).text
    assert "This class was cancelled." in html and "The speaker is ill" in html


# --- the group page's list --------------------------------------------------------------------------------------


def render_group_classes(group, user, *, runs_it=False) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return render_to_string("community/_group_classes.html", {"group": group, "runs_it": runs_it}, request=request)


def test_the_group_page_lists_upcoming_and_past_classes_with_her_sign_ups(world, django_assert_max_num_queries):
    now = timezone.now()
    soon = schedule(world["leader"], [world["group"]], starts_in=timedelta(hours=1), now=now, title="Soon")
    later = schedule(world["leader"], [world["group"]], starts_in=timedelta(days=3), now=now, title="Later")
    done = schedule(world["leader"], [world["group"]], starts_in=timedelta(minutes=5), now=now, title="Done")
    schedule(world["other_leader"], [world["other_group"]], title="Not this group")
    services.class_signup(class_id=later.pk, user=world["member"])
    MicroClass.objects.filter(pk=done.pk).update(starts_at=now - timedelta(days=1))

    services.classes_settle()
    # Her permissions (the navigation, 2), her membership, the clock, the upcoming and the past classes.
    with django_assert_max_num_queries(6):
        html = render_group_classes(world["group"], world["member"])
    rows = re.findall(r'data-class="(\d+)" data-status="(\w+)"', html)
    assert rows == [(str(soon.pk), "scheduled"), (str(later.pk), "scheduled"), (str(done.pk), "ended")]
    assert html.count('data-testid="class-mine"') == 1
    assert "Not this group" not in html
    assert 'data-testid="class-new"' not in html
    assert 'data-testid="class-new"' in render_group_classes(world["group"], world["leader"], runs_it=True)
    # Someone outside the group sees nothing of it.
    assert render_group_classes(world["group"], world["other_member"]).strip() == ""


def test_the_group_list_says_when_nothing_is_coming(world):
    assert 'data-testid="classes-none"' in render_group_classes(world["group"], world["member"])
