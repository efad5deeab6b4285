"""Drops of items into groups, the clock that puts them out, and behaviour tags: every write of them.

A **drop** posts one item or a set into one or more groups at a time
(`drop_at`). It is created scheduled, and goes live at `drop_at`: at once when
that is now or past, else by the clock (`drops_release_due`, run by the
periodic task every minute and on every read of a group's feed, so nothing
waits for the worker). Going live sends `community_drop_live` after commit and
a notice to the groups' members. Only a scheduled drop whose time has not come
can be cancelled: once out, members have seen it.

Who may drop: an operator (`community.manage_community`) into any group that
is not archived; a group's leader or assistant into the groups she runs, and
only those: a drop that names another leader's group is refused whole
(`not_your_group`), nothing written.

What may be dropped: items on sale (`listed`). An item's channel decides who
may *see* it (`selectors.items_visible_filter`): a community-only item (社群款)
only the members of the groups it was dropped into; a platform-only item
(平台款) or one on both channels is public anyway, and dropping it posts it
into the groups' feeds as content (a leader showing her group the platform's
best pieces). Dropping never changes the item.

**Behaviour tags**: what a member views, claims and buys raises the tags of
the item (its category, spending tier and size, `erhuo.community.item_tags`)
in her profile, source "behaviour", with weights that fade (half-life
`BEHAVIOUR_HALF_LIFE_DAYS`) and never pass 1.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from erhuo.catalog.models import Item
from erhuo.community import item_tags, selectors
from erhuo.community.models import Drop, Group, Membership, MemberTag, Tag
from erhuo.core import events, states
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed

logger = logging.getLogger(__name__)

D = Drop.Status
MAX_ITEMS = 50
MAX_GROUPS = 50
TITLE_MAX = Drop._meta.get_field("title").max_length
# How far ahead a drop may be scheduled.
MAX_AHEAD = timedelta(days=90)
RELEASE_BATCH = 200

BEHAVIOUR_HALF_LIFE_DAYS = 30
# What one action adds to each of the item's tags (before the fading of older ones).
VIEW_AMOUNT = 0.05
CLAIM_AMOUNT = 0.2
PURCHASE_AMOUNT = 0.4
# A behaviour tag that has faded below this is forgotten.
BEHAVIOUR_FLOOR = 0.02
DECAY_BATCH = 1000


def _invalid(field_name: str, message, code: str = "validation_error") -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field_name: [message]})


def _require_person(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionRefused(_("Log in first."), code="login_required")


def _require_runs_every_group(actor, group_ids) -> None:
    """An operator, or the leader (or an assistant) of every one of the groups."""
    _require_person(actor)
    if selectors.is_community_operator(actor):
        return
    led = set(
        Membership.objects.filter(
            user=actor,
            status=Membership.Status.ACTIVE,
            role__in=(Membership.Role.LEADER, Membership.Role.ASSISTANT),
        ).values_list("group_id", flat=True)
    )
    if not led:
        raise PermissionRefused(
            _("Only a group's leader, its assistants or an operator can drop items."), code="not_group_admin"
        )
    if not set(group_ids) <= led:
        raise PermissionRefused(
            _("This is another leader's group: you can only drop into your own."), code="not_your_group"
        )


def _clean_ids(values, *, field_name: str, limit: int, required_message, code: str) -> list[int]:
    ids = []
    for value in values or ():
        if isinstance(value, bool):
            raise _invalid(field_name, _("Unknown value."), "id_invalid")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise _invalid(field_name, _("Unknown value."), "id_invalid") from None
        if number < 1:
            raise _invalid(field_name, _("Unknown value."), "id_invalid")
        if number not in ids:
            ids.append(number)
    if not ids:
        raise _invalid(field_name, required_message, code)
    if len(ids) > limit:
        raise _invalid(field_name, _("At most %(limit)s at once.") % {"limit": limit}, f"{field_name}_too_many")
    return ids


def _go_live(drop: Drop, *, actor=None, note: str = "") -> None:
    """Scheduled → live, with the event and the members' notice after commit (inside the caller's transaction)."""
    states.transition(drop, to=D.LIVE, actor=actor, note=note, expected=D.SCHEDULED)
    events.emit("community_drop_live", drop_id=drop.pk)
    transaction.on_commit(lambda: _notify_members(drop.pk))


def _notify_members(drop_id: int) -> None:
    """A notice to each active member of the drop's groups (not the one who dropped it), once per drop."""
    try:
        from erhuo.notifications.services import notices_send, site_language
    except ImportError:  # an installation without in-app notices: the feed still shows the drop
        return
    drop = Drop.objects.filter(pk=drop_id).prefetch_related("groups").first()
    if drop is None:
        return
    groups = list(drop.groups.all())
    recipients = (
        Membership.objects.filter(group__in=groups, status=Membership.Status.ACTIVE)
        .exclude(user_id=drop.created_by_id)
        .values_list("user_id", flat=True)
        .distinct()
    )
    count = drop.items.count()
    try:
        with site_language():
            for group in groups:
                url = _group_url(group.pk)
                notices_send(
                    users=recipients.filter(group=group),
                    kind="drop_live",
                    title=drop.title
                    or ngettext("New in %(group)s: %(count)s item", "New in %(group)s: %(count)s items", count)
                    % {"group": group.name, "count": count},
                    body=_("Just dropped into your group. The first to claim gets it."),
                    url=url,
                    data={"drop_id": drop.pk, "group_id": group.pk},
                    key=f"drop:{drop.pk}",
                )
    except Exception:
        # The drop is out whatever happens to its notices; a member still finds it in the feed.
        logger.exception("notices for drop %s failed", drop_id)


