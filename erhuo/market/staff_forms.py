"""Forms of the market's seller and staff pages: shipping, cancelling, deciding returns, hiding shows.

They only parse what people type (yuan → fen with `core.money.parse_yuan`);
the services decide whether it is allowed, and their DomainErrors land on
the form through `ServiceFormMixin.add_service_error`.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from erhuo.accounts.forms import ServiceFormMixin
from erhuo.consignment.forms import CARRIERS
from erhuo.core.errors import ValidationFailed
from erhuo.core.money import parse_yuan
from erhuo.market.models import ReturnRequest

__all__ = ["CARRIERS", "CancelForm", "HideShowForm", "ReturnDecisionForm", "ShipForm"]


class ShipForm(ServiceFormMixin, forms.Form):
    carrier = forms.CharField(
        label=_("Carrier"),
        max_length=30,
        widget=forms.TextInput(attrs={"list": "carriers", "autocomplete": "off", "placeholder": "顺丰速运"}),
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "SF1234567890"}),
    )


class CancelForm(ServiceFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why the order is cancelled (the buyer reads this)"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. the item was damaged in the warehouse")}),
    )


class HideShowForm(ServiceFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why it is hidden"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. a stranger's face in the photo")}),
    )


def _fen_or_error(form: forms.Form, field: str, *, required: bool) -> int:
    text = (form.cleaned_data.get(field) or "").strip()
    if not text:
        if required:
            form.add_error(field, _("Enter an amount in yuan."))
        return 0
    try:
        amount = parse_yuan(text)
    except ValidationFailed as error:
        form.add_error(field, str(error.message))
        return 0
    if amount < 0:
        form.add_error(field, _("The amount cannot be negative."))
        return 0
    return amount


class ReturnDecisionForm(ServiceFormMixin, forms.Form):
    OUTCOMES = [
        (ReturnRequest.Status.REFUNDED, _("Refund in full")),
        (ReturnRequest.Status.PARTIAL, _("Refund part of it")),
        (ReturnRequest.Status.REJECTED, _("Reject")),
    ]

    outcome = forms.ChoiceField(label=_("Decision"), choices=OUTCOMES, widget=forms.RadioSelect)
    refund = forms.CharField(
        label=_("Partial refund (yuan)"),
        max_length=16,
        required=False,
        help_text=_("Only for a partial refund; it comes out of the seller's share."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "30.00"}),
    )
    decision = forms.CharField(
        label=_("What was found, and why (the buyer and the seller read this)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    deposit_charge = forms.CharField(
        label=_("Charge to the seller's deposit (yuan, optional)"),
        max_length=16,
        required=False,
        help_text=_("Only with a full refund of a counterfeit, misdescribed or wrong item."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0"}),
    )

    def __init__(self, *args, seller_fault: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not seller_fault:
            # The service refuses a charge for any other reason; the field is not offered at all.
            del self.fields["deposit_charge"]

    def clean(self):
        cleaned = super().clean()
        outcome = cleaned.get("outcome")
        cleaned["refund_fen"] = _fen_or_error(self, "refund", required=outcome == ReturnRequest.Status.PARTIAL)
        cleaned["deposit_charge_fen"] = (
            _fen_or_error(self, "deposit_charge", required=False) if "deposit_charge" in self.fields else 0
        )
        return cleaned
