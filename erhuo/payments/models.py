"""Payments: one record per charge, whatever the provider, and its refunds.

`payments` knows nothing of what is being paid for: a payment carries a
`purpose` ("deposit", "order") and a `reference` the paying app
understands. When a payment succeeds, the money is posted to the ledger
(provider cash → payments clearing) and `payment_succeeded` is emitted
after commit; the app that asked for the payment allocates it.

A refund gives part or all of a succeeded payment back through the same
provider. The app asking for it has already moved the money back into
payments clearing; when the provider confirms, clearing → provider cash is
posted and `refund_succeeded` is emitted (ADR 9).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erhuo.core.models import AppendOnlyQuerySet, AuditTransition, TimeStampedModel
from erhuo.core.storage import private_storage


class Provider(models.TextChoices):
    MANUAL = "manual", _("Transfer to the group's account (confirmed by finance)")
    SANDBOX = "sandbox", _("Sandbox (demo and tests)")
    ALIPAY = "alipay", _("Alipay")
    WECHAT = "wechat", _("WeChat Pay")


class Payment(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        SUBMITTED = "submitted", _("Proof sent, waiting for finance")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Not received")
        CANCELLED = "cancelled", _("Cancelled")

    S = Status
    TRANSITIONS = {
        S.PENDING: {S.SUBMITTED, S.SUCCEEDED, S.FAILED, S.CANCELLED},
        S.SUBMITTED: {S.SUBMITTED, S.SUCCEEDED, S.FAILED, S.CANCELLED},
        S.SUCCEEDED: set(),
        S.FAILED: set(),
        S.CANCELLED: set(),
    }
    OPEN = (S.PENDING, S.SUBMITTED)

    payer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    amount_fen = models.BigIntegerField(_("amount"))
    purpose = models.CharField(_("purpose"), max_length=32, db_index=True)
    reference = models.CharField(_("reference"), max_length=80, db_index=True)
    description = models.CharField(_("what for"), max_length=120)
    provider = models.CharField(_("payment method"), max_length=16, choices=Provider.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    status_changed_at = models.DateTimeField(_("status since"), auto_now_add=True)
    # A client retrying the same request gets the same payment back.
    idempotency_key = models.CharField(_("idempotency key"), max_length=80, null=True, blank=True)
    provider_reference = models.CharField(_("provider's transaction id"), max_length=80, blank=True)
    proof = models.ImageField(
        _("transfer proof"), upload_to="payments/proofs/%Y/%m/", storage=private_storage, blank=True
    )
    payer_note = models.CharField(_("payer's note"), max_length=200, blank=True)
    # Where the payer goes back to after paying (a local path, checked when set).
    return_path = models.CharField(max_length=200, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        permissions = [("confirm_manual_payment", _("Can confirm manual transfers"))]
        constraints = [
            models.UniqueConstraint(
                fields=["payer", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="payment_idempotency_key_per_payer",
            ),
            models.CheckConstraint(condition=models.Q(amount_fen__gt=0), name="payment_amount_positive"),
        ]
        indexes = [models.Index(fields=["status", "provider", "created_at"], name="payment_queue")]

    def __str__(self):
        return f"#{self.pk} {self.purpose} {self.amount_fen} fen ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class PaymentTransition(AuditTransition):
    subject = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("payment status change")
        verbose_name_plural = _("payment status changes")


class PaymentNotification(models.Model):
    """Every notification a provider sent us, verified or not; its event key is applied once."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        DUPLICATE = "duplicate", _("Already applied")
        REJECTED = "rejected", _("Rejected")

    provider = models.CharField(max_length=16, choices=Provider.choices)
    # Unique per provider event: a replay finds its row and changes nothing.
    event_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications")
    # Set for a provider's refund notification (the payment is the refund's).
    refund = models.ForeignKey(
        "payments.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    detail = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")

    def __str__(self):
        return f"{self.provider} {self.event_key} {self.outcome}"


class Refund(TimeStampedModel):
    """Money of a succeeded payment going back to its payer, through the payment's provider."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being refunded")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Refund failed")

    S = Status
    TRANSITIONS = {
        S.PENDING: {S.SUCCEEDED, S.FAILED},
        S.SUCCEEDED: set(),
        S.FAILED: set(),
    }

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_fen = models.BigIntegerField(_("amount"))
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    status_changed_at = models.DateTimeField(_("status since"), auto_now_add=True)
    # The asking app's key: asking again with it returns this refund instead of paying twice.
    key = models.CharField(_("idempotency key"), max_length=120, unique=True, null=True, blank=True)
    provider_reference = models.CharField(_("provider's refund id"), max_length=80, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    succeeded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    # Calls made to the provider (Alipay, WeChat Pay); a pending refund is asked again later.
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_fen__gt=0), name="refund_amount_positive"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="refund_queue")]

    def __str__(self):
        return f"refund #{self.pk} of payment #{self.payment_id}: {self.amount_fen} fen ({self.status})"


class RefundTransition(AuditTransition):
    subject = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("refund status change")
        verbose_name_plural = _("refund status changes")
