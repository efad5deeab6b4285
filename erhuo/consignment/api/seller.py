"""The seller's consignment API: reference data, submitting a batch with photos, following and answering.

Thin routes: parse, call one service, read back through the selectors. A
seller sees only her own batches and items; anyone else's answer 404, as if
they did not exist. Errors leave as `{"code", "detail"}` (core/api.py).
"""

import json
import re
from datetime import datetime

import pydantic
from django.utils.translation import gettext as _
from ninja import Field, Form, Query, Router, Schema, Status
from ninja.pagination import paginate

from erhuo.catalog.models import Brand, Category, Item, ItemPhoto
from erhuo.consignment import selectors, services
from erhuo.consignment.models import Consignment, IntakeBatch, Station
from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import NotFound, ValidationFailed

router = Router(tags=["consignment: seller"])

S = Item.Status
PHOTO_FIELD = re.compile(r"photos_(\d{1,3})")


# --- reference data ----------------------------------------------------------


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None
    authentication: str = Field(..., description="never, always or above_value (inherited from the parent if unset)")
    authentication_threshold_fen: int | None = Field(None, description="For above_value: from this declared value")
    care_steps: list[str] = Field(..., description="Care steps every item of the category goes through")
    returnable: bool
    return_window_days: int
    needs_on_body_photo: bool
    self_ship_max_fen: int = Field(
        ...,
        description="Items declared at most this may stay with the seller (0: never; items that must be "
        "authenticated or disinfected always come to the warehouse)",
    )


class BrandOut(Schema):
    id: int
    name: str
    name_zh: str
    tier: str


@router.get("/consignment/categories", auth=None, response=list[CategoryOut], summary="Categories and their rules")
def category_list(request):
    """The category tree as a flat list (`parent_id`), with each category's effective rules."""
    rows = []
    for category in Category.objects.select_related("parent").order_by("position", "pk"):
        rule, threshold = category.effective_authentication()
        rows.append(
            {
                "id": category.pk,
                "name": category.name,
                "parent_id": category.parent_id,
                "authentication": rule,
                "authentication_threshold_fen": threshold,
                "care_steps": category.effective_care_steps(),
                "returnable": category.effective_returnable(),
                "return_window_days": category.effective_return_window_days(),
                "needs_on_body_photo": category.effective_needs_on_body_photo(),
                "self_ship_max_fen": selectors.self_ship_limit_fen(category),
            }
        )
    return rows


@router.get("/consignment/brands", auth=None, response=list[BrandOut], summary="Brands and their tiers")
def brand_list(request):
    return list(Brand.objects.order_by("name"))


# --- batches -------------------------------------------------------------------


class BatchItemOut(Schema):
    id: int
    title: str
    status: str
    status_label: str


class BatchOut(Schema):
    id: int
    code: str
    status: str
    status_label: str
    note: str
    created_at: datetime
    carrier: str
    tracking_number: str
    shipped_at: datetime | None
    ship_to: str | None = Field(None, description="Where to send the accepted items, once the batch is screened")
    items: list[BatchItemOut]

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_ship_to(obj):
        return selectors.warehouse_address() if obj.status == IntakeBatch.Status.SCREENED else None

    @staticmethod
    def resolve_items(obj):
        return [
            {
                "id": c.item.pk,
                "title": c.item.title,
                "status": c.item.status,
                "status_label": c.item.get_status_display(),
            }
            for c in obj.consignments.all()
        ]


class ItemDraftIn(Schema):
    title: str = Field(..., max_length=80)
    category_id: int
    declared_value_fen: int = Field(..., description="What the item is worth to the seller, in fen")
    brand_id: int | None = None
    description: str = Field("", max_length=2000)
    size: str = Field("", max_length=30)
    colour: str = Field("", max_length=30)
    original_price_fen: int | None = None
    purchase_year: int | None = None
    declared_grade: str = Field("", max_length=1, description="N, S, A, B or C")
    defects: str = Field("", max_length=1000)
    fulfilment: str = Field(Item.Fulfilment.PLATFORM, max_length=16, description="platform or self_ship")
    unsold_choice: str = Field(Consignment.UnsoldChoice.RETURN, max_length=8, description="return or donate")


