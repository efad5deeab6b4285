"""Periodic payments work. Idempotent: a provider knows a refund by its number and pays it once."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/5"))
def submit_pending_refunds():
    # Alipay and WeChat Pay refunds still pending: a call lost after commit, a timeout, or "processing".
    from erhuo.payments.services import refunds_submit_due

    return refunds_submit_due()
