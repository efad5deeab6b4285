"""The groups pages: invite landing and questionnaire, the result, my groups, a group's page, the leader's admin
page and the operators' pages; who may see what, refusals with nothing changed, bounded queries."""

import pytest
from django.urls import reverse
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community.models import Group, Invite, Membership, Segment, Tag
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


FORM = {"categories": ["womenswear", "bags"], "no_children": "on", "budget": "premium", "city": "shanghai"}


@pytest.fixture
def world(db, community_manager):
    services.taxonomy_seed()
    leader = UserFactory(roles=[roles.EXPERT])
    women = services.segment_create(
        actor=community_manager, name="女装·轻奢", slug="wp", rule={"all": ["womenswear", "premium"]}
    )
    general = services.segment_create(actor=community_manager, name="综合", slug="general", rule={})
    group = services.group_create(actor=community_manager, leader=leader, segment=women)
    other = services.group_create(actor=community_manager, leader=UserFactory(roles=[roles.EXPERT]), segment=general)
    invite = services.invite_create(actor=community_manager)
    return {"leader": leader, "group": group, "other": other, "invite": invite, "segment": women}


def join_url(world):
    return reverse("community:join", args=[world["invite"].code])


# --- invite and questionnaire --------------------------------------------------------------------


def test_invite_landing_for_a_visitor_keeps_next(client, world):
    response = client.get(join_url(world))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="invite-login"' in page
    assert f"/accounts/login/?next=/join/{world['invite'].code}/" in page
    assert f"/accounts/signup/?next=/join/{world['invite'].code}/" in page
    assert 'data-testid="questionnaire"' not in page


def test_invalid_invite_page_is_404_with_the_reason(client, world, community_manager):
    services.invite_revoke(actor=community_manager, invite_id=world["invite"].pk)
    response = client.get(join_url(world))
    assert response.status_code == 404
    assert "withdrawn" in response.content.decode()
    assert client.get(reverse("community:join", args=["NOPE2345"])).status_code == 404


def test_a_visitor_posting_answers_is_sent_to_log_in(client, world):
    before = snapshot()
    response = client.post(join_url(world), FORM)
    assert response.status_code == 302 and "/login/" in response["Location"] and "next=" in response["Location"]
    assert snapshot() == before


def test_questionnaire_places_her_and_shows_why_and_the_offered_groups(client, world, member):
    client.force_login(member)
    page = client.get(join_url(world)).content.decode()
    assert 'data-testid="questionnaire"' in page and 'value="womenswear"' in page
    response = client.post(join_url(world), FORM)
    assert response.status_code == 302 and response["Location"] == reverse("community:join_done")
    done = client.get(response["Location"])
    body = done.content.decode()
    assert done.status_code == 200
    assert "女装·轻奢 1群" in body and 'data-testid="placed-why"' in body and "轻奢" in body
    assert f'data-group="{world["other"].pk}"' in body
    joined = client.post(
        reverse("community:join_offered", args=[world["other"].pk]), {"next": reverse("community:join_done")}
    )
    assert joined.status_code == 302 and joined["Location"] == reverse("community:join_done")
    assert Membership.objects.filter(user=member, status="active").count() == 2


def test_impossible_answers_are_shown_inline_and_kept(client, world, member):
    client.force_login(member)
    before = snapshot()
    response = client.post(join_url(world), {**FORM, "children_ages": "3, 19", "budget": ""})
    assert response.status_code == 422
    page = response.content.decode()
    assert "“19”" in page and "no children" in page.lower()
    assert 'value="womenswear" checked' in page and 'value="3, 19"' in page
    assert snapshot() == before


def test_a_member_already_in_the_invites_group_is_told_so(client, world, member):
    factories.member_of(world["group"], member)
    client.force_login(member)
    invite = services.invite_create(actor=world["leader"], group=world["group"])
    page = client.get(reverse("community:join", args=[invite.code])).content.decode()
    assert 'data-testid="already-member"' in page


# --- my groups and the group page ----------------------------------------------------------------


def test_my_groups_and_the_group_page(client, world, member):
    factories.member_of(world["group"], member)
    client.force_login(member)
    page = client.get(reverse("community:my_groups")).content.decode()
    assert "女装·轻奢 1群" in page and "综合 1群" not in page
    Group.objects.filter(pk=world["group"].pk).update(announcement="周五 8 点上新")
    response = client.get(reverse("community:group", args=[world["group"].pk]))
    body = response.content.decode()
    assert response.status_code == 200
    for block in ('id="group-feed"', 'id="group-classes"', 'id="group-activities"', "周五 8 点上新"):
        assert block in body
    assert 'data-testid="manage-group"' not in body


