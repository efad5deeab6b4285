"""How fast are the pipeline pages with 20,000 items in the pipeline?

Creates, on a throw-away SQLite database, 20,000 consigned items spread over
the pipeline's statuses (bulk inserts: an item, its consignment, one
chain-of-custody row and one photo row each, in batches of ten), one seller
owning 2,000 of them, then measures with the Django test client:

- baseline: GET /api/v1/health (routing, middleware, one SELECT 1);
- the station board /ops/stations/ (every station's waiting and late counts);
- a station queue /ops/stations/grade/ (first page, oldest first, with thumbnails);
- the seller page /consign/ (her batches and items, SLA clocks);
- a public item page /items/<id>/ (a listed item with its guarantees).

The cases run interleaved, in rounds, so that machine noise hits them alike.
Prints the median requests per second, the ratio to the baseline (what to
compare between commits) and the number of SQL queries of one request (which
must not grow with the number of items).

    .venv/bin/python bench/pipeline_pages.py [--items 20000] [--requests 200] [--rounds 5]
"""

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

SELLER_ITEMS = 2_000
ITEMS_PER_BATCH = 10
OTHER_SELLERS = 60
# Share of the items in each status (the rest of the pipeline is small next to listed).
STATUS_WEIGHTS = {
    "submitted": 8,
    "accepted": 5,
    "in_transit": 5,
    "received": 6,
    "graded": 6,
    "authenticated": 2,
    "cared": 5,
    "photographed": 5,
    "priced": 5,
    "listed": 45,
    "return_to_seller": 2,
    "rejected": 3,
    "withdrawn": 3,
}
AFTER_RECEIVING = {
    "received",
    "graded",
    "authenticated",
    "cared",
    "photographed",
    "priced",
    "listed",
    "return_to_seller",
}


def _jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 320), (240, 220, 226)).save(buffer, format="JPEG")
    return buffer.getvalue()


