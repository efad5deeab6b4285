"""Domain events, sent only after the transaction that caused them commits.

A lower app tells a higher one that something happened without importing it:

    events.emit("item_listed", pk=item.pk)          # in a service, inside atomic()

    @events.on("item_listed")                         # in a higher app's handlers.py,
    def match_wants(event): ...                       # imported from AppConfig.ready()

If the transaction rolls back, nothing is sent. Handlers run in the process
that committed, one after another; a handler that fails is logged and does
not stop the others (they should enqueue huey tasks for slow work).
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    name: str
    payload: dict = field(default_factory=dict)


_handlers: dict[str, list[Callable[[Event], None]]] = defaultdict(list)


def on(name: str):
    """Register a handler for the event `name` (past tense: `item_listed`)."""

    def register(handler: Callable[[Event], None]):
        if handler not in _handlers[name]:
            _handlers[name].append(handler)
        return handler

    return register


def emit(name: str, /, **payload) -> None:
    event = Event(name=name, payload=payload)
    transaction.on_commit(lambda: dispatch(event))


def dispatch(event: Event) -> None:
    for handler in list(_handlers.get(event.name, ())):
        try:
            handler(event)
        except Exception:
            logger.exception("handler %s failed for event %s", getattr(handler, "__qualname__", handler), event.name)


def handlers_for(name: str) -> list[Callable[[Event], None]]:
    return list(_handlers.get(name, ()))


def unregister(name: str, handler: Callable[[Event], None]) -> None:
    if handler in _handlers.get(name, ()):
        _handlers[name].remove(handler)
