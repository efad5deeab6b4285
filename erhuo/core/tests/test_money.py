import pytest
from hypothesis import given
from hypothesis import strategies as st

from erhuo.core.errors import ValidationFailed
from erhuo.core.money import fen_to_yuan_text, format_fen, parse_yuan
from erhuo.core.templatetags.erhuo import fen


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (123450, "¥1,234.50"),
        (0, "¥0.00"),
        (5, "¥0.05"),
        (100, "¥1.00"),
        (-1200, "-¥12.00"),
        (123456789012, "¥1,234,567,890.12"),
    ],
)
def test_format_fen_gives_one_format(amount, text):
    assert format_fen(amount) == text


def test_format_fen_refuses_floats_and_bools():
    with pytest.raises(TypeError):
        format_fen(12.5)
    with pytest.raises(TypeError):
        format_fen(True)


def test_format_fen_of_none_is_empty():
    assert format_fen(None) == ""


@pytest.mark.parametrize(
    ("typed", "fen_amount"),
    [("128", 12800), ("128.5", 12850), ("1,234.56", 123456), ("¥12", 1200), ("￥0.01", 1), (" 7 ", 700), (3, 300)],
)
def test_parse_yuan_reads_what_people_type(typed, fen_amount):
    assert parse_yuan(typed) == fen_amount


@pytest.mark.parametrize("typed", ["", "abc", "1.234", "NaN", "Infinity", "1e", True])
def test_parse_yuan_refuses_nonsense_and_sub_fen(typed):
    with pytest.raises(ValidationFailed) as error:
        parse_yuan(typed)
    assert error.value.code == "invalid_amount"


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_yuan_text_round_trips_to_the_fen(amount):
    assert parse_yuan(fen_to_yuan_text(amount)) == amount
    assert parse_yuan(format_fen(amount).replace("-¥", "-").replace("¥", "")) == amount


def test_template_filter_uses_the_formatter():
    assert fen(123450) == "¥1,234.50"
    assert fen(None) == ""
