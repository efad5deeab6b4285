"""How a notice reaches its person: the delivery channels (configured in `ERHUO_NOTICE_CHANNELS`).

Each channel is a class with `deliver(notice)`, named by its dotted path in the
setting, e.g.

    ERHUO_NOTICE_CHANNELS = [
        "erhuo.notifications.channels.InAppChannel",
        "erhuo.notifications.channels.RealtimeChannel",
    ]

The services call `deliver(notice)` after the transaction that wrote the notice
commits, so a channel never announces a notice that was rolled back. A channel
that fails is logged and does not stop the others: the row is the notice, and
the person still finds it in her notification centre. A new channel (WeChat
template messages, SMS, mini-program subscriptions) is a subclass added to the
setting; nothing else changes.
"""

import logging
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from erhuo.core import realtime

logger = logging.getLogger(__name__)

DEFAULT_CHANNELS = (
    "erhuo.notifications.channels.InAppChannel",
    "erhuo.notifications.channels.RealtimeChannel",
)
# The real-time event's name on the person's WebSocket (`/ws/me/`): {"event": "notice", "payload": {...}}.
REALTIME_EVENT = "notice"


class Channel:
    """A way to deliver a notice that is already stored."""

    name = ""

    def deliver(self, notice) -> None:
        raise NotImplementedError


class InAppChannel(Channel):
    """The notification centre: the stored row is the notice, so there is nothing more to do."""

    name = "in_app"

    def deliver(self, notice) -> None:
        return None


class RealtimeChannel(Channel):
    """Pushes the notice to the person's open pages over WebSocket (the group `user.<id>`)."""

    name = "realtime"

    def deliver(self, notice) -> None:
        realtime.send_to_user(notice.user_id, REALTIME_EVENT, payload(notice))


def payload(notice) -> dict:
    """The notice as the API shows it (`GET /api/v1/notices`), plus `type`, for real-time clients."""
    return {
        "type": REALTIME_EVENT,
        "id": notice.pk,
        "kind": notice.kind,
        "title": notice.title,
        "body": notice.body,
        "url": notice.url,
        "data": notice.data,
        "created_at": notice.created_at.isoformat(),
        "read_at": notice.read_at.isoformat() if notice.read_at else None,
    }


@cache
def _load(paths: tuple[str, ...]) -> tuple[Channel, ...]:
    return tuple(import_string(path)() for path in paths)


def configured() -> tuple[Channel, ...]:
    return _load(tuple(getattr(settings, "ERHUO_NOTICE_CHANNELS", DEFAULT_CHANNELS)))


def deliver(notices) -> None:
    """Hand each stored notice to every configured channel."""
    channels = configured()
    for notice in notices:
        for channel in channels:
            try:
                channel.deliver(notice)
            except Exception:
                logger.exception("notice %s: channel %s failed", notice.pk, channel.name or type(channel).__name__)
