"""Events the community listens to (registered in apps.ready).

Behaviour tags: what a member views, claims and buys raises the tags of the
item in her profile (`services.drops.behaviour_tags_from_item`), in a huey
task so the request that caused it does not wait:

- `item_viewed` (the item's public page, for a logged-in member): a little,
  once per member and item in `VIEW_DEBOUNCE_SECONDS` (a refresh is not
  interest);
- `claim_created` (market, a claim on an item): more;
- `claim_purchased` (market, the order holding her claim is paid): most.
"""

from django.core.cache import cache

from erhuo.core import events

VIEW_DEBOUNCE_SECONDS = 6 * 3600


def _bump(user_id, item_id, amount: float) -> None:
    if not user_id or not item_id:
        return
    from erhuo.community import tasks

    tasks.behaviour_tags_from_item(int(user_id), int(item_id), amount)


@events.on("item_viewed")
def item_viewed(event) -> None:
    from erhuo.community.services.drops import VIEW_AMOUNT

    user_id, item_id = event.payload.get("user_id"), event.payload.get("item_id")
    # The cache decides, not the database: a page view costs no query here.
    if user_id and item_id and cache.add(f"community:viewed:{user_id}:{item_id}", 1, VIEW_DEBOUNCE_SECONDS):
        _bump(user_id, item_id, VIEW_AMOUNT)


@events.on("claim_created")
def claim_created(event) -> None:
    from erhuo.community.services.drops import CLAIM_AMOUNT

    _bump(event.payload.get("member_id"), event.payload.get("item_id"), CLAIM_AMOUNT)


@events.on("claim_purchased")
def claim_purchased(event) -> None:
    from erhuo.community.services.drops import PURCHASE_AMOUNT

    _bump(event.payload.get("member_id"), event.payload.get("item_id"), PURCHASE_AMOUNT)
