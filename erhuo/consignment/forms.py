"""The seller's consignment forms. They parse what people type; the services decide.

Amounts are typed in yuan and parsed with `core.money.parse_yuan` into fen.
A batch is a formset of item blocks (prefix "items"), so the page can add
blocks with a little JavaScript and a service error like "items.2.title"
lands on the third block.
"""

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erhuo.accounts.forms import ServiceFormMixin
from erhuo.catalog.models import Grade, Item
from erhuo.consignment import selectors
from erhuo.consignment.models import Consignment
from erhuo.core.errors import ValidationFailed
from erhuo.core.money import format_fen, parse_yuan

MAX_ITEMS_PER_FORM = 10
CARRIERS = ("顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东物流", "中国邮政 EMS", "极兔速递")

# A service's field name → the form field it belongs to.
SERVICE_FIELDS = {
    "category_id": "category",
    "brand_id": "brand",
    "declared_value_fen": "declared_value",
    "original_price_fen": "original_price",
    "floor_price_fen": "floor_price",
    "counter_price_fen": "counter_price",
}


def _yuan(value: str, *, required: bool) -> int | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise forms.ValidationError(_("Enter an amount in yuan, like 128 or 128.50."))
        return None
    try:
        fen = parse_yuan(value)
    except ValidationFailed as error:
        raise forms.ValidationError(str(error.message)) from None
    if fen <= 0:
        raise forms.ValidationError(_("The amount must be more than ¥0."))
    return fen


class ServiceErrorsMixin(ServiceFormMixin):
    """Like ServiceFormMixin, with the services' `*_fen` names mapped to the yuan fields."""

    def add_service_error(self, error) -> None:
        placed = False
        for name, messages in error.fields.items():
            target = SERVICE_FIELDS.get(name, name)
            for message in messages:
                self.add_error(target if target in self.fields else None, message)
                placed = True
        if not placed:
            self.add_error(None, str(error.message))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input; the service validates each image."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleImageField, self).clean(f, initial) for f in files]

    def has_changed(self, initial, data):
        # The widget gives [] when nothing was chosen; an untouched block must count as unchanged.
        return not self.disabled and bool(data)


