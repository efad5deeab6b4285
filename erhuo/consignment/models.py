"""Consignment: intake batches, the warehouse's record of each item, and the stations.

The item's lifecycle lives on `catalog.Item.status`; this app keeps what the
warehouse knows about a consigned item (`Consignment`): its batch, label,
declared value and the platform's liability, whether it needs
authentication and which care steps, the care done, the price proposal and
the seller's answer, and what happens if it does not sell.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erhuo.catalog.models import Item
from erhuo.core.models import TimeStampedModel


class Station(models.TextChoices):
    """Warehouse stations, each with the item status that is its queue."""

    PRESCREEN = "prescreen", _("Pre-screen")
    RECEIVE = "receive", _("Receiving")
    GRADE = "grade", _("Inspection and grading")
    AUTHENTICATE = "authenticate", _("Authentication")
    CARE = "care", _("Care")
    PHOTOGRAPH = "photograph", _("Photography")
    PRICE = "price", _("Pricing")
    RETURNS = "returns", _("Returns to sellers")


class RejectionReason(models.TextChoices):
    NOT_ACCEPTED_CATEGORY = "category", _("We do not accept this category")
    CONDITION = "condition", _("Condition below our lowest grade (C)")
    BRAND = "brand", _("Brand or value too low for consignment")
    PHOTOS_UNCLEAR = "photos", _("Photos are unclear; please retake")
    SUSPECTED_COUNTERFEIT = "counterfeit", _("Suspected counterfeit")
    HYGIENE = "hygiene", _("Hygiene item that cannot be resold")
    SEASON = "season", _("Out of season; please submit later")
    OTHER = "other", _("Other (see note)")


class IntakeBatch(TimeStampedModel):
    """What a seller submits at once and ships in one parcel."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted, awaiting pre-screen")
        SCREENED = "screened", _("Pre-screened: ship the accepted items")
        SHIPPED = "shipped", _("Shipped to the warehouse")
        RECEIVED = "received", _("Received")
        CLOSED = "closed", _("Nothing to ship")

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intake_batches")
    code = models.CharField(_("batch code"), max_length=24, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    carrier = models.CharField(_("carrier"), max_length=30, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=40, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    note = models.CharField(_("note to the warehouse"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("intake batch")
        verbose_name_plural = _("intake batches")

    def __str__(self):
        return self.code


class Consignment(TimeStampedModel):
    """The warehouse's record of one consigned item."""

    class UnsoldChoice(models.TextChoices):
        RETURN = "return", _("Send it back to me")
        DONATE = "donate", _("Donate it")

    class PriceDecision(models.TextChoices):
        PENDING = "pending", _("Awaiting your answer")
        ACCEPTED = "accepted", _("Accepted")
        COUNTERED = "countered", _("Countered")
        AUTO_ACCEPTED = "auto_accepted", _("Accepted automatically at the deadline")

    class RepairConsent(models.TextChoices):
        NOT_NEEDED = "", _("No repair")
        ASKED = "asked", _("Asked")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    item = models.OneToOneField(Item, on_delete=models.PROTECT, related_name="consignment")
    batch = models.ForeignKey(IntakeBatch, on_delete=models.PROTECT, related_name="consignments")
    label_code = models.CharField(_("label"), max_length=16, unique=True, null=True, blank=True)
    declared_value_fen = models.BigIntegerField(_("declared value"))
    # The platform's liability while the item is in its care: the declared value, capped (see services).
    liability_fen = models.BigIntegerField(_("our liability"), default=0)
    rejection_reason = models.CharField(
        _("rejection reason"), max_length=16, choices=RejectionReason.choices, blank=True
    )
    rejection_note = models.CharField(_("rejection note"), max_length=300, blank=True)
    needs_authentication = models.BooleanField(_("needs authentication"), default=False)
    required_care_steps = models.JSONField(_("required care steps"), default=list, blank=True)
    repair_quote_fen = models.BigIntegerField(_("repair quote"), null=True, blank=True)
    repair_note = models.CharField(_("repair needed"), max_length=300, blank=True)
    repair_consent = models.CharField(
        _("repair consent"), max_length=16, choices=RepairConsent.choices, blank=True, default=""
    )
    suggested_price_fen = models.BigIntegerField(_("suggested price"), null=True, blank=True)
    suggested_low_fen = models.BigIntegerField(_("quick-sale price"), null=True, blank=True)
    suggested_high_fen = models.BigIntegerField(_("highest price"), null=True, blank=True)
    price_reasons = models.JSONField(_("price reasons"), default=list, blank=True)
    price_decision = models.CharField(_("seller's answer"), max_length=16, choices=PriceDecision.choices, blank=True)
    price_deadline = models.DateTimeField(_("answer by"), null=True, blank=True)
    counter_price_fen = models.BigIntegerField(_("seller's counter-offer"), null=True, blank=True)
    unsold_choice = models.CharField(
        _("if unsold"), max_length=8, choices=UnsoldChoice.choices, default=UnsoldChoice.RETURN
    )
    markdown_steps_applied = models.PositiveSmallIntegerField(_("markdowns applied"), default=0)
    return_reason = models.CharField(_("return reason"), max_length=300, blank=True)
    withdrawal_fee_fen = models.BigIntegerField(_("withdrawal fee"), default=0)
    return_shipping_fee_fen = models.BigIntegerField(_("return shipping charged to the seller"), default=0)
    ship_by = models.DateTimeField(_("seller ships by"), null=True, blank=True)

    class Meta:
        verbose_name = _("consignment")
        verbose_name_plural = _("consignments")

    def __str__(self):
        return self.label_code or f"#{self.item_id}"


class CareRecord(models.Model):
    """One care step done on an item (append-only)."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="care_records")
    step = models.CharField(_("step"), max_length=16)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("care record")
        verbose_name_plural = _("care records")
        constraints = [models.UniqueConstraint(fields=["item", "step"], name="one_care_record_per_step")]

    def __str__(self):
        return f"{self.step} · {self.item_id}"


class AuthenticationReport(models.Model):
    """The authenticator's findings, published on the item's report page."""

    class Result(models.TextChoices):
        PASS = "pass", _("Authentic")
        FAIL = "fail", _("Not authentic")

    item = models.OneToOneField(Item, on_delete=models.PROTECT, related_name="authentication_report")
    result = models.CharField(_("result"), max_length=8, choices=Result.choices)
    # [{"point": "stitching", "finding": "even, 10 per inch", "ok": true}, ...]
    checks = models.JSONField(_("what was checked"), default=list)
    notes = models.TextField(_("authenticator's notes"), blank=True, max_length=2000)
    authenticator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("authentication report")
        verbose_name_plural = _("authentication reports")
        permissions = []

    def __str__(self):
        return f"{self.get_result_display()} · {self.item_id}"


class StationSetting(models.Model):
    """Service-level target per station, editable by the owner."""

    station = models.CharField(_("station"), max_length=16, choices=Station.choices, unique=True)
    sla_hours = models.PositiveIntegerField(_("target (hours)"))

    class Meta:
        verbose_name = _("station target")
        verbose_name_plural = _("station targets")
        permissions = [
            ("work_prescreen", _("Can pre-screen submissions")),
            ("work_receive", _("Can receive parcels")),
            ("work_grade", _("Can inspect and grade")),
            ("work_authenticate", _("Can authenticate")),
            ("work_care", _("Can clean and care for items")),
            ("work_photograph", _("Can photograph items")),
            ("work_price", _("Can price items")),
            ("work_returns", _("Can return items to sellers")),
            ("record_loss", _("Can record an item lost or damaged")),
        ]

    def __str__(self):
        return f"{self.get_station_display()}: {self.sla_hours} h"
