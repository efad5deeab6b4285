"""The demo data (`demo_seed`) and the demo runner (`demo_serve`)."""

import re
import signal
import socket
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from erhuo.accounts import roles
from erhuo.accounts.models import Address, RoleChange, User, phone_digest
from erhuo.core.pii import decrypt
from erhuo.web import demo
from erhuo.web.demo import accounts as demo_accounts
from erhuo.web.management.commands import demo_serve

PASSWORD = "erhuo2026"
STATION_USERS = {
    roles.OWNER: "owner",
    roles.COMMUNITY_MANAGER: "yunying",
    roles.INTAKE_CLERK: "ruku",
    roles.AUTHENTICATOR: "jianding",
    roles.CARE_TECHNICIAN: "qingxi",
    roles.PHOTOGRAPHER: "sheying",
    roles.CUSTOMER_SERVICE: "kefu",
    roles.FINANCE: "caiwu",
}
SEED_SUMMARY = "accounts: 11 demo logins (owner, 7 operators, seller, expert, member), 320 more members, 284 addresses"


def _seed(*args) -> str:
    out = StringIO()
    call_command("demo_seed", *args, stdout=out)
    return out.getvalue()


def _login_request():
    return RequestFactory().post("/accounts/login/", REMOTE_ADDR="127.0.0.1")


def _roles_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def _bulk_members():
    named = [account.username for account in demo_accounts.NAMED_ACCOUNTS]
    return User.objects.exclude(username__in=named)


# --- demo_seed ------------------------------------------------------------


@pytest.mark.django_db
def test_seed_creates_the_demo_people():
    output = _seed("--if-empty")

    assert SEED_SUMMARY in output
    assert "Demo password: erhuo2026" in output
    assert User.objects.count() == 331
    assert User.objects.filter(groups__name=roles.MEMBER).count() == 323
    for code, username in STATION_USERS.items():
        assert list(User.objects.filter(groups__name=code).values_list("username", flat=True)) == [username]
        assert _roles_of(username) == {code}
    assert set(User.objects.filter(is_staff=True).values_list("username", flat=True)) == set(STATION_USERS.values())
    assert User.objects.filter(is_superuser=True).count() == 0
    assert _roles_of("seller") == {roles.MEMBER, roles.SELLER}
    assert _roles_of("expert") == {roles.MEMBER, roles.SELLER, roles.EXPERT}
    assert _roles_of("member") == {roles.MEMBER}
    named_sellers = set(
        User.objects.filter(groups__name=roles.SELLER, username__in=["expert", "seller"]).values_list(
            "username", flat=True
        )
    )
    assert named_sellers == {"expert", "seller"}
    # The consignment demo makes three of the first ordinary members sellers too.
    assert User.objects.filter(groups__name=roles.SELLER).count() == 5

    owner = User.objects.get(username="owner")
    assert (owner.display_name, owner.phone, owner.city) == ("主理人苏苏", "13900000001", "上海")
    expert = User.objects.get(username="expert")
    assert expert.display_name == "搭配师Vivian"
    assert expert.bio.startswith("前时尚杂志造型助理，做了 8 年私人穿搭顾问。擅长小个子和产后身材的通勤搭配")
    # Every grant is on the record: 14 for the named accounts, one member grant per bulk member,
    # and three seller grants from the consignment demo.
    assert RoleChange.objects.count() == 337
    assert RoleChange.objects.filter(role=roles.COMMUNITY_MANAGER).get().actor == owner
    assert RoleChange.objects.filter(role=roles.EXPERT).get().actor.username == "yunying"


