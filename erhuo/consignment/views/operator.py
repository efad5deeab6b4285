"""Operator pages of the consignment pipeline.

The station board, each station's queue (with bulk actions where one click
fits many items), the work page of one item with the form of the station it
waits at, the scan box and the printable QR label. Thin: the forms parse
what people type, one service call does the work, selectors read.

Every page needs the operator console permission; a station's queue and its
form need that station's permission as well (the services check it again).
Each work form carries the status the operator saw (`expected_status`), so
that a step someone else did meanwhile is reported as such instead of being
done twice.
"""

from functools import wraps

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from erhuo.accounts.forms import ServiceFormMixin
from erhuo.catalog.models import CareStep, Grade, Item, ItemPhoto
from erhuo.consignment import selectors, services
from erhuo.consignment.models import Consignment, RejectionReason, Station
from erhuo.core import states
from erhuo.core.errors import DomainError, ValidationFailed
from erhuo.core.money import format_fen, parse_yuan
from erhuo.pricing.rules import suggest_price

S = Item.Status
CONSOLE_PERMISSION = "accounts.view_operator_console"
LOSS_PERMISSION = "consignment.record_loss"
QUEUE_PAGE_SIZE = 50
IMAGE_ACCEPT = "image/jpeg,image/png,image/webp"
# A service's field name → the form field it belongs to.
SERVICE_FIELDS = {"repair_quote_fen": "repair_quote", "price_fen": "price", "checks": "point_0"}


