"""Placement runs and proposed moves: the services, their refusals with nothing changed, stale moves."""

from math import log

import pytest
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community import selectors
from erhuo.community.models import Group, Membership, PlacementRun, ProposedMove, ProposedMoveTransition
from erhuo.community.services import groups as group_services
from erhuo.community.services import placement as services
from erhuo.community.tests import factories
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


P = ProposedMove.Status
M = Membership.Status

WOMENSWEAR = ("womenswear", "premium", "size-s")
BABY = ("baby", "kids-0-1")


class Community:
    """A mixed legacy group (two womenswear fans, two mothers of babies) beside a pure group of each kind."""

    def __init__(self):
        general = factories.segment("综合", all_tags=())
        womenswear = factories.segment("女装·轻奢", all_tags=("womenswear", "premium"))
        baby = factories.segment("母婴·0–1岁", all_tags=BABY)
        self.mixed = factories.group(segment_obj=general, capacity=10)
        self.womenswear = factories.group(segment_obj=womenswear, capacity=10)
        self.baby = factories.group(segment_obj=baby, capacity=10)
        self.a1, self.a2 = self._members(self.mixed, WOMENSWEAR, 2)
        self.b1, self.b2 = self._members(self.mixed, BABY, 2)
        self._members(self.womenswear, WOMENSWEAR, 3)
        self._members(self.baby, BABY, 3)

    @staticmethod
    def _members(group, codes, count):
        users = []
        for _ in range(count):
            user = UserFactory(roles=[roles.MEMBER])
            factories.tagged(user, *codes)
            factories.member_of(group, user)
            users.append(user)
        return users

    def refresh(self):
        for group in (self.mixed, self.womenswear, self.baby):
            group.refresh_from_db()


@pytest.fixture
def community(db):
    return Community()


@pytest.fixture
def operator(community_manager):
    return community_manager


def snapshot():
    return {
        "runs": sorted(PlacementRun.objects.values_list("pk", "purity_before", "purity_after")),
        "moves": sorted(ProposedMove.objects.values_list("pk", "status", "decided_by_id")),
        "move_audit": ProposedMoveTransition.objects.count(),
        "memberships": sorted(Membership.objects.values_list("pk", "group_id", "user_id", "status", "role")),
        "groups": sorted(Group.objects.values_list("pk", "status", "member_count")),
    }


def live_group_of(user, among):
    return Membership.objects.get(user=user, status=M.ACTIVE, group__in=among).group_id


# --- runs ------------------------------------------------------------------------------------------


def test_a_run_measures_every_group_and_proposes_moves_out_of_the_mixed_one(community, operator):
    run = services.placement_run(actor=operator)

    c = community
    # Ten members, each tag carried by five: every tag weighs ln 2, so the cosines are the raw ones. The mixed
    # group: two pairs alike, the other eight ordered pairs share nothing: 4 / 12.
    assert selectors.community_tag_weights() == {code: pytest.approx(log(2)) for code in WOMENSWEAR + BABY}
    assert run.purity_before == {str(c.mixed.pk): 0.3333, str(c.womenswear.pk): 1.0, str(c.baby.pk): 1.0}
    # Both womenswear fans go to the womenswear group: the first leaves a group where one of three is like
    # her (fit 1/3), the second then one where none is (fit 0); the mothers are left alike.
    moves = list(
        run.moves.order_by("pk").values_list("user_id", "from_group_id", "to_group_id", "fit_before", "fit_after")
    )
    assert moves == [
        (c.a1.pk, c.mixed.pk, c.womenswear.pk, 0.3333, 1.0),
        (c.a2.pk, c.mixed.pk, c.womenswear.pk, 0.0, 1.0),
    ]
    assert run.purity_after == {str(c.mixed.pk): 1.0, str(c.womenswear.pk): 1.0, str(c.baby.pk): 1.0}
    assert set(run.moves.values_list("status", flat=True)) == {P.PROPOSED}
    assert ProposedMoveTransition.objects.filter(subject__run=run, from_state="", to_state=P.PROPOSED).count() == 2
    assert run.created_by == operator
    # The run changed no one's group.
    assert live_group_of(c.a1, [c.mixed, c.womenswear]) == c.mixed.pk


