"""The demo runner (`demo_serve`), `demo_seed`'s refusals, and the seeding's determinism.

What the demo contains is tested in test_demo_seed.py (and consignment's part in test_demo_consignment.py),
each seeding it once for the module.
"""

import base64
import hashlib
import signal
import socket
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from erhuo.accounts.models import RoleChange, User
from erhuo.ledger.models import Account
from erhuo.payments.models import Payment
from erhuo.trust.models import DepositReturn, IdentityDocument, SellerVerification
from erhuo.web import demo
from erhuo.web.demo import accounts as demo_accounts
from erhuo.web.demo import trust as demo_trust
from erhuo.web.management.commands import demo_serve


def _seed(*args) -> str:
    out = StringIO()
    call_command("demo_seed", *args, stdout=out)
    return out.getvalue()


# --- demo_seed ------------------------------------------------------------


@pytest.mark.django_db
def test_if_empty_keeps_existing_data(member):
    output = _seed("--if-empty")

    assert output == "Demo data not seeded: the database already has 1 users (kept as is).\n"
    assert list(User.objects.all()) == [member]


@pytest.mark.django_db
def test_seed_without_if_empty_refuses_a_database_with_users(member):
    with pytest.raises(CommandError, match="already has 1 users"):
        _seed()
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_seed_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    settings.TESTING = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        _seed()
    assert User.objects.count() == 0


def _trust_snapshot() -> dict:
    """What the people and trust seeders wrote, without primary keys and timestamps (they differ by run)."""

    def digest(document) -> str:
        return hashlib.sha256(base64.b64decode(document.content)).hexdigest()

    return {
        "users": list(User.objects.order_by("username").values_list("username", "display_name", "phone", "city")),
        "verifications": [
            (v.user.username, v.status, v.real_name, v.id_number, v.alipay_account, v.sesame_score, v.rejection_note)
            for v in SellerVerification.objects.select_related("user").order_by("created_at")
        ],
        "id_photos": [
            (document.verification.user.username, document.side, digest(document))
            for document in IdentityDocument.objects.select_related("verification__user").order_by(
                "verification__created_at", "side"
            )
        ],
        "payments": list(
            Payment.objects.order_by("created_at").values_list("payer__username", "provider", "status", "amount_fen")
        ),
        "balances": sorted(
            (account.code.split(":")[0], account.owner.username if account.owner else "", account.balance_fen)
            for account in Account.objects.select_related("owner")
        ),
        "returns": list(DepositReturn.objects.order_by("created_at").values_list("seller__username", "status")),
        "roles": list(
            RoleChange.objects.order_by("created_at", "user__username", "role").values_list(
                "user__username", "role", "granted", "actor__username"
            )
        ),
    }


@pytest.mark.django_db
def test_seeding_is_deterministic():
    # Given the people and trust seeders run on an empty database, and again after rolling it back
    snapshots = []
    for _run in range(2):
        with transaction.atomic():
            for module in (demo_accounts, demo_trust):
                module.seed(stdout=StringIO())
            snapshots.append(_trust_snapshot())
            transaction.set_rollback(True)

    # Then both wrote the same people, applications (ID photos byte for byte), payments and balances
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]["verifications"]) == 14
    assert len(snapshots[0]["users"]) == 331


# --- demo_serve -----------------------------------------------------------

BANNER = """
二货 Erhuo demo is running
  Site:      http://127.0.0.1:8000/
  API docs:  http://127.0.0.1:8000/api/v1/docs
  Admin:     http://127.0.0.1:8000/admin/

Demo logins (log in with the username or the phone number):
  role      username  phone        password
  --------  --------  -----------  ---------
  主理人    owner     13900000001  erhuo2026
  社群运营  yunying   13900000002  erhuo2026
  入库员    ruku      13900000003  erhuo2026
  鉴定师    jianding  13900000004  erhuo2026
  清洗消毒  qingxi    13900000005  erhuo2026
  摄影师    sheying   13900000006  erhuo2026
  客服      kefu      13900000007  erhuo2026
  财务      caiwu     13900000008  erhuo2026
  闲置主    seller    13900000010  erhuo2026
  达人      expert    13900000011  erhuo2026
  群员      member    13900000012  erhuo2026

Every other demo member logs in with her phone number and the same password.
Press Ctrl-C to stop.
"""


