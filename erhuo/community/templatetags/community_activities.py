"""`{% group_activities group %}`: a group's running, upcoming and recent activities, for the group page
(`community/_group_activities.html`)."""

from django import template

from erhuo.community import selectors
from erhuo.community.services.activities import activities_settle_due

register = template.Library()


@register.inclusion_tag("community/activities_group_card.html", takes_context=True)
def group_activities(context, group):
    """Shown to the group's active members, its leaders and operators; the clock is settled first (one
    query when nothing is due)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    allowed = selectors.is_active_member(user, group) or selectors.is_community_operator(user)
    found = {"running": [], "upcoming": [], "ended": []}
    if allowed:
        activities_settle_due(activity_ids=selectors.activity_ids_of_group(group))
        found = selectors.group_activities(group)
    return {
        "request": request,
        "group": group,
        "allowed": allowed,
        "runs_it": allowed and (selectors.is_community_operator(user) or selectors.leads(user, group)),
        **found,
    }
