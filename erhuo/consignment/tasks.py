"""Periodic pipeline work. Each task is idempotent and also runs on reads (see services)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from erhuo.consignment import services


@db_periodic_task(crontab(minute="*/5"))
def settle_price_deadlines():
    return services.price_deadlines_settle()


@db_periodic_task(crontab(minute="7", hour="3"))
def settle_unsold_items():
    return services.unsold_items_settle()