class BatchFormIn(Schema):
    items: str = Field(
        ...,
        max_length=200_000,
        description="A JSON array of items: the fields of ItemDraftIn (amounts in fen). "
        "Photos are files named photos_0, photos_1, … (one or more per item index).",
    )
    note: str = Field("", max_length=300)


class ShipIn(Schema):
    carrier: str = Field(..., max_length=30)
    tracking_number: str = Field(..., max_length=40)


def _parse_items(raw: str) -> list[ItemDraftIn]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValidationFailed(
            _("The items field is not valid JSON."), fields={"items": [_("Send a JSON array of items.")]}
        ) from None
    if not isinstance(data, list) or not data:
        raise ValidationFailed(_("Add at least one item."), fields={"items": [_("Send a JSON array of items.")]})
    if len(data) > services.MAX_ITEMS_PER_BATCH:
        raise ValidationFailed(
            _("At most %(count)s items per batch.") % {"count": services.MAX_ITEMS_PER_BATCH}, code="batch_too_large"
        )
    drafts, errors = [], {}
    for index, entry in enumerate(data):
        if not isinstance(entry, dict):
            errors[f"items.{index}"] = [_("Each item is a JSON object.")]
            continue
        try:
            drafts.append(ItemDraftIn.model_validate(entry))
        except pydantic.ValidationError as error:
            for problem in error.errors():
                key = ".".join(["items", str(index), *(str(part) for part in problem["loc"])])
                errors.setdefault(key, []).append(problem["msg"])
    if errors:
        raise ValidationFailed(_("Some items are not complete."), fields=errors)
    return drafts


def _photos_by_index(files, count: int) -> dict[int, list]:
    photos: dict[int, list] = {}
    unknown = {}
    for key in files:
        match = PHOTO_FIELD.fullmatch(key)
        if match is None or int(match.group(1)) >= count:
            unknown[key] = [_("No item has this index.")]
            continue
        photos[int(match.group(1))] = files.getlist(key)
    if unknown:
        raise ValidationFailed(_("Name the photo fields photos_0, photos_1, … by item."), fields=unknown)
    return photos


def _batch_or_404(request, batch_id: int) -> IntakeBatch:
    batch = selectors.batch_for_seller(seller=request.user, batch_id=batch_id)
    if batch is None:
        raise NotFound(_("No such batch."), code="batch_not_found")
    return batch


@router.post(
    "/consignment/batches",
    response={201: BatchOut, 403: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    summary="Submit a batch of items with photos (multipart)",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["items", "photos_0"],
                        "properties": {
                            "items": {"type": "string", "description": "JSON array of items (see ItemDraftIn)"},
                            "note": {"type": "string", "maxLength": 300},
                            "photos_0": {"type": "array", "items": {"type": "string", "format": "binary"}},
                            "photos_1": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        },
                    }
                }
            },
            "required": True,
        }
    },
)
def batch_create(request, payload: Form[BatchFormIn]):
    """Each item needs at least one photo (JPEG, PNG or WebP). Nothing is created unless every item and photo is
    valid; each item then waits for pre-screening."""
    items = _parse_items(payload.items)
    photos = _photos_by_index(request.FILES, len(items))
    drafts = [
        services.ItemDraft(
            **item.dict(),
            photos=[services.PhotoUpload(kind=ItemPhoto.Kind.SELLER, file=f) for f in photos.get(index, [])],
        )
        for index, item in enumerate(items)
    ]
    batch = services.batch_submit(seller=request.user, drafts=drafts, note=payload.note)
    return Status(201, _batch_or_404(request, batch.pk))


@router.get("/consignment/batches", response=list[BatchOut], summary="My batches, newest first")
@paginate(PageNumberPagination, page_size=20)
def batch_list(request):
    return selectors.seller_batches(seller=request.user)


@router.get("/consignment/batches/{batch_id}", response={200: BatchOut, 404: ErrorOut}, summary="One of my batches")
def batch_detail(request, batch_id: int):
    return Status(200, _batch_or_404(request, batch_id))


