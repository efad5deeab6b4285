"""HTTP through Django's WSGI handler on a pool of threads (erhuo/core/http_pool.py, ADR 11)."""

import asyncio
import concurrent.futures
import json
import threading

import pytest
from asgiref.sync import async_to_sync
from django.core.wsgi import get_wsgi_application
from django.db import connection

from erhuo.core.http_pool import PooledWsgiHttp, wsgi_environ


def _run(scenario):
    """Run a coroutine in its own thread and event loop (the browser tests keep one running in the main thread)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, scenario()).result(timeout=30)


def _scope(method="GET", path="/", *, headers=(), query=b"", root_path=""):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": root_path,
        "query_string": query,
        "headers": list(headers),
        "client": ("203.0.113.7", 50123),
        "server": ("127.0.0.1", 8000),
    }


async def _call(app, scope, body_parts=(b"",)):
    """Send the request in `body_parts`; return the messages the application sent."""
    incoming = [
        {"type": "http.request", "body": part, "more_body": index < len(body_parts) - 1}
        for index, part in enumerate(body_parts)
    ]
    sent = []

    async def receive():
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent


# --- the environ ----------------------------------------------------------------------------------


def test_the_environ_carries_what_django_reads_from_a_scope():
    scope = _scope(
        "post",
        "/api/v1/items/7/claims",
        query=b"a=1&b=%E4%BA%8C",
        headers=[
            (b"host", b"erhuo.example"),
            (b"content-type", b"application/json"),
            (b"content-length", b"2"),
            (b"cookie", b"sessionid=abc"),
            (b"cookie", b"csrftoken=def"),
            (b"accept", b"text/html"),
            (b"accept", b"application/json"),
            (b"x-forwarded-proto", b"https"),
        ],
    )
    body = object()
    environ = wsgi_environ(scope, body)
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["PATH_INFO"] == "/api/v1/items/7/claims"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["QUERY_STRING"] == "a=1&b=%E4%BA%8C"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "2"
    assert environ["HTTP_HOST"] == "erhuo.example"
    assert environ["HTTP_COOKIE"] == "sessionid=abc; csrftoken=def"
    assert environ["HTTP_ACCEPT"] == "text/html,application/json"
    assert environ["HTTP_X_FORWARDED_PROTO"] == "https"
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("203.0.113.7", "50123")
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "8000")
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["wsgi.input"] is body


def test_the_content_length_is_what_was_received_even_for_a_chunked_request():
    assert wsgi_environ(_scope("POST"), None, 11)["CONTENT_LENGTH"] == "11"
    assert wsgi_environ(_scope("POST", headers=[(b"content-length", b"11")]), None, 11)["CONTENT_LENGTH"] == "11"


def test_a_header_with_an_underscore_is_dropped_so_it_cannot_pose_as_another():
    environ = wsgi_environ(
        _scope(headers=[(b"x-forwarded_proto", b"https"), (b"x-forwarded-for", b"198.51.100.1")]), None
    )
    assert "HTTP_X_FORWARDED_PROTO" not in environ
    assert environ["HTTP_X_FORWARDED_FOR"] == "198.51.100.1"


def test_the_root_path_becomes_the_script_name_and_non_ascii_paths_survive():
    environ = wsgi_environ(_scope(path="/erhuo/items/二货/", root_path="/erhuo"), None)
    assert environ["SCRIPT_NAME"] == "/erhuo"
    # WSGI carries the UTF-8 bytes as latin-1 text; Django decodes them back.
    assert environ["PATH_INFO"].encode("latin-1").decode("utf-8") == "/items/二货/"


# --- the application ------------------------------------------------------------------------------


class _Answer(list):
    """A WSGI answer that records being closed, as Django's HttpResponse does."""

    streaming = False
    closed = False

    def close(self):
        self.closed = True


