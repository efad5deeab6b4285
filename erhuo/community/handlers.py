"""Events the community listens to (registered in apps.ready).

Behaviour tags: what a member views, claims and buys raises the tags of the
item in her profile (`services.drops.behaviour_tags_from_item`), in a huey
task so the request that caused it does not wait:

- `item_viewed` (the item's public page, for a logged-in member): a little,
  once per member and item in `VIEW_DEBOUNCE_SECONDS` (a refresh is not
  interest);
- `claim_created` (market, a claim on an item): more;
- `claim_purchased` (market, the order holding her claim is paid): most.

Bumps are gathered in the process and sent as one task per `FLUSH_SIZE` of
them or after `FLUSH_SECONDS`, whichever comes first: enqueueing a task is a
write to the queue (a few ms on SQLite), and in a claim storm hundreds of
claims arrive in a second (bench/claim_storm). A bump still waiting when the
process stops is lost: behaviour tags are a soft signal, and the next view or
claim raises them again. With huey in immediate mode (tests) every bump is sent
at once.

Joins waiting for approval: `community_join_requested` sends the group's leader
and assistants an in-app notice linking to the group's admin page, once per
request.
"""

import threading

from django.conf import settings
from django.core.cache import cache

from erhuo.core import events

VIEW_DEBOUNCE_SECONDS = 6 * 3600
FLUSH_SIZE = 100
FLUSH_SECONDS = 2.0

_pending: list[tuple[int, int, float]] = []
_lock = threading.Lock()
_timer: threading.Timer | None = None


def _send(batch) -> None:
    from erhuo.community import tasks

    if batch:
        tasks.behaviour_tags_from_items(batch)


def flush() -> None:
    """Send every bump gathered so far (the timer calls it; so may a test or a shutdown hook)."""
    global _timer
    with _lock:
        batch = _pending[:]
        _pending.clear()
        _timer = None
    _send(batch)


def _bump(user_id, item_id, amount: float) -> None:
    global _timer
    if not user_id or not item_id:
        return
    if settings.HUEY.get("immediate"):
        _send([(int(user_id), int(item_id), amount)])
        return
    with _lock:
        _pending.append((int(user_id), int(item_id), amount))
        full = len(_pending) >= FLUSH_SIZE
        if not full and _timer is None:
            _timer = threading.Timer(FLUSH_SECONDS, flush)
            _timer.daemon = True
            _timer.start()
    if full:
        flush()


def _pending_count() -> int:
    with _lock:
        return len(_pending)


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


@events.on("community_join_requested")
def join_requested(event) -> None:
    from erhuo.community.services.groups import notify_admins_of_join

    notify_admins_of_join(event.payload.get("membership_id"))
