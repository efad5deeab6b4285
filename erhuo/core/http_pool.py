"""HTTP in the ASGI process, through Django's WSGI handler on a few long-lived threads (ADR 11).

Django's ASGI handler gives every request a thread of its own (asgiref's
ThreadSensitiveContext), so every request opens a new database connection
(on SQLite that alone costs a millisecond: the schema is parsed again), and
it crosses between the event loop and that thread several times on the way
through the middleware. Erhuo's views and middleware are all synchronous,
so HTTP gains nothing from it: this application reads the request on the
event loop, runs it whole through Django's WSGI handler on one of
`threads` long-lived threads, which keep their database connection
(CONN_MAX_AGE), and sends the answer from the event loop. A streaming
answer (a FileResponse) is sent chunk by chunk from the thread.

WebSocket stays with Channels (erhuo/asgi.py). bench/claim_storm measures
the difference.
"""

import sys
from concurrent.futures import ThreadPoolExecutor
from tempfile import SpooledTemporaryFile

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings


def wsgi_environ(scope: dict, body, length: int | None = None) -> dict:
    """The WSGI environ of an ASGI HTTP scope, with the META Django's ASGI handler would have built.

    `length` is the size of the body as received: Django's WSGI request reads CONTENT_LENGTH bytes,
    and a chunked request has no Content-Length header (Django's ASGI request reads it all).
    """
    script_name = settings.FORCE_SCRIPT_NAME or scope.get("root_path", "") or ""
    path = scope["path"]
    if script_name and path.startswith(script_name):
        path = path[len(script_name) :]
    server = scope.get("server") or ("unknown", 0)
    environ = {
        "REQUEST_METHOD": scope["method"].upper(),
        "SCRIPT_NAME": script_name.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] if server[1] is not None else 0),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if scope.get("client"):
        environ["REMOTE_ADDR"] = scope["client"][0]
        environ["REMOTE_PORT"] = str(scope["client"][1])
    headers: dict[str, list[str]] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        if "_" in name:
            continue  # as Django's ASGI handler and WSGI servers: no spoofing `X-Forwarded_Proto` as X-Forwarded-Proto
        if name == "content-length":
            key = "CONTENT_LENGTH"
        elif name == "content-type":
            key = "CONTENT_TYPE"
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        headers.setdefault(key, []).append(raw_value.decode("latin-1"))
    for key, values in headers.items():
        environ[key] = ("; " if key == "HTTP_COOKIE" else ",").join(values)
    if length is not None:
        environ["CONTENT_LENGTH"] = str(length)
    return environ


class PooledWsgiHttp:
    """An ASGI application for HTTP scopes that runs a WSGI application on a fixed pool of threads."""

    def __init__(self, wsgi_application, *, threads: int):
        if threads < 1:
            raise ValueError("PooledWsgiHttp needs at least one thread.")
        self.wsgi_application = wsgi_application
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="erhuo-http")
        # Through asgiref, so that async_to_sync() in a view (Channels' group_send) runs on this event loop.
        self._in_pool = sync_to_async(self._respond, thread_sensitive=False, executor=self.executor)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"PooledWsgiHttp serves HTTP only, not {scope['type']}.")
        # Like Django's ASGI handler: the body in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, then on disk.
        with SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b") as body:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # gone before the request was complete: nothing to answer
                body.write(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            length = body.tell()
            body.seek(0)
            whole = await self._in_pool(scope, body, length, send)
        if whole is not None:
            start, content = whole
            await send(start)
            await send({"type": "http.response.body", "body": content})

    def _respond(self, scope, body, length, send):
        """Run the request in this pool thread; return (start, body), or None once a streaming answer is sent."""
        started = {}

        def start_response(status, headers, exc_info=None):
            started["message"] = {
                "type": "http.response.start",
                "status": int(status.split(" ", 1)[0]),
                "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers],
            }

        response = self.wsgi_application(wsgi_environ(scope, body, length), start_response)
        try:
            if not getattr(response, "streaming", False):
                return started["message"], b"".join(response)
            sync_send = async_to_sync(send)
            sync_send(started["message"])
            for chunk in response:
                if chunk:
                    sync_send({"type": "http.response.body", "body": chunk, "more_body": True})
            sync_send({"type": "http.response.body", "body": b""})
            return None
        finally:
            # Django's request_finished (closing or keeping the thread's database connection) runs here.
            close = getattr(response, "close", None)
            if close is not None:
                close()
