"""Joins racing for the last places of a group, against a real database, from many threads at once.

As in `erhuo/market/tests/test_concurrency.py`: on SQLite the threads share a
file database configured as production (WAL, IMMEDIATE transactions, a busy
timeout); on PostgreSQL (`DATABASE_URL`, CI's second pass) each thread has its
own connection to the test database, outside the pool, so they really run at
the same time and the group's row lock (SELECT … FOR UPDATE) is what keeps the
count right.
"""

import pytest

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community.models import Group, GroupTransition, MemberProfile, Membership
from erhuo.community.services import groups as services
from erhuo.community.tests import factories
from erhuo.core.errors import DomainError
from erhuo.core.testing import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_members_take_the_last_place_at_once_one_wins_and_the_next_group_opens_once(real_database):
    segment = factories.segment(capacity=3)
    group = factories.group(segment_obj=segment, capacity=3)
    factories.member_of(group)
    first, second = UserFactory(roles=[roles.MEMBER]), UserFactory(roles=[roles.MEMBER])

    results = run_at_once(
        real_database,
        [
            lambda user=user: services.membership_add(group_id=group.pk, user=user, source="placement")
            for user in (first, second)
        ],
    )

    joined = [result for result in results if isinstance(result, Membership)]
    refused = [result.code for result in results if isinstance(result, DomainError)]
    assert len(joined) == 1 and refused == ["group_full"]
    group.refresh_from_db()
    assert (group.member_count, group.status) == (3, Group.Status.FULL)
    assert Membership.objects.filter(group=group, status=Membership.Status.ACTIVE).count() == 3
    assert list(segment.groups.order_by("number").values_list("number", "status", "member_count")) == [
        (1, "full", 3),
        (2, "open", 1),
    ]
    assert GroupTransition.objects.filter(subject=group, to_state="full").count() == 1


def test_many_join_two_groups_of_a_segment_at_once_counts_stay_exact(real_database):
    segment = factories.segment(capacity=4)
    one = factories.group(segment_obj=segment, capacity=4)
    two = factories.group(segment_obj=segment, capacity=4)
    users = [UserFactory(roles=[roles.MEMBER]) for _ in range(12)]

    results = run_at_once(
        real_database,
        [
            lambda user=user, index=index: services.membership_add(
                group_id=(one if index % 2 else two).pk, user=user, source="placement"
            )
            for index, user in enumerate(users)
        ],
    )

    joined = [result for result in results if isinstance(result, Membership)]
    refused = [result.code for result in results if isinstance(result, DomainError)]
    assert len(joined) == 6 and refused == ["group_full"] * 6
    for group in (one, two):
        group.refresh_from_db()
        assert (group.member_count, group.status) == (4, Group.Status.FULL)
        assert Membership.objects.filter(group=group, status=Membership.Status.ACTIVE).count() == 4
    # Both filled, at about the same time: exactly one next group, under the segment's lock.
    assert list(segment.groups.filter(number=3).values_list("status", "member_count")) == [("open", 1)]
    assert segment.groups.count() == 3


@pytest.mark.parametrize("capacity", [3, 2])
def test_newcomers_answering_at_once_all_get_a_place_and_no_group_overflows(real_database, community_manager, capacity):
    services.taxonomy_seed()
    segment = services.segment_create(
        actor=community_manager,
        name="女装·轻奢",
        slug="wp",
        rule={"all": ["womenswear", "premium"]},
        capacity=capacity,
    )
    services.group_create(actor=community_manager, leader=UserFactory(roles=[roles.EXPERT]), segment=segment)
    invite = services.invite_create(actor=community_manager)
    answers = {"categories": ["womenswear"], "no_children": True, "budget": "premium"}
    users = [UserFactory(roles=[roles.MEMBER]) for _ in range(8)]

    results = run_at_once(
        real_database,
        [
            lambda user=user: services.admission_answer(user=user, invite_code=invite.code, answers=answers)
            for user in users
        ],
    )

    assert [getattr(result, "code", type(result).__name__) for result in results] == ["Admission"] * 8
    rows = list(segment.groups.order_by("number").values_list("number", "member_count", "capacity", "status"))
    # The leader counted in each group: capacity − 1 newcomers a group, every group full, the next opened for more.
    full = 8 // (capacity - 1)
    expected = [(number, capacity, capacity, "full") for number in range(1, full + 1)]
    assert rows == [*expected, (full + 1, 1, capacity, "open")]
    for group in segment.groups.all():
        assert Membership.objects.filter(group=group, status=Membership.Status.ACTIVE).count() == group.member_count


def test_a_limited_invite_admits_no_more_than_it_allows_when_used_at_once(real_database, community_manager):
    services.taxonomy_seed()
    segment = services.segment_create(actor=community_manager, name="综合", slug="general", rule={}, capacity=50)
    services.group_create(actor=community_manager, leader=UserFactory(roles=[roles.EXPERT]), segment=segment)
    invite = services.invite_create(actor=community_manager, max_uses=3)
    answers = {"categories": ["home"], "no_children": True, "budget": "budget"}
    users = [UserFactory(roles=[roles.MEMBER]) for _ in range(6)]

    results = run_at_once(
        real_database,
        [
            lambda user=user: services.admission_answer(user=user, invite_code=invite.code, answers=answers)
            for user in users
        ],
    )

    admitted = [result for result in results if not isinstance(result, DomainError)]
    refused = [(result.code, result.fields) for result in results if isinstance(result, DomainError)]
    assert len(admitted) == 3
    assert refused == [("invite_invalid", {"invite": ["used_up"]})] * 3
    invite.refresh_from_db()
    assert invite.uses == 3
    group = segment.groups.get()
    assert group.member_count == 4 == Membership.objects.filter(group=group, status="active").count()
    # The refused left nothing behind: no tags, no answers.
    refused_users = [user for user, result in zip(users, results, strict=True) if isinstance(result, DomainError)]
    assert not MemberProfile.objects.filter(user__in=refused_users).exists()
