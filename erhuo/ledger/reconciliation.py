"""Reconciliation: every check that the money adds up, in one list.

The ledger checks itself (every entry sums to zero, every balance matches
its postings) and its payouts (`payouts:in_transit` holds exactly the
pending payout lines). Higher apps add their own checks from their
AppConfig.ready(), without the ledger importing them:

    from erhuo.ledger import reconciliation
    reconciliation.register("orders", _("Orders and escrow"), selectors.money_problems)

A check takes no argument and returns readable problem lines, empty when all
is well. `run_all()` runs the built-in checks first, then the registered ones
in the order they were registered; a check that raises is reported as a
problem rather than hiding the others. `manage.py reconcile`, the page
`/ops/reconciliation/` and `GET /api/v1/ledger/reconciliation` show the same.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from erhuo.ledger import selectors

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    label: str | Promise
    check: Callable[[], list[str]]


@dataclass(frozen=True)
class CheckResult:
    name: str
    label: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


BUILT_IN = (
    Check("ledger", _("Every entry balances and every balance matches its postings"), selectors.ledger_problems),
    Check("payouts", _("Payouts in transit equal the payout lines still pending"), selectors.payouts_problems),
)
_BUILT_IN_NAMES = {check.name for check in BUILT_IN}

_registered: dict[str, Check] = {}


def register(name: str, label, check: Callable[[], list[str]]) -> None:
    """Add (or replace, so that ready() may run twice) the check called `name`."""
    if name in _BUILT_IN_NAMES:
        raise ValueError(f"{name!r} is a built-in reconciliation check")
    if not callable(check):
        raise TypeError("a reconciliation check is a callable returning a list of problems")
    _registered[name] = Check(name, label, check)


def unregister(name: str) -> None:
    _registered.pop(name, None)


def checks() -> list[Check]:
    return [*BUILT_IN, *_registered.values()]


def run_all() -> list[CheckResult]:
    results = []
    for check in checks():
        try:
            # A savepoint: a check failing in the database leaves the others a usable connection.
            with transaction.atomic():
                problems = [str(problem) for problem in check.check()]
        except Exception as error:
            logger.exception("reconciliation check %s failed", check.name)
            problems = [f"the check could not run: {type(error).__name__}: {error}"]
        results.append(CheckResult(name=check.name, label=str(check.label), problems=problems))
    return results
