"""Every write of seller verification: apply, decide, expire, reveal (logged), erase.

`verification_submit` validates everything before writing anything: the
fields (real name, ID number per GB 11643, phone, Alipay account, score in
range), the score threshold of the trust policy and both ID photos. Then,
in one transaction with the member's row locked: no application already
under review (`verification_pending`), no approval still valid
(`already_verified`), and the ID number not live in another account's
application or approval (`id_number_in_use`, also a partial unique
constraint, so a race is decided by the database). Only then the row, its
photos and its checks are written. The providers run after that, outside the
transaction; if they pass everything the application is approved at once,
if one fails it is rejected with the matching reason, otherwise it waits in
the review queue.

Approving grants the seller role, rejecting needs a reason, an approval
expires after the policy's number of days (`verifications_expire`, run by
huey and on reads) and takes the role away again.
"""

import base64
import io
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from erhuo.accounts import roles as role_registry
from erhuo.accounts import services as account_services
from erhuo.accounts.models import PersonalDataAccess, User
from erhuo.core import states
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.images import clean_image
from erhuo.core.pii import is_valid_phone, mask_id_number, mask_name, normalise_phone, pii_digest
from erhuo.trust.idnumber import id_number_digest_input, parse_id_number
from erhuo.trust.models import (
    IdentityDocument,
    SellerVerification,
    TrustPolicy,
    VerificationCheck,
)
from erhuo.trust.models.verification import SESAME_SCORE_MAX, SESAME_SCORE_MIN
from erhuo.trust.providers import CheckResult, provider_for
from erhuo.trust.services.record import seller_record_recompute

logger = logging.getLogger(__name__)

V = SellerVerification.Status
Kind = VerificationCheck.Kind
Result = VerificationCheck.Result
Reason = SellerVerification.RejectionReason

REVIEW_PERMISSION = "trust.review_verification"
DOCUMENTS_PERMISSION = "trust.view_identity_documents"
MAX_ID_PHOTO_BYTES = 10 * 1024 * 1024
ID_PHOTO_MAX_SIDE = 1600
# Letters of any script, in words separated by one middle dot, dot, space, apostrophe or dash
# (艾力·买买提, Anna Li); no digits.
REAL_NAME_PATTERN = re.compile(r"[^\W\d_]+(?:[·•.\s'\-][^\W\d_]+)*")
REAL_NAME_MAX = 30
ALIPAY_MAX = 100
# A failed check rejects an application with this reason.
REASON_FOR_FAILED_CHECK = {
    Kind.IDENTITY: Reason.ID_MISMATCH,
    Kind.PHONE: Reason.OTHER,
    Kind.ALIPAY: Reason.ALIPAY_MISMATCH,
    Kind.CREDIT: Reason.SCORE_TOO_LOW,
}
# What an unmasked look at an application shows, for the access log.
IDENTITY_FIELDS = ["real_name", "id_number", "birth_date", "phone", "alipay_account"]


# --- validation ------------------------------------------------------------------


@dataclass
class _Problems:
    """Field problems collected before refusing, so a form shows every one at once."""

    items: list[tuple[str, str, str]]  # (field, code, message)

    def add(self, field: str, code: str, message) -> None:
        self.items.append((field, code, str(message)))

    def add_error(self, error: ValidationFailed, field: str) -> None:
        messages = [str(m) for m in error.fields.get(field, [])] or [str(error.message)]
        for message in messages:
            self.add(field, error.code, message)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        fields: dict[str, list[str]] = {}
        for field, _code, message in self.items:
            fields.setdefault(field, []).append(message)
        field, code, message = self.items[0]
        if len(self.items) == 1:
            raise ValidationFailed(message, code=code, fields=fields)
        raise ValidationFailed(_("Some fields are not valid. See the messages below each field."), fields=fields)


def _clean_real_name(value: str, problems: _Problems) -> str:
    name = " ".join((value or "").split())
    if not name:
        problems.add("real_name", "real_name_required", _("Enter your name as it is on your ID card."))
    elif len(name) < 2 or len(name) > REAL_NAME_MAX or not REAL_NAME_PATTERN.fullmatch(name):
        problems.add(
            "real_name",
            "real_name_invalid",
            _("Enter your name exactly as on your ID card (2–%(max)s letters, no digits).") % {"max": REAL_NAME_MAX},
        )
    return name


