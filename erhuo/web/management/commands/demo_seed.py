"""`manage.py demo_seed [--if-empty]`: fill an empty database with the demo community."""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from erhuo.web import demo


class Command(BaseCommand):
    help = "Fill an empty database with the demo community (Chinese sample data, shared demo password)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if any user exists, so that re-running `make demo` keeps the data.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off. The demo accounts share a published password: never on a real site.",
        )

    def handle(self, *args, if_empty=False, force=False, **options):
        if not (settings.DEBUG or getattr(settings, "TESTING", False) or force):
            raise CommandError(
                "DEBUG is off: refusing to create demo accounts with a published password. "
                "Use --force if this really is a demo installation."
            )
        started = time.monotonic()
        # One transaction, opened before the emptiness check: on SQLite it takes the
        # write lock at BEGIN, so two concurrent seeds cannot both find it empty.
        with transaction.atomic():
            existing = get_user_model().objects.count()
            if existing:
                if if_empty:
                    self.stdout.write(f"Demo data not seeded: the database already has {existing} users (kept as is).")
                    return
                raise CommandError(
                    f"The database already has {existing} users; demo data goes into an empty database. "
                    "Use --if-empty to skip seeding, or start from a fresh database."
                )
            demo.seed(stdout=self.stdout)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"Demo data seeded in {elapsed:.1f} s. Demo password: {demo.DEMO_PASSWORD}")
        )
