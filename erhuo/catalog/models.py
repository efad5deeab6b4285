"""The catalog: categories with their rules, brands, items and their photos.

An item is one unique physical thing. Its `status` is its whole lifecycle,
from the seller's submission to completion; the table of allowed moves is
`Item.TRANSITIONS` and every move goes through `core.states.transition`,
which writes an `ItemTransition` row: the item's chain of custody.
Consignment (above this app) drives the pipeline moves and checks the
category rules; market (later) drives reservation and sale.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erhuo.core.models import AuditTransition, TimeStampedModel


class AuthenticationRule(models.TextChoices):
    NEVER = "never", _("Not needed")
    ALWAYS = "always", _("Always")
    ABOVE_VALUE = "above_value", _("Above a declared value")


class CareStep(models.TextChoices):
    INSPECT_CLEAN = "spot_clean", _("Spot clean")
    WASH = "wash", _("Wash")
    DRY_CLEAN = "dry_clean", _("Dry clean")
    STEAM = "steam", _("Steam and press")
    DISINFECT = "disinfect", _("Disinfect")
    LEATHER_CARE = "leather_care", _("Leather care")
    POLISH = "polish", _("Polish")
    REPAIR = "repair", _("Repair")


class Category(models.Model):
    """A node of the category tree, carrying the rules its items follow.

    Rules are inherited: a sub-category with no rule of its own uses its
    parent's (`effective_*` methods).
    """

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(_("name"), max_length=40)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    authentication = models.CharField(
        _("authentication"), max_length=16, choices=AuthenticationRule.choices, blank=True
    )
    authentication_threshold_fen = models.BigIntegerField(
        _("authentication above (fen)"),
        null=True,
        blank=True,
        help_text=_("Declared value from which items are authenticated."),
    )
    care_steps = models.JSONField(_("required care steps"), default=list, blank=True)
    is_returnable = models.BooleanField(_("returnable"), null=True, blank=True)
    return_window_days = models.PositiveSmallIntegerField(_("return window (days)"), null=True, blank=True)
    needs_on_body_photo = models.BooleanField(_("on-body photo required"), null=True, blank=True)
    self_ship_max_fen = models.BigIntegerField(
        _("self-ship up to (fen)"),
        null=True,
        blank=True,
        help_text=_("Items worth at most this may stay with the seller."),
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.path_name

    @property
    def path_name(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    def _inherited(self, attribute: str, default):
        node = self
        while node is not None:
            value = getattr(node, attribute)
            if value not in (None, ""):
                return value
            node = node.parent
        return default

    def effective_authentication(self) -> tuple[str, int | None]:
        rule = self._inherited("authentication", AuthenticationRule.NEVER)
        threshold = self._inherited("authentication_threshold_fen", None)
        return rule, threshold

    def effective_care_steps(self) -> list[str]:
        node = self
        while node is not None:
            if node.care_steps:
                return list(node.care_steps)
            node = node.parent
        return [CareStep.INSPECT_CLEAN]

    def effective_returnable(self) -> bool:
        return bool(self._inherited("is_returnable", True))

    def effective_return_window_days(self) -> int:
        return int(self._inherited("return_window_days", 7))

    def effective_needs_on_body_photo(self) -> bool:
        return bool(self._inherited("needs_on_body_photo", False))

    def effective_self_ship_max_fen(self) -> int:
        return int(self._inherited("self_ship_max_fen", 0))

    def requires_authentication(self, declared_value_fen: int) -> bool:
        rule, threshold = self.effective_authentication()
        if rule == AuthenticationRule.ALWAYS:
            return True
        if rule == AuthenticationRule.ABOVE_VALUE:
            return threshold is not None and declared_value_fen >= threshold
        return False


class Brand(models.Model):
    class Tier(models.TextChoices):
        LUXURY = "luxury", _("Luxury")
        DESIGNER = "designer", _("Designer")
        PREMIUM = "premium", _("Premium")
        MASS = "mass", _("Mass market")

    name = models.CharField(_("name"), max_length=60, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=60, blank=True)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices, default=Tier.MASS)

    class Meta:
        ordering = ["name"]
        verbose_name = _("brand")
        verbose_name_plural = _("brands")

    def __str__(self):
        return f"{self.name} {self.name_zh}".strip()


class Grade(models.TextChoices):
    """The written condition standard shown to everyone."""

    N = "N", _("N · New with tags (全新)")
    S = "S", _("S · Like new, no signs of use (99新)")
    A = "A", _("A · Excellent, faint signs of use (95新)")
    B = "B", _("B · Good, visible light wear (9成新)")
    C = "C", _("C · Fair, defects listed and photographed (8成新)")


class Item(TimeStampedModel):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted, awaiting shipment")
        REJECTED = "rejected", _("Rejected")
        IN_TRANSIT = "in_transit", _("In transit")
        RECEIVED = "received", _("Received")
        GRADED = "graded", _("Inspected and graded")
        AUTHENTICATED = "authenticated", _("Authenticated")
        AUTHENTICATION_FAILED = "authentication_failed", _("Failed authentication")
        CARED = "cared", _("Cleaned and cared for")
        PHOTOGRAPHED = "photographed", _("Photographed")
        PRICED = "priced", _("Priced, awaiting the seller")
        LISTED = "listed", _("Listed")
        RESERVED = "reserved", _("Reserved")
        SOLD = "sold", _("Sold")
        PACKED = "packed", _("Packed")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn by the seller")
        RETURN_TO_SELLER = "return_to_seller", _("Being returned to the seller")
        RETURNED = "returned", _("Returned to the seller")
        DONATED = "donated", _("Donated")
        LOST = "lost", _("Lost or damaged in our care")

    S = Status
    TRANSITIONS = {
        S.SUBMITTED: {S.ACCEPTED, S.REJECTED, S.WITHDRAWN},
        # Self-ship items go from accepted straight to pricing: they stay with the seller.
        S.ACCEPTED: {S.IN_TRANSIT, S.PRICED, S.WITHDRAWN},
        S.IN_TRANSIT: {S.RECEIVED, S.LOST},
        S.RECEIVED: {S.GRADED, S.RETURN_TO_SELLER, S.LOST},
        S.GRADED: {S.AUTHENTICATED, S.AUTHENTICATION_FAILED, S.CARED, S.RETURN_TO_SELLER, S.LOST},
        S.AUTHENTICATED: {S.CARED, S.RETURN_TO_SELLER, S.LOST},
        S.AUTHENTICATION_FAILED: {S.RETURN_TO_SELLER},
        S.CARED: {S.PHOTOGRAPHED, S.RETURN_TO_SELLER, S.LOST},
        S.PHOTOGRAPHED: {S.PRICED, S.RETURN_TO_SELLER, S.LOST},
        S.PRICED: {S.LISTED, S.RETURN_TO_SELLER, S.WITHDRAWN, S.LOST},
        S.LISTED: {S.RESERVED, S.RETURN_TO_SELLER, S.WITHDRAWN, S.DONATED, S.LOST},
        S.RESERVED: {S.LISTED, S.SOLD},
        # An order refunded before it ships puts the item back on sale; a self-ship seller who never
        # shipped has it withdrawn.
        S.SOLD: {S.PACKED, S.SHIPPED, S.LISTED, S.WITHDRAWN},
        S.PACKED: {S.SHIPPED, S.LISTED},
        S.SHIPPED: {S.DELIVERED},
        # A return comes back to the warehouse (received, to be inspected again) or, when it is the
        # seller's fault (counterfeit, not as described), goes back to her.
        S.DELIVERED: {S.COMPLETED, S.RECEIVED, S.RETURN_TO_SELLER},
        S.RETURN_TO_SELLER: {S.RETURNED},
        S.COMPLETED: set(),
        S.REJECTED: set(),
        S.WITHDRAWN: set(),
        S.RETURNED: set(),
        S.DONATED: set(),
        S.LOST: set(),
    }

    class Fulfilment(models.TextChoices):
        PLATFORM = "platform", _("Platform-fulfilled")
        SELF_SHIP = "self_ship", _("Seller ships")

    class Channel(models.TextChoices):
        PLATFORM = "platform", _("Platform (平台款)")
        COMMUNITY = "community", _("Community (社群款)")
        BOTH = "both", _("Both")

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="items")
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="items")
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, null=True, blank=True, related_name="items")
    size = models.CharField(_("size"), max_length=30, blank=True)
    colour = models.CharField(_("colour"), max_length=30, blank=True)
    measurements = models.JSONField(_("measurements (cm)"), default=dict, blank=True)
    original_price_fen = models.BigIntegerField(_("original price"), null=True, blank=True)
    purchase_year = models.PositiveSmallIntegerField(_("year bought"), null=True, blank=True)
    declared_grade = models.CharField(_("condition (seller)"), max_length=1, choices=Grade.choices, blank=True)
    grade = models.CharField(_("condition (inspected)"), max_length=1, choices=Grade.choices, blank=True)
    defects = models.TextField(_("defects"), blank=True, max_length=1000)
    video_url = models.URLField(_("video link"), blank=True)
    fulfilment = models.CharField(
        _("fulfilment"), max_length=16, choices=Fulfilment.choices, default=Fulfilment.PLATFORM
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.BOTH)
    price_fen = models.BigIntegerField(_("price"), null=True, blank=True)
    floor_price_fen = models.BigIntegerField(_("seller's floor price"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    status_changed_at = models.DateTimeField(_("in this step since"), auto_now_add=True, db_index=True)
    listed_at = models.DateTimeField(_("listed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("item")
        verbose_name_plural = _("items")
        indexes = [models.Index(fields=["status", "status_changed_at"]), models.Index(fields=["seller", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_fen__isnull=True) | models.Q(price_fen__gt=0), name="item_price_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(floor_price_fen__isnull=True) | models.Q(floor_price_fen__gt=0),
                name="item_floor_positive",
            ),
        ]

    def __str__(self):
        return self.title

    # The order people read measurements in; PostgreSQL's jsonb does not keep the order they were typed in.
    MEASUREMENT_ORDER = ("肩宽", "胸围", "腰围", "臀围", "衣长", "袖长", "裤长", "裙长", "长", "宽", "高", "直径")

    def measurement_rows(self) -> list[tuple[str, str]]:
        known = {name: position for position, name in enumerate(self.MEASUREMENT_ORDER)}
        return sorted((self.measurements or {}).items(), key=lambda pair: (known.get(pair[0], len(known)), pair[0]))

    @property
    def is_terminal(self) -> bool:
        return not self.TRANSITIONS.get(self.status)


class ItemTransition(AuditTransition):
    """One step of an item's chain of custody."""

    subject = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("item step")
        verbose_name_plural = _("item steps")
        indexes = [models.Index(fields=["subject", "created_at"])]


class ItemPhoto(models.Model):
    class Kind(models.TextChoices):
        SELLER = "seller", _("Seller's photo")
        FLAT = "flat", _("Flat")
        ON_BODY = "on_body", _("On-body")
        DETAIL = "detail", _("Detail")
        DEFECT = "defect", _("Defect")
        AUTHENTICATION = "authentication", _("Authentication evidence")
        CARE = "care", _("Care record")
        RECEIVED = "received", _("On arrival")
        QC = "qc", _("Packing check")

    PUBLIC_KINDS = {Kind.FLAT, Kind.ON_BODY, Kind.DETAIL, Kind.DEFECT}

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    image = models.ImageField(_("image"), upload_to="items/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="items/thumbs/%Y/%m/", blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    caption = models.CharField(_("caption"), max_length=120, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    step = models.ForeignKey(
        ItemTransition,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="photos",
        help_text=_("The step of the chain of custody this photo documents."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("item photo")
        verbose_name_plural = _("item photos")

    def __str__(self):
        return f"{self.get_kind_display()} · {self.item_id}"
