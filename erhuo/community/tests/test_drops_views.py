"""Drop pages: scheduling (with suggested groups), the lists, cancelling; the group page's feed."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item
from erhuo.community.models import Drop
from erhuo.community.services import drops as services
from erhuo.community.services.groups import taxonomy_seed
from erhuo.community.tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(catalog_reference_data):
    taxonomy_seed()
    with translation.override("en"):
        yield


def browser(user=None) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    if user is not None:
        client.force_login(user)
    return client


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
def dress():
    return factories.item_on_sale(title="Coach 连衣裙", brand_name="Coach", size="M")


def drops_state():
    return list(Drop.objects.values_list("pk", "status")), Drop.items.through.objects.count()


# --- who may open the pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["community:group_drops", "community:drop_new"])
@pytest.mark.parametrize(
    ("who", "status"),
    [("leader", 200), ("assistant", 200), ("operator", 200), ("other_leader", 403), ("member", 404), ("stranger", 404)],
)
def test_the_group_drop_pages_by_role(page, who, status, leader, group, other_group, community_manager):
    person = {
        "leader": leader,
        "assistant": factories.member_of(group, role="assistant").user if who == "assistant" else None,
        "operator": community_manager,
        "other_leader": other_group.leader,
        "member": factories.member_of(group).user if who == "member" else None,
        "stranger": UserFactory(roles=[roles.MEMBER]),
    }[who]

    response = browser(person).get(reverse(page, args=[group.pk]))

    assert response.status_code == status


def test_the_group_drop_pages_need_a_login(group):
    response = browser().get(reverse("community:drop_new", args=[group.pk]))

    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.parametrize("page", ["community:ops_drops", "community:ops_drop_new"])
def test_the_operators_pages_are_for_operators(page, leader, community_manager, owner):
    assert browser(leader).get(reverse(page)).status_code == 403
    assert browser(UserFactory(roles=[roles.CUSTOMER_SERVICE])).get(reverse(page)).status_code == 403
    assert browser(community_manager).get(reverse(page)).status_code == 200
    assert browser(owner).get(reverse(page)).status_code == 200


# --- scheduling --------------------------------------------------------------------------------------


def test_choosing_items_suggests_the_groups_they_suit_prechecked(leader, group, dress):
    second = factories.group(leader=leader, name="女装·平价 1群")
    third = factories.group(leader=leader, name="母婴 2群")
    for _ in range(2):
        factories.tagged(factories.member_of(group).user, "womenswear", "premium", "size-m")
        factories.tagged(factories.member_of(second).user, "womenswear", "budget")
        factories.tagged(factories.member_of(third).user, "baby")
    factories.group(name="别人的群")  # not hers: never offered

    response = browser(leader).get(reverse("community:drop_new", args=[group.pk]), {"items": [dress.pk]})

    assert response.status_code == 200
    rows = response.context["group_rows"]
    assert [(row["group"].pk, row["checked"]) for row in rows] == [
        (group.pk, True),
        (second.pk, True),
        (third.pk, False),
    ]
    assert [row["suggestion"].score for row in rows[:2]] == [0.9798, 0.5]
    assert rows[2]["suggestion"] is None
    html = response.content.decode()
    assert "match 98%" in html and "女装: 100% of members" in html
    assert f'name="items" value="{dress.pk}" checked' in html


def test_searching_by_title_brand_label_or_id(leader, group, dress):
    factories.item_on_sale(title="LEGO 积木", category_slug="baby-toys", brand_name="LEGO")
    sold = factories.item_on_sale(title="Coach 已售")
    Item.objects.filter(pk=sold.pk).update(status=Item.Status.SOLD)
    page = reverse("community:drop_new", args=[group.pk])

    by_brand = browser(leader).get(page, {"q": "coach"}).context["found"]
    by_id = browser(leader).get(page, {"q": f"#{dress.pk}"}).context["found"]

    assert [row["item"].pk for row in by_brand] == [dress.pk]
    assert [row["item"].pk for row in by_id] == [dress.pk]


def test_scheduling_a_drop(leader, group, dress):
    when = timezone.localtime() + timedelta(days=1)

    response = browser(leader).post(
        reverse("community:drop_new", args=[group.pk]),
        {"items": [dress.pk], "groups": [group.pk], "drop_at": when.strftime("%Y-%m-%dT%H:%M"), "title": "周五专场"},
        follow=True,
    )

    drop = Drop.objects.get()
    assert (drop.status, drop.title, list(drop.items.all()), list(drop.groups.all())) == (
        "scheduled",
        "周五专场",
        [dress],
        [group],
    )
    assert timezone.localtime(drop.drop_at).strftime("%Y-%m-%d %H:%M") == when.strftime("%Y-%m-%d %H:%M")
    assert response.redirect_chain[-1][0] == reverse("community:group_drops", args=[group.pk])
    assert "Scheduled for" in response.content.decode()


def test_dropping_now_from_the_operators_page(community_manager, group, other_group, dress):
    response = browser(community_manager).post(
        reverse("community:ops_drop_new"), {"items": [dress.pk], "groups": [group.pk, other_group.pk]}
    )

    drop = Drop.objects.get()
    assert drop.status == "live" and set(drop.groups.all()) == {group, other_group}
    assert response["Location"] == reverse("community:ops_drops")


def test_another_leaders_group_posted_by_hand_is_refused_with_nothing_changed(leader, group, other_group, dress):
    before = drops_state()

    response = browser(leader).post(
        reverse("community:drop_new", args=[group.pk]), {"items": [dress.pk], "groups": [group.pk, other_group.pk]}
    )

    # Her form only knows her groups: another group's id is not a valid choice.
    assert response.status_code == 422
    assert "groups" in response.context["form"].errors
    assert drops_state() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"groups": "GROUP"}, "This field is required."),
        ({"items": "ITEM"}, "This field is required."),
        ({"items": "ITEM", "groups": "GROUP", "drop_at": "tomorrow"}, "Enter a valid date/time."),
        ({"items": "ITEM", "groups": "GROUP", "drop_at": "FAR"}, "A drop can be scheduled up to 90 days ahead."),
    ],
)
def test_the_form_says_what_is_wrong(data, message, leader, group, dress):
    data = {
        key: {"GROUP": [group.pk], "ITEM": [dress.pk]}.get(value, value)
        if value != "FAR"
        else (timezone.localtime() + timedelta(days=120)).strftime("%Y-%m-%dT%H:%M")
        for key, value in data.items()
    }
    before = drops_state()

    response = browser(leader).post(reverse("community:drop_new", args=[group.pk]), data)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert drops_state() == before


def test_an_item_sold_meanwhile_is_refused_on_the_form(leader, group, dress):
    Item.objects.filter(pk=dress.pk).update(status=Item.Status.RESERVED)

    response = browser(leader).post(
        reverse("community:drop_new", args=[group.pk]), {"items": [dress.pk], "groups": [group.pk]}
    )

    assert response.status_code == 422
    assert "is not on sale: only listed items can be dropped." in response.content.decode()
    assert not Drop.objects.exists()


# --- the lists and cancelling ----------------------------------------------------------------------


def test_the_group_list_and_cancelling(leader, group, other_group, dress):
    later = services.drop_create(
        actor=leader, item_ids=[dress.pk], group_ids=[group.pk], drop_at=timezone.now() + timedelta(hours=2)
    )
    live = services.drop_create(actor=leader, item_ids=[dress.pk], group_ids=[group.pk])
    elsewhere = services.drop_create(actor=other_group.leader, item_ids=[dress.pk], group_ids=[other_group.pk])
    client = browser(leader)

    listing = client.get(reverse("community:group_drops", args=[group.pk]))
    assert [row["drop"].pk for row in listing.context["rows"]] == [later.pk, live.pk]
    assert [row["cancellable"] for row in listing.context["rows"]] == [True, False]

    response = client.post(reverse("community:group_drop_cancel", args=[group.pk, later.pk]), follow=True)
    assert "The drop is cancelled." in response.content.decode()
    assert Drop.objects.get(pk=later.pk).status == "cancelled"

    # Another group's drop through her group's address: not hers to see.
    before = drops_state()
    assert client.post(reverse("community:group_drop_cancel", args=[group.pk, elsewhere.pk])).status_code == 404
    assert drops_state() == before


def test_a_live_drop_cancelled_by_hand_says_why(leader, group, dress):
    live = services.drop_create(actor=leader, item_ids=[dress.pk], group_ids=[group.pk])

    response = browser(leader).post(reverse("community:group_drop_cancel", args=[group.pk, live.pk]), follow=True)

    assert "This drop is already out" in response.content.decode()
    assert Drop.objects.get(pk=live.pk).status == "live"


def test_a_leader_cannot_cancel_through_another_group_page(leader, group, other_group, dress):
    drop = services.drop_create(
        actor=other_group.leader,
        item_ids=[dress.pk],
        group_ids=[other_group.pk],
        drop_at=timezone.now() + timedelta(hours=1),
    )
    before = drops_state()

    response = browser(leader).post(reverse("community:group_drop_cancel", args=[other_group.pk, drop.pk]))

    assert response.status_code == 403
    assert drops_state() == before


def test_the_operators_list_counts_and_filters(community_manager, leader, group, dress, django_assert_max_num_queries):
    for hours in (1, 2, 3):
        services.drop_create(
            actor=leader, item_ids=[dress.pk], group_ids=[group.pk], drop_at=timezone.now() + timedelta(hours=hours)
        )
    services.drop_create(actor=leader, item_ids=[dress.pk], group_ids=[group.pk])
    client = browser(community_manager)
    client.get(reverse("community:ops_drops"))

    with django_assert_max_num_queries(12):
        response = client.get(reverse("community:ops_drops"), {"status": "scheduled"})

    assert len(response.context["rows"]) == 3
    assert response.context["counts"] == {"scheduled": 3, "live": 1}
    assert 'data-testid="cancel-drop"' in response.content.decode()


# --- the group page's feed ----------------------------------------------------------------------------


def test_the_group_page_shows_its_live_drops_newest_first_with_claim_buttons(leader, group, dress):
    member = factories.member_of(group).user
    older = factories.item_on_sale(title="早一点的", channel=Item.Channel.BOTH)
    services.drop_create(
        actor=leader, item_ids=[older.pk], group_ids=[group.pk], now=timezone.now() - timedelta(hours=1)
    )
    services.drop_create(actor=leader, item_ids=[dress.pk], group_ids=[group.pk])
    services.drop_create(
        actor=leader,
        item_ids=[factories.item_on_sale(title="还没到时间").pk],
        group_ids=[group.pk],
        drop_at=timezone.now() + timedelta(hours=1),
    )

    response = browser(member).get(reverse("community:group", args=[group.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Coach 连衣裙") < html.index("早一点的")
    assert "还没到时间" not in html
    assert html.count('data-testid="card-claim"') == 2
    assert f'action="{reverse("market:claim", args=[dress.pk])}"' in html


def test_the_feed_says_so_when_nothing_dropped(group):
    member = factories.member_of(group).user

    html = browser(member).get(reverse("community:group", args=[group.pk])).content.decode()

    assert 'data-testid="group-feed-empty"' in html


def test_the_feed_settles_due_drops_on_read(leader, group, dress):
    member = factories.member_of(group).user
    drop = services.drop_create(
        actor=leader, item_ids=[dress.pk], group_ids=[group.pk], drop_at=timezone.now() + timedelta(minutes=5)
    )
    Drop.objects.filter(pk=drop.pk).update(drop_at=timezone.now() - timedelta(seconds=1))

    html = browser(member).get(reverse("community:group", args=[group.pk])).content.decode()

    assert "Coach 连衣裙" in html
    assert Drop.objects.get(pk=drop.pk).status == "live"


def test_the_group_page_query_count_does_not_grow_with_the_feed(leader, group, django_assert_max_num_queries):
    member = factories.member_of(group).user
    client = browser(member)

    def drop_some(count):
        items = [factories.item_on_sale(title=f"件 {n}", channel=Item.Channel.COMMUNITY).pk for n in range(count)]
        services.drop_create(actor=leader, item_ids=items, group_ids=[group.pk])

    drop_some(2)
    client.get(reverse("community:group", args=[group.pk]))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("community:group", args=[group.pk]))
    drop_some(10)

    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("community:group", args=[group.pk]))
    assert response.content.decode().count('data-testid="shop-card"') == 12
