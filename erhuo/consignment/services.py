"""Every write of the consignment pipeline.

Each station action checks, in this order: the actor's station permission,
the item's current state, the action's own input; then it writes the move
through `core.states.transition` (a conditional UPDATE plus an audit row)
and the station's records in one transaction. Photos are validated before
the transaction opens, so a bad upload leaves nothing behind.

The guarantees are enforced at the one door into `listed`
(`_check_ready_to_list`): an item whose category or declared value requires
authentication cannot be listed without a passing report, and an item cannot
be listed before every required care step (disinfection for baby toys and
baby clothes) is recorded.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from erhuo.catalog.models import Brand, CareStep, Category, Grade, Item, ItemPhoto, ItemTransition
from erhuo.consignment.models import (
    AuthenticationReport,
    CareRecord,
    Consignment,
    IntakeBatch,
    RejectionReason,
    Station,
)
from erhuo.core import events, states
from erhuo.core.errors import Conflict, DomainError, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.images import clean_image, thumbnail
from erhuo.core.money import format_fen
from erhuo.pricing.rules import suggest_price
from erhuo.trust import deposit_selectors
from erhuo.trust import selectors as trust_selectors

S = Item.Status

MAX_ITEMS_PER_BATCH = 20
MAX_PHOTOS_PER_ITEM = 12
MAX_PHOTO_BYTES = 10 * 1024 * 1024
# The platform's liability for an item in its care: the declared value, up to this cap.
LIABILITY_CAP_FEN = getattr(settings, "ERHUO_LIABILITY_CAP_FEN", 5_000_000)  # ¥50,000
WITHDRAWAL_FEE_FEN = 2_000  # ¥20 handling once an item is in the warehouse
RETURN_SHIPPING_FEE_FEN = 1_500  # ¥15, charged to the seller when an item goes back by her choice or fault
PRICE_ANSWER_HOURS = 48
SELF_SHIP_DAYS = 3
# Markdown schedule for listed items that do not sell: (days listed, share of the listed price).
MARKDOWN_SCHEDULE = ((14, 0.90), (28, 0.80))
UNSOLD_AFTER_DAYS = 45

STATION_PERMISSION = {
    Station.PRESCREEN: "consignment.work_prescreen",
    Station.RECEIVE: "consignment.work_receive",
    Station.GRADE: "consignment.work_grade",
    Station.AUTHENTICATE: "consignment.work_authenticate",
    Station.CARE: "consignment.work_care",
    Station.PHOTOGRAPH: "consignment.work_photograph",
    Station.PRICE: "consignment.work_price",
    Station.RETURNS: "consignment.work_returns",
}


class PipelineError(Conflict):
    code = "pipeline_rule"


# --- helpers ----------------------------------------------------------------


def _require_station(actor, station: str) -> None:
    if actor is None or not actor.is_active or not actor.has_perm(STATION_PERMISSION[station]):
        raise PermissionRefused(
            _("Only the %(station)s station can do this.") % {"station": Station(station).label},
            code="station_permission_denied",
        )


def _require_seller_of(item: Item, seller) -> None:
    if seller is None or item.seller_id != seller.pk:
        # Not "forbidden": a seller must not learn that someone else's item exists.
        raise NotFound(_("No such item."), code="item_not_found")


def _require_status(item: Item, *allowed: str) -> None:
    if item.status not in allowed:
        raise states.TransitionNotAllowed(
            _("This item is “%(status)s”; this step is not possible now.") % {"status": item.get_status_display()}
        )


def _locked_item(item_id: int) -> Item:
    # Re-read inside the transaction: the caller's copy may be stale.
    # Lock the item row only: the brand join is an outer join, which PostgreSQL cannot lock.
    item = Item.objects.select_for_update(of=("self",)).select_related("category", "brand").filter(pk=item_id).first()
    if item is None:
        raise NotFound(_("No such item."), code="item_not_found")
    return item


@dataclass
class PhotoUpload:
    kind: str
    file: object
    caption: str = ""


@dataclass
class _CleanPhoto:
    kind: str
    name: str
    content: object
    thumb: object
    width: int
    height: int
    caption: str


def _clean_photos(photos, *, allowed_kinds: set[str], field_name: str = "photos") -> list[_CleanPhoto]:
    """Validate every photo before anything is written."""
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS_PER_ITEM:
        raise ValidationFailed(
            _("At most %(count)s photos per item.") % {"count": MAX_PHOTOS_PER_ITEM},
            code="too_many_photos",
            fields={field_name: [_("Too many photos.")]},
        )
    cleaned = []
    for photo in photos:
        if photo.kind not in allowed_kinds:
            raise ValidationFailed(_("This kind of photo does not belong to this step."), code="photo_kind_invalid")
        image = clean_image(photo.file, max_bytes=MAX_PHOTO_BYTES, field=field_name)
        data = image.content.read()
        cleaned.append(
            _CleanPhoto(
                kind=photo.kind,
                name=f"{get_random_string(12)}.{image.format}",
                content=data,
                thumb=thumbnail(data, size=320),
                width=image.width,
                height=image.height,
                caption=(photo.caption or "")[:120],
            )
        )
    return cleaned


def _save_photos(item: Item, photos: list[_CleanPhoto], *, actor, step: ItemTransition | None) -> list[ItemPhoto]:
    saved = []
    for photo in photos:
        row = ItemPhoto(
            item=item,
            kind=photo.kind,
            width=photo.width,
            height=photo.height,
            caption=photo.caption,
            uploaded_by=actor,
            step=step,
        )
        row.image.save(photo.name, ContentFile(photo.content), save=False)
        row.thumbnail.save(f"thumb-{photo.name.rsplit('.', 1)[0]}.jpg", photo.thumb, save=False)
        written = _written_files.get()
        if written is not None:
            written.extend([(row.image.storage, row.image.name), (row.thumbnail.storage, row.thumbnail.name)])
        row.save()
        saved.append(row)
    return saved


# Files written inside the current `_atomic()` block, deleted again if it rolls back.
_written_files: ContextVar[list | None] = ContextVar("erhuo_consignment_written_files", default=None)


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


def _move(item: Item, *, to: str, actor, note: str = "", data: dict | None = None, updates: dict | None = None):
    return states.transition(item, to=to, actor=actor, note=note, data=data, updates=updates)


def label_code_for(item_id: int) -> str:
    """`EH` + 7 digits + a check digit (mod 10, weights 3/1), unique per item."""
    digits = f"{item_id:07d}"
    total = sum(int(d) * (3 if index % 2 == 0 else 1) for index, d in enumerate(digits))
    return f"EH{digits}{(10 - total % 10) % 10}"


def _new_batch_code() -> str:
    return f"B{timezone.localdate():%y%m%d}-{get_random_string(5, 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789')}"


# --- seller: submit ---------------------------------------------------------


@dataclass
class ItemDraft:
    title: str
    category_id: int
    declared_value_fen: int
    photos: list[PhotoUpload] = field(default_factory=list)
    brand_id: int | None = None
    description: str = ""
    size: str = ""
    colour: str = ""
    original_price_fen: int | None = None
    purchase_year: int | None = None
    declared_grade: str = ""
    defects: str = ""
    fulfilment: str = Item.Fulfilment.PLATFORM
    unsold_choice: str = Consignment.UnsoldChoice.RETURN


def _check_draft(index: int, draft: ItemDraft, categories: dict, brands: dict, *, may_self_ship: bool) -> dict:
    errors = {}
    prefix = f"items.{index}."
    title = (draft.title or "").strip()
    if not title:
        errors[prefix + "title"] = [_("Enter a title.")]
    elif len(title) > 80:
        errors[prefix + "title"] = [_("At most 80 characters.")]
    category = categories.get(draft.category_id)
    if category is None:
        errors[prefix + "category_id"] = [_("Choose a category.")]
    if draft.brand_id is not None and draft.brand_id not in brands:
        errors[prefix + "brand_id"] = [_("Unknown brand.")]
    if not isinstance(draft.declared_value_fen, int) or draft.declared_value_fen <= 0:
        errors[prefix + "declared_value_fen"] = [_("Declare what the item is worth (more than ¥0).")]
    if draft.original_price_fen is not None and draft.original_price_fen <= 0:
        errors[prefix + "original_price_fen"] = [_("The original price must be more than ¥0.")]
    this_year = timezone.localdate().year
    if draft.purchase_year is not None and not (1950 <= draft.purchase_year <= this_year):
        errors[prefix + "purchase_year"] = [_("Enter a year between 1950 and %(year)s.") % {"year": this_year}]
    if draft.declared_grade and draft.declared_grade not in Grade.values:
        errors[prefix + "declared_grade"] = [_("Choose a condition grade.")]
    if draft.fulfilment not in Item.Fulfilment.values:
        errors[prefix + "fulfilment"] = [_("Choose who ships the item.")]
    if draft.unsold_choice not in Consignment.UnsoldChoice.values:
        errors[prefix + "unsold_choice"] = [_("Choose what happens if it does not sell.")]
    if not draft.photos:
        errors[prefix + "photos"] = [_("Add at least one photo.")]
    if draft.fulfilment == Item.Fulfilment.SELF_SHIP and not may_self_ship:
        errors[prefix + "fulfilment"] = [
            _("Only trusted and top sellers may keep items and ship them themselves; choose platform-fulfilled.")
        ]
    elif (
        category is not None
        and draft.fulfilment == Item.Fulfilment.SELF_SHIP
        and isinstance(draft.declared_value_fen, int)
        and draft.declared_value_fen > category.effective_self_ship_max_fen()
    ):
        errors[prefix + "fulfilment"] = [
            _("Only cheaper items of this category may stay with you; choose platform-fulfilled.")
        ]
    elif (
        category is not None
        and draft.fulfilment == Item.Fulfilment.SELF_SHIP
        and isinstance(draft.declared_value_fen, int)
        and (
            category.requires_authentication(draft.declared_value_fen)
            or CareStep.DISINFECT in category.effective_care_steps()
        )
    ):
        errors[prefix + "fulfilment"] = [
            _("Items that must be authenticated or disinfected go through our warehouse; choose platform-fulfilled.")
        ]
    return errors


def consign_refusal(seller) -> DomainError | None:
    """Why this person may not start a new consignment now, or None.

    A seller needs a valid verification (the seller role is granted with
    it and revoked when it expires or she leaves) and the deposit her level
    requires. Items already in the pipeline are not affected.
    """
    if seller is None or not seller.is_authenticated or not seller.is_active:
        return PermissionRefused(_("Only verified sellers can consign items."), code="not_a_seller")
    if not seller.has_role("seller") or not trust_selectors.is_verified(seller):
        return PermissionRefused(_("Only verified sellers can consign items. Get verified first."), code="not_a_seller")
    shortfall = deposit_selectors.deposit_shortfall_fen(seller)
    if shortfall > 0:
        return PermissionRefused(
            _("Pay your seller deposit first: %(amount)s is missing.") % {"amount": format_fen(shortfall)},
            code="deposit_required",
        )
    return None


def batch_submit(*, seller, drafts: list[ItemDraft], note: str = "") -> IntakeBatch:
    """A seller submits items with photos; each waits for pre-screening."""
    refusal = consign_refusal(seller)
    if refusal is not None:
        raise refusal
    if not drafts:
        raise ValidationFailed(_("Add at least one item."), code="batch_empty")
    if len(drafts) > MAX_ITEMS_PER_BATCH:
        raise ValidationFailed(
            _("At most %(count)s items per batch.") % {"count": MAX_ITEMS_PER_BATCH}, code="batch_too_large"
        )
    categories = {
        c.pk: c for c in Category.objects.select_related("parent").filter(pk__in={d.category_id for d in drafts})
    }
    brands = {b.pk: b for b in Brand.objects.filter(pk__in={d.brand_id for d in drafts if d.brand_id})}
    errors = {}
    may_self_ship = trust_selectors.can_self_ship(seller)
    for index, draft in enumerate(drafts):
        errors.update(_check_draft(index, draft, categories, brands, may_self_ship=may_self_ship))
    if errors:
        raise ValidationFailed(_("Some items are not complete."), fields=errors)
    # Photos are decoded and re-encoded before the transaction: a bad one leaves nothing half-made.
    cleaned_photos = [
        _clean_photos(draft.photos, allowed_kinds={ItemPhoto.Kind.SELLER}, field_name=f"items.{index}.photos")
        for index, draft in enumerate(drafts)
    ]
    with _atomic():
        batch = IntakeBatch.objects.create(seller=seller, code=_new_batch_code(), note=(note or "")[:300])
        for draft, photos in zip(drafts, cleaned_photos, strict=True):
            item = Item.objects.create(
                seller=seller,
                title=draft.title.strip(),
                description=(draft.description or "").strip()[:2000],
                category=categories[draft.category_id],
                brand=brands.get(draft.brand_id) if draft.brand_id else None,
                size=(draft.size or "")[:30],
                colour=(draft.colour or "")[:30],
                original_price_fen=draft.original_price_fen,
                purchase_year=draft.purchase_year,
                declared_grade=draft.declared_grade,
                defects=(draft.defects or "")[:1000],
                fulfilment=draft.fulfilment,
            )
            Consignment.objects.create(
                item=item, batch=batch, declared_value_fen=draft.declared_value_fen, unsold_choice=draft.unsold_choice
            )
            step = states.record_start(item, actor=seller, note=_("Submitted in batch %(code)s") % {"code": batch.code})
            _save_photos(item, photos, actor=seller, step=step)
        events.emit("intake_batch_submitted", batch_id=batch.pk, seller_id=seller.pk)
    return batch


# --- pre-screen -------------------------------------------------------------


def item_prescreen(*, item_id: int, actor, accept: bool, reason: str = "", note: str = "") -> Item:
    _require_station(actor, Station.PRESCREEN)
    note = (note or "").strip()[:300]
    if not accept:
        if reason not in RejectionReason.values:
            raise ValidationFailed(
                _("Choose the reason for the rejection."),
                code="reason_required",
                fields={"reason": [_("Choose a reason.")]},
            )
        if reason == RejectionReason.OTHER and not note:
            raise ValidationFailed(
                _("Explain the reason in the note."), code="note_required", fields={"note": [_("Explain the reason.")]}
            )
    with transaction.atomic():
        item = _locked_item(item_id)
        _require_status(item, S.SUBMITTED)
        consignment = Consignment.objects.select_for_update().get(item=item)
        if accept:
            _move(item, to=S.ACCEPTED, actor=actor, note=note)
        else:
            consignment.rejection_reason = reason
            consignment.rejection_note = note
            consignment.save(update_fields=["rejection_reason", "rejection_note", "updated_at"])
            _move(
                item,
                to=S.REJECTED,
                actor=actor,
                note=note,
                data={"reason": reason, "reason_label": str(RejectionReason(reason).label)},
            )
        _settle_batch_after_screening(consignment.batch_id)
    return item


def _settle_batch_after_screening(batch_id: int) -> None:
    batch = IntakeBatch.objects.select_for_update().get(pk=batch_id)
    if batch.status != IntakeBatch.Status.SUBMITTED:
        return
    statuses = set(Item.objects.filter(consignment__batch=batch).values_list("status", flat=True))
    if S.SUBMITTED in statuses:
        return
    to_ship = Item.objects.filter(
        consignment__batch=batch, status=S.ACCEPTED, fulfilment=Item.Fulfilment.PLATFORM
    ).exists()
    if to_ship:
        batch.status = IntakeBatch.Status.SCREENED
    else:
        # An accepted item may have arrived before the rest of its batch was screened.
        arrived = ItemTransition.objects.filter(subject__consignment__batch=batch, to_state=S.RECEIVED).exists()
        batch.status = IntakeBatch.Status.RECEIVED if arrived else IntakeBatch.Status.CLOSED
    batch.save(update_fields=["status", "updated_at"])
    events.emit("intake_batch_screened", batch_id=batch.pk, seller_id=batch.seller_id)


# --- seller ships the batch -------------------------------------------------


def batch_mark_shipped(*, batch_id: int, seller, carrier: str, tracking_number: str) -> IntakeBatch:
    carrier = (carrier or "").strip()[:30]
    tracking_number = (tracking_number or "").strip()[:40]
    if not carrier or not tracking_number:
        raise ValidationFailed(
            _("Enter the carrier and the tracking number."),
            code="tracking_required",
            fields={
                k: [_("This field is required.")]
                for k, v in (("carrier", carrier), ("tracking_number", tracking_number))
                if not v
            },
        )
    with transaction.atomic():
        batch = IntakeBatch.objects.select_for_update().filter(pk=batch_id, seller=seller).first()
        if batch is None:
            raise NotFound(_("No such batch."), code="batch_not_found")
        if batch.status != IntakeBatch.Status.SCREENED:
            raise PipelineError(_("Ship a batch after it is pre-screened, once."), code="batch_not_shippable")
        items = list(
            Item.objects.select_for_update().filter(
                consignment__batch=batch, status=S.ACCEPTED, fulfilment=Item.Fulfilment.PLATFORM
            )
        )
        for item in items:
            _move(item, to=S.IN_TRANSIT, actor=seller, note=f"{carrier} {tracking_number}")
        batch.carrier, batch.tracking_number, batch.shipped_at = carrier, tracking_number, timezone.now()
        batch.status = IntakeBatch.Status.SHIPPED
        batch.save(update_fields=["carrier", "tracking_number", "shipped_at", "status", "updated_at"])
    return batch


# --- receiving --------------------------------------------------------------


def item_receive(*, item_id: int, actor, note: str = "", photos=()) -> Item:
    """The parcel is opened: the item gets its label and the platform's care begins."""
    _require_station(actor, Station.RECEIVE)
    cleaned = _clean_photos(photos, allowed_kinds={ItemPhoto.Kind.RECEIVED})
    with _atomic():
        item = _locked_item(item_id)
        _require_status(item, S.ACCEPTED, S.IN_TRANSIT)
        if item.fulfilment != Item.Fulfilment.PLATFORM:
            raise PipelineError(_("This item stays with its seller."), code="self_ship_item")
        if item.status == S.ACCEPTED:
            # The parcel arrived before the seller said it was sent.
            _move(item, to=S.IN_TRANSIT, actor=actor, note=_("Arrived without shipping notice"))
        consignment = Consignment.objects.select_for_update().get(item=item)
        consignment.label_code = label_code_for(item.pk)
        consignment.needs_authentication = item.category.requires_authentication(consignment.declared_value_fen)
        consignment.required_care_steps = item.category.effective_care_steps()
        consignment.liability_fen = min(consignment.declared_value_fen, LIABILITY_CAP_FEN)
        consignment.save(
            update_fields=["label_code", "needs_authentication", "required_care_steps", "liability_fen", "updated_at"]
        )
        step = _move(
            item,
            to=S.RECEIVED,
            actor=actor,
            note=note,
            data={"label": consignment.label_code, "liability_fen": consignment.liability_fen},
        )
        _save_photos(item, cleaned, actor=actor, step=step)
        _settle_batch_after_receiving(consignment.batch_id)
    return item


