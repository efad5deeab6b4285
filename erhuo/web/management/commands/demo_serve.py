"""`manage.py demo_serve --host 127.0.0.1 --port 8000`: run the demo.

One ASGI process (uvicorn, in this process) serves HTTP and WebSocket; the
huey consumer runs beside it as a child process (`manage.py run_huey`).
Ctrl-C or SIGTERM stops the server gracefully, then the worker.
"""

import errno
import signal
import socket
import subprocess
import sys
import unicodedata
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from erhuo.web import demo

ASGI_APP = "erhuo.asgi:application"
API_DOCS_PATH = "/api/v1/docs"
ADMIN_PATH = "/admin/"
WORKER_STOP_SECONDS = 10
WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


class _Terminated(Exception):
    """Raised from the SIGTERM handler to unwind into the clean-up code."""


def _raise_terminated(signum, frame):
    raise _Terminated


# --- the banner -----------------------------------------------------------


def base_url(host: str, port: int) -> str:
    """The address to open in a browser (a wildcard host is reached through loopback)."""
    host = WILDCARD_HOSTS.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def login_table(logins) -> list[str]:
    rows = [("role", "username", "phone", "password"), *[tuple(login) for login in logins]]
    widths = [max(_width(row[column]) for row in rows) for column in range(4)]
    rows.insert(1, tuple("-" * width for width in widths))
    return [
        "  " + "  ".join(_pad(cell, width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def build_banner(*, host: str, port: int, logins) -> str:
    url = base_url(host, port)
    lines = [
        "",
        "二货 Erhuo demo is running",
        f"  Site:      {url}/",
        f"  API docs:  {url}{API_DOCS_PATH}",
        f"  Admin:     {url}{ADMIN_PATH}",
        "",
        "Demo logins (log in with the username or the phone number):",
        *login_table(logins),
        "",
        "Every other demo member logs in with her phone number and the same password.",
    ]
    if host in WILDCARD_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        lines.append(f"Listening on all interfaces; other machines need their host name in ALLOWED_HOSTS ({host}).")
    lines += ["Press Ctrl-C to stop.", ""]
    return "\n".join(lines)


# --- the processes --------------------------------------------------------


def ensure_port_free(host: str, port: int) -> None:
    """Fail early and clearly if the address is taken, before starting anything."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn does: a port in TIME_WAIT is free, one that is listened on is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"Port {port} on {host} is already in use (is another demo server running?). "
                    f"Stop it, or choose another port: `make demo PORT={port + 1}`."
                ) from None
            raise CommandError(f"Cannot listen on {host}:{port}: {error.strerror}.") from None


def start_worker() -> subprocess.Popen:
    manage_py = Path(settings.BASE_DIR) / "manage.py"
    # Its own session: Ctrl-C in the terminal reaches only us, and we stop it in order.
    return subprocess.Popen([sys.executable, str(manage_py), "run_huey"], start_new_session=True)  # noqa: S603


def stop_worker(process: subprocess.Popen | None, *, timeout: float = WORKER_STOP_SECONDS) -> int | None:
    """Stop the huey consumer: SIGINT lets running tasks finish; kill it if it takes too long."""
    if process is None:
        return None
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def make_server(*, host: str, port: int, on_started):
    import uvicorn

    class DemoServer(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            if self.started and not self.should_exit:
                on_started()

    # Channels' router does not speak the lifespan protocol.
    config = uvicorn.Config(ASGI_APP, host=host, port=port, lifespan="off", log_level="info")
    return DemoServer(config)


class Command(BaseCommand):
    help = "Serve the demo: uvicorn (HTTP and WebSocket) and the huey worker, stopped together with Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on (default 8000).")
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start the huey consumer (background tasks wait)."
        )

    def handle(self, *args, host="127.0.0.1", port=8000, no_worker=False, **options):
        if not 0 < port < 65536:
            raise CommandError(f"Not a port number: {port}.")
        ensure_port_free(host, port)

        def announce():
            self.stdout.write(build_banner(host=host, port=port, logins=demo.DEMO_LOGINS))
            self.stdout.flush()

        server = make_server(host=host, port=port, on_started=announce)
        worker = None
        previous_handler = signal.signal(signal.SIGTERM, _raise_terminated)
        try:
            if not no_worker:
                worker = start_worker()
            server.run()
        except (KeyboardInterrupt, _Terminated):
            pass  # uvicorn has already shut down gracefully; the worker follows
        finally:
            code = stop_worker(worker)
            signal.signal(signal.SIGTERM, previous_handler)
        if code not in (None, 0, -signal.SIGINT):
            self.stderr.write(f"The huey worker exited with code {code}.")
        self.stdout.write("Demo stopped.")
