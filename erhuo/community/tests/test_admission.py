"""Admission: an invite, the questionnaire, tags, and the group she lands in (with others offered)."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community import selectors
from erhuo.community.models import Group, Invite, MemberProfile, Membership, MemberTag
from erhuo.community.services import groups as services
from erhuo.community.tests import factories
from erhuo.community.tests.test_groups_services import snapshot
from erhuo.core.errors import Conflict, PermissionRefused, ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    # Messages are compared in English (the Chinese catalogue translates them).
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def taxonomy(db):
    services.taxonomy_seed()


@pytest.fixture
def operator(community_manager):
    return community_manager


@pytest.fixture
def world(taxonomy, operator):
    """Three segments with a group each, and a general one."""
    leader = UserFactory(roles=[roles.EXPERT])
    women = services.segment_create(
        actor=operator, name="女装·轻奢", slug="women-premium", rule={"all": ["womenswear", "premium"]}
    )
    baby = services.segment_create(
        actor=operator, name="母婴·0-3岁", slug="baby-0-3", rule={"all": ["baby", "kids-0-3"]}
    )
    budget = services.segment_create(
        actor=operator, name="女装·平价", slug="women-budget", rule={"all": ["womenswear", "budget"]}
    )
    general = services.segment_create(actor=operator, name="综合", slug="general", rule={})
    groups = {
        segment.slug: services.group_create(actor=operator, leader=leader, segment=segment)
        for segment in (women, baby, budget, general)
    }
    return {"segments": {s.slug: s for s in (women, baby, budget, general)}, "groups": groups, "leader": leader}


def answers(**overrides):
    base = {
        "categories": ["womenswear", "bags"],
        "styles": ["french"],
        "clothes_size": "size-m",
        "shoe_size": "shoe-37",
        "no_children": True,
        "children_ages": [],
        "budget": "premium",
        "city": "shanghai",
    }
    base.update(overrides)
    return base


def test_questionnaire_options_come_from_the_offered_tags(taxonomy):
    options = services.questionnaire_options()
    assert [tag.code for tag in options["clothes_size"]][:2] == ["size-xs", "size-s"]
    assert all(tag.code.startswith("shoe-") for tag in options["shoe_size"])
    assert "premium" in [tag.code for tag in options["budget"]]
    assert options["children"] == []


def test_community_invite_places_her_in_the_best_group(world, operator, member):
    invite = services.invite_create(actor=operator)
    admission = services.admission_answer(user=member, invite_code=invite.code, answers=answers())
    women = world["groups"]["women-premium"]
    assert admission.placed.group_id == women.pk
    assert admission.placed.status == Membership.Status.ACTIVE
    assert admission.placed.source == Membership.Source.PLACEMENT
    assert admission.placed.fit > 0
    assert "womenswear" in admission.why and "premium" in admission.why
    # The general group matches everyone, so it is offered; the budget and baby groups do not match her.
    assert [group.pk for group, _score in admission.offered] == [world["groups"]["general"].pk]
    profile = selectors.member_profile(member)
    assert profile["womenswear"] == 1.0 and profile["shanghai"] == pytest.approx(0.3)
    row = MemberProfile.objects.get(user=member)
    assert row.onboarded_at is not None and row.answers["budget"] == "premium"
    invite.refresh_from_db()
    assert invite.uses == 1


def test_mother_of_a_toddler_goes_to_the_baby_group(world, operator, member):
    invite = services.invite_create(actor=operator)
    admission = services.admission_answer(
        user=member,
        invite_code=invite.code,
        answers=answers(categories=["baby", "kidswear"], no_children=False, children_ages=[2], budget="midrange"),
    )
    assert admission.placed.group_id == world["groups"]["baby-0-3"].pk


def test_nothing_matches_goes_to_the_general_group(world, operator, member):
    invite = services.invite_create(actor=operator)
    admission = services.admission_answer(
        user=member, invite_code=invite.code, answers=answers(categories=["home"], budget="luxury")
    )
    assert admission.placed.group_id == world["groups"]["general"].pk


def test_no_general_group_and_no_match_is_no_group(taxonomy, operator, member):
    services.segment_create(actor=operator, name="母婴", slug="baby", rule={"all": ["baby"]})
    invite = services.invite_create(actor=operator)
    before = snapshot()
    with pytest.raises(ValidationFailed) as error:
        services.admission_answer(user=member, invite_code=invite.code, answers=answers())
    assert error.value.code == "no_group"
    assert snapshot() == before


def test_when_her_segment_is_full_the_next_group_opens_for_her(world, operator, member):
    women = world["groups"]["women-premium"]
    Group.objects.filter(pk=women.pk).update(status=Group.Status.FULL)
    invite = services.invite_create(actor=operator)
    admission = services.admission_answer(user=member, invite_code=invite.code, answers=answers())
    placed_in = admission.placed.group
    assert (placed_in.segment_id, placed_in.number, placed_in.name) == (women.segment_id, 2, "女装·轻奢 2群")
    assert placed_in.leader_id == women.leader_id


def test_group_invite_places_her_there_even_if_another_fits_better(world, member):
    baby = world["groups"]["baby-0-3"]
    invite = services.invite_create(actor=world["leader"], group=baby)
    admission = services.admission_answer(user=member, invite_code=invite.code, answers=answers())
    assert admission.placed.group_id == baby.pk
    assert admission.placed.source == Membership.Source.INVITE
    assert world["groups"]["women-premium"].pk in [group.pk for group, _score in admission.offered]


def test_a_groups_own_invite_code_works_and_approval_makes_her_wait(world, member):
    baby = world["groups"]["baby-0-3"]
    Group.objects.filter(pk=baby.pk).update(join_policy=Group.JoinPolicy.APPROVAL)
    admission = services.admission_answer(user=member, invite_code=baby.invite_code.lower(), answers=answers())
    assert admission.placed.group_id == baby.pk
    assert admission.placed.status == Membership.Status.PENDING


def test_group_invite_to_a_full_group_finds_the_best_alternative(world, member):
    baby = world["groups"]["baby-0-3"]
    invite = services.invite_create(actor=world["leader"], group=baby)
    Group.objects.filter(pk=baby.pk).update(status=Group.Status.FULL)
    admission = services.admission_answer(user=member, invite_code=invite.code, answers=answers())
    assert admission.placed.group_id == world["groups"]["women-premium"].pk
    assert "full" in admission.note


@pytest.mark.parametrize("problem", ["unknown", "revoked", "expired", "used_up"])
def test_invalid_invites_are_refused_with_the_reason(world, operator, member, problem):
    invite = services.invite_create(actor=operator, max_uses=1)
    code = invite.code
    if problem == "unknown":
        code = "NOPE2345"
    elif problem == "revoked":
        services.invite_revoke(actor=operator, invite_id=invite.pk)
    elif problem == "expired":
        Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    else:
        Invite.objects.filter(pk=invite.pk).update(uses=1)
    before = snapshot()
    with pytest.raises(ValidationFailed) as error:
        services.admission_answer(user=member, invite_code=code, answers=answers())
    assert error.value.code == "invite_invalid"
    assert error.value.fields == {"invite": [problem]}
    assert snapshot() == before


def test_banned_member_is_refused(world, operator, member):
    invite = services.invite_create(actor=operator)
    MemberProfile.objects.create(user=member, banned_at=timezone.now(), ban_reason="spam")
    before = snapshot()
    with pytest.raises(PermissionRefused) as error:
        services.admission_answer(user=member, invite_code=invite.code, answers=answers())
    assert error.value.code == "banned"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"categories": []}, "categories"),
        ({"categories": ["womenswear", "spaceships"]}, "categories"),
        ({"categories": ["womenswear", "bags", "shoes", "beauty", "home", "baby"]}, "categories"),
        ({"no_children": False, "children_ages": [17]}, "children"),
        ({"no_children": False, "children_ages": [-1]}, "children"),
        ({"no_children": False, "children_ages": ["two"]}, "children"),
        ({"no_children": True, "children_ages": [3]}, "children"),
        ({"no_children": False, "children_ages": []}, "children"),
        ({"budget": "billionaire"}, "budget"),
        ({"budget": ""}, "budget"),
        ({"budget": ["premium", "budget"]}, "budget"),
        ({"styles": ["french", "minimal", "street", "vintage"]}, "styles"),
        ({"clothes_size": "shoe-37"}, "clothes_size"),
        ({"favourite_colour": "red"}, "favourite_colour"),
    ],
)
def test_impossible_answers_are_refused_per_field(world, operator, member, overrides, field):
    invite = services.invite_create(actor=operator)
    before = snapshot()
    with pytest.raises(ValidationFailed) as error:
        services.admission_answer(user=member, invite_code=invite.code, answers=answers(**overrides))
    assert error.value.code == "answers_invalid"
    assert list(error.value.fields) == [field]
    assert snapshot() == before
    assert Invite.objects.get(pk=invite.pk).uses == 0


def test_already_in_the_invites_group_is_refused(world, member):
    baby = world["groups"]["baby-0-3"]
    factories.member_of(baby, member)
    invite = services.invite_create(actor=world["leader"], group=baby)
    before = snapshot()
    with pytest.raises(Conflict) as error:
        services.admission_answer(user=member, invite_code=invite.code, answers=answers())
    assert error.value.code == "already_member"
    assert snapshot() == before


def test_answering_again_replaces_her_questionnaire_tags(world, operator, member):
    invite = services.invite_create(actor=operator)
    services.admission_answer(user=member, invite_code=invite.code, answers=answers())
    services.admission_answer(user=member, invite_code=invite.code, answers=answers(categories=["home"]))
    codes = set(MemberTag.objects.filter(user=member, source="questionnaire").values_list("tag__code", flat=True))
    assert "home" in codes and "womenswear" not in codes


def test_join_offered(world, operator, member):
    invite = services.invite_create(actor=operator)
    admission = services.admission_answer(user=member, invite_code=invite.code, answers=answers())
    general = admission.offered[0][0]
    joined = services.admission_join_offered(user=member, group_id=general.pk)
    assert (joined.status, joined.source) == (Membership.Status.ACTIVE, Membership.Source.CHOSEN)
    before = snapshot()
    with pytest.raises(PermissionRefused) as error:
        services.admission_join_offered(user=member, group_id=world["groups"]["baby-0-3"].pk)
    assert error.value.code == "not_a_match"
    with pytest.raises(Conflict) as error:
        services.admission_join_offered(user=member, group_id=general.pk)
    assert error.value.code == "already_member"
    with pytest.raises(ValidationFailed) as error:
        services.admission_join_offered(user=UserFactory(), group_id=general.pk)
    assert error.value.code == "not_onboarded"
    assert snapshot() == before


def test_answering_again_while_in_her_best_group_keeps_her_there(world, operator, member):
    invite = services.invite_create(actor=operator)
    first = services.admission_answer(user=member, invite_code=invite.code, answers=answers())
    groups_before = Group.objects.count()
    again = services.admission_answer(user=member, invite_code=invite.code, answers=answers(styles=["minimal"]))
    assert again.placed.pk == first.placed.pk
    assert "already" in again.note
    assert Group.objects.count() == groups_before
    assert Membership.objects.filter(user=member).count() == 1
    assert selectors.member_profile(member)["minimal"] == pytest.approx(0.6)


def test_offered_groups_are_one_per_other_segment(world, operator, member):
    # A second group of her own segment and a second general group: neither sibling is offered.
    services.group_create(actor=operator, leader=world["leader"], segment=world["segments"]["women-premium"])
    services.group_create(actor=operator, leader=world["leader"], segment=world["segments"]["general"])
    invite = services.invite_create(actor=operator)
    admission = services.admission_answer(user=member, invite_code=invite.code, answers=answers())
    assert admission.placed.group.segment.slug == "women-premium"
    assert [group.segment.slug for group, _score in admission.offered] == ["general"]
