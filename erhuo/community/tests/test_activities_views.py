"""Activities' pages: the group card, an activity's page, entering, the draw's verification page, the
organisers' actions, the leader's and operators' lists and forms. Wrong people refused, nothing changed."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community.models import Activity, ActivityEntry, Drop
from erhuo.community.services import activities as services
from erhuo.community.tests import factories
from erhuo.community.tests.test_activities import snapshot

pytestmark = pytest.mark.django_db

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
    user = UserFactory(roles=[roles.EXPERT])
    factories.group(leader=user)
    return user


@pytest.fixture
def member_in(group, member):
    factories.member_of(group, member)
    return member


def logged_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages compared are the English msgids
    return client


def seed_of(activity) -> str:
    return Activity.objects.get(pk=activity.pk).seed_secret


# --- the group page's card --------------------------------------------------------------------------


def test_the_group_page_shows_running_upcoming_and_ended_activities(client, leader, group, member_in):
    now = timezone.now()
    running = factories.activity(actor=leader, groups=[group], title="正在抽奖")
    upcoming = factories.activity(
        actor=leader, groups=[group], kind="themed_drop", title="周五专场", starts_in=timedelta(hours=5)
    )
    ended = factories.activity(actor=leader, groups=[group], title="上周抽奖", now=now - 3 * DAY)
    services.activities_settle_due(now=now)
    cancelled = factories.activity(actor=leader, groups=[group], kind="themed_drop", title="取消了")
    services.activity_cancel(activity_id=cancelled.pk, actor=leader, reason="改期")

    page = logged_in(client, member_in).get(reverse("community:group", args=[group.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="group-activities"' in html
    running_block = html.split('data-testid="activities-running"')[1].split("</ul>")[0]
    upcoming_block = html.split('data-testid="activities-upcoming"')[1].split("</ul>")[0]
    ended_block = html.split('data-testid="activities-ended"')[1].split("</ul>")[0]
    assert f'data-activity="{running.pk}"' in running_block
    assert f'data-activity="{upcoming.pk}"' in upcoming_block
    assert f'data-activity="{ended.pk}"' in ended_block
    assert "取消了" not in html
    assert 'data-testid="activity-new-link"' not in html  # a member does not run it


def test_the_card_says_so_when_there_is_none_and_offers_the_leader_a_new_one(client, leader, group):
    html = logged_in(client, leader).get(reverse("community:group", args=[group.pk])).content.decode()
    assert 'data-testid="group-activities-empty"' in html
    assert reverse("community:group_activity_new", args=[group.pk]) in html


# --- an activity's page -----------------------------------------------------------------------------


def test_a_member_sees_a_giveaway_and_enters_it_once(client, leader, group, member_in):
    activity = factories.activity(actor=leader, groups=[group], prize="一支口红")
    client = logged_in(client, member_in)
    page = client.get(reverse("community:activity", args=[activity.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "一支口红" in html and activity.seed_hash in html
    assert 'data-testid="enter-button"' in html
    assert 'data-testid="activity-report"' not in html
    assert seed_of(activity) not in html

    response = client.post(reverse("community:activity_enter", args=[activity.pk]))
    assert response.status_code == 302
    assert list(ActivityEntry.objects.values_list("user_id", flat=True)) == [member_in.pk]
    before = snapshot()
    again = client.post(reverse("community:activity_enter", args=[activity.pk]), follow=True)
    assert "You have already entered." in again.content.decode()
    assert snapshot() == before
    html = client.get(reverse("community:activity", args=[activity.pk])).content.decode()
    assert 'data-testid="entered"' in html and 'data-testid="enter-button"' not in html


def test_outsiders_get_404_and_strangers_the_login_page(client, leader, group, member):
    activity = factories.activity(actor=leader, groups=[group])
    assert client.get(reverse("community:activity", args=[activity.pk])).status_code == 302
    client = logged_in(client, member)
    before = snapshot()
    for name in ("activity", "activity_verify"):
        assert client.get(reverse(f"community:{name}", args=[activity.pk])).status_code == 404
    assert client.post(reverse("community:activity_enter", args=[activity.pk])).status_code == 404
    assert client.get(reverse("community:activity", args=[999_999])).status_code == 404
    assert snapshot() == before


def test_posting_without_the_csrf_token_is_refused(leader, group, member_in):
    activity = factories.activity(actor=leader, groups=[group])
    client = Client(enforce_csrf_checks=True)
    client.force_login(member_in)
    assert client.post(reverse("community:activity_enter", args=[activity.pk])).status_code == 403
    assert not ActivityEntry.objects.exists()


def test_the_buy_with_gift_page_states_the_rule_and_the_gifts_left(client, leader, group, member_in):
    gift = factories.listed_item(seller=leader, title="香奈儿发夹")
    activity = factories.activity(
        actor=leader, groups=[group], kind="buy_with_gift", threshold_fen=29_900, gifts=[gift.pk]
    )
    html = logged_in(client, member_in).get(reverse("community:activity", args=[activity.pk])).content.decode()
    assert "Spend ¥299.00 in one order, get a gift" in html
    assert "香奈儿发夹" in html
    assert '<dd data-testid="gifts-left">1</dd>' in html


def test_the_leader_sees_participation_and_can_cancel(client, leader, group, member_in):
    activity = factories.activity(actor=leader, groups=[group])
    services.giveaway_enter(activity_id=activity.pk, user=member_in)
    client = logged_in(client, leader)
    html = client.get(reverse("community:activity", args=[activity.pk])).content.decode()
    assert 'data-testid="activity-report"' in html
    assert '<span class="stat-value" data-testid="report-participants">1</span>' in html
    assert 'data-testid="cancel-button"' in html

    response = client.post(reverse("community:activity_cancel", args=[activity.pk]), {"reason": "奖品未到"})
    assert response.status_code == 302
    assert Activity.objects.get(pk=activity.pk).status == "cancelled"


def test_a_member_cannot_cancel_or_draw_and_nothing_changes(client, leader, group, member_in):
    now = timezone.now()
    activity = factories.activity(actor=leader, groups=[group], now=now, lasts=timedelta(minutes=5))
    services.activities_settle_due(now=now + DAY)
    client = logged_in(client, member_in)
    before = snapshot()
    assert client.post(reverse("community:activity_cancel", args=[activity.pk]), {"reason": "x"}).status_code == 403
    assert client.post(reverse("community:activity_draw", args=[activity.pk])).status_code == 403
    assert snapshot() == before


def test_the_organiser_draws_from_the_page_and_lands_on_the_verification(client, leader, group):
    now = timezone.now()
    activity = factories.activity(actor=leader, groups=[group], now=now, lasts=timedelta(minutes=5))
    entrants = [factories.member_of(group).user for _ in range(4)]
    for user in entrants:
        services.giveaway_enter(activity_id=activity.pk, user=user, now=now)
    services.activities_settle_due(now=now + DAY)
    client = logged_in(client, leader)
    assert 'data-testid="draw-button"' in client.get(reverse("community:activity", args=[activity.pk])).content.decode()

    response = client.post(reverse("community:activity_draw", args=[activity.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("community:activity_verify", args=[activity.pk])
    assert Activity.objects.get(pk=activity.pk).status == "drawn"


# --- the verification page -------------------------------------------------------------------------------


def test_the_verification_page_publishes_step_by_step_and_never_the_seed_before_the_draw(client, leader, group):
    now = timezone.now()
    activity = factories.activity(actor=leader, groups=[group], now=now, lasts=timedelta(minutes=5), winners_count=2)
    entrants = [factories.member_of(group).user for _ in range(5)]
    for user in entrants:
        services.giveaway_enter(activity_id=activity.pk, user=user, now=now)
    client = logged_in(client, entrants[0])
    secret = seed_of(activity)
    url = reverse("community:activity_verify", args=[activity.pk])

    running = client.get(url).content.decode()
    assert activity.seed_hash in running and secret not in running
    assert 'data-testid="verify-seed-hidden"' in running
    assert 'data-testid="verify-entrants"' not in running  # the list is published at the close

    services.activities_settle_due(now=now + DAY)
    closed = client.get(url).content.decode()
    assert secret not in closed
    ids = sorted(user.pk for user in entrants)
    assert "\n".join(str(user_id) for user_id in ids) in closed
    assert Activity.objects.get(pk=activity.pk).entrants_hash in closed
    assert 'id="draw-data"' in closed

    services.giveaway_draw(activity_id=activity.pk, actor=leader, now=now + DAY)
    drawn = client.get(url).content.decode()
    assert secret in drawn
    assert drawn.count('data-testid="verify-step"') == 2
    assert 'data-state="ok" data-testid="server-winners"' in drawn
    # Member names are masked on the page.
    for user in entrants:
        assert user.display_name not in drawn


def test_the_verification_page_is_for_giveaways_only(client, leader, group, member_in):
    activity = factories.activity(actor=leader, groups=[group], kind="themed_drop")
    assert logged_in(client, member_in).get(reverse("community:activity_verify", args=[activity.pk])).status_code == 404


def test_the_activity_page_reads_a_bounded_number_of_queries(
    client, leader, group, member_in, django_assert_max_num_queries
):
    now = timezone.now()
    activity = factories.activity(actor=leader, groups=[group], now=now, lasts=timedelta(minutes=5))
    for _ in range(12):
        services.giveaway_enter(activity_id=activity.pk, user=factories.member_of(group).user, now=now)
    services.activities_settle_due(now=now + DAY)
    services.giveaway_draw(activity_id=activity.pk, actor=leader, now=now + DAY)
    client = logged_in(client, leader)
    for name in ("activity", "activity_verify"):
        with django_assert_max_num_queries(22):
            assert client.get(reverse(f"community:{name}", args=[activity.pk])).status_code == 200


# --- themed drops --------------------------------------------------------------------------------------


def test_a_themed_drop_lists_the_items_of_its_drops_that_are_out(client, leader, group, member_in):
    activity = factories.activity(actor=leader, groups=[group], kind="themed_drop", title="春日专场")
    out = Drop.objects.create(drop_at=timezone.now() - timedelta(minutes=1), created_by=leader, status="live")
    out.groups.set([group])
    out.items.set([factories.listed_item(seller=leader, title="开衫 在售")])
    later = Drop.objects.create(drop_at=timezone.now() + DAY, created_by=leader)
    later.groups.set([group])
    later.items.set([factories.listed_item(seller=leader, title="惊喜 明天")])
    for drop in (out, later):
        services.activity_drop_link(activity_id=activity.pk, drop_id=drop.pk, actor=leader)
    html = logged_in(client, member_in).get(reverse("community:activity", args=[activity.pk])).content.decode()
    assert "开衫 在售" in html
    assert "惊喜 明天" not in html


def test_the_organiser_adds_a_drop_from_the_page(client, leader, group):
    activity = factories.activity(actor=leader, groups=[group], kind="themed_drop")
    drop = Drop.objects.create(drop_at=timezone.now(), created_by=leader)
    drop.groups.set([group])
    client = logged_in(client, leader)
    html = client.get(reverse("community:activity", args=[activity.pk])).content.decode()
    assert 'data-testid="drop-link-form"' in html
    client.post(reverse("community:activity_drop_link", args=[activity.pk]), {"drop_id": drop.pk})
    assert Drop.objects.get(pk=drop.pk).activity_id == activity.pk


# --- the leader's and the operators' pages ----------------------------------------------------------------


def test_a_leader_schedules_a_giveaway_from_her_group_admin(client, leader, group):
    client = logged_in(client, leader)
    url = reverse("community:group_activity_new", args=[group.pk])
    assert client.get(url).status_code == 200
    start = timezone.localtime() + timedelta(hours=2)
    response = client.post(
        url,
        {
            "kind": "giveaway",
            "title": "周年抽奖",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + DAY).strftime("%Y-%m-%dT%H:%M"),
            "prize": "一瓶香水",
            "winners_count": "3",
        },
    )
    activity = Activity.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("community:activity", args=[activity.pk])
    assert (activity.kind, activity.prize, activity.winners_count, activity.created_by) == (
        "giveaway",
        "一瓶香水",
        3,
        leader,
    )
    assert list(activity.groups.all()) == [group]
    assert activity.seed_hash


def test_a_buy_with_gift_form_offers_her_own_items_and_checks_the_amount(client, leader, group):
    gift = factories.listed_item(seller=leader, title="真丝眼罩")
    client = logged_in(client, leader)
    url = reverse("community:group_activity_new", args=[group.pk])
    assert "真丝眼罩" in client.get(url).content.decode()
    start = timezone.localtime() + timedelta(hours=2)
    data = {
        "kind": "buy_with_gift",
        "title": "满送",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + DAY).strftime("%Y-%m-%dT%H:%M"),
        "threshold": "29.999",
        "gifts": [str(gift.pk)],
    }
    refused = client.post(url, data)
    assert refused.status_code == 422
    assert "An amount has at most two decimals (fen)." in refused.content.decode()
    assert not Activity.objects.exists()
    data["threshold"] = "299"
    assert client.post(url, data).status_code == 302
    activity = Activity.objects.get()
    assert (activity.threshold_fen, activity.gift_item_id) == (29_900, gift.pk)


def test_the_form_shows_the_services_field_errors(client, leader, group):
    client = logged_in(client, leader)
    start = timezone.localtime() + timedelta(hours=2)
    response = client.post(
        reverse("community:group_activity_new", args=[group.pk]),
        {
            "kind": "giveaway",
            "title": "无奖品",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": start.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "Say what the prize is." in html and "It must end after it starts." in html
    assert not Activity.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("other_leader", 403), ("member", 404), ("operator", 200)])
def test_the_group_activity_pages_are_for_its_leaders_and_operators(
    who, status, client, group, other_leader, member_in, community_manager
):
    user = {"other_leader": other_leader, "member": member_in, "operator": community_manager}[who]
    client = logged_in(client, user)
    for name in ("group_activities", "group_activity_new"):
        assert client.get(reverse(f"community:{name}", args=[group.pk])).status_code == status
    before = snapshot()
    response = client.post(
        reverse("community:group_activity_new", args=[group.pk]), {"kind": "themed_drop", "title": "x"}
    )
    assert response.status_code == (422 if who == "operator" else status)
    assert snapshot() == before


def test_the_group_list_shows_participation(client, leader, group, member_in):
    activity = factories.activity(actor=leader, groups=[group])
    services.giveaway_enter(activity_id=activity.pk, user=member_in)
    html = logged_in(client, leader).get(reverse("community:group_activities", args=[group.pk])).content.decode()
    assert "1 entrant" in html


def test_operators_list_every_activity_and_create_for_several_groups(client, community_manager, group, leader):
    second = factories.group()
    factories.activity(actor=leader, groups=[group], title="一群抽奖")
    client = logged_in(client, community_manager)
    html = client.get(reverse("community:ops_activities")).content.decode()
    assert "一群抽奖" in html
    start = timezone.localtime() + timedelta(hours=2)
    response = client.post(
        reverse("community:ops_activity_new"),
        {
            "kind": "themed_drop",
            "title": "双群专场",
            "groups": [str(group.pk), str(second.pk)],
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + DAY).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    created = Activity.objects.get(title="双群专场")
    assert set(created.groups.values_list("pk", flat=True)) == {group.pk, second.pk}
    filtered = client.get(reverse("community:ops_activities"), {"kind": "themed_drop"}).content.decode()
    assert "双群专场" in filtered and "一群抽奖" not in filtered


@pytest.mark.parametrize("who", ["leader", "member"])
def test_the_operators_pages_refuse_everyone_else(who, client, leader, member):
    client = logged_in(client, {"leader": leader, "member": member}[who])
    assert client.get(reverse("community:ops_activities")).status_code == 403
    assert client.get(reverse("community:ops_activity_new")).status_code == 403
    assert client.post(reverse("community:ops_activity_new"), {"kind": "themed_drop"}).status_code == 403
    assert not Activity.objects.exists()


def test_the_seed_is_not_in_the_admin_before_the_draw(client, leader, group):
    from django.contrib import admin

    activity = factories.activity(actor=leader, groups=[group])
    assert Activity._meta.get_field("seed_secret").editable is False
    if Activity in admin.site._registry:
        superuser = UserFactory(is_staff=True, is_superuser=True)
        client = logged_in(client, superuser)
        for url in (
            reverse("admin:community_activity_changelist"),
            reverse("admin:community_activity_change", args=[activity.pk]),
        ):
            assert seed_of(activity) not in client.get(url).content.decode()


def test_the_group_card_reads_a_constant_number_of_queries(rf, leader, group, member_in, django_assert_max_num_queries):
    from django.template import Context, Template

    for n in range(10):
        factories.activity(actor=leader, groups=[group], kind=("giveaway", "themed_drop", "buy_with_gift")[n % 3])
    request = rf.get("/")
    request.user = member_in
    template = Template("{% load community_activities %}{% group_activities group %}")
    with django_assert_max_num_queries(8):
        html = template.render(Context({"request": request, "group": group}))
    assert html.count('data-testid="activity-row"') == 10


def test_the_organiser_drops_items_into_the_sale_from_its_page(client, leader, group, member_in):
    activity = factories.activity(actor=leader, groups=[group], kind="themed_drop")
    item = factories.listed_item(seller=leader, title="专场 手袋")
    client = logged_in(client, leader)
    assert 'data-testid="drop-items"' in client.get(reverse("community:activity", args=[activity.pk])).content.decode()
    client.post(reverse("community:activity_drop_create", args=[activity.pk]), {"item_ids": [str(item.pk)]})
    assert list(Drop.objects.get(activity=activity).items.all()) == [item]
    client = logged_in(Client(), member_in)
    assert (
        client.post(
            reverse("community:activity_drop_create", args=[activity.pk]), {"item_ids": [str(item.pk)]}
        ).status_code
        == 403
    )
    assert Drop.objects.count() == 1
