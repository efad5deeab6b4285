"""Seller deposits (保证金): what is at stake, what was deducted and why, and returns.

The money itself lives only in the ledger: a seller's deposit is the
balance of her liability account `deposit:<user_id>`
(`ledger.accounts.deposit_account`). These models hold what the ledger
cannot say: the policy (how much each level must keep), each deduction's
decision with its evidence, and each return request with its lifecycle.
Every deduction and every paid return points at the journal entry that
moved the money, so the two records can be checked against each other.

    DepositReturn:  requested ──► paid
                        └───────► cancelled
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from erhuo.core.models import AppendOnlyError, AppendOnlyQuerySet, AuditTransition, TimeStampedModel
from erhuo.core.money import MoneyField
from erhuo.core.storage import private_storage

__all__ = [
    "DepositDeduction",
    "DepositEvidencePhoto",
    "DepositPolicy",
    "DepositReturn",
    "DepositReturnTransition",
]

# ¥10,000: no level needs more; a larger figure in the admin is a typo.
MAX_REQUIRED_DEPOSIT_FEN = 1_000_000


class DepositPolicy(models.Model):
    """How much deposit each seller level must keep: one row (pk=1), edited by the owner in the admin.

    A seller with a better record has less at stake: trust earned lowers the deposit.
    """

    SINGLETON_PK = 1

    new_seller_fen = MoneyField(
        _("new seller"),
        default=30_000,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_REQUIRED_DEPOSIT_FEN)],
        help_text=_("In fen: 30000 is ¥300."),
    )
    trusted_seller_fen = MoneyField(
        _("trusted seller"),
        default=20_000,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_REQUIRED_DEPOSIT_FEN)],
        help_text=_("In fen: 20000 is ¥200."),
    )
    top_seller_fen = MoneyField(
        _("top seller"),
        default=10_000,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_REQUIRED_DEPOSIT_FEN)],
        help_text=_("In fen: 10000 is ¥100."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("deposit policy")
        verbose_name_plural = _("deposit policy")

    def __str__(self):
        return str(_("Deposit policy"))

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("the deposit policy is edited, never deleted")

    @classmethod
    def current(cls) -> "DepositPolicy":
        policy, _created = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return policy

    def required_fen(self, level: str) -> int:
        """The deposit a seller of `level` ("new", "trusted", "top") must keep; an unknown level counts as new."""
        return {"trusted": self.trusted_seller_fen, "top": self.top_seller_fen}.get(level, self.new_seller_fen)


class DepositDeduction(models.Model):
    """A part of a seller's deposit forfeited for a proven violation: the decision, its evidence, its entry.

    Append-only: a deduction made in error is corrected by a new entry in the
    ledger (and a note), never by editing this row.
    """

    class Violation(models.TextChoices):
        MISREPRESENTATION = "misrepresentation", _("Item not as described")
        COUNTERFEIT = "counterfeit", _("Counterfeit item")
        MISSED_SHIPPING = "missed_shipping", _("Did not ship on time")
        OTHER = "other", _("Another violation of the community rules")

    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("seller"), on_delete=models.PROTECT, related_name="deposit_deductions"
    )
    amount_fen = models.BigIntegerField(_("amount"))
    violation = models.CharField(_("violation"), max_length=24, choices=Violation.choices)
    decision = models.TextField(_("decision"), max_length=2000)
    # Trust sits below consignment: the item is named by plain values, not a foreign key.
    item_id = models.PositiveBigIntegerField(_("item id"), null=True, blank=True)
    label_code = models.CharField(_("label code"), max_length=20, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, related_name="+"
    )
    entry = models.OneToOneField(
        "ledger.JournalEntry",
        verbose_name=_("journal entry"),
        on_delete=models.PROTECT,
        related_name="deposit_deduction",
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("deposit deduction")
        verbose_name_plural = _("deposit deductions")
        permissions = [("decide_deposit_deduction", _("Can deduct from a seller's deposit for a proven violation"))]
        constraints = [models.CheckConstraint(condition=models.Q(amount_fen__gt=0), name="deduction_amount_positive")]

    def __str__(self):
        return f"{self.seller_id} −{self.amount_fen} ({self.violation})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("deposit deductions are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("deposit deductions are append-only")


class DepositEvidencePhoto(models.Model):
    """A photo backing a deduction. Served only through a permission-checked view, never by a public URL."""

    deduction = models.ForeignKey(DepositDeduction, on_delete=models.PROTECT, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="trust/deposit-evidence/%Y/%m/", storage=private_storage)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["deduction", "pk"]
        verbose_name = _("deposit evidence photo")
        verbose_name_plural = _("deposit evidence photos")

    def __str__(self):
        return f"evidence {self.pk} of deduction {self.deduction_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("evidence photos are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("evidence photos are append-only")


class DepositReturn(TimeStampedModel):
    """A seller leaving asks for her deposit back; finance transfers it and confirms."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested, waiting for finance")
        PAID = "paid", _("Paid back")
        CANCELLED = "cancelled", _("Cancelled")

    S = Status
    TRANSITIONS = {
        S.REQUESTED: {S.PAID, S.CANCELLED},
        S.PAID: set(),
        S.CANCELLED: set(),
    }

    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("seller"), on_delete=models.PROTECT, related_name="deposit_returns"
    )
    # The balance when requested; once paid, what was actually paid back (the whole balance at that moment).
    amount_fen = models.BigIntegerField(_("amount"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    status_changed_at = models.DateTimeField(_("in this state since"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("paid by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entry = models.OneToOneField(
        "ledger.JournalEntry",
        verbose_name=_("journal entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deposit_return",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("deposit return")
        verbose_name_plural = _("deposit returns")
        permissions = [("confirm_deposit_return", _("Can confirm that a deposit was transferred back"))]
        constraints = [
            models.UniqueConstraint(
                fields=["seller"], condition=models.Q(status="requested"), name="deposit_return_one_open_per_seller"
            ),
            models.CheckConstraint(condition=models.Q(amount_fen__gte=0), name="deposit_return_amount_not_negative"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="deposit_return_queue")]

    def __str__(self):
        return f"{self.seller_id} {self.amount_fen} ({self.status})"

    @property
    def requested_at(self):
        return self.created_at


class DepositReturnTransition(AuditTransition):
    subject = models.ForeignKey(DepositReturn, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("deposit return step")
        verbose_name_plural = _("deposit return steps")
