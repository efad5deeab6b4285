"""Category rules (inherited down the tree), authentication thresholds, care steps, and the item lifecycle table."""

import pytest

from erhuo.catalog.models import AuthenticationRule, CareStep, Category, Item

pytestmark = pytest.mark.django_db

S = Item.Status


def category(slug: str) -> Category:
    return Category.objects.select_related("parent").get(slug=slug)


def rules_of(slug: str) -> dict:
    node = category(slug)
    return {
        "authentication": node.effective_authentication(),
        "care": node.effective_care_steps(),
        "returnable": node.effective_returnable(),
        "window": node.effective_return_window_days(),
        "on_body": node.effective_needs_on_body_photo(),
        "self_ship_max": node.effective_self_ship_max_fen(),
    }


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        # A sub-category with no rule of its own uses its parent's
        (
            "womens-tops",
            {
                "authentication": ("above_value", 300_000),
                "care": ["steam"],
                "returnable": True,
                "window": 7,
                "on_body": True,
                "self_ship_max": 30_000,
            },
        ),
        (
            "womens-coats",
            {
                "authentication": ("above_value", 300_000),
                "care": ["dry_clean", "steam"],
                "returnable": True,
                "window": 7,
                "on_body": True,
                "self_ship_max": 30_000,
            },
        ),
        # False and 0 are rules too, not "no rule"
        (
            "womens-underwear",
            {
                "authentication": ("above_value", 300_000),
                "care": ["wash", "disinfect"],
                "returnable": False,
                "window": 7,
                "on_body": False,
                "self_ship_max": 30_000,
            },
        ),
        (
            "luxury-bags",
            {
                "authentication": ("always", None),
                "care": ["spot_clean", "leather_care"],
                "returnable": True,
                "window": 7,
                "on_body": False,
                "self_ship_max": 0,
            },
        ),
        (
            "luxury-watches",
            {
                "authentication": ("always", None),
                "care": ["polish"],
                "returnable": True,
                "window": 7,
                "on_body": False,
                "self_ship_max": 0,
            },
        ),
        (
            "bags-shoulder",
            {
                "authentication": ("above_value", 200_000),
                "care": ["spot_clean", "leather_care"],
                "returnable": True,
                "window": 7,
                "on_body": False,
                "self_ship_max": 30_000,
            },
        ),
        (
            "baby-toys",
            {
                "authentication": ("never", None),
                "care": ["spot_clean", "disinfect"],
                "returnable": True,
                "window": 7,
                "on_body": False,
                "self_ship_max": 0,
            },
        ),
        (
            "baby-clothes",
            {
                "authentication": ("never", None),
                "care": ["wash", "disinfect"],
                "returnable": True,
                "window": 7,
                "on_body": False,
                "self_ship_max": 0,
            },
        ),
        (
            "baby-diapers",
            {
                "authentication": ("never", None),
                "care": ["spot_clean"],
                "returnable": False,
                "window": 7,
                "on_body": False,
                "self_ship_max": 30_000,
            },
        ),
        (
            "baby-strollers",
            {
                "authentication": ("never", None),
                "care": ["wash", "disinfect"],
                "returnable": True,
                "window": 7,
                "on_body": False,
                "self_ship_max": 0,
            },
        ),
        (
            "accessories-sunglasses",
            {
                "authentication": ("above_value", 150_000),
                "care": ["spot_clean", "disinfect"],
                "returnable": True,
                "window": 7,
                "on_body": False,
                "self_ship_max": 20_000,
            },
        ),
    ],
)
def test_seeded_category_rules_with_inheritance(slug, expected):
    assert rules_of(slug) == expected


@pytest.mark.parametrize(
    ("slug", "declared", "required"),
    [
        ("bags-tote", 199_999, False),
        ("bags-tote", 200_000, True),  # "from" the threshold: inclusive
        ("bags", 5_000_000, True),
        ("womens-dresses", 299_999, False),
        ("womens-dresses", 300_000, True),
        ("shoes", 200_000, True),
        ("accessories-jewellery", 149_999, False),
        ("accessories-jewellery", 150_000, True),
        ("luxury-bags", 1, True),
        ("luxury-jewellery", 0, True),
        ("baby-toys", 100_000_000, False),
    ],
)
def test_requires_authentication_thresholds(slug, declared, required):
    assert category(slug).requires_authentication(declared) is required


