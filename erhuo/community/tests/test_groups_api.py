"""The groups API: questionnaire, invites and admission, my groups, leaders' member management, operators."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community.models import Group, Invite, MemberProfile, Membership, Segment, Tag
from erhuo.community.services import groups as services
from erhuo.community.tests import factories
from erhuo.community.tests.test_groups_services import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    # Messages are compared in English (the Chinese catalogue translates them).
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


API = "/api/v1"
ANSWERS = {"categories": ["womenswear", "bags"], "no_children": True, "budget": "premium", "city": "shanghai"}


@pytest.fixture
def taxonomy(db):
    services.taxonomy_seed()


@pytest.fixture
def world(taxonomy, community_manager):
    leader = UserFactory(roles=[roles.EXPERT])
    women = services.segment_create(
        actor=community_manager, name="女装·轻奢", slug="wp", rule={"all": ["womenswear", "premium"]}
    )
    general = services.segment_create(actor=community_manager, name="综合", slug="general", rule={})
    group = services.group_create(actor=community_manager, leader=leader, segment=women)
    other = services.group_create(actor=community_manager, leader=UserFactory(roles=[roles.EXPERT]), segment=general)
    invite = services.invite_create(actor=community_manager)
    return {"leader": leader, "group": group, "other": other, "invite": invite, "segment": women}


def login(api_client, user):
    api_client.login(user)
    return api_client


# --- questionnaire, invites, admission -----------------------------------------------------------


def test_questionnaire_is_public_with_its_options(api_client, taxonomy):
    response = api_client.get(f"{API}/community/questionnaire")
    assert response.status_code == 200
    body = response.json()
    keys = [question["key"] for question in body["questions"]]
    assert keys == ["categories", "styles", "clothes_size", "shoe_size", "children", "budget", "city"]
    categories = body["questions"][0]
    assert categories["required"] and categories["kind"] == "multi"
    assert {"code": "womenswear", "name": "女装"} in categories["options"]
    assert (body["child_age_min"], body["child_age_max"]) == (0, 16)


def test_invite_public_view_and_404_when_invalid(api_client, world, community_manager):
    response = api_client.get(f"{API}/community/invites/{world['invite'].code}")
    assert response.status_code == 200
    assert response.json()["kind"] == "community" and response.json()["group"] is None
    group_invite = services.invite_create(actor=world["leader"], group=world["group"], label="朋友圈")
    body = api_client.get(f"{API}/community/invites/{group_invite.code}").json()
    assert (body["kind"], body["group"]["name"]) == ("group", "女装·轻奢 1群")
    services.invite_revoke(actor=community_manager, invite_id=world["invite"].pk)
    response = api_client.get(f"{API}/community/invites/{world['invite'].code}")
    assert response.status_code == 404
    assert response.json()["code"] == "invite_invalid"
    assert "withdrawn" in response.json()["detail"]
    assert api_client.get(f"{API}/community/invites/NOPE2345").status_code == 404


def test_join_places_her_and_offers_others(api_client, world, member):
    response = login(api_client, member).post(f"{API}/community/join/{world['invite'].code}", ANSWERS)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["placed"]["group"]["id"] == world["group"].pk
    assert body["placed"]["status"] == "active"
    assert [row["group"]["id"] for row in body["offered"]] == [world["other"].pk]
    assert {"code": "premium", "name": "轻奢"} in body["why"]
    mine = api_client.get(f"{API}/groups/mine").json()
    assert [row["group"]["id"] for row in mine] == [world["group"].pk]
    joined = api_client.post(f"{API}/groups/{world['other'].pk}/join")
    assert joined.status_code == 201 and joined.json()["source"] == "chosen"


def test_join_needs_a_login(api_client, world):
    before = snapshot()
    assert api_client.post(f"{API}/community/join/{world['invite'].code}", ANSWERS).status_code == 401
    assert api_client.get(f"{API}/groups/mine").status_code == 401
    assert api_client.get(f"{API}/groups/{world['group'].pk}").status_code == 401
    assert api_client.get(f"{API}/community/groups").status_code == 401
    assert api_client.post(f"{API}/groups/{world['group'].pk}/leave").status_code == 401
    assert snapshot() == before


def test_join_refusals(api_client, world, member):
    login(api_client, member)
    before = snapshot()
    response = api_client.post(f"{API}/community/join/{world['invite'].code}", {**ANSWERS, "children_ages": [20]})
    assert response.status_code == 422
    assert response.json()["code"] == "answers_invalid"
    assert list(response.json()["errors"]) == ["children"]
    response = api_client.post(f"{API}/community/join/{world['invite'].code}", {**ANSWERS, "budget": "billions"})
    assert response.json()["errors"] == {"budget": ["“billions” is not one of the options."]}
    response = api_client.post(f"{API}/community/join/NOPE2345", ANSWERS)
    assert (response.status_code, response.json()["code"]) == (422, "invite_invalid")
    assert response.json()["errors"] == {"invite": ["unknown"]}
    assert api_client.post(f"{API}/community/join/bad-code!", ANSWERS).status_code == 422
    assert snapshot() == before
    MemberProfile.objects.create(user=member, banned_at=timezone.now(), ban_reason="spam")
    before = snapshot()
    response = api_client.post(f"{API}/community/join/{world['invite'].code}", ANSWERS)
    assert (response.status_code, response.json()["code"]) == (403, "banned")
    assert snapshot() == before


def test_join_a_group_she_is_in_is_409(api_client, world, member):
    factories.member_of(world["group"], member)
    invite = services.invite_create(actor=world["leader"], group=world["group"])
    before = snapshot()
    response = login(api_client, member).post(f"{API}/community/join/{invite.code}", ANSWERS)
    assert (response.status_code, response.json()["code"]) == (409, "already_member")
    assert snapshot() == before


# --- my groups -----------------------------------------------------------------------------------


def test_group_detail_for_members_only(api_client, world, member, other_member, community_manager):
    factories.member_of(world["group"], member)
    response = login(api_client, member).get(f"{API}/groups/{world['group'].pk}")
    assert response.status_code == 200
    assert (response.json()["my_role"], response.json()["leader"]) == ("member", world["leader"].display_name)
    assert api_client.get(f"{API}/groups/{world['other'].pk}").status_code == 404
    assert api_client.get(f"{API}/groups/999999").status_code == 404
    assert login(api_client, other_member).get(f"{API}/groups/{world['group'].pk}").status_code == 404
    assert login(api_client, community_manager).get(f"{API}/groups/{world['group'].pk}").status_code == 200


def test_leave(api_client, world, member):
    factories.member_of(world["group"], member)
    response = login(api_client, member).post(f"{API}/groups/{world['group'].pk}/leave")
    assert response.status_code == 200 and response.json()["status"] == "left"
    assert api_client.post(f"{API}/groups/{world['group'].pk}/leave").status_code == 404
    leader_leaves = login(api_client, world["leader"]).post(f"{API}/groups/{world['group'].pk}/leave")
    assert (leader_leaves.status_code, leader_leaves.json()["code"]) == (409, "leader_cannot_leave")


# --- leaders -------------------------------------------------------------------------------------


def test_leader_manages_members_and_pending_joins(api_client, world, member, other_member):
    group = world["group"]
    Group.objects.filter(pk=group.pk).update(join_policy=Group.JoinPolicy.APPROVAL)
    waiting = services.membership_add(group_id=group.pk, user=member, source="invite")
    active = factories.member_of(group, other_member)
    login(api_client, world["leader"])
    listed = api_client.get(f"{API}/groups/{group.pk}/members").json()
    assert [(row["user_id"], row["role"], row["status"]) for row in listed] == [
        (world["leader"].pk, "leader", "active"),
        (other_member.pk, "member", "active"),
        (member.pk, "member", "pending"),
    ]
    assert [row["user_id"] for row in api_client.get(f"{API}/groups/{group.pk}/members?status=pending").json()] == [
        member.pk
    ]
    approved = api_client.post(f"{API}/groups/{group.pk}/members/{waiting.pk}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    until = (timezone.now() + timedelta(days=1)).isoformat()
    muted = api_client.post(f"{API}/groups/{group.pk}/members/{active.pk}/mute", {"until": until})
    assert muted.status_code == 200 and muted.json()["muted_until"]
    refused = api_client.post(f"{API}/groups/{group.pk}/members/{active.pk}/remove", {"reason": ""})
    assert (refused.status_code, refused.json()["code"]) == (422, "reason_required")
    removed = api_client.post(f"{API}/groups/{group.pk}/members/{active.pk}/remove", {"reason": "发广告"})
    assert removed.status_code == 200 and removed.json()["status"] == "removed"
    again = api_client.post(f"{API}/groups/{group.pk}/members/{waiting.pk}/approve")
    assert (again.status_code, again.json()["code"]) == (409, "not_pending")
    patched = api_client.patch(f"{API}/groups/{group.pk}", {"announcement": "周五晚 8 点上新"})
    assert patched.status_code == 200
    assert Group.objects.get(pk=group.pk).announcement == "周五晚 8 点上新"
    operator_only = api_client.patch(f"{API}/groups/{group.pk}", {"capacity": 100})
    assert operator_only.status_code == 403


def test_a_leader_on_another_leaders_group_is_403_and_changes_nothing(api_client, world, member):
    theirs = world["other"]
    target = factories.member_of(theirs, member)
    before = snapshot()
    login(api_client, world["leader"])
    for method, path, data in (
        ("get", f"/groups/{theirs.pk}/members", None),
        ("post", f"/groups/{theirs.pk}/members/{target.pk}/remove", {"reason": "x"}),
        ("post", f"/groups/{theirs.pk}/members/{target.pk}/approve", {}),
        ("patch", f"/groups/{theirs.pk}", {"announcement": "hi"}),
        ("post", "/community/invites", {"group_id": theirs.pk}),
    ):
        response = getattr(api_client, method)(API + path, data) if data is not None else api_client.get(API + path)
        assert (response.status_code, response.json()["code"]) == (403, "not_your_group"), path
    # A membership of another group through one's own group's path: 404.
    response = api_client.post(f"{API}/groups/{world['group'].pk}/members/{target.pk}/remove", {"reason": "x"})
    assert response.status_code == 404
    assert snapshot() == before


def test_a_plain_member_cannot_manage(api_client, world, member, other_member):
    factories.member_of(world["group"], member)
    target = factories.member_of(world["group"], other_member)
    before = snapshot()
    login(api_client, member)
    assert api_client.get(f"{API}/groups/{world['group'].pk}/members").status_code == 403
    response = api_client.post(f"{API}/groups/{world['group'].pk}/members/{target.pk}/remove", {"reason": "x"})
    assert (response.status_code, response.json()["code"]) == (403, "not_group_admin")
    assert snapshot() == before


# --- operators -----------------------------------------------------------------------------------


def test_operator_routes_refuse_members(api_client, world, member):
    login(api_client, member)
    before = snapshot()
    for method, path, data in (
        ("get", "/community/tags", None),
        ("post", "/community/tags", {"dimension": "category", "code": "x", "name": "x"}),
        ("get", "/community/segments", None),
        ("post", "/community/segments", {"name": "x", "slug": "x", "rule": {}}),
        ("get", "/community/groups", None),
        ("post", "/community/groups", {"leader_id": member.pk, "name": "x"}),
        ("get", "/community/invites", None),
        ("post", "/community/invites", {}),
        ("post", f"/community/members/{member.pk}/ban", {"reason": "x"}),
    ):
        response = getattr(api_client, method)(API + path, data) if data is not None else api_client.get(API + path)
        assert response.status_code == 403, path
    assert snapshot() == before


def test_operator_tags(api_client, taxonomy, community_manager):
    login(api_client, community_manager)
    listed = api_client.get(f"{API}/community/tags?dimension=spending").json()
    assert [tag["code"] for tag in listed] == ["budget", "midrange", "premium", "luxury"]
    created = api_client.post(f"{API}/community/tags", {"dimension": "style", "code": "boho", "name": "波西米亚"})
    assert created.status_code == 201
    duplicate = api_client.post(f"{API}/community/tags", {"dimension": "style", "code": "boho", "name": "x"})
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "tag_code_taken")
    bad = api_client.post(f"{API}/community/tags", {"dimension": "colour", "code": "red", "name": "红"})
    assert (bad.status_code, bad.json()["code"]) == (422, "dimension_unknown")
    tag_id = created.json()["id"]
    patched = api_client.patch(f"{API}/community/tags/{tag_id}", {"active": False, "name": "波西米亚风"})
    assert patched.json()["active"] is False and patched.json()["name"] == "波西米亚风"
    assert api_client.patch(f"{API}/community/tags/999999", {"active": False}).status_code == 404


def test_operator_segments_and_groups(api_client, world, community_manager, member):
    login(api_client, community_manager)
    created = api_client.post(
        f"{API}/community/segments",
        {"name": "母婴·0-3岁", "slug": "baby-0-3", "rule": {"all": ["baby", "kids-0-3"]}, "capacity": 200},
    )
    assert created.status_code == 201, created.json()
    assert created.json()["rule"] == {"all": ["baby", "kids-0-3"]}
    bad = api_client.post(f"{API}/community/segments", {"name": "x", "slug": "x", "rule": {"all": ["nope"]}})
    assert (bad.status_code, bad.json()["code"]) == (422, "unknown_tag")
    taken = api_client.post(f"{API}/community/segments", {"name": "母婴·0-3岁", "slug": "y", "rule": {}})
    assert taken.status_code == 409
    segment_id = created.json()["id"]
    patched = api_client.patch(f"{API}/community/segments/{segment_id}", {"active": False})
    assert patched.json()["active"] is False
    listed = {row["slug"]: row for row in api_client.get(f"{API}/community/segments").json()}
    assert (listed["wp"]["groups"], listed["wp"]["members"]) == (1, 1)

    group = api_client.post(f"{API}/community/groups", {"leader_id": member.pk, "segment_id": world["segment"].pk})
    assert group.status_code == 201, group.json()
    assert (group.json()["name"], group.json()["number"]) == ("女装·轻奢 2群", 2)
    missing = api_client.post(f"{API}/community/groups", {"leader_id": 999999, "name": "x"})
    assert missing.status_code == 404
    factories.tagged(member, "womenswear", "premium")
    other = factories.member_of(world["group"], UserFactory())
    factories.tagged(other.user, "womenswear", "premium")
    rows = {row["id"]: row for row in api_client.get(f"{API}/community/groups").json()}
    # Leaders and assistants run a group and are not its audience: one member left, no pair to compare.
    assert rows[world["group"].pk]["purity"] is None
    third = factories.member_of(world["group"], UserFactory())
    factories.tagged(third.user, "womenswear", "premium")
    # Someone elsewhere with other tags, so theirs say something (a tag everyone carries weighs nothing, ADR 12).
    factories.tagged(factories.member_of(world["other"], UserFactory()).user, "kidswear")
    rows = {row["id"]: row for row in api_client.get(f"{API}/community/groups").json()}
    assert rows[world["group"].pk]["purity"] == pytest.approx(1.0)  # two members with the same tags
    assert rows[group.json()["id"]]["purity"] is None
    archived = api_client.post(f"{API}/community/groups/{world['other'].pk}/archive")
    assert archived.json()["status"] == "archived"
    full_rows = api_client.get(f"{API}/community/groups?status=archived").json()
    assert [row["id"] for row in full_rows] == [world["other"].pk]


def test_invites_create_list_revoke(api_client, world, community_manager, member):
    login(api_client, community_manager)
    created = api_client.post(f"{API}/community/invites", {"label": "小红书", "max_uses": 100})
    assert created.status_code == 201
    body = created.json()
    assert body["kind"] == "community" and body["link"].endswith(f"/join/{body['code']}/")
    assert api_client.get(f"{API}/community/invites").json()[0]["code"] == body["code"]
    revoked = api_client.post(f"{API}/community/invites/{body['id']}/revoke")
    assert revoked.json()["revoked_at"] is not None
    assert api_client.post(f"{API}/community/invites/{body['id']}/revoke").status_code == 409
    login(api_client, world["leader"])
    own = api_client.post(f"{API}/community/invites", {"group_id": world["group"].pk})
    assert own.status_code == 201 and own.json()["kind"] == "group"
    assert [row["id"] for row in api_client.get(f"{API}/groups/{world['group'].pk}/invites").json()] == [
        own.json()["id"]
    ]
    assert api_client.post(f"{API}/community/invites", {}).status_code == 403
    assert Invite.objects.count() == 3


def test_ban_and_unban(api_client, world, community_manager, member):
    factories.member_of(world["group"], member)
    login(api_client, community_manager)
    response = api_client.post(f"{API}/community/members/{member.pk}/ban", {"reason": "骗子"})
    assert response.status_code == 200 and response.json()["banned_at"]
    assert Membership.objects.get(user=member).status == "removed"
    assert api_client.post(f"{API}/community/members/{member.pk}/ban", {"reason": "x"}).status_code == 409
    assert api_client.post(f"{API}/community/members/{member.pk}/unban").json()["banned_at"] is None
    assert api_client.post(f"{API}/community/members/999999/unban").status_code == 404
    assert Segment.objects.count() == 2 and Tag.objects.exists()


def test_groups_list_queries_stay_flat(api_client, world, community_manager, django_assert_max_num_queries):
    login(api_client, community_manager)
    with django_assert_max_num_queries(10) as few:
        api_client.get(f"{API}/community/groups")
    for _ in range(4):
        group = services.group_create(actor=community_manager, leader=UserFactory(), segment=world["segment"])
        for _member in range(3):
            factories.tagged(factories.member_of(group).user, "womenswear", "premium")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api_client.get(f"{API}/community/groups")
    assert len(response.json()) == 6


def test_role_route(api_client, world, member):
    target = factories.member_of(world["group"], member)
    login(api_client, world["leader"])
    url = f"{API}/groups/{world['group'].pk}/members/{target.pk}/role"
    response = api_client.post(url, {"role": "assistant"})
    assert response.status_code == 200 and response.json()["role"] == "assistant"
    assert api_client.post(url, {"role": "leader"}).status_code == 422
    login(api_client, member)
    other = factories.member_of(world["group"])
    refused = api_client.post(f"{API}/groups/{world['group'].pk}/members/{other.pk}/role", {"role": "assistant"})
    assert (refused.status_code, refused.json()["code"]) == (403, "assistant_protected")
