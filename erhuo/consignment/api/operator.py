"""The stations' API: the board, each station's queue, one item as operators see it, and the station actions.

Every route needs the operator console permission; each action needs its
station's permission, which the service checks (403 `station_permission_denied`).
A move the item's state does not allow is 409 `transition_not_allowed`; a
move someone else made first is 409 `state_changed` or
`transition_not_allowed`. Routes with photos take multipart/form-data.
"""

import json
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, UploadedFile
from ninja.pagination import paginate
from pydantic import Field

from erhuo.catalog.models import ItemPhoto
from erhuo.consignment import selectors, services
from erhuo.consignment.models import Station
from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import NotFound, PermissionRefused, ValidationFailed

router = Router(tags=["consignment: operator"])

CONSOLE_PERMISSION = "accounts.view_operator_console"
ACTION_ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- schemas ---------------------------------------------------------------


class StationOut(Schema):
    station: str
    label: str
    waiting: int
    late: int
    target_hours: int
    can_work: bool = Field(..., description="The caller has this station's permission")


class QueueItemOut(Schema):
    id: int
    title: str
    label_code: str | None
    batch_code: str
    status: str
    age_hours: float
    target_hours: int
    is_late: bool
    seller_name: str


class PhotoOut(Schema):
    id: int
    kind: str
    url: str
    thumbnail_url: str | None
    width: int
    height: int
    step_id: int | None


class CareRecordOut(Schema):
    step: str
    note: str
    done_by: str
    created_at: datetime


class StepOut(Schema):
    id: int
    from_state: str
    to_state: str
    actor: str | None = Field(..., description="The actor's display name (operators see names)")
    actor_roles: list[str]
    note: str
    data: dict
    created_at: datetime
    photo_ids: list[int]


class ConsignmentOut(Schema):
    batch_code: str
    label_code: str | None
    declared_value_fen: int
    liability_fen: int
    needs_authentication: bool
    required_care_steps: list[str]
    missing_care_steps: list[str]
    care_records: list[CareRecordOut]
    repair_quote_fen: int | None
    repair_note: str
    repair_consent: str
    suggested_price_fen: int | None
    suggested_low_fen: int | None
    suggested_high_fen: int | None
    price_reasons: list[str]
    price_decision: str
    price_deadline: datetime | None
    counter_price_fen: int | None
    rejection_reason: str
    rejection_note: str
    return_reason: str
    unsold_choice: str


class OpsItemOut(Schema):
    id: int
    title: str
    description: str
    status: str
    status_label: str
    station: str | None = Field(..., description="The station the item waits at now, if any")
    fulfilment: str
    category: str
    brand: str | None
    seller_name: str
    size: str
    colour: str
    measurements: dict
    original_price_fen: int | None
    purchase_year: int | None
    declared_grade: str
    grade: str
    defects: str
    price_fen: int | None
    consignment: ConsignmentOut
    photos: list[PhotoOut]
    chain: list[StepOut]


class PrescreenIn(Schema):
    accept: bool
    reason: str = Field("", max_length=16, description="A rejection reason code; required when rejecting")
    note: str = Field("", max_length=300)


class NoteIn(Schema):
    note: str = Field("", max_length=300)


class PriceIn(Schema):
    price_fen: int | None = Field(None, description="Leave out to propose the rule's suggestion")
    note: str = Field("", max_length=300)


class CounterAnswerIn(Schema):
    accept: bool
    note: str = Field("", max_length=300)


class ReturnShippedIn(Schema):
    carrier: str = Field(..., max_length=30)
    tracking_number: str = Field(..., max_length=40)


class LossIn(Schema):
    note: str = Field(..., max_length=300)


# --- helpers ----------------------------------------------------------------


def _require_console(request) -> None:
    if not request.user.has_perm(CONSOLE_PERMISSION):
        raise PermissionRefused()


def _station(station: str) -> str:
    if station not in Station.values:
        raise NotFound(_("No such station."), code="station_not_found")
    return station


def _photo(photo) -> dict:
    return {
        "id": photo.pk,
        "kind": photo.kind,
        "url": photo.image.url,
        "thumbnail_url": photo.thumbnail.url if photo.thumbnail else None,
        "width": photo.width,
        "height": photo.height,
        "step_id": photo.step_id,
    }