def _group_url(group_id: int) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("community:group", args=[group_id])
    except NoReverseMatch:
        return f"/groups/{group_id}/"


def drop_create(*, actor, item_ids, group_ids, drop_at=None, title: str = "", activity=None, now=None) -> Drop:
    """Schedule items into groups at `drop_at` (now when empty or past: it goes live at once).

    Refused with nothing written: not an operator nor a leader of every target
    group (`not_group_admin`, `not_your_group`), no or too many items or groups,
    an item that is not on sale (`item_not_listed`), an archived or unknown
    group, a time more than 90 days ahead, a title too long.
    """
    now = now or timezone.now()
    item_ids = _clean_ids(
        item_ids,
        field_name="items",
        limit=MAX_ITEMS,
        required_message=_("Choose at least one item."),
        code="items_required",
    )
    group_ids = _clean_ids(
        group_ids,
        field_name="groups",
        limit=MAX_GROUPS,
        required_message=_("Choose at least one group."),
        code="groups_required",
    )
    _require_runs_every_group(actor, group_ids)
    title = (title or "").strip()
    if len(title) > TITLE_MAX:
        raise _invalid("title", _("At most %(limit)s characters.") % {"limit": TITLE_MAX}, "title_too_long")
    if drop_at is not None and timezone.is_naive(drop_at):
        # A time without a zone is read in the site's (what a leader types on the form).
        drop_at = timezone.make_aware(drop_at)
    if drop_at is None or drop_at <= now:
        drop_at = now
    elif drop_at > now + MAX_AHEAD:
        raise _invalid(
            "drop_at",
            _("A drop can be scheduled up to %(days)s days ahead.") % {"days": MAX_AHEAD.days},
            "drop_too_far",
        )
    with transaction.atomic():
        # Groups locked in id order (the membership services lock them the same way), then the items: a group
        # archived or an item sold meanwhile is seen here.
        groups = list(Group.objects.select_for_update().filter(pk__in=group_ids).order_by("pk"))
        if len(groups) != len(group_ids):
            raise _invalid("groups", _("No such group."), "group_not_found")
        archived = [group.name for group in groups if group.status == Group.Status.ARCHIVED]
        if archived:
            raise _invalid(
                "groups",
                _("%(group)s is archived: nothing can be dropped there.") % {"group": archived[0]},
                "group_archived",
            )
        items = list(
            Item.objects.select_for_update().filter(pk__in=item_ids).only("id", "status", "title").order_by("pk")
        )
        if len(items) != len(item_ids):
            raise _invalid("items", _("No such item."), "item_not_found")
        not_listed = [item for item in items if item.status != Item.Status.LISTED]
        if not_listed:
            raise Conflict(
                _("“%(title)s” is not on sale: only listed items can be dropped.") % {"title": not_listed[0].title},
                code="item_not_listed",
            )
        drop = Drop.objects.create(title=title, drop_at=drop_at, created_by=actor, activity=activity)
        drop.items.set(items)
        drop.groups.set(groups)
        states.record_start(drop, actor=actor)
        if drop_at <= now:
            _go_live(drop, actor=actor, note=_("Dropped at once"))
    return drop


def _load_drop(drop_id) -> Drop:
    drop = Drop.objects.select_for_update().filter(pk=drop_id).first()
    if drop is None:
        raise NotFound(_("No such drop."), code="drop_not_found")
    return drop


def drop_cancel(*, actor, drop_id: int, reason: str = "", now=None) -> Drop:
    """Cancel a scheduled drop before its time. An operator, or a leader of every group it targets.

    A drop that is out (live, or due) cannot be cancelled (`drop_already_out`):
    its members have seen it. Nothing is written when refused.
    """
    now = now or timezone.now()
    _require_person(actor)
    reason = (reason or "").strip()[:200]
    with transaction.atomic():
        drop = _load_drop(drop_id)
        group_ids = list(drop.groups.values_list("pk", flat=True))
        _require_runs_every_group(actor, group_ids)
        if drop.status == D.CANCELLED:
            raise Conflict(_("This drop is already cancelled."), code="drop_cancelled")
        if drop.status == D.LIVE or drop.drop_at <= now:
            raise Conflict(
                _("This drop is already out: its members have seen it, so it cannot be cancelled."),
                code="drop_already_out",
            )
        states.transition(drop, to=D.CANCELLED, actor=actor, note=reason)
    return drop


