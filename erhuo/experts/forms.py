"""The experts forms. They parse what people type; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from erhuo.accounts.forms import ServiceFormMixin
from erhuo.experts import services
from erhuo.experts.levels import Level
from erhuo.experts.models import Specialty
from erhuo.experts.standards import STANDARDS

IMAGE_ACCEPT = "image/jpeg,image/png,image/webp"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input; the service validates each image and their number."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": IMAGE_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleImageField, self).clean(f, initial) for f in files]


class ServiceErrorsMixin(ServiceFormMixin):
    """Like ServiceFormMixin, with the services' dotted field names ("checklist.experience") mapped to fields."""

    service_fields: dict[str, str] = {}
    # Also say the service's message above the form (when the field messages alone do not explain the refusal).
    always_show_message = False

    def add_service_error(self, error) -> None:
        placed = False
        for name, messages in error.fields.items():
            target = self.service_fields.get(name, name)
            if name.startswith("checklist."):
                target = "standard_" + name.split(".", 1)[1]
            for message in messages:
                self.add_error(target if target in self.fields else None, message)
                placed = True
        if not placed or self.always_show_message:
            self.add_error(None, str(error.message))


class ApplicationForm(ServiceErrorsMixin, forms.Form):
    style_focus = forms.CharField(
        label=_("Your style in one sentence"),
        max_length=services.STYLE_FOCUS_MAX,
        help_text=_("e.g. Quiet luxury for busy mothers: a few good bags, simple lines."),
    )
    specialties = forms.MultipleChoiceField(
        label=_("Specialties"),
        choices=Specialty.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    experience = forms.CharField(
        label=_("Your experience"),
        max_length=services.EXPERIENCE_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    years_experience = forms.IntegerField(
        label=_("Years of experience"),
        min_value=0,
        max_value=services.MAX_YEARS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    links = forms.CharField(
        label=_("Links (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "https://"}),
    )
    photos = MultipleImageField(label=_("Portfolio photos"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Help texts with numbers are built here, in the language of the request.
        self.fields["specialties"].help_text = _("Choose up to %(count)s.") % {"count": services.MAX_SPECIALTIES}
        self.fields["experience"].help_text = _(
            "What you have done that makes your advice worth following (at least %(count)s characters)."
        ) % {"count": services.EXPERIENCE_MIN}
        self.fields["links"].help_text = _(
            "Your posts elsewhere (Xiaohongshu, a blog…), one per line, at most %(count)s."
        ) % {"count": services.MAX_LINKS}
        self.fields["photos"].help_text = _(
            "%(min)s to %(max)s photos of outfits or items you styled yourself (JPEG, PNG or WebP). "
            "If you are approved, they are shown on your public expert profile."
        ) % {"min": services.MIN_PHOTOS, "max": services.MAX_PHOTOS}

    def clean_links(self):
        return [line.strip() for line in self.cleaned_data["links"].splitlines() if line.strip()]


MET, NOT_MET = "met", "not_met"


class DecisionForm(ServiceErrorsMixin, forms.Form):
    """One met/not-met choice per written standard (none preselected), the level, the note, and the decision."""

    always_show_message = True

    level = forms.ChoiceField(
        label=_("Level if approved"), choices=[("", "—"), *Level.choices], required=False, initial=Level.TRAINEE
    )
    note = forms.CharField(
        label=_("Note to the applicant"),
        required=False,
        max_length=services.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you do not approve: the applicant reads it."),
    )
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Do not approve"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.standard_fields = []
        for standard in STANDARDS:
            name = f"standard_{standard.code}"
            self.fields[name] = forms.ChoiceField(
                label=standard.title,
                help_text=standard.meaning,
                choices=[(MET, _("Met")), (NOT_MET, _("Not met"))],
                widget=forms.RadioSelect,
            )
            self.standard_fields.append(name)

    def standards(self):
        return [self[name] for name in self.standard_fields]

    def checklist(self) -> dict[str, bool]:
        return {
            name.removeprefix("standard_"): self.cleaned_data[name] == MET
            for name in self.standard_fields
            if self.cleaned_data.get(name)
        }


class LevelChangeForm(ServiceErrorsMixin, forms.Form):
    level = forms.ChoiceField(label=_("New level"), choices=Level.choices)
    note = forms.CharField(label=_("Reason"), max_length=services.NOTE_MAX)


class ExpertStatusForm(ServiceErrorsMixin, forms.Form):
    to = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Reason"), max_length=services.NOTE_MAX, required=False)


class ExpertProfileForm(ServiceErrorsMixin, forms.Form):
    bio = forms.CharField(
        label=_("About you"), required=False, max_length=services.BIO_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )
    specialties = forms.MultipleChoiceField(
        label=_("Specialties"), choices=Specialty.choices, widget=forms.CheckboxSelectMultiple
    )
