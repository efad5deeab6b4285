"""Activities through the services: who may run them, what each kind needs, the clock, giveaway entries and
the fair draw, the gift stock as the market uses it, themed drops. Every refusal changes nothing."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item
from erhuo.community import draw, selectors
from erhuo.community.models import (
    Activity,
    ActivityEntry,
    ActivityGift,
    ActivityTransition,
    Drop,
    Group,
    MemberProfile,
    Membership,
)
from erhuo.community.services import activities as services
from erhuo.community.tests import factories
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed

pytestmark = pytest.mark.django_db

S = Activity.Status
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def leader(db):
    return UserFactory(roles=[roles.EXPERT])


@pytest.fixture
def group(leader):
    return factories.group(leader=leader)


@pytest.fixture
def other_leader(db):
    return UserFactory(roles=[roles.EXPERT])


@pytest.fixture
def other_group(other_leader):
    return factories.group(leader=other_leader)


def snapshot() -> dict:
    """Every row activities write: compared before and after a refused action."""
    return {
        "activities": list(
            Activity.objects.order_by("pk").values_list(
                "pk", "status", "gifts_left", "seed", "entrants_hash", "drawn_at", "updated_at"
            )
        ),
        "steps": ActivityTransition.objects.count(),
        "entries": list(ActivityEntry.objects.order_by("pk").values_list("pk", "user_id", "reference", "won", "rank")),
        "gifts": list(ActivityGift.objects.order_by("pk").values_list("pk", "item_id", "reference", "released_at")),
        "items": list(Item.objects.order_by("pk").values_list("pk", "status")),
        "drops": list(Drop.objects.order_by("pk").values_list("pk", "activity_id")),
    }


def window(now=None, *, starts_in=HOUR, lasts=DAY):
    now = now or timezone.now()
    return {"starts_at": now + starts_in, "ends_at": now + starts_in + lasts}


# --- who may create ----------------------------------------------------------------------------------


def test_an_operator_schedules_a_giveaway_for_several_groups_and_its_seed_is_committed_at_once(
    community_manager, group, other_group
):
    now = timezone.now()
    activity = services.activity_create(
        actor=community_manager,
        kind="giveaway",
        title="  母亲节抽奖 ",
        group_ids=[group.pk, other_group.pk, group.pk],
        prize="Gucci 丝巾",
        winners_count=2,
        now=now,
        **window(now),
    )
    assert (activity.status, activity.title, activity.prize, activity.winners_count) == (
        "scheduled",
        "母亲节抽奖",
        "Gucci 丝巾",
        2,
    )
    assert set(activity.groups.values_list("pk", flat=True)) == {group.pk, other_group.pk}
    assert len(activity.seed_hash) == 64 and activity.seed == "" and activity.entrants_hash == ""
    activity.refresh_from_db()
    assert draw.seed_hash(activity.seed_secret) == activity.seed_hash
    assert list(activity.transitions.values_list("from_state", "to_state", "actor_id")) == [
        ("", "scheduled", community_manager.pk)
    ]
    assert activity.transitions.get().data == {"seed_hash": activity.seed_hash}


def test_the_secret_seed_is_encrypted_in_the_database(community_manager, group):
    activity = factories.activity(actor=community_manager, groups=[group])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seed_secret, seed FROM {Activity._meta.db_table} WHERE id = %s", [activity.pk])
        stored, public = cursor.fetchone()
    activity.refresh_from_db()
    assert public == ""
    assert activity.seed_secret not in stored and len(stored) > 64


def test_a_leader_and_an_assistant_run_activities_in_their_own_group(leader, group):
    assistant = factories.member_of(group, role=Membership.Role.ASSISTANT).user
    for actor in (leader, assistant):
        activity = factories.activity(actor=actor, groups=[group], kind="themed_drop")
        assert activity.created_by == actor and activity.status == "running"


@pytest.mark.parametrize("who", ["member", "other_leader", "leader_of_one_of_two", "outsider", "anonymous"])
def test_anyone_else_is_refused_with_nothing_changed(who, leader, group, other_leader, other_group, member):
    from django.contrib.auth.models import AnonymousUser

    factories.member_of(group, member)
    actor, group_ids = {
        "member": (member, [group.pk]),
        "other_leader": (other_leader, [group.pk]),
        "leader_of_one_of_two": (leader, [group.pk, other_group.pk]),
        "outsider": (UserFactory(roles=[roles.MEMBER]), [group.pk]),
        "anonymous": (AnonymousUser(), [group.pk]),
    }[who]
    gift = factories.listed_item(seller=leader)
    before = snapshot()
    with pytest.raises(PermissionRefused) as refused:
        services.activity_create(
            actor=actor,
            kind="buy_with_gift",
            title="满减",
            group_ids=group_ids,
            threshold_fen=10_000,
            gifts=[gift.pk],
            **window(),
        )
    assert refused.value.code == ("login_required" if who == "anonymous" else "not_your_group")
    assert refused.value.status == 403
    assert snapshot() == before


def test_a_leader_naming_a_group_that_does_not_exist_is_refused_as_not_hers(leader, group):
    with pytest.raises(PermissionRefused):
        services.activity_create(
            actor=leader, kind="themed_drop", title="专场", group_ids=[group.pk, 999_999], **window()
        )
    assert not Activity.objects.exists()


def test_an_operator_naming_an_archived_or_unknown_group_gets_a_field_error(community_manager, group):
    Group.objects.filter(pk=group.pk).update(status=Group.Status.ARCHIVED)
    for group_ids in ([group.pk], [999_999]):
        with pytest.raises(ValidationFailed) as refused:
            services.activity_create(
                actor=community_manager, kind="themed_drop", title="专场", group_ids=group_ids, **window()
            )
        assert "group_ids" in refused.value.fields
    assert not Activity.objects.exists()


# --- what each kind needs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "lottery"}, "kind"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 81}, "title"),
        ({"description": "x" * 2001}, "description"),
        ({"prize": ""}, "prize"),
        ({"prize": "x" * 121}, "prize"),
        ({"winners_count": 0}, "winners_count"),
        ({"winners_count": 101}, "winners_count"),
        ({"winners_count": True}, "winners_count"),
    ],
)
def test_a_giveaway_with_bad_fields_is_refused(fields, field, community_manager, group):
    data = {"kind": "giveaway", "title": "抽奖", "prize": "包", "winners_count": 1, **fields}
    with pytest.raises(ValidationFailed) as refused:
        services.activity_create(actor=community_manager, group_ids=[group.pk], **window(), **data)
    assert field in refused.value.fields
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("times", "field"),
    [
        ({"starts_in": HOUR, "lasts": timedelta(0)}, "ends_at"),
        ({"starts_in": HOUR, "lasts": -HOUR}, "ends_at"),
        ({"starts_in": -3 * HOUR, "lasts": HOUR}, "ends_at"),
        ({"starts_in": HOUR, "lasts": timedelta(days=91)}, "ends_at"),
        ({"starts_in": timedelta(days=366), "lasts": HOUR}, "starts_at"),
    ],
)
def test_a_window_that_is_empty_past_too_long_or_too_far_is_refused(times, field, community_manager, group):
    with pytest.raises(ValidationFailed) as refused:
        services.activity_create(
            actor=community_manager, kind="themed_drop", title="专场", group_ids=[group.pk], **window(**times)
        )
    assert field in refused.value.fields


def test_naive_times_are_refused(community_manager, group):
    naive = timezone.now().replace(tzinfo=None)
    with pytest.raises(ValidationFailed) as refused:
        services.activity_create(
            actor=community_manager,
            kind="themed_drop",
            title="专场",
            group_ids=[group.pk],
            starts_at=naive,
            ends_at=naive + DAY,
        )
    assert set(refused.value.fields) == {"starts_at", "ends_at"}


def test_a_buy_with_gift_holds_its_gift_items_off_sale(leader, group):
    gifts = [factories.listed_item(seller=leader, title=f"赠品 {n}") for n in range(3)]
    activity = services.activity_create(
        actor=leader,
        kind="buy_with_gift",
        title="满 300 送丝巾",
        group_ids=[group.pk],
        threshold_fen=30_000,
        gift_item_id=gifts[0].pk,
        gifts=[gift.pk for gift in gifts[1:]],
        **window(),
    )
    assert (activity.threshold_fen, activity.gifts_left, activity.gift_item_id) == (30_000, 3, gifts[0].pk)
    assert list(ActivityGift.objects.filter(activity=activity).order_by("pk").values_list("item_id", flat=True)) == [
        gift.pk for gift in gifts
    ]
    for gift in gifts:
        gift.refresh_from_db()
        assert gift.status == "reserved"
        assert gift.transitions.last().note == "Held as a gift of “满 300 送丝巾”"
    assert selectors.gift_item_held(gifts[0].pk)


@pytest.mark.parametrize(
    "problem", ["zero_threshold", "no_gift", "not_hers", "not_listed", "self_ship", "already_a_gift", "unknown"]
)
def test_a_buy_with_gift_with_a_bad_gift_or_threshold_is_refused_with_nothing_changed(problem, leader, group):
    gift = factories.listed_item(seller=leader)
    threshold, gifts = 10_000, [gift.pk]
    if problem == "zero_threshold":
        threshold = 0
    elif problem == "no_gift":
        gifts = []
    elif problem == "not_hers":
        gifts = [factories.listed_item(seller=UserFactory(roles=[roles.SELLER])).pk]
    elif problem == "not_listed":
        Item.objects.filter(pk=gift.pk).update(status=Item.Status.SOLD)
    elif problem == "self_ship":
        gifts = [factories.listed_item(seller=leader, fulfilment="self_ship").pk]
    elif problem == "already_a_gift":
        factories.activity(actor=leader, groups=[group], kind="buy_with_gift", gifts=[gift.pk], threshold_fen=5_000)
    elif problem == "unknown":
        gifts = [999_999]
    before = snapshot()
    with pytest.raises(ValidationFailed) as refused:
        services.activity_create(
            actor=leader,
            kind="buy_with_gift",
            title="满减",
            group_ids=[group.pk],
            threshold_fen=threshold,
            gifts=gifts,
            **window(),
        )
    assert set(refused.value.fields) == {"threshold_fen" if problem == "zero_threshold" else "gifts"}
    assert snapshot() == before


# --- the clock ----------------------------------------------------------------------------------------


def test_the_clock_starts_and_ends_activities_and_an_ended_one_puts_unused_gifts_back_on_sale(leader, group):
    now = timezone.now()
    gift = factories.listed_item(seller=leader)
    activity = factories.activity(
        actor=leader, groups=[group], kind="buy_with_gift", gifts=[gift.pk], threshold_fen=1, starts_in=HOUR, now=now
    )
    assert activity.status == "scheduled"
    assert services.activities_settle_due(now=now + 30 * timedelta(minutes=1)) == 0
    assert services.activities_settle_due(now=now + HOUR) == 1
    activity.refresh_from_db()
    assert activity.status == "running"
    assert services.activities_settle_due(now=now + HOUR + DAY) == 1
    activity.refresh_from_db()
    gift.refresh_from_db()
    assert (activity.status, gift.status) == ("ended", "listed")
    assert ActivityGift.objects.get(item=gift).released_at == now + HOUR + DAY
    assert not selectors.gift_item_held(gift.pk)
    assert list(activity.transitions.values_list("to_state", flat=True)) == ["scheduled", "running", "ended"]
    assert services.activities_settle_due(now=now + 2 * DAY) == 0


def test_an_activity_whose_whole_window_passed_unseen_goes_straight_to_ended(community_manager, group):
    now = timezone.now()
    activity = factories.activity(actor=community_manager, groups=[group], starts_in=HOUR, lasts=HOUR, now=now)
    services.activities_settle_due(now=now + 3 * HOUR)
    activity.refresh_from_db()
    assert activity.status == "ended"
    assert activity.entrants_hash == draw.entrants_hash([])


def test_an_activity_whose_start_is_past_runs_at_once(community_manager, group):
    activity = factories.activity(actor=community_manager, groups=[group], starts_in=-HOUR)
    assert activity.status == "running"


def test_cancelling_puts_gifts_back_on_sale_and_is_for_organisers_only(leader, group, other_leader, member):
    factories.member_of(group, member)
    gift = factories.listed_item(seller=leader)
    activity = factories.activity(actor=leader, groups=[group], kind="buy_with_gift", gifts=[gift.pk])
    before = snapshot()
    for actor in (member, other_leader):
        with pytest.raises(PermissionRefused):
            services.activity_cancel(activity_id=activity.pk, actor=actor, reason="不办了")
    with pytest.raises(ValidationFailed):
        services.activity_cancel(activity_id=activity.pk, actor=leader, reason="  ")
    with pytest.raises(NotFound):
        services.activity_cancel(activity_id=999_999, actor=leader, reason="不办了")
    assert snapshot() == before

    services.activity_cancel(activity_id=activity.pk, actor=leader, reason="赠品有瑕疵")
    activity.refresh_from_db()
    gift.refresh_from_db()
    assert (activity.status, gift.status) == ("cancelled", "listed")
    assert activity.transitions.last().note == "赠品有瑕疵"
    with pytest.raises(Conflict) as again:
        services.activity_cancel(activity_id=activity.pk, actor=leader, reason="再取消")
    assert again.value.code == "activity_closed"


# --- giveaways: entering -------------------------------------------------------------------------------


@pytest.fixture
def giveaway(community_manager, group):
    return factories.activity(actor=community_manager, groups=[group], winners_count=2)


def test_a_member_enters_a_running_giveaway_once(giveaway, group, member):
    factories.member_of(group, member)
    entry = services.giveaway_enter(activity_id=giveaway.pk, user=member)
    assert (entry.user, entry.reference, entry.won, entry.rank) == (member, "", False, None)
    before = snapshot()
    with pytest.raises(Conflict) as twice:
        services.giveaway_enter(activity_id=giveaway.pk, user=member)
    assert twice.value.code == "already_entered"
    assert snapshot() == before


def test_outsiders_members_of_other_groups_and_the_banned_cannot_enter(giveaway, group, other_group, member):
    elsewhere = factories.member_of(other_group).user
    banned = factories.member_of(group).user
    MemberProfile.objects.create(user=banned, banned_at=timezone.now(), ban_reason="spam")
    left = factories.member_of(group).user
    Membership.objects.filter(user=left).update(status=Membership.Status.LEFT)
    before = snapshot()
    for user, error, code in [
        (member, NotFound, "activity_not_found"),
        (elsewhere, NotFound, "activity_not_found"),
        (left, NotFound, "activity_not_found"),
        (banned, PermissionRefused, "banned"),
    ]:
        with pytest.raises(error) as refused:
            services.giveaway_enter(activity_id=giveaway.pk, user=user)
        assert refused.value.code == code
    assert snapshot() == before


def test_organisers_cannot_enter_their_own_giveaway(leader, group, community_manager):
    assistant = factories.member_of(group, role=Membership.Role.ASSISTANT).user
    activity = factories.activity(actor=leader, groups=[group])
    factories.member_of(group, community_manager)
    before = snapshot()
    for user in (leader, assistant, community_manager):
        with pytest.raises(PermissionRefused) as refused:
            services.giveaway_enter(activity_id=activity.pk, user=user)
        assert refused.value.code == "organiser_cannot_enter"
    assert snapshot() == before


def test_entries_are_refused_before_the_start_and_after_the_end(community_manager, group, member):
    factories.member_of(group, member)
    now = timezone.now()
    activity = factories.activity(actor=community_manager, groups=[group], starts_in=HOUR, now=now)
    before = snapshot()
    with pytest.raises(Conflict) as early:
        services.giveaway_enter(activity_id=activity.pk, user=member, now=now)
    assert early.value.code == "entries_not_open"
    assert snapshot() == before
    services.giveaway_enter(activity_id=activity.pk, user=member, now=now + HOUR)
    late_member = factories.member_of(group).user
    with pytest.raises(Conflict) as late:
        services.giveaway_enter(activity_id=activity.pk, user=late_member, now=now + HOUR + DAY)
    assert late.value.code == "entries_closed"
    activity.refresh_from_db()
    assert activity.status == "ended"
    assert activity.entrants_hash == draw.entrants_hash([member.pk])
    assert list(ActivityEntry.objects.values_list("user_id", flat=True)) == [member.pk]


def test_an_entry_dated_before_the_start_is_refused_even_once_the_giveaway_runs(community_manager, group, member):
    factories.member_of(group, member)
    activity = factories.activity(actor=community_manager, groups=[group])
    assert activity.status == "running"
    before = snapshot()
    with pytest.raises(Conflict) as early:
        services.giveaway_enter(activity_id=activity.pk, user=member, now=activity.starts_at - timedelta(seconds=1))
    assert early.value.code == "entries_not_open"
    assert snapshot() == before
    assert services.giveaway_enter(activity_id=activity.pk, user=member, now=activity.starts_at).user == member


def test_a_giveaway_entry_in_another_kind_is_refused(community_manager, group, member):
    factories.member_of(group, member)
    themed = factories.activity(actor=community_manager, groups=[group], kind="themed_drop")
    with pytest.raises(Conflict) as refused:
        services.giveaway_enter(activity_id=themed.pk, user=member)
    assert refused.value.code == "not_a_giveaway"


# --- giveaways: closing and drawing -------------------------------------------------------------------


def entered(activity, group, count: int, *, now=None) -> list:
    users = [factories.member_of(group).user for _ in range(count)]
    for user in users:
        services.giveaway_enter(activity_id=activity.pk, user=user, now=now)
    return users


def test_the_draw_reveals_the_seed_and_picks_the_winners_anyone_can_recompute(community_manager, group):
    now = timezone.now()
    activity = factories.activity(actor=community_manager, groups=[group], winners_count=3, now=now)
    users = entered(activity, group, 8, now=now)
    secret = Activity.objects.get(pk=activity.pk).seed_secret
    with pytest.raises(Conflict) as early:
        services.giveaway_draw(activity_id=activity.pk, actor=community_manager, now=now + HOUR)
    assert early.value.code == "entries_open"

    after = now + 2 * DAY
    services.giveaway_close(activity_id=activity.pk, now=after)
    activity.refresh_from_db()
    ids = sorted(user.pk for user in users)
    assert (activity.status, activity.entrants_hash, activity.seed) == ("ended", draw.entrants_hash(ids), "")

    services.giveaway_draw(activity_id=activity.pk, actor=community_manager, now=after)
    activity.refresh_from_db()
    expected = draw.draw_winners(secret, ids, 3)
    assert (activity.status, activity.seed, activity.drawn_at) == ("drawn", secret, after)
    assert list(ActivityEntry.objects.filter(won=True).order_by("rank").values_list("user_id", "rank")) == [
        (user_id, rank) for rank, user_id in enumerate(expected, start=1)
    ]
    assert ActivityEntry.objects.filter(won=False, rank__isnull=True).count() == 5
    # What is published is enough to re-check it.
    record = selectors.giveaway_record(activity)
    assert record["seed"] == secret and record["seed_hash"] == draw.seed_hash(secret)
    assert [entrant["user_id"] for entrant in record["entrants"]] == ids
    assert record["recomputed_winners"] == expected == [winner["user_id"] for winner in record["winners"]]
    assert (record["seed_matches"], record["entrants_match"]) == (True, True)
    assert (
        draw.verify(
            seed_hex=record["seed"],
            committed_seed_hash=record["seed_hash"],
            user_ids=[entrant["user_id"] for entrant in record["entrants"]],
            published_entrants_hash=record["entrants_hash"],
            winners=record["winners_count"],
        )
        == expected
    )
    assert activity.transitions.last().data == {"winners": expected}

    with pytest.raises(Conflict) as twice:
        services.giveaway_draw(activity_id=activity.pk, actor=community_manager, now=after)
    assert twice.value.code == "already_drawn"


def test_the_seed_is_never_in_what_is_published_before_the_draw(community_manager, group):
    now = timezone.now()
    activity = factories.activity(actor=community_manager, groups=[group], now=now)
    entered(activity, group, 3, now=now)
    secret = Activity.objects.get(pk=activity.pk).seed_secret
    for moment in (now, now + 2 * DAY):
        services.activities_settle_due(now=moment)
        activity.refresh_from_db()
        record = selectors.giveaway_record(activity)
        assert record["seed"] is None and activity.seed == ""
        assert secret not in repr(record)
    assert record["entrants_hash"] == activity.entrants_hash and len(record["entrants"]) == 3


def test_only_organisers_draw(leader, group, other_leader, member):
    now = timezone.now()
    activity = factories.activity(actor=leader, groups=[group], now=now)
    factories.member_of(group, member)
    entered(activity, group, 2, now=now)
    services.activities_settle_due(now=now + 2 * DAY)
    before = snapshot()
    for actor in (member, other_leader):
        with pytest.raises(PermissionRefused) as refused:
            services.giveaway_draw(activity_id=activity.pk, actor=actor, now=now + 2 * DAY)
        assert refused.value.code == "not_your_group"
    assert snapshot() == before
    services.giveaway_draw(activity_id=activity.pk, actor=leader, now=now + 2 * DAY)
    assert Activity.objects.get(pk=activity.pk).status == "drawn"


def test_a_giveaway_nobody_entered_is_drawn_with_no_winner(community_manager, group):
    now = timezone.now()
    activity = factories.activity(actor=community_manager, groups=[group], now=now)
    services.giveaway_draw(activity_id=activity.pk, actor=community_manager, now=now + 2 * DAY)
    activity.refresh_from_db()
    assert activity.status == "drawn" and activity.seed and not ActivityEntry.objects.exists()


def test_a_cancelled_giveaway_is_not_drawn(community_manager, group):
    activity = factories.activity(actor=community_manager, groups=[group])
    services.activity_cancel(activity_id=activity.pk, actor=community_manager, reason="奖品缺货")
    with pytest.raises(Conflict) as refused:
        services.giveaway_draw(activity_id=activity.pk, actor=community_manager)
    assert refused.value.code == "activity_closed"
    assert Activity.objects.get(pk=activity.pk).seed == ""


def test_an_entrants_list_changed_after_the_close_refuses_the_draw(community_manager, group):
    now = timezone.now()
    activity = factories.activity(actor=community_manager, groups=[group], now=now)
    entered(activity, group, 2, now=now)
    services.activities_settle_due(now=now + 2 * DAY)
    ActivityEntry.objects.create(activity=activity, user=factories.member_of(group).user)  # behind the services
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        services.giveaway_draw(activity_id=activity.pk, actor=community_manager, now=now + 2 * DAY)
    assert refused.value.code == "entrants_changed"
    assert snapshot() == before


def test_the_draw_tells_the_winners(community_manager, group, django_capture_on_commit_callbacks):
    pytest.importorskip("erhuo.notifications.services")
    from erhuo.notifications.models import Notice

    now = timezone.now()
    activity = factories.activity(actor=community_manager, groups=[group], winners_count=1, now=now)
    entered(activity, group, 3, now=now)
    with django_capture_on_commit_callbacks(execute=True):
        services.giveaway_draw(activity_id=activity.pk, actor=community_manager, now=now + 2 * DAY)
    winner = ActivityEntry.objects.get(won=True).user
    notice = Notice.objects.get()
    assert (notice.user, notice.kind, notice.url) == (winner, "giveaway_won", f"/activities/{activity.pk}/")


# --- the gift stock, as the market uses it --------------------------------------------------------------


@pytest.fixture
def offer(leader, group):
    gifts = [factories.listed_item(seller=leader, title=f"赠品 {n}") for n in range(2)]
    return factories.activity(
        actor=leader, groups=[group], kind="buy_with_gift", threshold_fen=20_000, gifts=[gift.pk for gift in gifts]
    )


def test_an_order_reaching_the_threshold_gets_one_gift_once(offer, group, member):
    factories.member_of(group, member)
    gift = services.gift_for_order(user=member, items_total_fen=20_000, reference="order:1")
    assert gift is not None and gift.pk == offer.gift_item_id
    offer.refresh_from_db()
    assert offer.gifts_left == 1
    assert list(ActivityEntry.objects.values_list("activity_id", "user_id", "reference")) == [
        (offer.pk, member.pk, "order:1")
    ]
    assert ActivityGift.objects.get(item=gift).reference == "order:1"
    before = snapshot()
    assert services.gift_for_order(user=member, items_total_fen=50_000, reference="order:1") is None
    assert services.gift_for_order(user=member, items_total_fen=50_000, reference="order:2") is None  # one each
    assert snapshot() == before


@pytest.mark.parametrize("case", ["below", "outsider", "not_started", "ended", "cancelled"])
def test_no_gift_below_the_threshold_outside_the_groups_or_the_window(case, offer, group, member, leader):
    now = timezone.now()
    total = 19_999 if case == "below" else 20_000
    if case != "outsider":
        factories.member_of(group, member)
    if case == "not_started":
        Activity.objects.filter(pk=offer.pk).update(status=S.SCHEDULED, starts_at=now + HOUR)
    if case == "ended":
        now = now + 2 * DAY
    if case == "cancelled":
        services.activity_cancel(activity_id=offer.pk, actor=leader, reason="取消")
    assert services.gift_for_order(user=member, items_total_fen=total, reference="order:9", now=now) is None
    assert not ActivityEntry.objects.exists()


def test_when_the_gifts_run_out_orders_get_none(offer, group):
    members = [factories.member_of(group).user for _ in range(3)]
    given = [
        services.gift_for_order(user=user, items_total_fen=30_000, reference=f"order:{n}")
        for n, user in enumerate(members)
    ]
    assert given[2] is None and given[0] and given[1] and given[0].pk != given[1].pk
    offer.refresh_from_db()
    assert offer.gifts_left == 0


def test_the_highest_threshold_reached_wins_when_two_offers_run(offer, leader, group, member):
    factories.member_of(group, member)
    bigger = factories.activity(
        actor=leader,
        groups=[group],
        kind="buy_with_gift",
        threshold_fen=50_000,
        gifts=[factories.listed_item(seller=leader, title="大礼").pk],
    )
    assert services.gift_for_order(user=member, items_total_fen=60_000, reference="order:5").pk == bigger.gift_item_id
    assert services.gift_for_order(user=member, items_total_fen=20_000, reference="order:6").pk == offer.gift_item_id


def test_a_returned_gift_goes_back_to_stock_while_running_and_on_sale_after(offer, group, member):
    factories.member_of(group, member)
    gift = services.gift_for_order(user=member, items_total_fen=20_000, reference="order:1")
    assert services.gift_return(reference="order:1") == 1
    offer.refresh_from_db()
    gift.refresh_from_db()
    assert (offer.gifts_left, gift.status) == (2, "reserved")
    assert not ActivityEntry.objects.exists()  # she may get it again with another order
    again = services.gift_for_order(user=member, items_total_fen=20_000, reference="order:2")
    assert again.pk == gift.pk

    after = timezone.now() + 2 * DAY
    assert services.gift_return(reference="order:2", now=after) == 1
    gift.refresh_from_db()
    assert gift.status == "listed"
    assert list(ActivityGift.objects.filter(item=gift).values_list("reference", "given_to", "released_at")) == [
        ("", None, after)
    ]
    assert services.gift_return(reference="order:2", now=after) == 0


# --- themed drops ----------------------------------------------------------------------------------------


def test_a_themed_drop_gathers_drops_into_its_groups(leader, group, other_group, member):
    activity = factories.activity(actor=leader, groups=[group], kind="themed_drop")
    inside = Drop.objects.create(drop_at=timezone.now(), created_by=leader)
    inside.groups.set([group])
    outside = Drop.objects.create(drop_at=timezone.now(), created_by=leader)
    outside.groups.set([group, other_group])
    assert selectors.linkable_drops(activity, leader) == [inside]
    services.activity_drop_link(activity_id=activity.pk, drop_id=inside.pk, actor=leader)
    assert Drop.objects.get(pk=inside.pk).activity_id == activity.pk
    before = snapshot()
    with pytest.raises(ValidationFailed):
        services.activity_drop_link(activity_id=activity.pk, drop_id=outside.pk, actor=leader)
    factories.member_of(group, member)
    with pytest.raises(PermissionRefused):
        services.activity_drop_link(activity_id=activity.pk, drop_id=inside.pk, actor=member)
    assert snapshot() == before
    services.activity_drop_unlink(activity_id=activity.pk, drop_id=inside.pk, actor=leader)
    assert Drop.objects.get(pk=inside.pk).activity_id is None


def test_only_a_themed_drop_links_drops(community_manager, group):
    activity = factories.activity(actor=community_manager, groups=[group])
    drop = Drop.objects.create(drop_at=timezone.now(), created_by=community_manager)
    drop.groups.set([group])
    with pytest.raises(Conflict) as refused:
        services.activity_drop_link(activity_id=activity.pk, drop_id=drop.pk, actor=community_manager)
    assert refused.value.code == "not_a_themed_drop"


# --- participation ---------------------------------------------------------------------------------------


def test_the_report_counts_participation_by_kind(offer, community_manager, group, leader):
    now = timezone.now()
    members = [factories.member_of(group).user for _ in range(4)]
    services.gift_for_order(user=members[0], items_total_fen=30_000, reference="order:1")
    offer.refresh_from_db()
    report = selectors.activity_report(offer)
    assert (report["members_reached"], report["orders_with_gift"], report["participants"]) == (5, 1, 1)
    assert (report["gifts_total"], report["gifts_given"], report["gifts_left"]) == (2, 1, 1)
    assert report["participation_rate"] == 0.2

    giveaway = factories.activity(actor=community_manager, groups=[group], now=now)
    for user in members[:3]:
        services.giveaway_enter(activity_id=giveaway.pk, user=user, now=now)
    services.giveaway_draw(activity_id=giveaway.pk, actor=community_manager, now=now + 2 * DAY)
    report = selectors.activity_report(Activity.objects.get(pk=giveaway.pk))
    assert (report["entrants"], report["participation_rate"], len(report["winners"])) == (3, 0.6, 1)

    themed = factories.activity(actor=leader, groups=[group], kind="themed_drop")
    drop = Drop.objects.create(drop_at=now, created_by=leader, activity=themed)
    drop.groups.set([group])
    items = [factories.listed_item(seller=leader, title=f"专场 {n}") for n in range(4)]
    drop.items.set(items)
    Item.objects.filter(pk__in=[items[0].pk, items[1].pk]).update(status=Item.Status.SOLD)
    report = selectors.activity_report(themed)
    assert (report["drops"], report["items"], report["items_sold"], report["items_on_sale"]) == (1, 4, 2, 2)
    assert report["sell_through"] == 0.5


def test_items_dropped_into_a_themed_drop_go_out_when_it_starts(leader, group, member):
    factories.member_of(group, member)
    now = timezone.now()
    activity = factories.activity(actor=leader, groups=[group], kind="themed_drop", starts_in=HOUR, now=now)
    items = [factories.listed_item(seller=leader, title=f"专场 {n}") for n in range(2)]
    drop = services.activity_drop_create(
        activity_id=activity.pk, actor=leader, item_ids=[item.pk for item in items], now=now
    )
    assert (drop.activity_id, drop.drop_at, drop.status, drop.title) == (
        activity.pk,
        activity.starts_at,
        "scheduled",
        "周末活动",
    )
    assert set(drop.groups.values_list("pk", flat=True)) == {group.pk}
    assert selectors.themed_drop_items(activity, only_out=True, now=now) == []
    assert len(selectors.themed_drop_items(activity, only_out=True, now=now + HOUR)) == 2

    running = factories.activity(actor=leader, groups=[group], kind="themed_drop", now=now)
    live = services.activity_drop_create(
        activity_id=running.pk, actor=leader, item_ids=[factories.listed_item(seller=leader).pk], now=now
    )
    assert live.status == "live"


def test_dropping_into_a_themed_drop_is_for_its_organisers_while_it_is_open(leader, group, member, community_manager):
    factories.member_of(group, member)
    now = timezone.now()
    themed = factories.activity(actor=leader, groups=[group], kind="themed_drop", now=now, lasts=HOUR)
    giveaway = factories.activity(actor=leader, groups=[group], now=now)
    item = factories.listed_item(seller=leader)
    before = snapshot()
    with pytest.raises(PermissionRefused):
        services.activity_drop_create(activity_id=themed.pk, actor=member, item_ids=[item.pk], now=now)
    with pytest.raises(Conflict) as not_themed:
        services.activity_drop_create(activity_id=giveaway.pk, actor=leader, item_ids=[item.pk], now=now)
    assert not_themed.value.code == "not_a_themed_drop"
    with pytest.raises(ValidationFailed) as too_late:
        services.activity_drop_create(
            activity_id=themed.pk, actor=leader, item_ids=[item.pk], drop_at=now + 2 * HOUR, now=now
        )
    assert too_late.value.code == "drop_outside_window"
    services.activities_settle_due(now=now + 2 * HOUR)
    with pytest.raises(Conflict) as ended:
        services.activity_drop_create(activity_id=themed.pk, actor=community_manager, item_ids=[item.pk], now=now)
    assert ended.value.code == "activity_closed"
    assert snapshot()["drops"] == before["drops"]