@pytest.mark.django_db
def test_seeded_members_look_real():
    _seed()
    members = list(_bulk_members())

    assert len(members) == 320
    assert all(member.groups.filter(name=roles.MEMBER).exists() for member in members)
    assert sum(member.groups.filter(name=roles.SELLER).exists() for member in members) == 3
    phones = [member.phone for member in members]
    assert len(set(phones)) == 320
    assert all(re.fullmatch(r"1[35789]\d{9}", phone) for phone in phones)
    assert all(member.phone_digest == phone_digest(member.phone) for member in members)
    assert all(re.fullmatch(r"u[0-9a-f]{8}", member.username) for member in members)
    assert len({member.display_name for member in members}) == 320
    assert sum(1 for member in members if re.search(r"[\u4e00-\u9fff]", member.display_name)) > 280
    assert Counter(member.city for member in members) == {
        "上海": 53,
        "北京": 41,
        "杭州": 29,
        "深圳": 29,
        "成都": 23,
        "广州": 23,
        "南京": 18,
        "苏州": 17,
        "武汉": 12,
        "重庆": 12,
        "长沙": 9,
        "天津": 9,
        "西安": 9,
        "郑州": 6,
        "合肥": 6,
        "青岛": 6,
        "宁波": 6,
        "厦门": 6,
        "无锡": 3,
        "昆明": 3,
    }
    assert sum(1 for member in members if member.bio) > 240
    now = timezone.now()
    assert all(now - timedelta(days=91) < member.date_joined <= now for member in members)
    assert len({member.date_joined.date() for member in members}) > 60
    # One in eight has not entered an address; the others have exactly one, the default.
    with_address = Counter(Address.objects.filter(user__in=members).values_list("user_id", flat=True))
    assert len(with_address) == 280
    assert set(with_address.values()) == {1}
    assert Address.objects.filter(user__in=members, is_default=False).count() == 0


@pytest.mark.django_db
def test_demo_member_has_two_addresses_and_details_are_encrypted_at_rest():
    _seed()
    member = User.objects.get(username="member")
    addresses = list(member.addresses.order_by("pk"))

    assert Address.objects.count() == 284
    assert [(a.label, a.recipient_name, a.region, a.detail, a.is_default) for a in addresses] == [
        ("家", "周婷", "上海市 上海市 徐汇区", "宜山路 700 弄 12 号 1202 室", True),
        ("公司", "周婷", "上海市 上海市 静安区", "南京西路 1266 号恒隆广场办公楼一座 32 层", False),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT detail, recipient_name, recipient_phone FROM accounts_address WHERE id = %s", [addresses[0].pk]
        )
        raw_detail, raw_name, raw_phone = cursor.fetchone()
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [member.pk])
        (raw_user_phone,) = cursor.fetchone()
    assert raw_detail != "宜山路 700 弄 12 号 1202 室"
    assert "宜山路" not in raw_detail
    assert raw_detail.startswith("gAAAAA")  # a Fernet token
    assert decrypt(raw_detail) == "宜山路 700 弄 12 号 1202 室"
    assert "周婷" not in raw_name
    assert decrypt(raw_phone) == "13900000012"
    assert raw_user_phone != "13900000012"
    assert decrypt(raw_user_phone) == "13900000012"


@pytest.mark.django_db
def test_printed_logins_authenticate():
    _seed()

    assert demo.DEMO_PASSWORD == PASSWORD
    assert [tuple(login) for login in demo.DEMO_LOGINS] == [
        ("主理人", "owner", "13900000001", PASSWORD),
        ("社群运营", "yunying", "13900000002", PASSWORD),
        ("入库员", "ruku", "13900000003", PASSWORD),
        ("鉴定师", "jianding", "13900000004", PASSWORD),
        ("清洗消毒", "qingxi", "13900000005", PASSWORD),
        ("摄影师", "sheying", "13900000006", PASSWORD),
        ("客服", "kefu", "13900000007", PASSWORD),
        ("财务", "caiwu", "13900000008", PASSWORD),
        ("闲置主", "seller", "13900000010", PASSWORD),
        ("达人", "expert", "13900000011", PASSWORD),
        ("群员", "member", "13900000012", PASSWORD),
    ]
    owner = authenticate(_login_request(), username="owner", password=PASSWORD)
    assert owner is not None and owner.username == "owner"
    member = authenticate(_login_request(), username="13900000012", password=PASSWORD)
    assert member is not None and member.username == "member"
    assert authenticate(_login_request(), username="member", password="wrong-password") is None
    # The bulk members share one hash of the same password.
    someone = _bulk_members().order_by("pk").first()
    assert authenticate(_login_request(), username=someone.phone, password=PASSWORD) == someone


@pytest.mark.django_db
def test_if_empty_keeps_existing_data():
    _seed("--if-empty")
    counts = (User.objects.count(), Address.objects.count(), RoleChange.objects.count())

    output = _seed("--if-empty")

    assert output == "Demo data not seeded: the database already has 331 users (kept as is).\n"
    assert (User.objects.count(), Address.objects.count(), RoleChange.objects.count()) == counts == (331, 284, 337)


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