def _clean_alipay(value: str, problems: _Problems) -> str:
    account = (value or "").strip()
    if not account:
        problems.add("alipay_account", "alipay_account_required", _("Enter your Alipay account."))
        return account
    if is_valid_phone(account):
        return normalise_phone(account)
    try:
        if len(account) > ALIPAY_MAX:
            raise ValidationError("too long")
        EmailValidator()(account)
    except ValidationError:
        problems.add(
            "alipay_account",
            "alipay_account_invalid",
            _("An Alipay account is a mainland mobile number or an e-mail address."),
        )
        return account
    return account.lower()


def _clean_phone(value: str | None, user: User, problems: _Problems) -> str:
    if not (value or "").strip():
        return user.phone
    if not is_valid_phone(value):
        problems.add("phone", "invalid_phone", _("Enter a mainland China mobile number (11 digits, starting with 1)."))
        return value
    return normalise_phone(value)


def _clean_score(value, policy: TrustPolicy, problems: _Problems) -> int | None:
    try:
        score = int(str(value).strip()) if not isinstance(value, bool) and value not in (None, "") else None
    except ValueError:
        score = None
    if score is None or not SESAME_SCORE_MIN <= score <= SESAME_SCORE_MAX:
        problems.add(
            "sesame_score",
            "sesame_score_invalid",
            _("A Sesame credit score is a whole number from %(min)s to %(max)s (Alipay → 芝麻信用).")
            % {"min": SESAME_SCORE_MIN, "max": SESAME_SCORE_MAX},
        )
        return None
    if score < policy.min_sesame_score:
        problems.add(
            "sesame_score",
            "sesame_score_too_low",
            _("Sellers need a Sesame credit score of at least %(min)s; yours is %(score)s.")
            % {"min": policy.min_sesame_score, "score": score},
        )
    return score


@dataclass(frozen=True)
class _CleanDocument:
    side: str
    content: bytes
    width: int
    height: int


def _clean_id_photo(upload, *, side: str, field: str, problems: _Problems) -> _CleanDocument | None:
    if not upload:
        problems.add(field, "id_photo_required", _("Upload a photo of this side of your ID card."))
        return None
    try:
        image = clean_image(upload, max_bytes=MAX_ID_PHOTO_BYTES, field=field)
    except ValidationFailed as error:
        problems.add_error(error, field)
        return None
    # Downscale and re-encode as JPEG: readable, and small enough to live encrypted in the database.
    with Image.open(io.BytesIO(image.content.read())) as opened:
        picture = opened.convert("RGB")
        picture.thumbnail((ID_PHOTO_MAX_SIDE, ID_PHOTO_MAX_SIDE))
        output = io.BytesIO()
        picture.save(output, format="JPEG", quality=85)
        width, height = picture.size
    return _CleanDocument(side=side, content=output.getvalue(), width=width, height=height)


# --- applying ------------------------------------------------------------------------


def _settle_overdue(user_id: int, now) -> None:
    overdue = SellerVerification.objects.filter(user_id=user_id, status=V.APPROVED, expires_at__lte=now)
    for verification in overdue:
        _expire(verification)


def verification_submit(
    *,
    user: User,
    real_name: str,
    id_number: str,
    alipay_account: str,
    sesame_score: int,
    id_photo_front,
    id_photo_back,
    phone: str | None = None,
) -> SellerVerification:
    """Apply to become a verified seller. Refused with a code and nothing written, or saved and checked."""
    if not user.is_active:
        raise PermissionRefused(_("This account is not active."), code="account_inactive")
    policy = TrustPolicy.current()
    problems = _Problems(items=[])
    name = _clean_real_name(real_name, problems)
    identity = None
    try:
        identity = parse_id_number(id_number)
    except ValidationFailed as error:
        problems.add_error(error, "id_number")
    clean_phone = _clean_phone(phone, user, problems)
    alipay = _clean_alipay(alipay_account, problems)
    score = _clean_score(sesame_score, policy, problems)
    front = _clean_id_photo(id_photo_front, side=IdentityDocument.Side.FRONT, field="id_photo_front", problems=problems)
    back = _clean_id_photo(id_photo_back, side=IdentityDocument.Side.BACK, field="id_photo_back", problems=problems)
    problems.raise_if_any()

    digest = pii_digest(id_number_digest_input(identity.number))
    now = timezone.now()
    try:
        with transaction.atomic():
            # One applicant at a time per member: a double submit queues here and then sees the first.
            User.objects.select_for_update().filter(pk=user.pk).first()
            _settle_overdue(user.pk, now)
            _refuse_if_not_allowed(user=user, digest=digest, now=now)
            verification = SellerVerification.objects.create(
                user=user,
                status=V.SUBMITTED,
                real_name=name,
                real_name_masked=mask_name(name),
                id_number=identity.number,
                id_number_digest=digest,
                id_number_masked=mask_id_number(identity.number),
                phone=clean_phone,
                alipay_account=alipay,
                sesame_score=score,
                birth_date=identity.birth_date,
            )
            for document in (front, back):
                IdentityDocument.objects.create(
                    verification=verification,
                    side=document.side,
                    content=base64.b64encode(document.content).decode("ascii"),
                    content_type="image/jpeg",
                    width=document.width,
                    height=document.height,
                )
            VerificationCheck.objects.bulk_create(
                [
                    VerificationCheck(verification=verification, kind=kind, provider=provider_for(kind).name)
                    for kind in VerificationCheck.KIND_ORDER
                ]
            )
            states.record_start(verification, actor=user, note="")
    except IntegrityError:
        # A concurrent application won the race; say which rule it broke.
        if SellerVerification.objects.filter(user=user, status=V.SUBMITTED).exists():
            raise _pending_error() from None
        raise _in_use_error() from None
    _run_providers(verification)
    verification.refresh_from_db()
    return verification


