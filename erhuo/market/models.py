"""Claims (接龙), orders, returns and buyer shows.

A claim is a member's place in the queue for one unique item. The first
claim reserves the item (the item moves listed → reserved by one
conditional UPDATE) for a payment window; later claims queue in the order
the database accepted them (`seq`). When a reservation ends without a
purchase, the next in line is offered the item with a fresh window.

An order gathers one or more reserved items for one buyer, with one
shipping fee. Its money is held in escrow in the ledger from payment until
completion, when it is split into the seller's payable amount, the
platform's commission and the service fees, by the breakdown frozen on
each order line when the order was made.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erhuo.catalog.models import Item
from erhuo.core.models import AuditTransition, TimeStampedModel
from erhuo.core.pii import EncryptedTextField
from erhuo.core.storage import private_storage


class Claim(TimeStampedModel):
    class Status(models.TextChoices):
        QUEUED = "queued", _("In the queue")
        RESERVED = "reserved", _("Reserved for you")
        PURCHASED = "purchased", _("Bought")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Not paid in time")
        CLOSED = "closed", _("Sold to someone else")

    S = Status
    TRANSITIONS = {
        S.QUEUED: {S.RESERVED, S.WITHDRAWN, S.CLOSED},
        S.RESERVED: {S.PURCHASED, S.WITHDRAWN, S.EXPIRED},
        S.PURCHASED: set(),
        S.WITHDRAWN: set(),
        S.EXPIRED: set(),
        S.CLOSED: set(),
    }
    LIVE = (S.QUEUED, S.RESERVED)

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="claims")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims")
    # The order the database accepted the claims of one item in: the queue is fair by it.
    seq = models.PositiveIntegerField(_("place taken"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, db_index=True)
    status_changed_at = models.DateTimeField(_("status since"), auto_now_add=True)
    reserved_at = models.DateTimeField(_("reserved at"), null=True, blank=True)
    reserved_until = models.DateTimeField(_("pay by"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["item_id", "seq"]
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        constraints = [
            models.UniqueConstraint(fields=["item", "seq"], name="claim_seq_per_item"),
            models.UniqueConstraint(
                fields=["item", "member"],
                condition=Q(status__in=["queued", "reserved"]),
                name="one_live_claim_per_member",
            ),
            models.UniqueConstraint(fields=["item"], condition=Q(status="reserved"), name="one_reservation_per_item"),
        ]
        indexes = [models.Index(fields=["member", "status"], name="claim_member_status")]

    def __str__(self):
        return f"claim #{self.pk} item {self.item_id} by {self.member_id} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE


class ClaimTransition(AuditTransition):
    subject = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("claim status change")
        verbose_name_plural = _("claim status changes")


class Order(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Waiting for payment")
        PAID = "paid", _("Paid")
        PACKED = "packed", _("Packed")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    class Fulfilment(models.TextChoices):
        PLATFORM = "platform", _("Shipped by the platform")
        SELF_SHIP = "self_ship", _("Shipped by the seller")

    S = Status
    TRANSITIONS = {
        S.PENDING_PAYMENT: {S.PAID, S.CANCELLED},
        S.PAID: {S.PACKED, S.SHIPPED, S.REFUNDED},
        S.PACKED: {S.SHIPPED, S.REFUNDED},
        S.SHIPPED: {S.DELIVERED, S.REFUNDED},
        S.DELIVERED: {S.COMPLETED, S.REFUNDED},
        S.COMPLETED: set(),
        S.CANCELLED: set(),
        S.REFUNDED: set(),
    }
    # Orders whose money is (or will be) in escrow.
    OPEN_PAID = (S.PAID, S.PACKED, S.SHIPPED, S.DELIVERED)

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT, db_index=True
    )
    status_changed_at = models.DateTimeField(_("status since"), auto_now_add=True)
    fulfilment = models.CharField(_("fulfilment"), max_length=16, choices=Fulfilment.choices)
    # The seller who ships a self-ship order herself (one seller per such order).
    shipper = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="orders_to_ship"
    )
    items_fen = models.BigIntegerField(_("items"))
    shipping_fen = models.BigIntegerField(_("shipping"), default=0)
    discount_fen = models.BigIntegerField(_("discount"), default=0)
    total_fen = models.BigIntegerField(_("total"))
    # The payment that paid the order (others that succeed too, late or twice, are refunded).
    payment = models.ForeignKey("payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    paid_fen = models.BigIntegerField(_("paid"), default=0)
    refunded_fen = models.BigIntegerField(_("refunded"), default=0)
    # The address, copied when the order is made: a later change of the address book does not move a parcel.
    recipient_name = EncryptedTextField(_("recipient"))
    recipient_phone = EncryptedTextField(_("recipient phone"))
    region = models.CharField(_("region"), max_length=64)
    address_detail = EncryptedTextField(_("street address"))
    buyer_note = models.CharField(_("note to the seller"), max_length=200, blank=True)
    pay_by = models.DateTimeField(_("pay by"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    ship_by = models.DateTimeField(_("ship by"), null=True, blank=True, db_index=True)
    carrier = models.CharField(_("carrier"), max_length=30, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=40, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    complete_after = models.DateTimeField(_("confirmed automatically after"), null=True, blank=True, db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_reason = models.CharField(_("why it ended"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        permissions = [
            ("fulfil_order", _("Can pack, ship and deliver orders")),
            ("manage_order", _("Can cancel and refund orders")),
            ("view_all_orders", _("Can see every order")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_fen=models.F("items_fen") + models.F("shipping_fen") - models.F("discount_fen")),
                name="order_total_adds_up",
            ),
            models.CheckConstraint(condition=Q(total_fen__gt=0), name="order_total_positive"),
            models.CheckConstraint(
                condition=Q(refunded_fen__lte=models.F("paid_fen")), name="order_refund_within_paid"
            ),
        ]
        indexes = [models.Index(fields=["buyer", "-created_at"], name="order_buyer_recent")]

    def __str__(self):
        return f"order #{self.pk} ({self.status})"

    @property
    def reference(self) -> str:
        return f"order:{self.pk}"

    @property
    def number(self) -> str:
        # The day as members read it (Beijing time), not UTC's.
        return f"EH{timezone.localtime(self.created_at):%y%m%d}{self.pk:06d}" if self.created_at else f"EH{self.pk:06d}"

    @property
    def held_fen(self) -> int:
        return self.paid_fen - self.refunded_fen


class OrderTransition(AuditTransition):
    subject = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="order_lines")
    # A reservation may outlive an order that was cancelled (another item of it was withdrawn) and go into a
    # new one: one live line per claim (the constraint below), any number of ended ones.
    claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.PROTECT, related_name="order_lines")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sold_lines")
    title = models.CharField(_("title"), max_length=80)
    price_fen = models.BigIntegerField(_("price"))
    # A gift of a buy-with-gift activity: price 0, nothing to split.
    is_gift = models.BooleanField(_("gift"), default=False)
    # The seller's breakdown, frozen when the order was made (pricing.fees).
    commission_fen = models.BigIntegerField(_("commission"), default=0)
    service_fees_fen = models.BigIntegerField(_("service fees"), default=0)
    seller_net_fen = models.BigIntegerField(_("to the seller"), default=0)
    breakdown = models.JSONField(_("breakdown"), default=dict, blank=True)
    refunded_fen = models.BigIntegerField(_("refunded"), default=0)
    # False once the order ends without a sale: the item may be sold again.
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order_id", "pk"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["item"], condition=Q(active=True), name="one_live_order_line_per_item"),
            models.UniqueConstraint(fields=["claim"], condition=Q(active=True), name="one_live_order_line_per_claim"),
            models.CheckConstraint(
                condition=Q(is_gift=True)
                | Q(seller_net_fen=models.F("price_fen") - models.F("commission_fen") - models.F("service_fees_fen")),
                name="line_breakdown_adds_up",
            ),
        ]

    def __str__(self):
        return f"{self.title} · {self.price_fen}"

    @property
    def reference(self) -> str:
        return f"order-line:{self.pk}"


class ReturnRequest(TimeStampedModel):
    class Reason(models.TextChoices):
        NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
        COUNTERFEIT = "counterfeit", _("I believe it is counterfeit")
        DAMAGED = "damaged", _("Damaged in transit")
        WRONG_ITEM = "wrong_item", _("Wrong item sent")
        SIZE = "size", _("Does not fit")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting for customer service")
        REFUNDED = "refunded", _("Refunded in full")
        PARTIAL = "partial", _("Partly refunded")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn by the buyer")

    S = Status
    TRANSITIONS = {
        S.REQUESTED: {S.REFUNDED, S.PARTIAL, S.REJECTED, S.WITHDRAWN},
        S.REFUNDED: set(),
        S.PARTIAL: set(),
        S.REJECTED: set(),
        S.WITHDRAWN: set(),
    }
    # Reasons that, when proven, are the seller's fault and charged to her deposit.
    SELLER_FAULT = (Reason.NOT_AS_DESCRIBED, Reason.COUNTERFEIT, Reason.WRONG_ITEM)

    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="returns")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="return_requests")
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    description = models.TextField(_("what is wrong"), max_length=1000)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    status_changed_at = models.DateTimeField(_("status since"), auto_now_add=True)
    refund_fen = models.BigIntegerField(_("refunded"), default=0)
    deposit_charged_fen = models.BigIntegerField(_("charged to the seller's deposit"), default=0)
    decision = models.TextField(_("decision"), blank=True, max_length=2000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("return request")
        verbose_name_plural = _("return requests")
        permissions = [("decide_return", _("Can decide returns and disputes"))]
        constraints = [
            models.UniqueConstraint(fields=["line"], condition=Q(status="requested"), name="one_open_return_per_line"),
        ]

    def __str__(self):
        return f"return #{self.pk} ({self.status})"


class ReturnTransition(AuditTransition):
    subject = models.ForeignKey(ReturnRequest, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("return step")
        verbose_name_plural = _("return steps")


class ReturnPhoto(models.Model):
    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="returns/%Y/%m/", storage=private_storage)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"return photo {self.pk}"


class BuyerShow(TimeStampedModel):
    """买家秀: the buyer's rating, words and photos of what she bought."""

    line = models.OneToOneField(OrderLine, on_delete=models.PROTECT, related_name="buyer_show")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="buyer_shows")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="buyer_shows")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shows_received")
    stars = models.PositiveSmallIntegerField(_("stars"))
    text = models.TextField(_("what she says"), max_length=1000, blank=True)
    hidden = models.BooleanField(_("hidden by an operator"), default=False)
    hidden_reason = models.CharField(_("why hidden"), max_length=200, blank=True)
    featured_at = models.DateTimeField(_("featured in the groups"), null=True, blank=True, db_index=True)
    featured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("buyer show")
        verbose_name_plural = _("buyer shows")
        permissions = [("moderate_buyer_show", _("Can hide and feature buyer shows"))]
        constraints = [models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="show_stars_1_to_5")]

    def __str__(self):
        return f"show #{self.pk} {self.stars}★"


class BuyerShowPhoto(models.Model):
    show = models.ForeignKey(BuyerShow, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="shows/%Y/%m/")
    thumbnail = models.ImageField(upload_to="shows/thumbs/%Y/%m/", blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"show photo {self.pk}"
