"""A member's claims and purchases raise the community's behaviour tags of what she claimed and bought.

The market only tells (`claim_created`, `claim_purchased` with the item); the
community listens (erhuo/community/handlers.py) and raises the item's tags.
"""

import pytest

from erhuo.catalog.models import Brand, Category
from erhuo.community.models import MemberTag
from erhuo.community.services.drops import CLAIM_AMOUNT, PURCHASE_AMOUNT
from erhuo.community.services.groups import taxonomy_seed
from erhuo.market import services
from erhuo.market.tests.factories import buyer, listed_item
from erhuo.market.tests.test_orders import _market_settings, pay  # noqa: F401 (the settings fixture is autouse)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _taxonomy(catalog_reference_data):
    taxonomy_seed()


@pytest.fixture
def dress():
    item = listed_item(title="Coach 连衣裙", category_obj=Category.objects.get(slug="womens-dresses"))
    item.brand = Brand.objects.get(name="Coach")
    item.size = "M"
    item.save(update_fields=["brand", "size"])
    return item


def behaviour_of(user) -> dict[str, float]:
    rows = MemberTag.objects.filter(user=user, source=MemberTag.Source.BEHAVIOUR)
    return {code: round(weight, 4) for code, weight in rows.values_list("tag__code", "weight")}


def test_a_claim_raises_her_tags_and_a_queued_claim_too(dress, django_capture_on_commit_callbacks):
    first, second = buyer(), buyer()

    with django_capture_on_commit_callbacks(execute=True):
        services.claim_create(item_id=dress.pk, member=first)
        services.claim_create(item_id=dress.pk, member=second)

    expected = {"womenswear": CLAIM_AMOUNT, "premium": CLAIM_AMOUNT, "size-m": CLAIM_AMOUNT}
    assert behaviour_of(first) == expected
    assert behaviour_of(second) == expected


def test_a_refused_claim_raises_nothing(dress, django_capture_on_commit_callbacks):
    from erhuo.market.services.claims import ClaimRefused

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ClaimRefused):
        services.claim_create(item_id=dress.pk, member=dress.seller)

    assert not MemberTag.objects.exists()


def test_a_purchase_raises_them_more(dress, django_capture_on_commit_callbacks):
    member = buyer()
    with django_capture_on_commit_callbacks(execute=True):
        claim = services.claim_create(item_id=dress.pk, member=member)
        order = services.order_create(buyer=member, claim_ids=[claim.pk])
        pay(order)

    assert order.status == "paid"
    bought = round(CLAIM_AMOUNT + PURCHASE_AMOUNT, 4)
    assert behaviour_of(member) == {"womenswear": bought, "premium": bought, "size-m": bought}
