"""The demo community behind `make demo`: realistic Chinese sample data.

Each module of this package seeds one app's data and exposes
`seed(*, stdout)`. `SEEDERS` lists them in dependency order (accounts first:
everything else belongs to someone); later modules find the people they need
by username (`accounts.OWNER_USERNAME`, `accounts.SELLER_USERNAME`, ...).

Everything is deterministic: each module draws from its own
`random.Random` with a fixed seed, so two fresh databases hold the same
people, names and addresses (only timestamps move with the day of seeding).
"""

from django.db import transaction

from erhuo.web.demo import accounts, consignment

# Dependency order. Later issues append community, market, ...
SEEDERS = (accounts, consignment)

# One (role label, username, phone, password) per role, printed by demo_serve.
DEMO_PASSWORD = accounts.DEMO_PASSWORD
DEMO_LOGINS = list(accounts.DEMO_LOGINS)


def seed(*, stdout) -> None:
    """Seed every module in one transaction: all of the demo data or none of it."""
    with transaction.atomic():
        for module in SEEDERS:
            module.seed(stdout=stdout)