def populate(*, items: int, seed: int = 2026) -> dict:
    """Bulk-insert the pipeline; returns the people and a listed item to measure with."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from erhuo.accounts import roles
    from erhuo.accounts import services as account_services
    from erhuo.accounts.models import User
    from erhuo.catalog.models import Brand, Category, Item, ItemPhoto, ItemTransition
    from erhuo.consignment.models import Consignment, IntakeBatch
    from erhuo.consignment.services import label_code_for

    rng = random.Random(seed)
    now = timezone.now()
    owner = account_services.user_create(phone="13800000001", display_name="主理人", password="Bench-mark-2026!")
    account_services.role_grant(user=owner, role=roles.OWNER, actor=None, check_actor=False)
    seller = account_services.user_create(phone="13800000002", display_name="压测卖家", password="Bench-mark-2026!")
    account_services.role_grant(user=seller, role=roles.SELLER, actor=owner, check_actor=False)

    password = make_password("Bench-mark-2026!")
    others = []
    for index in range(OTHER_SELLERS):
        user = User(username=f"bench{index:03d}", display_name=f"卖家{index}", password=password)
        user.set_phone(f"137{index:08d}")
        others.append(user)
    User.objects.bulk_create(others)
    others = list(User.objects.filter(username__startswith="bench").order_by("pk"))
    seller_group = Group.objects.get(name=roles.SELLER)
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=user.pk, group_id=seller_group.pk) for user in others]
    )

    categories = list(Category.objects.filter(parent__isnull=False))
    brands = list(Brand.objects.all())
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    photo_name = "items/bench/photo.jpg"
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.save(photo_name, ContentFile(_jpeg()))

    with transaction.atomic():
        batches = []
        owners = []
        for index in range(items // ITEMS_PER_BATCH):
            batch_seller = seller if index < SELLER_ITEMS // ITEMS_PER_BATCH else others[index % len(others)]
            owners.append(batch_seller)
            batches.append(IntakeBatch(seller=batch_seller, code=f"BENCH-{index:06d}", status="received"))
        IntakeBatch.objects.bulk_create(batches, batch_size=1000)
        batches = list(IntakeBatch.objects.order_by("pk"))

        rows = []
        for index in range(items):
            batch = batches[index // ITEMS_PER_BATCH]
            rows.append(
                Item(
                    seller_id=batch.seller_id,
                    title=f"压测商品 {index:05d}",
                    category=rng.choice(categories),
                    brand=rng.choice(brands),
                    size="M",
                    colour="黑色",
                    original_price_fen=rng.randrange(10_000, 500_000, 100),
                    declared_grade="A",
                    grade="A",
                    status=rng.choices(statuses, weights)[0],
                )
            )
        Item.objects.bulk_create(rows, batch_size=1000)
        saved = list(Item.objects.order_by("pk").only("pk", "status"))

        consignments, transitions, photos = [], [], []
        for index, item in enumerate(saved):
            priced = item.status in {"priced", "listed"}
            consignments.append(
                Consignment(
                    item_id=item.pk,
                    batch=batches[index // ITEMS_PER_BATCH],
                    declared_value_fen=50_000,
                    label_code=label_code_for(item.pk) if item.status in AFTER_RECEIVING else None,
                    needs_authentication=index % 7 == 0,
                    required_care_steps=["steam"],
                    suggested_price_fen=30_000 if priced else None,
                    price_decision="pending" if item.status == "priced" else ("accepted" if priced else ""),
                    # In the future: the seller page settles overdue answers on read.
                    price_deadline=now + timedelta(hours=40) if item.status == "priced" else None,
                )
            )
            transitions.append(ItemTransition(subject_id=item.pk, from_state="", to_state=item.status, note="bench"))
            photos.append(ItemPhoto(item_id=item.pk, kind="seller", image=photo_name, uploaded_by_id=owner.pk))
        Consignment.objects.bulk_create(consignments, batch_size=1000)
        ItemTransition.objects.bulk_create(transitions, batch_size=1000)
        ItemPhoto.objects.bulk_create(photos, batch_size=1000)
        Item.objects.filter(status="listed").update(price_fen=30_000, listed_at=now - timedelta(days=3))
        # Spread the SLA clocks: each hundred items entered its step at another time in the last five days.
        first, last = saved[0].pk, saved[-1].pk
        for start in range(first, last + 1, 100):
            Item.objects.filter(pk__gte=start, pk__lt=start + 100).update(
                status_changed_at=now - timedelta(minutes=rng.randrange(5 * 24 * 60))
            )
    listed = Item.objects.filter(status="listed").order_by("pk").first()
    return {"owner": owner, "seller": seller, "listed_id": listed.pk}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per case, over all rounds")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="erhuo-bench-")
    os.environ.update(
        {"ERHUO_VAR_DIR": workdir, "MEDIA_ROOT": str(Path(workdir) / "media"), "DEBUG": "1", "ERHUO_TESTING": "1"}
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erhuo.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from erhuo.catalog.models import Item

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    people = populate(items=args.items)
    print(
        f"{Item.objects.count():,} items in the pipeline ({SELLER_ITEMS:,} of them the measured seller's), "
        f"created in {time.perf_counter() - started:.1f} s"
    )

    anonymous = Client(HTTP_HOST="localhost")
    operator = Client(HTTP_HOST="localhost")
    operator.force_login(people["owner"])
    seller = Client(HTTP_HOST="localhost")
    seller.force_login(people["seller"])
    cases = {
        "health (baseline)": (anonymous, "/api/v1/health"),
        "station board /ops/stations/": (operator, "/ops/stations/"),
        "station queue /ops/stations/grade/": (operator, "/ops/stations/grade/"),
        "seller page /consign/": (seller, "/consign/"),
        f"public item /items/{people['listed_id']}/": (anonymous, f"/items/{people['listed_id']}/"),
    }

    available, queries = {}, {}
    for name, (client, url) in cases.items():
        client.get(url)  # warm up (templates, permission caches)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        queries[name] = len(captured)
        if response.status_code == 404:
            print(f"{name}: not available yet (404)")
            continue
        if response.status_code != 200:
            raise SystemExit(f"{name}: HTTP {response.status_code}")
        available[name] = (client, url)

    per_round = max(1, args.requests // args.rounds)
    rates: dict[str, list[float]] = {name: [] for name in available}
    for _round in range(args.rounds):
        # Interleave the cases so that machine noise hits them alike.
        for name, (client, url) in available.items():
            start = time.perf_counter()
            for _ in range(per_round):
                client.get(url)
            rates[name].append(per_round / (time.perf_counter() - start))

    baseline = statistics.median(rates["health (baseline)"])
    print(f"{'case':40} {'req/s (median)':>15} {'ratio to baseline':>18} {'queries':>8} {'ms/request':>11}")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:40} {median:15.0f} {median / baseline:18.3f} {queries[name]:8d} {1000 / median:11.1f}")


if __name__ == "__main__":
    main()