def _pending_error() -> Conflict:
    return Conflict(
        _("Your application is already under review. We will tell you the decision."), code="verification_pending"
    )


def _in_use_error() -> Conflict:
    message = _(
        "This ID number is already used by another account. One person can have one seller account; "
        "contact customer service if this is a mistake."
    )
    return Conflict(message, code="id_number_in_use", fields={"id_number": [message]})


def _refuse_if_not_allowed(*, user: User, digest: str, now) -> None:
    mine = SellerVerification.objects.filter(user=user)
    if mine.filter(status=V.SUBMITTED).exists():
        raise _pending_error()
    valid = mine.filter(status=V.APPROVED, expires_at__gt=now).order_by("-expires_at").first()
    if valid is not None:
        raise Conflict(
            _("You are already a verified seller until %(date)s.")
            % {"date": timezone.localtime(valid.expires_at).date().isoformat()},
            code="already_verified",
        )
    taken = (
        SellerVerification.objects.filter(id_number_digest=digest, status__in=SellerVerification.LIVE_STATUSES)
        .exclude(user=user)
        .exists()
    )
    if taken:
        raise _in_use_error()


def _run_providers(verification: SellerVerification) -> None:
    """Ask each kind's provider; then approve, reject or leave the application for an operator."""
    results: dict[str, tuple[str, CheckResult]] = {}
    for kind in VerificationCheck.KIND_ORDER:
        provider = provider_for(kind)
        try:
            result = provider.check(verification)
        except Exception:
            logger.exception("verification provider %s failed for verification %s", provider.name, verification.pk)
            result = CheckResult(Result.PENDING, _("The automatic check could not run; an operator decides."))
        results[kind] = (provider.name, result)
    with transaction.atomic():
        locked = SellerVerification.objects.select_for_update().filter(pk=verification.pk, status=V.SUBMITTED).first()
        if locked is None:
            return
        for check in locked.checks.all():
            _provider_name, result = results[check.kind]
            if result.status != check.result or result.detail != check.detail:
                check.result, check.detail = result.status, result.detail[:500]
                check.save(update_fields=["result", "detail", "updated_at"])
        outcome = {kind: result.status for kind, (_name, result) in results.items()}
        failed = [kind for kind in VerificationCheck.KIND_ORDER if outcome[kind] == Result.FAILED]
        if failed:
            _reject(
                locked,
                actor=None,
                reason=REASON_FOR_FAILED_CHECK[failed[0]],
                note=results[failed[0]][1].detail,
                checks=outcome,
            )
        elif all(status == Result.PASSED for status in outcome.values()):
            _approve(locked, actor=None, checks=outcome, note=_("Every check passed automatically."))


# --- deciding --------------------------------------------------------------------------


def _require_reviewer(actor) -> None:
    if actor is None or not actor.is_active or not actor.has_perm(REVIEW_PERMISSION):
        raise PermissionRefused(_("Only reviewers can decide seller verifications."), code="verification_review_denied")


