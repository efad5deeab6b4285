"""The demo community behind `make demo`: realistic Chinese sample data.

Each seeding module of this package seeds one part of the community and
exposes `seed(*, stdout)`. `SEEDERS` lists them in dependency order
(accounts first: everything else belongs to someone); later modules find
the people they need by username (`accounts.OWNER_USERNAME`,
`accounts.SELLER_USERNAME`, ...). `images.py` draws the photos and
documents, `clock.py` runs services as of an earlier moment.

Everything is deterministic: each module draws from its own
`random.Random` with a fixed seed, so two fresh databases hold the same
people, names and addresses (only timestamps move with the day of seeding).
"""

from django.db import transaction

from erhuo.web.demo import accounts, community, consignment, experts, history, market, privacy, records, trust

# Dependency order. Later issues append their own.
# community after market (its items are consigned like market's) and before privacy (members in groups).
# trust before anything that consigns (only verified sellers with their deposit paid may), and history
# (the sellers' past sales, which make some of them trusted) before consignment's self-ship items;
# market after experts (buyers who came through an expert's link buy) and before privacy (whose
# deletion requests are refused while a member has orders or money in flight).
SEEDERS = (accounts, trust, history, consignment, records, experts, market, community, privacy)

# One (role label, username, phone, password) per role, printed by demo_serve.
DEMO_PASSWORD = accounts.DEMO_PASSWORD
DEMO_LOGINS = list(accounts.DEMO_LOGINS)


def seed(*, stdout) -> None:
    """Seed every module in one transaction: all of the demo data or none of it."""
    with transaction.atomic():
        for module in SEEDERS:
            module.seed(stdout=stdout)
