"""The activities API: creating (organisers only), reading (members of its groups only), entering, the
published draw re-checked by scripts/verify_draw.py, the report, themed drops. Refusals change nothing."""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community.models import Activity, ActivityEntry, Drop
from erhuo.community.services import activities as services
from erhuo.community.tests import factories
from erhuo.community.tests.test_activities import snapshot

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "verify_draw.py"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def leader(db):
    return UserFactory(roles=[roles.EXPERT])


@pytest.fixture
def group(leader):
    return factories.group(leader=leader)


def english(api_client, user):
    api_client.login(user)
    return api_client


def create_body(group_ids, **fields) -> dict:
    start = timezone.now() + timedelta(hours=1)
    return {
        "kind": "giveaway",
        "title": "API 抽奖",
        "group_ids": group_ids,
        "starts_at": start.isoformat(),
        "ends_at": (start + DAY).isoformat(),
        "prize": "围巾",
        "winners_count": 2,
        **fields,
    }


def run_script(record: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "-"], input=json.dumps(record), capture_output=True, text=True, timeout=60
    )


# --- creating ---------------------------------------------------------------------------------------


def test_a_leader_creates_a_giveaway_and_its_seed_hash_is_public_at_once(api_client, leader, group):
    response = english(api_client, leader).post("/api/v1/activities", create_body([group.pk]))
    assert response.status_code == 201, response.json()
    body = response.json()
    activity = Activity.objects.get()
    assert body["id"] == activity.pk and body["status"] == "scheduled"
    assert body["seed_hash"] == activity.seed_hash and len(body["seed_hash"]) == 64
    assert body["seed"] == "" and body["organiser"] is True
    assert body["groups"] == [{"id": group.pk, "name": group.name}]
    assert activity.seed_secret not in response.content.decode()


def test_a_leader_naming_another_leaders_group_is_refused_with_nothing_changed(api_client, leader, group):
    elsewhere = factories.group()
    before = snapshot()
    response = english(api_client, leader).post("/api/v1/activities", create_body([group.pk, elsewhere.pk]))
    assert response.status_code == 403
    assert response.json()["code"] == "not_your_group"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"prize": ""}, "prize"),
        ({"kind": "raffle"}, "kind"),
        ({"kind": "buy_with_gift", "threshold_fen": 0}, "threshold_fen"),
    ],
)
def test_bad_fields_are_422_with_the_field(api_client, leader, group, fields, field):
    response = english(api_client, leader).post("/api/v1/activities", create_body([group.pk], **fields))
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert not Activity.objects.exists()


def test_a_member_cannot_create(api_client, group, member):
    factories.member_of(group, member)
    response = english(api_client, member).post("/api/v1/activities", create_body([group.pk]))
    assert response.status_code == 403 and not Activity.objects.exists()


def test_without_a_token_the_api_answers_401(api_client, leader, group):
    activity = factories.activity(actor=leader, groups=[group])
    assert api_client.get(f"/api/v1/activities/{activity.pk}").status_code == 401
    assert api_client.post(f"/api/v1/activities/{activity.pk}/entries").status_code == 401


# --- reading and entering ------------------------------------------------------------------------------


def test_members_list_and_read_only_their_groups_activities(api_client, leader, group, member, other_member):
    factories.member_of(group, member)
    mine = factories.activity(actor=leader, groups=[group], title="本群")
    elsewhere = factories.activity(actor=factories.group().leader, groups=[factories.group()], title="别群")
    client = english(api_client, member)
    listed = client.get("/api/v1/activities").json()
    assert [row["id"] for row in listed["items"]] == [mine.pk]
    assert client.get(f"/api/v1/activities/{mine.pk}").status_code == 200
    hidden = client.get(f"/api/v1/activities/{elsewhere.pk}")
    assert hidden.status_code == 404 and hidden.json()["code"] == "activity_not_found"
    client.login(other_member)
    assert client.get("/api/v1/activities").json()["items"] == []
    assert client.get("/api/v1/activities", kind="lottery").status_code == 422


