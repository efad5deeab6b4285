"""The written price rule: original price × brand-tier retention × condition × age, rounded to ¥10."""

from datetime import date

import pytest
from django.utils import translation

from erhuo.pricing import rules
from erhuo.pricing.rules import suggest_price

TODAY = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def prices(suggestion):
    return suggestion.low_fen, suggestion.fair_fen, suggestion.high_fen


def test_constants_of_the_rule():
    assert rules.TIER_RETENTION == {"luxury": 0.60, "designer": 0.45, "premium": 0.35, "mass": 0.25, "": 0.25}
    assert rules.GRADE_FACTOR == {"N": 1.00, "S": 0.90, "A": 0.80, "B": 0.65, "C": 0.45, "": 0.70}
    assert (rules.YEARLY_DEPRECIATION, rules.AGE_FLOOR) == (0.08, 0.50)
    assert (rules.MINIMUM_PRICE_FEN, rules.ROUND_TO_FEN) == (1_000, 1_000)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # Luxury bag bought this year for ¥10,000, like new: 1,000,000 × 0.60 × 0.90 = 540,000
        (
            {"original_price_fen": 1_000_000, "brand_tier": "luxury", "grade": "S", "purchase_year": 2026},
            (459_000, 540_000, 621_000),
        ),
        # Designer bag, ¥2,000, grade A, two years old: 200,000 × 0.45 × 0.80 × 0.84 = 60,480 → ¥600
        (
            {"original_price_fen": 200_000, "brand_tier": "designer", "grade": "A", "purchase_year": 2024},
            (51_000, 60_000, 70_000),
        ),
        # Premium knit, ¥899, grade B, one year: 89,900 × 0.35 × 0.65 × 0.92 = 18,815.9 → ¥190
        (
            {"original_price_fen": 89_900, "brand_tier": "premium", "grade": "B", "purchase_year": 2025},
            (16_000, 19_000, 22_000),
        ),
        # Mass-market, ¥1,000, grade B, ten years old: the age factor stops at 0.50: 8,125 → ¥80
        (
            {"original_price_fen": 100_000, "brand_tier": "mass", "grade": "B", "purchase_year": 2016},
            (7_000, 8_000, 9_000),
        ),
        # No original price: start from the declared value, no tier retention: 20,000 × 0.80 → ¥160
        (
            {"original_price_fen": None, "declared_value_fen": 20_000, "brand_tier": "luxury", "grade": "A"},
            (14_000, 16_000, 18_000),
        ),
        # Unknown tier and no grade: mass retention, 0.70
        ({"original_price_fen": 100_000, "brand_tier": "", "grade": ""}, (15_000, 18_000, 20_000)),
        ({"original_price_fen": 100_000, "brand_tier": "bespoke", "grade": "?"}, (15_000, 18_000, 20_000)),
        # A year in the future counts as this year
        (
            {"original_price_fen": 100_000, "brand_tier": "mass", "grade": "N", "purchase_year": 2030},
            (21_000, 25_000, 29_000),
        ),
    ],
)
def test_suggested_prices_in_fen(kwargs, expected):
    values = {"declared_value_fen": 1, "purchase_year": None} | kwargs
    assert prices(suggest_price(today=TODAY, **values)) == expected


def test_minimum_price_is_ten_yuan():
    # ¥5 declared, grade C: 225 fen → rounds to ¥0 → the minimum ¥10
    suggestion = suggest_price(
        original_price_fen=None, declared_value_fen=500, brand_tier="", grade="C", purchase_year=None, today=TODAY
    )
    assert prices(suggestion) == (1_000, 1_000, 1_000)


@pytest.mark.parametrize(
    ("declared", "fair"),
    [(14_999, 15_000), (15_400, 15_000), (15_600, 16_000), (123_456, 123_000), (123_501, 124_000)],
)
def test_prices_are_rounded_to_ten_yuan(declared, fair):
    suggestion = suggest_price(
        original_price_fen=None, declared_value_fen=declared, brand_tier="", grade="N", purchase_year=None, today=TODAY
    )
    assert suggestion.fair_fen == fair
    assert all(value % 1_000 == 0 for value in prices(suggestion))
    assert suggestion.low_fen <= suggestion.fair_fen <= suggestion.high_fen


def test_every_factor_is_a_reason_the_seller_can_read():
    suggestion = suggest_price(
        original_price_fen=200_000,
        declared_value_fen=80_000,
        brand_tier="designer",
        grade="A",
        purchase_year=2024,
        today=TODAY,
    )
    assert suggestion.reasons == [
        "Original price ¥2,000.00",
        "Brand tier keeps 45% of its value",
        "Condition A: × 0.80",
        "Bought 2 year(s) ago: × 0.84",
    ]
    without_original = suggest_price(
        original_price_fen=None, declared_value_fen=12_345, brand_tier="", grade="", purchase_year=None, today=TODAY
    )
    assert without_original.reasons == [
        "No original price: starting from the declared value ¥123.45",
        "Condition ?: × 0.70",
    ]


def test_prices_are_integers():
    suggestion = suggest_price(
        original_price_fen=333_333,
        declared_value_fen=1,
        brand_tier="premium",
        grade="S",
        purchase_year=2023,
        today=TODAY,
    )
    assert all(type(value) is int for value in prices(suggestion))
