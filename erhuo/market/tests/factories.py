"""Quick ways to an item on sale, a buyer with an address, and an order in any state."""

from django.utils import timezone

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import AddressFactory, UserFactory
from erhuo.catalog.models import Category, Item


def category(slug: str = "market-test-clothes", *, returnable: bool = True, window_days: int = 7) -> Category:
    found = Category.objects.filter(slug=slug).first()
    if found:
        return found
    return Category.objects.create(
        name=slug, slug=slug, is_returnable=returnable, return_window_days=window_days if returnable else None
    )


def listed_item(
    *,
    seller=None,
    price_fen: int = 12_000,
    title: str = "真丝衬衫",
    fulfilment: str = Item.Fulfilment.PLATFORM,
    channel: str = Item.Channel.BOTH,
    category_obj: Category | None = None,
) -> Item:
    """An item on sale, put there directly (the pipeline is consignment's tests' business)."""
    seller = seller or UserFactory(roles=[roles.SELLER])
    now = timezone.now()
    return Item.objects.create(
        seller=seller,
        title=title,
        category=category_obj or category(),
        grade="A",
        price_fen=price_fen,
        fulfilment=fulfilment,
        channel=channel,
        status=Item.Status.LISTED,
        listed_at=now,
    )


def buyer(**kwargs):
    user = UserFactory(roles=[roles.MEMBER], **kwargs)
    AddressFactory(user=user)
    return user
