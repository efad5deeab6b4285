"""Seller levels: the written rule, as data, and the one function that applies it.

A seller is **new** until she meets every condition of a higher level:

| condition                                         | trusted          | top              |
|---------------------------------------------------|------------------|------------------|
| verified seller (approved, not expired)           | yes              | yes              |
| items sold                                        | at least 5       | at least 30      |
| average rating (counted from the 3rd rating on)   | at least 4.5 ★   | at least 4.8 ★   |
| shipped on time (counted from the 5th shipment on)| at least 90 %    | at least 95 %    |
| disputes lost, of all orders                      | at most 5 %      | at most 2 %      |
| failed authentications in the last 180 days       | at most 1        | none             |

Conditions with a "counted from" only apply once there is enough to judge
by, so that a seller with two sales is not judged by one bad rating; the
top level additionally needs at least that many ratings and shipments.
The level goes down as well as up: it is recomputed after every sale,
rating, shipment, order and failed authentication.

Only trusted and top sellers may use self-ship mode (`selectors.can_self_ship`).

All comparisons are done in integers (tenths of a star, whole percents), so
that 4.5 is 4.5 and never 4.4999.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from erhuo.trust.models.record import SellerLevel

AUTHENTICATION_WINDOW_DAYS = 180


@dataclass(frozen=True)
class SellerStats:
    verified: bool
    items_sold: int = 0
    ratings_count: int = 0
    rating_total: int = 0
    orders_shipped: int = 0
    orders_shipped_on_time: int = 0
    orders_total: int = 0
    disputes_lost: int = 0
    recent_authentication_failures: int = 0


@dataclass(frozen=True)
class LevelRule:
    level: str
    min_items_sold: int
    min_rating_tenths: int  # 45 = 4.5 stars
    rating_counts_from: int  # the rating condition applies from this many ratings on
    min_on_time_percent: int
    on_time_counts_from: int  # the on-time condition applies from this many shipments on
    max_dispute_percent: int
    max_recent_authentication_failures: int
    # Top sellers must have been judged: the rating and on-time conditions may not be skipped.
    requires_history: bool = False


# Highest first: a seller gets the first level whose every condition she meets.
RULES: tuple[LevelRule, ...] = (
    LevelRule(
        level=SellerLevel.TOP,
        min_items_sold=30,
        min_rating_tenths=48,
        rating_counts_from=3,
        min_on_time_percent=95,
        on_time_counts_from=5,
        max_dispute_percent=2,
        max_recent_authentication_failures=0,
        requires_history=True,
    ),
    LevelRule(
        level=SellerLevel.TRUSTED,
        min_items_sold=5,
        min_rating_tenths=45,
        rating_counts_from=3,
        min_on_time_percent=90,
        on_time_counts_from=5,
        max_dispute_percent=5,
        max_recent_authentication_failures=1,
    ),
)

LEVEL_MEANINGS = {
    SellerLevel.NEW: gettext_lazy(
        "A verified member who has just started selling. Items go through the full platform pipeline."
    ),
    SellerLevel.TRUSTED: gettext_lazy(
        "Has sold at least 5 items with good ratings, ships on time and rarely loses a dispute. "
        "May ship items herself (self-ship mode)."
    ),
    SellerLevel.TOP: gettext_lazy(
        # xgettext:no-python-format
        "One of our best sellers: at least 30 items sold, rated 4.8★ or more, 95 % shipped on time, "
        "no failed authentication in 180 days."
    ),
}


def unmet_conditions(rule: LevelRule, stats: SellerStats) -> list[str]:
    """What `stats` lacks for `rule`, in words a seller understands. Empty: the level is met."""
    unmet = []
    if not stats.verified:
        unmet.append(_("be a verified seller"))
    if stats.items_sold < rule.min_items_sold:
        unmet.append(
            _("sell at least %(count)s items (sold %(sold)s)")
            % {"count": rule.min_items_sold, "sold": stats.items_sold}
        )
    if stats.ratings_count >= rule.rating_counts_from:
        if stats.rating_total * 10 < rule.min_rating_tenths * stats.ratings_count:
            unmet.append(
                _("an average rating of at least %(stars)s★ (now %(now)s★)")
                % {
                    "stars": rule.min_rating_tenths / 10,
                    "now": round(stats.rating_total / stats.ratings_count, 1),
                }
            )
    elif rule.requires_history:
        unmet.append(_("at least %(count)s ratings") % {"count": rule.rating_counts_from})
    if stats.orders_shipped >= rule.on_time_counts_from:
        if stats.orders_shipped_on_time * 100 < rule.min_on_time_percent * stats.orders_shipped:
            unmet.append(
                _("ship at least %(percent)s %% on time (now %(now)s %%)")
                % {
                    "percent": rule.min_on_time_percent,
                    "now": round(100 * stats.orders_shipped_on_time / stats.orders_shipped),
                }
            )
    elif rule.requires_history:
        unmet.append(_("at least %(count)s shipped orders") % {"count": rule.on_time_counts_from})
    if stats.disputes_lost * 100 > rule.max_dispute_percent * stats.orders_total:
        unmet.append(
            _("lose at most %(percent)s %% of orders in disputes (now %(now)s %%)")
            % {"percent": rule.max_dispute_percent, "now": round(100 * stats.disputes_lost / stats.orders_total)}
        )
    if stats.recent_authentication_failures > rule.max_recent_authentication_failures:
        if rule.max_recent_authentication_failures == 0:
            unmet.append(_("no failed authentication in the last %(days)s days") % {"days": AUTHENTICATION_WINDOW_DAYS})
        else:
            unmet.append(
                _("at most %(count)s failed authentication in the last %(days)s days (now %(now)s)")
                % {
                    "count": rule.max_recent_authentication_failures,
                    "days": AUTHENTICATION_WINDOW_DAYS,
                    "now": stats.recent_authentication_failures,
                }
            )
    return unmet


def level_for(stats: SellerStats) -> tuple[str, list[str]]:
    """The level `stats` earn, and why: for the top level an empty list; otherwise what the next
    level up still needs (so a seller knows what to work on)."""
    missing_for_next: list[str] = []
    for rule in RULES:
        unmet = unmet_conditions(rule, stats)
        if not unmet:
            return rule.level, missing_for_next
        missing_for_next = unmet
    return SellerLevel.NEW, missing_for_next


def rule_rows() -> list[dict]:
    """The rule as rows for the page that explains it (one row per condition, a column per level)."""
    by_level = {rule.level: rule for rule in RULES}
    trusted, top = by_level[SellerLevel.TRUSTED], by_level[SellerLevel.TOP]
    return [
        {"condition": _("Verified seller"), "trusted": _("yes"), "top": _("yes")},
        {
            "condition": _("Items sold"),
            "trusted": _("at least %(count)s") % {"count": trusted.min_items_sold},
            "top": _("at least %(count)s") % {"count": top.min_items_sold},
        },
        {
            "condition": _("Average rating (from the 3rd rating on)"),
            "trusted": _("at least %(stars)s★") % {"stars": trusted.min_rating_tenths / 10},
            "top": _("at least %(stars)s★") % {"stars": top.min_rating_tenths / 10},
        },
        {
            "condition": _("Shipped on time (from the 5th shipment on)"),
            "trusted": _("at least %(percent)s %%") % {"percent": trusted.min_on_time_percent},
            "top": _("at least %(percent)s %%") % {"percent": top.min_on_time_percent},
        },
        {
            "condition": _("Disputes lost, of all orders"),
            "trusted": _("at most %(percent)s %%") % {"percent": trusted.max_dispute_percent},
            "top": _("at most %(percent)s %%") % {"percent": top.max_dispute_percent},
        },
        {
            "condition": _("Failed authentications in the last %(days)s days") % {"days": AUTHENTICATION_WINDOW_DAYS},
            "trusted": _("at most %(count)s") % {"count": trusted.max_recent_authentication_failures},
            "top": _("none"),
        },
    ]