def _settle_batch_after_receiving(batch_id: int) -> None:
    batch = IntakeBatch.objects.select_for_update().get(pk=batch_id)
    waiting = Item.objects.filter(
        consignment__batch=batch, status__in=[S.ACCEPTED, S.IN_TRANSIT], fulfilment=Item.Fulfilment.PLATFORM
    ).exists()
    if not waiting and batch.status in {IntakeBatch.Status.SCREENED, IntakeBatch.Status.SHIPPED}:
        # Nothing left on its way: received, or closed if the seller withdrew everything before it came.
        arrived = ItemTransition.objects.filter(subject__consignment__batch=batch, to_state=S.RECEIVED).exists()
        batch.status = IntakeBatch.Status.RECEIVED if arrived else IntakeBatch.Status.CLOSED
        batch.save(update_fields=["status", "updated_at"])


# --- inspection and grading -------------------------------------------------


def item_grade(
    *,
    item_id: int,
    actor,
    grade: str,
    defects: str = "",
    measurements: dict | None = None,
    note: str = "",
    repair_quote_fen: int | None = None,
    repair_note: str = "",
    photos=(),
) -> Item:
    _require_station(actor, Station.GRADE)
    if grade not in Grade.values:
        raise ValidationFailed(
            _("Choose the condition grade."), code="grade_required", fields={"grade": [_("Choose a grade.")]}
        )
    defects = (defects or "").strip()[:1000]
    if grade == Grade.C and not defects:
        raise ValidationFailed(
            _("Grade C needs its defects listed."),
            code="defects_required",
            fields={"defects": [_("List the defects.")]},
        )
    if repair_quote_fen is not None and (repair_quote_fen <= 0 or not (repair_note or "").strip()):
        raise ValidationFailed(
            _("A repair needs a description and a fee above ¥0."),
            code="repair_quote_invalid",
            fields={"repair_quote_fen": [_("Describe the repair and quote a fee.")]},
        )
    cleaned = _clean_photos(photos, allowed_kinds={ItemPhoto.Kind.DEFECT, ItemPhoto.Kind.DETAIL})
    measurements = {str(k)[:20]: str(v)[:20] for k, v in (measurements or {}).items()}
    with _atomic():
        item = _locked_item(item_id)
        _require_status(item, S.RECEIVED)
        consignment = Consignment.objects.select_for_update().get(item=item)
        # The seller's own description of defects stays in the chain of custody.
        declared_defects = item.defects
        item.grade, item.defects = grade, defects
        fields = ["grade", "defects"]
        if measurements:
            item.measurements = measurements
            fields.append("measurements")
        item.save(update_fields=fields)
        if repair_quote_fen is not None:
            consignment.repair_quote_fen = repair_quote_fen
            consignment.repair_note = repair_note.strip()[:300]
            consignment.repair_consent = Consignment.RepairConsent.ASKED
            consignment.save(update_fields=["repair_quote_fen", "repair_note", "repair_consent", "updated_at"])
            events.emit("repair_consent_asked", item_id=item.pk, seller_id=item.seller_id)
        step = _move(
            item,
            to=S.GRADED,
            actor=actor,
            note=note,
            data={
                "grade": grade,
                "declared_grade": item.declared_grade,
                "declared_defects": declared_defects,
                "repair_quote_fen": repair_quote_fen,
            },
        )
        _save_photos(item, cleaned, actor=actor, step=step)
    return item


