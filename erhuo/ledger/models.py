"""Double-entry ledger: accounts, balanced journal entries, append-only postings.

A journal entry is a set of postings whose amounts sum to zero. A posting's
amount is signed: positive is a debit, negative a credit. An account keeps
its balance on its normal side (`balance_fen`): debits minus credits for
assets and expenses, credits minus debits for liabilities, income and
equity, so a seller's deposit held is a positive liability balance.

Entries and postings are never changed or deleted; a mistake is corrected
by a reversing entry. `balance_fen` is the only column that changes, and
only inside `services.entry_post`, under a row lock, with F() expressions.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erhuo.core.models import AppendOnlyError, AppendOnlyQuerySet


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
