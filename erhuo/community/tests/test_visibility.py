"""Community-only items (社群款) exist only for the members of the groups they were dropped into.

The matrix: a member of the drop's group, a member of another group, an
anonymous visitor, the seller, staff; across the item's page, the shop, the
seller's page, the API (the item's queue, the seller's record, the group's
feed) and claiming (409 `item_not_visible` for outsiders, nothing changed).
Pages are reached by URL, as a visitor would: nothing of market, consignment
or trust is imported here.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item
from erhuo.community import selectors
from erhuo.community.models import Drop, Membership
from erhuo.community.services import drops as services
from erhuo.community.tests import factories

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


class World:
    """A drop's group with a member, another group with its member, a seller, staff, and a community-only item
    dropped (live) into the first group beside a public item of the same seller."""

    def __init__(self):
        self.leader = UserFactory(roles=[roles.MEMBER, roles.EXPERT])
        self.group = factories.group(leader=self.leader, name="女装·轻奢 1群")
        self.other_group = factories.group(name="母婴 1群")
        self.insider = factories.member_of(self.group).user
        self.outsider = factories.member_of(self.other_group).user
        self.seller = UserFactory(roles=[roles.MEMBER, roles.SELLER])
        self.staff = UserFactory(roles=[roles.CUSTOMER_SERVICE])
        self.item = factories.item_on_sale(seller=self.seller, title="社群专享 羊绒大衣")
        self.public = factories.item_on_sale(seller=self.seller, title="平台款 真丝衬衫", channel=Item.Channel.BOTH)
        self.drop = services.drop_create(actor=self.leader, item_ids=[self.item.pk], group_ids=[self.group.pk])

    def person(self, who: str):
        return None if who == "anonymous" else getattr(self, who)


@pytest.fixture
def world():
    return World()


def browser(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    if user is not None:
        client.force_login(user)
    return client


def api(user) -> Client:
    """A logged-in session (the API takes sessions as well as tokens), asking in English."""
    client = Client(headers={"Accept-Language": "en"})
    if user is not None:
        client.force_login(user)
    return client


SEES = {"insider": True, "outsider": False, "anonymous": False, "seller": True, "staff": True}
PEOPLE = list(SEES)


@pytest.mark.parametrize("who", PEOPLE)
def test_the_item_page_exists_only_for_those_who_may_see_it(world, who):
    response = browser(world.person(who)).get(reverse("consignment:item_public", args=[world.item.pk]))

    assert response.status_code == (200 if SEES[who] else 404)
    if SEES[who]:
        assert world.item.title in response.content.decode()
    # The public item of the same seller is everyone's.
    assert browser(world.person(who)).get(reverse("consignment:item_public", args=[world.public.pk])).status_code == 200


@pytest.mark.parametrize("who", PEOPLE)
def test_the_shop_lists_it_only_for_those_who_may_see_it(world, who):
    response = browser(world.person(who)).get(reverse("market:shop"))

    shown = [card["item"].pk for card in response.context["cards"]]
    assert shown == ([world.public.pk, world.item.pk] if SEES[who] else [world.public.pk])
    assert (world.item.title in response.content.decode()) is SEES[who]


@pytest.mark.parametrize("who", PEOPLE)
def test_the_sellers_page_shows_it_only_in_the_readers_groups_piece(world, who):
    response = browser(world.person(who)).get(reverse("trust:seller_public", args=[world.seller.username]))

    assert response.status_code == 200
    html = response.content.decode()
    # The seller's own list is public: community-only items are never in it.
    assert [card["item"].pk for card in response.context["cards"]] == [world.public.pk]
    assert ('data-testid="group-items"' in html) is SEES[who]
    assert (world.item.title in html) is SEES[who]


@pytest.mark.parametrize("who", PEOPLE)
def test_the_api_answers_404_to_outsiders(world, who):
    client = api(world.person(who))

    queue = client.get(f"{API}/items/{world.item.pk}/queue")
    seller = client.get(f"{API}/sellers/{world.seller.username}")

    if who == "anonymous":
        assert queue.status_code == 401
    elif SEES[who]:
        assert (queue.status_code, queue.json()["item_id"]) == (200, world.item.pk)
    else:
        assert (queue.status_code, queue.json()["code"]) == (404, "item_not_found")
    assert [item["id"] for item in seller.json()["items"]] == [world.public.pk]


@pytest.mark.parametrize("who", ["outsider", "insider"])
def test_claiming_through_the_api(world, who):
    client = api(world.person(who))

    response = client.post(f"{API}/items/{world.item.pk}/claims", content_type="application/json")

    world.item.refresh_from_db()
    if who == "outsider":
        assert response.status_code == 409
        assert response.json() == {"code": "item_not_visible", "detail": "This item is not offered to you."}
        assert (world.item.status, world.item.claims.count()) == ("listed", 0)
    else:
        assert response.status_code == 201
        assert (world.item.status, world.item.claims.get().member_id) == ("reserved", world.insider.pk)


def test_claiming_from_the_page_is_refused_to_an_outsider_with_nothing_changed(world):
    response = browser(world.outsider).post(reverse("market:claim", args=[world.item.pk]), follow=True)

    world.item.refresh_from_db()
    assert (world.item.status, world.item.claims.count()) == ("listed", 0)
    assert "This item is not offered to you." in response.content.decode() or response.status_code == 404


def test_the_group_feed_is_for_its_members(world):
    insider = api(world.insider).get(f"{API}/groups/{world.group.pk}/feed")
    outsider = api(world.outsider).get(f"{API}/groups/{world.group.pk}/feed")

    assert [item["id"] for item in insider.json()] == [world.item.pk]
    assert insider.json()[0]["channel"] == "community"
    assert (outsider.status_code, outsider.json()["code"]) == (404, "group_not_found")


# --- what makes it visible --------------------------------------------------------------------------


def test_a_scheduled_drop_shows_nothing_until_its_time(world):
    later = factories.item_on_sale(seller=world.seller, title="周五八点")
    drop = services.drop_create(
        actor=world.leader, item_ids=[later.pk], group_ids=[world.group.pk], drop_at=timezone.now() + timedelta(hours=1)
    )
    page = reverse("consignment:item_public", args=[later.pk])

    assert browser(world.insider).get(page).status_code == 404
    Drop.objects.filter(pk=drop.pk).update(drop_at=timezone.now() - timedelta(seconds=1))
    assert browser(world.insider).get(page).status_code == 200


def test_a_cancelled_drop_shows_nothing(world):
    later = factories.item_on_sale(seller=world.seller, title="取消了")
    drop = services.drop_create(
        actor=world.leader, item_ids=[later.pk], group_ids=[world.group.pk], drop_at=timezone.now() + timedelta(hours=1)
    )
    services.drop_cancel(actor=world.leader, drop_id=drop.pk)
    Drop.objects.filter(pk=drop.pk).update(drop_at=timezone.now() - timedelta(hours=1))

    assert not selectors.item_visible_in_groups(later, world.insider)
    assert not Item.objects.filter(selectors.items_visible_filter(world.insider), pk=later.pk).exists()


@pytest.mark.parametrize("status", [Membership.Status.LEFT, Membership.Status.REMOVED, Membership.Status.PENDING])
def test_only_active_members_see_it(world, status):
    Membership.objects.filter(user=world.insider, group=world.group).update(status=status)

    assert not selectors.item_visible_in_groups(world.item, world.insider)
    assert browser(world.insider).get(reverse("consignment:item_public", args=[world.item.pk])).status_code == 404


def test_joining_the_group_later_shows_what_was_dropped_before(world):
    newcomer = UserFactory(roles=[roles.MEMBER])
    assert not selectors.item_visible_in_groups(world.item, newcomer)

    factories.member_of(world.group, newcomer)

    # A new read of the item (one item object remembers its answer for the page it is shown on).
    assert selectors.item_visible_in_groups(Item.objects.get(pk=world.item.pk), newcomer)


def test_the_filter_and_the_single_check_agree(world):
    items = [world.item, world.public, factories.item_on_sale(seller=world.seller, title="没投放的社群款")]
    for who in [*PEOPLE, "leader"]:
        user = world.person(who)
        filtered = set(
            Item.objects.filter(selectors.items_visible_filter(user), pk__in=[i.pk for i in items]).values_list(
                "pk", flat=True
            )
        )
        single = {item.pk for item in items if selectors.item_visible_in_groups(item, user)}
        assert filtered == single, who


def test_the_visibility_filter_is_one_query_however_many_groups(world, django_assert_num_queries):
    for _ in range(3):
        group = factories.group()
        factories.member_of(group, world.insider)
        services.drop_create(
            actor=group.leader, item_ids=[factories.item_on_sale(seller=world.seller).pk], group_ids=[group.pk]
        )
    insider = type(world.insider).objects.get(pk=world.insider.pk)
    insider.has_perm("market.view_all_orders")  # the permissions are read once per request, then cached

    with django_assert_num_queries(1):
        visible = list(Item.objects.filter(selectors.items_visible_filter(insider)).values_list("pk", flat=True))
    assert len(visible) == 5


def test_the_shop_query_count_does_not_grow_with_groups_and_drops(world, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = browser(world.insider)
    client.get(reverse("market:shop"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("market:shop"))
    for _ in range(4):
        group = factories.group()
        factories.member_of(group, world.insider)
        items = [factories.item_on_sale(seller=world.seller).pk for _ in range(3)]
        services.drop_create(actor=group.leader, item_ids=items, group_ids=[group.pk, world.group.pk])

    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("market:shop"))
    assert len(response.context["cards"]) == 14
