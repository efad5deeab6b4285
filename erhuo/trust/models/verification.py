"""Seller verification: who a seller is, proven once and renewed yearly.

A member applies with her real name, resident ID number, phone, Alipay
account, Sesame credit score and two photos of her ID card. Each
application is one `SellerVerification` row:

    submitted ──► approved ──► expired
        └───────► rejected

There is no row for "not started"; a rejected or expired member applies
again with a new row. Every move goes through `core.states.transition` and
leaves a `SellerVerificationTransition`. Each check (identity, phone,
Alipay, credit) has a `VerificationCheck` row with the provider that ran it
and its result; the default provider leaves it pending for an operator.

Personal data is encrypted at rest (`EncryptedTextField`); the ID number
also keeps a blind index (`id_number_digest`) so that one identity cannot
back two seller accounts, enforced by a partial unique constraint over the
live states (submitted, approved).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erhuo.core.models import AuditTransition, TimeStampedModel
from erhuo.core.pii import EncryptedTextField

__all__ = [
    "IdentityDocument",
    "SellerVerification",
    "SellerVerificationTransition",
    "TrustPolicy",
    "VerificationCheck",
]

SESAME_SCORE_MIN = 350
SESAME_SCORE_MAX = 950


class TrustPolicy(models.Model):
    """The platform's trust settings: one row (pk=1), edited by the owner in the admin."""

    SINGLETON_PK = 1

    min_sesame_score = models.PositiveSmallIntegerField(
        _("minimum Sesame credit score"),
        default=600,
        validators=[MinValueValidator(SESAME_SCORE_MIN), MaxValueValidator(SESAME_SCORE_MAX)],
        help_text=_("Applications below this score are refused at once."),
    )
    verification_valid_days = models.PositiveSmallIntegerField(
        _("verification valid for (days)"),
        default=365,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("After this many days an approved verification expires and the seller applies again."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("trust policy")
        verbose_name_plural = _("trust policy")

    def __str__(self):
        return str(_("Trust policy"))

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "TrustPolicy":
        policy, _created = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return policy


class SellerVerification(TimeStampedModel):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted, under review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")

    class RejectionReason(models.TextChoices):
        ID_UNREADABLE = "id_unreadable", _("The ID photos cannot be read")
        ID_MISMATCH = "id_mismatch", _("The name or ID number does not match the ID card")
        SCORE_TOO_LOW = "score_too_low", _("The Sesame credit score could not be confirmed at the required level")
        ALIPAY_MISMATCH = "alipay_mismatch", _("The Alipay account does not belong to the applicant")
        DUPLICATE_IDENTITY = "duplicate_identity", _("This identity is already used by another account")
        OTHER = "other", _("Another reason (see the note)")

    S = Status
    TRANSITIONS = {
        S.SUBMITTED: {S.APPROVED, S.REJECTED},
        S.APPROVED: {S.EXPIRED},
        S.REJECTED: set(),
        S.EXPIRED: set(),
    }
    # States in which an identity is taken: at most one row per ID number among them.
    LIVE_STATUSES = (S.SUBMITTED, S.APPROVED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="seller_verifications",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    status_changed_at = models.DateTimeField(_("in this state since"), default=timezone.now)
    real_name = EncryptedTextField(_("real name"), blank=True)
    id_number = EncryptedTextField(_("ID number"), blank=True)
    # Blind index: pii_digest("id:" + number). Blank once erased.
    id_number_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # Kept after erasure (see services.verification.personal_data_erase): what the law asks us to keep
    # about a seller we approved, without the whole number.
    real_name_masked = models.CharField(_("real name (masked)"), max_length=40, blank=True)
    id_number_masked = models.CharField(_("ID number (masked)"), max_length=18, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    alipay_account = EncryptedTextField(_("Alipay account"), blank=True)
    sesame_score = models.PositiveSmallIntegerField(
        _("Sesame credit score"),
        validators=[MinValueValidator(SESAME_SCORE_MIN), MaxValueValidator(SESAME_SCORE_MAX)],
    )
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    expires_at = models.DateTimeField(_("valid until"), null=True, blank=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    rejection_reason = models.CharField(
        _("reason for rejection"), max_length=24, choices=RejectionReason.choices, blank=True
    )
    rejection_note = models.TextField(_("note to the member"), blank=True, max_length=500)
    erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("seller verification")
        verbose_name_plural = _("seller verifications")
        permissions = [
            ("review_verification", _("Can review and decide seller verifications")),
            ("view_identity_documents", _("Can see real names, ID numbers and ID photos in full")),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="verification_queue"),
            models.Index(fields=["user", "-created_at"], name="verification_user_latest"),
        ]
        constraints = [
            # One identity backs at most one live application or approval, whatever the race.
            models.UniqueConstraint(
                fields=["id_number_digest"],
                condition=models.Q(status__in=["submitted", "approved"]),
                name="verification_one_live_identity",
            ),
            # One application under review per member.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="submitted"),
                name="verification_one_pending_per_user",
            ),
            models.CheckConstraint(
                condition=models.Q(sesame_score__gte=SESAME_SCORE_MIN, sesame_score__lte=SESAME_SCORE_MAX),
                name="verification_sesame_score_range",
            ),
        ]

    def __str__(self):
        return f"{self.get_status_display()} · {self.user_id}"

    def is_valid_at(self, moment=None) -> bool:
        """Approved and not past its expiry (whether or not the expiry has been recorded yet)."""
        moment = moment or timezone.now()
        return self.status == self.Status.APPROVED and (self.expires_at is None or self.expires_at > moment)

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class SellerVerificationTransition(AuditTransition):
    subject = models.ForeignKey(SellerVerification, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("seller verification step")
        verbose_name_plural = _("seller verification steps")


class VerificationCheck(models.Model):
    """One check of one application, with the provider that ran it and what it found."""

    class Kind(models.TextChoices):
        IDENTITY = "identity", _("Real name and ID card")
        PHONE = "phone", _("Phone number")
        ALIPAY = "alipay", _("Alipay account")
        CREDIT = "credit", _("Sesame credit score")

    class Result(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    verification = models.ForeignKey(SellerVerification, on_delete=models.CASCADE, related_name="checks")
    kind = models.CharField(_("check"), max_length=16, choices=Kind.choices)
    provider = models.CharField(_("provider"), max_length=60)
    result = models.CharField(_("result"), max_length=16, choices=Result.choices, default=Result.PENDING)
    detail = models.TextField(_("detail"), blank=True, max_length=500)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the provider decided."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    KIND_ORDER = (Kind.IDENTITY, Kind.PHONE, Kind.ALIPAY, Kind.CREDIT)

    class Meta:
        ordering = ["verification", "pk"]
        verbose_name = _("verification check")
        verbose_name_plural = _("verification checks")
        constraints = [models.UniqueConstraint(fields=["verification", "kind"], name="verification_check_once")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.get_result_display()}"


class IdentityDocument(models.Model):
    """A photo of one side of the applicant's ID card, encrypted in the database.

    Why in the database and not as a file: an ID photo is the most sensitive
    thing we hold, and here it gets exactly the protection of every other
    personal field without any new machinery. It is a Fernet token under
    ERHUO_PII_KEY (`EncryptedTextField` over base64), so
    - it is never reachable by a URL: `/media/` and any storage bucket hold
      only public item photos, and the only way out is the permission-checked,
      access-logged view;
    - it is written in the same transaction as its application, so a refused
      or rolled-back submission leaves no orphan file behind;
    - key rotation (`manage.py pii_reencrypt`) re-encrypts it with every other
      encrypted column, and a database backup is the whole record;
    - erasure is a database UPDATE, with no file to forget on a disk.
    The cost is size: the photo is downscaled to at most 1600 px (still
    readable) and re-encoded as JPEG, about 200–400 KB a side, in its own
    table so that no list of applications ever loads it.
    """

    class Side(models.TextChoices):
        FRONT = "front", _("ID card, portrait side")
        BACK = "back", _("ID card, national emblem side")

    verification = models.ForeignKey(SellerVerification, on_delete=models.CASCADE, related_name="documents")
    side = models.CharField(_("side"), max_length=8, choices=Side.choices)
    content = EncryptedTextField(_("image (encrypted base64)"), blank=True)
    content_type = models.CharField(max_length=32, default="image/jpeg")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["verification", "side"]
        verbose_name = _("identity document")
        verbose_name_plural = _("identity documents")
        constraints = [models.UniqueConstraint(fields=["verification", "side"], name="identity_document_once")]

    def __str__(self):
        return f"{self.get_side_display()} · {self.verification_id}"
