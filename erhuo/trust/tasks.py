"""Periodic trust work. Idempotent; the member's status page and the selectors settle overdue approvals too."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from erhuo.trust.services.verification import verifications_expire


@db_periodic_task(crontab(minute="17"))
def expire_verifications():
    return verifications_expire()


@db_periodic_task(crontab(minute="*/10"))
def settle_deposit_payments():
    # Deposit payments that succeeded but were not allocated (the event handler did not run): allocate them.
    from erhuo.trust.services.deposits import deposits_settle

    return deposits_settle()
