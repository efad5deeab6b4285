"""Claim storm: N members claim one item at the same instant, through the real server.

    .venv/bin/python bench/claim_storm/run.py [--members 500] [--rounds 5] [--workers 1]
        [--database-url postgres://user:password@127.0.0.1:5432/dbname] [--app erhuo.asgi:application] [--keep]

1. A fresh database: SQLite in a temporary ERHUO_VAR_DIR (WAL, the project's
   settings), or, with --database-url, a new PostgreSQL database created next
   to the one the URL names (the role needs CREATEDB) and dropped at the end.
2. migrate; N members (role member), each with an API token; one listed item
   per round, sold by one seller.
3. uvicorn serves erhuo.asgi:application on loopback as in production
   (DEBUG=0, a proxy's X-Forwarded-Proto: https), --workers N; HTTP runs on
   ERHUO_HTTP_THREADS threads per worker (ADR 11; set it in the environment).
4. N connections are opened and used once; then, each round:
   - warm-up: every member GET /api/v1/me (untimed; also records each token's
     use, which the API does at most once a minute, so no timed storm does);
   - the baseline: every member GET /api/v1/me at once (authenticated, reads only);
   - the storm: every member POST /api/v1/items/{id}/claims at once, on the
     round's own item.
   "At once": the client writes the N requests back to back (within 20 ms for 500), then
   waits; each latency counts from the first write, so it includes queueing.

Checks (exit status 1 if any fails): every claim answered 201; exactly one
"reserved" with position 0; N-1 "queued" with positions 1…N-1, each once; no
5xx (every non-201 is printed with its body); in the database, one claim per
member and positions in the order the database accepted them (seq); the
baseline answered 200 every time.

Prints, per round and as medians: claims/s (N / the storm's wall time), p50
and p99 latency, the baseline's requests/s and the ratio claims/s : baseline.
Target on a 2-core machine: ratio >= 0.5 and p99 <= 1 s ("TARGET MISSED"
otherwise; that alone does not fail the run).
"""

import argparse
import asyncio
import json
import math
import os
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from client import Answer, open_connections, request_bytes, storm

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PASSWORD = "Bench-mark-2026!"
TARGET_RATIO = 0.5
TARGET_P99_SECONDS = 1.0
SHOWN_FAILURES = 20


# --- the database -------------------------------------------------------------------------------


def fresh_postgresql(url: str) -> tuple[str, str]:
    """Create an empty database beside the one `url` names; returns its URL and name."""
    import psycopg
    from psycopg import sql

    name = f"erhuo_claim_storm_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}")), name


