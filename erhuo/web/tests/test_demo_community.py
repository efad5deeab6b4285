"""The demo's communities (community.py): segments and groups (one full with its next group open), members placed
by the questionnaire, an approval group, a mixed old group with proposed moves, drops, micro-classes and
activities in every state, and what the demo member finds on her pages.

The demo is seeded once for this module inside a transaction rolled back at the end (like test_demo_market.py);
the callbacks run after commit (notices) are run at the end of the seed, as a real commit would.
"""

from io import StringIO

import pytest
from django.db import connection, transaction
from django.test import Client, TestCase, override_settings
from django.urls import reverse

from erhuo.accounts.models import User
from erhuo.catalog.models import Item
from erhuo.community import draw
from erhuo.community.models import (
    Activity,
    ActivityEntry,
    ClassSignup,
    Drop,
    Group,
    Membership,
    MicroClass,
    PlacementRun,
    ProposedMove,
    Segment,
    Tag,
)
from erhuo.notifications.models import Notice
from erhuo.web import demo
from erhuo.web.demo import community as demo_community

pytestmark = pytest.mark.django_db
M = Membership.Status


@pytest.fixture(scope="module")
def demo_media(tmp_path_factory):
    return tmp_path_factory.mktemp("demo-media")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, demo_media):
    media = demo_media
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media / "public", ERHUO_PRIVATE_MEDIA_ROOT=media / "private"),
    ):
        name = str(connection.settings_dict["NAME"])
        assert "memory" in name or "test" in name, name
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out = StringIO()
            with TestCase.captureOnCommitCallbacks(execute=True):
                demo.seed(stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def db_seeded(seeded):
    return seeded


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _page(username: str, path: str) -> str:
    client = Client()
    client.force_login(_user(username))
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def test_segments_and_groups(db_seeded):
    assert Tag.objects.count() >= 40
    names = set(Segment.objects.values_list("name", flat=True))
    assert {"女装·轻奢", "女装·大众", "包袋·轻奢", "母婴·0-3岁", "童装·3-6岁", "综合", "老群迁移"} == names
    assert not Segment.objects.get(name="老群迁移").active
    leaders = set(Group.objects.values_list("leader__username", flat=True))
    assert leaders == {"yunying", "expert"}
    # The mothers' segment: 1群 full, 2群 opened by itself and nearly full.
    mothers = list(Group.objects.filter(segment__slug="mums-0-3").order_by("number"))
    assert [(g.number, g.member_count, g.capacity) for g in mothers] == [(1, 40, 40), (2, 37, 40)]
    for group in Group.objects.all():
        counted = Membership.objects.filter(group=group, status=M.ACTIVE).count()
        assert group.member_count == counted, group.name


def test_members_placed_by_the_questionnaire(db_seeded):
    answered = sum(count for _kind, count in demo_community.PROFILES) + 1
    placed = Membership.objects.filter(
        source=Membership.Source.PLACEMENT, group__segment__active=True, role=Membership.Role.MEMBER
    )
    assert placed.count() == answered
    # Each kind went to its own segment: the bag lovers to 包袋·轻奢, the mothers of babies to 母婴.
    assert Group.objects.get(name="包袋·轻奢 1群").member_count >= 20
    assert Group.objects.get(name="童装·3-6岁 1群").member_count >= 20
    member = _user("member")
    assert Membership.objects.get(user=member, status=M.ACTIVE, group__segment__isnull=False).group.name.startswith(
        "母婴·0-3岁"
    )


def test_approval_group_and_the_old_group_with_moves(db_seeded):
    approval = Group.objects.get(name="鉴定师私享群")
    assert approval.join_policy == Group.JoinPolicy.APPROVAL
    assert Membership.objects.filter(group=approval, status=M.PENDING).count() == 4
    assert approval.member_count == 4  # the expert and the three she approved
    legacy = Group.objects.get(name="二货妈妈 老群")
    assert legacy.member_count == demo_community.LEGACY_MEMBERS + 1
    run = PlacementRun.objects.get()
    assert run.purity_before[str(legacy.pk)] < 0.4 < run.purity_after[str(legacy.pk)] + 0.2
    assert run.purity_after[str(legacy.pk)] > run.purity_before[str(legacy.pk)]
    moves = ProposedMove.objects.filter(run=run, status=ProposedMove.Status.PROPOSED)
    assert moves.filter(from_group=legacy).count() >= 10


def test_drops_and_community_only_items(db_seeded):
    assert Drop.objects.filter(status=Drop.Status.LIVE).count() == 2
    assert Drop.objects.filter(status=Drop.Status.SCHEDULED).count() == 1
    assert Drop.objects.filter(status=Drop.Status.CANCELLED).count() == 1
    community_only = Item.objects.filter(channel=Item.Channel.COMMUNITY, status=Item.Status.LISTED)
    assert community_only.count() == 6
    live = Drop.objects.get(title="周五晚 8 点 社群专享")
    item = live.items.order_by("pk").first()
    assert item.channel == Item.Channel.COMMUNITY
    path = reverse("consignment:item_public", args=[item.pk])
    assert item.title in _page("member", path)
    outsider = User.objects.filter(memberships__isnull=True, is_staff=False, is_active=True).exclude(pk=item.seller_id)[
        0
    ]
    client = Client()
    client.force_login(outsider)
    assert client.get(path).status_code == 404


def test_classes_in_every_state(db_seeded):
    by_status = {status: MicroClass.objects.filter(status=status).count() for status in MicroClass.Status.values}
    assert by_status == {"scheduled": 1, "live": 1, "ended": 1, "cancelled": 1}
    ended = MicroClass.objects.get(status=MicroClass.Status.ENDED)
    assert ended.replay_url and ended.materials.count() == 3
    assert ended.signups.filter(attended_at__isnull=False).count() == 13
    scheduled = MicroClass.objects.get(status=MicroClass.Status.SCHEDULED)
    assert ClassSignup.objects.filter(micro_class=scheduled, cancelled_at__isnull=True).count() == 15
    assert all(m.speaker.username == "expert" for m in MicroClass.objects.all())


def test_activities_in_every_state(db_seeded):
    kinds = set(Activity.objects.values_list("kind", "status"))
    assert kinds == {
        ("buy_with_gift", "running"),
        ("giveaway", "drawn"),
        ("giveaway", "running"),
        ("themed_drop", "running"),
    }
    drawn = Activity.objects.get(status=Activity.Status.DRAWN)
    entrants = list(ActivityEntry.objects.filter(activity=drawn, reference="").values_list("user_id", flat=True))
    assert len(entrants) == 25
    assert drawn.entrants_hash == draw.entrants_hash(entrants)
    assert Activity.objects.get(kind="themed_drop").drops.filter(status=Drop.Status.LIVE).count() == 1
    assert Activity.objects.get(kind="buy_with_gift").gifts.count() == 2


def test_the_demo_member_finds_her_community(db_seeded):
    member = _user("member")
    assert Notice.objects.filter(user=member, read_at__isnull=True).count() >= 3
    group = Membership.objects.get(user=member, status=M.ACTIVE, group__segment__isnull=False).group
    page = _page("member", reverse("community:group", args=[group.pk]))
    assert group.name in page and "Stokke" in page
    assert "周五晚 8 点 社群专享" in _page("member", reverse("notifications:list"))
    scheduled = MicroClass.objects.get(status=MicroClass.Status.SCHEDULED)
    assert scheduled.title in _page("member", reverse("community:class_detail", args=[scheduled.pk]))
    drawn = Activity.objects.get(status=Activity.Status.DRAWN)
    assert drawn.title in _page("member", reverse("community:activity_verify", args=[drawn.pk]))
    running = Activity.objects.get(kind="giveaway", status=Activity.Status.RUNNING)
    assert ActivityEntry.objects.filter(activity=running, user=member).exists()
    assert running.title in _page("member", reverse("community:activity", args=[running.pk]))


def test_the_leaders_and_operators_pages(db_seeded):
    approval = Group.objects.get(name="鉴定师私享群")
    pending = Membership.objects.filter(group=approval, status=M.PENDING).select_related("user").first()
    assert _page("expert", reverse("community:group_admin", args=[approval.pk]))
    assert pending is not None
    page = _page("yunying", reverse("community:ops_placement"))
    assert "二货妈妈 老群" in page
    assert "母婴·0-3岁 2群" in _page("yunying", reverse("community:ops_community"))
