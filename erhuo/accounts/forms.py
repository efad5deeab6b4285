from django import forms
from django.utils.translation import gettext_lazy as _

from erhuo.core.errors import DomainError


class ServiceFormMixin:
    """Copy a service's DomainError into the form's errors (field or form-wide).

    Labels stand above their inputs, so they carry no trailing colon.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_service_error(self, error: DomainError) -> None:
        placed = False
        for field, messages in error.fields.items():
            target = field if field in self.fields else None
            for message in messages:
                self.add_error(target, message)
                placed = True
        if not placed:
            self.add_error(None, str(error.message))


class SignupForm(ServiceFormMixin, forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "138 0000 0000"}),
    )
    display_name = forms.CharField(
        label=_("Display name"), max_length=40, widget=forms.TextInput(attrs={"autocomplete": "nickname"})
    )
    city = forms.CharField(label=_("City"), max_length=40, required=False)
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )
    password_again = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )
    agree = forms.BooleanField(label=_("I accept the community rules and the privacy policy"))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", _("The two passwords do not match."))
        return data


class LoginForm(ServiceFormMixin, forms.Form):
    username = forms.CharField(
        label=_("Mobile number or username"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class ProfileForm(ServiceFormMixin, forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=40)
    city = forms.CharField(label=_("City"), max_length=40, required=False)
    bio = forms.CharField(label=_("About me"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    avatar = forms.FileField(
        label=_("Avatar"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )


class PasswordChangeForm(ServiceFormMixin, forms.Form):
    old_password = forms.CharField(
        label=_("Current password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(
        label=_("New password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password_again = forms.CharField(
        label=_("New password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("new_password")
            and data.get("new_password_again")
            and data["new_password"] != data["new_password_again"]
        ):
            self.add_error("new_password_again", _("The two passwords do not match."))
        return data


class AddressForm(ServiceFormMixin, forms.Form):
    label = forms.CharField(label=_("Label"), max_length=20, required=False, help_text=_("e.g. Home, Office"))
    recipient_name = forms.CharField(label=_("Recipient"), max_length=40)
    recipient_phone = forms.CharField(
        label=_("Recipient phone"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    province = forms.CharField(label=_("Province"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=20)
    district = forms.CharField(label=_("District"), max_length=20, required=False)
    detail = forms.CharField(label=_("Street address"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=6, required=False)
    is_default = forms.BooleanField(label=_("Use as default address"), required=False)


class TokenForm(ServiceFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, required=False, help_text=_("e.g. My script"))


class StatusChangeForm(ServiceFormMixin, forms.Form):
    to = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Reason"), max_length=300, required=False)


class RoleForm(ServiceFormMixin, forms.Form):
    role = forms.CharField(widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=[("grant", "grant"), ("revoke", "revoke")], widget=forms.HiddenInput)
