"""Writes of the seller record: counters, and the level recomputed from them.

Two kinds of numbers feed the level (`erhuo.trust.levels`):
- counted again from the catalog on every recompute: items sold (items whose
  chain of custody passed through sold or completed) and failed
  authentications in the last 180 days, so they can never drift;
- counted up by the market app (a later issue) as things happen, through
  `seller_record_add_rating`, `seller_record_add_shipment` and
  `seller_record_add_order`, each in one UPDATE with F() under a row lock.

Every call ends with a recompute; a change of level writes a
`SellerLevelChange` and emits `seller_level_changed` after commit.
The catalog's item events (`item_sold`, `item_completed`,
`item_authentication_failed`) trigger a recompute for the item's seller
(handlers registered in `TrustConfig.ready`).
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.accounts.models import User
from erhuo.catalog.models import Item, ItemTransition
from erhuo.core import events
from erhuo.core.errors import ValidationFailed
from erhuo.trust import levels
from erhuo.trust.models import SellerLevelChange, SellerRecord, SellerVerification

SOLD_STATES = (Item.Status.SOLD, Item.Status.COMPLETED)


def _locked_record(user) -> SellerRecord:
    # get_or_create then lock: the row exists from now on, and concurrent writers queue on it.
    SellerRecord.objects.get_or_create(user=user)
    return SellerRecord.objects.select_for_update().get(user=user)


def _is_verified(user_id: int, now) -> bool:
    return SellerVerification.objects.filter(
        user_id=user_id, status=SellerVerification.Status.APPROVED, expires_at__gt=now
    ).exists()


def stats_for(record: SellerRecord, *, verified: bool) -> levels.SellerStats:
    return levels.SellerStats(
        verified=verified,
        items_sold=record.items_sold,
        ratings_count=record.ratings_count,
        rating_total=record.rating_total,
        orders_shipped=record.orders_shipped,
        orders_shipped_on_time=record.orders_shipped_on_time,
        orders_total=record.orders_total,
        disputes_lost=record.disputes_lost,
        recent_authentication_failures=record.authentication_failures,
    )


def seller_record_recompute(*, user, now=None) -> SellerRecord:
    """Count again what the catalog knows, apply the level rule, record a change of level."""
    now = now or timezone.now()
    since = now - timedelta(days=levels.AUTHENTICATION_WINDOW_DAYS)
    with transaction.atomic():
        record = _locked_record(user)
        record.items_sold = (
            ItemTransition.objects.filter(subject__seller_id=user.pk, to_state__in=SOLD_STATES)
            .values("subject_id")
            .distinct()
            .count()
        )
        record.authentication_failures = ItemTransition.objects.filter(
            subject__seller_id=user.pk,
            to_state=Item.Status.AUTHENTICATION_FAILED,
            created_at__gte=since,
        ).count()
        level, reasons = levels.level_for(stats_for(record, verified=_is_verified(user.pk, now)))
        fields = ["items_sold", "authentication_failures", "recomputed_at"]
        record.recomputed_at = now
        if level != record.level:
            previous = record.level
            record.level = level
            record.level_changed_at = now
            fields += ["level", "level_changed_at"]
            SellerLevelChange.objects.create(
                user_id=user.pk, from_level=previous, to_level=level, reason=_level_reason(level, reasons)
            )
            events.emit("seller_level_changed", user_id=user.pk, from_level=previous, to_level=level)
        record.save(update_fields=fields)
    return record


def _level_reason(level: str, reasons: list[str]) -> str:
    if level == levels.SellerLevel.TOP:
        return _("Meets every condition of a top seller.")
    if not reasons:
        return ""
    return _("Still needed for the next level: %(list)s.") % {"list": "; ".join(reasons)}


def seller_record_add_rating(*, user, stars: int) -> SellerRecord:
    """A buyer rated the seller 1–5 stars (market app)."""
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ValidationFailed(
            _("A rating is 1 to 5 stars."), code="rating_invalid", fields={"stars": [_("1 to 5 stars.")]}
        )
    with transaction.atomic():
        _locked_record(user)
        SellerRecord.objects.filter(user=user).update(
            ratings_count=F("ratings_count") + 1, rating_total=F("rating_total") + stars
        )
        return seller_record_recompute(user=user)


def seller_record_add_shipment(*, user, on_time: bool) -> SellerRecord:
    """The seller shipped an order, within the promised time or not (market app)."""
    with transaction.atomic():
        _locked_record(user)
        SellerRecord.objects.filter(user=user).update(
            orders_shipped=F("orders_shipped") + 1,
            orders_shipped_on_time=F("orders_shipped_on_time") + (1 if on_time else 0),
        )
        return seller_record_recompute(user=user)


def seller_record_add_order(*, user, dispute_lost: bool = False) -> SellerRecord:
    """An order of the seller's was settled, with or without a dispute she lost (market app)."""
    with transaction.atomic():
        _locked_record(user)
        SellerRecord.objects.filter(user=user).update(
            orders_total=F("orders_total") + 1, disputes_lost=F("disputes_lost") + (1 if dispute_lost else 0)
        )
        return seller_record_recompute(user=user)


# --- catalog events -----------------------------------------------------------


def _recompute_for_item(event: events.Event) -> None:
    seller_id = Item.objects.filter(pk=event.payload.get("pk")).values_list("seller_id", flat=True).first()
    if seller_id is None:
        return
    seller = User.objects.filter(pk=seller_id).first()
    if seller is not None:
        seller_record_recompute(user=seller)


def register_event_handlers() -> None:
    """Called from TrustConfig.ready(). Event names are `item_<to_state>` (core.states)."""
    for name in ("item_authentication_failed", "item_sold", "item_completed"):
        events.on(name)(_recompute_for_item)
