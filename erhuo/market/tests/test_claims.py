"""Claims (接龙) through the services: one reservation, a fair queue, refusals that write nothing,
withdrawals, and the hand-over when a reservation expires, settled by reads without any worker.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item, ItemTransition
from erhuo.core import events
from erhuo.core.errors import Conflict, NotFound, PermissionRefused
from erhuo.market import selectors, services
from erhuo.market.models import Claim, ClaimTransition, Order, OrderLine
from erhuo.market.services.claims import ClaimRefused
from erhuo.market.tests.factories import buyer, listed_item
from erhuo.payments.models import Payment

pytestmark = pytest.mark.django_db

WINDOW_MINUTES = 45


@pytest.fixture(autouse=True)
def _english_and_a_window(settings):
    settings.ERHUO_CLAIM_PAYMENT_MINUTES = WINDOW_MINUTES
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    with translation.override("en"):
        yield


@pytest.fixture
def reserved_events():
    """Every `claim_reserved` event delivered during the test (run on-commit callbacks to deliver them)."""
    seen = []

    def handler(event):
        seen.append(event.payload)

    events.on("claim_reserved")(handler)
    yield seen
    events.unregister("claim_reserved", handler)


WINDOW = timedelta(minutes=WINDOW_MINUTES)


def claim_state(item) -> dict:
    """Everything a claim could write: compared before and after a refusal."""
    item.refresh_from_db()
    return {
        "item_status": item.status,
        "claims": list(Claim.objects.order_by("pk").values_list("pk", "member_id", "status", "seq", "reserved_until")),
        "claim_steps": ClaimTransition.objects.count(),
        "item_steps": ItemTransition.objects.filter(subject=item).count(),
    }


def queue(item) -> list[tuple]:
    """(member, status, seq, position) of every claim on the item, in seq order."""
    return [
        (claim.member_id, claim.status, claim.seq, selectors.claim_position(claim))
        for claim in Claim.objects.filter(item=item).order_by("seq")
    ]


def status_of(item) -> str:
    item.refresh_from_db()
    return item.status


# --- taking a place -------------------------------------------------------------------------------


def test_the_first_claim_reserves_for_the_configured_window(reserved_events, django_capture_on_commit_callbacks):
    item = listed_item()
    member = buyer()
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        claim = services.claim_create(item_id=item.pk, member=member, now=now)

    assert (claim.status, claim.position, claim.seq) == ("reserved", 0, 1)
    claim.refresh_from_db()
    assert claim.reserved_at == now
    assert claim.reserved_until == now + timedelta(minutes=WINDOW_MINUTES)
    assert status_of(item) == Item.Status.RESERVED
    assert list(ClaimTransition.objects.filter(subject=claim).values_list("from_state", "to_state", "actor_id")) == [
        ("", "reserved", member.pk)
    ]
    assert list(ItemTransition.objects.filter(subject=item).values_list("from_state", "to_state", "actor_id")) == [
        ("listed", "reserved", member.pk)
    ]
    # The first reservation is not an offer: nobody is told "your turn".
    assert [(event["pk"], event.get("offered")) for event in reserved_events] == [(claim.pk, None)]


def test_later_claims_queue_with_positions_one_to_n_in_acceptance_order():
    item = listed_item()
    members = [buyer() for _ in range(5)]
    now = timezone.now()

    claims = [services.claim_create(item_id=item.pk, member=member, now=now) for member in members]

    assert [(claim.status, claim.position, claim.seq) for claim in claims] == [
        ("reserved", 0, 1),
        ("queued", 1, 2),
        ("queued", 2, 3),
        ("queued", 3, 4),
        ("queued", 4, 5),
    ]
    assert queue(item) == [
        (members[0].pk, "reserved", 1, 0),
        (members[1].pk, "queued", 2, 1),
        (members[2].pk, "queued", 3, 2),
        (members[3].pk, "queued", 4, 3),
        (members[4].pk, "queued", 5, 4),
    ]
    assert Claim.objects.filter(item=item, status="queued", reserved_until__isnull=False).count() == 0
    # The member's own list agrees with the queue.
    assert [(claim.pk, claim.position) for claim in selectors.claims_of(members[3])] == [(claims[3].pk, 3)]


def test_one_place_per_member_a_second_claim_writes_nothing():
    item = listed_item()
    first, second = buyer(), buyer()
    services.claim_create(item_id=item.pk, member=first)
    services.claim_create(item_id=item.pk, member=second)
    before = claim_state(item)

    for member in (first, second):
        with pytest.raises(ClaimRefused) as refused:
            services.claim_create(item_id=item.pk, member=member)
        assert (refused.value.code, refused.value.status) == ("already_claimed", 409)
        assert refused.value.message == "You already have a place in this queue."

    assert claim_state(item) == before


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (Item.Status.SOLD, "item_sold", "Sorry, this item has been sold."),
        (Item.Status.SHIPPED, "item_sold", "Sorry, this item has been sold."),
        (Item.Status.COMPLETED, "item_sold", "Sorry, this item has been sold."),
        (Item.Status.PRICED, "item_not_listed", "This item is not on sale."),
        (Item.Status.WITHDRAWN, "item_not_listed", "This item is not on sale."),
        (Item.Status.RETURN_TO_SELLER, "item_not_listed", "This item is not on sale."),
    ],
)
def test_an_item_not_on_sale_is_refused_with_nothing_written(status, code, message):
    item = listed_item()
    Item.objects.filter(pk=item.pk).update(status=status)
    before = claim_state(item)

    with pytest.raises(ClaimRefused) as refused:
        services.claim_create(item_id=item.pk, member=buyer())

    assert (refused.value.code, refused.value.status, refused.value.message) == (code, 409, message)
    assert claim_state(item) == before


def test_a_community_only_item_is_not_visible_to_a_member_outside_its_groups():
    item = listed_item(channel=Item.Channel.COMMUNITY)
    before = claim_state(item)

    with pytest.raises(ClaimRefused) as refused:
        services.claim_create(item_id=item.pk, member=buyer())

    assert (refused.value.code, refused.value.status) == ("item_not_visible", 409)
    assert refused.value.message == "This item is not offered to you."
    assert claim_state(item) == before


def test_a_community_only_item_is_claimable_by_staff_who_see_every_order():
    item = listed_item(channel=Item.Channel.COMMUNITY)
    staff = UserFactory(roles=[roles.CUSTOMER_SERVICE])

    claim = services.claim_create(item_id=item.pk, member=staff)

    assert (claim.status, claim.position) == ("reserved", 0)


@pytest.mark.parametrize("channel", [Item.Channel.BOTH, Item.Channel.COMMUNITY])
def test_the_seller_cannot_claim_her_own_item(channel):
    seller = UserFactory(roles=[roles.MEMBER, roles.SELLER])
    item = listed_item(seller=seller, channel=channel)
    before = claim_state(item)

    with pytest.raises(ClaimRefused) as refused:
        services.claim_create(item_id=item.pk, member=seller)

    assert (refused.value.code, refused.value.status) == ("own_item", 409)
    assert claim_state(item) == before


def test_anonymous_inactive_and_missing_are_refused():
    item = listed_item()
    inactive = buyer(is_active=False)
    before = claim_state(item)

    for member in (None, AnonymousUser(), inactive):
        with pytest.raises(PermissionRefused) as refused:
            services.claim_create(item_id=item.pk, member=member)
        assert refused.value.code == "login_required"
    with pytest.raises(NotFound) as missing:
        services.claim_create(item_id=item.pk + 1000, member=buyer())

    assert (missing.value.code, missing.value.status) == ("item_not_found", 404)
    assert claim_state(item) == before


# --- withdrawing ----------------------------------------------------------------------------------


def test_withdrawing_a_queued_claim_moves_the_ones_behind_up(reserved_events, django_capture_on_commit_callbacks):
    item = listed_item()
    members = [buyer() for _ in range(4)]
    claims = [services.claim_create(item_id=item.pk, member=member) for member in members]
    reserved_until = Claim.objects.get(pk=claims[0].pk).reserved_until

    with django_capture_on_commit_callbacks(execute=True):
        withdrawn = services.claim_withdraw(claim_id=claims[1].pk, member=members[1])

    assert withdrawn.status == "withdrawn"
    assert queue(item) == [
        (members[0].pk, "reserved", 1, 0),
        (members[1].pk, "withdrawn", 2, None),
        (members[2].pk, "queued", 3, 1),
        (members[3].pk, "queued", 4, 2),
    ]
    # The reservation is untouched and nobody was offered anything.
    assert Claim.objects.get(pk=claims[0].pk).reserved_until == reserved_until
    assert status_of(item) == Item.Status.RESERVED
    assert reserved_events == []
    assert list(
        ClaimTransition.objects.filter(subject=withdrawn).values_list("from_state", "to_state", "actor_id")
    ) == [("", "queued", members[1].pk), ("queued", "withdrawn", members[1].pk)]


def test_withdrawing_the_reservation_offers_the_item_to_the_next_with_a_fresh_window(
    reserved_events, django_capture_on_commit_callbacks
):
    item = listed_item()
    first, second, third = buyer(), buyer(), buyer()
    start = timezone.now()
    reserved = services.claim_create(item_id=item.pk, member=first, now=start)
    waiting = services.claim_create(item_id=item.pk, member=second, now=start)
    services.claim_create(item_id=item.pk, member=third, now=start)
    handed_over = start + timedelta(minutes=12)

    with django_capture_on_commit_callbacks(execute=True):
        services.claim_withdraw(claim_id=reserved.pk, member=first, now=handed_over)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.reserved_at, waiting.reserved_until) == (
        "reserved",
        handed_over,
        handed_over + WINDOW,
    )
    assert queue(item) == [
        (first.pk, "withdrawn", 1, None),
        (second.pk, "reserved", 2, 0),
        (third.pk, "queued", 3, 1),
    ]
    assert status_of(item) == Item.Status.RESERVED
    assert [
        (event["pk"], event["member_id"], event["item_id"], event["offered"], event["actor_id"])
        for event in reserved_events
    ] == [(waiting.pk, second.pk, item.pk, True, first.pk)]


def test_withdrawing_the_only_claim_lists_the_item_again():
    item = listed_item()
    member = buyer()
    claim = services.claim_create(item_id=item.pk, member=member)

    services.claim_withdraw(claim_id=claim.pk, member=member)

    assert status_of(item) == Item.Status.LISTED
    assert list(ItemTransition.objects.filter(subject=item).values_list("from_state", "to_state")) == [
        ("listed", "reserved"),
        ("reserved", "listed"),
    ]
    # She may queue again: at the end, with a new place.
    again = services.claim_create(item_id=item.pk, member=member)
    assert (again.status, again.seq) == ("reserved", 2)


def test_withdrawing_the_reservation_cancels_its_unpaid_order():
    item = listed_item()
    first, second = buyer(), buyer()
    claim = services.claim_create(item_id=item.pk, member=first)
    services.claim_create(item_id=item.pk, member=second)
    order = services.order_create(buyer=first, claim_ids=[claim.pk])
    payment = services.order_pay(order_id=order.pk, buyer=first, provider="sandbox")

    services.claim_withdraw(claim_id=claim.pk, member=first)

    order.refresh_from_db()
    assert (order.status, order.closed_reason) == ("cancelled", "The buyer withdrew her claim.")
    assert not OrderLine.objects.filter(order=order, active=True).exists()
    assert Payment.objects.get(pk=payment.pk).status == "cancelled"
    assert queue(item)[1][:2] == (second.pk, "reserved")


def test_a_claim_is_withdrawn_only_by_its_member_and_only_once():
    item = listed_item()
    member, stranger = buyer(), buyer()
    claim = services.claim_create(item_id=item.pk, member=member)
    before = claim_state(item)

    with pytest.raises(NotFound) as not_hers:
        services.claim_withdraw(claim_id=claim.pk, member=stranger)
    assert not_hers.value.code == "claim_not_found"
    assert claim_state(item) == before

    services.claim_withdraw(claim_id=claim.pk, member=member)
    after = claim_state(item)
    with pytest.raises(Conflict) as twice:
        services.claim_withdraw(claim_id=claim.pk, member=member)
    assert (twice.value.code, twice.value.message) == ("claim_closed", "This claim is already Withdrawn.")
    assert claim_state(item) == after


# --- expiry, settled by reads (no worker) --------------------------------------------------------------


def three_in_line(start):
    item = listed_item()
    members = [buyer() for _ in range(3)]
    claims = [services.claim_create(item_id=item.pk, member=member, now=start) for member in members]
    return item, members, claims


def test_a_read_before_the_window_ends_changes_nothing():
    start = timezone.now()
    item, members, _claims = three_in_line(start)
    before = claim_state(item)

    assert services.claims_settle_item(item_id=item.pk, now=start + WINDOW - timedelta(seconds=1)) == 0
    assert services.claims_settle_member(member=members[1], now=start + WINDOW - timedelta(seconds=1)) == 0

    assert claim_state(item) == before


def test_settling_the_item_on_read_hands_over_to_the_next_in_line(reserved_events, django_capture_on_commit_callbacks):
    start = timezone.now()
    item, members, claims = three_in_line(start)
    order = services.order_create(buyer=members[0], claim_ids=[claims[0].pk], now=start)
    payment = services.order_pay(order_id=order.pk, buyer=members[0], provider="sandbox", now=start)
    read_at = start + WINDOW + timedelta(minutes=3)

    with django_capture_on_commit_callbacks(execute=True):
        settled = services.claims_settle_item(item_id=item.pk, now=read_at)

    assert settled == 1
    assert queue(item) == [
        (members[0].pk, "expired", 1, None),
        (members[1].pk, "reserved", 2, 0),
        (members[2].pk, "queued", 3, 1),
    ]
    handed = Claim.objects.get(pk=claims[1].pk)
    assert (handed.reserved_at, handed.reserved_until) == (read_at, read_at + WINDOW)
    order.refresh_from_db()
    assert (order.status, order.closed_reason) == ("cancelled", "Not paid within the payment window.")
    assert not OrderLine.objects.filter(order=order, active=True).exists()
    assert Payment.objects.get(pk=payment.pk).status == "cancelled"
    assert status_of(item) == Item.Status.RESERVED
    assert [(event["pk"], event["member_id"], event["offered"]) for event in reserved_events] == [
        (claims[1].pk, members[1].pk, True)
    ]
    assert list(
        ClaimTransition.objects.filter(subject_id=claims[0].pk).values_list("from_state", "to_state", "actor_id")
    ) == [("", "reserved", members[0].pk), ("reserved", "expired", None)]
    # Settling again at the same moment finds nothing more to do.
    assert services.claims_settle_item(item_id=item.pk, now=read_at) == 0


def test_settling_a_members_claims_on_read_hands_over_too():
    start = timezone.now()
    item, members, claims = three_in_line(start)
    read_at = start + WINDOW

    # The third in line opens her claims page: the item she waits for is settled first.
    assert services.claims_settle_member(member=members[2], now=read_at) == 1

    assert queue(item) == [
        (members[0].pk, "expired", 1, None),
        (members[1].pk, "reserved", 2, 0),
        (members[2].pk, "queued", 3, 1),
    ]
    assert Claim.objects.get(pk=claims[1].pk).reserved_until == read_at + WINDOW
    assert [(claim.pk, claim.position) for claim in selectors.claims_of(members[2])] == [(claims[2].pk, 1)]


def test_a_new_claim_settles_the_overdue_reservation_before_taking_its_place():
    start = timezone.now()
    item, members, claims = three_in_line(start)
    latecomer = buyer()
    claim_at = start + WINDOW + timedelta(hours=5)

    claim = services.claim_create(item_id=item.pk, member=latecomer, now=claim_at)

    assert (claim.status, claim.position, claim.seq) == ("queued", 2, 4)
    assert queue(item) == [
        (members[0].pk, "expired", 1, None),
        (members[1].pk, "reserved", 2, 0),
        (members[2].pk, "queued", 3, 1),
        (latecomer.pk, "queued", 4, 2),
    ]
    # The fresh window starts at the hand-over, not when the old one ended.
    assert Claim.objects.get(pk=claims[1].pk).reserved_until == claim_at + WINDOW


def test_the_queue_runs_down_and_with_nobody_left_the_item_is_listed_again():
    start = timezone.now()
    item, members, claims = three_in_line(start)

    second_turn = start + WINDOW
    assert services.claims_settle_item(item_id=item.pk, now=second_turn) == 1
    third_turn = second_turn + WINDOW
    assert services.claims_settle_member(member=members[2], now=third_turn) == 1
    assert Claim.objects.get(pk=claims[2].pk).reserved_until == third_turn + WINDOW
    assert services.claims_settle_item(item_id=item.pk, now=third_turn + WINDOW) == 1

    assert [row[:2] for row in queue(item)] == [(member.pk, "expired") for member in members]
    assert status_of(item) == Item.Status.LISTED
    assert list(ItemTransition.objects.filter(subject=item).values_list("from_state", "to_state", "actor_id")) == [
        ("listed", "reserved", members[0].pk),
        ("reserved", "listed", None),
    ]
    # On sale again: the next claim reserves it.
    fresh = services.claim_create(item_id=item.pk, member=buyer(), now=third_turn + WINDOW)
    assert (fresh.status, fresh.position, fresh.seq) == ("reserved", 0, 4)


def test_an_order_can_no_longer_be_made_from_an_expired_reservation():
    start = timezone.now()
    item, members, claims = three_in_line(start)

    with pytest.raises(Conflict) as refused:
        services.order_create(buyer=members[0], claim_ids=[claims[0].pk], now=start + WINDOW)

    assert refused.value.code == "reservation_expired"
    assert not Order.objects.exists()
    # The order attempt itself settled the item: the next in line has it.
    assert queue(item)[1][:2] == (members[1].pk, "reserved")


def test_the_periodic_task_settles_every_overdue_reservation():
    from erhuo.market.tasks import settle_claims

    long_ago = timezone.now() - WINDOW - timedelta(minutes=1)
    item, members, claims = three_in_line(long_ago)
    alone = listed_item(title="羊绒围巾")
    lonely = buyer()
    lone_claim = services.claim_create(item_id=alone.pk, member=lonely, now=long_ago)
    current = listed_item(title="皮包")
    fresh = services.claim_create(item_id=current.pk, member=buyer())
    before_run = timezone.now()

    assert settle_claims.call_local() == 2

    assert queue(item) == [
        (members[0].pk, "expired", 1, None),
        (members[1].pk, "reserved", 2, 0),
        (members[2].pk, "queued", 3, 1),
    ]
    handed = Claim.objects.get(pk=claims[1].pk)
    assert before_run <= handed.reserved_at <= timezone.now()
    assert handed.reserved_until == handed.reserved_at + WINDOW
    assert Claim.objects.get(pk=lone_claim.pk).status == "expired"
    assert status_of(alone) == Item.Status.LISTED
    assert Claim.objects.get(pk=fresh.pk).status == "reserved"
    assert status_of(current) == Item.Status.RESERVED
    # Idempotent: a second run finds nothing.
    assert settle_claims.call_local() == 0