def _item_out(item) -> dict:
    consignment = item.consignment
    records = selectors.care_records(item=item)
    done = {record.step for record in records}
    chain = selectors.chain_of_custody(item=item)
    return {
        "id": item.pk,
        "title": item.title,
        "description": item.description,
        "status": item.status,
        "status_label": item.get_status_display(),
        "station": selectors.station_for_item(item, consignment),
        "fulfilment": item.fulfilment,
        "category": item.category.path_name,
        "brand": str(item.brand) if item.brand_id else None,
        "seller_name": item.seller.display_name,
        "size": item.size,
        "colour": item.colour,
        "measurements": item.measurements or {},
        "original_price_fen": item.original_price_fen,
        "purchase_year": item.purchase_year,
        "declared_grade": item.declared_grade,
        "grade": item.grade,
        "defects": item.defects,
        "price_fen": item.price_fen,
        "consignment": {
            "batch_code": consignment.batch.code,
            "label_code": consignment.label_code,
            "declared_value_fen": consignment.declared_value_fen,
            "liability_fen": consignment.liability_fen,
            "needs_authentication": consignment.needs_authentication,
            "required_care_steps": list(consignment.required_care_steps or []),
            "missing_care_steps": services.missing_care_steps(consignment, done),
            "care_records": [
                {
                    "step": record.step,
                    "note": record.note,
                    "done_by": record.done_by.display_name,
                    "created_at": record.created_at,
                }
                for record in records
            ],
            "repair_quote_fen": consignment.repair_quote_fen,
            "repair_note": consignment.repair_note,
            "repair_consent": consignment.repair_consent,
            "suggested_price_fen": consignment.suggested_price_fen,
            "suggested_low_fen": consignment.suggested_low_fen,
            "suggested_high_fen": consignment.suggested_high_fen,
            "price_reasons": [str(reason) for reason in consignment.price_reasons or []],
            "price_decision": consignment.price_decision,
            "price_deadline": consignment.price_deadline,
            "counter_price_fen": consignment.counter_price_fen,
            "rejection_reason": consignment.rejection_reason,
            "rejection_note": consignment.rejection_note,
            "return_reason": consignment.return_reason,
            "unsold_choice": consignment.unsold_choice,
        },
        "photos": [_photo(photo) for photo in item.photos.all()],
        "chain": [
            {
                "id": step.pk,
                "from_state": step.from_state,
                "to_state": step.to_state,
                "actor": step.actor.display_name if step.actor_id else None,
                "actor_roles": sorted(group.name for group in step.actor.groups.all()) if step.actor_id else [],
                "note": step.note,
                "data": step.data or {},
                "created_at": step.created_at,
                "photo_ids": [photo.pk for photo in step.photos.all()],
            }
            for step in chain
        ],
    }


def _item_or_404(item_id: int):
    item = selectors.item_for_operator(item_id=item_id)
    if item is None:
        raise NotFound(_("No such item."), code="item_not_found")
    return item


def _fresh(item_id: int) -> dict:
    return _item_out(_item_or_404(item_id))


def _uploads(kind: str, files) -> list[services.PhotoUpload]:
    return [services.PhotoUpload(kind=kind, file=file) for file in files or []]


def _json_field(text: str, *, field: str, default):
    if not (text or "").strip():
        return default
    try:
        value = json.loads(text)
    except ValueError:
        raise ValidationFailed(
            _("This field must be JSON."), code="invalid_json", fields={field: [_("Not valid JSON.")]}
        ) from None
    if not isinstance(value, type(default)):
        raise ValidationFailed(
            _("This field has the wrong shape."), code="invalid_json", fields={field: [_("Wrong shape.")]}
        )
    return value


# --- the board and the queues -------------------------------------------------


@router.get("/stations", response={200: list[StationOut], 403: ErrorOut}, summary="Stations: waiting, late, target")
def station_list(request):
    _require_console(request)
    counts = selectors.station_counts()
    hours = selectors.sla_hours()
    return [
        {
            "station": station,
            "label": str(label),
            "waiting": counts[station]["waiting"],
            "late": counts[station]["late"],
            "target_hours": hours[station],
            "can_work": request.user.has_perm(services.STATION_PERMISSION[station]),
        }
        for station, label in Station.choices
    ]


@router.get(
    "/stations/{station}/queue",
    response={200: list[QueueItemOut], 403: ErrorOut, 404: ErrorOut},
    summary="A station's queue, oldest (late) first",
)
@paginate(PageNumberPagination, page_size=50)
def station_queue(request, station: str, q: str = ""):
    """Search `q` matches a label code, a batch code or words of the title."""
    _require_console(request)
    station = _station(station)
    if not request.user.has_perm(services.STATION_PERMISSION[station]):
        raise PermissionRefused(
            _("Only the %(station)s station can do this.") % {"station": Station(station).label},
            code="station_permission_denied",
        )
    hours = selectors.sla_hours()
    now = timezone.now()
    return _QueueRows(selectors.station_queue(station=station, query=q[:80]), station, hours, now)


