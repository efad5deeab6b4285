"""A member's community data in her download and on erasure: tags, answers and places go; a leader hands over first."""

import pytest
from django.utils import translation

from erhuo.community import selectors, services
from erhuo.community.models import Group, MemberProfile, Membership, MemberTag
from erhuo.community.tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_her_download_holds_her_tags_answers_and_groups(member):
    group = factories.group(segment_obj=factories.segment())
    factories.member_of(group, member)
    factories.tagged(member, "womenswear", "premium")
    MemberProfile.objects.create(user=member, answers={"categories": ["womenswear"]})

    data = selectors.personal_data_export(user=member)

    assert data["answers"] == {"categories": ["womenswear"]}
    assert sorted(t["tag"] for t in data["tags"]) == ["premium", "womenswear"]
    assert [(g["group"], g["role"], g["status"]) for g in data["groups"]] == [(group.name, "member", "active")]


def test_erasing_takes_her_out_of_her_groups_and_drops_her_tags(member):
    group = factories.group(segment_obj=factories.segment())
    factories.member_of(group, member)
    factories.tagged(member, "womenswear")
    MemberProfile.objects.create(user=member, answers={"city": "上海"})
    assert services.erase_blockers(user=member) == []

    services.personal_data_erase(user=member)

    assert Membership.objects.get(group=group, user=member).status == "left"
    assert Group.objects.get(pk=group.pk).member_count == 1  # the leader
    assert MemberTag.objects.filter(user=member).count() == 0
    assert MemberProfile.objects.get(user=member).answers == {}


def test_a_leader_is_asked_to_hand_her_group_over_first(member):
    group = factories.group(segment_obj=factories.segment(), leader=member)

    assert services.erase_blockers(user=member) == [
        f"You lead groups ({group.name}): an operator must hand them over first."
    ]


def test_a_fresh_install_gets_the_default_taxonomy_once(settings):
    from erhuo.community.apps import seed_taxonomy_after_migrate
    from erhuo.community.models import Tag
    from erhuo.community.services.groups import DEFAULT_TAGS

    settings.TESTING = False
    Tag.objects.all().delete()

    seed_taxonomy_after_migrate(sender=None)
    assert Tag.objects.count() == len(DEFAULT_TAGS)
    Tag.objects.filter(code="womenswear").update(name="女装（运营改过）")
    seed_taxonomy_after_migrate(sender=None)  # not empty: operators own it now

    assert Tag.objects.count() == len(DEFAULT_TAGS)
    assert Tag.objects.get(code="womenswear").name == "女装（运营改过）"