def drop_postgresql(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def close_django_connections() -> None:
    from django.apps import apps
    from django.db import connections

    if not apps.ready:
        return

    for connection in connections.all():
        connection.close()
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()


def populate(*, members: int, items: int) -> tuple[list[int], list[str], list[int]]:
    """N members with a token each, and `items` listed items; returns member ids, raw tokens, item ids."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from erhuo.accounts import roles
    from erhuo.accounts import services as account_services
    from erhuo.accounts.models import User
    from erhuo.catalog.models import Category, Item

    seller = account_services.user_create(
        phone="13800000002", display_name="压测卖家", password=PASSWORD, roles=(roles.MEMBER, roles.SELLER)
    )
    password = make_password(PASSWORD)  # hashed once: N hashes would take minutes
    with transaction.atomic():
        users = []
        for index in range(members):
            user = User(username=f"storm{index:06d}", display_name=f"接龙{index}", password=password)
            user.set_phone(f"139{index:08d}")
            users.append(user)
        User.objects.bulk_create(users, batch_size=500)
        users = list(User.objects.filter(username__startswith="storm").order_by("pk"))
        member_group = Group.objects.get(name=roles.MEMBER)
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=user.pk, group_id=member_group.pk) for user in users], batch_size=500
        )
        tokens = [account_services.api_token_issue(user=user, name="claim storm")[1] for user in users]

        # What market's tests call listed_item(): an item on sale, put there directly.
        category = Category.objects.filter(parent__isnull=False).order_by("pk").first()
        if category is None:
            category = Category.objects.create(
                name="压测", slug="claim-storm", is_returnable=True, return_window_days=7
            )
        now = timezone.now()
        item_ids = [
            Item.objects.create(
                seller=seller,
                title=f"接龙压测 {number + 1}",
                category=category,
                grade="A",
                price_fen=12_000,
                fulfilment=Item.Fulfilment.PLATFORM,
                channel=Item.Channel.BOTH,
                status=Item.Status.LISTED,
                listed_at=now,
            ).pk
            for number in range(items)
        ]
    return [user.pk for user in users], tokens, item_ids


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_server(*, app: str, port: int, workers: int, env: dict, log_path: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--lifespan",
        "off",  # Channels' router does not speak the lifespan protocol (as in demo_serve)
        "--no-access-log",
        "--log-level",
        "warning",
        # The pre-opened connections wait idle between storms: keep them longer than uvicorn's default 5 s.
        "--timeout-keep-alive",
        "120",
        "--backlog",
        "4096",
    ]
    log = log_path.open("wb")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_healthy(port: int, server: subprocess.Popen, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://{HOST}:{port}/api/v1/health"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url} within {timeout:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # uvicorn's supervisor stops its workers
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # its own session: only the processes this run started
            server.wait()


# --- measuring and checking ---------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def stats(answers: list[Answer]) -> dict:
    seconds = [answer.seconds for answer in answers]
    wall = max(seconds)
    return {
        "rate": len(answers) / wall,
        "wall": wall,
        "p50": percentile(seconds, 0.50),
        "p99": percentile(seconds, 0.99),
        "max": wall,
    }


def describe(index: int, answer: Answer) -> str:
    body = answer.body.decode("utf-8", "replace")
    return f"  member #{index}: {answer.status or 'no answer'} {body[:300]}"


def check_baseline(answers: list[Answer], label: str) -> list[str]:
    bad = [(index, answer) for index, answer in enumerate(answers) if answer.status != 200]
    problems = [f"{label}: {len(bad)} of {len(answers)} not 200"] if bad else []
    return problems + [describe(index, answer) for index, answer in bad[:SHOWN_FAILURES]]


def check_claims(answers: list[Answer], *, item_id: int, member_ids: list[int]) -> list[str]:
    from erhuo.catalog.models import Item
    from erhuo.market.models import Claim

    count = len(answers)
    problems = []
    bad = [(index, answer) for index, answer in enumerate(answers) if answer.status != 201]
    if bad:
        server_errors = sum(1 for _index, answer in bad if answer.status >= 500)
        problems.append(f"{len(bad)} of {count} claims not 201 ({server_errors} 5xx, shown below)")
        problems += [describe(index, answer) for index, answer in bad[:SHOWN_FAILURES]]
        if len(bad) > SHOWN_FAILURES:
            problems.append(f"  … and {len(bad) - SHOWN_FAILURES} more")
    claims = {index: json.loads(answer.body)["claim"] for index, answer in enumerate(answers) if answer.status == 201}
    reserved = [claim for claim in claims.values() if claim["status"] == "reserved"]
    queued = [claim for claim in claims.values() if claim["status"] == "queued"]
    others = [claim for claim in claims.values() if claim["status"] not in ("reserved", "queued")]
    if len(reserved) != 1 or reserved[0]["position"] != 0:
        problems.append(f"expected exactly one reserved claim at position 0, got {[c['position'] for c in reserved]}")
    if others:
        problems.append(f"{len(others)} claims neither reserved nor queued: {others[:3]}")
    positions = [claim["position"] for claim in queued]
    if sorted(positions) != list(range(1, count)):
        seen = set(positions)
        missing = sorted(set(range(1, count)) - seen)
        twice = sorted({position for position in positions if positions.count(position) > 1})
        problems.append(f"queued positions are not 1…{count - 1} once each: missing {missing[:10]}, twice {twice[:10]}")

    # The database: one claim per member, and the positions given in the order it accepted them.
    rows = list(Claim.objects.filter(item_id=item_id).order_by("seq").values_list("pk", "member_id", "status"))
    if len(rows) != count or len({member for _pk, member, _status in rows}) != count:
        problems.append(f"the database holds {len(rows)} claims by {len({r[1] for r in rows})} members, not {count}")
    position_of = {claim["id"]: claim["position"] for claim in claims.values()}
    member_of = {claim["id"]: member_ids[index] for index, claim in claims.items()}
    unfair = [
        (rank, pk)
        for rank, (pk, member, _status) in enumerate(rows)
        if position_of.get(pk) != rank or member_of.get(pk) != member
    ]
    if unfair:
        problems.append(
            f"{len(unfair)} answers disagree with the database's acceptance order (rank, claim): {unfair[:5]}"
        )
    if Item.objects.get(pk=item_id).status != Item.Status.RESERVED:
        problems.append("the item is not reserved after the storm")
    return problems


async def measure(*, port: int, tokens: list[str], item_ids: list[int]) -> list[dict]:
    """Run the rounds; returns each round's answers (checked afterwards, outside the event loop)."""
    host = f"{HOST}:{port}"
    headers = [{"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"} for token in tokens]
    me = [request_bytes("GET", "/api/v1/me", host=host, headers=header) for header in headers]
    connections = await open_connections(HOST, port, len(tokens))
    rounds = []
    try:
        for item_id in item_ids:
            warm, _spread = await storm(connections, me)
            baseline, baseline_spread = await storm(connections, me)
            claim = [
                request_bytes("POST", f"/api/v1/items/{item_id}/claims", host=host, headers=header)
                for header in headers
            ]
            claims, claim_spread = await storm(connections, claim)
            rounds.append(
                {
                    "item_id": item_id,
                    "warm": warm,
                    "baseline_answers": baseline,
                    "claim_answers": claims,
                    "baseline": stats(baseline),
                    "claims": stats(claims),
                    "spread": max(baseline_spread, claim_spread),
                }
            )
    finally:
        await asyncio.gather(*(connection.close() for connection in connections))
    return rounds


def check(rounds: list[dict], *, member_ids: list[int]) -> list[str]:
    problems = []
    for number, result in enumerate(rounds, 1):
        problems += check_baseline(result["warm"], f"round {number} warm-up")
        problems += check_baseline(result["baseline_answers"], f"round {number} baseline")
        found = check_claims(result["claim_answers"], item_id=result["item_id"], member_ids=member_ids)
        problems += [f"round {number}: {problem}" for problem in found]
    return problems


def run_loop(coroutine):
    """uvloop when installed (uvicorn's own loop): the client then takes less of the CPUs the server runs on."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def report(rounds: list[dict]) -> tuple[float, float, float, float]:
    print(f"{'round':>5}  {'storm':28} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}  {'ratio':>5}")
    for number, result in enumerate(rounds, 1):
        base, claims = result["baseline"], result["claims"]
        for label, values in (("GET /me (baseline)", base), ("POST claims", claims)):
            ratio = f"{claims['rate'] / base['rate']:5.2f}" if values is claims else ""
            print(
                f"{number:>5}  {label:28} {values['rate']:7.0f} {values['p50'] * 1000:7.0f} "
                f"{values['p99'] * 1000:7.0f} {values['max'] * 1000:7.0f}  {ratio:>5}"
            )
    claims_rate = statistics.median(r["claims"]["rate"] for r in rounds)
    base_rate = statistics.median(r["baseline"]["rate"] for r in rounds)
    ratio = statistics.median(r["claims"]["rate"] / r["baseline"]["rate"] for r in rounds)
    p50 = statistics.median(r["claims"]["p50"] for r in rounds)
    p99 = statistics.median(r["claims"]["p99"] for r in rounds)
    spread = max(r["spread"] for r in rounds)
    print(
        f"median of {len(rounds)} rounds: claims/s {claims_rate:.0f}, p50 {p50 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms; baseline {base_rate:.0f} req/s; ratio {ratio:.2f} "
        f"(requests released within {spread * 1000:.0f} ms)"
    )
    return ratio, p99, claims_rate, base_rate


# --- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=500, help="members claiming at once (default 500)")
    parser.add_argument("--rounds", type=int, default=5, help="storms, each on its own item (default 5)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1, see README)")
    parser.add_argument("--database-url", default="", help="a PostgreSQL database to create the bench database beside")
    parser.add_argument("--app", default="erhuo.asgi:application", help="the ASGI application uvicorn serves")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and database")
    args = parser.parse_args()
    if args.members < 2:
        parser.error("--members must be at least 2")

    # One socket per member here and as many in the server.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * args.members + 256
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))

    workdir = Path(tempfile.mkdtemp(prefix="erhuo-claim-storm-"))
    database_url, database_name = "", ""
    if args.database_url:
        database_url, database_name = fresh_postgresql(args.database_url)
    server = None
    problems: list[str] = []
    try:
        workers = args.workers

        from cryptography.fernet import Fernet

        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATABASE_URL", "ERHUO_TESTING", "PYTEST_VERSION")
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "erhuo.settings"),
                "ERHUO_VAR_DIR": str(workdir),
                "MEDIA_ROOT": str(workdir / "media"),
                "STATIC_ROOT": str(workdir / "static"),
                # Served as in production; loopback plain HTTP stands behind a TLS proxy (X-Forwarded-Proto).
                "DEBUG": "0",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ERHUO_PII_KEY": Fernet.generate_key().decode(),
                "ALLOWED_HOSTS": HOST,
                "LOG_LEVEL": "WARNING",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
            }
        )
        if database_url:
            env["DATABASE_URL"] = database_url
        os.environ.clear()
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))

        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        member_ids, tokens, item_ids = populate(members=args.members, items=args.rounds)
        label = (
            f"PostgreSQL {connection.pg_version // 10000}"
            if connection.vendor == "postgresql"
            else f"SQLite {connection.Database.sqlite_version} (WAL)"
        )
        close_django_connections()
        print(
            f"claim storm: {args.members} members, {args.rounds} rounds, {label}, "
            f"uvicorn {args.app} --workers {workers}, ERHUO_HTTP_THREADS={settings.ERHUO_HTTP_THREADS}, "
            f"{os.cpu_count()} CPUs "
            f"(set up in {time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        port = free_port()
        server = start_server(app=args.app, port=port, workers=workers, env=env, log_path=workdir / "server.log")
        wait_until_healthy(port, server)
        client_cpu, elapsed = time.process_time(), time.perf_counter()
        rounds = run_loop(measure(port=port, tokens=tokens, item_ids=item_ids))
        client_cpu, elapsed = time.process_time() - client_cpu, time.perf_counter() - elapsed
        ratio, p99, _claims_rate, _base_rate = report(rounds)
        print(f"the client used {client_cpu:.1f} s of CPU in {elapsed:.1f} s (opening connections, storms, warm-ups)")
        problems = check(rounds, member_ids=member_ids)
    finally:
        if server is not None:
            stop_server(server)
        close_django_connections()
        server_log = (workdir / "server.log").read_text(errors="replace") if (workdir / "server.log").exists() else ""
        if server_log.strip() and (problems or server is None or server.returncode not in (0, -signal.SIGTERM)):
            print("server log (last lines):\n" + "\n".join(server_log.splitlines()[-30:]))
        if args.keep:
            print(f"kept: {workdir}" + (f", database {database_name}" if database_name else ""))
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            if database_name:
                drop_postgresql(args.database_url, database_name)

    if problems:
        print("CHECKS FAILED:")
        print("\n".join(problems))
        return 1
    print(f"checks: {args.rounds} × (one reserved, {args.members - 1} queued at 1…{args.members - 1}, no 5xx): OK")
    met = ratio >= TARGET_RATIO and p99 <= TARGET_P99_SECONDS
    verdict = "target met" if met else "TARGET MISSED"
    print(
        f"{verdict}: ratio {ratio:.2f} (>= {TARGET_RATIO}), "
        f"p99 {p99 * 1000:.0f} ms (<= {TARGET_P99_SECONDS * 1000:.0f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