def _approve(verification: SellerVerification, *, actor, checks: dict, note: str = "") -> None:
    now = timezone.now()
    policy = TrustPolicy.current()
    states.transition(
        verification,
        to=V.APPROVED,
        actor=actor,
        note=note,
        data={"checks": checks},
        updates={
            "decided_by": actor,
            "decided_at": now,
            "expires_at": now + timedelta(days=policy.verification_valid_days),
            "rejection_reason": "",
            "rejection_note": "",
        },
    )
    account_services.role_grant(
        user=verification.user,
        role=role_registry.SELLER,
        actor=actor,
        note=f"seller verification #{verification.pk} approved",
        # The review decided the grant; the reviewer need not be allowed to manage roles.
        check_actor=False,
    )
    seller_record_recompute(user=verification.user)


def _reject(verification: SellerVerification, *, actor, reason: str, note: str, checks: dict) -> None:
    states.transition(
        verification,
        to=V.REJECTED,
        actor=actor,
        note=note,
        data={"checks": checks, "reason": reason},
        updates={
            "decided_by": actor,
            "decided_at": timezone.now(),
            "rejection_reason": reason,
            "rejection_note": note[:500],
        },
    )


def verification_decide(
    *,
    verification_id: int,
    actor: User,
    approve: bool,
    checks: dict[str, bool] | None = None,
    reason: str = "",
    note: str = "",
) -> SellerVerification:
    """A reviewer's decision. `checks` marks pending checks passed (True) or failed (False).

    Approving needs every check passed (by its provider or here); rejecting needs a reason
    (and a note for "other"). Nothing is written when it refuses.
    """
    _require_reviewer(actor)
    checks = dict(checks or {})
    unknown = sorted(set(checks) - set(Kind.values))
    if unknown:
        raise ValidationFailed(
            _("Unknown check: %(names)s.") % {"names": ", ".join(unknown)}, code="verification_check_unknown"
        )
    note = (note or "").strip()
    with transaction.atomic():
        verification = (
            SellerVerification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=verification_id)
            .first()
        )
        if verification is None:
            raise NotFound(_("No such application."), code="verification_not_found")
        if verification.user_id == actor.pk:
            raise PermissionRefused(_("You cannot decide your own application."), code="verification_self_review")
        if verification.status != V.SUBMITTED:
            raise Conflict(
                _("This application was already decided: %(status)s.") % {"status": verification.get_status_display()},
                code="verification_already_decided",
            )
        rows = {check.kind: check for check in verification.checks.all()}
        outcome = {}
        for kind in VerificationCheck.KIND_ORDER:
            if kind in checks:
                outcome[kind] = Result.PASSED if checks[kind] else Result.FAILED
            else:
                outcome[kind] = rows[kind].result if kind in rows else Result.PENDING
        if approve:
            open_checks = [Kind(kind).label for kind, result in outcome.items() if result != Result.PASSED]
            if open_checks:
                raise ValidationFailed(
                    _("Approve only when every check has passed. Not passed: %(checks)s.")
                    % {"checks": ", ".join(str(label) for label in open_checks)},
                    code="verification_checks_incomplete",
                    fields={"checks": [_("Every check must pass.")]},
                )
        else:
            if reason not in Reason.values:
                raise ValidationFailed(
                    _("Choose the reason for the rejection; the member will read it."),
                    code="rejection_reason_required",
                    fields={"reason": [_("Choose a reason.")]},
                )
            if reason == Reason.OTHER and not note:
                raise ValidationFailed(
                    _("Explain the reason in the note; the member will read it."),
                    code="rejection_note_required",
                    fields={"note": [_("Write what the member should know.")]},
                )
        for kind, result in outcome.items():
            row = rows.get(kind)
            if row is not None and kind in checks and row.result != result:
                row.result, row.decided_by = result, actor
                row.save(update_fields=["result", "decided_by", "updated_at"])
        if approve:
            _approve(verification, actor=actor, checks=outcome, note=note)
        else:
            _reject(verification, actor=actor, reason=reason, note=note, checks=outcome)
    return verification


# --- expiry ------------------------------------------------------------------------------


def _expire(verification: SellerVerification, *, note: str = "") -> bool:
    try:
        states.transition(
            verification,
            to=V.EXPIRED,
            actor=None,
            note=note or "validity ended",
            expected=V.APPROVED,
        )
    except states.StateChanged:
        return False  # expired meanwhile by another worker or read
    account_services.role_revoke(
        user=verification.user,
        role=role_registry.SELLER,
        actor=None,
        note=f"seller verification #{verification.pk} expired",
        check_actor=False,
    )
    seller_record_recompute(user=verification.user)
    return True


