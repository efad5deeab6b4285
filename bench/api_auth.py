"""How much does authenticating an API call cost?

Measures, in one run on a throw-away SQLite database:
- baseline: GET /api/v1/health (routing, middleware, one SELECT 1);
- GET /api/v1/me with a bearer token (digest look-up, user, roles, masking);
- GET /api/v1/me/addresses (token + decrypting three addresses).

Prints requests per second and the ratio of each to the baseline. The ratio is
what to compare between commits: absolute numbers depend on the machine.

    .venv/bin/python bench/api_auth.py [--requests 2000]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="erhuo-bench-")
    os.environ.update({"ERHUO_VAR_DIR": workdir, "DEBUG": "1", "ERHUO_TESTING": "1"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erhuo.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.core.management import call_command
    from django.test import Client

    from erhuo.accounts import services

    call_command("migrate", verbosity=0)
    user = services.user_create(phone="13800138000", display_name="压测", password="Bench-mark-2026!")
    for index in range(3):
        services.address_create(
            user=user,
            data={
                "recipient_name": "压测",
                "recipient_phone": "13800138000",
                "province": "上海市",
                "city": "上海市",
                "detail": f"测试路 {index} 号",
            },
        )
    _token, raw = services.api_token_issue(user=user)
    client = Client(HTTP_HOST="localhost")
    auth = {"Authorization": f"Bearer {raw}"}

    cases = {
        "health (baseline)": lambda: client.get("/api/v1/health"),
        "me (bearer)": lambda: client.get("/api/v1/me", headers=auth),
        "me/addresses (bearer + decrypt)": lambda: client.get("/api/v1/me/addresses", headers=auth),
    }
    for call in cases.values():  # warm up
        assert call().status_code == 200

    rates: dict[str, list[float]] = {name: [] for name in cases}
    for _round in range(args.rounds):
        # Interleave the cases so that machine noise hits them alike.
        for name, call in cases.items():
            start = time.perf_counter()
            for _ in range(args.requests // args.rounds):
                call()
            rates[name].append((args.requests // args.rounds) / (time.perf_counter() - start))

    baseline = statistics.median(rates["health (baseline)"])
    print(f"{'case':34} {'req/s (median)':>15} {'ratio to baseline':>18}")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:34} {median:15.0f} {median / baseline:18.2f}")


if __name__ == "__main__":
    main()
