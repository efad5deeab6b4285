"""The drops API: create, list, cancel, a group's feed and an item's suggested groups, by role."""

from datetime import timedelta

import pytest
from django.utils import timezone

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item
from erhuo.community.models import Drop
from erhuo.community.services import drops as services
from erhuo.community.services.groups import taxonomy_seed
from erhuo.community.tests import factories

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def _taxonomy(catalog_reference_data):
    taxonomy_seed()


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


def as_user(api_client, user):
    api_client.login(user)
    return api_client


def state():
    return list(Drop.objects.values_list("pk", "status").order_by("pk")), Drop.items.through.objects.count()


# --- POST /community/drops ---------------------------------------------------------------------------


def test_a_leader_schedules_a_drop(api_client, leader, group, dress):
    when = timezone.now() + timedelta(hours=2)

    response = as_user(api_client, leader).post(
        "/api/v1/community/drops",
        {"item_ids": [dress.pk], "group_ids": [group.pk], "drop_at": when.isoformat(), "title": "晚八点"},
    )

    assert response.status_code == 201
    body = response.json()
    drop = Drop.objects.get()
    assert body["id"] == drop.pk
    assert (body["status"], body["title"], body["created_by"]) == ("scheduled", "晚八点", leader.display_name)
    assert body["groups"] == [{"id": group.pk, "name": "女装·轻奢 1群"}]
    assert body["items"] == [{"id": dress.pk, "title": "Coach 连衣裙", "price_fen": 58_000, "channel": "community"}]


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [("other_leader", 403, "not_your_group"), ("member", 403, "not_group_admin"), ("anonymous", 401, None)],
)
def test_creating_is_refused_to_the_wrong_people_with_nothing_changed(
    api_client, who, status, code, group, other_group, dress
):
    client = api_client
    if who == "other_leader":
        as_user(api_client, other_group.leader)
    elif who == "member":
        as_user(api_client, factories.member_of(group).user)
    before = state()

    response = client.post("/api/v1/community/drops", {"item_ids": [dress.pk], "group_ids": [group.pk]}, headers=EN)

    assert response.status_code == status
    if code:
        assert response.json()["code"] == code
    assert state() == before


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"item_ids": [], "group_ids": ["G"]}, 422, "validation_error"),
        ({"item_ids": ["I"], "group_ids": [0]}, 422, "validation_error"),
        # A group that does not exist is not hers either: nothing tells her whether it exists.
        ({"item_ids": ["I"], "group_ids": [999_999]}, 403, "not_your_group"),
        ({"item_ids": ["I"], "group_ids": ["G"], "title": "长" * 81}, 422, "validation_error"),
        ({"item_ids": ["SOLD"], "group_ids": ["G"]}, 409, "item_not_listed"),
    ],
)
def test_bad_drops_are_refused(api_client, leader, group, dress, payload, status, code):
    sold = factories.item_on_sale(title="已售")
    Item.objects.filter(pk=sold.pk).update(status=Item.Status.SOLD)
    ids = {"G": group.pk, "I": dress.pk, "SOLD": sold.pk}
    payload = {
        key: [ids.get(v, v) for v in value] if isinstance(value, list) else value for key, value in payload.items()
    }
    before = state()

    response = as_user(api_client, leader).post("/api/v1/community/drops", payload, headers=EN)

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert state() == before


# --- GET /community/drops ------------------------------------------------------------------------------


def test_who_sees_which_drops(api_client, leader, group, other_group, dress, community_manager):
    mine = services.drop_create(actor=leader, item_ids=[dress.pk], group_ids=[group.pk])
    theirs = services.drop_create(actor=other_group.leader, item_ids=[dress.pk], group_ids=[other_group.pk])

    as_leader = as_user(api_client, leader).get("/api/v1/community/drops")
    assert [drop["id"] for drop in as_leader.json()] == [mine.pk]
    as_operator = as_user(api_client, community_manager).get("/api/v1/community/drops", status="live")
    assert sorted(drop["id"] for drop in as_operator.json()) == sorted([mine.pk, theirs.pk])
    member = as_user(api_client, factories.member_of(group).user).get("/api/v1/community/drops")
    assert (member.status_code, member.json()["code"]) == (403, "not_group_admin")
    bad = as_user(api_client, leader).get("/api/v1/community/drops", status="gone")
    assert (bad.status_code, bad.json()["code"]) == (422, "filter_invalid")


