"""The market's pieces on lower apps' pages (see `erhuo.core.slots`)."""

from erhuo.community import selectors as community_selectors
from erhuo.core import slots
from erhuo.market import selectors


def claim_button(request, *, item, **kwargs):
    from erhuo.catalog.models import Item
    from erhuo.market.services import claims_settle_item

    user = getattr(request, "user", None)
    if not selectors.item_visible_to(item, user):
        return None
    if item.status == Item.Status.RESERVED and claims_settle_item(item_id=item.pk):
        # The reservation had run out: the item went to the next in line, or back on sale.
        item.refresh_from_db(fields=["status"])
    gift = item.status == Item.Status.RESERVED and bool(community_selectors.gift_items_held([item.pk]))
    return {"item": item, "gift": gift, **selectors.queue_summary(item, user)}


def item_shows(request, *, item, **kwargs):
    shows = selectors.shows_for_item(item.pk)
    return {"shows": shows, "title_key": "item"} if shows else None


def seller_shows(request, *, seller, **kwargs):
    shows = selectors.shows_for_seller(seller.pk)
    return {"shows": shows, "title_key": "seller"} if shows else None


def expert_shows(request, *, expert_user, **kwargs):
    shows = selectors.shows_for_expert(expert_user.pk)
    return {"shows": shows, "title_key": "expert"} if shows else None


def item_cards(request, *, items, **kwargs):
    """Shop cards with the claim button for items a higher page already chose and may show (a group's feed)."""
    from erhuo.market.views.member import item_cards as cards_for

    cards = cards_for(request, list(items))
    return {"cards": cards} if cards else None


def register() -> None:
    slots.provide("item_public_actions", "market/slots/claim_button.html", claim_button)
    slots.provide("item_public_extras", "market/slots/shows.html", item_shows)
    slots.provide("seller_public_extras", "market/slots/shows.html", seller_shows)
    slots.provide("expert_public_extras", "market/slots/shows.html", expert_shows)
    slots.provide("item_cards", "market/slots/item_cards.html", item_cards)
