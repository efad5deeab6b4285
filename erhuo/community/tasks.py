"""The community's clock and background work. Every task is idempotent.

Reads settle what they show too (a group's feed releases due drops first), so a stopped worker delays nothing a
member can see.
"""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

# --- drops and behaviour tags ---------------------------------------------------------------------


@db_periodic_task(crontab(minute="*"))
def release_due_drops():
    # Scheduled drops whose time has come go live (and their members are told).
    from erhuo.community.services.drops import drops_release_due

    return drops_release_due()


@db_periodic_task(crontab(minute="17", hour="4"))
def decay_behaviour_tags():
    # Behaviour tags fade with time, so profiles say what a member likes lately.
    from erhuo.community.services.drops import behaviour_tags_decay

    return behaviour_tags_decay()


@db_task()
def behaviour_tags_from_item(user_id: int, item_id: int, amount: float):
    # Off the request: a claim or a page view answers before her tags are raised.
    from erhuo.community.services.drops import behaviour_tags_from_item as bump

    return bump(user_id=user_id, item_id=item_id, amount=amount)


@db_task()
def behaviour_tags_from_items(bumps: list):
    # A batch of (user id, item id, amount), gathered by erhuo.community.handlers: one task for many claims.
    from erhuo.community.services.drops import behaviour_tags_from_item as bump

    for user_id, item_id, amount in bumps:
        bump(user_id=user_id, item_id=item_id, amount=amount)
    return len(bumps)


# --- micro-classes ------------------------------------------------------------------------------------


@db_periodic_task(crontab(minute="*"))
def settle_classes():
    # Classes whose time came go live; those whose time is over end (pages settle on read too).
    from erhuo.community.services.classes import classes_settle

    return classes_settle()


@db_periodic_task(crontab(minute="*/5"))
def remind_classes():
    # Members signed up for a class starting within ERHUO_CLASS_REMINDER_MINUTES get one notice, once.
    from erhuo.community.services.classes import classes_remind_due

    return classes_remind_due()


# --- activities -----------------------------------------------------------------------------------


@db_periodic_task(crontab(minute="*"))
def settle_activities():
    # Activities whose time came start; those past their end end (a giveaway's entrants hash is published,
    # unused gifts go back on sale). Pages and the API settle what they show too.
    from erhuo.community.services.activities import activities_settle_due

    return activities_settle_due()
