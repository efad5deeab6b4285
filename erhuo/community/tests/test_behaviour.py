"""Behaviour tags: what a member views, claims and buys raises the item's tags in her profile, and they fade."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from erhuo.community import handlers
from erhuo.community.models import MemberTag
from erhuo.community.services import drops as services
from erhuo.community.services.groups import taxonomy_seed
from erhuo.community.tests import factories
from erhuo.core import events

pytestmark = pytest.mark.django_db

BEHAVIOUR = MemberTag.Source.BEHAVIOUR


@pytest.fixture(autouse=True)
def _taxonomy(catalog_reference_data):
    taxonomy_seed()


@pytest.fixture
def item():
    # A designer dress in M: 女装, 轻奢, M.
    return factories.item_on_sale(channel="both", brand_name="Coach", size="M")


def behaviour_of(user) -> dict[str, float]:
    return {
        code: round(weight, 4)
        for code, weight in MemberTag.objects.filter(user=user, source=BEHAVIOUR).values_list("tag__code", "weight")
    }


def test_a_bump_adds_to_what_faded_and_never_passes_one(member):
    now = timezone.now()

    first = services.behaviour_tags_bump(user_id=member.pk, tag_codes=["womenswear", "premium"], amount=0.4, now=now)
    MemberTag.objects.filter(user=member, tag__code="womenswear").update(updated_at=now - timedelta(days=30))
    second = services.behaviour_tags_bump(user_id=member.pk, tag_codes=["womenswear", "premium"], amount=0.4, now=now)
    third = services.behaviour_tags_bump(user_id=member.pk, tag_codes=["premium"], amount=0.4, now=now)

    assert first == {"womenswear": 0.4, "premium": 0.4}
    # 30 days is one half-life: 0.4 → 0.2, plus 0.4.
    assert second == {"womenswear": 0.6, "premium": 0.8}
    assert third == {"premium": 1.0}
    assert behaviour_of(member) == {"womenswear": 0.6, "premium": 1.0}


def test_a_bump_leaves_other_sources_and_unknown_tags_alone(member):
    factories.tagged(member, "womenswear", weight=0.9)

    result = services.behaviour_tags_bump(user_id=member.pk, tag_codes=["womenswear", "no-such-tag"], amount=0.2)

    assert result == {"womenswear": 0.2}
    assert MemberTag.objects.get(user=member, source=MemberTag.Source.QUESTIONNAIRE).weight == 0.9


@pytest.mark.parametrize("amount", [0, -0.1, 1.5])
def test_a_bump_of_nothing_or_too_much_is_refused(member, amount):
    from erhuo.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.behaviour_tags_bump(user_id=member.pk, tag_codes=["womenswear"], amount=amount)
    assert not MemberTag.objects.exists()


def test_the_daily_decay_fades_old_tags_and_forgets_faint_ones(member, other_member):
    now = timezone.now()
    services.behaviour_tags_bump(user_id=member.pk, tag_codes=["womenswear", "premium"], amount=0.8, now=now)
    services.behaviour_tags_bump(user_id=other_member.pk, tag_codes=["womenswear"], amount=0.5, now=now)
    MemberTag.objects.filter(user=member, tag__code="womenswear").update(updated_at=now - timedelta(days=30))
    MemberTag.objects.filter(user=member, tag__code="premium").update(updated_at=now - timedelta(days=300))
    factories.tagged(member, "bags", weight=0.01)  # a questionnaire tag is never faded

    changed = services.behaviour_tags_decay(now=now)
    again = services.behaviour_tags_decay(now=now)

    assert (changed, again) == (2, 0)
    assert behaviour_of(member) == {"womenswear": 0.4}
    assert behaviour_of(other_member) == {"womenswear": 0.5}
    assert MemberTag.objects.filter(user=member, tag__code="womenswear").get().updated_at == now
    assert MemberTag.objects.get(user=member, tag__code="bags").weight == 0.01


def test_the_items_tags_are_raised_not_for_its_seller(member, item):
    services.behaviour_tags_from_item(user_id=member.pk, item_id=item.pk, amount=0.2)
    services.behaviour_tags_from_item(user_id=item.seller_id, item_id=item.pk, amount=0.2)

    assert behaviour_of(member) == {"womenswear": 0.2, "premium": 0.2, "size-m": 0.2}
    assert behaviour_of(item.seller) == {}


# --- from the events ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "payload_key", "amount"),
    [("claim_created", "member_id", services.CLAIM_AMOUNT), ("claim_purchased", "member_id", services.PURCHASE_AMOUNT)],
)
def test_a_claim_and_a_purchase_raise_her_tags(member, item, event, payload_key, amount):
    events.dispatch(events.Event(event, {payload_key: member.pk, "item_id": item.pk}))

    assert behaviour_of(member) == {"womenswear": amount, "premium": amount, "size-m": amount}


def test_an_event_without_an_item_or_a_member_changes_nothing(member, item):
    events.dispatch(events.Event("claim_purchased", {"member_id": member.pk}))
    events.dispatch(events.Event("claim_created", {"item_id": item.pk}))

    assert not MemberTag.objects.exists()


def test_viewing_an_item_page_raises_her_tags_once_in_a_while(member, item, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(member)
    page = reverse("consignment:item_public", args=[item.pk])

    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(page).status_code == 200
        assert client.get(page).status_code == 200

    view = services.VIEW_AMOUNT
    assert behaviour_of(member) == {"womenswear": view, "premium": view, "size-m": view}


def test_an_anonymous_view_raises_nothing(item, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert Client().get(reverse("consignment:item_public", args=[item.pk])).status_code == 200

    assert not MemberTag.objects.exists()


def test_the_item_page_costs_no_query_for_the_view(member, item, monkeypatch, django_capture_on_commit_callbacks):
    """The page emits the event; the handler only asks the cache and hands the work to the worker."""
    handed = []
    monkeypatch.setattr(handlers, "_bump", lambda user_id, item_id, amount: handed.append((user_id, item_id, amount)))
    client = Client()
    client.force_login(member)
    page = reverse("consignment:item_public", args=[item.pk])
    client.get(page)  # templates and permissions warmed up
    handed.clear()
    events.unregister("item_viewed", handlers.item_viewed)
    try:
        with CaptureQueriesContext(connection) as without_event:
            client.get(page)
    finally:
        events.on("item_viewed")(handlers.item_viewed)
    with CaptureQueriesContext(connection) as with_event, django_capture_on_commit_callbacks(execute=True):
        client.get(page)

    assert handed == [(member.pk, item.pk, services.VIEW_AMOUNT)]
    assert len(with_event) == len(without_event)


def test_a_community_only_item_page_costs_one_query_more_for_a_member(member, django_assert_max_num_queries):
    public = factories.item_on_sale(channel="both")
    dropped = factories.item_on_sale(channel="community")
    group = factories.group()
    factories.member_of(group, member)
    services.drop_create(actor=group.leader, item_ids=[dropped.pk], group_ids=[group.pk])
    client = Client()
    client.force_login(member)
    client.get(reverse("consignment:item_public", args=[public.pk]))
    with CaptureQueriesContext(connection) as baseline:
        client.get(reverse("consignment:item_public", args=[public.pk]))

    with django_assert_max_num_queries(len(baseline) + 1):
        assert client.get(reverse("consignment:item_public", args=[dropped.pk])).status_code == 200