def test_a_new_run_makes_the_previous_runs_open_moves_stale(community, operator):
    first = services.placement_run(actor=operator)
    rejected = first.moves.order_by("pk").last()
    services.move_reject(move_id=rejected.pk, actor=operator)

    second = services.placement_run(actor=operator)

    assert dict(first.moves.values_list("user_id", "status")) == {community.a1.pk: P.STALE, community.a2.pk: P.REJECTED}
    stale = first.moves.get(user=community.a1)
    assert stale.transitions.last().note == f"Superseded by placement run {second.pk}."
    assert set(second.moves.values_list("status", flat=True)) == {P.PROPOSED}


def test_a_run_only_moves_members_between_the_groups_asked(community, operator):
    c = community

    run = services.placement_run(actor=operator, group_ids=[c.mixed.pk, c.baby.pk])

    # The womenswear group is out of reach: the mothers go to the baby group instead.
    assert run.purity_before == {str(c.mixed.pk): 0.3333, str(c.baby.pk): 1.0}
    assert sorted(run.moves.values_list("user_id", "to_group_id")) == [(c.b1.pk, c.baby.pk), (c.b2.pk, c.baby.pk)]


def test_a_full_group_takes_no_one_and_a_group_outside_any_segment_gives_no_one(community, operator):
    c = community
    Group.objects.filter(pk=c.womenswear.pk).update(member_count=10, status=Group.Status.FULL)

    run = services.placement_run(actor=operator)

    assert sorted(run.moves.values_list("user_id", "to_group_id")) == [(c.b1.pk, c.baby.pk), (c.b2.pk, c.baby.pk)]
    Group.objects.filter(pk=c.womenswear.pk).update(member_count=4, status=Group.Status.OPEN)
    Group.objects.filter(pk=c.mixed.pk).update(segment=None, number=None)
    assert services.placement_run(actor=operator).moves.count() == 0


@pytest.mark.parametrize("who", ["member", "leader", "anonymous"])
def test_only_operators_run_placement(community, who):
    from django.contrib.auth.models import AnonymousUser

    actor = {"member": community.b1, "leader": community.mixed.leader, "anonymous": AnonymousUser()}[who]
    if who == "leader":
        actor.groups.clear()  # a leader who is no operator
        actor = type(actor).objects.get(pk=actor.pk)
    before = snapshot()

    with pytest.raises(PermissionRefused) as refused:
        services.placement_run(actor=actor)

    assert refused.value.code == "not_operator"
    assert snapshot() == before


def test_a_run_on_unknown_groups_is_refused(community, operator):
    before = snapshot()

    with pytest.raises(NotFound):
        services.placement_run(actor=operator, group_ids=[community.mixed.pk, 999_999])
    with pytest.raises(ValidationFailed):
        services.placement_run(actor=operator, group_ids=["x"])
    with pytest.raises(ValidationFailed):
        services.placement_run(actor=operator, group_ids=[])

    assert snapshot() == before


# --- approving and rejecting -----------------------------------------------------------------------


@pytest.fixture
def run(community, operator):
    return services.placement_run(actor=operator)


def test_approving_a_move_moves_her_and_the_counts_follow(community, operator, run):
    c = community
    move = run.moves.get(user=c.a1)

    approved = services.move_approve(move_id=move.pk, actor=operator)

    c.refresh()
    assert approved.status == P.APPROVED
    move.refresh_from_db()
    assert (move.status, move.decided_by) == (P.APPROVED, operator)
    assert Membership.objects.get(user=c.a1, group=c.mixed).status == M.MOVED
    moved = Membership.objects.get(user=c.a1, group=c.womenswear, status=M.ACTIVE)
    assert (moved.source, moved.fit) == (Membership.Source.MOVE, 1.0)
    assert (c.mixed.member_count, c.womenswear.member_count) == (4, 5)  # leaders counted
    # Measured now: the mixed group lost a womenswear fan (pairs: b1–b2 twice of 6); the other stays pure.
    purities = selectors.placement_purities([c.mixed.pk, c.womenswear.pk])
    assert purities == {c.mixed.pk: pytest.approx(1 / 3), c.womenswear.pk: pytest.approx(1.0)}


