"""The claims API (接龙): the contract of `POST /items/{id}/claims`, the queue, my claims, withdrawing.

The first claim reserves the item for the payment window, later ones queue
in the order the database accepted them; every refusal is a 409 with its
code and writes nothing.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from erhuo.accounts import roles
from erhuo.accounts.services import api_token_issue
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item, ItemTransition
from erhuo.market.models import Claim, ClaimTransition
from erhuo.market.tests.factories import buyer, listed_item

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _english_and_sandbox(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    settings.ERHUO_CLAIM_PAYMENT_MINUTES = 30
    with translation.override("en"):
        yield


class Caller:
    """One member's API client: a bearer token and JSON in, the Django test response out."""

    def __init__(self, user=None):
        self.user = user
        self.client = Client()
        self.headers = {"accept-language": "en"}
        if user is not None:
            self.headers["Authorization"] = f"Bearer {api_token_issue(user=user, name='test')[1]}"

    def get(self, path, **params):
        return self.client.get(API + path, params, headers=self.headers)

    def post(self, path, data=None, headers=None):
        return self.client.post(
            API + path, data or {}, content_type="application/json", headers={**self.headers, **(headers or {})}
        )

    def post_form(self, path, data):
        return self.client.post(API + path, data, headers=self.headers)


def caller(user=None) -> Caller:
    return Caller(user)