def drops_release_due(*, now=None, limit: int = RELEASE_BATCH) -> int:
    """Put out every scheduled drop whose time has come (oldest first); returns how many went live.

    Idempotent and safe to run from several places at once: each drop moves
    with a conditional UPDATE, and a drop someone else released meanwhile is
    skipped. One query when nothing is due.
    """
    now = now or timezone.now()
    due = list(
        Drop.objects.filter(status=D.SCHEDULED, drop_at__lte=now)
        .order_by("drop_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    released = 0
    for drop_id in due:
        try:
            with transaction.atomic():
                drop = Drop.objects.select_for_update().filter(pk=drop_id, status=D.SCHEDULED).first()
                if drop is None:
                    continue
                _go_live(drop, note=_("Its time came"))
                released += 1
        except states.StateChanged:
            continue
    return released


# --- behaviour tags -------------------------------------------------------------------------------


def _faded(weight: float, *, since, now) -> float:
    days = max(0.0, (now - since).total_seconds() / 86400)
    return weight * 0.5 ** (days / BEHAVIOUR_HALF_LIFE_DAYS)


def behaviour_tags_bump(*, user_id: int, tag_codes, amount: float, now=None) -> dict[str, float]:
    """Raise `user_id`'s behaviour tags `tag_codes` by `amount` each, after fading what they held (capped at 1).

    Codes that are not offered tags are skipped. Returns {code: new weight}.
    The member's behaviour rows are locked while they are read and written,
    so two bumps at once add up.
    """
    if not (0 < amount <= 1):
        raise _invalid("amount", _("An amount is between 0 and 1."), "amount_invalid")
    now = now or timezone.now()
    tags = {tag.code: tag for tag in Tag.objects.filter(code__in=list(tag_codes or ()), active=True)}
    if not tags:
        return {}
    behaviour = MemberTag.Source.BEHAVIOUR
    result: dict[str, float] = {}
    for _attempt in range(2):
        try:
            with transaction.atomic():
                held = {
                    row.tag_id: row
                    for row in MemberTag.objects.select_for_update().filter(
                        user_id=user_id, source=behaviour, tag__in=tags.values()
                    )
                }
                for code, tag in tags.items():
                    row = held.get(tag.pk)
                    if row is None:
                        weight = min(1.0, amount)
                        MemberTag.objects.create(user_id=user_id, tag=tag, source=behaviour, weight=weight)
                    else:
                        weight = min(1.0, _faded(row.weight, since=row.updated_at, now=now) + amount)
                        # A weight is "as of updated_at": both written together, at the bump's moment.
                        MemberTag.objects.filter(pk=row.pk).update(weight=weight, updated_at=now)
                    result[code] = round(weight, 6)
            return result
        except IntegrityError:
            # A bump for the same new tag committed between our read and our insert: read it again.
            result = {}
    return result


def behaviour_tags_from_item(*, user_id: int, item_id: int, amount: float, now=None) -> dict[str, float]:
    """Raise the tags the item stands for in `user_id`'s behaviour profile (nothing for her own item)."""
    item = Item.objects.select_related("category__parent__parent", "brand").filter(pk=item_id).first()
    if item is None or item.seller_id == user_id:
        return {}
    codes = [tag.code for tag in item_tags.resolve(item_tags.item_tag_refs(item)).values()]
    if not codes:
        return {}
    return behaviour_tags_bump(user_id=user_id, tag_codes=codes, amount=amount, now=now)


def behaviour_tags_decay(*, now=None, batch: int = DECAY_BATCH) -> int:
    """Fade every behaviour tag untouched for a day to what it weighs now, and forget those below the floor.

    Run daily: profiles read by placement and suggestions then tell what a
    member likes lately. A row's weight is "as of `updated_at`", so the fading
    is written with a new `updated_at` and never counted twice. Returns how
    many rows changed.
    """
    now = now or timezone.now()
    behaviour = MemberTag.Source.BEHAVIOUR
    stale = MemberTag.objects.filter(source=behaviour, updated_at__lte=now - timedelta(days=1))
    changed = 0
    last_pk = 0
    while True:
        rows = list(stale.filter(pk__gt=last_pk).order_by("pk")[:batch])
        if not rows:
            return changed
        last_pk = rows[-1].pk
        forget, keep = [], []
        for row in rows:
            weight = _faded(row.weight, since=row.updated_at, now=now)
            if weight < BEHAVIOUR_FLOOR:
                forget.append(row.pk)
            else:
                row.weight, row.updated_at = weight, now
                keep.append(row)
        with transaction.atomic():
            if forget:
                MemberTag.objects.filter(pk__in=forget, source=behaviour).delete()
            if keep:
                MemberTag.objects.bulk_update(keep, ["weight", "updated_at"])
        changed += len(rows)