# --- authentication ---------------------------------------------------------


def item_authenticate(
    *, item_id: int, actor, passed: bool, checks: list[dict], notes: str = "", photos=()
) -> AuthenticationReport:
    _require_station(actor, Station.AUTHENTICATE)
    cleaned_checks = []
    for check in checks or []:
        point = str(check.get("point", "")).strip()[:60]
        if point:
            cleaned_checks.append(
                {"point": point, "finding": str(check.get("finding", "")).strip()[:200], "ok": bool(check.get("ok"))}
            )
    if not cleaned_checks:
        raise ValidationFailed(
            _("List what was checked."), code="checks_required", fields={"checks": [_("Add at least one check.")]}
        )
    if not photos:
        raise ValidationFailed(
            _("Add at least one evidence photo."),
            code="evidence_required",
            fields={"photos": [_("Add evidence photos.")]},
        )
    cleaned = _clean_photos(photos, allowed_kinds={ItemPhoto.Kind.AUTHENTICATION})
    with _atomic():
        item = _locked_item(item_id)
        _require_status(item, S.GRADED)
        consignment = Consignment.objects.get(item=item)
        if not consignment.needs_authentication:
            raise PipelineError(_("This item does not need authentication."), code="authentication_not_needed")
        result = AuthenticationReport.Result.PASS if passed else AuthenticationReport.Result.FAIL
        try:
            with transaction.atomic():
                report = AuthenticationReport.objects.create(
                    item=item,
                    result=result,
                    checks=cleaned_checks,
                    notes=(notes or "").strip()[:2000],
                    authenticator=actor,
                )
        except IntegrityError:
            raise states.StateChanged() from None
        step = _move(
            item,
            to=S.AUTHENTICATED if passed else S.AUTHENTICATION_FAILED,
            actor=actor,
            note=(notes or "")[:300],
            data={"result": result},
        )
        _save_photos(item, cleaned, actor=actor, step=step)
        if not passed:
            # Returned at the seller's cost: the platform never sells a failed item.
            consignment.return_reason = _("Failed authentication")
            consignment.return_shipping_fee_fen = RETURN_SHIPPING_FEE_FEN
            consignment.save(update_fields=["return_reason", "return_shipping_fee_fen", "updated_at"])
            _move(
                item, to=S.RETURN_TO_SELLER, actor=actor, note=_("Failed authentication: returned at the seller's cost")
            )
    return report


