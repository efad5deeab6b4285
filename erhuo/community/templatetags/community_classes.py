"""`{% group_classes group %}`: a group's micro-classes for its page (`community/_group_classes.html`)."""

from django import template

from erhuo.community import selectors
from erhuo.community.services.classes import classes_settle

register = template.Library()


@register.inclusion_tag("community/class_group_list.html", takes_context=True)
def group_classes(context, group):
    """On now and to come (soonest first), then the latest past ones, with her sign-ups; for the group's active
    members, its leaders and operators. The clock is settled first (one query when nothing is due)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    runs_it = bool(context.get("runs_it"))
    allowed = runs_it or selectors.is_active_member(user, group)
    classes = {"upcoming": [], "past": []}
    if allowed:
        classes_settle()
        classes = selectors.group_classes(group, user=user)
    return {"request": request, "group": group, "allowed": allowed, "runs_it": runs_it, **classes}
