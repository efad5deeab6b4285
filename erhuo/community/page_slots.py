"""The community's pieces on lower apps' pages (see `erhuo.core.slots`)."""

from erhuo.core import slots


def seller_group_items(request, *, seller, **kwargs):
    """On a seller's public page: her community-only items (社群款) that the reader may see through her groups.

    The seller's page (trust) lists only public items; these exist only for the
    members of the groups they were dropped into (and the seller and staff).
    """
    from django.db.models import Prefetch

    from erhuo.catalog.models import Item, ItemPhoto
    from erhuo.community import selectors

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    kinds = [*ItemPhoto.PUBLIC_KINDS, ItemPhoto.Kind.SELLER]
    items = list(
        Item.objects.filter(seller=seller, status=Item.Status.LISTED, channel=Item.Channel.COMMUNITY)
        .filter(selectors.items_visible_filter(user))
        .select_related("brand")
        .prefetch_related(
            Prefetch(
                "photos",
                queryset=ItemPhoto.objects.filter(kind__in=kinds).order_by("created_at", "pk"),
                to_attr="card_photos",
            )
        )
        .order_by("-listed_at", "-pk")[:24]
    )
    if not items:
        return None
    cards = []
    for item in items:
        photo = selectors.card_photo(item)
        cards.append({"item": item, "thumb": (photo.thumbnail or photo.image).url if photo else ""})
    return {"cards": cards}


def register() -> None:
    slots.provide("seller_public_extras", "community/drop_seller_items.html", seller_group_items)
