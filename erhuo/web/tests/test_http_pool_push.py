"""Through erhuo.asgi: an HTTP request served on the HTTP threads (ADR 11) pushes to a WebSocket on the same loop."""

import asyncio
import concurrent.futures
import json

import pytest
from channels.testing.websocket import WebsocketCommunicator
from django.test import override_settings

from erhuo.accounts.services import api_token_issue
from erhuo.asgi import application, http_app
from erhuo.core.http_pool import PooledWsgiHttp
from erhuo.market import services
from erhuo.market.tests.factories import buyer, listed_item
from erhuo.web.consumers import MeConsumer

pytestmark = pytest.mark.django_db(transaction=True)


def _run(scenario):
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, scenario()).result(timeout=30)


def test_http_is_served_by_the_thread_pool():
    assert isinstance(http_app, PooledWsgiHttp)
    assert application.application_mapping["http"] is http_app


@override_settings(ALLOWED_HOSTS=["localhost"])
def test_withdrawing_a_reservation_over_http_pushes_the_offer_to_the_next_members_open_page():
    item = listed_item()
    first, second = buyer(), buyer()
    reservation = services.claim_create(item_id=item.pk, member=first)
    queued = services.claim_create(item_id=item.pk, member=second)
    _token, raw = api_token_issue(user=first)

    async def scenario():
        page = WebsocketCommunicator(MeConsumer.as_asgi(), "/ws/me/")
        page.scope["user"] = second
        connected, _subprotocol = await page.connect()
        assert connected is True
        await page.receive_json_from()  # "connected"

        sent = []
        incoming = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive():
            if incoming:
                return incoming.pop(0)
            await asyncio.sleep(3600)

        async def send(message):
            sent.append(message)

        path = f"/api/v1/claims/{reservation.pk}/withdraw"
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"localhost"), (b"authorization", f"Bearer {raw}".encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        await application(scope, receive, send)
        pushed = await page.receive_json_from(timeout=5)
        await page.disconnect()
        return sent, pushed

    sent, pushed = _run(scenario)
    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"])["claim"]["status"] == "withdrawn"
    assert pushed == {"event": "claim_offered", "payload": {"claim_id": queued.pk, "item_id": item.pk}}