# --- care -------------------------------------------------------------------


def item_care_record(*, item_id: int, actor, step: str, note: str = "", photos=()) -> CareRecord:
    _require_station(actor, Station.CARE)
    if step not in CareStep.values:
        raise ValidationFailed(_("Unknown care step."), code="care_step_invalid")
    cleaned = _clean_photos(photos, allowed_kinds={ItemPhoto.Kind.CARE})
    with _atomic():
        item = _locked_item(item_id)
        consignment = Consignment.objects.get(item=item)
        ready = S.GRADED if not consignment.needs_authentication else S.AUTHENTICATED
        _require_status(item, ready)
        if step == CareStep.REPAIR and consignment.repair_consent != Consignment.RepairConsent.ACCEPTED:
            raise PipelineError(
                _("Repair only with the seller's consent to the quoted fee."), code="repair_not_consented"
            )
        try:
            with transaction.atomic():
                record = CareRecord.objects.create(item=item, step=step, done_by=actor, note=(note or "").strip()[:300])
        except IntegrityError:
            raise Conflict(_("This care step is already recorded."), code="care_step_done") from None
        _save_photos(item, cleaned, actor=actor, step=None)
    return record


def missing_care_steps(consignment: Consignment, done: set[str]) -> list[str]:
    required = list(consignment.required_care_steps or [])
    if consignment.repair_consent == Consignment.RepairConsent.ACCEPTED and CareStep.REPAIR not in required:
        required.append(CareStep.REPAIR)
    return [step for step in required if step not in done]