def test_entering_once_through_the_api(api_client, leader, group, member, other_member):
    factories.member_of(group, member)
    activity = factories.activity(actor=leader, groups=[group])
    client = english(api_client, member)
    first = client.post(f"/api/v1/activities/{activity.pk}/entries")
    assert first.status_code == 201 and first.json()["entrants_count"] == 1
    before = snapshot()
    twice = client.post(f"/api/v1/activities/{activity.pk}/entries")
    assert (twice.status_code, twice.json()["code"]) == (409, "already_entered")
    client.login(other_member)
    outsider = client.post(f"/api/v1/activities/{activity.pk}/entries")
    assert outsider.status_code == 404
    assert snapshot() == before
    client.login(member)
    detail = client.get(f"/api/v1/activities/{activity.pk}").json()
    assert (detail["entered"], detail["won"], detail["organiser"]) == (True, False, False)


def test_the_list_reads_a_bounded_number_of_queries(api_client, leader, group, member, django_assert_max_num_queries):
    factories.member_of(group, member)
    for n in range(8):
        factories.activity(actor=leader, groups=[group], title=f"活动 {n}")
    client = english(api_client, member)
    with django_assert_max_num_queries(14):
        response = client.get("/api/v1/activities")
    assert len(response.json()["items"]) == 8


# --- the draw ---------------------------------------------------------------------------------------------


def test_the_published_draw_is_rechecked_by_the_standalone_script(api_client, leader, group):
    now = timezone.now()
    activity = factories.activity(actor=leader, groups=[group], now=now, lasts=timedelta(minutes=10), winners_count=2)
    entrants = [factories.member_of(group).user for _ in range(6)]
    for user in entrants:
        services.giveaway_enter(activity_id=activity.pk, user=user, now=now)
    secret = Activity.objects.get(pk=activity.pk).seed_secret
    client = english(api_client, entrants[0])
    url = f"/api/v1/activities/{activity.pk}/draw"

    running = client.get(url)
    assert running.status_code == 200
    assert secret not in running.content.decode()
    body = running.json()
    assert (body["seed"], body["entrants"], body["entrants_hash"]) == (None, [], None)
    assert body["entrants_count"] == 6 and body["seed_hash"] == activity.seed_hash
    assert run_script(body).returncode == 2  # not drawn yet

    services.activities_settle_due(now=now + DAY)
    closed = client.get(url).json()
    assert [entrant["user_id"] for entrant in closed["entrants"]] == sorted(user.pk for user in entrants)
    assert closed["seed"] is None and secret not in json.dumps(closed)

    client.login(entrants[0])
    refused = client.post(url)
    assert refused.status_code == 403
    client.login(leader)
    drawn = client.post(url)
    assert drawn.status_code == 200, drawn.json()
    record = drawn.json()
    assert record["seed"] == secret and len(record["winners"]) == 2
    assert record["recomputed_winners"] == [winner["user_id"] for winner in record["winners"]]
    assert "erhuo-draw-v1" in record["algorithm_text"]

    assert record["committed_before_entries"] is True
    assert record["seed_committed_at"] <= record["first_entry_at"]
    checked = run_script(record)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("OK:")
    late = json.loads(json.dumps(record))
    late["seed_committed_at"] = "2099-01-01T00:00:00Z"
    result = run_script(late)
    assert result.returncode == 1 and "after the first entry" in result.stdout

    # One entrant changed, or another seed: the script says the draw does not check out.
    tampered = json.loads(json.dumps(record))
    tampered["entrants"][0]["user_id"] += 10_000
    result = run_script(tampered)
    assert result.returncode == 1 and "entrants list" in result.stdout
    other_seed = json.loads(json.dumps(record))
    other_seed["seed"] = "00" * 32
    result = run_script(other_seed)
    assert result.returncode == 1 and "committed seed hash" in result.stdout
    swapped = json.loads(json.dumps(record))
    swapped["winners"][0]["user_id"], swapped["winners"][1]["user_id"] = (
        swapped["winners"][1]["user_id"],
        swapped["winners"][0]["user_id"],
    )
    assert run_script(swapped).returncode == 1