class _QueueRows:
    """Paginates like a queryset, maps only the page's rows to the output shape."""

    def __init__(self, queryset, station, hours, now):
        self.queryset, self.station, self.hours, self.now = queryset, station, hours, now

    def count(self):
        return self.queryset.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        items = self.queryset[index]
        return [self._row(item) for item in items]

    def _row(self, item) -> dict:
        clock = selectors.clock_for(item, station=self.station, hours=self.hours, now=self.now)
        return {
            "id": item.pk,
            "title": item.title,
            "label_code": item.consignment.label_code,
            "batch_code": item.consignment.batch.code,
            "status": item.status,
            "age_hours": round(clock.age.total_seconds() / 3600, 1),
            "target_hours": self.hours[self.station],
            "is_late": clock.is_late,
            "seller_name": item.seller.display_name,
        }


# --- one item ------------------------------------------------------------------


@router.get(
    "/ops/items/by-label/{path:code}",
    response={200: OpsItemOut, 403: ErrorOut, 404: ErrorOut},
    summary="Find an item by its label code (or a scanned label URL)",
)
def item_by_label(request, code: str):
    _require_console(request)
    item = selectors.item_by_label(code)
    if item is None:
        raise NotFound(_("No item has this label."), code="label_not_found")
    return _fresh(item.pk)


@router.get("/ops/items/{int:item_id}", response={200: OpsItemOut, 403: ErrorOut, 404: ErrorOut}, summary="One item")
def item_detail(request, item_id: int):
    """Everything the warehouse knows, with the chain of custody (actors by name)."""
    _require_console(request)
    return _fresh(item_id)


# --- station actions ------------------------------------------------------------


class ChannelIn(Schema):
    channel: str = Field(
        ...,
        description="platform (平台款), community (社群款: only in the groups it is dropped into) or both",
        examples=["community"],
    )


@router.post(
    "/ops/items/{int:item_id}/channel",
    response={200: OpsItemOut, **ACTION_ERRORS},
    summary="Where the item is offered (pricing or the community manager)",
)
def channel(request, item_id: int, payload: ChannelIn):
    """While the item is priced or on sale. 403 `channel_denied`, 409 `channel_closed`, 422 `channel_invalid`."""
    _require_console(request)
    services.item_channel_set(item_id=item_id, actor=request.user, channel=payload.channel)
    return _fresh(item_id)


@router.post("/ops/items/{int:item_id}/prescreen", response={200: OpsItemOut, **ACTION_ERRORS}, summary="Pre-screen")
def prescreen(request, item_id: int, payload: PrescreenIn):
    """Accept, or reject with a reason code (`other` needs a note)."""
    _require_console(request)
    services.item_prescreen(
        item_id=item_id, actor=request.user, accept=payload.accept, reason=payload.reason, note=payload.note
    )
    return _fresh(item_id)


@router.post(
    "/ops/items/{int:item_id}/receive", response={200: OpsItemOut, **ACTION_ERRORS}, summary="Receive and label"
)
def receive(request, item_id: int, note: Form[str] = "", photos: File[list[UploadedFile]] = None):
    """Multipart: optional `note`, optional `photos` (on arrival)."""
    _require_console(request)
    services.item_receive(
        item_id=item_id, actor=request.user, note=note[:300], photos=_uploads(ItemPhoto.Kind.RECEIVED, photos)
    )
    return _fresh(item_id)


@router.post("/ops/items/{int:item_id}/grade", response={200: OpsItemOut, **ACTION_ERRORS}, summary="Inspect and grade")
def grade(
    request,
    item_id: int,
    grade: Form[str],
    defects: Form[str] = "",
    measurements: Form[str] = "",
    note: Form[str] = "",
    repair_quote_fen: Form[int | None] = None,
    repair_note: Form[str] = "",
    defect: File[list[UploadedFile]] = None,
    detail: File[list[UploadedFile]] = None,
):
    """Multipart: `grade` (N/S/A/B/C), `defects`, `measurements` (a JSON object: `{"胸围": "92"}`), `note`,
    optional `repair_quote_fen` with `repair_note`; photos in the `defect` and `detail` file fields."""
    _require_console(request)
    services.item_grade(
        item_id=item_id,
        actor=request.user,
        grade=grade,
        defects=defects,
        measurements=_json_field(measurements, field="measurements", default={}),
        note=note[:300],
        repair_quote_fen=repair_quote_fen,
        repair_note=repair_note,
        photos=_uploads(ItemPhoto.Kind.DEFECT, defect) + _uploads(ItemPhoto.Kind.DETAIL, detail),
    )
    return _fresh(item_id)