def to_the_millisecond(moment):
    """The JSON answer carries milliseconds: compare a moment of the test at the same precision."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def claim_state(item) -> dict:
    """Everything a claim could write: compared before and after a refusal."""
    item.refresh_from_db()
    return {
        "item_status": item.status,
        "claims": list(Claim.objects.order_by("pk").values_list("pk", "member_id", "status", "seq")),
        "claim_steps": ClaimTransition.objects.count(),
        "item_steps": ItemTransition.objects.filter(subject=item).count(),
    }


# --- the contract ---------------------------------------------------------------------------------


def test_the_first_claim_reserves_and_the_next_ones_queue_in_order():
    item = listed_item()
    first, second, third = buyer(), buyer(), buyer()

    before = to_the_millisecond(timezone.now())
    response = caller(first).post(f"/items/{item.pk}/claims")
    after = timezone.now()

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"claim"}
    assert set(body["claim"]) == {"id", "item_id", "status", "position", "expires_at"}
    assert body["claim"]["status"] == "reserved"
    assert body["claim"]["position"] == 0
    assert body["claim"]["item_id"] == item.pk
    expires_at = parse_datetime(body["claim"]["expires_at"])
    assert before + timedelta(minutes=30) <= expires_at <= after + timedelta(minutes=30)
    item.refresh_from_db()
    assert item.status == Item.Status.RESERVED

    second_body = caller(second).post(f"/items/{item.pk}/claims").json()["claim"]
    third_response = caller(third).post(f"/items/{item.pk}/claims")

    assert third_response.status_code == 201
    assert (second_body["status"], second_body["position"], second_body["expires_at"]) == ("queued", 1, None)
    third_body = third_response.json()["claim"]
    assert (third_body["status"], third_body["position"], third_body["expires_at"]) == ("queued", 2, None)
    assert list(Claim.objects.filter(item=item).order_by("seq").values_list("member_id", "status", "seq")) == [
        (first.pk, "reserved", 1),
        (second.pk, "queued", 2),
        (third.pk, "queued", 3),
    ]


def test_the_same_member_cannot_hold_two_places():
    item = listed_item()
    member = buyer()
    first = caller(member)
    assert first.post(f"/items/{item.pk}/claims").status_code == 201
    before = claim_state(item)

    response = first.post(f"/items/{item.pk}/claims")

    assert response.status_code == 409
    assert response.json()["code"] == "already_claimed"
    assert response.json()["detail"] == "You already have a place in this queue."
    assert claim_state(item) == before


@pytest.mark.parametrize(
    ("status", "code", "detail"),
    [
        (Item.Status.SOLD, "item_sold", "Sorry, this item has been sold."),
        (Item.Status.COMPLETED, "item_sold", "Sorry, this item has been sold."),
        (Item.Status.PRICED, "item_not_listed", "This item is not on sale."),
        (Item.Status.WITHDRAWN, "item_not_listed", "This item is not on sale."),
    ],
)
def test_an_item_that_is_not_on_sale_is_refused(status, code, detail):
    item = listed_item()
    Item.objects.filter(pk=item.pk).update(status=status)
    before = claim_state(item)

    response = caller(buyer()).post(f"/items/{item.pk}/claims")

    assert response.status_code == 409
    assert response.json() == {"code": code, "detail": detail}
    assert claim_state(item) == before


def test_a_community_only_item_outside_my_groups_is_refused():
    item = listed_item(channel=Item.Channel.COMMUNITY)
    before = claim_state(item)

    response = caller(buyer()).post(f"/items/{item.pk}/claims")

    assert response.status_code == 409
    assert response.json() == {"code": "item_not_visible", "detail": "This item is not offered to you."}
    assert claim_state(item) == before


def test_my_own_item_is_refused():
    seller = UserFactory(roles=[roles.MEMBER, roles.SELLER])
    item = listed_item(seller=seller)
    before = claim_state(item)

    response = caller(seller).post(f"/items/{item.pk}/claims")

    assert response.status_code == 409
    assert response.json() == {"code": "own_item", "detail": "You cannot claim your own item."}
    assert claim_state(item) == before


def test_a_missing_item_is_404():
    response = caller(buyer()).post("/items/987654/claims")

    assert response.status_code == 404
    assert response.json()["code"] == "item_not_found"
    assert not Claim.objects.exists()


def test_an_unauthenticated_claim_is_401_and_writes_nothing():
    item = listed_item()
    before = claim_state(item)

    response = caller().post(f"/items/{item.pk}/claims")
    with_bad_token = Client().post(
        f"{API}/items/{item.pk}/claims", {}, content_type="application/json", HTTP_AUTHORIZATION="Bearer forged"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert with_bad_token.status_code == 401
    assert with_bad_token.json()["code"] == "invalid_token"
    assert claim_state(item) == before
    assert before["item_status"] == Item.Status.LISTED and before["claims"] == []


def test_claiming_costs_a_bounded_number_of_queries(django_assert_num_queries):
    item = listed_item()
    first, second = caller(buyer()), caller(buyer())
    # Warm both tokens' "last used" stamp (written at most once a minute): the storm's steady state.
    first.get(f"/items/{item.pk}/queue")
    second.get(f"/items/{item.pk}/queue")

    # Nothing but the token and the service's own statements; in a test every atomic block is a savepoint pair.
    # The reservation (11): the token; savepoint; lock the item; the queue in one read; the item's conditional
    # UPDATE and its audit row inside the transition's own savepoint pair (4); the claim and its audit row; release.
    with django_assert_num_queries(11):
        reserved = first.post(f"/items/{item.pk}/claims")
    # A place in the queue (7): the same reads, and no question whether the item is an activity's gift (a
    # reserved item with a reservation is not one); the claim and its audit row.
    with django_assert_num_queries(7):
        queued = second.post(f"/items/{item.pk}/claims")

    assert (reserved.status_code, queued.status_code) == (201, 201)
    assert queued.json()["claim"]["position"] == 1


# --- the queue and my claims ----------------------------------------------------------------------


def test_withdrawing_the_reservation_hands_the_item_to_the_next_in_line():
    item = listed_item()
    first, second, third = caller(buyer()), caller(buyer()), caller(buyer())
    reserved_id = first.post(f"/items/{item.pk}/claims").json()["claim"]["id"]
    second_id = second.post(f"/items/{item.pk}/claims").json()["claim"]["id"]
    third_id = third.post(f"/items/{item.pk}/claims").json()["claim"]["id"]

    before = to_the_millisecond(timezone.now())
    response = first.post(f"/claims/{reserved_id}/withdraw")

    assert response.status_code == 200
    assert response.json()["claim"]["status"] == "withdrawn"
    assert response.json()["claim"]["position"] is None
    handed = second.get(f"/claims/{second_id}").json()["claim"]
    assert (handed["status"], handed["position"]) == ("reserved", 0)
    assert parse_datetime(handed["expires_at"]) >= before + timedelta(minutes=30)
    behind = third.get(f"/claims/{third_id}").json()["claim"]
    assert (behind["status"], behind["position"], behind["expires_at"]) == ("queued", 1, None)
    item.refresh_from_db()
    assert item.status == Item.Status.RESERVED


def test_withdrawing_the_last_place_lists_the_item_again_and_twice_is_409():
    item = listed_item()
    first = caller(buyer())
    claim_id = first.post(f"/items/{item.pk}/claims").json()["claim"]["id"]

    assert first.post(f"/claims/{claim_id}/withdraw").status_code == 200
    again = first.post(f"/claims/{claim_id}/withdraw")

    assert again.status_code == 409
    assert again.json()["code"] == "claim_closed"
    item.refresh_from_db()
    assert item.status == Item.Status.LISTED


def test_reading_the_queue_settles_an_overdue_reservation():
    item = listed_item(title="羊绒大衣", price_fen=45_000)
    first, second, third = caller(buyer()), caller(buyer()), caller(buyer())
    first.post(f"/items/{item.pk}/claims")
    second.post(f"/items/{item.pk}/claims")
    third.post(f"/items/{item.pk}/claims")
    Claim.objects.filter(item=item, status=Claim.Status.RESERVED).update(
        reserved_until=timezone.now() - timedelta(seconds=1)
    )

    response = third.get(f"/items/{item.pk}/queue")

    assert response.status_code == 200
    body = response.json()
    assert body["item_status"] == "reserved"
    assert body["queued"] == 1
    assert body["can_claim"] is False
    assert body["mine"]["status"] == "queued"
    assert body["mine"]["position"] == 1
    assert body["mine"]["item_title"] == "羊绒大衣"
    assert body["mine"]["item_price_fen"] == 45_000
    assert list(Claim.objects.filter(item=item).order_by("seq").values_list("status", flat=True)) == [
        "expired",
        "reserved",
        "queued",
    ]


def test_the_queue_of_an_item_i_have_not_claimed():
    item = listed_item()
    response = caller(buyer()).get(f"/items/{item.pk}/queue")

    assert response.status_code == 200
    assert response.json() == {
        "item_id": item.pk,
        "item_status": "listed",
        "item_status_label": "Listed",
        "queued": 0,
        "can_claim": True,
        "mine": None,
    }


def test_the_queue_of_a_community_only_item_is_404_outside_the_group():
    item = listed_item(channel=Item.Channel.COMMUNITY)

    response = caller(buyer()).get(f"/items/{item.pk}/queue")

    assert response.status_code == 404
    assert response.json()["code"] == "item_not_found"


def test_my_claims_with_positions_and_the_live_filter():
    member = buyer()
    mine = caller(member)
    reserved_item, queued_item, withdrawn_item = listed_item(), listed_item(), listed_item()
    caller(buyer()).post(f"/items/{queued_item.pk}/claims")
    reserved_id = mine.post(f"/items/{reserved_item.pk}/claims").json()["claim"]["id"]
    queued_id = mine.post(f"/items/{queued_item.pk}/claims").json()["claim"]["id"]
    withdrawn_id = mine.post(f"/items/{withdrawn_item.pk}/claims").json()["claim"]["id"]
    mine.post(f"/claims/{withdrawn_id}/withdraw")

    everything = mine.get("/claims").json()
    live = mine.get("/claims", live="1").json()

    assert everything["count"] == 3
    assert [(c["id"], c["status"], c["position"]) for c in everything["items"]] == [
        (withdrawn_id, "withdrawn", None),
        (queued_id, "queued", 1),
        (reserved_id, "reserved", 0),
    ]
    assert [c["id"] for c in live["items"]] == [queued_id, reserved_id]
    assert everything["items"][2]["order_id"] is None


def test_another_members_claim_is_404_and_cannot_be_withdrawn():
    item = listed_item()
    owner_of_claim = caller(buyer())
    claim_id = owner_of_claim.post(f"/items/{item.pk}/claims").json()["claim"]["id"]
    stranger = caller(buyer())

    read = stranger.get(f"/claims/{claim_id}")
    withdraw = stranger.post(f"/claims/{claim_id}/withdraw")

    assert (read.status_code, read.json()["code"]) == (404, "claim_not_found")
    assert (withdraw.status_code, withdraw.json()["code"]) == (404, "claim_not_found")
    assert Claim.objects.get(pk=claim_id).status == Claim.Status.RESERVED
