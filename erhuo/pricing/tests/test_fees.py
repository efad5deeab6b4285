"""The seller's breakdown of a sale: tiered commission, its minimum, service fees, the waiver, and settings."""

import pytest
from django.utils import translation

from erhuo.pricing import fees
from erhuo.pricing.fees import Breakdown, FeeLine


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def default_rule(settings):
    # The project's own settings may set none of these; a test run must not depend on the environment.
    for name in ("ERHUO_COMMISSION_TIERS", "ERHUO_AUTHENTICATION_FEE_FEN", "ERHUO_CARE_FEES_FEN"):
        if hasattr(settings, name):
            delattr(settings, name)
    return settings


# --- the tiers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price_fen", "bps", "commission_fen"),
    [
        (2_500, 2000, 500),  # ¥25 at 20 % is exactly the minimum
        (19_999, 2000, 4_000),  # 3,999.8 → 4,000
        (20_000, 2000, 4_000),  # exactly ¥200: still the first tier
        (20_001, 1500, 3_000),  # one fen above: the whole price at 15 % (3,000.15)
        (100_000, 1500, 15_000),  # exactly ¥1,000
        (100_001, 1200, 12_000),  # 12,000.12
        (500_000, 1200, 60_000),  # exactly ¥5,000
        (500_001, 1000, 50_000),  # 50,000.1
        (10_000_000, 1000, 1_000_000),
    ],
)
def test_the_whole_price_is_charged_at_the_rate_of_its_tier(default_rule, price_fen, bps, commission_fen):
    assert fees.commission_bps_for(price_fen) == bps
    assert fees.commission_fen_for(price_fen) == commission_fen
    result = fees.breakdown(price_fen)
    assert (result.commission_bps, result.commission_fen, result.service_fees_fen, result.seller_net_fen) == (
        bps,
        commission_fen,
        0,
        price_fen - commission_fen,
    )


def test_the_default_tiers_are_the_written_rule(default_rule):
    assert fees.commission_tiers() == [(20_000, 2000), (100_000, 1500), (500_000, 1200), (None, 1000)]
    assert fees.MINIMUM_COMMISSION_FEN == 500
    assert fees.tier_rows() == [
        "¥0.00 – ¥200.00: 20%",
        "¥200.00 – ¥1,000.00: 15%",
        "¥1,000.00 – ¥5,000.00: 12%",
        "Above ¥5,000.00: 10%",
    ]


@pytest.mark.parametrize(
    ("price_fen", "commission_fen"),
    [
        (100, 100),  # the commission never exceeds the price
        (499, 499),
        (500, 500),
        (1_000, 500),  # 20 % would be ¥2: the minimum ¥5 applies
        (2_495, 500),  # 499 → 500
        (2_505, 501),
    ],
)
def test_a_minimum_commission_of_five_yuan_but_never_more_than_the_price(default_rule, price_fen, commission_fen):
    assert fees.commission_fen_for(price_fen) == commission_fen
    assert fees.breakdown(price_fen).seller_net_fen == price_fen - commission_fen


@pytest.mark.parametrize(
    ("price_fen", "commission_fen"),
    [
        (20_010, 3_002),  # 3,001.5 → half up → 3,002
        (20_003, 3_000),  # 3,000.45 → 3,000
        (20_007, 3_001),  # 3,001.05 → 3,001
        (20_017, 3_003),  # 3,002.55 → 3,003
        (20_030, 3_005),  # 3,004.5 → 3,005
    ],
)
def test_commission_is_rounded_half_up_in_integers(default_rule, price_fen, commission_fen):
    assert fees.commission_fen_for(price_fen) == commission_fen
    assert isinstance(fees.commission_fen_for(price_fen), int)


# --- service fees and the waiver --------------------------------------------------------------


def test_authentication_and_care_fees_are_itemised(default_rule):
    result = fees.breakdown(
        50_000,
        authenticated=True,
        care_steps=[("wash", "Wash"), ("steam", "Steam"), ("repair", "Repair"), ("unknown", "Magic")],
        repair_fen=2_000,
    )

    assert result.service_fees == [
        FeeLine("authentication", "Authentication", 3_000),
        FeeLine("care:wash", "Care: Wash", 1_000),
        FeeLine("care:steam", "Care: Steam", 500),
        FeeLine("repair", "Repair", 2_000),
    ]
    assert result.commission_bps == 1500
    assert result.commission_fen == 7_500
    assert result.waived_fen == 0
    assert result.service_fees_fen == 6_500
    assert result.seller_net_fen == 50_000 - 7_500 - 6_500
    assert result.commission_percent == "15%"
    assert result.as_dict() == {
        "price_fen": 50_000,
        "commission_bps": 1500,
        "commission_fen": 7_500,
        "service_fees": [
            {"code": "authentication", "label": "Authentication", "amount_fen": 3_000},
            {"code": "care:wash", "label": "Care: Wash", "amount_fen": 1_000},
            {"code": "care:steam", "label": "Care: Steam", "amount_fen": 500},
            {"code": "repair", "label": "Repair", "amount_fen": 2_000},
        ],
        "waived_fen": 0,
        "service_fees_fen": 6_500,
        "seller_net_fen": 36_000,
    }