@router.post(
    "/ops/items/{int:item_id}/authenticate", response={200: OpsItemOut, **ACTION_ERRORS}, summary="Authenticate"
)
def authenticate(
    request,
    item_id: int,
    passed: Form[bool],
    checks: Form[str],
    notes: Form[str] = "",
    photos: File[list[UploadedFile]] = None,
):
    """Multipart: `passed`, `checks` (a JSON list: `[{"point": "走线", "finding": "均匀", "ok": true}]`), `notes`,
    evidence `photos` (at least one)."""
    _require_console(request)
    parsed = _json_field(checks, field="checks", default=[])
    services.item_authenticate(
        item_id=item_id,
        actor=request.user,
        passed=passed,
        checks=[check for check in parsed if isinstance(check, dict)],
        notes=notes[:2000],
        photos=_uploads(ItemPhoto.Kind.AUTHENTICATION, photos),
    )
    return _fresh(item_id)


@router.post("/ops/items/{int:item_id}/care", response={200: OpsItemOut, **ACTION_ERRORS}, summary="Record a care step")
def care_record(
    request,
    item_id: int,
    step: Form[str],
    note: Form[str] = "",
    photo: File[list[UploadedFile]] = None,
):
    """Multipart: `step` (spot_clean, wash, dry_clean, steam, disinfect, leather_care, polish, repair), `note`,
    optional `photo`."""
    _require_console(request)
    services.item_care_record(
        item_id=item_id, actor=request.user, step=step, note=note[:300], photos=_uploads(ItemPhoto.Kind.CARE, photo)
    )
    return _fresh(item_id)


@router.post(
    "/ops/items/{int:item_id}/care/complete", response={200: OpsItemOut, **ACTION_ERRORS}, summary="Care complete"
)
def care_complete(request, item_id: int, payload: NoteIn | None = None):
    _require_console(request)
    services.item_care_complete(item_id=item_id, actor=request.user, note=payload.note if payload else "")
    return _fresh(item_id)


@router.post("/ops/items/{int:item_id}/photograph", response={200: OpsItemOut, **ACTION_ERRORS}, summary="Photograph")
def photograph(
    request,
    item_id: int,
    note: Form[str] = "",
    flat: File[list[UploadedFile]] = None,
    on_body: File[list[UploadedFile]] = None,
    detail: File[list[UploadedFile]] = None,
    defect: File[list[UploadedFile]] = None,
):
    """Multipart: photos in the file fields named by kind: `flat`, `on_body`, `detail`, `defect`."""
    _require_console(request)
    photos = (
        _uploads(ItemPhoto.Kind.FLAT, flat)
        + _uploads(ItemPhoto.Kind.ON_BODY, on_body)
        + _uploads(ItemPhoto.Kind.DETAIL, detail)
        + _uploads(ItemPhoto.Kind.DEFECT, defect)
    )
    services.item_photograph(item_id=item_id, actor=request.user, photos=photos, note=note[:300])
    return _fresh(item_id)


@router.post("/ops/items/{int:item_id}/price", response={200: OpsItemOut, **ACTION_ERRORS}, summary="Propose a price")
def price(request, item_id: int, payload: PriceIn):
    """Without `price_fen` the rule's suggestion is proposed; the seller has 48 hours to answer."""
    _require_console(request)
    services.item_price(item_id=item_id, actor=request.user, price_fen=payload.price_fen, note=payload.note)
    return _fresh(item_id)


@router.post(
    "/ops/items/{int:item_id}/counter-answer",
    response={200: OpsItemOut, **ACTION_ERRORS},
    summary="Answer the seller's counter-offer",
)
def counter_answer(request, item_id: int, payload: CounterAnswerIn):
    _require_console(request)
    services.item_counter_answer(item_id=item_id, actor=request.user, accept=payload.accept, note=payload.note)
    return _fresh(item_id)


@router.post(
    "/ops/items/{int:item_id}/return-shipped",
    response={200: OpsItemOut, **ACTION_ERRORS},
    summary="Shipped back to the seller",
)
def return_shipped(request, item_id: int, payload: ReturnShippedIn):
    _require_console(request)
    services.item_return_shipped(
        item_id=item_id, actor=request.user, carrier=payload.carrier, tracking_number=payload.tracking_number
    )
    return _fresh(item_id)


@router.post(
    "/ops/items/{int:item_id}/loss", response={200: OpsItemOut, **ACTION_ERRORS}, summary="Record lost or damaged"
)
def loss(request, item_id: int, payload: LossIn):
    """Owner only. The item's liability is owed to the seller."""
    _require_console(request)
    services.item_record_loss(item_id=item_id, actor=request.user, note=payload.note)
    return _fresh(item_id)