def test_the_request_body_reaches_the_application_and_the_answer_comes_back_whole():
    seen = {}
    answer = _Answer([b'{"ok": ', b"true}"])

    def app(environ, start_response):
        seen["body"] = environ["wsgi.input"].read()
        seen["thread"] = threading.current_thread().name
        start_response("201 Created", [("Content-Type", "application/json"), ("X-Erhuo", "1")])
        return answer

    sent = _run(lambda: _call(PooledWsgiHttp(app, threads=1), _scope("POST"), [b'{"a":', b" 1}"]))
    assert seen["body"] == b'{"a": 1}'
    assert seen["thread"].startswith("erhuo-http")
    assert sent == [
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"application/json"), (b"x-erhuo", b"1")],
        },
        {"type": "http.response.body", "body": b'{"ok": true}'},
    ]
    assert answer.closed is True


def test_a_streaming_answer_is_sent_chunk_by_chunk_and_closed():
    answer = _Answer([b"first ", b"", b"second"])
    answer.streaming = True

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "image/jpeg")])
        return answer

    sent = _run(lambda: _call(PooledWsgiHttp(app, threads=1), _scope()))
    assert sent == [
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"image/jpeg")]},
        {"type": "http.response.body", "body": b"first ", "more_body": True},
        {"type": "http.response.body", "body": b"second", "more_body": True},
        {"type": "http.response.body", "body": b""},
    ]
    assert answer.closed is True


def test_a_client_gone_before_its_request_is_complete_gets_nothing_and_runs_nothing():
    calls = []

    def app(environ, start_response):
        calls.append(environ)
        start_response("200 OK", [])
        return [b""]

    async def scenario():
        messages = [{"type": "http.request", "body": b"part", "more_body": True}, {"type": "http.disconnect"}]
        sent = []

        async def receive():
            return messages.pop(0)

        async def send(message):
            sent.append(message)

        await PooledWsgiHttp(app, threads=1)(_scope("POST"), receive, send)
        return sent

    assert _run(scenario) == []
    assert calls == []


def test_async_to_sync_in_a_view_runs_on_the_servers_event_loop():
    """Channels' group_send from a view must reach consumers on this loop (the in-memory layer is not thread-safe)."""

    async def where():
        return asyncio.get_running_loop()

    def app(environ, start_response):
        environ["loop seen"] = async_to_sync(where)()
        start_response("204 No Content", [])
        return [b""]

    seen = {}

    def spy(environ, start_response):
        answer = app(environ, start_response)
        seen["loop"] = environ["loop seen"]
        return answer

    async def scenario():
        await _call(PooledWsgiHttp(spy, threads=1), _scope())
        return asyncio.get_running_loop()

    assert _run(scenario) is seen["loop"]


def test_the_threads_are_kept_and_bounded():
    names = []

    def app(environ, start_response):
        names.append(threading.current_thread().name)
        start_response("200 OK", [])
        return [b""]

    http = PooledWsgiHttp(app, threads=2)

    async def scenario():
        await asyncio.gather(*(_call(http, _scope()) for _ in range(20)))

    _run(scenario)
    assert len(names) == 20
    assert len(set(names)) <= 2


def test_only_http_and_at_least_one_thread():
    with pytest.raises(ValueError, match="at least one thread"):
        PooledWsgiHttp(lambda environ, start_response: [], threads=0)
    with pytest.raises(ValueError, match="HTTP only"):
        _run(lambda: PooledWsgiHttp(lambda environ, start_response: [], threads=1)({"type": "websocket"}, None, None))


@pytest.mark.django_db(transaction=True)
def test_django_answers_through_the_pool_with_its_middleware():
    http = PooledWsgiHttp(get_wsgi_application(), threads=1)
    headers = [(b"host", b"localhost"), (b"x-forwarded-proto", b"https")]

    sent = _run(lambda: _call(http, _scope(path="/api/v1/health", headers=headers)))
    assert sent[0]["status"] == 200
    assert (b"x-frame-options", b"DENY") in sent[0]["headers"]
    assert json.loads(sent[1]["body"]) == {"status": "ok", "database": connection.vendor}

    # The POSTed JSON is read (in two parts): a login refused in the API's error shape.
    post_headers = [*headers, (b"content-type", b"application/json")]
    body = [b'{"username": "nobody", ', b'"password": "Wrong-pass-2026"}']
    sent = _run(lambda: _call(http, _scope("POST", "/api/v1/auth/token", headers=post_headers), body))
    assert sent[0]["status"] == 401
    assert json.loads(sent[1]["body"])["code"] == "invalid_credentials"