def test_approving_every_move_of_a_run(community, operator, run):
    c = community

    result = services.moves_approve_all(run_id=run.pk, actor=operator)

    c.refresh()
    assert sorted(result.approved) == sorted(run.moves.values_list("pk", flat=True))
    assert result.stale == []
    assert (c.mixed.member_count, c.womenswear.member_count) == (3, 6)
    assert selectors.placement_purities([c.mixed.pk, c.womenswear.pk]) == {
        c.mixed.pk: pytest.approx(1.0),
        c.womenswear.pk: pytest.approx(1.0),
    }
    assert services.moves_approve_all(run_id=run.pk, actor=operator).approved == []


def test_a_move_whose_member_left_goes_stale_and_nothing_else_changes(community, operator, run):
    c = community
    move = run.moves.get(user=c.a1)
    group_services.membership_leave(membership_id=Membership.objects.get(user=c.a1, status=M.ACTIVE).pk, user=c.a1)
    before = snapshot()

    with pytest.raises(Conflict) as refused:
        services.move_approve(move_id=move.pk, actor=operator)

    assert refused.value.code == "move_stale"
    assert c.a1.display_name in str(refused.value.message)
    assert "no longer in" in str(refused.value.message)
    move.refresh_from_db()
    assert move.status == P.STALE
    assert "no longer in" in move.transitions.last().note
    after = snapshot()
    assert after["memberships"] == before["memberships"]
    assert after["groups"] == before["groups"]


def test_a_move_into_a_group_that_filled_goes_stale_and_nothing_else_changes(community, operator, run):
    c = community
    for _ in range(6):  # the womenswear group fills up to its 10 places
        factories.member_of(c.womenswear)
    Group.objects.filter(pk=c.womenswear.pk).update(status=Group.Status.FULL)
    move = run.moves.get(user=c.a1)
    before = snapshot()

    with pytest.raises(Conflict) as refused:
        services.move_approve(move_id=move.pk, actor=operator)

    assert refused.value.code == "move_stale"
    assert "is full now (10/10)" in str(refused.value.message)
    move.refresh_from_db()
    assert move.status == P.STALE
    after = snapshot()
    assert (after["memberships"], after["groups"]) == (before["memberships"], before["groups"])


def test_approve_all_applies_what_it_can_and_reports_the_stale(community, operator, run):
    c = community
    group_services.membership_leave(membership_id=Membership.objects.get(user=c.a2, status=M.ACTIVE).pk, user=c.a2)

    result = services.moves_approve_all(run_id=run.pk, actor=operator)

    first, second = run.moves.order_by("pk")
    assert result.approved == [first.pk]
    assert [move_id for move_id, _why in result.stale] == [second.pk]
    assert dict(run.moves.values_list("user_id", "status")) == {c.a1.pk: P.APPROVED, c.a2.pk: P.STALE}


def test_rejecting_a_move_leaves_her_where_she_is(community, operator, run):
    c = community
    move = run.moves.get(user=c.a1)

    services.move_reject(move_id=move.pk, actor=operator)

    move.refresh_from_db()
    assert (move.status, move.decided_by) == (P.REJECTED, operator)
    assert live_group_of(c.a1, [c.mixed, c.womenswear]) == c.mixed.pk


def test_a_decided_move_cannot_be_decided_again(community, operator, run):
    move = run.moves.get(user=community.a1)
    services.move_reject(move_id=move.pk, actor=operator)
    before = snapshot()

    with pytest.raises(Conflict) as refused:
        services.move_approve(move_id=move.pk, actor=operator)
    assert refused.value.code == "move_decided"
    with pytest.raises(Conflict):
        services.move_reject(move_id=move.pk, actor=operator)
    with pytest.raises(NotFound):
        services.move_approve(move_id=999_999, actor=operator)

    assert snapshot() == before


@pytest.mark.parametrize("action", ["approve", "reject", "approve_all"])
def test_only_operators_decide_moves(community, run, action):
    leader = community.womenswear.leader
    leader.groups.clear()  # the target group's leader, not an operator
    leader = type(leader).objects.get(pk=leader.pk)
    move = run.moves.get(user=community.a1)
    before = snapshot()

    with pytest.raises(PermissionRefused):
        if action == "approve":
            services.move_approve(move_id=move.pk, actor=leader)
        elif action == "reject":
            services.move_reject(move_id=move.pk, actor=leader)
        else:
            services.moves_approve_all(run_id=run.pk, actor=leader)

    assert snapshot() == before
