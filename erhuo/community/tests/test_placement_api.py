"""The placement API: operators measure, run and decide; anyone else is refused with nothing changed."""

import pytest

from erhuo.community.models import Membership, ProposedMove
from erhuo.community.services import groups as group_services
from erhuo.community.services import placement as services
from erhuo.community.tests.test_placement_services import Community, snapshot

pytestmark = pytest.mark.django_db

P = ProposedMove.Status
BASE = "/api/v1/community/placement"


@pytest.fixture
def community(db):
    return Community()


@pytest.fixture
def operator_api(api_client, community_manager):
    api_client.login(community_manager)
    return api_client


def test_latest_before_any_run_shows_every_groups_purity(community, operator_api):
    response = operator_api.get(f"{BASE}/runs/latest")

    assert response.status_code == 200
    body = response.json()
    assert body["run"] is None
    assert body["moves"] == []
    assert body["mixed_below"] == 0.4
    by_id = {group["id"]: group for group in body["groups"]}
    assert by_id[community.mixed.pk] == {
        "id": community.mixed.pk,
        "name": community.mixed.name,
        "segment": "综合",
        "status": "open",
        "member_count": 5,
        "capacity": 10,
        "purity": 0.3333,
        "purity_at_run": None,
        "purity_after": None,
        "mixed": True,
    }
    assert by_id[community.womenswear.pk]["purity"] == 1.0
    assert by_id[community.womenswear.pk]["mixed"] is False


def test_a_run_proposes_moves_and_latest_lists_them(community, operator_api, community_manager):
    c = community

    response = operator_api.post(f"{BASE}/runs", {})

    assert response.status_code == 201
    body = response.json()
    assert body["run"]["created_by"] == community_manager.display_name
    assert body["run"]["counts"] == {"proposed": 2, "approved": 0, "rejected": 0, "stale": 0}
    first = body["moves"][0]
    assert {key: first[key] for key in ("status", "user_id", "fit_before", "fit_after", "decided_by")} == {
        "status": "proposed",
        "user_id": c.a1.pk,
        "fit_before": 0.3333,
        "fit_after": 1.0,
        "decided_by": None,
    }
    assert first["from_group"] == {"id": c.mixed.pk, "name": c.mixed.name}
    assert first["to_group"] == {"id": c.womenswear.pk, "name": c.womenswear.name}
    assert sorted(first["main_tags"]) == ["premium", "size-s", "womenswear"]
    mixed = next(group for group in body["groups"] if group["id"] == c.mixed.pk)
    assert (mixed["purity_at_run"], mixed["purity_after"]) == (0.3333, 1.0)
    assert operator_api.get(f"{BASE}/runs/latest").json()["moves"] == body["moves"]


def test_a_run_on_chosen_groups(community, operator_api):
    c = community

    response = operator_api.post(f"{BASE}/runs", {"group_ids": [c.mixed.pk, c.baby.pk]})

    assert response.status_code == 201
    assert sorted(move["user_id"] for move in response.json()["moves"]) == [c.b1.pk, c.b2.pk]
    assert operator_api.post(f"{BASE}/runs", {"group_ids": [999_999]}).json()["code"] == "group_not_found"


def test_approve_then_the_purity_shown_follows(community, operator_api):
    c = community
    run = services.placement_run(actor=community.womenswear.leader)  # the factory's leader is an operator
    move = run.moves.get(user=c.a1)

    response = operator_api.post(f"{BASE}/moves/{move.pk}/approve")

    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert Membership.objects.get(user=c.a1, status="active").group_id == c.womenswear.pk
    groups = {group["id"]: group for group in operator_api.get(f"{BASE}/runs/latest").json()["groups"]}
    assert (groups[c.mixed.pk]["member_count"], groups[c.womenswear.pk]["member_count"]) == (4, 5)
    assert groups[c.mixed.pk]["purity"] == 0.3333  # a2, b1, b2: only the mothers alike
    assert groups[c.mixed.pk]["purity_at_run"] == 0.3333


def test_a_stale_move_answers_409_and_is_marked(community, operator_api):
    c = community
    run = services.placement_run(actor=community.womenswear.leader)
    move = run.moves.get(user=c.a1)
    group_services.membership_leave(membership_id=Membership.objects.get(user=c.a1, status="active").pk, user=c.a1)

    response = operator_api.post(f"{BASE}/moves/{move.pk}/approve")

    assert response.status_code == 409
    assert response.json()["code"] == "move_stale"
    move.refresh_from_db()
    assert move.status == P.STALE
    again = operator_api.post(f"{BASE}/moves/{move.pk}/approve")
    assert (again.status_code, again.json()["code"]) == (409, "move_decided")


def test_reject_and_approve_all(community, operator_api):
    run = services.placement_run(actor=community.womenswear.leader)
    first, second = run.moves.order_by("pk")

    rejected = operator_api.post(f"{BASE}/moves/{first.pk}/reject")
    result = operator_api.post(f"{BASE}/runs/{run.pk}/approve-all")

    assert rejected.json()["status"] == "rejected"
    assert result.status_code == 200
    assert result.json() == {"approved": [second.pk], "stale": []}
    assert operator_api.post(f"{BASE}/runs/999999/approve-all").status_code == 404
    assert operator_api.post(f"{BASE}/moves/999999/approve").status_code == 404


@pytest.mark.parametrize("who", ["member", "leader"])
def test_members_and_leaders_are_refused_with_nothing_changed(community, api_client, who):
    run = services.placement_run(actor=community.womenswear.leader)
    move = run.moves.get(user=community.a1)
    leader = community.mixed.leader
    leader.groups.clear()  # a leader who is no operator
    api_client.login({"member": community.b1, "leader": leader}[who])
    before = snapshot()

    answers = [
        api_client.get(f"{BASE}/runs/latest"),
        api_client.post(f"{BASE}/runs", {}),
        api_client.post(f"{BASE}/moves/{move.pk}/approve"),
        api_client.post(f"{BASE}/moves/{move.pk}/reject"),
        api_client.post(f"{BASE}/runs/{run.pk}/approve-all"),
    ]

    assert [answer.status_code for answer in answers] == [403] * 5
    assert {answer.json()["code"] for answer in answers} == {"not_operator"}
    assert snapshot() == before


def test_anonymous_is_asked_to_log_in(community, api_client):
    assert api_client.get(f"{BASE}/runs/latest").status_code == 401
    assert api_client.post(f"{BASE}/runs", {}).status_code == 401