def verifications_expire(*, now=None, user: User | None = None) -> int:
    """Move approvals past their validity to expired and take the seller role back. Idempotent."""
    now = now or timezone.now()
    overdue = SellerVerification.objects.select_related("user").filter(status=V.APPROVED, expires_at__lte=now)
    if user is not None:
        overdue = overdue.filter(user=user)
    expired = 0
    for verification in overdue.order_by("expires_at", "pk"):
        with transaction.atomic():
            expired += _expire(verification)
    return expired


# --- unmasked views, each one logged --------------------------------------------------------


def _require_documents_permission(actor) -> None:
    if actor is None or not actor.is_active or not actor.has_perm(DOCUMENTS_PERMISSION):
        raise PermissionRefused(
            _("Only the verification team can see identity documents."), code="identity_documents_denied"
        )


def verification_identity_reveal(*, actor: User, verification: SellerVerification, request=None) -> None:
    """Record that `actor` is being shown this application's identity in full. Call before rendering it."""
    _require_documents_permission(actor)
    if verification.is_erased:
        return
    account_services.personal_data_access_record(
        actor=actor,
        subject=verification.user,
        fields=list(IDENTITY_FIELDS),
        reason=PersonalDataAccess.Reason.IDENTITY_CHECK,
        request=request,
    )


def identity_document_open(*, actor: User, verification_id: int, side: str, request=None) -> tuple[bytes, str]:
    """The decrypted bytes and content type of one ID photo, for a reviewer allowed to see it; logged."""
    _require_documents_permission(actor)
    document = (
        IdentityDocument.objects.select_related("verification__user")
        .filter(verification_id=verification_id, side=side)
        .first()
    )
    if document is None or not document.content:
        raise NotFound(_("No such photo."), code="identity_document_not_found")
    account_services.personal_data_access_record(
        actor=actor,
        subject=document.verification.user,
        fields=[f"id_photo_{side}"],
        reason=PersonalDataAccess.Reason.IDENTITY_CHECK,
        request=request,
    )
    return base64.b64decode(document.content), document.content_type


# --- personal data: erasure ------------------------------------------------------------------


def erase_blockers(*, user: User) -> list[str]:
    """What stops erasing this member's verification data now (translated sentences; empty: nothing)."""
    blockers = []
    if SellerVerification.objects.filter(user=user, status=V.SUBMITTED).exists():
        blockers.append(_("Your seller verification is under review. Wait for the decision, then ask again."))
    return blockers


def personal_data_erase(*, user: User) -> int:
    """Erase the member's verification data; return how many applications were touched.

    What goes: both ID photos of every application, and the real name, ID
    number, date of birth, phone, Alipay account and the notes of every
    application that was never approved.

    What stays, and why: for an application that was approved (approved or
    expired), the blind index of the ID number and the masked name and number
    (王**, 1101**********1234). A platform must keep the identity of the
    sellers it let trade for three years after their last sale (E-commerce
    Law of the PRC, arts. 27 and 31) and must be able to stop a banned
    identity from coming back under a new account; the masked values and the
    digest do that without keeping the number itself. The decision history
    (states, dates, reasons) stays as well; it names no one.

    A still-valid approval ends (expired, seller role revoked): a seller
    whose identity we no longer hold cannot keep selling.
    """
    blockers = erase_blockers(user=user)
    if blockers:
        raise Conflict(" ".join(blockers), code="erase_blocked")
    now = timezone.now()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        for verification in SellerVerification.objects.filter(user=user, status=V.APPROVED).select_related("user"):
            _expire(verification, note="personal data erased at the member's request")
        rows = SellerVerification.objects.filter(user=user, erased_at__isnull=True)
        ids = list(rows.values_list("pk", flat=True))
        IdentityDocument.objects.filter(verification_id__in=ids).delete()
        VerificationCheck.objects.filter(verification_id__in=ids).update(detail="")
        common = {
            "real_name": "",
            "id_number": "",
            "phone": "",
            "alipay_account": "",
            "birth_date": None,
            "rejection_note": "",
            "erased_at": now,
            "updated_at": now,
        }
        # Every approved application has expired by now (above); expired ones were all approved once.
        approved_ids = list(rows.filter(pk__in=ids, status=V.EXPIRED).values_list("pk", flat=True))
        SellerVerification.objects.filter(pk__in=approved_ids).update(**common)
        SellerVerification.objects.filter(pk__in=set(ids) - set(approved_ids)).update(
            **common, id_number_digest="", real_name_masked="", id_number_masked=""
        )
    return len(ids)
