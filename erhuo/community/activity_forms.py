"""The activities' forms. They parse what people type; the services decide (community/services/activities.py)."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erhuo.accounts.forms import ServiceFormMixin
from erhuo.community.models import Activity, Group
from erhuo.community.services import activities as services
from erhuo.core.errors import DomainError, ValidationFailed
from erhuo.core.money import parse_yuan

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ActivityForm(ServiceFormMixin, forms.Form):
    """One form for the three kinds; the fields of the other kinds are ignored by the service."""

    # Service field names → form fields, for the service's field errors.
    service_fields = {"group_ids": "groups", "threshold_fen": "threshold", "starts_at": "starts_at"}

    kind = forms.ChoiceField(label=_("Kind"), choices=Activity.Kind.choices, widget=forms.RadioSelect)
    title = forms.CharField(label=_("Title"), max_length=services.TITLE_MAX)
    description = forms.CharField(
        label=_("What it is"),
        required=False,
        max_length=services.DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    groups = forms.ModelMultipleChoiceField(
        label=_("Groups"), queryset=Group.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    starts_at = forms.DateTimeField(label=_("Starts"), input_formats=DATETIME_FORMATS, widget=LocalDateTimeInput())
    ends_at = forms.DateTimeField(label=_("Ends"), input_formats=DATETIME_FORMATS, widget=LocalDateTimeInput())
    threshold = forms.CharField(
        label=_("Buy-with-gift: an order of at least (yuan)"),
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "299"}),
    )
    gifts = forms.MultipleChoiceField(
        label=_("Buy-with-gift: the gifts (your own listed items, one gift each)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("They leave sale while the activity runs; unused ones go back on sale when it ends."),
    )
    prize = forms.CharField(label=_("Giveaway: the prize"), required=False, max_length=services.PRIZE_MAX)
    winners_count = forms.IntegerField(
        label=_("Giveaway: winners"), required=False, min_value=1, max_value=services.MAX_WINNERS, initial=1
    )

    def __init__(self, *args, groups, gift_items, fixed_group: Group | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed_group = fixed_group
        self.fields["groups"].queryset = groups
        if fixed_group is not None:
            self.fields["groups"].required = False
            self.fields["groups"].widget = forms.MultipleHiddenInput()
            self.initial.setdefault("groups", [fixed_group.pk])
        self.fields["gifts"].choices = [
            (str(item.pk), f"{item.title} · ¥{item.price_fen / 100:,.2f}") for item in gift_items
        ]
        now = timezone.localtime()
        self.initial.setdefault("starts_at", (now + timedelta(hours=1)).replace(minute=0, second=0))
        self.initial.setdefault("ends_at", (now + timedelta(days=2)).replace(minute=0, second=0))

    def add_service_error(self, error: DomainError) -> None:
        placed = False
        for name, messages in error.fields.items():
            target = self.service_fields.get(name, name)
            for message in messages:
                self.add_error(target if target in self.fields else None, message)
                placed = True
        if not placed:
            self.add_error(None, str(error.message))

    def service_arguments(self) -> dict:
        """The service's keyword arguments, from the cleaned data (raises DomainError for a bad amount)."""
        data = self.cleaned_data
        threshold = (data.get("threshold") or "").strip()
        try:
            threshold_fen = parse_yuan(threshold) if threshold else None
        except ValidationFailed as error:
            raise ValidationFailed(error.message, code=error.code, fields={"threshold_fen": [error.message]}) from None
        group_ids = [self.fixed_group.pk] if self.fixed_group else [group.pk for group in data["groups"]]
        return {
            "kind": data["kind"],
            "title": data["title"],
            "description": data.get("description", ""),
            "group_ids": group_ids,
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "threshold_fen": threshold_fen,
            "gifts": [int(pk) for pk in data.get("gifts") or []],
            "prize": data.get("prize", ""),
            "winners_count": data.get("winners_count") or 1,
        }


class ReasonForm(ServiceFormMixin, forms.Form):
    reason = forms.CharField(label=_("Why (members read it)"), max_length=services.REASON_MAX)


class DropLinkForm(forms.Form):
    drop_id = forms.IntegerField(min_value=1)


class DropItemsForm(forms.Form):
    item_ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)
    drop_at = forms.DateTimeField(required=False, input_formats=DATETIME_FORMATS, widget=LocalDateTimeInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id: the drops service says which items cannot drop.
        self.fields["item_ids"].valid_value = lambda value: str(value).isdigit() and len(str(value)) < 19