def item_care_complete(*, item_id: int, actor, note: str = "") -> Item:
    _require_station(actor, Station.CARE)
    with transaction.atomic():
        item = _locked_item(item_id)
        consignment = Consignment.objects.get(item=item)
        ready = S.GRADED if not consignment.needs_authentication else S.AUTHENTICATED
        if item.status == S.GRADED and consignment.needs_authentication:
            raise PipelineError(_("This item must be authenticated first."), code="authentication_required")
        _require_status(item, ready)
        if consignment.repair_consent == Consignment.RepairConsent.ASKED:
            raise PipelineError(_("Waiting for the seller's answer about the repair."), code="repair_answer_pending")
        done = set(CareRecord.objects.filter(item=item).values_list("step", flat=True))
        missing = missing_care_steps(consignment, done)
        if missing:
            raise PipelineError(
                _("Care steps still missing: %(steps)s.")
                % {"steps": "、".join(str(CareStep(s).label) for s in missing)},
                code="care_steps_missing",
            )
        step = _move(item, to=S.CARED, actor=actor, note=note, data={"steps": sorted(done)})
        # Care photos were taken step by step; they document this move in the chain of custody.
        ItemPhoto.objects.filter(item=item, kind=ItemPhoto.Kind.CARE, step__isnull=True).update(step=step)
    return item


def seller_repair_answer(*, item_id: int, seller, accept: bool) -> Consignment:
    with transaction.atomic():
        item = _locked_item(item_id)
        _require_seller_of(item, seller)
        consignment = Consignment.objects.select_for_update().get(item=item)
        if consignment.repair_consent != Consignment.RepairConsent.ASKED:
            raise PipelineError(_("There is no repair question to answer."), code="no_repair_question")
        consignment.repair_consent = (
            Consignment.RepairConsent.ACCEPTED if accept else Consignment.RepairConsent.DECLINED
        )
        consignment.save(update_fields=["repair_consent", "updated_at"])
        events.emit("repair_answered", item_id=item.pk, accepted=accept)
    return consignment


# --- photography ------------------------------------------------------------


