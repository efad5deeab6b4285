"""Experts (达人): applications with a portfolio, reviewed against written standards; expert profiles with a level;
referral attribution and the commissions it earns.

Lifecycles go through `core.states.transition` with an audit row per move:
an application is submitted → approved | rejected, or withdrawn by its
applicant; an expert is active ⇄ suspended. Level changes are their own
append-only record (`ExpertLevelChange`), the first one written when the
application is approved.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erhuo.core.models import AppendOnlyError, AuditTransition, TimeStampedModel
from erhuo.core.money import MoneyField
from erhuo.experts.levels import Level


class Specialty(models.TextChoices):
    LUXURY_BAGS = "luxury_bags", _("Luxury bags")
    KIDS_STYLING = "kids_styling", _("Kids' styling")
    OFFICE_WEAR = "office_wear", _("Office wear")
    BABY_GOODS = "baby_goods", _("Baby and mother goods")
    AUTHENTICATION = "authentication", _("Authentication know-how")
    CARE = "care", _("Care and cleaning")
    ACCESSORIES = "accessories", _("Accessories")
    PLUS_SIZE = "plus_size", _("Plus-size styling")
    MATERNITY = "maternity", _("Maternity wear")
    VINTAGE = "vintage", _("Vintage")


def specialty_labels(codes) -> list[str]:
    labels = dict(Specialty.choices)
    return [str(labels[code]) for code in codes or () if code in labels]


class ExpertApplication(TimeStampedModel):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Under review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    TRANSITIONS = {
        Status.SUBMITTED: {Status.APPROVED, Status.REJECTED, Status.WITHDRAWN},
        Status.APPROVED: set(),
        Status.REJECTED: set(),
        Status.WITHDRAWN: set(),
    }
    OPEN_STATUSES = (Status.SUBMITTED,)

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="expert_applications",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    style_focus = models.CharField(_("style focus"), max_length=200)
    # A list of `Specialty` codes, validated by the service (a JSON list keeps the directory filter one column).
    specialties = models.JSONField(_("specialties"), default=list)
    experience = models.TextField(_("experience"))
    years_experience = models.PositiveSmallIntegerField(_("years of experience"))
    links = models.JSONField(_("links"), default=list, blank=True)
    # The reviewer's checklist: {standard code: met?} for every code in `standards.STANDARDS`.
    checklist = models.JSONField(_("checklist"), default=dict, blank=True)
    level = models.CharField(_("level assigned"), max_length=16, choices=Level.choices, blank=True)
    decision_note = models.TextField(_("reviewer's note"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("expert application")
        verbose_name_plural = _("expert applications")
        permissions = [("review_application", _("Can review expert applications and change expert levels"))]
        constraints = [
            # One open application per member, decided by the database when two submissions race.
            models.UniqueConstraint(
                fields=["applicant"], condition=models.Q(status="submitted"), name="one_open_expert_application"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="expert_application_queue")]

    def __str__(self):
        return f"#{self.pk} {self.applicant_id} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def specialty_labels(self) -> list[str]:
        return specialty_labels(self.specialties)


class ExpertApplicationTransition(AuditTransition):
    subject = models.ForeignKey(ExpertApplication, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("expert application status change")
        verbose_name_plural = _("expert application status changes")


class PortfolioPhoto(models.Model):
    application = models.ForeignKey(ExpertApplication, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="experts/portfolio/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="experts/portfolio/%Y/%m/", blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("portfolio photo")
        verbose_name_plural = _("portfolio photos")

    def __str__(self):
        return f"{self.application_id}/{self.position}"

    @property
    def thumb_url(self) -> str:
        return (self.thumbnail or self.image).url


class Expert(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    TRANSITIONS = {
        Status.ACTIVE: {Status.SUSPENDED},
        Status.SUSPENDED: {Status.ACTIVE},
    }

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("member"), on_delete=models.PROTECT, related_name="expert"
    )
    application = models.OneToOneField(
        ExpertApplication,
        verbose_name=_("approved application"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="expert",
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, default=Level.TRAINEE)
    specialties = models.JSONField(_("specialties"), default=list)
    bio = models.TextField(_("about the expert"), blank=True, max_length=600)
    referral_code = models.CharField(_("referral code"), max_length=16, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    joined_at = models.DateTimeField(_("expert since"))

    class Meta:
        ordering = ["-joined_at", "-pk"]
        verbose_name = _("expert")
        verbose_name_plural = _("experts")
        indexes = [models.Index(fields=["status", "level"], name="expert_directory")]

    def __str__(self):
        return f"{self.user_id} {self.level}"

    @property
    def specialty_labels(self) -> list[str]:
        return specialty_labels(self.specialties)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class ExpertTransition(AuditTransition):
    subject = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("expert status change")
        verbose_name_plural = _("expert status changes")


class ExpertLevelChange(models.Model):
    """Append-only: every level an expert was given, by whom and why (the first one at approval)."""

    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="level_changes")
    from_level = models.CharField(_("from level"), max_length=16, choices=Level.choices, blank=True)
    to_level = models.CharField(_("to level"), max_length=16, choices=Level.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("expert level change")
        verbose_name_plural = _("expert level changes")

    def __str__(self):
        return f"{self.expert_id} {self.from_level or '-'}→{self.to_level}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("expert level changes are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("expert level changes are append-only")


class ExpertPolicy(models.Model):
    """The one row (pk=1) of commission shares and the attribution window. Read with `selectors.policy()`."""

    trainee_bps = models.PositiveIntegerField(_("trainee share (basis points)"), default=200)
    certified_bps = models.PositiveIntegerField(_("certified share (basis points)"), default=400)
    gold_bps = models.PositiveIntegerField(_("gold share (basis points)"), default=600)
    attribution_window_days = models.PositiveSmallIntegerField(_("attribution window (days)"), default=30)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("expert policy")
        verbose_name_plural = _("expert policy")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="expert_policy_singleton")]

    def __str__(self):
        return str(_("Expert policy"))

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    def bps_for(self, level: str) -> int:
        return {Level.TRAINEE: self.trainee_bps, Level.CERTIFIED: self.certified_bps, Level.GOLD: self.gold_bps}[level]

    @property
    def shares(self) -> dict[str, int]:
        return {level: self.bps_for(level) for level in Level.values}


class ReferralAttribution(models.Model):
    """One touch of a buyer by an expert: a referral link visited, or (later) a group the buyer came from.

    The buyer's live attribution is the latest touch (`created_at`) whose
    window has not closed (`expires_at`): last touch wins. `created_at` is the
    time of the touch, which for a link visited before logging in is the
    visit, not the login.
    """

    class Source(models.TextChoices):
        LINK = "link", _("Referral link")
        GROUP = "group", _("Group")

    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("buyer"),
        on_delete=models.CASCADE,
        related_name="referral_attributions",
    )
    expert = models.ForeignKey(Expert, verbose_name=_("expert"), on_delete=models.PROTECT, related_name="attributions")
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    # Groups come with the community app (a later issue): a plain id until then, never a foreign key upwards.
    group_id = models.BigIntegerField(_("group"), null=True, blank=True)
    created_at = models.DateTimeField(_("touched at"), db_index=True)
    expires_at = models.DateTimeField(_("expires at"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("referral attribution")
        verbose_name_plural = _("referral attributions")
        indexes = [models.Index(fields=["buyer", "-created_at"], name="attribution_buyer_latest")]

    def __str__(self):
        return f"{self.buyer_id}←{self.expert_id} ({self.source})"


class ExpertCommission(models.Model):
    """The commission an expert earned on one sale, and the ledger entry that owes it to her."""

    expert = models.ForeignKey(Expert, verbose_name=_("expert"), on_delete=models.PROTECT, related_name="commissions")
    sale_reference = models.CharField(_("sale"), max_length=80, unique=True)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("buyer"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    attribution = models.ForeignKey(
        ReferralAttribution, verbose_name=_("attribution"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(_("source"), max_length=8, choices=ReferralAttribution.Source.choices)
    sale_amount_fen = MoneyField(_("sale amount"))
    bps = models.PositiveIntegerField(_("share (basis points)"))
    amount_fen = MoneyField(_("commission"))
    entry = models.ForeignKey(
        "ledger.JournalEntry", verbose_name=_("journal entry"), on_delete=models.PROTECT, related_name="+"
    )
    reversal_entry = models.ForeignKey(
        "ledger.JournalEntry",
        verbose_name=_("reversal entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("expert commission")
        verbose_name_plural = _("expert commissions")

    def __str__(self):
        return f"{self.sale_reference} → {self.expert_id}: {self.amount_fen}"

    @property
    def is_reversed(self) -> bool:
        return self.reversed_at is not None