def test_only_giveaways_have_a_draw(api_client, leader, group):
    activity = factories.activity(actor=leader, groups=[group], kind="themed_drop")
    response = english(api_client, leader).get(f"/api/v1/activities/{activity.pk}/draw")
    assert (response.status_code, response.json()["code"]) == (404, "not_a_giveaway")


def test_cancelling_through_the_api(api_client, leader, group, member):
    factories.member_of(group, member)
    activity = factories.activity(actor=leader, groups=[group])
    client = english(api_client, member)
    before = snapshot()
    assert client.post(f"/api/v1/activities/{activity.pk}/cancel", {"reason": "不要了"}).status_code == 403
    assert snapshot() == before
    client.login(leader)
    response = client.post(f"/api/v1/activities/{activity.pk}/cancel", {"reason": "奖品延误"})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


# --- the report and themed drops -----------------------------------------------------------------------------


def test_the_report_is_for_the_groups_leaders_and_operators(api_client, leader, group, member, community_manager):
    factories.member_of(group, member)
    activity = factories.activity(actor=leader, groups=[group])
    services.giveaway_enter(activity_id=activity.pk, user=member)
    client = english(api_client, member)
    assert client.get(f"/api/v1/activities/{activity.pk}/report").status_code == 403
    for user in (leader, community_manager):
        client.login(user)
        report = client.get(f"/api/v1/activities/{activity.pk}/report").json()
        assert (report["kind"], report["members_reached"], report["entrants"], report["participation_rate"]) == (
            "giveaway",
            2,
            1,
            0.5,
        )


def test_a_themed_drop_gathers_drops_and_lists_its_items(api_client, leader, group):
    activity = factories.activity(actor=leader, groups=[group], kind="themed_drop")
    drop = Drop.objects.create(drop_at=timezone.now(), created_by=leader, status="live")
    drop.groups.set([group])
    item = factories.listed_item(seller=leader, title="专场 外套")
    drop.items.set([item])
    client = english(api_client, leader)
    assert client.post(f"/api/v1/activities/{activity.pk}/drops", {"drop_id": drop.pk}).status_code == 200
    items = client.get(f"/api/v1/activities/{activity.pk}/items").json()
    assert [(row["id"], row["title"], row["sold"]) for row in items] == [(item.pk, "专场 外套", False)]
    assert client.delete(f"/api/v1/activities/{activity.pk}/drops/{drop.pk}").status_code == 200
    assert Drop.objects.get(pk=drop.pk).activity_id is None
    assert not ActivityEntry.objects.exists()


def test_items_are_dropped_into_a_themed_drop_through_the_api(api_client, leader, group, member):
    factories.member_of(group, member)
    activity = factories.activity(actor=leader, groups=[group], kind="themed_drop")
    item = factories.listed_item(seller=leader, title="专场 围巾")
    client = english(api_client, member)
    assert client.post(f"/api/v1/activities/{activity.pk}/drops/new", {"item_ids": [item.pk]}).status_code == 403
    assert not Drop.objects.exists()
    client.login(leader)
    response = client.post(f"/api/v1/activities/{activity.pk}/drops/new", {"item_ids": [item.pk]})
    assert response.status_code == 201
    assert Drop.objects.get().activity_id == activity.pk
    client.login(member)
    assert [row["id"] for row in client.get(f"/api/v1/activities/{activity.pk}/items").json()] == [item.pk]


def test_times_without_a_time_zone_are_refused(api_client, leader, group):
    body = create_body([group.pk], starts_at="2030-05-08T20:00:00", ends_at="2030-05-09T20:00:00")
    response = english(api_client, leader).post("/api/v1/activities", body, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert response.json()["errors"]["starts_at"] == ["Give the time zone too (for example +08:00)."]
    assert not Activity.objects.exists()