def item_photograph(*, item_id: int, actor, photos, note: str = "") -> Item:
    _require_station(actor, Station.PHOTOGRAPH)
    allowed = {ItemPhoto.Kind.FLAT, ItemPhoto.Kind.ON_BODY, ItemPhoto.Kind.DETAIL, ItemPhoto.Kind.DEFECT}
    cleaned = _clean_photos(photos, allowed_kinds=allowed)
    with _atomic():
        item = _locked_item(item_id)
        _require_status(item, S.CARED)
        kinds = {p.kind for p in cleaned} | set(
            ItemPhoto.objects.filter(item=item, kind__in=allowed).values_list("kind", flat=True)
        )
        missing = []
        if ItemPhoto.Kind.FLAT not in kinds:
            missing.append(str(ItemPhoto.Kind.FLAT.label))
        if item.category.effective_needs_on_body_photo() and ItemPhoto.Kind.ON_BODY not in kinds:
            missing.append(str(ItemPhoto.Kind.ON_BODY.label))
        if (item.defects or item.grade == Grade.C) and ItemPhoto.Kind.DEFECT not in kinds:
            missing.append(str(ItemPhoto.Kind.DEFECT.label))
        if missing:
            raise ValidationFailed(
                _("Photos still missing: %(kinds)s.") % {"kinds": "、".join(missing)},
                code="photos_missing",
                fields={"photos": [_("Missing: %(kinds)s") % {"kinds": "、".join(missing)}]},
            )
        step = _move(item, to=S.PHOTOGRAPHED, actor=actor, note=note)
        _save_photos(item, cleaned, actor=actor, step=step)
    return item


# --- pricing ----------------------------------------------------------------


def item_price(*, item_id: int, actor, price_fen: int | None = None, note: str = "") -> Consignment:
    """Propose a price to the seller: the rule's suggestion, or the operator's own."""
    _require_station(actor, Station.PRICE)
    if price_fen is not None and price_fen <= 0:
        raise ValidationFailed(
            _("A price must be more than ¥0."), code="price_invalid", fields={"price_fen": [_("More than ¥0.")]}
        )
    with transaction.atomic():
        item = _locked_item(item_id)
        consignment = Consignment.objects.select_for_update().get(item=item)
        if item.fulfilment == Item.Fulfilment.SELF_SHIP:
            _require_status(item, S.ACCEPTED)
        else:
            _require_status(item, S.PHOTOGRAPHED)
        suggestion = suggest_price(
            original_price_fen=item.original_price_fen,
            declared_value_fen=consignment.declared_value_fen,
            brand_tier=item.brand.tier if item.brand_id else "",
            grade=item.grade or item.declared_grade,
            purchase_year=item.purchase_year,
        )
        fair = price_fen or suggestion.fair_fen
        consignment.suggested_price_fen = fair
        consignment.suggested_low_fen = min(suggestion.low_fen, fair)
        consignment.suggested_high_fen = max(suggestion.high_fen, fair)
        consignment.price_reasons = suggestion.reasons + ([_("Adjusted by our pricing team")] if price_fen else [])
        consignment.price_decision = Consignment.PriceDecision.PENDING
        consignment.price_deadline = timezone.now() + timedelta(hours=PRICE_ANSWER_HOURS)
        consignment.counter_price_fen = None
        consignment.save(
            update_fields=[
                "suggested_price_fen",
                "suggested_low_fen",
                "suggested_high_fen",
                "price_reasons",
                "price_decision",
                "price_deadline",
                "counter_price_fen",
                "updated_at",
            ]
        )
        _move(item, to=S.PRICED, actor=actor, note=note, data={"suggested_price_fen": fair})
        events.emit("price_proposed", item_id=item.pk, seller_id=item.seller_id)
    return consignment


CHANNEL_PERMISSIONS = ("consignment.work_price", "community.manage_community")
CHANNEL_STATUSES = (S.PHOTOGRAPHED, S.ACCEPTED, S.PRICED, S.LISTED)


def item_channel_set(*, item_id: int, actor, channel: str) -> Item:
    """Where the item is offered: the platform (平台款), chosen groups only (社群款, through drops), or both.

    Pricing or the community manager, while the item is being priced or on sale. A community-only
    item is seen only by the members of the groups it is dropped into (ADR 12).
    """
    if actor is None or not actor.is_active or not any(actor.has_perm(perm) for perm in CHANNEL_PERMISSIONS):
        raise PermissionRefused(
            _("Only pricing or the community manager sets where an item is offered."), code="channel_denied"
        )
    if channel not in Item.Channel.values:
        raise ValidationFailed(
            _("Choose where the item is offered."), code="channel_invalid", fields={"channel": [_("Unknown channel.")]}
        )
    with transaction.atomic():
        item = _locked_item(item_id)
        if item.status not in CHANNEL_STATUSES:
            raise Conflict(
                _("Where an item is offered is set while it is priced or on sale; this one is %(status)s.")
                % {"status": item.get_status_display()},
                code="channel_closed",
            )
        if item.channel != channel:
            Item.objects.filter(pk=item.pk).update(channel=channel, updated_at=timezone.now())
            item.channel = channel
            events.emit("item_channel_changed", item_id=item.pk, channel=channel)
    return item


def _check_ready_to_list(item: Item, consignment: Consignment) -> None:
    """The one door into `listed`: the three guarantees are checked here."""
    # A self-ship item never passes the authentication and care stations.
    if item.fulfilment == Item.Fulfilment.SELF_SHIP and (
        item.category.requires_authentication(consignment.declared_value_fen)
        or CareStep.DISINFECT in item.category.effective_care_steps()
    ):
        raise PipelineError(
            _("This item must be authenticated or disinfected by us before it is listed."),
            code="self_ship_not_allowed",
        )
    if item.fulfilment == Item.Fulfilment.PLATFORM:
        if (
            consignment.needs_authentication
            and not AuthenticationReport.objects.filter(item=item, result=AuthenticationReport.Result.PASS).exists()
        ):
            raise PipelineError(
                _("This item must pass authentication before it is listed."), code="authentication_required"
            )
        done = set(CareRecord.objects.filter(item=item).values_list("step", flat=True))
        if missing_care_steps(consignment, done):
            raise PipelineError(
                _("This item must finish its care steps before it is listed."), code="care_steps_missing"
            )
        if not ItemPhoto.objects.filter(item=item, kind=ItemPhoto.Kind.FLAT).exists():
            raise PipelineError(_("This item needs its photos before it is listed."), code="photos_missing")
    if not consignment.suggested_price_fen:
        raise PipelineError(_("This item has no price yet."), code="price_missing")


