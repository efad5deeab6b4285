"""A demo clock: run the real services as if it were an earlier moment.

The demo tells stories that took weeks (a seller verified three months
ago, a deposit topped up after a deduction, an application waiting since
the day before yesterday). The services stamp everything with
`django.utils.timezone.now()`; inside `demo_clock(moment)` that returns
`moment` instead, so every row a service writes (its `created_at`, a
verification's `expires_at`, a payment's `paid_at`, each audit row) is as
of then, consistent with each other, and nothing has to be rewritten
afterwards. Fields whose default is `timezone.now` itself (captured when
the model class was built) are pointed at the demo clock too.

Demo seeding only: it runs in one process, in one transaction, and puts
the real clock back when the block ends.
"""

from contextlib import contextmanager
from functools import cache
from unittest import mock

from django.apps import apps
from django.utils import timezone

_REAL_NOW = timezone.now


@cache
def _fields_defaulting_to_now() -> tuple:
    # Looked up once (before any clock is set): the demo sets the clock for every step of hundreds of sales.
    return tuple(
        field for model in apps.get_models() for field in model._meta.concrete_fields if field.default is _REAL_NOW
    )


@contextmanager
def demo_clock(moment):
    """Inside the block, `timezone.now()` is `moment` (an aware datetime). Blocks may nest."""

    def now():
        return moment

    fields = _fields_defaulting_to_now()
    previous = [field.default for field in fields]
    for field in fields:
        _set_default(field, now)
    try:
        with mock.patch.object(timezone, "now", now):
            yield moment
    finally:
        for field, default in zip(fields, previous, strict=True):
            _set_default(field, default)


def _set_default(field, default) -> None:
    field.default = default
    # Django caches the callable it will call (`Field._get_default` is a cached property).
    field.__dict__.pop("_get_default", None)
