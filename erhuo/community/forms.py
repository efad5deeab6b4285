"""Forms of the community's pages. They parse what people type; the services decide.

Shared: other areas of the community may add forms here (add, don't change).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from erhuo.accounts.forms import ServiceFormMixin
from erhuo.community.models import DEFAULT_GROUP_CAPACITY, Dimension, Group

# --- groups: the questionnaire ------------------------------------------------------------------


def answers_from_post(data) -> dict:
    """The questionnaire's answers as the service takes them, from a posted form (checkboxes, radios, ages)."""
    ages = []
    for part in (data.get("children_ages") or "").replace("，", ",").replace("、", ",").replace(" ", ",").split(","):
        if part.strip():
            ages.append(part.strip())
    return {
        "categories": data.getlist("categories"),
        "styles": data.getlist("styles"),
        "clothes_size": data.get("clothes_size", ""),
        "shoe_size": data.get("shoe_size", ""),
        "no_children": data.get("no_children") == "on",
        "children_ages": ages,
        "budget": data.get("budget", ""),
        "city": data.get("city", ""),
    }


def answers_for_form(answers: dict) -> dict:
    """Kept answers (posted, or given last time) as the form's template reads them."""
    answers = dict(answers or {})
    ages = answers.get("children_ages") or []
    answers["children_ages_text"] = ", ".join(str(age) for age in ages)
    for key in ("categories", "styles"):
        answers[key] = list(answers.get(key) or [])
    return answers


# --- groups: leaders -----------------------------------------------------------------------------


class ReasonForm(ServiceFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class MuteForm(ServiceFormMixin, forms.Form):
    HOURS = [(1, _("1 hour")), (24, _("1 day")), (72, _("3 days")), (168, _("7 days")), (0, _("Lift the mute"))]
    hours = forms.TypedChoiceField(label=_("Mute for"), choices=HOURS, coerce=int)


class GroupSettingsForm(ServiceFormMixin, forms.Form):
    announcement = forms.CharField(
        label=_("Announcement"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    join_policy = forms.ChoiceField(label=_("Joining"), choices=Group.JoinPolicy.choices)


class InviteForm(ServiceFormMixin, forms.Form):
    label = forms.CharField(
        label=_("Label (where you post it)"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 小红书 March post")}),
    )
    days = forms.IntegerField(label=_("Valid for (days; empty: no end)"), min_value=1, max_value=365, required=False)
    max_uses = forms.IntegerField(
        label=_("Uses allowed (empty: no limit)"), min_value=1, max_value=100_000, required=False
    )


# --- groups: operators ---------------------------------------------------------------------------


class TagForm(ServiceFormMixin, forms.Form):
    dimension = forms.ChoiceField(label=_("Dimension"), choices=Dimension.choices)
    code = forms.CharField(label=_("Code"), max_length=40, widget=forms.TextInput(attrs={"placeholder": "sportswear"}))
    name = forms.CharField(label=_("Name"), max_length=40)


class TagEditForm(ServiceFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=40, required=False)
    active = forms.ChoiceField(
        label=_("Offered"), choices=[("", "—"), ("1", _("Offered")), ("0", _("Not offered"))], required=False
    )


class SegmentForm(ServiceFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=40, widget=forms.TextInput(attrs={"placeholder": "女装·轻奢"}))
    slug = forms.SlugField(
        label=_("Code"), max_length=40, widget=forms.TextInput(attrs={"placeholder": "women-premium"})
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    capacity = forms.IntegerField(
        label=_("Group size"), min_value=2, max_value=DEFAULT_GROUP_CAPACITY, initial=DEFAULT_GROUP_CAPACITY
    )
    rule_all = forms.MultipleChoiceField(
        label=_("Has every one of"), required=False, widget=forms.CheckboxSelectMultiple
    )
    rule_any = forms.MultipleChoiceField(
        label=_("Has at least one of"), required=False, widget=forms.CheckboxSelectMultiple
    )
    rule_none = forms.MultipleChoiceField(label=_("Has none of"), required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(tag.code, tag.name) for tag in tags]
        for name in ("rule_all", "rule_any", "rule_none"):
            self.fields[name].choices = choices

    def rule(self) -> dict:
        data = self.cleaned_data
        return {key: data[f"rule_{key}"] for key in ("all", "any", "none") if data.get(f"rule_{key}")}


class SegmentEditForm(ServiceFormMixin, forms.Form):
    capacity = forms.IntegerField(label=_("Group size"), min_value=2, max_value=DEFAULT_GROUP_CAPACITY, required=False)
    active = forms.ChoiceField(
        label=_("Newcomers"), choices=[("", "—"), ("1", _("Open")), ("0", _("Closed"))], required=False
    )


class GroupCreateForm(ServiceFormMixin, forms.Form):
    segment = forms.TypedChoiceField(label=_("Segment"), coerce=int, required=False, empty_value=None)
    leader = forms.CharField(
        label=_("Leader (username)"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    name = forms.CharField(label=_("Name (empty: “<segment> <n>群”)"), max_length=60, required=False)
    capacity = forms.IntegerField(
        label=_("Capacity (empty: the segment's)"), min_value=2, max_value=DEFAULT_GROUP_CAPACITY, required=False
    )
    join_policy = forms.ChoiceField(label=_("Joining"), choices=Group.JoinPolicy.choices)
    wechat_group_id = forms.CharField(label=_("WeChat group it mirrors (optional)"), max_length=64, required=False)

    def __init__(self, *args, segments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", _("No segment (an expert's own group)"))] + [
            (segment.pk, segment.name) for segment in segments
        ]