def test_a_member_reading_a_group_she_is_not_in_gets_404(client, world, member):
    client.force_login(member)
    assert client.get(reverse("community:group", args=[world["group"].pk])).status_code == 404
    assert client.get(reverse("community:group", args=[999999])).status_code == 404
    before = snapshot()
    assert client.post(reverse("community:group_leave", args=[world["group"].pk])).status_code == 404
    assert snapshot() == before


def test_pages_need_a_login(client, world):
    for name, args in (("my_groups", []), ("group", [world["group"].pk]), ("group_admin", [world["group"].pk])):
        response = client.get(reverse(f"community:{name}", args=args))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_leave_a_group(client, world, member):
    factories.member_of(world["group"], member)
    client.force_login(member)
    response = client.post(reverse("community:group_leave", args=[world["group"].pk]))
    assert response.status_code == 302
    assert Membership.objects.get(user=member).status == "left"


# --- the leader's admin page ---------------------------------------------------------------------


def test_leader_admin_page_and_its_actions(client, world, member, other_member, django_assert_max_num_queries):
    group = world["group"]
    Group.objects.filter(pk=group.pk).update(join_policy=Group.JoinPolicy.APPROVAL)
    waiting = services.membership_add(group_id=group.pk, user=member, source="invite")
    active = factories.member_of(group, other_member)
    for _ in range(5):
        factories.tagged(factories.member_of(group).user, "womenswear", "premium")
    client.force_login(world["leader"])
    url = reverse("community:group_admin", args=[group.pk])
    with django_assert_max_num_queries(25):
        response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="pending-row"' in page and f'data-membership="{waiting.pk}"' in page
    assert 'data-testid="group-purity"' in page and reverse("community:group_qr", args=[group.pk]) in page

    action = reverse("community:member_action", args=[group.pk, waiting.pk, "approve"])
    assert client.post(action, {"next": url}).status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == "active"

    before = snapshot()
    remove = reverse("community:member_action", args=[group.pk, active.pk, "remove"])
    response = client.post(remove, {"reason": ""}, follow=True)
    assert "Reason is required" in response.content.decode()
    assert snapshot() == before
    client.post(remove, {"reason": "发广告"})
    active.refresh_from_db()
    assert active.status == "removed"

    mute = reverse("community:member_action", args=[group.pk, waiting.pk, "mute"])
    client.post(mute, {"hours": "24"})
    waiting.refresh_from_db()
    assert waiting.muted_until is not None

    client.post(reverse("community:group_settings", args=[group.pk]), {"announcement": "欢迎!", "join_policy": "open"})
    group.refresh_from_db()
    assert (group.announcement, group.join_policy) == ("欢迎!", "open")

    client.post(reverse("community:group_invite_create", args=[group.pk]), {"label": "朋友圈", "days": "7"})
    invite = Invite.objects.get(group=group)
    assert invite.label == "朋友圈" and invite.expires_at is not None
    qr = client.get(reverse("community:group_invite_qr", args=[group.pk, invite.pk]))
    assert qr.status_code == 200 and qr["Content-Type"] == "image/png" and qr.content[:4] == b"\x89PNG"
    client.post(reverse("community:group_invite_revoke", args=[group.pk, invite.pk]))
    invite.refresh_from_db()
    assert invite.revoked_at is not None


def test_another_leader_gets_403_and_a_member_404_on_the_admin_pages(client, world, member):
    theirs = world["other"]
    target = factories.member_of(theirs, member)
    before = snapshot()
    client.force_login(world["leader"])
    assert client.get(reverse("community:group_admin", args=[theirs.pk])).status_code == 403
    assert client.get(reverse("community:group_qr", args=[theirs.pk])).status_code == 403
    action = reverse("community:member_action", args=[theirs.pk, target.pk, "remove"])
    assert client.post(action, {"reason": "x"}).status_code == 403
    settings = reverse("community:group_settings", args=[theirs.pk])
    assert client.post(settings, {"announcement": "x", "join_policy": "open"}).status_code == 403
    # Her own group's path with another group's membership: 404.
    mine = reverse("community:member_action", args=[world["group"].pk, target.pk, "remove"])
    assert client.post(mine, {"reason": "x"}).status_code == 404
    client.force_login(member)
    assert client.get(reverse("community:group_admin", args=[theirs.pk])).status_code == 404
    assert client.post(action, {"reason": "x"}).status_code == 404
    assert snapshot() == before


# --- operators -----------------------------------------------------------------------------------


