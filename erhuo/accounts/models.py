from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erhuo.core.models import AppendOnlyError, AuditTransition, TimeStampedModel
from erhuo.core.pii import EncryptedTextField, mask_phone, normalise_phone, pii_digest

username_validator = RegexValidator(
    r"^[A-Za-z0-9_.-]{3,32}$",
    _("3–32 letters, digits, dots, dashes or underscores."),
    code="invalid_username",
)


def phone_digest(phone: str) -> str:
    return pii_digest("phone:" + normalise_phone(phone))


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(username__iexact=username)

    def create_user(self, username, phone, password=None, **extra):
        """Low-level creation for the admin and management commands.

        Pages and the API go through `services.user_create`, which validates.
        """
        user = self.model(username=username, **extra)
        user.set_phone(phone)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username, phone, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("display_name", username)
        return self.create_user(username, phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    TRANSITIONS = {
        Status.ACTIVE: {Status.SUSPENDED, Status.CLOSED},
        Status.SUSPENDED: {Status.ACTIVE, Status.CLOSED},
        Status.CLOSED: set(),
    }

    username = models.CharField(
        _("username"),
        max_length=32,
        unique=True,
        validators=[username_validator],
        help_text=_("Used to log in, besides the phone number."),
    )
    phone = EncryptedTextField(_("phone number"))
    # Blind index of the phone number: unique, and the way to find a user by phone.
    phone_digest = models.CharField(max_length=64, unique=True, editable=False)
    display_name = models.CharField(_("display name"), max_length=40)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/%Y/%m/", blank=True)
    bio = models.CharField(_("about me"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("staff"), default=False, help_text=_("Operators: can log into the operator console and admin.")
    )
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["phone"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("view_operator_console", _("Can open the operator console")),
            ("view_member_directory", _("Can list members (masked)")),
            ("view_member_pii", _("Can see members' full personal data")),
            ("suspend_member", _("Can suspend and reactivate members")),
            ("manage_roles", _("Can grant and revoke roles")),
        ]

    def __str__(self):
        return f"{self.display_name} (@{self.username})"

    def set_phone(self, phone: str) -> None:
        self.phone = normalise_phone(phone)
        self.phone_digest = phone_digest(phone)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def initial(self) -> str:
        return (self.display_name or self.username or "?")[:1].upper()

    def role_codes(self) -> set[str]:
        # Cached per instance: navigation asks on every page.
        if not hasattr(self, "_role_codes"):
            self._role_codes = set(self.groups.values_list("name", flat=True))
        return self._role_codes

    def has_role(self, code: str) -> bool:
        return code in self.role_codes()


class AccountStatusChange(AuditTransition):
    subject = models.ForeignKey(User, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("account status change")
        verbose_name_plural = _("account status changes")


class RoleChange(models.Model):
    """Append-only record of every role granted or revoked."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="role_changes")
    role = models.CharField(_("role"), max_length=32)
    granted = models.BooleanField(_("granted"))
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("role change")
        verbose_name_plural = _("role changes")

    def __str__(self):
        return f"{'+' if self.granted else '-'}{self.role} {self.user_id}"


class Address(TimeStampedModel):
    """A shipping address. Name, phone and street are encrypted at rest."""

    MAX_PER_USER = 20

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(_("label"), max_length=20, blank=True, help_text=_("e.g. Home, Office"))
    recipient_name = EncryptedTextField(_("recipient"))
    recipient_phone = EncryptedTextField(_("recipient phone"))
    province = models.CharField(_("province"), max_length=20)
    city = models.CharField(_("city"), max_length=20)
    district = models.CharField(_("district"), max_length=20, blank=True)
    detail = EncryptedTextField(_("street address"))
    postal_code = models.CharField(_("postal code"), max_length=6, blank=True)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering = ["-is_default", "-updated_at", "-pk"]
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_default=True), name="one_default_address_per_user"
            )
        ]

    def __str__(self):
        return f"{self.province}{self.city}{self.district}"

    @property
    def region(self) -> str:
        return f"{self.province} {self.city} {self.district}".strip()


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=60, blank=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("token prefix"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.prefix}… ({self.user.username})"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


# --- personal data: access log and deletion requests ---------------------


# How the access log names the fields callers pass; other names are shown as given.
PERSONAL_DATA_FIELD_LABELS = {
    "phone": _("mobile number"),
    "addresses": _("shipping addresses"),
    "address": _("address"),
    "real_name": _("real name"),
    "id_number": _("ID number"),
    "id_photos": _("ID photos"),
    "alipay_account": _("Alipay account"),
}


class PersonalDataAccessQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("PersonalDataAccess rows are append-only")

    def delete(self):
        raise AppendOnlyError("PersonalDataAccess rows are append-only")


class PersonalDataAccess(models.Model):
    """One look at another person's unmasked personal data: who, whose, what, why, from where.

    Append-only like the audit transitions: the log is only worth something if
    nobody can tidy it up afterwards. Written by
    `services.personal_data_access_record` from every view that unmasks.
    """

    class Reason(models.TextChoices):
        ORDER_SUPPORT = "order_support", _("Order support")
        DELIVERY_PROBLEM = "delivery_problem", _("Delivery problem")
        IDENTITY_CHECK = "identity_check", _("Identity check")
        LEGAL_REQUEST = "legal_request", _("Legal request")

    actor = models.ForeignKey(
        User, verbose_name=_("viewed by"), on_delete=models.PROTECT, related_name="personal_data_accesses_made"
    )
    subject = models.ForeignKey(
        User, verbose_name=_("whose data"), on_delete=models.PROTECT, related_name="personal_data_accesses"
    )
    fields = models.JSONField(_("fields shown"), default=list)
    # A `Reason` code for the reveal flow; free text for other callers.
    reason = models.TextField(_("reason"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    path = models.CharField(_("page or route"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # The actor's roles at the time, so the member can be told "customer service" without a name.
    actor_roles = models.JSONField(_("viewer's roles"), default=list, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    objects = PersonalDataAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        indexes = [
            models.Index(fields=["subject", "-created_at"], name="pda_subject_time"),
            models.Index(fields=["actor", "-created_at"], name="pda_actor_time"),
        ]
        permissions = [
            ("view_personal_data_access", _("Can read the personal data access log")),
        ]

    def __str__(self):
        return f"{self.actor_id} → {self.subject_id} {','.join(self.fields)}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("PersonalDataAccess rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("PersonalDataAccess rows are append-only")

    @property
    def field_labels(self) -> list[str]:
        return [str(PERSONAL_DATA_FIELD_LABELS.get(name, name)) for name in self.fields]

    @property
    def reason_label(self) -> str:
        return str(dict(self.Reason.choices).get(self.reason, self.reason))


class DeletionRequest(TimeStampedModel):
    """A member asking us to erase their personal data (PIPL art. 47)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        COMPLETED = "completed", _("Completed")
        REFUSED = "refused", _("Refused")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = {
        Status.REQUESTED: {Status.COMPLETED, Status.REFUSED, Status.CANCELLED},
        Status.COMPLETED: set(),
        Status.REFUSED: set(),
        Status.CANCELLED: set(),
    }
    OPEN_STATUSES = (Status.REQUESTED,)

    user = models.ForeignKey(User, verbose_name=_("member"), on_delete=models.PROTECT, related_name="deletion_requests")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    status_changed_at = models.DateTimeField(_("status since"), default=timezone.now)
    reason = models.TextField(_("reason given by the member"), blank=True)
    # What stood in the way when the request was made or last decided, as the member and the operator saw it.
    blockers = models.JSONField(_("blockers"), default=list, blank=True)
    decided_by = models.ForeignKey(
        User, verbose_name=_("decided by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.TextField(_("operator's note"), blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("deletion request")
        verbose_name_plural = _("deletion requests")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="requested"), name="one_open_deletion_request_per_user"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="deletionrequest_queue")]
        permissions = [
            ("process_deletion_request", _("Can process members' deletion requests")),
        ]

    def __str__(self):
        return f"#{self.pk} {self.user_id} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class DeletionRequestTransition(AuditTransition):
    subject = models.ForeignKey(DeletionRequest, on_delete=models.PROTECT, related_name="transitions")

    class Meta(AuditTransition.Meta):
        verbose_name = _("deletion request change")
        verbose_name_plural = _("deletion request changes")
