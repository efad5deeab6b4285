"""The market's clock. Every task is idempotent.

Reads settle what they show too, so a stopped worker delays nothing a member can see.
"""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*"))
def settle_claims():
    # Reservations past their payment window: expire them and offer the item to the next in line.
    from erhuo.market.services import claims_settle_due

    return claims_settle_due()


@db_periodic_task(crontab(minute="*/5"))
def settle_orders():
    # Unpaid orders past their window, self-ship orders not shipped in time, delivered orders to confirm.
    from erhuo.market.services import orders_settle

    return orders_settle()


@db_periodic_task(crontab(minute="*/10"))
def allocate_missed_payments():
    # Order payments that succeeded but were not allocated (the event handler did not run).
    from erhuo.market.services.orders import orders_allocate_missed

    return orders_allocate_missed()
