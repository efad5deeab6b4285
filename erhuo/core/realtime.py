"""Push real-time messages to a person's open pages over WebSocket.

Call only after commit (from an event handler or `transaction.on_commit`).
Each signed-in connection joins the group `user.<id>`; see
`erhuo.web.consumers.MeConsumer`.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def send_to_user(user_id: int, event_type: str, payload: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user_id), {"type": "push", "event": event_type, "payload": payload})
    except Exception:
        # A real-time push is a courtesy: the page also reads state on load.
        logger.exception("real-time push to user %s failed", user_id)