def test_default_care_fees(default_rule):
    assert {step: fees.care_fee_fen(step) for step in fees.DEFAULT_CARE_FEES_FEN} == {
        "spot_clean": 500,
        "wash": 1_000,
        "dry_clean": 3_000,
        "steam": 500,
        "disinfect": 500,
        "leather_care": 3_000,
        "polish": 1_500,
        "repair": 0,
    }
    assert fees.care_fee_fen("no-such-step") == 0
    assert fees.authentication_fee_fen() == 3_000


def test_fees_beyond_the_price_are_waived_and_the_seller_never_owes(default_rule):
    # ¥30 authenticated: commission ¥6 + authentication ¥30 = ¥36 > ¥30, so ¥6 of the fees is waived.
    result = fees.breakdown(3_000, authenticated=True)

    assert (result.commission_fen, result.waived_fen, result.service_fees_fen, result.seller_net_fen) == (
        600,
        600,
        2_400,
        0,
    )
    assert result.as_dict()["waived_fen"] == 600


def test_a_price_below_the_minimum_commission_waives_every_fee(default_rule):
    result = fees.breakdown(400, authenticated=True, care_steps=[("wash", "Wash")])

    assert (result.commission_fen, result.waived_fen, result.service_fees_fen, result.seller_net_fen) == (
        400,
        4_000,
        0,
        0,
    )


def test_fees_exactly_equal_to_the_price_waive_nothing(default_rule):
    # Care ¥35 in all: wash + polish + spot clean + steam.
    steps = [("wash", "Wash"), ("polish", "Polish"), ("spot_clean", "Spot"), ("steam", "Steam")]
    result = fees.breakdown(10_500, care_steps=steps)  # commission 2,100 + fees 3,500 = 5,600 < 10,500

    assert (result.waived_fen, result.service_fees_fen, result.seller_net_fen) == (0, 3_500, 4_900)
    exact = fees.breakdown(4_375, care_steps=steps)  # commission 875 + fees 3,500 = 4,375: nothing left, nothing waived
    assert (exact.commission_fen, exact.waived_fen, exact.service_fees_fen, exact.seller_net_fen) == (875, 0, 3_500, 0)


@pytest.mark.parametrize("price", [0, -1, True, 12.5, "100", None])
def test_a_price_is_a_positive_int(default_rule, price):
    with pytest.raises(ValueError, match="positive int"):
        fees.breakdown(price)


def test_the_breakdown_is_frozen_and_its_parts_add_up(default_rule):
    result = fees.breakdown(88_800, authenticated=True, care_steps=[("dry_clean", "Dry clean")])

    assert isinstance(result, Breakdown)
    assert result.price_fen == result.commission_fen + result.service_fees_fen + result.seller_net_fen
    with pytest.raises(AttributeError):
        result.price_fen = 1


# --- settings -----------------------------------------------------------------------------------


def test_settings_override_tiers_and_fees(settings):
    settings.ERHUO_COMMISSION_TIERS = [(10_000, 1000), (None, 500)]
    settings.ERHUO_AUTHENTICATION_FEE_FEN = 1_234
    settings.ERHUO_CARE_FEES_FEN = {"wash": 2_000}

    assert fees.commission_tiers() == [(10_000, 1000), (None, 500)]
    assert (fees.commission_bps_for(10_000), fees.commission_bps_for(10_001)) == (1000, 500)
    assert fees.commission_fen_for(10_000) == 1_000
    assert fees.commission_fen_for(30_010) == 1_501  # 1,500.5 → half up
    assert fees.commission_fen_for(4_000) == 500  # the minimum is not a setting
    result = fees.breakdown(30_000, authenticated=True, care_steps=[("wash", "Wash"), ("steam", "Steam")])
    assert [(line.code, line.amount_fen) for line in result.service_fees] == [
        ("authentication", 1_234),
        ("care:wash", 2_000),
    ]
    assert result.seller_net_fen == 30_000 - 1_500 - 3_234
    assert fees.tier_rows() == ["¥0.00 – ¥100.00: 10%", "Above ¥100.00: 5%"]


def test_a_zero_authentication_fee_adds_no_line(settings):
    settings.ERHUO_AUTHENTICATION_FEE_FEN = 0

    assert fees.breakdown(30_000, authenticated=True).service_fees == []


def test_tiers_without_an_open_end_charge_the_last_rate_above_them(settings):
    settings.ERHUO_COMMISSION_TIERS = [(10_000, 1000), (20_000, 800)]

    assert fees.commission_bps_for(20_000) == 800
    assert fees.commission_bps_for(1_000_000) == 800
    assert fees.commission_fen_for(1_000_000) == 80_000
