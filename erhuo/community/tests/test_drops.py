"""Drops: who may drop where, what may be dropped, the clock that puts them out, cancelling, and the notices."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item
from erhuo.community import selectors
from erhuo.community.models import Drop, DropTransition, Group, Membership
from erhuo.community.services import drops as services
from erhuo.community.tests import factories
from erhuo.core import events
from erhuo.core.errors import Conflict, PermissionRefused, ValidationFailed
from erhuo.notifications.models import Notice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"  # notices are written in the site's language
    with translation.override("en"):
        yield


@pytest.fixture
def leader():
    return UserFactory(roles=[roles.MEMBER, roles.EXPERT])


@pytest.fixture
def group(leader):
    return factories.group(leader=leader, name="女装·轻奢 1群")


@pytest.fixture
def other_group():
    return factories.group(leader=UserFactory(roles=[roles.MEMBER, roles.EXPERT]), name="母婴 1群")


@pytest.fixture
def item():
    return factories.item_on_sale()


def snapshot() -> dict:
    return {
        "drops": list(Drop.objects.values_list("pk", "status", "drop_at")),
        "audit": DropTransition.objects.count(),
        "drop_items": Drop.items.through.objects.count(),
        "drop_groups": Drop.groups.through.objects.count(),
        "notices": Notice.objects.count(),
    }


# --- creating -----------------------------------------------------------------------------------


def test_an_operator_drops_at_once_into_any_group_and_its_members_are_told(
    community_manager, group, other_group, item, django_capture_on_commit_callbacks
):
    member = factories.member_of(group).user
    both = factories.member_of(other_group, member).user
    received = []
    handler = events.on("community_drop_live")(lambda event: received.append(event.payload))
    now = timezone.now()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            drop = services.drop_create(
                actor=community_manager, item_ids=[item.pk], group_ids=[group.pk, other_group.pk], now=now
            )
    finally:
        events.unregister("community_drop_live", handler)

    drop.refresh_from_db()
    assert (drop.status, drop.drop_at, drop.created_by) == ("live", now, community_manager)
    assert list(drop.items.all()) == [item] and set(drop.groups.all()) == {group, other_group}
    assert list(drop.transitions.order_by("pk").values_list("from_state", "to_state")) == [
        ("", "scheduled"),
        ("scheduled", "live"),
    ]
    assert received == [{"drop_id": drop.pk}]
    # One notice per member and drop, however many of its groups she is in; the leaders are members too.
    told = sorted(Notice.objects.filter(kind="drop_live").values_list("user_id", flat=True))
    assert told == sorted([member.pk, group.leader_id, other_group.leader_id])
    assert both == member
    notice = Notice.objects.get(user=member)
    assert notice.data["drop_id"] == drop.pk and notice.title == f"New in {group.name}: 1 item"


def test_the_one_who_drops_is_not_told_of_her_own_drop(leader, group, item, django_capture_on_commit_callbacks):
    factories.member_of(group)
    with django_capture_on_commit_callbacks(execute=True):
        services.drop_create(actor=leader, item_ids=[item.pk], group_ids=[group.pk], title="周五专场")

    assert not Notice.objects.filter(user=leader).exists()
    assert list(Notice.objects.values_list("title", flat=True)) == ["周五专场"]


def test_a_leader_schedules_into_her_own_group(leader, group, item):
    later = timezone.now() + timedelta(hours=3)

    drop = services.drop_create(actor=leader, item_ids=[item.pk], group_ids=[group.pk], drop_at=later, title="晚八点")

    assert (drop.status, drop.drop_at, drop.title) == ("scheduled", later, "晚八点")
    assert drop.transitions.count() == 1


def test_an_assistant_drops_into_the_group_she_assists(group, item):
    assistant = factories.member_of(group, role=Membership.Role.ASSISTANT).user

    drop = services.drop_create(actor=assistant, item_ids=[item.pk], group_ids=[group.pk])

    assert drop.status == "live"


def test_a_leader_naming_another_leaders_group_is_refused_whole(leader, group, other_group, item):
    before = snapshot()

    with pytest.raises(PermissionRefused) as refused:
        services.drop_create(actor=leader, item_ids=[item.pk], group_ids=[group.pk, other_group.pk])

    assert (refused.value.code, refused.value.status) == ("not_your_group", 403)
    assert str(refused.value.message) == "This is another leader's group: you can only drop into your own."
    assert snapshot() == before


@pytest.mark.parametrize("who", ["member", "seller", "anonymous", "former_leader"])
def test_people_who_run_no_group_cannot_drop(who, group, item):
    from django.contrib.auth.models import AnonymousUser

    if who == "anonymous":
        actor, code = AnonymousUser(), "login_required"
    elif who == "former_leader":
        actor = UserFactory(roles=[roles.MEMBER])
        membership = factories.member_of(group, actor, role=Membership.Role.ASSISTANT)
        Membership.objects.filter(pk=membership.pk).update(status=Membership.Status.REMOVED)
        code = "not_group_admin"
    else:
        actor = factories.member_of(group).user if who == "member" else item.seller
        code = "not_group_admin"
    before = snapshot()

    with pytest.raises(PermissionRefused) as refused:
        services.drop_create(actor=actor, item_ids=[item.pk], group_ids=[group.pk])

    assert refused.value.code == code
    assert snapshot() == before


@pytest.mark.parametrize("status", [Item.Status.RESERVED, Item.Status.SOLD, Item.Status.PRICED, Item.Status.WITHDRAWN])
def test_only_items_on_sale_can_be_dropped(status, leader, group, item):
    on_sale = factories.item_on_sale(title="在售")
    Item.objects.filter(pk=item.pk).update(status=status)
    before = snapshot()

    with pytest.raises(Conflict) as refused:
        services.drop_create(actor=leader, item_ids=[on_sale.pk, item.pk], group_ids=[group.pk])

    assert (refused.value.code, refused.value.status) == ("item_not_listed", 409)
    assert str(refused.value.message) == f"“{item.title}” is not on sale: only listed items can be dropped."
    assert snapshot() == before


def test_a_platform_only_item_may_be_dropped_as_content(leader, group):
    public = factories.item_on_sale(channel=Item.Channel.PLATFORM)

    drop = services.drop_create(actor=leader, item_ids=[public.pk], group_ids=[group.pk])

    public.refresh_from_db()
    assert drop.status == "live" and public.channel == "platform"
    assert [found.pk for found in selectors.group_feed(group)] == [public.pk]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"item_ids": []}, "items", "items_required"),
        ({"group_ids": []}, "groups", "groups_required"),
        ({"item_ids": ["x"]}, "items", "id_invalid"),
        ({"item_ids": [10**9]}, "items", "item_not_found"),
        ({"group_ids": [10**9]}, "groups", "group_not_found"),
        ({"title": "长" * 81}, "title", "title_too_long"),
        ({"drop_at": "far"}, "drop_at", "drop_too_far"),
        ({"item_ids": list(range(1, 52))}, "items", "items_too_many"),
    ],
)
def test_bad_input_is_refused_with_nothing_written(change, field, code, community_manager, group, item):
    arguments = {"actor": community_manager, "item_ids": [item.pk], "group_ids": [group.pk], "title": ""}
    arguments.update(change)
    if arguments.get("drop_at") == "far":
        arguments["drop_at"] = timezone.now() + timedelta(days=91)
    before = snapshot()

    with pytest.raises(ValidationFailed) as refused:
        services.drop_create(**arguments)

    assert (refused.value.code, list(refused.value.fields)) == (code, [field])
    assert snapshot() == before


def test_an_archived_group_takes_no_drop(community_manager, group, item):
    Group.objects.filter(pk=group.pk).update(status=Group.Status.ARCHIVED)
    before = snapshot()

    with pytest.raises(ValidationFailed) as refused:
        services.drop_create(actor=community_manager, item_ids=[item.pk], group_ids=[group.pk])

    assert refused.value.code == "group_archived"
    assert snapshot() == before


def test_a_time_in_the_past_drops_at_once(leader, group, item):
    now = timezone.now()

    drop = services.drop_create(
        actor=leader, item_ids=[item.pk], group_ids=[group.pk], drop_at=now - timedelta(hours=1), now=now
    )

    assert (drop.status, drop.drop_at) == ("live", now)


# --- the clock ----------------------------------------------------------------------------------


def test_the_clock_puts_out_due_drops_only_and_once(leader, group, item, django_capture_on_commit_callbacks):
    now = timezone.now()
    due = services.drop_create(
        actor=leader, item_ids=[item.pk], group_ids=[group.pk], drop_at=now + timedelta(minutes=5), now=now
    )
    later = services.drop_create(
        actor=leader, item_ids=[item.pk], group_ids=[group.pk], drop_at=now + timedelta(hours=2), now=now
    )
    member = factories.member_of(group).user

    with django_capture_on_commit_callbacks(execute=True):
        released = services.drops_release_due(now=now + timedelta(minutes=5))
    again = services.drops_release_due(now=now + timedelta(minutes=6))

    due.refresh_from_db()
    later.refresh_from_db()
    assert (released, again) == (1, 0)
    assert (due.status, later.status) == ("live", "scheduled")
    assert list(due.transitions.values_list("to_state", "actor_id").order_by("pk")) == [
        ("scheduled", leader.pk),
        ("live", None),
    ]
    assert list(Notice.objects.filter(kind="drop_live").values_list("user_id", flat=True)) == [member.pk]


def test_the_periodic_task_releases_due_drops(leader, group, item):
    from erhuo.community import tasks

    drop = services.drop_create(
        actor=leader, item_ids=[item.pk], group_ids=[group.pk], drop_at=timezone.now() + timedelta(minutes=1)
    )
    Drop.objects.filter(pk=drop.pk).update(drop_at=timezone.now() - timedelta(seconds=1))

    assert tasks.release_due_drops.call_local() == 1
    drop.refresh_from_db()
    assert drop.status == "live"


def test_reading_a_due_drop_needs_no_worker(leader, group, item):
    drop = services.drop_create(
        actor=leader, item_ids=[item.pk], group_ids=[group.pk], drop_at=timezone.now() + timedelta(minutes=1)
    )
    member = factories.member_of(group).user
    assert selectors.group_feed(group) == []
    Drop.objects.filter(pk=drop.pk).update(drop_at=timezone.now() - timedelta(seconds=1))

    # Still "scheduled" in the table, but its time has come: members see it already.
    assert [found.pk for found in selectors.group_feed(group)] == [item.pk]
    assert selectors.item_visible_in_groups(item, member)


# --- cancelling ---------------------------------------------------------------------------------


def test_a_leader_cancels_her_scheduled_drop(leader, group, item):
    drop = services.drop_create(
        actor=leader, item_ids=[item.pk], group_ids=[group.pk], drop_at=timezone.now() + timedelta(hours=1)
    )

    services.drop_cancel(actor=leader, drop_id=drop.pk, reason="改到周六")

    drop.refresh_from_db()
    assert drop.status == "cancelled"
    assert drop.transitions.order_by("-pk").values_list("to_state", "note").first() == ("cancelled", "改到周六")
    assert services.drops_release_due(now=timezone.now() + timedelta(hours=2)) == 0


def test_a_drop_that_is_out_cannot_be_cancelled(leader, group, item):
    live = services.drop_create(actor=leader, item_ids=[item.pk], group_ids=[group.pk])
    due = services.drop_create(
        actor=leader, item_ids=[item.pk], group_ids=[group.pk], drop_at=timezone.now() + timedelta(minutes=1)
    )
    Drop.objects.filter(pk=due.pk).update(drop_at=timezone.now() - timedelta(seconds=1))
    before = snapshot()

    for drop in (live, due):
        with pytest.raises(Conflict) as refused:
            services.drop_cancel(actor=leader, drop_id=drop.pk)
        assert refused.value.code == "drop_already_out"
    assert snapshot() == before


def test_another_leader_cannot_cancel_and_a_cancelled_drop_stays_cancelled(leader, group, other_group, item):
    drop = services.drop_create(
        actor=leader, item_ids=[item.pk], group_ids=[group.pk], drop_at=timezone.now() + timedelta(hours=1)
    )
    before = snapshot()

    with pytest.raises(PermissionRefused) as refused:
        services.drop_cancel(actor=other_group.leader, drop_id=drop.pk)
    assert refused.value.code == "not_your_group"
    assert snapshot() == before

    services.drop_cancel(actor=leader, drop_id=drop.pk)
    before = snapshot()
    with pytest.raises(Conflict) as again:
        services.drop_cancel(actor=leader, drop_id=drop.pk)
    assert again.value.code == "drop_cancelled"
    assert snapshot() == before


def test_a_drop_into_two_groups_is_cancelled_only_by_who_runs_both(leader, group, other_group, item):
    drop = services.drop_create(
        actor=UserFactory(roles=[roles.COMMUNITY_MANAGER]),
        item_ids=[item.pk],
        group_ids=[group.pk, other_group.pk],
        drop_at=timezone.now() + timedelta(hours=1),
    )

    with pytest.raises(PermissionRefused) as refused:
        services.drop_cancel(actor=leader, drop_id=drop.pk)

    assert refused.value.code == "not_your_group"
    assert Drop.objects.get(pk=drop.pk).status == "scheduled"


def test_a_time_without_a_zone_is_read_in_the_sites(leader, group, item):
    local = timezone.localtime() + timedelta(hours=5)

    drop = services.drop_create(
        actor=leader, item_ids=[item.pk], group_ids=[group.pk], drop_at=local.replace(tzinfo=None, microsecond=0)
    )

    assert drop.drop_at == local.replace(microsecond=0)
