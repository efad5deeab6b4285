import asyncio
import concurrent.futures

import pytest
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from erhuo.asgi import application
from erhuo.core.realtime import send_to_user
from erhuo.web.consumers import MeConsumer

pytestmark = pytest.mark.django_db(transaction=True)


def _run(scenario) -> None:
    """Run a coroutine in its own thread and event loop.

    The browser tests keep Playwright's event loop running in the main thread
    for the whole session, and async_to_sync refuses to run under it.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result(timeout=30)


async def _connect(user):
    communicator = WebsocketCommunicator(MeConsumer.as_asgi(), "/ws/me/")
    communicator.scope["user"] = user
    connected, _subprotocol = await communicator.connect()
    return communicator, connected


def test_signed_in_member_receives_pushes(member):
    async def scenario():
        communicator, connected = await _connect(member)
        assert connected is True
        assert await communicator.receive_json_from() == {"event": "connected", "payload": {"user_id": member.pk}}
        await database_sync_to_async(send_to_user)(member.pk, "notice_created", {"id": 7})
        assert await communicator.receive_json_from(timeout=3) == {"event": "notice_created", "payload": {"id": 7}}
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from() == {"event": "pong", "payload": {}}
        await communicator.disconnect()

    _run(scenario)


def test_anonymous_connection_is_refused():
    async def scenario():
        _communicator, connected = await _connect(AnonymousUser())
        assert connected is False

    _run(scenario)


def test_asgi_application_routes_websocket():
    assert set(application.application_mapping) == {"http", "websocket"}