def _list(item: Item, consignment: Consignment, *, actor, price_fen: int, note: str) -> None:
    _check_ready_to_list(item, consignment)
    now = timezone.now()
    _move(
        item,
        to=S.LISTED,
        actor=actor,
        note=note,
        data={"price_fen": price_fen},
        updates={"price_fen": price_fen, "listed_at": now},
    )
    events.emit("item_listed", item_id=item.pk)


def seller_price_accept(*, item_id: int, seller, floor_price_fen: int | None = None) -> Item:
    """The seller accepts the suggested price (optionally with a floor for markdowns)."""
    with transaction.atomic():
        item = _locked_item(item_id)
        _require_seller_of(item, seller)
        _require_status(item, S.PRICED)
        consignment = Consignment.objects.select_for_update().get(item=item)
        price = consignment.suggested_price_fen
        if floor_price_fen is not None and not (0 < floor_price_fen <= price):
            raise ValidationFailed(
                _("A floor price is above ¥0 and at most the price."),
                code="floor_invalid",
                fields={"floor_price_fen": [_("At most the price.")]},
            )
        if floor_price_fen is not None:
            item.floor_price_fen = floor_price_fen
            item.save(update_fields=["floor_price_fen"])
        consignment.price_decision = Consignment.PriceDecision.ACCEPTED
        consignment.save(update_fields=["price_decision", "updated_at"])
        _list(item, consignment, actor=seller, price_fen=price, note=_("Seller accepted the price"))
    return item


def seller_price_counter(*, item_id: int, seller, counter_price_fen: int) -> Consignment:
    with transaction.atomic():
        item = _locked_item(item_id)
        _require_seller_of(item, seller)
        _require_status(item, S.PRICED)
        consignment = Consignment.objects.select_for_update().get(item=item)
        if consignment.price_decision != Consignment.PriceDecision.PENDING:
            raise PipelineError(_("You already answered this price."), code="price_answered")
        high = consignment.suggested_high_fen or consignment.suggested_price_fen
        if not isinstance(counter_price_fen, int) or counter_price_fen <= 0 or counter_price_fen > 2 * high:
            raise ValidationFailed(
                _("Counter with a price above ¥0 and at most twice our highest estimate."),
                code="counter_invalid",
                fields={"counter_price_fen": [_("Not a reasonable price.")]},
            )
        consignment.price_decision = Consignment.PriceDecision.COUNTERED
        consignment.counter_price_fen = counter_price_fen
        consignment.save(update_fields=["price_decision", "counter_price_fen", "updated_at"])
        events.emit("price_countered", item_id=item.pk)
    return consignment


def item_counter_answer(*, item_id: int, actor, accept: bool, note: str = "") -> Item:
    """The pricing station answers a seller's counter-offer: list at it, or propose again."""
    _require_station(actor, Station.PRICE)
    with transaction.atomic():
        item = _locked_item(item_id)
        _require_status(item, S.PRICED)
        consignment = Consignment.objects.select_for_update().get(item=item)
        if consignment.price_decision != Consignment.PriceDecision.COUNTERED:
            raise PipelineError(_("There is no counter-offer to answer."), code="no_counter_offer")
        if accept:
            consignment.suggested_price_fen = consignment.counter_price_fen
            consignment.price_decision = Consignment.PriceDecision.ACCEPTED
            consignment.save(update_fields=["suggested_price_fen", "price_decision", "updated_at"])
            _list(
                item,
                consignment,
                actor=actor,
                price_fen=consignment.counter_price_fen,
                note=note or _("Counter-offer accepted"),
            )
        else:
            consignment.price_decision = Consignment.PriceDecision.PENDING
            consignment.price_deadline = timezone.now() + timedelta(hours=PRICE_ANSWER_HOURS)
            consignment.save(update_fields=["price_decision", "price_deadline", "updated_at"])
            events.emit("price_proposed", item_id=item.pk, seller_id=item.seller_id)
    return item


def price_deadlines_settle(*, now=None) -> int:
    """Items whose seller did not answer by the deadline are listed at the suggested price.

    Called by the periodic task and on reads of the seller's pages, so it does
    not depend on the worker being up.
    """
    now = now or timezone.now()
    due = list(
        Consignment.objects.filter(
            item__status=S.PRICED, price_decision=Consignment.PriceDecision.PENDING, price_deadline__lte=now
        ).values_list("item_id", flat=True)[:200]
    )
    settled = 0
    for item_id in due:
        try:
            with transaction.atomic():
                item = _locked_item(item_id)
                consignment = Consignment.objects.select_for_update().get(item=item)
                if item.status != S.PRICED or consignment.price_decision != Consignment.PriceDecision.PENDING:
                    continue
                consignment.price_decision = Consignment.PriceDecision.AUTO_ACCEPTED
                consignment.save(update_fields=["price_decision", "updated_at"])
                _list(
                    item,
                    consignment,
                    actor=None,
                    price_fen=consignment.suggested_price_fen,
                    note=_("No answer by the deadline: listed at the suggested price"),
                )
                settled += 1
        except Conflict:
            # Not ready to list, or moved meanwhile: it stays for an operator; it must not block the
            # others, nor break the seller's page that calls this.
            continue
    return settled


# --- side exits -------------------------------------------------------------


IN_WAREHOUSE = (S.RECEIVED, S.GRADED, S.AUTHENTICATED, S.CARED, S.PHOTOGRAPHED, S.PRICED, S.LISTED)


