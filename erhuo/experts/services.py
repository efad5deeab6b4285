"""Every write of the experts app.

Applications: a member applies with a portfolio (3–12 photos, validated and
re-encoded before anything is written, so a bad photo leaves no rows and no
files); a reviewer decides against the written standards (`standards.py`),
marking each one met or not met; approval needs every standard met, creates
the expert profile at the level the reviewer chose and grants the EXPERT
role.

Attribution and commissions: a visit through an expert's referral link (or,
from a later issue, the group a buyer came from) is a touch; the buyer's
latest touch still inside the policy's window is her live attribution (last
touch wins). When a sale completes, the market app (a later issue) calls
`commission_accrue`, which owes the expert her level's share through the
ledger; when the sale is refunded it calls `commission_reverse`.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from erhuo.accounts import roles as role_registry
from erhuo.accounts.models import User
from erhuo.accounts.services import role_grant
from erhuo.core import events, states
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.images import clean_image, thumbnail
from erhuo.core.money import format_fen
from erhuo.experts import selectors
from erhuo.experts.levels import Level, level_label
from erhuo.experts.models import (
    Expert,
    ExpertApplication,
    ExpertCommission,
    ExpertLevelChange,
    PortfolioPhoto,
    ReferralAttribution,
    Specialty,
)
from erhuo.experts.standards import STANDARD_CODES
from erhuo.ledger import accounts as ledger_accounts
from erhuo.ledger.models import JournalEntry
from erhuo.ledger.services import entry_post, entry_reverse

REVIEW_PERMISSION = "experts.review_application"
A = ExpertApplication.Status

MIN_PHOTOS = 3
MAX_PHOTOS = 12
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_SPECIALTIES = 4
MAX_LINKS = 5
MAX_YEARS = 60
STYLE_FOCUS_MAX = 200
EXPERIENCE_MIN = 30
EXPERIENCE_MAX = 3000
BIO_MAX = 600
NOTE_MAX = 1000
REFERRAL_CODE_LENGTH = 8
# No 0/o, 1/l/i: a code read aloud or typed from a poster is not mistaken.
REFERRAL_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
BPS_DENOMINATOR = 10_000

_url_validator = URLValidator(schemes=["http", "https"])


def _invalid(field: str, message, code: str = "validation_error") -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field: [message]})


def _require_reviewer(actor) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_active or not actor.has_perm(REVIEW_PERMISSION):
        raise PermissionRefused(_("Only expert reviewers can do this."), code="review_permission_denied")


def _require_member_in_good_standing(user) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionRefused(_("Log in to apply."), code="login_required")
    if not user.is_active or user.status != User.Status.ACTIVE:
        raise PermissionRefused(
            _("A suspended account cannot apply to become an expert."), code="account_not_in_good_standing"
        )


# --- portfolio photos -------------------------------------------------------------


@dataclass
class _CleanPhoto:
    name: str
    content: bytes
    thumb: ContentFile
    width: int
    height: int


def _clean_photos(photos) -> list[_CleanPhoto]:
    """Decode and re-encode every photo before anything is written (consignment's pattern)."""
    photos = [photo for photo in (photos or []) if photo]
    if len(photos) < MIN_PHOTOS or len(photos) > MAX_PHOTOS:
        raise _invalid(
            "photos",
            _("A portfolio has %(min)s to %(max)s photos; you sent %(count)s.")
            % {"min": MIN_PHOTOS, "max": MAX_PHOTOS, "count": len(photos)},
            "portfolio_photo_count",
        )
    cleaned = []
    for upload in photos:
        image = clean_image(upload, max_bytes=MAX_PHOTO_BYTES, field="photos")
        data = image.content.read()
        cleaned.append(
            _CleanPhoto(
                name=f"{get_random_string(12)}.{image.format}",
                content=data,
                thumb=thumbnail(data, size=320),
                width=image.width,
                height=image.height,
            )
        )
    return cleaned


# Files written inside the current `_atomic()` block, deleted again if it rolls back.
_written_files: ContextVar[list | None] = ContextVar("erhuo_experts_written_files", default=None)


@contextmanager
def _atomic():
    """transaction.atomic() that also removes the photo files it wrote if it fails."""
    token = _written_files.set([])
    try:
        with transaction.atomic():
            yield
    except BaseException:
        for storage, name in _written_files.get():
            storage.delete(name)
        raise
    finally:
        _written_files.reset(token)


def _save_photos(application: ExpertApplication, photos: list[_CleanPhoto]) -> list[PortfolioPhoto]:
    saved = []
    for position, photo in enumerate(photos):
        row = PortfolioPhoto(application=application, width=photo.width, height=photo.height, position=position)
        row.image.save(photo.name, ContentFile(photo.content), save=False)
        row.thumbnail.save(f"thumb-{photo.name.rsplit('.', 1)[0]}.jpg", photo.thumb, save=False)
        written = _written_files.get()
        if written is not None:
            written.extend([(row.image.storage, row.image.name), (row.thumbnail.storage, row.thumbnail.name)])
        row.save()
        saved.append(row)
    return saved


# --- applications -------------------------------------------------------------------


def _clean_specialties(specialties, *, field: str = "specialties") -> list[str]:
    if isinstance(specialties, str):
        specialties = [part for part in specialties.replace("，", ",").split(",")]
    codes = []
    for code in specialties or []:
        code = str(code).strip()
        if not code:
            continue
        if code not in Specialty.values:
            raise _invalid(
                field, _("“%(code)s” is not one of our specialties.") % {"code": code[:40]}, "specialty_unknown"
            )
        if code not in codes:
            codes.append(code)
    if not codes:
        raise _invalid(field, _("Choose at least one specialty."), "specialty_required")
    if len(codes) > MAX_SPECIALTIES:
        raise _invalid(
            field, _("Choose at most %(count)s specialties.") % {"count": MAX_SPECIALTIES}, "specialty_too_many"
        )
    # Stored in the order of the list of specialties, so two experts with the same ones read the same.
    return [code for code in Specialty.values if code in codes]


def _clean_links(links) -> list[str]:
    if isinstance(links, str):
        links = links.split()
    cleaned = []
    for link in links or []:
        link = str(link).strip()
        if not link:
            continue
        if len(link) > 200:
            raise _invalid("links", _("A link has at most 200 characters."), "link_invalid")
        try:
            _url_validator(link)
        except ValidationError:
            raise _invalid(
                "links",
                _("“%(link)s” is not a web address (http:// or https://).") % {"link": link[:60]},
                "link_invalid",
            ) from None
        if link not in cleaned:
            cleaned.append(link)
    if len(cleaned) > MAX_LINKS:
        raise _invalid("links", _("At most %(count)s links.") % {"count": MAX_LINKS}, "link_too_many")
    return cleaned


def _clean_application(*, style_focus, specialties, experience, years_experience, links) -> dict:
    errors: dict[str, list] = {}
    style_focus = (style_focus or "").strip()
    experience = (experience or "").strip()
    if not style_focus:
        errors["style_focus"] = [_("Describe your style in a sentence.")]
    elif len(style_focus) > STYLE_FOCUS_MAX:
        errors["style_focus"] = [_("At most %(limit)s characters.") % {"limit": STYLE_FOCUS_MAX}]
    if len(experience) < EXPERIENCE_MIN:
        errors["experience"] = [
            _("Tell us about your experience in at least %(limit)s characters.") % {"limit": EXPERIENCE_MIN}
        ]
    elif len(experience) > EXPERIENCE_MAX:
        errors["experience"] = [_("At most %(limit)s characters.") % {"limit": EXPERIENCE_MAX}]
    if isinstance(years_experience, bool) or not isinstance(years_experience, int):
        errors["years_experience"] = [_("Enter a whole number of years.")]
    elif not 0 <= years_experience <= MAX_YEARS:
        errors["years_experience"] = [_("Enter between 0 and %(max)s years.") % {"max": MAX_YEARS}]
    cleaned = {"style_focus": style_focus, "experience": experience, "years_experience": years_experience}
    for name, check, value in (("specialties", _clean_specialties, specialties), ("links", _clean_links, links)):
        try:
            cleaned[name] = check(value)
        except ValidationFailed as error:
            errors.update(error.fields)
    if errors:
        raise ValidationFailed(_("Some fields of the application are not valid."), fields=errors)
    return cleaned


def application_submit(
    *,
    applicant,
    style_focus: str,
    specialties: list[str],
    experience: str,
    years_experience: int,
    links: list[str] | None = None,
    photos=(),
) -> ExpertApplication:
    """A member applies to become an expert. One open application at a time; experts do not apply again."""
    _require_member_in_good_standing(applicant)
    if Expert.objects.filter(user_id=applicant.pk).exists():
        raise Conflict(_("You are already an expert."), code="already_expert")
    if ExpertApplication.objects.filter(applicant_id=applicant.pk, status__in=ExpertApplication.OPEN_STATUSES).exists():
        raise Conflict(_("Your application is already under review."), code="application_open")
    cleaned = _clean_application(
        style_focus=style_focus,
        specialties=specialties,
        experience=experience,
        years_experience=years_experience,
        links=links,
    )
    cleaned_photos = _clean_photos(photos)
    try:
        with _atomic():
            application = ExpertApplication.objects.create(
                applicant=applicant, status_changed_at=timezone.now(), **cleaned
            )
            states.record_start(application, actor=applicant)
            _save_photos(application, cleaned_photos)
    except IntegrityError:
        # Two submissions raced; the partial unique constraint let one through.
        raise Conflict(_("Your application is already under review."), code="application_open") from None
    return application


def application_withdraw(*, application_id: int, applicant, note: str = "") -> ExpertApplication:
    """The applicant takes back an application still under review."""
    application = ExpertApplication.objects.filter(
        pk=application_id, applicant_id=getattr(applicant, "pk", None)
    ).first()
    if application is None:
        # Another member's application does not exist as far as this member can tell.
        raise NotFound(_("No such application."), code="application_not_found")
    if application.status != A.SUBMITTED:
        raise states.TransitionNotAllowed(
            _("This application is “%(status)s”; it can no longer be withdrawn.")
            % {"status": application.get_status_display()}
        )
    states.transition(application, to=A.WITHDRAWN, actor=applicant, note=(note or "").strip()[:NOTE_MAX])
    return application


def _clean_checklist(checklist) -> dict[str, bool]:
    if not isinstance(checklist, dict):
        raise _invalid("checklist", _("Mark every standard met or not met."), "checklist_incomplete")
    unknown = sorted(str(code) for code in checklist if code not in STANDARD_CODES)
    if unknown:
        raise _invalid(
            "checklist", _("Unknown standard: %(codes)s.") % {"codes": ", ".join(unknown)[:100]}, "checklist_unknown"
        )
    missing = [code for code in STANDARD_CODES if not isinstance(checklist.get(code), bool)]
    if missing:
        message = _("Mark every standard met or not met.")
        raise ValidationFailed(
            message,
            code="checklist_incomplete",
            fields={"checklist": [message], **{f"checklist.{code}": [_("Met or not met?")] for code in missing}},
        )
    return {code: checklist[code] for code in STANDARD_CODES}


def _new_referral_code() -> str:
    while True:
        code = get_random_string(REFERRAL_CODE_LENGTH, allowed_chars=REFERRAL_CODE_ALPHABET)
        if not Expert.objects.filter(referral_code=code).exists():
            return code


def _expert_create(*, user, application: ExpertApplication, level: str, actor, note: str) -> Expert:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                expert = Expert.objects.create(
                    user=user,
                    application=application,
                    level=level,
                    specialties=list(application.specialties),
                    bio=application.style_focus,
                    referral_code=_new_referral_code(),
                    joined_at=timezone.now(),
                )
            break
        except IntegrityError:
            if Expert.objects.filter(user=user).exists():
                raise Conflict(_("This member is already an expert."), code="already_expert") from None
            # A referral code was taken between our check and our insert: draw another.
    else:  # pragma: no cover - five collisions in a 31^8 space
        raise Conflict(_("Could not create the expert profile. Try again."), code="referral_code_clash")
    states.record_start(expert, actor=actor, note=note)
    ExpertLevelChange.objects.create(expert=expert, from_level="", to_level=level, actor=actor, note=note)
    return expert


def application_decide(
    *,
    application_id: int,
    actor,
    approve: bool,
    checklist: dict[str, bool],
    level: str = "",
    note: str = "",
) -> ExpertApplication:
    """A reviewer decides an application against the written standards.

    Every standard must be marked met or not met. Approval needs every one
    met and a level; it creates the expert profile and grants the EXPERT
    role. Rejection needs the reason (`note`), which the applicant reads.
    """
    _require_reviewer(actor)
    checklist = _clean_checklist(checklist)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise _invalid("note", _("At most %(limit)s characters.") % {"limit": NOTE_MAX}, "note_too_long")
    if approve:
        not_met = [code for code, met in checklist.items() if not met]
        if not_met:
            raise ValidationFailed(
                _("An application is approved only when every standard is met."),
                code="standards_not_met",
                fields={f"checklist.{code}": [_("Not met.")] for code in not_met},
            )
        if level not in Level.values:
            raise _invalid("level", _("Choose the level to give."), "level_required")
    elif not note:
        raise _invalid("note", _("Tell the applicant why: she reads this reason."), "reason_required")
    with transaction.atomic():
        application = (
            ExpertApplication.objects.select_for_update(of=("self",))
            .select_related("applicant")
            .filter(pk=application_id)
            .first()
        )
        if application is None:
            raise NotFound(_("No such application."), code="application_not_found")
        if application.applicant_id == actor.pk:
            raise PermissionRefused(_("You cannot decide your own application."), code="own_application")
        if application.status != A.SUBMITTED:
            raise states.TransitionNotAllowed(
                _("This application is already “%(status)s”.") % {"status": application.get_status_display()}
            )
        applicant = application.applicant
        now = timezone.now()
        updates = {"checklist": checklist, "decision_note": note, "decided_by": actor, "decided_at": now}
        if approve:
            if not applicant.is_active or applicant.status != User.Status.ACTIVE:
                raise Conflict(
                    _("The applicant's account is suspended: she does not meet the conduct standard."),
                    code="account_not_in_good_standing",
                )
            updates["level"] = level
            states.transition(
                application,
                to=A.APPROVED,
                actor=actor,
                note=note,
                data={"checklist": checklist, "level": level},
                updates=updates,
            )
            expert = _expert_create(
                user=applicant,
                application=application,
                level=level,
                actor=actor,
                note=note or _("Application #%(id)s approved.") % {"id": application.pk},
            )
            role_grant(
                user=applicant,
                role=role_registry.EXPERT,
                actor=actor,
                note=f"expert application #{application.pk}",
                check_actor=False,
            )
            events.emit("expert_approved", expert_id=expert.pk, user_id=applicant.pk, level=level)
        else:
            states.transition(
                application, to=A.REJECTED, actor=actor, note=note, data={"checklist": checklist}, updates=updates
            )
    return application


# --- experts ----------------------------------------------------------------------------


def _locked_expert(expert_id: int) -> Expert:
    expert = Expert.objects.select_for_update().filter(pk=expert_id).first()
    if expert is None:
        raise NotFound(_("No such expert."), code="expert_not_found")
    return expert


def expert_level_change(*, expert_id: int, actor, level: str, note: str) -> ExpertLevelChange:
    """A reviewer moves an expert to another level, with the reason (kept in the level history)."""
    _require_reviewer(actor)
    if level not in Level.values:
        raise _invalid("level", _("Choose a level."), "level_required")
    note = (note or "").strip()
    if not note:
        raise _invalid("note", _("Give the reason for the change."), "reason_required")
    if len(note) > NOTE_MAX:
        raise _invalid("note", _("At most %(limit)s characters.") % {"limit": NOTE_MAX}, "note_too_long")
    with transaction.atomic():
        expert = _locked_expert(expert_id)
        if expert.user_id == actor.pk:
            raise PermissionRefused(_("You cannot change your own level."), code="own_level")
        if expert.level == level:
            raise Conflict(
                _("This expert is already at the level “%(level)s”.") % {"level": level_label(level)},
                code="level_unchanged",
            )
        change = ExpertLevelChange.objects.create(
            expert=expert, from_level=expert.level, to_level=level, actor=actor, note=note
        )
        expert.level = level
        expert.save(update_fields=["level", "updated_at"])
        events.emit(
            "expert_level_changed", expert_id=expert.pk, from_level=change.from_level, to_level=level, actor_id=actor.pk
        )
    return change


def expert_status_change(*, expert_id: int, actor, to: str, note: str = ""):
    """A reviewer suspends an expert (her rights and new attributions stop) or reactivates her."""
    _require_reviewer(actor)
    if to not in Expert.Status.values:
        raise _invalid("to", _("Unknown status."), "status_unknown")
    note = (note or "").strip()[:NOTE_MAX]
    if to == Expert.Status.SUSPENDED and not note:
        raise _invalid("note", _("Give the reason for suspending."), "reason_required")
    with transaction.atomic():
        expert = _locked_expert(expert_id)
        if expert.user_id == actor.pk:
            raise PermissionRefused(_("You cannot change your own expert status."), code="own_status")
        return states.transition(expert, to=to, actor=actor, note=note)


def expert_profile_update(*, user, bio: str, specialties: list[str]) -> Expert:
    """An expert edits what her public profile says about her."""
    expert = Expert.objects.filter(user_id=getattr(user, "pk", None)).first()
    if expert is None:
        raise NotFound(_("You are not an expert."), code="expert_not_found")
    bio = (bio or "").strip()
    if len(bio) > BIO_MAX:
        raise _invalid("bio", _("At most %(limit)s characters.") % {"limit": BIO_MAX}, "bio_too_long")
    expert.bio = bio
    expert.specialties = _clean_specialties(specialties)
    expert.save(update_fields=["bio", "specialties", "updated_at"])
    return expert


# --- attribution ---------------------------------------------------------------------------


def referral_record(
    *, buyer, expert: Expert, source: str, group_id: int | None = None, touched_at: datetime | None = None
) -> ReferralAttribution | None:
    """Record that `expert` touched `buyer` at `touched_at` (default now); returns None when it does not count.

    It does not count when the buyer is the expert herself, the expert is
    suspended, or the touch is already older than the attribution window.
    The community app (a later issue) calls this with source="group" and
    the group's id when a buyer arrives through a group.
    """
    if buyer is None or not getattr(buyer, "is_authenticated", False) or buyer.pk is None:
        return None
    if source not in ReferralAttribution.Source.values:
        raise _invalid("source", _("Unknown source."), "source_unknown")
    if expert.user_id == buyer.pk or not expert.is_active:
        return None
    now = timezone.now()
    touched_at = min(touched_at or now, now)
    expires_at = touched_at + timedelta(days=selectors.policy().attribution_window_days)
    if expires_at <= now:
        return None
    with transaction.atomic():
        # Lock the buyer's row: two touches at once must not both decide they are the latest.
        User.objects.select_for_update().filter(pk=buyer.pk).first()
        latest = (
            ReferralAttribution.objects.filter(buyer_id=buyer.pk, expires_at__gt=now)
            .order_by("-created_at", "-pk")
            .first()
        )
        same_touch = (
            latest is not None
            and latest.expert_id == expert.pk
            and latest.source == source
            and latest.group_id == group_id
        )
        if same_touch:
            # The same expert again: move her touch forward rather than piling up rows.
            if touched_at > latest.created_at:
                latest.created_at, latest.expires_at = touched_at, expires_at
                latest.save(update_fields=["created_at", "expires_at"])
            return latest
        duplicate = ReferralAttribution.objects.filter(
            buyer_id=buyer.pk, expert=expert, source=source, group_id=group_id, created_at=touched_at
        ).first()
        if duplicate is not None:
            # The same visit seen again (a second login on the same device).
            return duplicate
        attribution = ReferralAttribution.objects.create(
            buyer_id=buyer.pk,
            expert=expert,
            source=source,
            group_id=group_id,
            created_at=touched_at,
            expires_at=expires_at,
        )
    return attribution


def referral_visit(*, code: str, visitor=None, visited_at: datetime | None = None) -> Expert:
    """A visit through /r/<code>/. Returns the expert; attributes the visitor when she is logged in.

    The page stores the code and the visit time in the session and a signed
    cookie, so that a visitor who logs in (or signs up) later is attributed
    from the time of her visit.
    """
    code = (code or "").strip().lower()[:16]
    expert = selectors.expert_by_referral_code(code) if code else None
    if expert is None or not expert.is_active or not expert.user.is_active:
        raise NotFound(_("This referral link is not valid."), code="referral_code_unknown")
    if visitor is not None and getattr(visitor, "is_authenticated", False):
        referral_record(buyer=visitor, expert=expert, source=ReferralAttribution.Source.LINK, touched_at=visited_at)
    return expert


# --- commissions -------------------------------------------------------------------------


def commission_share_fen(sale_amount_fen: int, bps: int) -> int:
    """The commission on a sale: rounded down to the fen.

    The fraction of a fen stays with the platform, so a commission never
    exceeds the exact share and the books never owe a fraction
    (¥9.99 at 2 % is 19.98 fen → 19 fen).
    """
    return sale_amount_fen * bps // BPS_DENOMINATOR


def commission_accrue(
    *, sale_reference: str, buyer, seller, sale_amount_fen: int, sold_at: datetime | None = None
) -> JournalEntry | None:
    """Owe the buyer's expert her share of a completed sale; returns the ledger entry, or None when none is due.

    The market app (a later issue) calls this when an order completes, with
    the order's reference (e.g. "order:123"), its buyer and seller, the sale
    price in fen and when the buyer bought (`sold_at`, default now: the
    attribution live at that moment counts). None is due when the buyer has
    no live attribution, when the expert is suspended, when the expert is the
    buyer or the seller (self-dealing earns nothing), or when the share
    rounds down to 0 fen.

    Ledger: debit "expense:expert_commissions", credit the expert's payable
    account (`payable:expert_commission:<user id>`), idempotent on
    "expert-commission:<sale_reference>"; calling it twice for a sale posts
    once and returns the same entry.
    """
    reference = (sale_reference or "").strip()
    if not reference or len(reference) > 80:
        raise _invalid("sale_reference", _("A sale reference has 1 to 80 characters."), "sale_reference_invalid")
    if isinstance(sale_amount_fen, bool) or not isinstance(sale_amount_fen, int) or sale_amount_fen <= 0:
        raise _invalid("sale_amount_fen", _("The sale amount is a positive number of fen."), "invalid_amount")
    existing = ExpertCommission.objects.select_related("entry").filter(sale_reference=reference).first()
    if existing is not None:
        return existing.entry
    attribution = selectors.live_attribution(buyer=buyer, at=sold_at)
    if attribution is None:
        return None
    expert = attribution.expert
    if not expert.is_active:
        return None
    if expert.user_id in {getattr(buyer, "pk", None), getattr(seller, "pk", None)}:
        return None
    bps = selectors.policy().bps_for(expert.level)
    amount = commission_share_fen(sale_amount_fen, bps)
    if amount <= 0:
        return None
    with transaction.atomic():
        entry = entry_post(
            kind="expert_commission",
            lines=[
                (ledger_accounts.expert_commissions_account(), amount),
                (ledger_accounts.payable_account(selectors.COMMISSION_PAYABLE_KIND, expert.user), -amount),
            ],
            memo=_("Commission for %(expert)s on %(sale)s: %(bps)s bps of %(amount)s")
            % {
                "expert": expert.user.display_name,
                "sale": reference,
                "bps": bps,
                "amount": format_fen(sale_amount_fen),
            },
            reference=reference,
            key=f"expert-commission:{reference}",
        )
        try:
            with transaction.atomic():
                commission = ExpertCommission.objects.create(
                    expert=expert,
                    sale_reference=reference,
                    buyer=buyer,
                    attribution=attribution,
                    source=attribution.source,
                    sale_amount_fen=sale_amount_fen,
                    bps=bps,
                    amount_fen=amount,
                    entry=entry,
                )
        except IntegrityError:
            # The same sale was accrued concurrently; the ledger key made it post once, and that row stands.
            return entry
        events.emit(
            "expert_commission_accrued",
            commission_id=commission.pk,
            expert_id=expert.pk,
            sale_reference=reference,
            amount_fen=amount,
        )
    return entry


def commission_reverse(*, sale_reference: str, actor=None) -> JournalEntry | None:
    """Take back the commission of a refunded sale with a reversing entry; None when the sale earned none.

    The market app (a later issue) calls this when an order is refunded.
    Idempotent ("expert-commission:<sale_reference>:reversal"). If the
    commission was already paid out, the expert's payable account goes
    negative: she owes it back, netted against her next commissions.
    """
    reference = (sale_reference or "").strip()
    commission = ExpertCommission.objects.filter(sale_reference=reference).first() if reference else None
    if commission is None:
        return None
    with transaction.atomic():
        commission = (
            ExpertCommission.objects.select_for_update(of=("self",)).select_related("entry").get(pk=commission.pk)
        )
        if commission.reversal_entry_id is not None:
            return commission.reversal_entry
        entry = entry_reverse(
            entry=commission.entry,
            kind="expert_commission_reversal",
            memo=_("Commission on %(sale)s reversed: the sale was refunded.") % {"sale": reference},
            key=f"expert-commission:{reference}:reversal",
            actor=actor,
        )
        ExpertCommission.objects.filter(pk=commission.pk).update(reversal_entry=entry, reversed_at=timezone.now())
        events.emit(
            "expert_commission_reversed",
            commission_id=commission.pk,
            expert_id=commission.expert_id,
            sale_reference=reference,
            amount_fen=commission.amount_fen,
        )
    return entry


# --- personal data ---------------------------------------------------------------------------


def erase_blockers(*, user) -> list[str]:
    """Reasons the experts app cannot erase `user` yet: commissions owed to her not yet paid out."""
    balance = selectors.commission_payable_fen(user=user)
    if balance > 0:
        return [
            _("Expert commissions of %(amount)s are still to be paid out to you.") % {"amount": format_fen(balance)}
        ]
    if balance < 0:
        return [
            _("Expert commissions of %(amount)s paid for refunded sales are still to be settled.")
            % {"amount": format_fen(-balance)}
        ]
    return []


def personal_data_erase(*, user) -> None:
    """Erase what the experts app holds about `user`, keeping what accounting needs.

    Portfolio photos (files and rows), the application texts and links, the
    expert's bio and the buyer's referral touches are removed; an expert
    profile is suspended. Kept: the application's status history and the
    commissions with their ledger entries (accounting records, which name
    her only by id and the sale reference).
    """
    applications = ExpertApplication.objects.filter(applicant=user)
    photos = list(PortfolioPhoto.objects.filter(application__applicant=user))
    with transaction.atomic():
        for application in applications.filter(status=A.SUBMITTED):
            states.transition(application, to=A.WITHDRAWN, actor=None, note="account erased")
        PortfolioPhoto.objects.filter(pk__in=[photo.pk for photo in photos]).delete()
        applications.update(style_focus="", experience="", links=[], decision_note="", updated_at=timezone.now())
        expert = Expert.objects.filter(user=user).first()
        if expert is not None:
            Expert.objects.filter(pk=expert.pk).update(bio="", updated_at=timezone.now())
            if expert.status == Expert.Status.ACTIVE:
                states.transition(expert, to=Expert.Status.SUSPENDED, actor=None, note="account erased")
        ExpertCommission.objects.filter(buyer=user).update(buyer=None, attribution=None)
        ReferralAttribution.objects.filter(buyer=user).delete()

        def delete_files():
            for photo in photos:
                for field in (photo.image, photo.thumbnail):
                    if field:
                        field.storage.delete(field.name)

        transaction.on_commit(delete_files)
