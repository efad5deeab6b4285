"""Which groups an item suits: its tags (category, brand tier, size) against each group's members."""

import pytest
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community import item_tags, selectors
from erhuo.community.models import Group
from erhuo.community.services.groups import taxonomy_seed
from erhuo.community.tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _taxonomy(catalog_reference_data):
    taxonomy_seed()
    with translation.override("en"):
        yield


def _members(group, count: int, *codes: str):
    for _ in range(count):
        factories.tagged(factories.member_of(group).user, *codes)


def _item(category_slug="womens-dresses", brand_name="Coach", size="M", **kwargs):
    item = factories.item_on_sale(category_slug=category_slug, brand_name=brand_name, size=size, **kwargs)
    return type(item).objects.select_related("category__parent__parent", "brand").get(pk=item.pk)


@pytest.mark.parametrize(
    ("category_slug", "brand_name", "size", "price_fen", "expected"),
    [
        # A designer dress in M: 女装, 轻奢, M.
        ("womens-dresses", "Coach", "M", 58_000, {"womenswear": 1.0, "premium": 0.8, "size-m": 0.6}),
        # A Chinese size by height, a mass-market brand.
        ("womens-tops", "UNIQLO", "160/84A", 9_900, {"womenswear": 1.0, "budget": 0.8, "size-m": 0.6}),
        # A European size, a premium brand (品质).
        ("womens-coats", "COS", "38", 90_000, {"womenswear": 1.0, "midrange": 0.8, "size-m": 0.6}),
        # A luxury bag without a brand we know: its category says 奢侈品.
        ("luxury-bags", None, "", 1_200_000, {"bags": 1.0, "luxury": 0.8}),
        # Shoes by their size.
        ("shoes", None, "37", 30_000, {"shoes": 1.0, "midrange": 0.8, "shoe-37": 0.6}),
        # Children's clothes by height: the child's age.
        ("baby-clothes", "Balabala", "110", 8_000, {"baby": 1.0, "kidswear": 1.0, "budget": 0.8, "kids-4-6": 0.6}),
        ("baby-toys", "LEGO", "", 30_000, {"baby": 1.0, "toys-books": 1.0, "budget": 0.8}),
        # Nothing known of the size, no brand, a price in the middle.
        ("accessories-scarves", None, "均码", 30_000, {"jewellery": 1.0, "midrange": 0.8}),
    ],
)
def test_an_item_as_tags(category_slug, brand_name, size, price_fen, expected):
    item = _item(category_slug=category_slug, brand_name=brand_name, size=size, price_fen=price_fen)

    assert item_tags.item_profile(item) == expected


def test_a_tag_renamed_or_retired_by_operators(django_assert_num_queries):
    from erhuo.community.models import Tag

    Tag.objects.filter(code="premium").update(code="qingshe")  # same name 轻奢, another code: found by name
    Tag.objects.filter(code="size-m").update(active=False)  # no longer offered: skipped
    item = _item()

    with django_assert_num_queries(1):
        profile = item_tags.item_profile(item)

    assert profile == {"womenswear": 1.0, "qingshe": 0.8}


def test_groups_are_ranked_by_how_alike_the_item_is_to_their_members():
    item = _item()  # {womenswear 1.0, premium 0.8, size-m 0.6}
    premium = factories.group(name="女装·轻奢 1群")
    _members(premium, 3, "womenswear", "premium", "size-m")
    budget = factories.group(name="女装·平价 1群")
    _members(budget, 4, "womenswear", "budget")
    mixed = factories.group(name="老群")
    _members(mixed, 1, "womenswear", "premium", "size-m")
    _members(mixed, 1, "baby", "kids-0-3")
    mothers = factories.group(name="母婴 1群")
    _members(mothers, 5, "baby", "kids-0-3")
    segment = factories.segment("女装·轻奢", all_tags=("womenswear", "premium"))
    empty = factories.group(segment_obj=segment, name="女装·轻奢 2群")
    archived = factories.group(name="旧群")
    _members(archived, 2, "womenswear", "premium", "size-m")
    Group.objects.filter(pk=archived.pk).update(status=Group.Status.ARCHIVED)

    ranked = selectors.drop_suggest_groups(item=item, limit=10)

    # premium: (1 + .8 + .6) / (√2 · √3) = .9798; empty: its rule {womenswear, premium}: 1.8 / 2 = .9;
    # budget: 1 / 2 = .5; mixed: (.9798 + 0) / 2 = .4899; mothers: nothing in common; archived: never.
    assert [(s.group.pk, s.score) for s in ranked] == [
        (premium.pk, 0.9798),
        (empty.pk, 0.9),
        (budget.pk, 0.5),
        (mixed.pk, 0.4899),
    ]
    assert ranked[0].reasons == ["女装: 100% of members", "轻奢: 100% of members", "M: 100% of members"]
    assert ranked[1].reasons == ["No member tags yet; the group is for 女装、轻奢"]
    assert ranked[2].reasons == ["女装: 100% of members"]
    assert ranked[3].reasons == ["女装: 50% of members", "轻奢: 50% of members", "M: 50% of members"]
    assert [s.group.pk for s in selectors.drop_suggest_groups(item=item, limit=2)] == [premium.pk, empty.pk]


def test_ties_go_to_the_bigger_group_and_candidates_can_be_limited():
    item = _item()
    small = factories.group(name="小群")
    _members(small, 2, "womenswear")
    big = factories.group(name="大群")
    _members(big, 3, "womenswear")
    leader = UserFactory(roles=[roles.MEMBER, roles.EXPERT])
    hers = factories.group(leader=leader, name="她的群")
    _members(hers, 1, "womenswear")

    assert [s.group.pk for s in selectors.drop_suggest_groups(item=item)] == [big.pk, small.pk, hers.pk]
    among = selectors.drop_target_groups(leader).values("pk")
    assert [s.group.pk for s in selectors.drop_suggest_groups(item=item, among=among)] == [hers.pk]


def test_a_set_of_items_is_suggested_as_one(django_assert_max_num_queries):
    dress = _item()
    toy = _item(category_slug="baby-toys", brand_name="LEGO", size="")
    women = factories.group(name="女装")
    _members(women, 2, "womenswear", "premium")
    mothers = factories.group(name="妈妈")
    _members(mothers, 2, "baby", "toys-books")
    both = factories.group(name="妈妈也穿")
    _members(both, 2, "womenswear", "baby", "toys-books", "premium")

    with django_assert_max_num_queries(6):
        ranked = selectors.drop_suggest_groups(items=[dress, toy])

    assert ranked[0].group.pk == both.pk
    assert {s.group.pk for s in ranked} == {both.pk, women.pk, mothers.pk}


def test_an_item_that_says_nothing_suggests_nothing():
    item = _item(category_slug="market-odd-things", brand_name=None, size="", price_fen=None)
    _members(factories.group(), 2, "womenswear")

    assert selectors.drop_suggest_groups(item=item) == []
