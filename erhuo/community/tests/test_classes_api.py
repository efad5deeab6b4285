"""The micro-classes API: reading (404 outside its groups), scheduling by role, sign-ups, attendance, materials,
the replay. Every refusal leaves `{"code", "detail"}` and changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from erhuo.community.models import ClassMaterial, ClassSignup, MicroClass
from erhuo.community.services import classes as services
from erhuo.community.tests.classes_setup import png, schedule, snapshot, world_fixture  # noqa: F401 (fixture)
from erhuo.community.tests.factories import member_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def body(world, **overrides) -> dict:
    data = {
        "title": "宝宝夜里发烧怎么办",
        "topic": "育儿",
        "speaker": world["speaker"].username,
        "starts_at": (timezone.now() + timedelta(days=2)).isoformat(),
        "duration_minutes": 60,
        "capacity": 50,
        "group_ids": [world["group"].pk],
    }
    data.update(overrides)
    return data


def test_a_leader_schedules_and_the_member_reads_it(api_client, world):
    api_client.login(world["leader"])
    response = api_client.post("/api/v1/classes", body(world))
    assert response.status_code == 201
    created = response.json()
    micro_class = MicroClass.objects.get()
    assert (created["id"], created["status"], created["capacity"], created["signed_up"]) == (
        micro_class.pk,
        "scheduled",
        50,
        0,
    )
    assert created["speaker"] == {"username": world["speaker"].username, "display_name": world["speaker"].display_name}
    assert created["groups"] == [{"id": world["group"].pk, "name": world["group"].name}]
    assert created["can_manage"] is True
    assert created["participation"] == {"signed_up": 0, "reminded": 0, "attended": 0, "cancelled": 0}

    api_client.login(world["member"])
    listed = api_client.get("/api/v1/classes").json()
    assert [row["id"] for row in listed] == [micro_class.pk]
    detail = api_client.get(f"/api/v1/classes/{micro_class.pk}").json()
    assert (detail["can_manage"], detail["participation"], detail["mine"]) == (False, None, None)


def test_scheduling_is_refused_by_role_with_nothing_written(api_client, world):
    before = snapshot()
    api_client.login(world["leader"])
    response = api_client.post("/api/v1/classes", body(world, group_ids=[world["other_group"].pk]))
    assert (response.status_code, response.json()["code"]) == (403, "not_your_group")
    api_client.login(world["member"])
    response = api_client.post("/api/v1/classes", body(world))
    assert (response.status_code, response.json()["code"]) == (403, "not_group_admin")
    api_client.login(world["leader"])
    response = api_client.post("/api/v1/classes", body(world, speaker=world["member"].username))
    assert (response.status_code, response.json()["code"]) == (422, "speaker_not_expert")
    response = api_client.post("/api/v1/classes", body(world, speaker="nobody"))
    assert (response.status_code, response.json()["code"]) == (422, "speaker_not_found")
    response = api_client.post(
        "/api/v1/classes", body(world, starts_at=(timezone.now() - timedelta(hours=1)).isoformat())
    )
    assert (response.status_code, response.json()["code"]) == (422, "class_starts_in_the_past")
    api_client.token = None
    assert api_client.post("/api/v1/classes", body(world)).status_code == 401
    assert snapshot() == before


def test_a_class_is_404_outside_its_groups(api_client, world):
    micro_class = schedule(world["leader"], [world["group"]])
    before = snapshot()
    api_client.login(world["other_member"])
    assert api_client.get("/api/v1/classes").json() == []
    for method, path in (
        ("get", f"/api/v1/classes/{micro_class.pk}"),
        ("get", f"/api/v1/classes/{micro_class.pk}/signups"),
        ("post", f"/api/v1/classes/{micro_class.pk}/signup"),
        ("post", f"/api/v1/classes/{micro_class.pk}/attend"),
        ("post", f"/api/v1/classes/{micro_class.pk}/start"),
    ):
        response = getattr(api_client, method)(path)
        assert response.status_code == 404
        assert response.json() == {"code": "class_not_found", "detail": "No such class."}
    response = api_client.patch(f"/api/v1/classes/{micro_class.pk}", {"title": "Mine"})
    assert response.status_code == 404
    assert snapshot() == before


def test_sign_up_capacity_and_giving_up(api_client, world):
    micro_class = schedule(world["leader"], [world["group"]], capacity=1)
    api_client.login(world["member"])
    response = api_client.post(f"/api/v1/classes/{micro_class.pk}/signup")
    assert response.status_code == 200
    assert (response.json()["signed_up_by_me"], response.json()["signed_up"]) == (True, 1)
    assert api_client.post(f"/api/v1/classes/{micro_class.pk}/signup").status_code == 200
    assert ClassSignup.objects.count() == 1

    api_client.login(member_of(world["group"]).user)
    before = snapshot()
    response = api_client.post(f"/api/v1/classes/{micro_class.pk}/signup")
    assert response.status_code == 409
    assert response.json() == {"code": "class_full", "detail": "This class is full."}
    assert snapshot() == before

    api_client.login(world["member"])
    response = api_client.post(f"/api/v1/classes/{micro_class.pk}/signup/cancel")
    assert response.status_code == 200 and response.json()["mine"]["cancelled_at"] is not None


def test_organisers_see_signups_members_do_not(api_client, world):
    micro_class = schedule(world["leader"], [world["group"]], speaker=world["speaker"])
    services.class_signup(class_id=micro_class.pk, user=world["member"])
    api_client.login(world["member"])
    response = api_client.get(f"/api/v1/classes/{micro_class.pk}/signups")
    assert (response.status_code, response.json()["code"]) == (403, "not_class_organiser")
    for organiser in (world["leader"], world["speaker"], world["operator"]):
        api_client.login(organiser)
        rows = api_client.get(f"/api/v1/classes/{micro_class.pk}/signups").json()
        assert [(row["user_id"], row["attended_at"]) for row in rows] == [(world["member"].pk, None)]


def test_start_attend_end_and_replay(api_client, world):
    micro_class = schedule(world["leader"], [world["group"]], speaker=world["speaker"], starts_in=timedelta(minutes=20))
    services.class_signup(class_id=micro_class.pk, user=world["member"])
    walk_in = member_of(world["group"]).user

    api_client.login(world["member"])
    response = api_client.post(f"/api/v1/classes/{micro_class.pk}/start")
    assert (response.status_code, response.json()["code"]) == (403, "not_group_admin")
    response = api_client.post(f"/api/v1/classes/{micro_class.pk}/attend")
    assert (response.status_code, response.json()["code"]) == (409, "class_not_live")

    api_client.login(world["speaker"])
    assert api_client.post(f"/api/v1/classes/{micro_class.pk}/start").json()["status"] == "live"
    api_client.login(world["member"])
    assert api_client.post(f"/api/v1/classes/{micro_class.pk}/attend").json()["mine"]["attended_at"] is not None
    api_client.login(world["leader"])
    rows = api_client.post(f"/api/v1/classes/{micro_class.pk}/attendance", {"user_id": walk_in.pk}).json()
    assert sorted(row["user_id"] for row in rows if row["attended_at"]) == sorted([world["member"].pk, walk_in.pk])
    response = api_client.post(f"/api/v1/classes/{micro_class.pk}/attendance", {"user_id": world["other_member"].pk})
    assert (response.status_code, response.json()["code"]) == (404, "member_not_found")

    response = api_client.put(f"/api/v1/classes/{micro_class.pk}/replay", {"url": "https://replay.example/1"})
    assert (response.status_code, response.json()["code"]) == (409, "class_not_ended")
    assert api_client.post(f"/api/v1/classes/{micro_class.pk}/end").json()["status"] == "ended"
    replay = api_client.put(f"/api/v1/classes/{micro_class.pk}/replay", {"url": "https://replay.example/1"}).json()
    assert replay["replay_url"] == "https://replay.example/1"
    assert replay["participation"] == {"signed_up": 2, "reminded": 0, "attended": 2, "cancelled": 0}


def test_change_and_cancel(api_client, world):
    micro_class = schedule(world["leader"], [world["group"]])
    api_client.login(world["other_leader"])
    before = snapshot()
    # The other leader cannot read it at all: 404, as if it did not exist.
    assert api_client.patch(f"/api/v1/classes/{micro_class.pk}", {"title": "x"}).status_code == 404
    assert snapshot() == before

    api_client.login(world["leader"])
    changed = api_client.patch(f"/api/v1/classes/{micro_class.pk}", {"title": "新标题", "capacity": 0}).json()
    assert (changed["title"], changed["capacity"]) == ("新标题", None)
    response = api_client.patch(f"/api/v1/classes/{micro_class.pk}", {"title": None})
    assert response.status_code == 422
    cancelled = api_client.post(f"/api/v1/classes/{micro_class.pk}/cancel", {"reason": "The speaker is ill"}).json()
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "The speaker is ill")
    response = api_client.post(f"/api/v1/classes/{micro_class.pk}/cancel", {"reason": "again"})
    assert (response.status_code, response.json()["code"]) == (409, "class_not_scheduled")


def test_materials_multipart_and_removal(api_client, world, client):
    micro_class = schedule(world["leader"], [world["group"]], speaker=world["speaker"])
    api_client.login(world["speaker"])
    headers = {"Authorization": f"Bearer {api_client.token}"}
    response = client.post(
        f"/api/v1/classes/{micro_class.pk}/materials",
        {"kind": "image", "title": "细节", "image": png()},
        headers=headers,
    )
    assert response.status_code == 201
    material = response.json()
    assert (material["kind"], material["title"]) == ("image", "细节")
    assert material["image_url"].startswith("http://testserver/media/classes/")
    bad = client.post(
        f"/api/v1/classes/{micro_class.pk}/materials", {"kind": "link", "url": "ftp://x"}, headers=headers
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "url_invalid")

    api_client.login(world["member"])
    before = snapshot()
    response = api_client.delete(f"/api/v1/classes/{micro_class.pk}/materials/{material['id']}")
    assert (response.status_code, response.json()["code"]) == (403, "not_group_admin")
    assert snapshot() == before
    read = api_client.get(f"/api/v1/classes/{micro_class.pk}").json()
    assert [(m["kind"], m["title"]) for m in read["materials"]] == [("image", "细节")]

    api_client.login(world["speaker"])
    assert api_client.delete(f"/api/v1/classes/{micro_class.pk}/materials/{material['id']}").status_code == 204
    assert ClassMaterial.objects.count() == 0


def test_list_filters(api_client, world):
    first = schedule(world["leader"], [world["group"]], starts_in=timedelta(days=1))
    second = schedule(world["operator"], [world["group"], world["other_group"]], starts_in=timedelta(days=2))
    services.class_cancel(class_id=first.pk, actor=world["leader"], reason="No")
    api_client.login(world["other_member"])
    assert [row["id"] for row in api_client.get("/api/v1/classes").json()] == [second.pk]
    api_client.login(world["member"])
    assert [row["id"] for row in api_client.get("/api/v1/classes", status="cancelled").json()] == [first.pk]
    assert [row["id"] for row in api_client.get("/api/v1/classes", group_id=world["group"].pk).json()] == [
        first.pk,
        second.pk,
    ]
    assert api_client.get("/api/v1/classes", status="nonsense").status_code == 422
    api_client.login(world["operator"])
    assert len(api_client.get("/api/v1/classes").json()) == 2