@router.post(
    "/consignment/batches/{batch_id}/shipped",
    response={200: BatchOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Tell us the accepted items are on their way",
)
def batch_shipped(request, batch_id: int, payload: ShipIn):
    services.batch_mark_shipped(
        batch_id=batch_id, seller=request.user, carrier=payload.carrier, tracking_number=payload.tracking_number
    )
    return Status(200, _batch_or_404(request, batch_id))


# --- items -----------------------------------------------------------------------


class PhotoOut(Schema):
    id: int
    kind: str
    url: str
    thumbnail_url: str | None
    width: int
    height: int


class ClockOut(Schema):
    station: str
    station_label: str
    age_hours: float
    target_hours: int
    is_late: bool


def _photo(request, photo: ItemPhoto) -> dict:
    return {
        "id": photo.pk,
        "kind": photo.kind,
        "url": request.build_absolute_uri(photo.image.url),
        "thumbnail_url": request.build_absolute_uri(photo.thumbnail.url) if photo.thumbnail else None,
        "width": photo.width,
        "height": photo.height,
    }


def _sla_hours(request) -> dict[str, int]:
    # Read once per request, however many items are serialised.
    if not hasattr(request, "_erhuo_sla_hours"):
        request._erhuo_sla_hours = selectors.sla_hours()
    return request._erhuo_sla_hours


class ItemOut(Schema):
    id: int
    title: str
    status: str
    status_label: str
    category_id: int
    category: str
    brand_id: int | None
    brand: str | None
    fulfilment: str
    batch_id: int
    batch_code: str
    label_code: str | None
    price_fen: int | None
    created_at: datetime
    status_changed_at: datetime
    thumbnail_url: str | None
    clock: ClockOut | None = Field(None, description="The station the item waits at, against its target")

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_category(obj):
        return obj.category.name

    @staticmethod
    def resolve_brand(obj):
        return str(obj.brand) if obj.brand_id else None

    @staticmethod
    def resolve_batch_id(obj):
        return obj.consignment.batch_id

    @staticmethod
    def resolve_batch_code(obj):
        return obj.consignment.batch.code

    @staticmethod
    def resolve_label_code(obj):
        return obj.consignment.label_code

    @staticmethod
    def resolve_thumbnail_url(obj, context):
        photos = list(obj.photos.all())
        if not photos:
            return None
        photo = next((p for p in photos if p.kind == ItemPhoto.Kind.FLAT), photos[0])
        return _photo(context["request"], photo)["thumbnail_url"] or _photo(context["request"], photo)["url"]

    @staticmethod
    def resolve_clock(obj, context):
        station = selectors.station_for_item(obj, obj.consignment)
        if station is None:
            return None
        hours = _sla_hours(context["request"])
        clock = selectors.clock_for(obj, station=station, hours=hours)
        return {
            "station": station,
            "station_label": str(Station(station).label),
            "age_hours": round(clock.age.total_seconds() / 3600, 1),
            "target_hours": hours[station],
            "is_late": clock.is_late,
        }


class ConsignmentOut(Schema):
    declared_value_fen: int
    liability_fen: int
    needs_authentication: bool
    required_care_steps: list[str]
    rejection_reason: str
    rejection_reason_label: str
    rejection_note: str
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
    unsold_choice: str
    markdown_steps_applied: int
    return_reason: str
    withdrawal_fee_fen: int
    return_shipping_fee_fen: int
    ship_by: datetime | None

    @staticmethod
    def resolve_rejection_reason_label(obj):
        return obj.get_rejection_reason_display() if obj.rejection_reason else ""


class ItemDetailOut(ItemOut):
    description: str
    size: str
    colour: str
    measurements: dict
    original_price_fen: int | None
    purchase_year: int | None
    declared_grade: str
    grade: str
    defects: str
    floor_price_fen: int | None
    listed_at: datetime | None
    consignment: ConsignmentOut
    photos: list[PhotoOut]

    @staticmethod
    def resolve_photos(obj, context):
        return [_photo(context["request"], photo) for photo in obj.photos.all()]


class StepPhotoOut(Schema):
    kind: str
    url: str
    thumbnail_url: str | None


class StepOut(Schema):
    from_state: str = Field(..., alias="from")
    to: str
    to_label: str
    at: datetime
    by: str = Field(..., description="you, system, staff (an operator) or member")
    by_role: str = Field(..., description="Who, by role: operators are never named")
    note: str
    reason_label: str
    data: dict
    photos: list[StepPhotoOut]


class PriceAcceptIn(Schema):
    floor_price_fen: int | None = Field(None, description="Markdowns never go below it; at most the price")


class PriceCounterIn(Schema):
    counter_price_fen: int = Field(..., description="The price you ask instead, in fen")


class RepairIn(Schema):
    accept: bool


class WithdrawIn(Schema):
    note: str = Field("", max_length=300)


def _item_or_404(request, item_id: int) -> Item:
    item = selectors.seller_item(seller=request.user, item_id=item_id)
    if item is None:
        raise NotFound(_("No such item."), code="item_not_found")
    return item


@router.get("/consignment/items", response=list[ItemOut], summary="My consigned items, newest first")
@paginate(PageNumberPagination, page_size=20)
def item_list(request, status: str = Query("", max_length=24, description="Only items in this status")):
    if status and status not in S.values:
        raise ValidationFailed(_("Unknown status."), fields={"status": [_("Unknown status.")]})
    return selectors.seller_items(seller=request.user, status=status)


@router.get(
    "/consignment/items/{item_id}", response={200: ItemDetailOut, 404: ErrorOut}, summary="One of my items, in full"
)
def item_detail(request, item_id: int):
    services.price_deadlines_settle()
    return Status(200, _item_or_404(request, item_id))


@router.get(
    "/consignment/items/{item_id}/chain",
    response={200: list[StepOut], 404: ErrorOut},
    by_alias=True,
    summary="The item's chain of custody, oldest step first",
)
def item_chain(request, item_id: int):
    item = _item_or_404(request, item_id)
    return Status(
        200,
        [
            {
                "from": step.from_state,
                "to": step.to_state,
                "to_label": step.to_label,
                "at": step.at,
                "by": step.by,
                "by_role": step.by_role,
                "note": step.note,
                "reason_label": step.reason_label,
                "data": step.data,
                "photos": [
                    {
                        "kind": photo.kind,
                        "url": request.build_absolute_uri(photo.image.url),
                        "thumbnail_url": request.build_absolute_uri(photo.thumbnail.url) if photo.thumbnail else None,
                    }
                    for photo in step.photos
                ],
            }
            for step in selectors.custody_steps(item=item, viewer=request.user)
        ],
    )


_ANSWER_RESPONSES = {200: ItemDetailOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@router.post(
    "/consignment/items/{item_id}/price/accept",
    response=_ANSWER_RESPONSES,
    summary="Accept the suggested price (the item is listed)",
)
def price_accept(request, item_id: int, payload: PriceAcceptIn):
    services.seller_price_accept(item_id=item_id, seller=request.user, floor_price_fen=payload.floor_price_fen)
    return Status(200, _item_or_404(request, item_id))


@router.post(
    "/consignment/items/{item_id}/price/counter",
    response=_ANSWER_RESPONSES,
    summary="Counter the suggested price (our pricing team answers)",
)
def price_counter(request, item_id: int, payload: PriceCounterIn):
    services.seller_price_counter(item_id=item_id, seller=request.user, counter_price_fen=payload.counter_price_fen)
    return Status(200, _item_or_404(request, item_id))


@router.post("/consignment/items/{item_id}/repair", response=_ANSWER_RESPONSES, summary="Answer the quoted repair")
def repair_answer(request, item_id: int, payload: RepairIn):
    services.seller_repair_answer(item_id=item_id, seller=request.user, accept=payload.accept)
    return Status(200, _item_or_404(request, item_id))


@router.post(
    "/consignment/items/{item_id}/withdraw",
    response=_ANSWER_RESPONSES,
    summary="Withdraw an item (free before shipping; a fee once in the warehouse)",
)
def withdraw(request, item_id: int, payload: WithdrawIn):
    services.seller_withdraw(item_id=item_id, seller=request.user, note=payload.note)
    return Status(200, _item_or_404(request, item_id))
