"""Tags, member tags, segments, groups and memberships: the services, their refusals with nothing changed."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community import selectors
from erhuo.community.models import (
    Group,
    GroupTransition,
    MemberProfile,
    Membership,
    MembershipTransition,
    MemberTag,
    Segment,
    Tag,
)
from erhuo.community.services import groups as services
from erhuo.community.tests import factories
from erhuo.core import events
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    # Messages are compared in English (the Chinese catalogue translates them).
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


A = Membership.Status


@pytest.fixture
def taxonomy(db):
    services.taxonomy_seed()


@pytest.fixture
def operator(community_manager):
    return community_manager


def snapshot():
    return {
        "memberships": sorted(Membership.objects.values_list("pk", "group_id", "user_id", "status", "role")),
        "groups": sorted(Group.objects.values_list("pk", "status", "member_count", "capacity", "name")),
        "member_tags": sorted(MemberTag.objects.values_list("user_id", "tag_id", "source", "weight")),
        "segments": sorted(Segment.objects.values_list("pk", "name", "slug", "capacity", "active")),
        "tags": sorted(Tag.objects.values_list("pk", "code", "name", "active")),
        "profiles": sorted(MemberProfile.objects.values_list("user_id", "banned_at", "onboarded_at")),
        "group_moves": GroupTransition.objects.count(),
        "membership_moves": MembershipTransition.objects.count(),
    }


@pytest.fixture
def captured(monkeypatch):
    sent = []
    monkeypatch.setattr(events, "emit", lambda name, /, **payload: sent.append((name, payload)))
    return sent


# --- tags --------------------------------------------------------------------------------------


def test_taxonomy_seed_is_idempotent(taxonomy):
    count = Tag.objects.count()
    assert count == len(services.DEFAULT_TAGS)
    assert services.taxonomy_seed() == 0
    assert Tag.objects.count() == count


def test_tag_create_and_update(operator, taxonomy):
    tag = services.tag_create(actor=operator, dimension="category", code="Sportswear", name="运动服")
    assert (tag.code, tag.name, tag.active) == ("sportswear", "运动服", True)
    services.tag_update(actor=operator, tag_id=tag.pk, name="运动装", active=False)
    tag.refresh_from_db()
    assert (tag.name, tag.active) == ("运动装", False)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"dimension": "category", "code": "womenswear", "name": "新女装"}, "tag_code_taken"),
        ({"dimension": "category", "code": "women2", "name": "女装"}, "tag_name_taken"),
        ({"dimension": "colour", "code": "red", "name": "红"}, "dimension_unknown"),
        ({"dimension": "category", "code": "有空格 code", "name": "x"}, "tag_code_invalid"),
        ({"dimension": "category", "code": "ok", "name": ""}, "name_required"),
    ],
)
def test_tag_create_refused(operator, taxonomy, kwargs, code):
    before = snapshot()
    with pytest.raises((Conflict, ValidationFailed)) as error:
        services.tag_create(actor=operator, **kwargs)
    assert error.value.code == code
    assert snapshot() == before


def test_tag_services_need_an_operator(member, taxonomy):
    before = snapshot()
    with pytest.raises(PermissionRefused) as error:
        services.tag_create(actor=member, dimension="category", code="x", name="x")
    assert error.value.code == "not_operator"
    with pytest.raises(PermissionRefused):
        services.tag_update(actor=member, tag_id=Tag.objects.first().pk, active=False)
    assert snapshot() == before


# --- member tags and profiles --------------------------------------------------------------------


def test_member_tags_set_replaces_one_source_and_profiles_merge(member, taxonomy):
    services.member_tags_set(user=member, source="questionnaire", weights={"womenswear": 1, "premium": 0.8})
    services.member_tags_set(user=member, source="behaviour", weights={"premium": 1.5, "bags": 0.4, "shoes": -1})
    assert selectors.member_profile(member) == {"womenswear": 1.0, "premium": 1.0, "bags": 0.4}
    services.member_tags_set(user=member, source="questionnaire", weights={"baby": 0.9})
    assert selectors.member_profile(member) == {"baby": 0.9, "premium": 1.0, "bags": 0.4}
    assert MemberTag.objects.filter(user=member, source="behaviour").count() == 2  # weight 0 dropped


def test_member_tags_set_refuses_unknown_or_inactive_tags_and_bad_weights(member, taxonomy):
    services.member_tags_set(user=member, source="questionnaire", weights={"womenswear": 1})
    Tag.objects.filter(code="bags").update(active=False)
    before = snapshot()
    for weights, code in (
        ({"womenswear": 1, "nope": 1}, "unknown_tag"),
        ({"bags": 1}, "unknown_tag"),
        ({"womenswear": "heavy"}, "weight_invalid"),
        ({"womenswear": float("nan")}, "weight_invalid"),
    ):
        with pytest.raises(ValidationFailed) as error:
            services.member_tags_set(user=member, source="questionnaire", weights=weights)
        assert error.value.code == code
    with pytest.raises(PermissionRefused):
        services.member_tags_set(user=member, source="operator", weights={"womenswear": 1}, actor=member)
    assert snapshot() == before


def test_profiles_of_and_group_profiles_are_bounded(member, other_member, taxonomy, django_assert_num_queries):
    group = factories.group(segment_obj=factories.segment())
    factories.member_of(group, member)
    factories.member_of(group, other_member)
    factories.tagged(member, "womenswear", "premium")
    factories.tagged(other_member, "womenswear", weight=0.5)
    with django_assert_num_queries(1):
        profiles = selectors.profiles_of([member.pk, other_member.pk])
    assert profiles == {member.pk: {"womenswear": 1.0, "premium": 1.0}, other_member.pk: {"womenswear": 0.5}}
    with django_assert_num_queries(2):
        result = selectors.group_profiles([group.pk])
    assert result[group.pk] == [
        (group.leader_id, {}),
        (member.pk, {"womenswear": 1.0, "premium": 1.0}),
        (other_member.pk, {"womenswear": 0.5}),
    ]


# --- segments ------------------------------------------------------------------------------------


def test_segment_create_and_update(operator, taxonomy):
    segment = services.segment_create(
        actor=operator, name="女装·轻奢", slug="women-premium", rule={"all": ["womenswear", "premium"]}, capacity=200
    )
    assert segment.rule == {"all": ["womenswear", "premium"]}
    services.segment_update(actor=operator, segment_id=segment.pk, rule={"any": ["bags", "shoes"]}, active=False)
    segment.refresh_from_db()
    assert segment.rule == {"any": ["bags", "shoes"]} and not segment.active


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ({"all": ["nope"]}, "unknown_tag"),
        ({"some": ["womenswear"]}, "rule_invalid"),
        ({"all": "womenswear"}, "rule_invalid"),
        ({"all": ["womenswear"], "none": ["womenswear"]}, "rule_contradiction"),
    ],
)
def test_segment_rule_refused(operator, taxonomy, rule, code):
    before = snapshot()
    with pytest.raises(ValidationFailed) as error:
        services.segment_create(actor=operator, name="x", slug="x", rule=rule)
    assert error.value.code == code
    assert snapshot() == before


def test_segment_refusals(operator, member, taxonomy):
    services.segment_create(actor=operator, name="母婴", slug="baby", rule={"all": ["baby"]})
    before = snapshot()
    with pytest.raises(Conflict) as error:
        services.segment_create(actor=operator, name="母婴", slug="baby2", rule={})
    assert error.value.code == "segment_name_taken"
    with pytest.raises(ValidationFailed) as error:
        services.segment_create(actor=operator, name="大群", slug="big", rule={}, capacity=501)
    assert error.value.code == "capacity_invalid"
    with pytest.raises(PermissionRefused):
        services.segment_create(actor=member, name="y", slug="y", rule={})
    assert snapshot() == before


# --- groups --------------------------------------------------------------------------------------


def test_group_create_numbers_within_the_segment(operator, taxonomy):
    segment = services.segment_create(actor=operator, name="女装·轻奢", slug="wp", rule={"all": ["womenswear"]})
    leader = UserFactory(roles=[roles.EXPERT])
    first = services.group_create(actor=operator, leader=leader, segment=segment)
    second = services.group_create(actor=operator, leader=leader, segment=segment, capacity=200)
    assert (first.name, first.number, first.capacity) == ("女装·轻奢 1群", 1, 500)
    assert (second.name, second.number, second.capacity) == ("女装·轻奢 2群", 2, 200)
    assert first.invite_code != second.invite_code
    assert first.member_count == 1
    assert Membership.objects.get(group=first).role == Membership.Role.LEADER
    assert selectors.leads(leader, first)


def test_group_create_refused(operator, member, taxonomy):
    before = snapshot()
    with pytest.raises(PermissionRefused):
        services.group_create(actor=member, leader=member, name="私群")
    with pytest.raises(ValidationFailed) as error:
        services.group_create(actor=operator, leader=member)
    assert error.value.code == "name_required"
    with pytest.raises(ValidationFailed) as error:
        services.group_create(actor=operator, leader=member, name="x", capacity=1)
    assert error.value.code == "capacity_invalid"
    assert snapshot() == before


def test_group_open_next_uses_the_last_leader_and_the_segment_capacity(operator, taxonomy):
    segment = factories.segment(capacity=3)
    first = factories.group(segment_obj=segment, capacity=3)
    opened = services.group_open_next(segment=segment)
    assert (opened.number, opened.leader_id, opened.capacity, opened.name) == (2, first.leader_id, 3, "女装·轻奢 2群")


# --- memberships ---------------------------------------------------------------------------------


def test_membership_add_counts_and_fills_then_opens_the_next(taxonomy, captured):
    segment = factories.segment(capacity=3)
    group = factories.group(segment_obj=segment, capacity=3)
    first, second = UserFactory(roles=[roles.MEMBER]), UserFactory(roles=[roles.MEMBER])
    services.membership_add(group_id=group.pk, user=first, source="placement", fit=0.7)
    group.refresh_from_db()
    assert (group.member_count, group.status) == (2, Group.Status.OPEN)
    services.membership_add(group_id=group.pk, user=second, source="placement")
    group.refresh_from_db()
    assert (group.member_count, group.status) == (3, Group.Status.FULL)
    assert GroupTransition.objects.filter(subject=group, to_state="full").count() == 1
    nxt = Group.objects.get(segment=segment, number=2)
    assert (nxt.status, nxt.leader_id, nxt.member_count) == (Group.Status.OPEN, group.leader_id, 1)
    assert ("community_member_joined", {"group_id": group.pk, "user_id": second.pk}) in captured


def test_membership_add_does_not_open_another_when_one_has_room(taxonomy):
    segment = factories.segment(capacity=2)
    group = factories.group(segment_obj=segment, capacity=2)
    factories.group(segment_obj=segment, capacity=2)
    services.membership_add(group_id=group.pk, user=UserFactory(), source="placement")
    assert segment.groups.count() == 2


def test_membership_add_refusals_change_nothing(member, operator, taxonomy):
    segment = factories.segment(capacity=2)
    full = factories.group(segment_obj=segment, capacity=2)
    factories.member_of(full)
    Group.objects.filter(pk=full.pk).update(status=Group.Status.FULL)
    archived = factories.group(segment_obj=segment)
    Group.objects.filter(pk=archived.pk).update(status=Group.Status.ARCHIVED)
    live = factories.group(segment_obj=segment)
    factories.member_of(live, member)
    banned = UserFactory()
    MemberProfile.objects.create(user=banned, banned_at=timezone.now(), ban_reason="spam")
    before = snapshot()
    for group_id, user, code in (
        (full.pk, UserFactory(), "group_full"),
        (archived.pk, UserFactory(), "group_archived"),
        (live.pk, member, "already_member"),
        (live.pk, banned, "banned"),
    ):
        with pytest.raises((Conflict, PermissionRefused)) as error:
            services.membership_add(group_id=group_id, user=user, source="placement")
        assert error.value.code == code
    assert snapshot() == {**before, "memberships": before["memberships"]}
    with pytest.raises(NotFound):
        services.membership_add(group_id=999999, user=member, source="placement")


def test_approval_group_makes_her_wait_uncounted_then_the_leader_decides(member, other_member, taxonomy):
    group = factories.group(segment_obj=factories.segment(), join_policy=Group.JoinPolicy.APPROVAL)
    pending = services.membership_add(group_id=group.pk, user=member, source="invite")
    rejected = services.membership_add(group_id=group.pk, user=other_member, source="placement")
    group.refresh_from_db()
    assert pending.status == A.PENDING and group.member_count == 1
    services.membership_decide(membership_id=pending.pk, actor=group.leader, approve=True)
    services.membership_decide(membership_id=rejected.pk, actor=group.leader, approve=False, reason="不合适")
    group.refresh_from_db()
    pending.refresh_from_db()
    rejected.refresh_from_db()
    assert (pending.status, rejected.status, group.member_count) == (A.ACTIVE, A.REJECTED, 2)
    assert pending.joined_at is not None
    # An operator's addition does not wait.
    added = services.membership_add(group_id=group.pk, user=UserFactory(), source="operator")
    assert added.status == A.ACTIVE


def test_a_waiting_join_tells_the_leader_and_assistants_once_with_a_link_to_decide(
    member, taxonomy, django_capture_on_commit_callbacks
):
    from erhuo.notifications.models import Notice

    group = factories.group(segment_obj=factories.segment(), join_policy=Group.JoinPolicy.APPROVAL)
    assistant = factories.member_of(group, role=Membership.Role.ASSISTANT).user
    plain = factories.member_of(group).user
    with django_capture_on_commit_callbacks(execute=True):
        pending = services.membership_add(group_id=group.pk, user=member, source="invite")

    notices = list(Notice.objects.order_by("user_id"))
    assert sorted(notice.user_id for notice in notices) == sorted([group.leader_id, assistant.pk])
    assert plain.pk not in {notice.user_id for notice in notices}
    assert {notice.kind for notice in notices} == {"join_requested"}
    assert notices[0].title == f"{member.display_name} asks to join {group.name}"
    assert notices[0].url == f"/groups/{group.pk}/admin/#pending"
    assert notices[0].data == {"group_id": group.pk, "membership_id": pending.pk}
    # The handler again (a replayed event) sends nothing twice; a decided join sends nothing.
    services.notify_admins_of_join(pending.pk)
    assert Notice.objects.count() == 2
    services.membership_decide(membership_id=pending.pk, actor=group.leader, approve=True)
    Notice.objects.all().delete()
    services.notify_admins_of_join(pending.pk)
    assert not Notice.objects.exists()


def test_an_open_group_join_sends_the_leader_no_notice(member, taxonomy, django_capture_on_commit_callbacks):
    from erhuo.notifications.models import Notice

    group = factories.group(segment_obj=factories.segment())
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_add(group_id=group.pk, user=member, source="invite")
    assert not Notice.objects.filter(kind="join_requested").exists()


def test_a_leader_acting_on_another_leaders_group_is_refused(member, taxonomy):
    segment = factories.segment()
    mine = factories.group(segment_obj=segment, leader=UserFactory(roles=[roles.EXPERT]))
    theirs = factories.group(segment_obj=segment, leader=UserFactory(roles=[roles.EXPERT]))
    target = factories.member_of(theirs, member)
    theirs.join_policy = Group.JoinPolicy.APPROVAL
    theirs.save()
    pending = services.membership_add(group_id=theirs.pk, user=UserFactory(), source="invite")
    before = snapshot()
    until = timezone.now() + timedelta(days=1)
    for call in (
        lambda: services.membership_remove(membership_id=target.pk, actor=mine.leader, reason="x"),
        lambda: services.membership_mute(membership_id=target.pk, actor=mine.leader, until=until),
        lambda: services.membership_decide(membership_id=pending.pk, actor=mine.leader, approve=False),
        lambda: services.invite_create(actor=mine.leader, group=theirs),
    ):
        with pytest.raises(PermissionRefused) as error:
            call()
        assert error.value.code == "not_your_group"
    with pytest.raises(PermissionRefused) as error:
        services.membership_remove(membership_id=target.pk, actor=UserFactory(), reason="x")
    assert error.value.code == "not_group_admin"
    assert snapshot() == before


def test_remove_mute_leave_reopen_a_full_group(member, other_member, taxonomy):
    group = factories.group(segment_obj=factories.segment(capacity=3), capacity=3)
    one = factories.member_of(group, member)
    two = factories.member_of(group, other_member)
    Group.objects.filter(pk=group.pk).update(status=Group.Status.FULL)
    until = timezone.now() + timedelta(hours=2)
    services.membership_mute(membership_id=one.pk, actor=group.leader, until=until)
    one.refresh_from_db()
    assert one.muted_until == until
    services.membership_remove(membership_id=one.pk, actor=group.leader, reason="广告")
    group.refresh_from_db()
    assert (group.status, group.member_count) == (Group.Status.OPEN, 2)
    services.membership_leave(membership_id=two.pk, user=other_member)
    group.refresh_from_db()
    two.refresh_from_db()
    assert (group.member_count, two.status) == (1, A.LEFT)


def test_remove_and_leave_refusals(member, other_member, taxonomy):
    group = factories.group(segment_obj=factories.segment())
    one = factories.member_of(group, member)
    leader_row = Membership.objects.get(group=group, role=Membership.Role.LEADER)
    before = snapshot()
    with pytest.raises(ValidationFailed) as error:
        services.membership_remove(membership_id=one.pk, actor=group.leader, reason="")
    assert error.value.code == "reason_required"
    with pytest.raises(Conflict) as error:
        services.membership_remove(membership_id=leader_row.pk, actor=UserFactory(roles=[roles.OWNER]), reason="x")
    assert error.value.code == "leader_protected"
    with pytest.raises(Conflict) as error:
        services.membership_leave(membership_id=leader_row.pk, user=group.leader)
    assert error.value.code == "leader_cannot_leave"
    with pytest.raises(NotFound):
        services.membership_leave(membership_id=one.pk, user=other_member)
    with pytest.raises(ValidationFailed) as error:
        services.membership_mute(membership_id=one.pk, actor=group.leader, until=timezone.now() - timedelta(hours=1))
    assert error.value.code == "mute_in_past"
    assert snapshot() == before


def test_membership_move_updates_both_groups(operator, member, taxonomy):
    segment = factories.segment(capacity=2)
    source = factories.group(segment_obj=segment, capacity=2)
    target = factories.group(segment_obj=segment, capacity=2)
    placed = factories.member_of(source, member)
    Group.objects.filter(pk=source.pk).update(status=Group.Status.FULL)
    moved = services.membership_move(membership_id=placed.pk, to_group_id=target.pk, actor=operator)
    placed.refresh_from_db()
    source.refresh_from_db()
    target.refresh_from_db()
    assert placed.status == A.MOVED
    assert (moved.status, moved.source, moved.group_id) == (A.ACTIVE, "move", target.pk)
    assert (source.status, source.member_count) == (Group.Status.OPEN, 1)
    assert (target.status, target.member_count) == (Group.Status.FULL, 2)


def test_membership_move_refused_into_a_full_group_or_by_a_leader(operator, member, taxonomy):
    segment = factories.segment(capacity=2)
    source = factories.group(segment_obj=segment, capacity=2, leader=UserFactory(roles=[roles.EXPERT]))
    target = factories.group(segment_obj=segment, capacity=2)
    factories.member_of(target)
    Group.objects.filter(pk=target.pk).update(status=Group.Status.FULL)
    placed = factories.member_of(source, member)
    before = snapshot()
    with pytest.raises(Conflict) as error:
        services.membership_move(membership_id=placed.pk, to_group_id=target.pk, actor=operator)
    assert error.value.code == "group_full"
    with pytest.raises(PermissionRefused):
        services.membership_move(membership_id=placed.pk, to_group_id=target.pk, actor=source.leader)
    assert snapshot() == before


def test_member_ban_ends_her_places_and_blocks_admission(operator, member, taxonomy):
    segment = factories.segment()
    group = factories.group(segment_obj=segment)
    approval = factories.group(segment_obj=segment, join_policy=Group.JoinPolicy.APPROVAL)
    active = factories.member_of(group, member)
    pending = services.membership_add(group_id=approval.pk, user=member, source="invite")
    services.member_ban(user=member, actor=operator, reason="骗子")
    active.refresh_from_db()
    pending.refresh_from_db()
    group.refresh_from_db()
    assert (active.status, pending.status, group.member_count) == (A.REMOVED, A.REJECTED, 1)
    before = snapshot()
    with pytest.raises(PermissionRefused) as error:
        services.membership_add(group_id=group.pk, user=member, source="operator")
    assert error.value.code == "banned"
    with pytest.raises(Conflict) as error:
        services.member_ban(user=member, actor=operator, reason="again")
    assert error.value.code == "already_banned"
    assert snapshot() == before
    services.member_unban(user=member, actor=operator)
    services.membership_add(group_id=group.pk, user=member, source="operator")


def test_member_ban_needs_an_operator_and_spares_no_leader(member, operator, taxonomy):
    group = factories.group(segment_obj=factories.segment())
    before = snapshot()
    with pytest.raises(PermissionRefused):
        services.member_ban(user=UserFactory(), actor=member, reason="x")
    with pytest.raises(Conflict) as error:
        services.member_ban(user=group.leader, actor=operator, reason="x")
    assert error.value.code == "bans_a_leader"
    assert snapshot() == before


# --- invites -------------------------------------------------------------------------------------


def test_invites_created_and_revoked_by_the_right_people(operator, member, taxonomy):
    group = factories.group(segment_obj=factories.segment(), leader=UserFactory(roles=[roles.EXPERT]))
    community = services.invite_create(actor=operator, label="小红书")
    own = services.invite_create(actor=group.leader, group=group, max_uses=10)
    assert community.group is None and own.group == group and len(own.code) == 8
    with pytest.raises(PermissionRefused):
        services.invite_create(actor=group.leader)
    with pytest.raises(PermissionRefused):
        services.invite_create(actor=member, group=group)
    with pytest.raises(ValidationFailed) as error:
        services.invite_create(actor=operator, expires_at=timezone.now() - timedelta(days=1))
    assert error.value.code == "expiry_in_past"
    services.invite_revoke(actor=group.leader, invite_id=own.pk)
    with pytest.raises(Conflict) as error:
        services.invite_revoke(actor=group.leader, invite_id=own.pk)
    assert error.value.code == "invite_revoked"
    with pytest.raises(PermissionRefused):
        services.invite_revoke(actor=group.leader, invite_id=community.pk)


def test_the_leader_chooses_assistants_who_then_manage_but_cannot_choose(member, other_member, taxonomy):
    group = factories.group(segment_obj=factories.segment(), leader=UserFactory(roles=[roles.EXPERT]))
    helper = factories.member_of(group, member)
    plain = factories.member_of(group, other_member)
    services.membership_set_role(membership_id=helper.pk, actor=group.leader, role="assistant")
    helper.refresh_from_db()
    assert helper.role == "assistant" and selectors.leads(member, group)
    services.membership_mute(membership_id=plain.pk, actor=member, until=timezone.now() + timedelta(hours=1))
    before = snapshot()
    with pytest.raises(PermissionRefused) as error:
        services.membership_set_role(membership_id=plain.pk, actor=member, role="assistant")
    assert error.value.code == "assistant_protected"
    with pytest.raises(ValidationFailed):
        services.membership_set_role(membership_id=plain.pk, actor=group.leader, role="leader")
    leader_row = Membership.objects.get(group=group, role="leader")
    with pytest.raises(Conflict):
        services.membership_set_role(membership_id=leader_row.pk, actor=group.leader, role="member")
    assert snapshot() == before
    services.membership_set_role(membership_id=helper.pk, actor=group.leader, role="member")
    assert not selectors.leads(member, group)