def test_banner_lists_urls_and_one_login_per_role():
    assert demo_serve.build_banner(host="127.0.0.1", port=8000, logins=demo.DEMO_LOGINS) == BANNER


def test_banner_on_all_interfaces_points_at_loopback_and_warns(settings):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    banner = demo_serve.build_banner(host="0.0.0.0", port=9000, logins=[])
    assert "  Site:      http://127.0.0.1:9000/\n" in banner
    assert "other machines need their host name in ALLOWED_HOSTS (0.0.0.0)" in banner


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("0.0.0.0", 8000, "http://127.0.0.1:8000"),
        ("::", 8001, "http://[::1]:8001"),
        ("::1", 8002, "http://[::1]:8002"),
        ("localhost", 9000, "http://localhost:9000"),
    ],
)
def test_base_url(host, port, url):
    assert demo_serve.base_url(host, port) == url


def test_arguments():
    parser = demo_serve.Command().create_parser("manage.py", "demo_serve")
    defaults = parser.parse_args([])
    assert (defaults.host, defaults.port, defaults.no_worker) == ("127.0.0.1", 8000, False)
    options = parser.parse_args(["--host", "0.0.0.0", "--port", "8765", "--no-worker"])
    assert (options.host, options.port, options.no_worker) == ("0.0.0.0", 8765, True)


def _listening_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_taken_port_is_reported_before_anything_starts(monkeypatch):
    def fail(**kwargs):
        raise AssertionError("nothing may start when the port is taken")

    monkeypatch.setattr(demo_serve, "start_worker", fail)
    monkeypatch.setattr(demo_serve, "make_server", fail)
    with _listening_socket() as taken:
        port = taken.getsockname()[1]
        with pytest.raises(CommandError) as error:
            call_command("demo_serve", "--port", str(port))
    assert str(error.value) == (
        f"Port {port} on 127.0.0.1 is already in use (is another demo server running?). "
        f"Stop it, or choose another port: `make demo PORT={port + 1}`."
    )


class FakeWorker:
    def __init__(self):
        self.returncode = None
        self.signals = []

    def poll(self):
        return self.returncode

    def send_signal(self, signum):
        self.signals.append(signum)
        self.returncode = -signum

    def wait(self, timeout=None):
        return self.returncode

    def kill(self):
        raise AssertionError("the worker stops on SIGINT")


class FakeServer:
    def __init__(self, on_started, interrupt):
        self.on_started = on_started
        self.interrupt = interrupt

    def run(self):
        self.on_started()
        if self.interrupt:
            raise KeyboardInterrupt


@pytest.mark.parametrize("interrupt", [False, True])
def test_serve_prints_the_banner_and_stops_the_worker(monkeypatch, interrupt):
    worker = FakeWorker()
    calls = {}

    def make_server(*, host, port, on_started):
        calls["server"] = (host, port)
        return FakeServer(on_started, interrupt)

    monkeypatch.setattr(demo_serve, "make_server", make_server)
    monkeypatch.setattr(demo_serve, "start_worker", lambda: worker)
    handler_before = signal.getsignal(signal.SIGTERM)
    port = _free_port()
    out, err = StringIO(), StringIO()

    call_command("demo_serve", "--port", str(port), stdout=out, stderr=err)

    assert calls["server"] == ("127.0.0.1", port)
    assert out.getvalue() == (
        demo_serve.build_banner(host="127.0.0.1", port=port, logins=demo.DEMO_LOGINS) + "Demo stopped.\n"
    )
    assert err.getvalue() == ""
    assert worker.signals == [signal.SIGINT]
    assert signal.getsignal(signal.SIGTERM) == handler_before


def test_serve_without_worker(monkeypatch):
    monkeypatch.setattr(demo_serve, "make_server", lambda **kwargs: FakeServer(lambda: None, False))
    monkeypatch.setattr(demo_serve, "start_worker", lambda: pytest.fail("no worker with --no-worker"))
    out = StringIO()
    call_command("demo_serve", "--port", str(_free_port()), "--no-worker", stdout=out)
    assert out.getvalue() == "Demo stopped.\n"
