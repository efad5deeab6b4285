"""Double-entry ledger: accounts, balanced journal entries, append-only postings.

A journal entry is a set of postings whose amounts sum to zero. A posting's
amount is signed: positive is a debit, negative a credit. An account keeps
its balance on its normal side (`balance_fen`): debits minus credits for
assets and expenses, credits minus debits for liabilities, income and
equity, so a seller's deposit held is a positive liability balance.

Entries and postings are never changed or deleted; a mistake is corrected
by a reversing entry. `balance_fen` is the only column that changes, and
only inside `services.entry_post`, under a row lock, with F() expressions.

Payouts (`PayoutBatch`, `PayoutLine`) move what payees are owed to
`payouts:in_transit` and then out of the bank; see `payouts.py`.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erhuo.core.models import AppendOnlyError, AppendOnlyQuerySet, AuditTransition, TimeStampedModel


class Account(models.Model):
    class Kind(models.TextChoices):
        ASSET = "asset", _("Asset")
        LIABILITY = "liability", _("Liability")
        EQUITY = "equity", _("Equity")
        INCOME = "income", _("Income")
        EXPENSE = "expense", _("Expense")

    DEBIT_NORMAL = {Kind.ASSET, Kind.EXPENSE}

    code = models.CharField(_("code"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    balance_fen = models.BigIntegerField(_("balance"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        permissions = [("view_ledger", _("Can view the ledger and reconciliation"))]

    def __str__(self):
        return f"{self.code} · {self.name}"

    @property
    def is_debit_normal(self) -> bool:
        return self.kind in self.DEBIT_NORMAL

    def normal_amount(self, signed_amount_fen: int) -> int:
        """A posting's effect on this account's normal-side balance."""
        return signed_amount_fen if self.is_debit_normal else -signed_amount_fen


class JournalEntry(models.Model):
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    # What the money is about, e.g. "payment:12" or "deposit:7"; several entries may share one.
    reference = models.CharField(_("reference"), max_length=80, blank=True, db_index=True)
    # Idempotency: an event that may be delivered twice posts once.
    key = models.CharField(_("idempotency key"), max_length=120, unique=True, null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")

    def __str__(self):
        return f"#{self.pk} {self.kind} {self.reference}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("journal entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("journal entries are append-only")


class Posting(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount_fen = models.BigIntegerField(_("amount (debit +, credit −)"))
    # The account's normal-side balance right after this posting: a statement line needs no running sum.
    balance_after_fen = models.BigIntegerField(_("balance after"))
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["account", "-id"], name="posting_account_recent")]
        verbose_name = _("posting")
        verbose_name_plural = _("postings")

    def __str__(self):
        return f"{self.account.code} {self.amount_fen:+d}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("postings are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("postings are append-only")

    @property
    def normal_amount_fen(self) -> int:
        return self.account.normal_amount(self.amount_fen)


class PayoutBatch(TimeStampedModel):
    """One run of payouts: every payee owed enough at that moment gets one line for her whole balance.

    Creating the batch moves each line's money from the payee's payable
    account to `payouts:in_transit`; the batch stays open until finance has
    settled every line (paid with the bank's reference, or failed and the
    money put back), then it is closed as paid, partly paid or failed.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        PARTLY_PAID = "partly_paid", _("Partly paid (some transfers failed)")
        FAILED = "failed", _("Not paid (every transfer failed)")

    S = Status
    TRANSITIONS = {
        S.OPEN: {S.PAID, S.PARTLY_PAID, S.FAILED},
        S.PAID: set(),
        S.PARTLY_PAID: set(),
        S.FAILED: set(),
    }

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    status_changed_at = models.DateTimeField(_("status since"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        permissions = [("manage_payouts", _("Can create payout batches and confirm or fail payouts"))]

    def __str__(self):
        return f"payout batch #{self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class PayoutBatchTransition(AuditTransition):
    subject = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("payout batch status change")
        verbose_name_plural = _("payout batch status changes")


class PayoutLine(TimeStampedModel):
    """What one payee gets in one batch: the whole balance of one payable account at the batch's creation."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To transfer")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed (money put back)")

    S = Status
    TRANSITIONS = {
        S.PENDING: {S.PAID, S.FAILED},
        S.PAID: set(),
        S.FAILED: set(),
    }

    batch = models.ForeignKey(PayoutBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="lines")
    payee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("payee"), on_delete=models.PROTECT, related_name="payout_lines"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("paid from account"), on_delete=models.PROTECT, related_name="payout_lines"
    )
    amount_fen = models.BigIntegerField(_("amount"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    status_changed_at = models.DateTimeField(_("status since"), auto_now_add=True)
    # The bank's or Alipay's transaction number, as finance copies it from the transfer.
    reference = models.CharField(_("transfer reference"), max_length=120, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    failure_reason = models.CharField(_("why the transfer failed"), max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_fen__gt=0), name="payout_line_amount_positive"),
            # An account's money is in transit at most once: a second batch cannot pay it again.
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status="pending"),
                name="payout_line_one_pending_per_account",
            ),
        ]
        indexes = [models.Index(fields=["payee", "-created_at"], name="payout_line_payee_recent")]

    def __str__(self):
        return f"payout line #{self.pk} {self.amount_fen} fen ({self.status})"

    @property
    def reference_key(self) -> str:
        """The journal reference shared by this line's entries (batched, paid or failed)."""
        return f"payout-line:{self.pk}"


class PayoutLineTransition(AuditTransition):
    subject = models.ForeignKey(PayoutLine, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("payout line status change")
        verbose_name_plural = _("payout line status changes")
