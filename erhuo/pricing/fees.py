"""What a sale costs the seller: the platform's commission and the service fees.

The same breakdown is shown to the seller before she accepts a price
(consignment), frozen on the order line when an item sells (market), and
shown again on her payout. It is a written rule, configurable:

- commission, tiered by the sale price (a marginal-free tier: the whole
  price is charged at the rate of the tier it falls in), at least
  `MINIMUM_COMMISSION_FEN`;
- authentication, a flat fee when the item was authenticated;
- care, a fee per care step done in the warehouse (self-ship items have none);
- the seller receives the price minus all of that, never less than zero
  (fees beyond the price are waived, and said so).

Settings: `ERHUO_COMMISSION_TIERS` as [(up to fen or None, basis points)],
`ERHUO_AUTHENTICATION_FEE_FEN`, `ERHUO_CARE_FEES_FEN` {step: fen}.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from erhuo.core.money import format_fen

DEFAULT_COMMISSION_TIERS: list[tuple[int | None, int]] = [
    (20_000, 2000),  # up to ¥200: 20 %
    (100_000, 1500),  # up to ¥1,000: 15 %
    (500_000, 1200),  # up to ¥5,000: 12 %
    (None, 1000),  # above: 10 %
]
MINIMUM_COMMISSION_FEN = 500  # ¥5
DEFAULT_AUTHENTICATION_FEE_FEN = 3_000  # ¥30
DEFAULT_CARE_FEES_FEN = {
    "spot_clean": 500,
    "wash": 1_000,
    "dry_clean": 3_000,
    "steam": 500,
    "disinfect": 500,
    "leather_care": 3_000,
    "polish": 1_500,
    "repair": 0,  # repairs are quoted one by one and added as `repair_fen`
}


@dataclass(frozen=True)
class FeeLine:
    code: str
    label: str
    amount_fen: int


@dataclass(frozen=True)
class Breakdown:
    price_fen: int
    commission_bps: int
    commission_fen: int
    service_fees: list[FeeLine] = field(default_factory=list)
    waived_fen: int = 0

    @property
    def service_fees_fen(self) -> int:
        return sum(line.amount_fen for line in self.service_fees) - self.waived_fen

    @property
    def seller_net_fen(self) -> int:
        return self.price_fen - self.commission_fen - self.service_fees_fen

    @property
    def commission_percent(self) -> str:
        return f"{self.commission_bps / 100:g}%"

    def as_dict(self) -> dict:
        return {
            "price_fen": self.price_fen,
            "commission_bps": self.commission_bps,
            "commission_fen": self.commission_fen,
            "service_fees": [
                {"code": line.code, "label": line.label, "amount_fen": line.amount_fen} for line in self.service_fees
            ],
            "waived_fen": self.waived_fen,
            "service_fees_fen": self.service_fees_fen,
            "seller_net_fen": self.seller_net_fen,
        }


def commission_tiers() -> list[tuple[int | None, int]]:
    return list(getattr(settings, "ERHUO_COMMISSION_TIERS", None) or DEFAULT_COMMISSION_TIERS)


def commission_bps_for(price_fen: int) -> int:
    for up_to, bps in commission_tiers():
        if up_to is None or price_fen <= up_to:
            return bps
    return commission_tiers()[-1][1]


def commission_fen_for(price_fen: int) -> int:
    bps = commission_bps_for(price_fen)
    # Half up, in integers: no float ever touches money.
    share = (price_fen * bps + 5_000) // 10_000
    return min(price_fen, max(MINIMUM_COMMISSION_FEN, share))


def care_fee_fen(step: str) -> int:
    fees = getattr(settings, "ERHUO_CARE_FEES_FEN", None) or DEFAULT_CARE_FEES_FEN
    return int(fees.get(step, 0))


def authentication_fee_fen() -> int:
    return int(getattr(settings, "ERHUO_AUTHENTICATION_FEE_FEN", DEFAULT_AUTHENTICATION_FEE_FEN))


def breakdown(
    price_fen: int, *, authenticated: bool = False, care_steps: list[tuple[str, str]] = (), repair_fen: int = 0
) -> Breakdown:
    """The seller's breakdown for a sale at `price_fen`.

    `care_steps` are (code, label) of the care done; `repair_fen` a repair the seller agreed to.
    """
    if isinstance(price_fen, bool) or not isinstance(price_fen, int) or price_fen <= 0:
        raise ValueError("price_fen must be a positive int")
    commission = commission_fen_for(price_fen)
    lines = []
    if authenticated and authentication_fee_fen():
        lines.append(FeeLine("authentication", _("Authentication"), authentication_fee_fen()))
    for code, label in care_steps:
        amount = care_fee_fen(code)
        if amount:
            lines.append(FeeLine(f"care:{code}", _("Care: %(step)s") % {"step": label}, amount))
    if repair_fen:
        lines.append(FeeLine("repair", _("Repair"), int(repair_fen)))
    fees = sum(line.amount_fen for line in lines)
    waived = max(0, commission + fees - price_fen)
    return Breakdown(
        price_fen=price_fen,
        commission_bps=commission_bps_for(price_fen),
        commission_fen=commission,
        service_fees=lines,
        waived_fen=min(waived, fees),
    )


def tier_rows() -> list[str]:
    """The commission rule in words, for the pages that show it."""
    rows, lower = [], 0
    for up_to, bps in commission_tiers():
        percent = f"{bps / 100:g}%"
        if up_to is None:
            rows.append(_("Above %(from)s: %(percent)s") % {"from": format_fen(lower), "percent": percent})
        else:
            rows.append(
                _("%(from)s – %(to)s: %(percent)s")
                % {"from": format_fen(lower), "to": format_fen(up_to), "percent": percent}
            )
            lower = up_to
    return rows
