"""Every write to accounts goes through here."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth import SESSION_KEY, authenticate, password_validation
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.accounts import roles as role_registry
from erhuo.accounts.models import (
    AccountStatusChange,
    Address,
    ApiToken,
    DeletionRequest,
    PersonalDataAccess,
    RoleChange,
    User,
    phone_digest,
)
from erhuo.core import events, ratelimit, states
from erhuo.core.errors import Conflict, DomainError, NotFound, PermissionRefused, RateLimited, ValidationFailed
from erhuo.core.images import clean_image
from erhuo.core.pii import is_valid_phone, normalise_phone, pii_digest

TOKEN_PREFIX = "eh_"
# Words public profile addresses use (/experts/<username>/, /sellers/<username>/): nobody may take them.
RESERVED_USERNAMES = frozenset(
    {"admin", "api", "apply", "application", "applications", "me", "ops", "standards", "new", "edit", "deleted"}
)


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401


class AccountLocked(DomainError):
    code = "account_locked"
    status = 429


def _validation(field: str, message, code: str = "validation_error"):
    return ValidationFailed(message, code=code, fields={field: [message]})


# --- sign-up and profile ---------------------------------------------------


def _check_phone(phone: str, *, exclude_user_id: int | None = None) -> str:
    if not is_valid_phone(phone):
        raise _validation(
            "phone", _("Enter a mainland China mobile number (11 digits, starting with 1)."), "invalid_phone"
        )
    existing = User.objects.filter(phone_digest=phone_digest(phone))
    if exclude_user_id is not None:
        existing = existing.exclude(pk=exclude_user_id)
    if existing.exists():
        raise _validation("phone", _("This phone number is already registered. Log in instead."), "phone_taken")
    return normalise_phone(phone)


def _check_display_name(display_name: str) -> str:
    display_name = (display_name or "").strip()
    if not display_name:
        raise _validation("display_name", _("Enter a display name."), "display_name_required")
    if len(display_name) > 40:
        raise _validation("display_name", _("A display name has at most 40 characters."), "display_name_too_long")
    return display_name


def _check_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ValidationFailed(
            _("Choose a stronger password."), code="weak_password", fields={"password": list(error.messages)}
        ) from None


def _generated_username() -> str:
    while True:
        candidate = "u" + secrets.token_hex(4)
        if not User.objects.filter(username__iexact=candidate).exists():
            return candidate


def user_create(
    *, phone: str, display_name: str, password: str, username: str = "", city: str = "", roles=(role_registry.MEMBER,)
) -> User:
    """Sign a person up. Validates everything before writing anything."""
    normalised_phone = _check_phone(phone)
    display_name = _check_display_name(display_name)
    username = (username or "").strip()
    if username:
        try:
            User._meta.get_field("username").run_validators(username)
        except ValidationError as error:
            raise ValidationFailed(
                error.messages[0], code="invalid_username", fields={"username": error.messages}
            ) from None
        if username.lower() in RESERVED_USERNAMES or User.objects.filter(username__iexact=username).exists():
            raise _validation("username", _("This username is taken."), "username_taken")
    else:
        username = _generated_username()
    user = User(username=username, display_name=display_name, city=(city or "").strip()[:40])
    user.set_phone(normalised_phone)
    _check_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            for code in roles:
                _grant(user=user, role=code, actor=None, note="sign-up")
            events.emit("user_signed_up", user_id=user.pk)
    except IntegrityError:
        # Two sign-ups with the same phone or username raced; the database decided.
        raise Conflict(_("This phone number or username was just registered."), code="account_exists") from None
    return user


def user_profile_update(*, user: User, display_name: str, bio: str = "", city: str = "", avatar=None) -> User:
    display_name = _check_display_name(display_name)
    bio = (bio or "").strip()
    if len(bio) > 300:
        raise _validation("bio", _("At most 300 characters."), "bio_too_long")
    fields = ["display_name", "bio", "city"]
    user.display_name = display_name
    user.bio = bio
    user.city = (city or "").strip()[:40]
    if avatar is not None:
        cleaned = clean_image(avatar, field="avatar")
        user.avatar.save(f"avatar-{user.pk}.{cleaned.format}", cleaned.content, save=False)
        fields.append("avatar")
    user.save(update_fields=fields)
    return user


def user_phone_change(*, user: User, phone: str, password: str) -> User:
    if not user.check_password(password):
        raise _validation("password", _("The password is not correct."), "invalid_credentials")
    _check_phone(phone, exclude_user_id=user.pk)
    user.set_phone(phone)
    try:
        user.save(update_fields=["phone", "phone_digest"])
    except IntegrityError:
        raise Conflict(_("This phone number is already registered."), code="phone_taken") from None
    return user


def user_password_change(*, user: User, old_password: str, new_password: str) -> User:
    if not user.check_password(old_password):
        raise _validation("old_password", _("Your old password was entered incorrectly."), "invalid_credentials")
    _check_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    # A changed password ends every API token: a leaked one must not outlive it.
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return user


# --- login ----------------------------------------------------------------


def login_check(*, request, username: str, password: str) -> User:
    """Authenticate for a page or the API, with rate limit and lockout.

    Raises RateLimited (too many attempts from this address), AccountLocked
    (django-axes: too many failures for this account from this address) or
    InvalidCredentials. The same wording for unknown account and wrong
    password, so that the login form does not tell who is registered.
    """
    address = ratelimit.client_address(request)
    if not ratelimit.allow(f"login:{address}", limit=settings.ERHUO_LOGIN_RATE_PER_MINUTE):
        raise RateLimited(_("Too many login attempts. Please wait a minute and try again."))
    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise AccountLocked(lockout_message())
    if user is None:
        raise InvalidCredentials(_("The phone number/username or password is not correct."))
    return user


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _("Too many wrong passwords. This account is locked for %(minutes)s minutes on this device.") % {
        "minutes": minutes
    }


# --- API tokens -----------------------------------------------------------


def token_digest(raw_token: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 is enough: nothing to brute-force.
    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()


def api_token_issue(*, user: User, name: str = "", days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw value, shown once."""
    if not user.is_active:
        raise PermissionRefused(_("This account is not active."), code="account_inactive")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    days = days if days is not None else settings.ERHUO_API_TOKEN_DAYS
    token = ApiToken.objects.create(
        user=user,
        name=(name or "")[:60],
        digest=token_digest(raw),
        prefix=raw[:10],
        expires_at=timezone.now() + timedelta(days=days),
    )
    return token, raw


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise NotFound(_("No such token."), code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Record use, at most once a minute per token (a hot path)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# --- addresses ------------------------------------------------------------

ADDRESS_FIELDS = ("label", "recipient_name", "recipient_phone", "province", "city", "district", "detail", "postal_code")


def _clean_address(data: dict) -> dict:
    cleaned = {name: str(data.get(name) or "").strip() for name in ADDRESS_FIELDS}
    errors = {}
    for name in ("recipient_name", "recipient_phone", "province", "city", "detail"):
        if not cleaned[name]:
            errors[name] = [_("This field is required.")]
    if cleaned["recipient_phone"] and not is_valid_phone(cleaned["recipient_phone"]):
        errors["recipient_phone"] = [_("Enter a mainland China mobile number (11 digits, starting with 1).")]
    if cleaned["postal_code"] and not (cleaned["postal_code"].isdigit() and len(cleaned["postal_code"]) == 6):
        errors["postal_code"] = [_("A postal code has 6 digits.")]
    limits = {"label": 20, "recipient_name": 40, "province": 20, "city": 20, "district": 20, "detail": 200}
    for name, limit in limits.items():
        if len(cleaned[name]) > limit:
            errors[name] = [_("At most %(limit)s characters.") % {"limit": limit}]
    if errors:
        raise ValidationFailed(_("Some fields of the address are not valid."), fields=errors)
    cleaned["recipient_phone"] = normalise_phone(cleaned["recipient_phone"])
    return cleaned


def address_create(*, user: User, data: dict, make_default: bool = False) -> Address:
    cleaned = _clean_address(data)
    with transaction.atomic():
        # Lock the user's row so two concurrent creations respect the limit and the single default.
        User.objects.select_for_update().filter(pk=user.pk).first()
        count = Address.objects.filter(user=user).count()
        if count >= Address.MAX_PER_USER:
            raise Conflict(
                _("You can keep at most %(limit)s addresses.") % {"limit": Address.MAX_PER_USER},
                code="address_limit",
            )
        make_default = make_default or count == 0
        if make_default:
            Address.objects.filter(user=user, is_default=True).update(is_default=False)
        return Address.objects.create(user=user, is_default=make_default, **cleaned)


def address_update(*, user: User, address_id: int, data: dict, make_default: bool = False) -> Address:
    cleaned = _clean_address(data)
    with transaction.atomic():
        address = Address.objects.select_for_update().filter(pk=address_id, user=user).first()
        if address is None:
            raise NotFound(_("No such address."), code="address_not_found")
        for name, value in cleaned.items():
            setattr(address, name, value)
        fields = [*cleaned.keys(), "updated_at"]
        if make_default and not address.is_default:
            Address.objects.filter(user=user, is_default=True).update(is_default=False)
            address.is_default = True
            fields.append("is_default")
        address.save(update_fields=fields)
    return address


def address_delete(*, user: User, address_id: int) -> None:
    with transaction.atomic():
        address = Address.objects.select_for_update().filter(pk=address_id, user=user).first()
        if address is None:
            raise NotFound(_("No such address."), code="address_not_found")
        was_default = address.is_default
        address.delete()
        if was_default:
            successor = Address.objects.filter(user=user).order_by("-updated_at", "-pk").first()
            if successor is not None:
                Address.objects.filter(pk=successor.pk).update(is_default=True)


# --- roles and account status ----------------------------------------------


def _grant(*, user: User, role: str, actor: User | None, note: str = "") -> bool:
    group, _created = Group.objects.get_or_create(name=role)
    if user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.add(group)
    RoleChange.objects.create(user=user, role=role, granted=True, actor=actor, note=note[:200])
    return True


def _require_role_manager(actor: User) -> None:
    if not actor.has_perm("accounts.manage_roles"):
        raise PermissionRefused(_("Only the owner can grant or revoke roles."), code="role_manage_denied")


def _sync_staff_flag(user: User) -> None:
    is_operator = user.groups.filter(name__in=role_registry.OPERATOR_ROLES).exists()
    if user.is_staff != is_operator and not user.is_superuser:
        user.is_staff = is_operator
        user.save(update_fields=["is_staff"])


def role_grant(*, user: User, role: str, actor: User | None, note: str = "", check_actor: bool = True) -> bool:
    """Give `user` a role. Returns False if they already had it.

    `check_actor=False` is for flows that decided the grant themselves
    (seller verification, expert review) or for set-up commands.
    """
    if role not in role_registry.ROLES:
        raise ValidationFailed(_("Unknown role."), code="unknown_role")
    if check_actor:
        _require_role_manager(actor)
    with transaction.atomic():
        granted = _grant(user=user, role=role, actor=actor, note=note)
        _sync_staff_flag(user)
        if granted:
            events.emit("role_granted", user_id=user.pk, role=role)
    user.__dict__.pop("_role_codes", None)
    return granted


def role_revoke(*, user: User, role: str, actor: User | None, note: str = "", check_actor: bool = True) -> bool:
    if role not in role_registry.ROLES:
        raise ValidationFailed(_("Unknown role."), code="unknown_role")
    if check_actor:
        _require_role_manager(actor)
        if role == role_registry.OWNER and actor.pk == user.pk:
            raise Conflict(_("You cannot remove your own owner role."), code="role_self_revoke")
    with transaction.atomic():
        group = Group.objects.filter(name=role).first()
        if group is None or not user.groups.filter(pk=group.pk).exists():
            return False
        user.groups.remove(group)
        RoleChange.objects.create(user=user, role=role, granted=False, actor=actor, note=note[:200])
        _sync_staff_flag(user)
        events.emit("role_revoked", user_id=user.pk, role=role)
    user.__dict__.pop("_role_codes", None)
    return True


def roles_sync() -> None:
    """Create every role's group and give it exactly the permissions that exist."""
    for code, role in role_registry.ROLES.items():
        group, _created = Group.objects.get_or_create(name=code)
        wanted = []
        for name in role.permissions:
            app_label, codename = name.split(".", 1)
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.set(wanted)


def user_status_change(
    *, user: User, to: str, actor: User, note: str = "", check_actor: bool = True
) -> AccountStatusChange:
    """`check_actor=False` is for flows that decided the change themselves (erasing an account on request)."""
    if check_actor and not actor.has_perm("accounts.suspend_member"):
        raise PermissionRefused(_("You may not change members' account status."), code="status_change_denied")
    if actor.pk == user.pk:
        raise Conflict(_("You cannot change your own account status."), code="status_self_change")
    if to == User.Status.SUSPENDED and not note.strip():
        raise _validation("note", _("Give the reason for suspending."), "reason_required")
    log = states.transition(user, to=to, actor=actor, note=note, updates={"is_active": to == User.Status.ACTIVE})
    if to != User.Status.ACTIVE:
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return log


# =============================================================================
# --- personal data: access log, reveal, export, deletion requests ------------
# =============================================================================
#
# PIPL gives members the right to know who handled their personal data, to get a
# copy of it and to have it erased. Every view that shows another person's data
# unmasked writes a `PersonalDataAccess` row through `personal_data_access_record`.


def _request_ip(request) -> str | None:
    address = (request.META.get("REMOTE_ADDR") or "").strip() if request is not None else ""
    if not address:
        return None
    try:
        validate_ipv46_address(address)
    except ValidationError:
        return None
    return address


def personal_data_access_record(
    *, actor: User, subject: User, fields: list[str], reason: str, request=None, note: str = ""
) -> PersonalDataAccess:
    """Log that `actor` saw `subject`'s unmasked `fields` for `reason`.

    Call it in the same request that shows the data; path and IP come from the
    request when there is one (a management command passes none).
    """
    fields = [str(name) for name in fields if str(name).strip()]
    if not fields:
        raise _validation("fields", _("Say which personal data was shown."), "fields_required")
    reason = (reason or "").strip()
    if not reason:
        raise _validation("reason", _("Give the reason for looking at this personal data."), "reason_required")
    path = request.get_full_path()[:300] if request is not None else ""
    return PersonalDataAccess.objects.create(
        actor=actor,
        subject=subject,
        fields=fields,
        reason=reason,
        path=path,
        ip_address=_request_ip(request),
        actor_roles=sorted(actor.role_codes()),
        note=(note or "").strip()[:300],
    )


# --- personal data: the operators' "show in full" ------------------------------

# What the reveal shows; the log names exactly these.
REVEALED_FIELDS = ("phone", "addresses")


@dataclass(frozen=True)
class RevealedPersonalData:
    phone: str
    addresses: list[Address]
    access: PersonalDataAccess


def member_personal_data_reveal(
    *, actor: User, subject: User, reason: str, note: str = "", request=None
) -> RevealedPersonalData:
    """Show a member's phone number and addresses in full, once, and log it.

    Refused (and nothing logged) without `accounts.view_member_pii` or without a
    reason from the list.
    """
    if not actor.has_perm("accounts.view_member_pii"):
        raise PermissionRefused(_("You may not see members' full personal data."), code="pii_view_denied")
    if reason not in PersonalDataAccess.Reason.values:
        raise _validation("reason", _("Choose why you need to see this personal data."), "reason_required")
    note = (note or "").strip()
    if len(note) > 300:
        raise _validation("note", _("At most 300 characters."), "note_too_long")
    access = personal_data_access_record(
        actor=actor, subject=subject, fields=list(REVEALED_FIELDS), reason=reason, note=note, request=request
    )
    return RevealedPersonalData(
        phone=subject.phone, addresses=list(Address.objects.filter(user=subject)), access=access
    )


# --- personal data: deletion requests ------------------------------------------

# What an erased account is called from then on (stored data, not interface text).
ERASED_DISPLAY_NAME = "已注销用户"


class DeletionBlocked(Conflict):
    code = "deletion_blocked"


def erase_blockers(*, user: User) -> list[str]:
    """Nothing in accounts stops an erasure: what must be kept is kept with the name removed."""
    return []


def deletion_request_create(*, user: User, password: str, reason: str = "", blockers=()) -> DeletionRequest:
    """The member asks for her personal data to be erased; `blockers` is what the apps reported just now."""
    if not user.check_password(password or ""):
        raise _validation("password", _("The password is not correct."), "invalid_credentials")
    if user.status == User.Status.CLOSED:
        raise Conflict(_("This account is already closed."), code="account_closed")
    reason = (reason or "").strip()
    if len(reason) > 1000:
        raise _validation("reason", _("At most 1000 characters."), "reason_too_long")
    try:
        with transaction.atomic():
            # The user's row serialises two submissions; the partial unique constraint is the backstop.
            User.objects.select_for_update().filter(pk=user.pk).first()
            if DeletionRequest.objects.filter(user=user, status=DeletionRequest.Status.REQUESTED).exists():
                raise Conflict(_("You have already asked for your data to be deleted."), code="deletion_request_open")
            deletion_request = DeletionRequest.objects.create(
                user=user, reason=reason, blockers=[str(blocker) for blocker in blockers]
            )
            states.record_start(deletion_request, actor=user)
    except IntegrityError:
        raise Conflict(_("You have already asked for your data to be deleted."), code="deletion_request_open") from None
    return deletion_request


def deletion_request_cancel(*, user: User, request_id: int) -> DeletionRequest:
    """The member withdraws her own request while it is still open."""
    with transaction.atomic():
        deletion_request = DeletionRequest.objects.select_for_update().filter(pk=request_id, user=user).first()
        if deletion_request is None:
            raise NotFound(_("No such deletion request."), code="deletion_request_not_found")
        states.transition(deletion_request, to=DeletionRequest.Status.CANCELLED, actor=user)
    return deletion_request


def _require_deletion_processor(actor: User) -> None:
    if not actor.has_perm("accounts.process_deletion_request"):
        raise PermissionRefused(_("You may not process deletion requests."), code="deletion_process_denied")


def _open_deletion_request_locked(*, actor: User, request_id: int) -> DeletionRequest:
    deletion_request = DeletionRequest.objects.select_for_update().filter(pk=request_id).first()
    if deletion_request is None:
        raise NotFound(_("No such deletion request."), code="deletion_request_not_found")
    if deletion_request.user_id == actor.pk:
        raise Conflict(_("Another operator must process your own request."), code="deletion_self_process")
    if deletion_request.status != DeletionRequest.Status.REQUESTED:
        raise Conflict(_("This request has already been decided."), code="deletion_request_decided")
    return deletion_request


def deletion_request_refuse(*, actor: User, request_id: int, note: str) -> DeletionRequest:
    _require_deletion_processor(actor)
    note = (note or "").strip()
    if not note:
        raise _validation("note", _("Tell the member why the request is refused."), "note_required")
    with transaction.atomic():
        deletion_request = _open_deletion_request_locked(actor=actor, request_id=request_id)
        states.transition(
            deletion_request,
            to=DeletionRequest.Status.REFUSED,
            actor=actor,
            note=note,
            updates={"decided_by": actor, "decided_at": timezone.now(), "note": note},
        )
    return deletion_request


def deletion_request_erase(
    *, actor: User, request_id: int, blockers_for, erasers=(), note: str = ""
) -> DeletionRequest:
    """Erase the member's personal data and complete her request, in one transaction.

    Accounts cannot see the apps above it, so the caller (the privacy
    orchestrator in `web`) passes `blockers_for(user) -> list[str]` and the
    apps' `erasers` (each called as `eraser(user=user)`). Refused with
    `deletion_blocked` (the list in `fields["blockers"]`) while anything blocks;
    then nothing is changed.
    """
    _require_deletion_processor(actor)
    with transaction.atomic():
        deletion_request = _open_deletion_request_locked(actor=actor, request_id=request_id)
        user = User.objects.select_for_update().get(pk=deletion_request.user_id)
        blockers = [str(blocker) for blocker in blockers_for(user)]
        if blockers:
            raise DeletionBlocked(
                _("The account cannot be erased yet: %(blockers)s") % {"blockers": "; ".join(blockers)},
                fields={"blockers": blockers},
            )
        for eraser in erasers:
            eraser(user=user)
        user_personal_data_erase(user=user, actor=actor)
        note = (note or "").strip()
        states.transition(
            deletion_request,
            to=DeletionRequest.Status.COMPLETED,
            actor=actor,
            note=note,
            updates={"decided_by": actor, "decided_at": timezone.now(), "note": note, "blockers": []},
        )
    return deletion_request


def user_personal_data_erase(*, user: User, actor: User) -> User:
    """Remove what accounts holds about a person; keep the row so that kept records still point somewhere.

    Called inside `deletion_request_erase`'s transaction. The avatar file is
    deleted only after commit, so a rollback leaves nothing dangling.
    """
    old_logins = {user.username, user.phone}
    avatar_name, avatar_storage = (user.avatar.name, user.avatar.storage) if user.avatar else ("", None)
    Address.objects.filter(user=user).delete()
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if user.status != User.Status.CLOSED:
        user_status_change(
            user=user, to=User.Status.CLOSED, actor=actor, note="personal data erased on request", check_actor=False
        )
    user.username = f"deleted-{user.pk}"
    user.display_name = ERASED_DISPLAY_NAME
    user.phone = ""
    user.phone_digest = pii_digest(f"deleted:{user.pk}")
    user.bio = ""
    user.city = ""
    user.avatar = ""
    user.is_active = False
    user.set_unusable_password()
    user.save(
        update_fields=[
            "username",
            "display_name",
            "phone",
            "phone_digest",
            "bio",
            "city",
            "avatar",
            "is_active",
            "password",
        ]
    )
    _sessions_delete(user=user)
    # django-axes keeps what was typed at login (a username or a phone number) with the address.
    logins = [login for login in old_logins if login]
    AccessAttempt.objects.filter(username__in=logins).delete()
    AccessLog.objects.filter(username__in=logins).delete()
    AccessFailureLog.objects.filter(username__in=logins).delete()
    if avatar_name:
        transaction.on_commit(lambda: avatar_storage.delete(avatar_name))
    return user


def _sessions_delete(*, user: User) -> None:
    """End every stored session of the user.

    Database-backed engines are searched; with other engines the unusable
    password already ends them (Django checks the session's password hash).
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store_class, "get_model_class"):
        return
    wanted = str(user.pk)
    for session in store_class.get_model_class().objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get(SESSION_KEY)) == wanted:
            store_class(session_key=session.session_key).delete()