# --- POST /community/drops/{id}/cancel -------------------------------------------------------------------


def test_cancelling(api_client, leader, group, other_group, dress):
    later = services.drop_create(
        actor=leader, item_ids=[dress.pk], group_ids=[group.pk], drop_at=timezone.now() + timedelta(hours=1)
    )
    live = services.drop_create(actor=leader, item_ids=[dress.pk], group_ids=[group.pk])
    before = state()

    other = as_user(api_client, other_group.leader).post(f"/api/v1/community/drops/{later.pk}/cancel")
    assert (other.status_code, other.json()["code"]) == (403, "not_your_group")
    out = as_user(api_client, leader).post(f"/api/v1/community/drops/{live.pk}/cancel")
    assert (out.status_code, out.json()["code"]) == (409, "drop_already_out")
    missing = api_client.post("/api/v1/community/drops/999999/cancel")
    assert (missing.status_code, missing.json()["code"]) == (404, "drop_not_found")
    assert state() == before

    done = api_client.post(f"/api/v1/community/drops/{later.pk}/cancel", {"reason": "改期"})
    assert (done.status_code, done.json()["status"]) == (200, "cancelled")


# --- GET /groups/{id}/feed -------------------------------------------------------------------------------


def test_the_feed(api_client, leader, group, other_group, dress, community_manager, django_assert_max_num_queries):
    member = factories.member_of(group).user
    older = factories.item_on_sale(title="早一点的", channel=Item.Channel.PLATFORM)
    services.drop_create(
        actor=leader, item_ids=[older.pk], group_ids=[group.pk], now=timezone.now() - timedelta(hours=1)
    )
    services.drop_create(actor=leader, item_ids=[dress.pk, older.pk], group_ids=[group.pk])
    as_user(api_client, member)

    with django_assert_max_num_queries(8):
        response = api_client.get(f"/api/v1/groups/{group.pk}/feed")

    body = response.json()
    # Both dropped again just now: ties go to the newer item (the higher id).
    assert [row["id"] for row in body] == [older.pk, dress.pk]
    assert body[1] | {"dropped_at": None, "url": None} == {
        "id": dress.pk,
        "title": "Coach 连衣裙",
        "price_fen": 58_000,
        "status": "listed",
        "channel": "community",
        "grade": "A",
        "brand": "Coach",
        "thumbnail_url": None,
        "url": None,
        "dropped_at": None,
    }
    assert body[1]["url"].endswith(f"/items/{dress.pk}/")
    assert as_user(api_client, community_manager).get(f"/api/v1/groups/{group.pk}/feed").status_code == 200
    outsider = as_user(api_client, other_group.leader).get(f"/api/v1/groups/{group.pk}/feed")
    assert (outsider.status_code, outsider.json()["code"]) == (404, "group_not_found")


# --- GET /community/items/{id}/suggested-groups ----------------------------------------------------------


def test_suggested_groups_among_the_ones_she_may_drop_into(api_client, leader, group, other_group, dress):
    factories.tagged(factories.member_of(group).user, "womenswear", "premium")
    factories.tagged(factories.member_of(other_group).user, "womenswear", "premium", "size-m")

    response = as_user(api_client, leader).get(f"/api/v1/community/items/{dress.pk}/suggested-groups", headers=EN)

    assert response.status_code == 200
    assert response.json() == [
        {
            "group_id": group.pk,
            "name": "女装·轻奢 1群",
            "member_count": 2,
            "score": 0.9,
            "reasons": ["女装: 100% of members", "轻奢: 100% of members"],
        }
    ]


def test_suggested_groups_refused_or_not_found(api_client, leader, group, dress):
    member = as_user(api_client, factories.member_of(group).user).get(
        f"/api/v1/community/items/{dress.pk}/suggested-groups"
    )
    assert (member.status_code, member.json()["code"]) == (403, "not_group_admin")
    Item.objects.filter(pk=dress.pk).update(status=Item.Status.SOLD)
    sold = as_user(api_client, leader).get(f"/api/v1/community/items/{dress.pk}/suggested-groups")
    assert (sold.status_code, sold.json()["code"]) == (404, "item_not_found")
