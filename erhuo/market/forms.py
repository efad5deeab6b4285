"""Forms of the market's pages. They parse what people type; the services decide.

Shared: other pages of the market may add forms here (add, don't change).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from erhuo.accounts.forms import ServiceFormMixin
from erhuo.market.models import ReturnRequest

IMAGE_ACCEPT = "image/jpeg,image/png,image/webp"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input; the service checks each image and how many there are."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": IMAGE_ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleImageField, self).clean(f, initial) for f in files]


class CheckoutForm(ServiceFormMixin, forms.Form):
    """The buyer's reserved items to order together, the address to ship to, and a note."""

    claims = forms.TypedMultipleChoiceField(
        label=_("Items reserved for you"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one reserved item.")},
    )
    address = forms.TypedChoiceField(
        label=_("Ship to"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one of your addresses.")},
    )
    note = forms.CharField(
        label=_("Note to the seller (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. please call before delivery")}),
    )

    def __init__(self, *args, claims=(), addresses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["claims"].choices = [(claim.pk, claim.item.title) for claim in claims]
        self.fields["address"].choices = [(address.pk, str(address)) for address in addresses]


class PayForm(ServiceFormMixin, forms.Form):
    """A payment method, and a key made when the form was drawn: a double submit pays once."""

    provider = forms.ChoiceField(label=_("Pay with"), widget=forms.RadioSelect)
    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = list(providers)
        if len(self.fields["provider"].choices) == 1 and not self.is_bound:
            self.initial.setdefault("provider", self.fields["provider"].choices[0][0])


class OrderCancelForm(ServiceFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why (optional)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. I ordered the wrong size")}),
    )


class ReturnForm(ServiceFormMixin, forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=ReturnRequest.Reason.choices, widget=forms.RadioSelect)
    description = forms.CharField(
        label=_("What is wrong"),
        max_length=1000,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": _("e.g. a stain on the left sleeve that the photos did not show")}
        ),
    )
    photos = MultipleImageField(
        label=_("Photos (up to 6)"),
        help_text=_("JPEG, PNG or WebP. Show what is wrong; photos help customer service decide quickly."),
    )


STAR_CHOICES = [(n, "★" * n) for n in range(5, 0, -1)]


class BuyerShowForm(ServiceFormMixin, forms.Form):
    stars = forms.TypedChoiceField(
        label=_("Your rating"), choices=STAR_CHOICES, coerce=int, widget=forms.RadioSelect, initial=5
    )
    text = forms.CharField(
        label=_("In your words (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("How does it fit, how does it feel?")}),
    )
    photos = MultipleImageField(label=_("Photos (up to 9)"), help_text=_("JPEG, PNG or WebP."))
