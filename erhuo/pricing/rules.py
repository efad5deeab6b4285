"""The first price suggestion: a written rule, until the pricing engine learns from sales.

suggested = original price × brand-tier retention × condition factor × age factor,
rounded to ¥10, with a quick-sale price 15 % lower and a highest price 15 %
higher. Every factor is returned as a reason the seller can read.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.core.money import format_fen

# What share of the original price an item keeps, by brand tier (luxury holds value best).
TIER_RETENTION = {"luxury": 0.60, "designer": 0.45, "premium": 0.35, "mass": 0.25, "": 0.25}
GRADE_FACTOR = {"N": 1.00, "S": 0.90, "A": 0.80, "B": 0.65, "C": 0.45, "": 0.70}
# Each year of age costs this share, down to the floor.
YEARLY_DEPRECIATION = 0.08
AGE_FLOOR = 0.50
MINIMUM_PRICE_FEN = 1_000  # ¥10
ROUND_TO_FEN = 1_000  # ¥10
# When the original price is unknown, start from the declared value.


@dataclass(frozen=True)
class PriceSuggestion:
    low_fen: int
    fair_fen: int
    high_fen: int
    reasons: list[str] = field(default_factory=list)


def _round(amount: float) -> int:
    # Half up, not Python's half-to-even: ¥85 becomes ¥90 whichever side of the range it is on.
    steps = int(Decimal(str(amount / ROUND_TO_FEN)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return max(MINIMUM_PRICE_FEN, steps * ROUND_TO_FEN)


def suggest_price(
    *,
    original_price_fen: int | None,
    declared_value_fen: int,
    brand_tier: str,
    grade: str,
    purchase_year: int | None,
    today=None,
) -> PriceSuggestion:
    today = today or timezone.localdate()
    reasons = []
    if original_price_fen:
        base = original_price_fen
        reasons.append(_("Original price %(price)s") % {"price": format_fen(original_price_fen)})
        retention = TIER_RETENTION.get(brand_tier, TIER_RETENTION[""])
        reasons.append(_("Brand tier keeps %(percent)s%% of its value") % {"percent": round(retention * 100)})
    else:
        base = declared_value_fen
        retention = 1.0
        reasons.append(
            _("No original price: starting from the declared value %(price)s")
            % {"price": format_fen(declared_value_fen)}
        )
    grade_factor = GRADE_FACTOR.get(grade, GRADE_FACTOR[""])
    reasons.append(_("Condition %(grade)s: × %(factor)s") % {"grade": grade or "?", "factor": f"{grade_factor:.2f}"})
    age_factor = 1.0
    if purchase_year:
        years = max(0, today.year - purchase_year)
        age_factor = max(AGE_FLOOR, 1 - YEARLY_DEPRECIATION * years)
        reasons.append(
            _("Bought %(years)s year(s) ago: × %(factor)s") % {"years": years, "factor": f"{age_factor:.2f}"}
        )
    fair = base * retention * grade_factor * age_factor
    return PriceSuggestion(
        low_fen=_round(fair * 0.85), fair_fen=_round(fair), high_fen=_round(fair * 1.15), reasons=reasons
    )