def operator_required(view):
    """Logged in (else the login page) and allowed into the operator console (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm(CONSOLE_PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _station_or_404(station: str) -> str:
    if station not in Station.values:
        raise Http404
    return station


def _can_work(user, station: str | None) -> bool:
    return station is not None and user.has_perm(services.STATION_PERMISSION[station])


def _duration(delta) -> str:
    hours = int(abs(delta.total_seconds()) // 3600)
    if hours < 1:
        return _("<1 h")
    if hours < 48:
        return _("%(hours)s h") % {"hours": hours}
    return _("%(days)s d %(hours)s h") % {"days": hours // 24, "hours": hours % 24}


def _clock_text(clock) -> str:
    if clock.is_late:
        return _("late by %(time)s") % {"time": _duration(clock.remaining)}
    return _("%(time)s left") % {"time": _duration(clock.remaining)}


def _first_thumbnail(item):
    for photo in item.photos.all():
        return (photo.thumbnail or photo.image).url
    return ""


# --- forms ------------------------------------------------------------------


class ButtonValue(forms.HiddenInput):
    """The value comes from the submit button pressed (name="decision"); nothing to render."""

    def render(self, name, value, attrs=None, renderer=None):
        return ""


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several images in one input; the services validate each one."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": IMAGE_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        cleaned = [single(file, initial) for file in files if file]
        if self.required and not cleaned:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return cleaned


def _yuan_or_none(value: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return parse_yuan(value)
    except ValidationFailed as error:
        raise forms.ValidationError(str(error.message)) from None


def _yuan_input(**attrs):
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", **attrs})


class OperatorForm(ServiceFormMixin, forms.Form):
    """Every work form posts the status the operator saw."""

    expected_status = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, item=None, **kwargs):
        self.item = item
        super().__init__(*args, **kwargs)
        if item is not None and not self.is_bound:
            self.fields["expected_status"].initial = item.status

    def add_service_error(self, error: DomainError) -> None:
        for name, field_messages in error.fields.items():
            target = SERVICE_FIELDS.get(name, name)
            for message in field_messages:
                if target in self.fields:
                    self.add_error(target, message)


class PrescreenForm(OperatorForm):
    decision = forms.ChoiceField(
        choices=[("accept", gettext_lazy("Accept")), ("reject", gettext_lazy("Reject"))], widget=ButtonValue
    )
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason (when rejecting)"),
        choices=[("", "—"), *RejectionReason.choices],
        required=False,
    )
    note = forms.CharField(
        label=gettext_lazy("Note to the seller"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReceiveForm(OperatorForm):
    note = forms.CharField(
        label=gettext_lazy("Note"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    photos = MultipleImageField(label=gettext_lazy("Photos on arrival (optional)"))


MEASUREMENT_ROWS = 5
# Suggested measurement names by top-level category (typed values stay free).
MEASUREMENT_KEYS = {
    "womens": ["胸围", "衣长", "肩宽", "袖长", "腰围"],
    "bags": ["长", "宽", "高", "肩带长"],
    "luxury": ["长", "宽", "高", "肩带长"],
    "shoes": ["鞋码", "内长", "跟高"],
    "accessories": ["长", "宽"],
    "baby": ["长", "宽", "高"],
}
CHECK_ROWS = 6
CHECK_POINTS = ["五金 刻印", "走线", "皮质", "内标", "序列号"]


def _root_slug(category) -> str:
    return category.parent.slug if category.parent_id else category.slug


class GradeForm(OperatorForm):
    grade = forms.ChoiceField(label=gettext_lazy("Condition grade"), choices=Grade.choices, widget=forms.RadioSelect)
    defects = forms.CharField(
        label=gettext_lazy("Defects"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required for grade C. Photograph each defect."),
    )
    note = forms.CharField(label=gettext_lazy("Inspection note"), max_length=300, required=False)
    repair_quote = forms.CharField(
        label=gettext_lazy("Repair quote in yuan (optional)"),
        required=False,
        max_length=12,
        widget=_yuan_input(placeholder="80"),
        help_text=gettext_lazy("The seller is asked to consent to the fee before any repair."),
    )
    repair_note = forms.CharField(label=gettext_lazy("Repair needed"), max_length=300, required=False)
    defect_photos = MultipleImageField(label=gettext_lazy("Defect photos"))
    detail_photos = MultipleImageField(label=gettext_lazy("Detail photos"))

    def __init__(self, *args, item=None, **kwargs):
        super().__init__(*args, item=item, **kwargs)
        existing = list((item.measurements or {}).items()) if item is not None else []
        keys = [key for key, _value in existing] or (
            MEASUREMENT_KEYS.get(_root_slug(item.category), []) if item is not None else []
        )
        values = [value for _key, value in existing]
        for index in range(MEASUREMENT_ROWS):
            self.fields[f"m_key_{index}"] = forms.CharField(
                required=False,
                max_length=20,
                initial=keys[index] if index < len(keys) else "",
                widget=forms.TextInput(attrs={"placeholder": _("Measurement"), "aria-label": _("Measurement")}),
            )
            self.fields[f"m_val_{index}"] = forms.CharField(
                required=False,
                max_length=20,
                initial=values[index] if index < len(values) else "",
                widget=forms.TextInput(
                    attrs={"placeholder": "cm", "inputmode": "decimal", "aria-label": _("Value (cm)")}
                ),
            )
        if item is not None and not self.is_bound:
            # Not the seller's grade: the inspector decides without an anchor.
            self.fields["grade"].initial = item.grade
            self.fields["defects"].initial = item.defects

    def clean_repair_quote(self):
        return _yuan_or_none(self.cleaned_data["repair_quote"])

    def measurement_rows(self):
        return [(self[f"m_key_{index}"], self[f"m_val_{index}"]) for index in range(MEASUREMENT_ROWS)]

    def measurements(self) -> dict:
        data = self.cleaned_data
        rows = (
            (data.get(f"m_key_{i}", "").strip(), data.get(f"m_val_{i}", "").strip()) for i in range(MEASUREMENT_ROWS)
        )
        return {key: value for key, value in rows if key and value}


class AuthenticateForm(OperatorForm):
    RESULTS = [("ok", gettext_lazy("✓ as expected")), ("problem", gettext_lazy("✗ problem"))]

    result = forms.ChoiceField(
        label=gettext_lazy("Result"),
        choices=[("pass", gettext_lazy("Authentic: pass")), ("fail", gettext_lazy("Not authentic: fail"))],
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(
        label=gettext_lazy("Authenticator's notes"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = MultipleImageField(
        label=gettext_lazy("Evidence photos"),
        help_text=gettext_lazy("At least one: hardware stamps, stitching, labels, serial numbers."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for index in range(CHECK_ROWS):
            self.fields[f"point_{index}"] = forms.CharField(
                required=False,
                max_length=60,
                initial=CHECK_POINTS[index] if index < len(CHECK_POINTS) else "",
                widget=forms.TextInput(attrs={"placeholder": _("What was checked"), "aria-label": _("Check point")}),
            )
            self.fields[f"finding_{index}"] = forms.CharField(
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": _("Finding"), "aria-label": _("Finding")}),
            )
            self.fields[f"ok_{index}"] = forms.ChoiceField(
                required=False, choices=[("", _("not checked")), *self.RESULTS], widget=forms.Select
            )

    def clean(self):
        data = super().clean()
        for index in range(CHECK_ROWS):
            point = data.get(f"point_{index}", "").strip()
            if data.get(f"finding_{index}", "").strip() and not data.get(f"ok_{index}"):
                self.add_error(f"ok_{index}", _("Mark this check as expected or a problem."))
            if data.get(f"ok_{index}") and not point:
                self.add_error(f"point_{index}", _("Name what was checked."))
        return data

    def check_rows(self):
        return [(self[f"point_{i}"], self[f"finding_{i}"], self[f"ok_{i}"]) for i in range(CHECK_ROWS)]

    def checks(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {
                "point": data[f"point_{i}"].strip(),
                "finding": data.get(f"finding_{i}", "").strip(),
                "ok": data[f"ok_{i}"] == "ok",
            }
            for i in range(CHECK_ROWS)
            if data.get(f"ok_{i}") and data.get(f"point_{i}", "").strip()
        ]


class CareRecordForm(OperatorForm):
    step = forms.ChoiceField(choices=CareStep.choices, widget=forms.HiddenInput)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)
    photo = forms.FileField(
        label=gettext_lazy("Photo"), required=False, widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT})
    )


class CareCompleteForm(OperatorForm):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)


class PhotographForm(OperatorForm):
    flat = MultipleImageField(label=gettext_lazy("Flat"))
    on_body = MultipleImageField(label=gettext_lazy("On-body"))
    detail = MultipleImageField(label=gettext_lazy("Details"))
    defect = MultipleImageField(label=gettext_lazy("Defects"))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)

    KINDS = ("flat", "on_body", "detail", "defect")

    def photo_fields(self):
        return [self[kind] for kind in self.KINDS]

    def uploads(self) -> list[services.PhotoUpload]:
        return [services.PhotoUpload(kind=kind, file=file) for kind in self.KINDS for file in self.cleaned_data[kind]]


class PriceForm(OperatorForm):
    price = forms.CharField(
        label=gettext_lazy("Your price in yuan (leave empty to propose the suggestion)"),
        required=False,
        max_length=12,
        widget=_yuan_input(),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)

    def clean_price(self):
        return _yuan_or_none(self.cleaned_data["price"])


class CounterAnswerForm(OperatorForm):
    decision = forms.ChoiceField(
        choices=[("accept", gettext_lazy("Accept")), ("reject", gettext_lazy("Keep ours"))], widget=ButtonValue
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)


class ReturnShippedForm(OperatorForm):
    carrier = forms.CharField(
        label=gettext_lazy("Carrier"), max_length=30, widget=forms.TextInput(attrs={"list": "carriers"})
    )
    tracking_number = forms.CharField(
        label=gettext_lazy("Tracking number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )


class LossForm(OperatorForm):
    note = forms.CharField(
        label=gettext_lazy("What happened"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- actions: one service call each ------------------------------------------


def _do_prescreen(actor, item, data, form):
    accept = data["decision"] == "accept"
    services.item_prescreen(
        item_id=item.pk, actor=actor, accept=accept, reason=data["reason"] if not accept else "", note=data["note"]
    )
    return _("Accepted: the seller can ship it.") if accept else _("Rejected; the seller sees the reason.")


def _do_receive(actor, item, data, form):
    photos = [services.PhotoUpload(kind=ItemPhoto.Kind.RECEIVED, file=file) for file in data["photos"]]
    services.item_receive(item_id=item.pk, actor=actor, note=data["note"], photos=photos)
    return _("Received and labelled. Print the label and stick it on.")


def _do_grade(actor, item, data, form):
    photos = [services.PhotoUpload(kind=ItemPhoto.Kind.DEFECT, file=file) for file in data["defect_photos"]]
    photos += [services.PhotoUpload(kind=ItemPhoto.Kind.DETAIL, file=file) for file in data["detail_photos"]]
    services.item_grade(
        item_id=item.pk,
        actor=actor,
        grade=data["grade"],
        defects=data["defects"],
        measurements=form.measurements(),
        note=data["note"],
        repair_quote_fen=data["repair_quote"],
        repair_note=data["repair_note"],
        photos=photos,
    )
    return _("Graded %(grade)s.") % {"grade": data["grade"]}


def _do_authenticate(actor, item, data, form):
    photos = [services.PhotoUpload(kind=ItemPhoto.Kind.AUTHENTICATION, file=file) for file in data["photos"]]
    passed = data["result"] == "pass"
    services.item_authenticate(
        item_id=item.pk, actor=actor, passed=passed, checks=form.checks(), notes=data["notes"], photos=photos
    )
    if passed:
        return _("Authentication passed; the report is published.")
    return _("Authentication failed; the item goes back to the seller.")


def _do_care_record(actor, item, data, form):
    photos = [services.PhotoUpload(kind=ItemPhoto.Kind.CARE, file=data["photo"])] if data["photo"] else []
    services.item_care_record(item_id=item.pk, actor=actor, step=data["step"], note=data["note"], photos=photos)
    return _("Recorded: %(step)s.") % {"step": CareStep(data["step"]).label}


def _do_care_complete(actor, item, data, form):
    services.item_care_complete(item_id=item.pk, actor=actor, note=data["note"])
    return _("Care complete; on to photography.")


def _do_photograph(actor, item, data, form):
    services.item_photograph(item_id=item.pk, actor=actor, photos=form.uploads(), note=data["note"])
    return _("Photographed; on to pricing.")


def _do_price(actor, item, data, form):
    consignment = services.item_price(item_id=item.pk, actor=actor, price_fen=data["price"], note=data["note"])
    return _("Price proposed to the seller: %(price)s.") % {"price": format_fen(consignment.suggested_price_fen)}


def _do_counter_answer(actor, item, data, form):
    accept = data["decision"] == "accept"
    services.item_counter_answer(item_id=item.pk, actor=actor, accept=accept, note=data["note"])
    return (
        _("Counter-offer accepted; the item is listed.")
        if accept
        else _("Our price stands; the seller is asked again.")
    )


def _do_return_shipped(actor, item, data, form):
    services.item_return_shipped(
        item_id=item.pk, actor=actor, carrier=data["carrier"], tracking_number=data["tracking_number"]
    )
    return _("Shipped back to the seller.")


def _do_loss(actor, item, data, form):
    services.item_record_loss(item_id=item.pk, actor=actor, note=data["note"])
    return _("Recorded as lost or damaged; the liability is owed to the seller.")


# action → (form class, station whose permission it needs (None: record_loss), handler)
ACTIONS = {
    "prescreen": (PrescreenForm, Station.PRESCREEN, _do_prescreen),
    "receive": (ReceiveForm, Station.RECEIVE, _do_receive),
    "grade": (GradeForm, Station.GRADE, _do_grade),
    "authenticate": (AuthenticateForm, Station.AUTHENTICATE, _do_authenticate),
    "care_record": (CareRecordForm, Station.CARE, _do_care_record),
    "care_complete": (CareCompleteForm, Station.CARE, _do_care_complete),
    "photograph": (PhotographForm, Station.PHOTOGRAPH, _do_photograph),
    "price": (PriceForm, Station.PRICE, _do_price),
    "counter_answer": (CounterAnswerForm, Station.PRICE, _do_counter_answer),
    "return_shipped": (ReturnShippedForm, Station.RETURNS, _do_return_shipped),
    "loss": (LossForm, None, _do_loss),
}


def _action_permission(action: str) -> str:
    station = ACTIONS[action][1]
    return LOSS_PERMISSION if station is None else services.STATION_PERMISSION[station]


def _station_actions(item, consignment, station: str | None) -> list[str]:
    if station == Station.CARE:
        return ["care_record", "care_complete"]
    if station == Station.PRICE and item.status == S.PRICED:
        return ["counter_answer"]
    return {
        Station.PRESCREEN: ["prescreen"],
        Station.RECEIVE: ["receive"],
        Station.GRADE: ["grade"],
        Station.AUTHENTICATE: ["authenticate"],
        Station.PHOTOGRAPH: ["photograph"],
        Station.PRICE: ["price"],
        Station.RETURNS: ["return_shipped"],
    }.get(station, [])


# --- the board --------------------------------------------------------------


@operator_required
def board(request):
    counts = selectors.station_counts()
    hours = selectors.sla_hours()
    cards = [
        {
            "station": station,
            "label": label,
            "waiting": counts[station]["waiting"],
            "late": counts[station]["late"],
            "target_hours": hours[station],
            "can_work": _can_work(request.user, station),
            "url": reverse("consignment:ops_station", args=[station]),
        }
        for station, label in Station.choices
    ]
    return render(
        request,
        "consignment/operator/board.html",
        {"cards": cards, "code": request.GET.get("code", "")[:200], "active_nav": "ops"},
    )


# --- a station's queue ----------------------------------------------------------


BULK_ACTIONS = {
    Station.PRESCREEN: [("accept", gettext_lazy("Accept selected"))],
    Station.RECEIVE: [("receive", gettext_lazy("Receive selected"))],
    Station.CARE: [
        ("care_record", gettext_lazy("Record this step for selected")),
        ("care_complete", gettext_lazy("Mark care complete for selected")),
    ],
}


def _bulk_one(action: str, *, item_id: int, actor, care_step: str):
    if action == "accept":
        services.item_prescreen(item_id=item_id, actor=actor, accept=True)
    elif action == "receive":
        services.item_receive(item_id=item_id, actor=actor)
    elif action == "care_record":
        services.item_care_record(item_id=item_id, actor=actor, step=care_step)
    elif action == "care_complete":
        services.item_care_complete(item_id=item_id, actor=actor)


def _bulk_message(done: int, refused: dict[str, list[int]]) -> str:
    if not refused:
        return _("%(done)s done.") % {"done": done}
    reasons = "; ".join(f"{', '.join(f'#{item_id}' for item_id in ids)}: {reason}" for reason, ids in refused.items())
    return _("%(done)s done, %(refused)s refused: %(reasons)s") % {
        "done": done,
        "refused": sum(len(ids) for ids in refused.values()),
        "reasons": reasons,
    }


@operator_required
@require_http_methods(["GET", "POST"])
def station_queue(request, station: str):
    station = _station_or_404(station)
    if not _can_work(request.user, station):
        raise PermissionDenied
    if request.method == "POST":
        return _station_bulk(request, station)
    query = request.GET.get("q", "").strip()[:80]
    page = Paginator(selectors.station_queue_with_photos(station=station, query=query), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    hours = selectors.sla_hours()
    now = timezone.now()
    rows = []
    for item in page:
        clock = selectors.clock_for(item, station=station, hours=hours, now=now)
        rows.append(
            {
                "item": item,
                "thumbnail": _first_thumbnail(item),
                "clock": clock,
                "clock_text": _clock_text(clock),
                "clock_percent": round(clock.share * 100),
            }
        )
    return render(
        request,
        "consignment/operator/station.html",
        {
            "station": station,
            "station_label": Station(station).label,
            "target_hours": hours[station],
            "page": page,
            "rows": rows,
            "query": query,
            "bulk_actions": BULK_ACTIONS.get(station, []),
            "care_steps": CareStep.choices,
            "active_nav": "ops",
        },
    )


def _station_bulk(request, station: str):
    action = request.POST.get("bulk_action", "")
    back = request.get_full_path()
    if action not in dict(BULK_ACTIONS.get(station, [])):
        messages.error(request, _("Choose an action."))
        return redirect(back)
    item_ids = []
    for raw in request.POST.getlist("item_ids"):
        if raw.isdigit() and int(raw) not in item_ids:
            item_ids.append(int(raw))
    if not item_ids:
        messages.error(request, _("Select at least one item."))
        return redirect(back)
    care_step = request.POST.get("care_step", "")
    done, refused = 0, {}
    for item_id in item_ids[:QUEUE_PAGE_SIZE]:
        try:
            _bulk_one(action, item_id=item_id, actor=request.user, care_step=care_step)
        except DomainError as error:
            refused.setdefault(str(error.message), []).append(item_id)
        else:
            done += 1
    (messages.warning if refused else messages.success)(request, _bulk_message(done, refused))
    return redirect(back)


# --- one item's work page ---------------------------------------------------------


def _someone_else_message(item) -> str:
    return _("Someone else already did this step. The item is now “%(status)s”.") % {
        "status": item.get_status_display()
    }


def _item_or_404(item_id: int):
    item = selectors.item_for_operator(item_id=item_id)
    if item is None:
        raise Http404
    return item


def _photo_groups(item) -> list[tuple[str, list]]:
    by_kind = {}
    for photo in item.photos.all():
        by_kind.setdefault(photo.kind, []).append(photo)
    return [(label, by_kind[kind]) for kind, label in ItemPhoto.Kind.choices if kind in by_kind]


def _care_rows(consignment, records) -> list[dict]:
    done = {record.step: record for record in records}
    required = list(consignment.required_care_steps or [])
    if consignment.repair_consent == Consignment.RepairConsent.ACCEPTED and CareStep.REPAIR not in required:
        required.append(CareStep.REPAIR)
    rows = [{"step": step, "label": CareStep(step).label, "record": done.get(step)} for step in required]
    # Steps done beyond the required ones still belong to the record.
    rows += [{"step": s, "label": CareStep(s).label, "record": r} for s, r in done.items() if s not in required]
    return rows


def _price_preview(item, consignment):
    return suggest_price(
        original_price_fen=item.original_price_fen,
        declared_value_fen=consignment.declared_value_fen,
        brand_tier=item.brand.tier if item.brand_id else "",
        grade=item.grade or item.declared_grade,
        purchase_year=item.purchase_year,
    )


def _required_photo_kinds(item) -> set[str]:
    kinds = {ItemPhoto.Kind.FLAT}
    if item.category.effective_needs_on_body_photo():
        kinds.add(ItemPhoto.Kind.ON_BODY)
    if item.defects or item.grade == Grade.C:
        kinds.add(ItemPhoto.Kind.DEFECT)
    return kinds


def _work_page(request, item, *, bound: dict | None = None, status: int = 200, error_code: str = ""):
    bound = bound or {}
    user = request.user
    consignment = item.consignment
    station = selectors.station_for_item(item, consignment)
    can_work = _can_work(user, station)
    actions = _station_actions(item, consignment, station) if can_work else []
    records = selectors.care_records(item=item)
    care_rows = _care_rows(consignment, records)
    forms_by_action = {}
    for action in actions:
        form_class = ACTIONS[action][0]
        forms_by_action[action] = bound.get(action) or form_class(item=item)
    if "care_record" in actions:
        posted = bound.get("care_record")
        for row in care_rows:
            if row["record"] is None:
                form = posted if posted is not None and posted.data.get("step") == row["step"] else None
                row["form"] = form or CareRecordForm(item=item, initial={"step": row["step"]})
    can_record_loss = user.has_perm(LOSS_PERMISSION) and S.LOST in Item.TRANSITIONS.get(item.status, set())
    loss_form = bound.get("loss") or (LossForm(item=item) if can_record_loss else None)
    present_kinds = {photo.kind for photo in item.photos.all()}
    context = {
        "item": item,
        "consignment": consignment,
        "station": station,
        "station_label": Station(station).label if station else "",
        "can_work": can_work,
        "forms": forms_by_action,
        "care_rows": care_rows,
        "care_missing": [row for row in care_rows if row["record"] is None],
        "photo_groups": _photo_groups(item),
        "chain": selectors.chain_of_custody(item=item),
        "status_labels": dict(Item.Status.choices),
        "report": selectors.public_authentication_report(item_id=item.pk) if consignment.needs_authentication else None,
        "loss_form": loss_form,
        "required_photo_kinds": [kind for kind in PhotographForm.KINDS if kind in _required_photo_kinds(item)],
        "present_photo_kinds": present_kinds,
        "price_preview": _price_preview(item, consignment) if "price" in actions else None,
        "carriers": ("顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东物流", "中国邮政 EMS"),
        "error_code": error_code,
        "will_need_authentication": item.category.requires_authentication(consignment.declared_value_fen),
        "channel_choices": Item.Channel.choices,
        "can_set_channel": item.status in services.CHANNEL_STATUSES
        and any(user.has_perm(perm) for perm in services.CHANNEL_PERMISSIONS),
        "active_nav": "ops",
    }
    return render(request, "consignment/operator/item.html", context, status=status)


@operator_required
@require_http_methods(["POST"])
def item_channel(request, item_id: int):
    item = _item_or_404(item_id)
    try:
        services.item_channel_set(item_id=item.pk, actor=request.user, channel=request.POST.get("channel", ""))
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied from None
        messages.error(request, str(error.message))
        item.refresh_from_db()
        return _work_page(request, item, status=error.status, error_code=error.code)
    messages.success(request, _("Saved: where the item is offered."))
    return redirect("consignment:ops_item", item_id=item.pk)


@operator_required
@require_http_methods(["GET", "POST"])
def item_work(request, item_id: int):
    item = _item_or_404(item_id)
    if request.method == "GET":
        return _work_page(request, item)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        messages.error(request, _("Unknown action."))
        return _work_page(request, item, status=400, error_code="unknown_action")
    if not request.user.has_perm(_action_permission(action)):
        raise PermissionDenied
    form_class, _station, handler = ACTIONS[action]
    form = form_class(request.POST, request.FILES, item=item)
    expected = request.POST.get("expected_status", "")
    if expected and expected != item.status:
        messages.error(request, _someone_else_message(item))
        return _work_page(request, item, status=409, error_code=states.StateChanged.code)
    if not form.is_valid():
        messages.error(request, _("Check the highlighted fields."))
        if request.FILES:
            messages.info(request, _("Photos cannot be kept after an error: choose them again."))
        return _work_page(request, item, bound={action: form}, status=422)
    try:
        done_message = handler(request.user, item, form.cleaned_data, form)
    except DomainError as error:
        fresh = _item_or_404(item_id)
        race = isinstance(error, states.StateChanged) or (
            isinstance(error, states.TransitionNotAllowed) and expected and fresh.status != expected
        )
        if race:
            messages.error(request, _someone_else_message(fresh))
            return _work_page(request, fresh, status=409, error_code=error.code)
        messages.error(request, str(error.message))
        if request.FILES:
            messages.info(request, _("Photos cannot be kept after an error: choose them again."))
        form.add_service_error(error)
        return _work_page(request, fresh, bound={action: form}, status=error.status, error_code=error.code)
    messages.success(request, done_message)
    return redirect("consignment:ops_item", item_id=item.pk)


# --- scan and label -----------------------------------------------------------


@operator_required
@require_http_methods(["GET", "POST"])
def scan(request):
    code = (request.POST.get("code") or request.GET.get("code") or "").strip()[:200]
    if not code:
        return redirect("consignment:ops_board")
    item = selectors.item_by_label(code)
    if item is not None:
        return redirect("consignment:ops_item", item_id=item.pk)
    batch = selectors.batch_by_code(code)
    if batch is not None:
        return redirect(reverse("consignment:ops_station", args=[Station.RECEIVE]) + "?" + urlencode({"q": batch.code}))
    messages.error(request, _("No item or batch has the code “%(code)s”.") % {"code": code})
    return redirect(reverse("consignment:ops_board") + "?" + urlencode({"code": code}))


def _qr_svg(data: str) -> str:
    svg = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2).to_string().decode()
    # The SVG is generated here from our own URL, never from user input, so it is safe to inline.
    return mark_safe(svg)  # noqa: S308


@operator_required
def label(request, item_id: int):
    item = _item_or_404(item_id)
    code = item.consignment.label_code
    if not code:
        raise Http404
    scan_url = request.build_absolute_uri(reverse("consignment:ops_scan")) + "?" + urlencode({"code": code})
    return render(
        request,
        "consignment/operator/label.html",
        {"item": item, "code": code, "qr_svg": _qr_svg(scan_url), "scan_url": scan_url, "active_nav": "ops"},
    )


urlpatterns = [
    path("stations/", board, name="ops_board"),
    path("stations/<str:station>/", station_queue, name="ops_station"),
    path("items/<int:item_id>/", item_work, name="ops_item"),
    path("items/<int:item_id>/label/", label, name="ops_label"),
    path("items/<int:item_id>/channel/", item_channel, name="ops_item_channel"),
    path("scan/", scan, name="ops_scan"),
]
