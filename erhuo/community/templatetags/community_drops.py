"""`{% group_feed group %}`: a group's feed of dropped items, for the group page (`community/_group_feed.html`)."""

from django import template

from erhuo.community import selectors
from erhuo.community.services.drops import drops_release_due

register = template.Library()

FEED_SHOWN = 60


@register.inclusion_tag("community/drop_feed.html", takes_context=True)
def group_feed(context, group, limit: int = FEED_SHOWN):
    """The group's live drops, newest first, as item cards with a claim button (the market's, through the
    `item_cards` slot). Shown to the group's active members and operators only; due drops go out first."""
    request = context.get("request")
    user = getattr(request, "user", None)
    allowed = selectors.is_active_member(user, group) or selectors.is_community_operator(user)
    items = []
    if allowed:
        # The clock, settled on read: a drop whose time has come is out before anyone looks (one query if none).
        drops_release_due()
        items = selectors.group_feed(group, limit=limit)
    return {"request": request, "group": group, "items": items, "allowed": allowed}
