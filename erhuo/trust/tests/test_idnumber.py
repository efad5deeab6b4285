"""Resident ID numbers (GB 11643-1999): shape, check digit, province, birth date, age."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erhuo.core.errors import ValidationFailed
from erhuo.trust.idnumber import PROVINCE_CODES, Sex, check_character, parse_id_number

TODAY = date(2026, 6, 1)


def _number(first_seventeen: str) -> str:
    return first_seventeen + check_character(first_seventeen)


def _refusal(value: str, today: date = TODAY) -> str:
    with pytest.raises(ValidationFailed) as caught:
        parse_id_number(value, today=today)
    assert list(caught.value.fields) == ["id_number"]
    return caught.value.code


def test_a_published_example_number_is_valid():
    # The standard's own worked example: 11010519491231002X.
    parsed = parse_id_number("11010519491231002X", today=TODAY)

    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == Sex.FEMALE
    assert parsed.province_code == "11"


def test_a_lower_case_x_full_width_digits_and_spaces_are_normalised():
    parsed = parse_id_number(" １１０１０５ 19491231002x ", today=TODAY)

    assert parsed.number == "11010519491231002X"


def test_the_seventeenth_digit_gives_the_sex():
    male = _number("44030419880606123")  # 3: odd
    female = _number("44030419880606124")

    assert parse_id_number(male, today=TODAY).sex == Sex.MALE
    assert parse_id_number(female, today=TODAY).sex == Sex.FEMALE


@pytest.mark.parametrize(
    "value",
    ["", "1101051949123100", "1101051949123100299", "11010519491231002Y", "1101051949123X002X", "abcdefghijklmnopqr"],
)
def test_a_wrong_shape_is_refused_as_format(value):
    assert _refusal(value) == "id_number_format"


def test_a_wrong_check_digit_is_refused_as_checksum():
    assert _refusal("110105194912310021") == "id_number_checksum"


@pytest.mark.parametrize(
    "province", ["00", "10", "16", "20", "24", "30", "38", "47", "55", "60", "66", "72", "84", "99"]
)
def test_an_unknown_province_is_refused_as_region(province):
    assert _refusal(_number(f"{province}010519900307123")) == "id_number_region"


@pytest.mark.parametrize("province", ["11", "15", "23", "37", "46", "54", "65", "71", "81", "82", "83"])
def test_every_listed_province_is_accepted(province):
    assert parse_id_number(_number(f"{province}010519900307123"), today=TODAY).province_code == province


@pytest.mark.parametrize(
    "birth",
    [
        "19900230",  # 30 February
        "19901301",  # month 13
        "19900000",
        "18991231",  # before 1900
        "20260602",  # tomorrow
    ],
)
def test_an_impossible_birth_date_is_refused(birth):
    assert _refusal(_number(f"110105{birth}123")) == "id_number_birth_date"


def test_a_leap_day_birth_date_is_accepted():
    assert parse_id_number(_number("11010520000229123"), today=TODAY).birth_date == date(2000, 2, 29)


def test_an_applicant_under_eighteen_is_refused_and_eighteen_today_is_accepted():
    assert _refusal(_number("11010520080602123")) == "id_number_under_age"  # 18 tomorrow
    assert parse_id_number(_number("11010520080601123"), today=TODAY).birth_date == date(2008, 6, 1)


# --- properties ------------------------------------------------------------------------

provinces = st.sampled_from(sorted(PROVINCE_CODES))
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2008, 6, 1))
tails = st.text(alphabet="0123456789", min_size=4, max_size=4)


@st.composite
def valid_numbers(draw):
    first = (
        f"{draw(provinces):02d}{draw(tails)}{draw(births):%Y%m%d}{draw(st.text('0123456789', min_size=3, max_size=3))}"
    )
    return _number(first)


@given(valid_numbers())
def test_every_generated_valid_number_is_accepted(number):
    assert parse_id_number(number, today=TODAY).number == number


@given(valid_numbers(), st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=10))
def test_changing_any_one_character_is_refused(number, position, shift):
    alphabet = "0123456789X" if position == 17 else "0123456789"
    current = alphabet.index(number[position])
    changed = alphabet[(current + shift) % len(alphabet)]
    if changed == number[position]:
        return
    mutated = number[:position] + changed + number[position + 1 :]

    with pytest.raises(ValidationFailed) as caught:
        parse_id_number(mutated, today=TODAY)
    assert caught.value.code == "id_number_checksum"
