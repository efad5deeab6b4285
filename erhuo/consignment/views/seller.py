"""The seller's consignment pages: my batches, a new batch, one batch with its slip, one item and its steps.

Thin: forms parse, one service writes, selectors read. Every page needs a
login and shows only the caller's own batches and items (404 otherwise).
A member without the seller role can read her pages but every POST is
refused (403).
"""

import math
from dataclasses import dataclass
from functools import wraps

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erhuo.accounts import roles as role_registry
from erhuo.catalog.models import Brand, Category, Item, ItemPhoto
from erhuo.consignment import selectors, services
from erhuo.consignment.forms import (
    CARRIERS,
    BatchNoteForm,
    ItemFormSet,
    PriceAcceptForm,
    PriceCounterForm,
    RepairAnswerForm,
    ShipForm,
    WithdrawForm,
    brand_choices,
    category_choices,
)
from erhuo.consignment.models import Consignment, IntakeBatch, Station
from erhuo.core.errors import DomainError
from erhuo.pricing import fees

S = Item.Status
BATCHES_PER_PAGE = 10


def is_seller(user) -> bool:
    return user.is_authenticated and user.is_active and user.has_role(role_registry.SELLER)


def seller_page(view):
    """Login for every method; the seller role for every POST."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST" and not is_seller(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


# --- what a row of an item shows ---------------------------------------------


@dataclass
class ItemRow:
    item: Item
    consignment: Consignment | None
    photo: ItemPhoto | None
    thumb_url: str
    station: str | None
    station_label: str
    target_hours: int | None
    is_late: bool
    clock_text: str
    todos: list[str]
    notes: list[str]


def _hours_text(hours: int) -> str:
    if hours >= 48:
        return _("%(days)s d %(hours)s h") % {"days": hours // 24, "hours": hours % 24}
    return _("%(hours)s h") % {"hours": hours}


def _cover(item: Item) -> ItemPhoto | None:
    photos = list(item.photos.all())
    for photo in photos:
        if photo.kind == ItemPhoto.Kind.FLAT:
            return photo
    return photos[0] if photos else None


def _thumb_url(photo: ItemPhoto | None) -> str:
    if photo is None:
        return ""
    return photo.thumbnail.url if photo.thumbnail else photo.image.url


def item_row(item: Item, *, batch: IntakeBatch | None, hours: dict[str, int], now) -> ItemRow:
    consignment = getattr(item, "consignment", None)
    station = selectors.station_for_item(item, consignment)
    clock_text, is_late, target = "", False, None
    if station is not None:
        clock = selectors.clock_for(item, station=station, hours=hours, now=now)
        target = hours[station]
        is_late = clock.is_late
        if is_late:
            late = max(1, math.floor((clock.age - clock.target).total_seconds() / 3600))
            clock_text = _("Late by %(time)s (target %(target)s h)") % {"time": _hours_text(late), "target": target}
        else:
            left = max(1, math.ceil(clock.remaining.total_seconds() / 3600))
            clock_text = _("Within target: %(time)s left of %(target)s h") % {
                "time": _hours_text(left),
                "target": target,
            }
    todos, notes = [], []
    if consignment is not None:
        if item.status == S.PRICED and consignment.price_decision == Consignment.PriceDecision.PENDING:
            todos.append(
                _("Answer our price proposal by %(deadline)s")
                % {"deadline": timezone.localtime(consignment.price_deadline).strftime("%m-%d %H:%M")}
                if consignment.price_deadline
                else _("Answer our price proposal")
            )
        if item.status == S.PRICED and consignment.price_decision == Consignment.PriceDecision.COUNTERED:
            notes.append(_("Your counter-offer is with our pricing team."))
        if consignment.repair_consent == Consignment.RepairConsent.ASKED:
            todos.append(_("Answer the repair question"))
        if item.status == S.REJECTED and consignment.rejection_reason:
            notes.append(consignment.get_rejection_reason_display())
        if item.status in (S.RETURN_TO_SELLER, S.RETURNED) and consignment.return_reason:
            notes.append(consignment.return_reason)
    if (
        item.status == S.ACCEPTED
        and item.fulfilment == Item.Fulfilment.PLATFORM
        and batch is not None
        and batch.status == IntakeBatch.Status.SCREENED
    ):
        todos.append(_("Send it to our warehouse with the batch"))
    if item.status == S.ACCEPTED and item.fulfilment == Item.Fulfilment.SELF_SHIP:
        notes.append(_("It stays with you: do not send it. We price it from your photos."))
    if item.status == S.SOLD and item.fulfilment == Item.Fulfilment.SELF_SHIP:
        todos.append(_("Ship it to the buyer"))
    photo = _cover(item)
    return ItemRow(
        item=item,
        consignment=consignment,
        photo=photo,
        thumb_url=_thumb_url(photo),
        station=station,
        station_label=str(Station(station).label) if station else "",
        target_hours=target,
        is_late=is_late,
        clock_text=clock_text,
        todos=todos,
        notes=notes,
    )


def _batch_rows(batch: IntakeBatch, *, hours, now) -> list[ItemRow]:
    return [item_row(c.item, batch=batch, hours=hours, now=now) for c in batch.consignments.all()]


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def authentication_report_url(item_id: int) -> str:
    try:
        return reverse("consignment:authentication_report", args=[item_id])
    except NoReverseMatch:
        return f"/items/{item_id}/authentication/"


# --- my batches -------------------------------------------------------------


@seller_page
@require_GET
def home(request):
    # Overdue price answers are settled on read, so nothing depends on the worker being up.
    services.price_deadlines_settle()
    page = Paginator(selectors.seller_batches(seller=request.user), BATCHES_PER_PAGE).get_page(request.GET.get("page"))
    hours, now = selectors.sla_hours(), timezone.now()
    seller = is_seller(request.user)
    batches = [
        {
            "batch": batch,
            "rows": _batch_rows(batch, hours=hours, now=now),
            "ship_form": ShipForm(prefix=f"b{batch.pk}")
            if seller and batch.status == IntakeBatch.Status.SCREENED
            else None,
        }
        for batch in page
    ]
    return render(
        request,
        "consignment/seller/home.html",
        {
            "is_seller": seller,
            "refusal": services.consign_refusal(request.user),
            "page": page,
            "batches": batches,
            "warehouse_address": selectors.warehouse_address(),
            "carriers": CARRIERS,
        },
    )


# --- a new batch ------------------------------------------------------------


def _formset(data=None, files=None) -> ItemFormSet:
    choices, limits = category_choices(Category.objects.order_by("position", "pk"))
    return ItemFormSet(
        data,
        files,
        prefix="items",
        form_kwargs={
            "category_choices": choices,
            "category_limits": limits,
            "brand_choices": brand_choices(Brand.objects.order_by("name")),
        },
    )


def _draft(form) -> services.ItemDraft:
    data = form.cleaned_data
    return services.ItemDraft(
        title=data["title"],
        category_id=data["category"],
        brand_id=data.get("brand"),
        description=data.get("description", ""),
        size=data.get("size", ""),
        colour=data.get("colour", ""),
        declared_value_fen=data["declared_value"],
        original_price_fen=data.get("original_price"),
        purchase_year=data.get("purchase_year"),
        declared_grade=data["declared_grade"],
        defects=data.get("defects", ""),
        fulfilment=data["fulfilment"],
        unsold_choice=data["unsold_choice"],
        photos=[services.PhotoUpload(kind=ItemPhoto.Kind.SELLER, file=f) for f in data.get("photos", [])],
    )


@seller_page
@require_http_methods(["GET", "POST"])
def batch_new(request):
    seller = is_seller(request.user)
    if request.method == "GET":
        return render(
            request,
            "consignment/seller/batch_new.html",
            {
                "is_seller": seller,
                "refusal": services.consign_refusal(request.user),
                "formset": _formset(),
                "note_form": BatchNoteForm(prefix="batch"),
            },
        )
    formset = _formset(request.POST, request.FILES)
    note_form = BatchNoteForm(request.POST, prefix="batch")
    loose_errors, status = [], 422
    if formset.is_valid() and note_form.is_valid():
        # Blocks added and left empty are skipped; the first block always counts.
        drafts = [_draft(form) for index, form in enumerate(formset.forms) if index == 0 or form.has_changed()]
        try:
            batch = services.batch_submit(seller=request.user, drafts=drafts, note=note_form.cleaned_data["note"])
        except DomainError as error:
            loose_errors = formset.add_service_error(error)
            status = error.status
        else:
            messages.success(
                request,
                _("Batch %(code)s is submitted: we pre-screen each item from its photos within 24 hours.")
                % {"code": batch.code},
            )
            return redirect("consignment:seller_batch", batch_id=batch.pk)
    had_photos = any(f for key in request.FILES for f in request.FILES.getlist(key))
    return render(
        request,
        "consignment/seller/batch_new.html",
        {
            "is_seller": seller,
            "refusal": services.consign_refusal(request.user),
            "formset": formset,
            "note_form": note_form,
            "loose_errors": loose_errors,
            "photos_dropped": had_photos,
        },
        status=status,
    )


# --- one batch ----------------------------------------------------------------


def _batch_or_404(request, batch_id: int) -> IntakeBatch:
    batch = selectors.batch_for_seller(seller=request.user, batch_id=batch_id)
    if batch is None:
        raise Http404
    return batch


def _render_batch(request, batch: IntakeBatch, *, ship_form=None, status: int = 200):
    seller = is_seller(request.user)
    if ship_form is None and seller and batch.status == IntakeBatch.Status.SCREENED:
        ship_form = ShipForm(prefix=f"b{batch.pk}")
    rows = _batch_rows(batch, hours=selectors.sla_hours(), now=timezone.now())
    return render(
        request,
        "consignment/seller/batch.html",
        {
            "is_seller": seller,
            "batch": batch,
            "rows": rows,
            "to_ship": [
                row
                for row in rows
                if row.item.status in (S.ACCEPTED, S.IN_TRANSIT) and row.item.fulfilment == Item.Fulfilment.PLATFORM
            ],
            "ship_form": ship_form,
            "qr_svg": _qr_svg(batch.code),
            "warehouse_address": selectors.warehouse_address(),
            "carriers": CARRIERS,
        },
        status=status,
    )


@seller_page
@require_GET
def batch_detail(request, batch_id: int):
    return _render_batch(request, _batch_or_404(request, batch_id))


@seller_page
@require_POST
def batch_shipped(request, batch_id: int):
    form = ShipForm(request.POST, prefix=f"b{batch_id}")
    status = 422
    if form.is_valid():
        try:
            batch = services.batch_mark_shipped(
                batch_id=batch_id,
                seller=request.user,
                carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"],
            )
        except DomainError as error:
            if error.status == 404:
                raise Http404 from None
            form.add_service_error(error)
            status = error.status
        else:
            messages.success(
                request,
                _("Thank you! We will tell you when batch %(code)s arrives.") % {"code": batch.code},
            )
            return redirect(_next_url(request, reverse("consignment:seller_batch", args=[batch.pk])))
    return _render_batch(request, _batch_or_404(request, batch_id), ship_form=form, status=status)


# --- one item -------------------------------------------------------------------


def _item_or_404(request, item_id: int) -> Item:
    item = selectors.seller_item(seller=request.user, item_id=item_id)
    if item is None:
        raise Http404
    return item


def _withdrawal(item: Item) -> dict | None:
    """Whether the seller may withdraw the item now, and what it costs (mirrors services.seller_withdraw)."""
    self_ship = item.fulfilment == Item.Fulfilment.SELF_SHIP
    if item.status in (S.SUBMITTED, S.ACCEPTED) or (self_ship and item.status in (S.PRICED, S.LISTED)):
        return {"fee_fen": 0, "return_fee_fen": 0, "total_fen": 0}
    if item.status in services.IN_WAREHOUSE:
        fee, shipping = services.WITHDRAWAL_FEE_FEN, services.RETURN_SHIPPING_FEE_FEN
        return {"fee_fen": fee, "return_fee_fen": shipping, "total_fen": fee + shipping}
    return None


def _render_item(request, item: Item, *, forms: dict | None = None, status: int = 200):
    consignment = item.consignment
    seller = is_seller(request.user)
    forms = forms or {}
    price_pending = item.status == S.PRICED and consignment.price_decision == Consignment.PriceDecision.PENDING
    report_url = ""
    if consignment.needs_authentication and selectors.public_authentication_report(item_id=item.pk) is not None:
        report_url = authentication_report_url(item.pk)
    row = item_row(item, batch=consignment.batch, hours=selectors.sla_hours(), now=timezone.now())
    # What a sale at the suggested price would leave her, and the commission rule, before she answers.
    price_breakdown = None
    if price_pending and consignment.suggested_price_fen:
        price_breakdown = selectors.sale_breakdown(item, price_fen=consignment.suggested_price_fen)
    return render(
        request,
        "consignment/seller/item.html",
        {
            "is_seller": seller,
            "item": item,
            "consignment": consignment,
            "row": row,
            # What buyers will see first (flat, on-body, details, defects), then the working photos.
            "photos": sorted(item.photos.all(), key=lambda photo: photo.kind not in ItemPhoto.PUBLIC_KINDS),
            "steps": selectors.custody_steps(item=item, viewer=request.user),
            "price_pending": price_pending,
            "accept_form": forms.get("accept") or PriceAcceptForm(),
            "counter_form": forms.get("counter") or PriceCounterForm(),
            "repair_asked": consignment.repair_consent == Consignment.RepairConsent.ASKED,
            "repair_errors": forms.get("repair_errors", []),
            "withdraw_form": forms.get("withdraw") or WithdrawForm(),
            "withdrawal": _withdrawal(item),
            "report_url": report_url,
            "price_breakdown": price_breakdown,
            "commission_tiers": fees.tier_rows() if price_pending else [],
        },
        status=status,
    )


@seller_page
@require_GET
def item_detail(request, item_id: int):
    services.price_deadlines_settle()
    return _render_item(request, _item_or_404(request, item_id))


@seller_page
@require_GET
def item_timeline(request, item_id: int):
    item = _item_or_404(request, item_id)
    consignment = item.consignment
    return render(
        request,
        "consignment/seller/_timeline.html",
        {
            "item": item,
            "consignment": consignment,
            "steps": selectors.custody_steps(item=item, viewer=request.user),
            "shown_status": request.GET.get("status", item.status)[:24],
            # The item's current step and clock above the timeline are refreshed along with it (htmx out-of-band).
            "oob": True,
            "row": item_row(item, batch=consignment.batch, hours=selectors.sla_hours(), now=timezone.now()),
        },
    )


def _item_action(request, item_id: int, *, form_key: str, form, call, success: str):
    """Run one seller answer: the service on a valid form, else the item page with the errors and nothing changed."""
    status = 422
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except DomainError as error:
            if error.status == 404:
                raise Http404 from None
            form.add_service_error(error)
            status = error.status
        else:
            messages.success(request, success)
            return redirect("consignment:seller_item", item_id=item_id)
    forms = {form_key: form}
    if form_key == "repair":
        forms["repair_errors"] = [str(e) for errors in form.errors.values() for e in errors]
    return _render_item(request, _item_or_404(request, item_id), forms=forms, status=status)


@seller_page
@require_POST
def price_accept(request, item_id: int):
    return _item_action(
        request,
        item_id,
        form_key="accept",
        form=PriceAcceptForm(request.POST),
        call=lambda data: services.seller_price_accept(
            item_id=item_id, seller=request.user, floor_price_fen=data["floor_price"]
        ),
        success=_("Thank you: the item is listed at the price you accepted."),
    )


@seller_page
@require_POST
def price_counter(request, item_id: int):
    return _item_action(
        request,
        item_id,
        form_key="counter",
        form=PriceCounterForm(request.POST),
        call=lambda data: services.seller_price_counter(
            item_id=item_id, seller=request.user, counter_price_fen=data["counter_price"]
        ),
        success=_("Your counter-offer is sent; our pricing team will answer."),
    )


@seller_page
@require_POST
def repair_answer(request, item_id: int):
    form = RepairAnswerForm(request.POST)
    accepted = request.POST.get("answer") == "accept"
    return _item_action(
        request,
        item_id,
        form_key="repair",
        form=form,
        call=lambda data: services.seller_repair_answer(
            item_id=item_id, seller=request.user, accept=data["answer"] == "accept"
        ),
        success=_("Thank you: we will repair it.") if accepted else _("Understood: we will not repair it."),
    )


@seller_page
@require_POST
def withdraw(request, item_id: int):
    return _item_action(
        request,
        item_id,
        form_key="withdraw",
        form=WithdrawForm(request.POST),
        call=lambda data: services.seller_withdraw(item_id=item_id, seller=request.user, note=data["note"]),
        success=_("The item is withdrawn."),
    )


urlpatterns = [
    path("", home, name="seller_home"),
    path("new/", batch_new, name="seller_batch_new"),
    path("batches/<int:batch_id>/", batch_detail, name="seller_batch"),
    path("batches/<int:batch_id>/shipped/", batch_shipped, name="seller_batch_shipped"),
    path("items/<int:item_id>/", item_detail, name="seller_item"),
    path("items/<int:item_id>/timeline/", item_timeline, name="seller_item_timeline"),
    path("items/<int:item_id>/price/accept/", price_accept, name="seller_price_accept"),
    path("items/<int:item_id>/price/counter/", price_counter, name="seller_price_counter"),
    path("items/<int:item_id>/repair/", repair_answer, name="seller_repair_answer"),
    path("items/<int:item_id>/withdraw/", withdraw, name="seller_withdraw"),
]