class CategorySelect(forms.Select):
    """Options carry the category's self-ship limit, so the page can say what may stay with the seller."""

    def __init__(self, *args, limits: dict[int, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = limits or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        limit = self.limits.get(getattr(value, "value", value))
        if limit is not None:
            option["attrs"]["data-self-ship-max"] = format_fen(limit) if limit else ""
        return option


def category_choices(categories) -> tuple[list, dict[int, int]]:
    """Leaf categories grouped under their parent (a top-level category without children stands alone)."""
    categories = list(categories)
    children: dict[int, list] = {}
    for category in categories:
        if category.parent_id:
            children.setdefault(category.parent_id, []).append(category)
    choices: list = [("", _("Choose a category"))]
    limits = {}
    for category in categories:
        if category.parent_id:
            continue
        kids = children.get(category.pk)
        if kids:
            choices.append((category.name, [(kid.pk, kid.name) for kid in kids]))
            for kid in kids:
                limits[kid.pk] = selectors.self_ship_limit_fen(kid)
        else:
            choices.append((category.pk, category.name))
            limits[category.pk] = selectors.self_ship_limit_fen(category)
    return choices, limits


def brand_choices(brands) -> list:
    return [("", _("No brand / not sure"))] + [(brand.pk, str(brand)) for brand in brands]


class ItemForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. COS wool coat, camel, M")}),
    )
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, choices=())
    brand = forms.TypedChoiceField(label=_("Brand"), coerce=int, empty_value=None, required=False, choices=())
    size = forms.CharField(label=_("Size"), max_length=30, required=False)
    colour = forms.CharField(label=_("Colour"), max_length=30, required=False)
    declared_value = forms.CharField(
        label=_("Declared value (yuan)"),
        max_length=16,
        help_text=_("What the item is worth to you. Our liability while it is in our care is based on it."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "300"}),
    )
    original_price = forms.CharField(
        label=_("Original price (yuan)"),
        max_length=16,
        required=False,
        help_text=_("Optional; it helps us price fairly."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    purchase_year = forms.IntegerField(
        label=_("Year bought"),
        required=False,
        help_text=_("Optional."),
        min_value=1950,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "2023"}),
    )
    declared_grade = forms.ChoiceField(label=_("Condition"), choices=Grade.choices, widget=forms.RadioSelect)
    defects = forms.CharField(
        label=_("Defects (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("e.g. a small stain inside the left cuff")}),
    )
    description = forms.CharField(
        label=_("Anything else we should know (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    fulfilment = forms.ChoiceField(
        label=_("Who keeps and ships the item"),
        choices=Item.Fulfilment.choices,
        initial=Item.Fulfilment.PLATFORM,
        widget=forms.RadioSelect,
        help_text=_(
            "Platform-fulfilled: you send it to our warehouse and we do the rest. Seller ships: only cheaper "
            "items of some categories stay with you, and you ship them within 3 days of a sale."
        ),
    )
    unsold_choice = forms.ChoiceField(
        label=_("If it does not sell"),
        choices=Consignment.UnsoldChoice.choices,
        initial=Consignment.UnsoldChoice.RETURN,
        widget=forms.RadioSelect,
    )
    photos = MultipleImageField(
        label=_("Photos"),
        error_messages={"required": _("Add at least one photo.")},
        help_text=_("Front, back, label and any defect; take them with your phone's camera or choose from your album."),
    )

    def __init__(self, *args, category_choices=(), category_limits=None, brand_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices
        self.fields["category"].widget = CategorySelect(choices=category_choices, limits=category_limits)
        self.fields["brand"].choices = brand_choices
        this_year = timezone.localdate().year
        self.fields["purchase_year"].validators.append(MaxValueValidator(this_year))
        self.fields["purchase_year"].widget.attrs["max"] = this_year

    def clean_declared_value(self):
        return _yuan(self.cleaned_data.get("declared_value"), required=True)

    def clean_original_price(self):
        return _yuan(self.cleaned_data.get("original_price"), required=False)


class BaseItemFormSet(forms.BaseFormSet):
    def add_service_error(self, error) -> list[str]:
        """Put "items.<n>.<field>" errors on their blocks; return the messages that belong to no block."""
        loose = []
        for key, messages in error.fields.items():
            parts = key.split(".", 2)
            if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit() and int(parts[1]) < len(self.forms):
                form = self.forms[int(parts[1])]
                name = SERVICE_FIELDS.get(parts[2], parts[2])
                for message in messages:
                    form.add_error(name if name in form.fields else None, message)
            else:
                loose.extend(str(message) for message in messages)
        if not error.fields:
            loose.append(str(error.message))
        return loose


ItemFormSet = forms.formset_factory(
    ItemForm,
    formset=BaseItemFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=MAX_ITEMS_PER_FORM,
    validate_max=True,
    absolute_max=MAX_ITEMS_PER_FORM,
)


class BatchNoteForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=_("Note to the warehouse (optional)"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ShipForm(ServiceErrorsMixin, forms.Form):
    carrier = forms.CharField(
        label=_("Carrier"),
        max_length=30,
        widget=forms.TextInput(attrs={"list": "carriers", "autocomplete": "off", "placeholder": "顺丰速运"}),
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "placeholder": "SF1234567890"}),
    )


class PriceAcceptForm(ServiceErrorsMixin, forms.Form):
    floor_price = forms.CharField(
        label=_("Lowest price for markdowns (yuan, optional)"),
        max_length=16,
        required=False,
        help_text=_("Unsold items are marked down after 14 and 28 days; never below this."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def clean_floor_price(self):
        return _yuan(self.cleaned_data.get("floor_price"), required=False)


class PriceCounterForm(ServiceErrorsMixin, forms.Form):
    counter_price = forms.CharField(
        label=_("Your price (yuan)"),
        max_length=16,
        help_text=_("Our pricing team answers: they list it at your price or propose again."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def clean_counter_price(self):
        return _yuan(self.cleaned_data.get("counter_price"), required=True)


class RepairAnswerForm(ServiceErrorsMixin, forms.Form):
    answer = forms.ChoiceField(choices=(("accept", _("Accept")), ("decline", _("Decline"))))


class WithdrawForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=_("Why (optional)"), max_length=300, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
