"""The seller record: what buyers and the platform know of a seller's conduct, and her level.

`SellerRecord` holds the counters (one row per seller, created on first
need) and the level computed from them by the written rule in
`erhuo.trust.levels`. Every change of level leaves a `SellerLevelChange`
row (append-only), so a seller can be told when and why she moved.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erhuo.core.models import AppendOnlyError, AppendOnlyQuerySet

__all__ = ["SellerLevel", "SellerLevelChange", "SellerRecord"]


class SellerLevel(models.TextChoices):
    NEW = "new", _("New seller")
    TRUSTED = "trusted", _("Trusted seller")
    TOP = "top", _("Top seller")


class SellerRecord(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("seller"), on_delete=models.PROTECT, related_name="seller_record"
    )
    ratings_count = models.PositiveIntegerField(_("ratings"), default=0)
    rating_total = models.PositiveIntegerField(_("sum of stars"), default=0)
    orders_shipped = models.PositiveIntegerField(_("orders shipped"), default=0)
    orders_shipped_on_time = models.PositiveIntegerField(_("orders shipped on time"), default=0)
    orders_total = models.PositiveIntegerField(_("orders"), default=0)
    disputes_lost = models.PositiveIntegerField(_("disputes lost"), default=0)
    # Counted again from the chain of custody on every recompute (a window of days, not a running total).
    authentication_failures = models.PositiveIntegerField(_("failed authentications (recent)"), default=0)
    items_sold = models.PositiveIntegerField(_("items sold"), default=0)
    level = models.CharField(_("level"), max_length=16, choices=SellerLevel.choices, default=SellerLevel.NEW)
    level_changed_at = models.DateTimeField(_("level since"), null=True, blank=True)
    recomputed_at = models.DateTimeField(_("recomputed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("seller record")
        verbose_name_plural = _("seller records")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(orders_shipped_on_time__lte=models.F("orders_shipped")),
                name="record_on_time_within_shipped",
            ),
            models.CheckConstraint(
                condition=models.Q(disputes_lost__lte=models.F("orders_total")), name="record_disputes_within_orders"
            ),
        ]

    def __str__(self):
        return f"{self.get_level_display()} · {self.user_id}"

    @property
    def average_rating(self) -> float | None:
        """Average stars, one decimal; None before the first rating."""
        if not self.ratings_count:
            return None
        return round(self.rating_total / self.ratings_count, 1)

    @property
    def on_time_percent(self) -> int | None:
        if not self.orders_shipped:
            return None
        return round(100 * self.orders_shipped_on_time / self.orders_shipped)

    @property
    def dispute_percent(self) -> int | None:
        if not self.orders_total:
            return None
        return round(100 * self.disputes_lost / self.orders_total)


class SellerLevelChange(models.Model):
    """One change of a seller's level: from, to, why, when. Append-only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("seller"), on_delete=models.PROTECT, related_name="level_changes"
    )
    from_level = models.CharField(_("from"), max_length=16, choices=SellerLevel.choices, blank=True)
    to_level = models.CharField(_("to"), max_length=16, choices=SellerLevel.choices)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("seller level change")
        verbose_name_plural = _("seller level changes")

    def __str__(self):
        return f"{self.user_id}: {self.from_level or '—'} → {self.to_level}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("SellerLevelChange rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("SellerLevelChange rows are append-only")
