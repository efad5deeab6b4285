"""Money is an integer number of fen (分). Never a float.

One formatter (`format_fen`) for every page, notice and export, and one
parser (`parse_yuan`) for what people type.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models
from django.utils.translation import gettext_lazy as _

from erhuo.core.errors import ValidationFailed

FEN_PER_YUAN = 100


def format_fen(amount_fen: int | None, *, symbol: str = "¥") -> str:
    """`123450` → `¥1,234.50`; `-1200` → `-¥12.00`; `None` → `""`."""
    if amount_fen is None:
        return ""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise TypeError(f"money must be an int number of fen, got {type(amount_fen).__name__}")
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{symbol}{yuan:,}.{fen:02d}"


def parse_yuan(text: str | int | Decimal) -> int:
    """Parse what a person types in yuan (`"1,234.5"`, `"¥12"`) into fen.

    More than two decimals is refused rather than silently rounded: a price
    is what the person meant, to the fen.
    """
    if isinstance(text, bool):
        raise ValidationFailed(_("Enter an amount in yuan, like 128 or 128.50."), code="invalid_amount")
    if isinstance(text, int):
        return text * FEN_PER_YUAN
    cleaned = str(text).strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationFailed(_("Enter an amount in yuan, like 128 or 128.50."), code="invalid_amount") from None
    if not value.is_finite():
        raise ValidationFailed(_("Enter an amount in yuan, like 128 or 128.50."), code="invalid_amount")
    fen = value * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise ValidationFailed(_("An amount has at most two decimals (fen)."), code="invalid_amount")
    return int(fen.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fen_to_yuan_text(amount_fen: int) -> str:
    """`12850` → `"128.50"`, for form inputs (no symbol, no grouping)."""
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{yuan}.{fen:02d}"


class MoneyField(models.BigIntegerField):
    """An amount in fen. Name the field `*_fen`."""

    description = _("Amount in fen")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", 0)
        super().__init__(*args, **kwargs)