def seller_withdraw(*, item_id: int, seller, note: str = "") -> Item:
    """Before shipping it is free; once in the warehouse it goes back with a handling fee."""
    with transaction.atomic():
        item = _locked_item(item_id)
        _require_seller_of(item, seller)
        consignment = Consignment.objects.select_for_update().get(item=item)
        if item.status in (S.SUBMITTED, S.ACCEPTED) or (
            item.fulfilment == Item.Fulfilment.SELF_SHIP and item.status in (S.PRICED, S.LISTED)
        ):
            _move(item, to=S.WITHDRAWN, actor=seller, note=note)
            _settle_batch_after_screening(consignment.batch_id)
            # Withdrawing the last accepted item of a screened batch leaves nothing to ship.
            _settle_batch_after_receiving(consignment.batch_id)
        elif item.status in IN_WAREHOUSE:
            consignment.withdrawal_fee_fen = WITHDRAWAL_FEE_FEN
            consignment.return_shipping_fee_fen = RETURN_SHIPPING_FEE_FEN
            consignment.return_reason = _("Withdrawn by the seller")
            consignment.save(
                update_fields=["withdrawal_fee_fen", "return_shipping_fee_fen", "return_reason", "updated_at"]
            )
            _move(
                item,
                to=S.RETURN_TO_SELLER,
                actor=seller,
                note=note or _("Withdrawn by the seller"),
                data={"withdrawal_fee_fen": WITHDRAWAL_FEE_FEN, "return_shipping_fee_fen": RETURN_SHIPPING_FEE_FEN},
            )
        else:
            raise states.TransitionNotAllowed(
                _("This item can no longer be withdrawn (“%(status)s”).") % {"status": item.get_status_display()}
            )
    return item


def item_return_shipped(*, item_id: int, actor, carrier: str, tracking_number: str) -> Item:
    _require_station(actor, Station.RETURNS)
    if not (carrier or "").strip() or not (tracking_number or "").strip():
        raise ValidationFailed(_("Enter the carrier and the tracking number."), code="tracking_required")
    with transaction.atomic():
        item = _locked_item(item_id)
        _require_status(item, S.RETURN_TO_SELLER)
        _move(item, to=S.RETURNED, actor=actor, note=f"{carrier.strip()[:30]} {tracking_number.strip()[:40]}")
    return item


def item_record_loss(*, item_id: int, actor, note: str) -> Item:
    """Lost or damaged in our care: the liability is owed to the seller (paid through the ledger later)."""
    if actor is None or not actor.has_perm("consignment.record_loss"):
        raise PermissionRefused(_("Only the owner can record a loss."), code="loss_permission_denied")
    if not (note or "").strip():
        raise ValidationFailed(
            _("Describe what happened."), code="note_required", fields={"note": [_("Describe what happened.")]}
        )
    with transaction.atomic():
        item = _locked_item(item_id)
        if item.fulfilment != Item.Fulfilment.PLATFORM:
            # A self-ship item never comes into our care: there is nothing we can lose.
            raise PipelineError(_("This item stays with its seller."), code="self_ship_item")
        consignment = Consignment.objects.get(item=item)
        _move(item, to=S.LOST, actor=actor, note=note.strip()[:300], data={"liability_fen": consignment.liability_fen})
        events.emit("consigned_item_lost", item_id=item.pk, liability_fen=consignment.liability_fen)
    return item


def unsold_items_settle(*, now=None) -> dict:
    """Mark down listed items that do not sell, then send them back or donate them.

    Markdowns never go below the seller's floor. Idempotent: each step is
    applied once (`markdown_steps_applied`).
    """
    now = now or timezone.now()
    counts = {"marked_down": 0, "returned": 0, "donated": 0}
    candidates = Item.objects.filter(
        status=S.LISTED, listed_at__lte=now - timedelta(days=MARKDOWN_SCHEDULE[0][0]), consignment__isnull=False
    ).values_list("pk", flat=True)[:500]
    for item_id in list(candidates):
        with transaction.atomic():
            item = _locked_item(item_id)
            if item.status != S.LISTED or item.listed_at is None:
                continue
            consignment = Consignment.objects.select_for_update().get(item=item)
            days = (now - item.listed_at).days
            if days >= UNSOLD_AFTER_DAYS:
                to = S.DONATED if consignment.unsold_choice == Consignment.UnsoldChoice.DONATE else S.RETURN_TO_SELLER
                if item.fulfilment == Item.Fulfilment.SELF_SHIP:
                    # We never held a self-ship item: it simply leaves the shop, whatever the choice.
                    to = S.WITHDRAWN
                if to == S.RETURN_TO_SELLER:
                    consignment.return_reason = _("Unsold after %(days)s days") % {"days": UNSOLD_AFTER_DAYS}
                    consignment.save(update_fields=["return_reason", "updated_at"])
                _move(item, to=to, actor=None, note=_("Unsold after %(days)s days") % {"days": UNSOLD_AFTER_DAYS})
                counts["donated" if to == S.DONATED else "returned"] += 1
                continue
            due_steps = sum(1 for threshold, _share in MARKDOWN_SCHEDULE if days >= threshold)
            if due_steps > consignment.markdown_steps_applied:
                share = MARKDOWN_SCHEDULE[due_steps - 1][1]
                base = consignment.suggested_price_fen or item.price_fen
                new_price = max(int(base * share) // 100 * 100, item.floor_price_fen or 0, 100)
                if new_price < item.price_fen:
                    old = item.price_fen
                    Item.objects.filter(pk=item.pk).update(price_fen=new_price)
                    ItemTransition.objects.create(
                        subject=item,
                        from_state=S.LISTED,
                        to_state=S.LISTED,
                        actor=None,
                        note=_("Marked down"),
                        data={"from_price_fen": old, "to_price_fen": new_price},
                    )
                    counts["marked_down"] += 1
                consignment.markdown_steps_applied = due_steps
                consignment.save(update_fields=["markdown_steps_applied", "updated_at"])
    return counts