def test_baby_toys_and_baby_clothes_must_be_disinfected():
    for slug in ("baby-toys", "baby-clothes", "baby-feeding", "baby-strollers", "baby-books"):
        assert CareStep.DISINFECT in category(slug).effective_care_steps(), slug


def test_every_seeded_care_step_is_a_known_step():
    for node in Category.objects.select_related("parent"):
        assert set(node.effective_care_steps()) <= set(CareStep.values), node.slug
        rule, _threshold = node.effective_authentication()
        assert rule in AuthenticationRule.values, node.slug


def test_defaults_when_no_ancestor_has_a_rule():
    root = Category.objects.create(name="杂物", slug="misc")
    child = Category.objects.create(name="文具", slug="misc-stationery", parent=root)
    assert child.effective_authentication() == ("never", None)
    assert child.requires_authentication(10**9) is False
    assert child.effective_care_steps() == [CareStep.INSPECT_CLEAN] == ["spot_clean"]
    assert child.effective_returnable() is True
    assert child.effective_return_window_days() == 7
    assert child.effective_needs_on_body_photo() is False
    assert child.effective_self_ship_max_fen() == 0


def test_child_rules_override_and_inherit_separately():
    root = Category.objects.create(
        name="鞋",
        slug="x-shoes",
        authentication="above_value",
        authentication_threshold_fen=100_000,
        care_steps=["spot_clean"],
    )
    # Own threshold, parent's rule
    cheaper = Category.objects.create(
        name="运动鞋", slug="x-sneakers", parent=root, authentication_threshold_fen=50_000
    )
    assert cheaper.effective_authentication() == ("above_value", 50_000)
    assert cheaper.requires_authentication(50_000) is True
    assert cheaper.requires_authentication(49_999) is False
    # Own rule, parent's threshold
    always = Category.objects.create(name="限量", slug="x-limited", parent=root, authentication="always")
    assert always.requires_authentication(1) is True
    # An empty list of care steps means "as the parent"
    grandchild = Category.objects.create(name="童鞋", slug="x-kids", parent=cheaper, care_steps=[])
    assert grandchild.effective_care_steps() == ["spot_clean"]
    assert grandchild.effective_authentication() == ("above_value", 50_000)
    # A rule "above a value" without any threshold never asks
    loose = Category.objects.create(name="无门槛", slug="x-loose", authentication="above_value")
    assert loose.requires_authentication(10**12) is False


def test_path_name():
    assert category("baby-toys").path_name == "母婴 / 玩具"
    assert category("baby").path_name == "母婴"


def test_every_status_has_a_row_in_the_transition_table_and_targets_are_statuses():
    assert set(Item.TRANSITIONS) == set(S.values)
    for source, targets in Item.TRANSITIONS.items():
        assert set(targets) <= set(S.values), source
        assert source not in targets, source


def test_terminal_states():
    terminal = {status for status, targets in Item.TRANSITIONS.items() if not targets}
    assert terminal == {S.COMPLETED, S.REJECTED, S.WITHDRAWN, S.RETURNED, S.DONATED, S.LOST}
    assert Item(status=S.DONATED).is_terminal is True
    assert Item(status=S.LISTED).is_terminal is False


def test_listing_is_reachable_only_from_priced_a_released_reservation_or_an_unshipped_cancelled_sale():
    sources = {source for source, targets in Item.TRANSITIONS.items() if S.LISTED in targets}
    # Priced goes on sale; a reservation released, or an order cancelled before it left the
    # warehouse (sold or packed), puts the item back on sale. Nothing shipped comes back listed.
    assert sources == {S.PRICED, S.RESERVED, S.SOLD, S.PACKED}
    # A failed authentication can only go back to the seller
    assert Item.TRANSITIONS[S.AUTHENTICATION_FAILED] == {S.RETURN_TO_SELLER}
    # Care is reached from grading (no authentication needed) or from a pass
    assert {s for s, t in Item.TRANSITIONS.items() if S.CARED in t} == {S.GRADED, S.AUTHENTICATED}


def test_measurements_read_in_a_fixed_order_whatever_the_database_kept():
    item = Item(measurements={"高": "29", "宽": "17", "胸围": "92", "长": "32", "手柄": "12"})
    assert item.measurement_rows() == [("胸围", "92"), ("长", "32"), ("宽", "17"), ("高", "29"), ("手柄", "12")]