def test_operator_page(client, world, community_manager, django_assert_max_num_queries):
    for _ in range(4):
        factories.tagged(factories.member_of(world["group"]).user, "womenswear", "premium")
    services.group_create(actor=community_manager, leader=world["leader"], segment=world["segment"])
    client.force_login(community_manager)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("community:ops_community"))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-testid="group-row"') == 3
    assert 'data-testid="purity"' in page and "女装" in page and 'data-testid="segment-form"' in page
    assert client.get(reverse("community:ops_group", args=[world["group"].pk])).status_code == 200
    console = client.get(reverse("web:operator_console")).content.decode()
    assert reverse("community:ops_community") in console


def test_operator_pages_refuse_others(client, world, member):
    client.force_login(member)
    before = snapshot()
    assert client.get(reverse("community:ops_community")).status_code == 403
    assert client.get(reverse("community:ops_group", args=[world["group"].pk])).status_code == 403
    assert (
        client.post(reverse("community:ops_tag_create"), {"dimension": "style", "code": "x", "name": "x"}).status_code
        == 403
    )
    assert client.post(reverse("community:ops_invite_create"), {}).status_code == 403
    assert client.get(reverse("community:ops_invite_qr", args=[world["invite"].pk])).status_code == 403
    assert snapshot() == before
    client.logout()
    assert client.get(reverse("community:ops_community")).status_code == 302


def test_operator_creates_a_segment_with_the_rule_picker_and_opens_its_group(client, world, community_manager):
    client.force_login(community_manager)
    response = client.post(
        reverse("community:ops_segment_create"),
        {"name": "母婴·0-3岁", "slug": "baby-0-3", "capacity": "200", "rule_all": ["baby", "kids-0-3"]},
    )
    assert response.status_code == 302
    segment = Segment.objects.get(slug="baby-0-3")
    assert segment.rule == {"all": ["baby", "kids-0-3"]} and segment.capacity == 200
    response = client.post(
        reverse("community:ops_group_create"),
        {"segment": segment.pk, "leader": world["leader"].username, "join_policy": "approval"},
    )
    group = Group.objects.get(segment=segment)
    assert response.status_code == 302 and response["Location"] == reverse("community:ops_group", args=[group.pk])
    assert (group.name, group.capacity, group.join_policy) == ("母婴·0-3岁 1群", 200, "approval")
    before = snapshot()
    refused = client.post(
        reverse("community:ops_segment_create"),
        {"name": "母婴·0-3岁", "slug": "other", "capacity": "200", "rule_all": ["baby"]},
    )
    assert refused.status_code == 422 and "exists already" in refused.content.decode()
    unknown_leader = client.post(reverse("community:ops_group_create"), {"leader": "nobody", "join_policy": "open"})
    assert unknown_leader.status_code == 422 and "No member with this username" in unknown_leader.content.decode()
    assert snapshot() == before


def test_operator_tags_invites_archive_and_ban(client, world, community_manager, member):
    client.force_login(community_manager)
    client.post(reverse("community:ops_tag_create"), {"dimension": "style", "code": "boho", "name": "波西米亚"})
    tag = Tag.objects.get(code="boho")
    duplicate = client.post(reverse("community:ops_tag_create"), {"dimension": "style", "code": "boho", "name": "x"})
    assert duplicate.status_code == 422
    client.post(reverse("community:ops_tag_update", args=[tag.pk]), {"name": "波西米亚风", "active": "0"})
    tag.refresh_from_db()
    assert (tag.name, tag.active) == ("波西米亚风", False)

    client.post(reverse("community:ops_invite_create"), {"label": "小红书", "max_uses": "50"})
    invite = Invite.objects.get(label="小红书")
    assert invite.group is None and invite.max_uses == 50
    qr = client.get(reverse("community:ops_invite_qr", args=[invite.pk]))
    assert qr["Content-Type"] == "image/png"
    client.post(reverse("community:ops_invite_revoke", args=[invite.pk]))
    assert Invite.objects.get(pk=invite.pk).revoked_at is not None

    factories.member_of(world["group"], member)
    client.post(reverse("community:ops_member_ban", args=[member.pk]), {"reason": "骗子"})
    assert Membership.objects.get(user=member).status == "removed"
    client.post(reverse("community:ops_group_archive", args=[world["other"].pk]), {"reason": "合并"})
    assert Group.objects.get(pk=world["other"].pk).status == "archived"


def test_me_page_links_to_my_groups(client, member):
    client.force_login(member)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert reverse("community:my_groups") in page


def test_my_groups_page_queries_stay_flat(client, world, member, community_manager, django_assert_max_num_queries):
    factories.member_of(world["group"], member)
    client.force_login(member)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("community:my_groups"))
    for _ in range(4):
        extra = services.group_create(actor=community_manager, leader=UserFactory(), segment=world["segment"])
        factories.member_of(extra, member)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("community:my_groups"))
    assert response.content.decode().count('data-testid="my-group"') == 5
