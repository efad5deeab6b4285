"""Activities: buy-with-gift (买赠), giveaways with a fair draw (抽奖) and themed drops (主题专场).

Who: operators (`community.manage_community`) anywhere; a group's leader or
assistant only for activities whose every target group she leads (refused
with `not_your_group`, nothing changed, otherwise).

The clock: an activity is scheduled until `starts_at`, running until
`ends_at`, then ended (a giveaway: drawn once someone draws it). The periodic
task and every read that shows an activity settle what is due
(`activities_settle_due`), so a stopped worker delays nothing anyone sees.

Buy-with-gift. The gifts are unique second-hand items, so the stock is a set
of items (`ActivityGift`), one gift each: listed, shipped by the platform (a
gift travels in the buyer's parcel) and sold by the activity's creator — it
is her donation, and she receives nothing for it (a gift line has price 0 and
nothing to split). From creation the items are held off sale (listed →
reserved, with no claim; the market refuses claims on them). When a member
of a target group places an order (market `order_create`) of at least the
threshold while the activity runs, the market asks `gift_for_order`, which
gives one gift under the activity's lock: one per order, one per member and
activity, none once the stock is gone (the order is made anyway). When an
order with a gift is cancelled or refunded before shipping, the market calls
`gift_return` in the same transaction: the gift goes back to stock while the
activity runs, else back on sale. When the activity ends or is cancelled,
unused gifts go back on sale.

Giveaways: see `erhuo.community.draw` for the protocol. The seed is drawn
and its hash published when the giveaway is created; the secret seed is
stored encrypted (`seed_secret`) and shown nowhere until the draw. Members
of a target group enter while it runs (once; organisers cannot); when it
ends the entrants list's hash is published; an organiser then draws, which
reveals the seed and marks the winners.

Themed drops: an activity that groups drops (`Drop.activity`) under one
banner and time window.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.catalog.models import Item
from erhuo.community import draw, selectors
from erhuo.community.models import Activity, ActivityEntry, ActivityGift, Drop, Group, MemberProfile
from erhuo.core import states
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.money import format_fen

logger = logging.getLogger(__name__)

MANAGE_PERMISSION = "community.manage_community"
K = Activity.Kind
S = Activity.Status

TITLE_MAX = 80
DESCRIPTION_MAX = 2000
PRIZE_MAX = 120
MAX_GROUPS = 50
MAX_GIFTS = 50
MAX_WINNERS = 100
MAX_DAYS = 90
MAX_THRESHOLD_FEN = 100_000_000  # ¥1,000,000
SCHEDULE_AHEAD_DAYS = 365
REASON_MAX = 300


class ActivityClosed(Conflict):
    code = "activity_closed"


# --- who may do what ------------------------------------------------------------------------------


def is_operator(user) -> bool:
    return user is not None and user.is_authenticated and user.has_perm(MANAGE_PERMISSION)


def _require_organiser(actor, group_ids) -> None:
    """Operators, or the leader/assistant of every one of `group_ids`."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise PermissionRefused(_("Log in first."), code="login_required")
    if is_operator(actor):
        return
    group_ids = set(group_ids)
    led = selectors.led_group_ids(actor)
    if not group_ids or not group_ids <= led:
        raise PermissionRefused(
            _("You can run activities only in the groups you lead."),
            code="not_your_group",
        )


def _activity_or_404(activity_id) -> Activity:
    activity = Activity.objects.filter(pk=activity_id).first()
    if activity is None:
        raise NotFound(_("Activity not found."), code="activity_not_found")
    return activity


def _organised_activity(activity_id, actor) -> Activity:
    """The activity, for someone who may manage it (403 `not_your_group` for anyone else)."""
    activity = _activity_or_404(activity_id)
    _require_organiser(actor, set(activity.groups.values_list("pk", flat=True)))
    return activity


# --- creating ---------------------------------------------------------------------------------------


def _clean_ids(values, *, field: str, limit: int, message: str) -> list[int]:
    try:
        ids = list(dict.fromkeys(int(value) for value in (values or [])))
    except (TypeError, ValueError):
        raise ValidationFailed(message, code="validation_error", fields={field: [message]}) from None
    if len(ids) > limit:
        text = _("At most %(count)s.") % {"count": limit}
        raise ValidationFailed(text, code="validation_error", fields={field: [text]})
    return ids


def _check_window(starts_at, ends_at, now, errors: dict) -> None:
    for field, value, missing in (
        ("starts_at", starts_at, _("Give the start date and time.")),
        ("ends_at", ends_at, _("Give the end date and time.")),
    ):
        if value is None:
            errors[field] = [missing]
        elif timezone.is_naive(value):
            errors[field] = [_("Give the time zone too (for example +08:00).")]
    if errors.get("starts_at") or errors.get("ends_at"):
        return
    if ends_at <= starts_at:
        errors["ends_at"] = [_("It must end after it starts.")]
    elif ends_at <= now:
        errors["ends_at"] = [_("The end is already past.")]
    elif ends_at - starts_at > timedelta(days=MAX_DAYS):
        errors["ends_at"] = [_("An activity lasts at most %(days)s days.") % {"days": MAX_DAYS}]
    if starts_at > now + timedelta(days=SCHEDULE_AHEAD_DAYS):
        errors["starts_at"] = [_("Schedule at most a year ahead.")]


def _gift_items(*, actor, item_ids: list[int], errors: dict) -> list[Item]:
    """The gift items, locked in primary-key order; each must be the creator's own, listed, platform-shipped."""
    if not item_ids:
        errors["gifts"] = [_("Choose at least one gift item.")]
        return []
    items = list(Item.objects.select_for_update().filter(pk__in=item_ids).order_by("pk"))
    found = {item.pk: item for item in items}
    problems = []
    held = set(
        ActivityGift.objects.filter(item_id__in=item_ids, released_at__isnull=True).values_list("item_id", flat=True)
    )
    for item_id in item_ids:
        item = found.get(item_id)
        if item is None or item.seller_id != actor.pk:
            problems.append(_("Item %(id)s: a gift must be one of your own listed items.") % {"id": item_id})
        elif item.pk in held:
            problems.append(_("“%(title)s” is already a gift of another activity.") % {"title": item.title})
        elif item.status != Item.Status.LISTED:
            problems.append(_("“%(title)s” is not on sale now.") % {"title": item.title})
        elif item.fulfilment != Item.Fulfilment.PLATFORM:
            problems.append(
                _("“%(title)s” is shipped by its seller: a gift must be in the warehouse to travel with the order.")
                % {"title": item.title}
            )
    if problems:
        errors["gifts"] = problems
    return [found[item_id] for item_id in item_ids if item_id in found]


def activity_create(
    *,
    actor,
    kind: str,
    title: str,
    group_ids,
    starts_at,
    ends_at,
    description: str = "",
    threshold_fen: int | None = None,
    gift_item_id: int | None = None,
    gifts=None,
    prize: str = "",
    winners_count: int = 1,
    now=None,
) -> Activity:
    """Schedule an activity for `group_ids` (it starts at once when `starts_at` is past).

    Buy-with-gift: `threshold_fen` (> 0) and the gift items: `gifts`, a list
    of item ids (one gift each), and/or `gift_item_id` for one. Giveaway:
    `prize` and `winners_count`; the seed is committed now. Themed drop:
    drops are linked afterwards (`activity_drop_link`).
    """
    now = now or timezone.now()
    group_ids = _clean_ids(group_ids, field="group_ids", limit=MAX_GROUPS, message=_("Choose the groups it is for."))
    if not group_ids:
        raise ValidationFailed(
            _("Choose the groups it is for."), code="groups_required", fields={"group_ids": [_("Required.")]}
        )
    _require_organiser(actor, group_ids)
    errors: dict[str, list] = {}
    if kind not in K.values:
        errors["kind"] = [_("Choose a kind of activity.")]
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("Give it a title.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("At most %(count)s characters.") % {"count": TITLE_MAX}]
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("At most %(count)s characters.") % {"count": DESCRIPTION_MAX}]
    _check_window(starts_at, ends_at, now, errors)
    groups = list(Group.objects.filter(pk__in=group_ids).exclude(status=Group.Status.ARCHIVED))
    if len(groups) != len(group_ids):
        errors["group_ids"] = [_("One of the groups does not exist or is archived.")]
    fields: dict = {}
    gift_item_ids: list[int] = []
    if kind == K.BUY_WITH_GIFT:
        if isinstance(threshold_fen, bool) or not isinstance(threshold_fen, int) or threshold_fen <= 0:
            errors["threshold_fen"] = [_("Give the amount an order must reach, more than zero.")]
        elif threshold_fen > MAX_THRESHOLD_FEN:
            errors["threshold_fen"] = [_("At most %(amount)s.") % {"amount": format_fen(MAX_THRESHOLD_FEN)}]
        gift_list = list(gifts or [])
        if gift_item_id is not None:
            gift_list.insert(0, gift_item_id)
        gift_item_ids = _clean_ids(gift_list, field="gifts", limit=MAX_GIFTS, message=_("Choose gift items."))
        fields["threshold_fen"] = threshold_fen
    elif kind == K.GIVEAWAY:
        prize = (prize or "").strip()
        if not prize:
            errors["prize"] = [_("Say what the prize is.")]
        elif len(prize) > PRIZE_MAX:
            errors["prize"] = [_("At most %(count)s characters.") % {"count": PRIZE_MAX}]
        if (
            isinstance(winners_count, bool)
            or not isinstance(winners_count, int)
            or not 1 <= winners_count <= MAX_WINNERS
        ):
            errors["winners_count"] = [_("From 1 to %(count)s winners.") % {"count": MAX_WINNERS}]
        fields.update(prize=prize, winners_count=winners_count)
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), code="activity_invalid", fields=errors)
    with transaction.atomic():
        items = []
        if kind == K.BUY_WITH_GIFT:
            items = _gift_items(actor=actor, item_ids=gift_item_ids, errors=errors)
            if errors:
                raise ValidationFailed(_("Some fields are not valid."), code="activity_invalid", fields=errors)
            fields.update(gift_item=items[0], gifts_left=len(items))
        if kind == K.GIVEAWAY:
            seed = draw.new_seed()
            fields.update(seed_hash=draw.seed_hash(seed), seed_secret=seed)
        activity = Activity.objects.create(
            kind=kind,
            title=title,
            description=description,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=actor,
            **fields,
        )
        activity.groups.set(groups)
        for item in items:
            states.transition(
                item,
                to=Item.Status.RESERVED,
                actor=actor,
                note=_("Held as a gift of “%(title)s”") % {"title": title},
            )
            ActivityGift.objects.create(activity=activity, item=item)
        states.record_start(
            activity, actor=actor, data={"seed_hash": activity.seed_hash} if activity.seed_hash else None
        )
        if activity.starts_at <= now:
            _settle_locked(activity, now=now)
    return activity


# --- the clock ------------------------------------------------------------------------------------


def _release_unused_gifts(activity: Activity, *, now, note: str, actor=None) -> int:
    """Unused gifts go back on sale (inside the caller's transaction, the activity locked)."""
    released = 0
    unused = ActivityGift.objects.filter(activity=activity, reference="", released_at__isnull=True).order_by("item_id")
    for gift in unused:
        item = Item.objects.select_for_update().get(pk=gift.item_id)
        if item.status == Item.Status.RESERVED:
            states.transition(item, to=Item.Status.LISTED, actor=actor, note=note)
        ActivityGift.objects.filter(pk=gift.pk).update(released_at=now, updated_at=timezone.now())
        released += 1
    return released


def _entrant_ids(activity: Activity) -> list[int]:
    return sorted(
        ActivityEntry.objects.filter(activity=activity, reference="").values_list("user_id", flat=True).distinct()
    )


def _end(activity: Activity, *, now, actor=None, note: str = "") -> None:
    """Move to ended and do what an ending does: close a giveaway's entries, put unused gifts back on sale."""
    updates = {}
    if activity.kind == K.GIVEAWAY:
        updates["entrants_hash"] = draw.entrants_hash(_entrant_ids(activity))
    states.transition(activity, to=S.ENDED, actor=actor, note=note, updates=updates)
    if activity.kind == K.BUY_WITH_GIFT:
        _release_unused_gifts(activity, now=now, note=_("The activity ended: back on sale"), actor=actor)


def _settle_locked(activity: Activity, *, now) -> int:
    """Apply the activity's clock (its row locked by the caller). Returns how many moves were made."""
    moves = 0
    if activity.status == S.SCHEDULED and activity.starts_at <= now < activity.ends_at:
        states.transition(activity, to=S.RUNNING)
        moves += 1
    if activity.status in (S.SCHEDULED, S.RUNNING) and activity.ends_at <= now:
        _end(activity, now=now)
        moves += 1
    return moves


def activities_settle_due(*, now=None, activity_ids=None, limit: int = 200) -> int:
    """Start the activities whose time has come and end those past their end (the task, and reads)."""
    now = now or timezone.now()
    due = Activity.objects.filter(status__in=(S.SCHEDULED, S.RUNNING))
    due = due.filter(starts_at__lte=now).exclude(status=S.RUNNING, ends_at__gt=now)
    if activity_ids is not None:
        due = due.filter(pk__in=activity_ids)
    moves = 0
    for activity_id in list(due.order_by("ends_at", "pk").values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            activity = Activity.objects.select_for_update().filter(pk=activity_id).first()
            if activity is not None:
                moves += _settle_locked(activity, now=now)
    return moves


def activity_cancel(*, activity_id: int, actor, reason: str = "", now=None) -> Activity:
    """An organiser calls it off before it ends: unused gifts go back on sale; a giveaway is not drawn."""
    now = now or timezone.now()
    activity = _organised_activity(activity_id, actor)
    reason = (reason or "").strip()[:REASON_MAX]
    if not reason:
        raise ValidationFailed(
            _("Say why it is cancelled: members read it."), code="reason_required", fields={"reason": [_("Required.")]}
        )
    activities_settle_due(now=now, activity_ids=[activity.pk])
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        if activity.status not in (S.SCHEDULED, S.RUNNING):
            raise ActivityClosed(
                _("This activity is already %(status)s.") % {"status": activity.get_status_display()},
                code="activity_closed",
            )
        states.transition(activity, to=S.CANCELLED, actor=actor, note=reason)
        if activity.kind == K.BUY_WITH_GIFT:
            _release_unused_gifts(activity, now=now, note=_("The activity was cancelled: back on sale"), actor=actor)
    return activity


# --- buy-with-gift: the market's side -------------------------------------------------------------


def gift_for_order(*, user, items_total_fen: int, reference: str, now=None) -> Item | None:
    """The gift to add to a new order, taken from stock; None when the order gets none.

    Called by the market inside `order_create`'s transaction, for an order
    the platform ships, `reference` being the order's ("order:<id>"). Among
    the running buy-with-gift activities of the buyer's groups whose
    threshold the order's items reach, the highest threshold first: one gift,
    once per order, once per member and activity, while the stock lasts. An
    `ActivityEntry` with the reference records it.
    """
    now = now or timezone.now()
    if user is None or not reference or items_total_fen <= 0:
        return None
    group_ids = selectors.active_group_ids(user)
    if not group_ids:
        return None
    if ActivityEntry.objects.filter(reference=reference).exists():
        return None
    candidates = (
        Activity.objects.filter(
            kind=K.BUY_WITH_GIFT,
            status__in=(S.SCHEDULED, S.RUNNING),
            starts_at__lte=now,
            ends_at__gt=now,
            threshold_fen__lte=items_total_fen,
            gifts_left__gt=0,
            groups__in=group_ids,
        )
        .exclude(entries__user=user)
        .distinct()
        .order_by("-threshold_fen", "ends_at", "pk")
        .values_list("pk", flat=True)
    )
    for activity_id in list(candidates[:10]):
        with transaction.atomic():
            activity = Activity.objects.select_for_update().get(pk=activity_id)
            _settle_locked(activity, now=now)
            if activity.status != S.RUNNING or (activity.gifts_left or 0) <= 0:
                continue
            if ActivityEntry.objects.filter(activity=activity, user=user).exists():
                continue
            gift = (
                ActivityGift.objects.filter(activity=activity, reference="", released_at__isnull=True)
                .exclude(item__seller=user)
                .order_by("pk")
                .first()
            )
            if gift is None:
                continue
            item = Item.objects.select_for_update().get(pk=gift.item_id)
            if item.status != Item.Status.RESERVED:
                # Taken off sale by the warehouse meanwhile (lost, returned): not a gift any more.
                logger.warning(
                    "gift item %s of activity %s is %s: dropped from stock", item.pk, activity.pk, item.status
                )
                ActivityGift.objects.filter(pk=gift.pk).update(released_at=now, updated_at=timezone.now())
                Activity.objects.filter(pk=activity.pk).update(gifts_left=F("gifts_left") - 1)
                continue
            ActivityGift.objects.filter(pk=gift.pk).update(
                reference=reference, given_to=user, given_at=now, updated_at=timezone.now()
            )
            Activity.objects.filter(pk=activity.pk).update(gifts_left=F("gifts_left") - 1)
            ActivityEntry.objects.create(activity=activity, user=user, reference=reference)
            return item
    return None


def gift_return(*, reference: str, now=None) -> int:
    """The order `reference` ended without a sale (cancelled, or refunded before shipping): its gift returns.

    Called by the market in the same transaction, after it has put the
    order's items where they go. While the activity runs, the gift goes back
    to stock (held off sale); otherwise back on sale. The order's entry is
    removed: it no longer counts as an order that got the gift.
    """
    now = now or timezone.now()
    returned = 0
    for gift in list(ActivityGift.objects.filter(reference=reference, released_at__isnull=True).order_by("pk")):
        with transaction.atomic():
            activity = Activity.objects.select_for_update().get(pk=gift.activity_id)
            item = Item.objects.select_for_update().get(pk=gift.item_id)
            _settle_locked(activity, now=now)
            ActivityEntry.objects.filter(activity=activity, reference=reference).delete()
            running = activity.status == S.RUNNING
            if running and item.status in (Item.Status.LISTED, Item.Status.RESERVED):
                if item.status == Item.Status.LISTED:
                    states.transition(
                        item,
                        to=Item.Status.RESERVED,
                        note=_("Back in the gift stock of “%(title)s”") % {"title": activity.title},
                    )
                ActivityGift.objects.filter(pk=gift.pk).update(
                    reference="", given_to=None, given_at=None, updated_at=timezone.now()
                )
                Activity.objects.filter(pk=activity.pk).update(gifts_left=F("gifts_left") + 1)
            else:
                if item.status == Item.Status.RESERVED:
                    states.transition(item, to=Item.Status.LISTED, note=_("The activity is over: back on sale"))
                # Not given after all: the order that had it ended without a sale.
                ActivityGift.objects.filter(pk=gift.pk).update(
                    reference="", given_to=None, given_at=None, released_at=now, updated_at=timezone.now()
                )
            returned += 1
    return returned


# --- giveaways ------------------------------------------------------------------------------------


def _is_banned(user) -> bool:
    return MemberProfile.objects.filter(user=user, banned_at__isnull=False).exists()


def giveaway_enter(*, activity_id: int, user, now=None) -> ActivityEntry:
    """Enter a running giveaway: an active member of one of its groups, once, not an organiser."""
    now = now or timezone.now()
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionRefused(_("Log in to take part."), code="login_required")
    activity = _activity_or_404(activity_id)
    if not selectors.activity_visible_to(user, activity):
        raise NotFound(_("Activity not found."), code="activity_not_found")
    if activity.kind != K.GIVEAWAY:
        raise Conflict(_("This activity is not a giveaway."), code="not_a_giveaway")
    group_ids = set(activity.groups.values_list("pk", flat=True))
    if not group_ids & selectors.active_group_ids(user):
        raise PermissionRefused(_("Only members of its groups can take part."), code="not_a_member")
    if activity.created_by_id == user.pk or is_operator(user) or group_ids & selectors.led_group_ids(user):
        raise PermissionRefused(_("Organisers cannot enter their own giveaway."), code="organiser_cannot_enter")
    if _is_banned(user):
        raise PermissionRefused(_("Your account cannot take part in community activities."), code="banned")
    activities_settle_due(now=now, activity_ids=[activity.pk])
    try:
        with transaction.atomic():
            activity = Activity.objects.select_for_update().get(pk=activity.pk)
            if activity.status == S.SCHEDULED or now < activity.starts_at:
                raise ActivityClosed(
                    _("Entries open at %(time)s.")
                    % {"time": timezone.localtime(activity.starts_at).strftime("%Y-%m-%d %H:%M")},
                    code="entries_not_open",
                )
            if activity.status != S.RUNNING or now >= activity.ends_at:
                raise ActivityClosed(_("Entries are closed."), code="entries_closed")
            if ActivityEntry.objects.filter(activity=activity, user=user, reference="").exists():
                raise Conflict(_("You have already entered."), code="already_entered")
            entry = ActivityEntry.objects.create(activity=activity, user=user, reference="")
    except IntegrityError:
        # The same member twice at the same instant: the unique constraint let one in.
        raise Conflict(_("You have already entered."), code="already_entered") from None
    return entry


def giveaway_close(*, activity_id: int, actor=None, now=None) -> Activity:
    """Publish the entrants list's hash once entries have closed (done by the clock when the giveaway ends).

    Idempotent; refused while entries are open: nobody closes a giveaway early.
    """
    now = now or timezone.now()
    activity = _activity_or_404(activity_id)
    if activity.kind != K.GIVEAWAY:
        raise Conflict(_("This activity is not a giveaway."), code="not_a_giveaway")
    activities_settle_due(now=now, activity_ids=[activity.pk])
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        if activity.status in (S.SCHEDULED, S.RUNNING):
            raise ActivityClosed(_("Entries are still open."), code="entries_open")
        if activity.status == S.ENDED and not activity.entrants_hash:
            digest = draw.entrants_hash(_entrant_ids(activity))
            Activity.objects.filter(pk=activity.pk).update(entrants_hash=digest, updated_at=timezone.now())
            activity.entrants_hash = digest
    return activity


def giveaway_draw(*, activity_id: int, actor, now=None) -> Activity:
    """Reveal the seed and pick the winners (draw.py), once the giveaway has ended. Organisers only."""
    now = now or timezone.now()
    activity = _organised_activity(activity_id, actor)
    if activity.kind != K.GIVEAWAY:
        raise Conflict(_("This activity is not a giveaway."), code="not_a_giveaway")
    activities_settle_due(now=now, activity_ids=[activity.pk])
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        if activity.status == S.DRAWN:
            raise ActivityClosed(_("The winners are already drawn."), code="already_drawn")
        if activity.status != S.ENDED:
            if activity.status == S.CANCELLED:
                raise ActivityClosed(_("This giveaway was cancelled."), code="activity_closed")
            raise ActivityClosed(_("The draw happens after entries close."), code="entries_open")
        entrants = _entrant_ids(activity)
        digest = draw.entrants_hash(entrants)
        if activity.entrants_hash and activity.entrants_hash != digest:
            # Entries cannot change after the close; if they did, the published list is no longer true.
            logger.error("giveaway %s: entrants changed after the close", activity.pk)
            raise Conflict(
                _("The entrants changed after entries closed: the draw is refused."), code="entrants_changed"
            )
        seed = activity.seed_secret
        if not seed or draw.seed_hash(seed) != activity.seed_hash:
            logger.error("giveaway %s: the stored seed does not match its commitment", activity.pk)
            raise Conflict(_("The committed seed is missing: the draw is refused."), code="seed_missing")
        steps = draw.draw_steps(seed, entrants, activity.winners_count)
        for step in steps:
            ActivityEntry.objects.filter(activity=activity, user_id=step["user_id"], reference="").update(
                won=True, rank=step["rank"], updated_at=timezone.now()
            )
        states.transition(
            activity,
            to=S.DRAWN,
            actor=actor,
            note=_("%(count)s winner(s) of %(entrants)s entrants") % {"count": len(steps), "entrants": len(entrants)},
            data={"winners": [step["user_id"] for step in steps]},
            updates={"seed": seed, "entrants_hash": digest, "drawn_at": now},
        )
        winner_ids = [step["user_id"] for step in steps]
        transaction.on_commit(
            lambda: _tell_winners(activity.pk, activity.title, activity.prize, winner_ids), robust=True
        )
    return activity


def _tell_winners(activity_id: int, title: str, prize: str, winner_ids: list[int]) -> None:
    """In-app notices to the winners (after commit), when the notifications app is there."""
    if not winner_ids:
        return
    try:
        from erhuo.notifications.services import notices_send
    except ImportError:  # pragma: no cover - the notifications app is built in the same issue
        return
    notices_send(
        users=winner_ids,
        kind="giveaway_won",
        title=_("You won “%(title)s”!") % {"title": title},
        body=_("Prize: %(prize)s. Check the draw on its page.") % {"prize": prize},
        url=f"/activities/{activity_id}/",
        data={"activity_id": activity_id},
        key=f"giveaway-won:{activity_id}",
    )


# --- themed drops --------------------------------------------------------------------------------


def activity_drop_link(*, activity_id: int, drop_id: int, actor) -> Drop:
    """Put an existing drop under a themed drop's banner: its groups must be among the activity's."""
    activity = _organised_activity(activity_id, actor)
    if activity.kind != K.THEMED_DROP:
        raise Conflict(_("Only a themed drop groups drops."), code="not_a_themed_drop")
    if activity.status not in (S.SCHEDULED, S.RUNNING):
        raise ActivityClosed(
            _("This activity is already %(status)s.") % {"status": activity.get_status_display()},
            code="activity_closed",
        )
    with transaction.atomic():
        drop = Drop.objects.select_for_update().filter(pk=drop_id).first()
        if drop is None:
            raise NotFound(_("Drop not found."), code="drop_not_found")
        drop_groups = set(drop.groups.values_list("pk", flat=True))
        if not drop_groups or not drop_groups <= set(activity.groups.values_list("pk", flat=True)):
            raise ValidationFailed(
                _("The drop goes to groups outside this activity."),
                code="drop_groups_outside",
                fields={"drop_id": [_("Choose a drop into this activity's groups.")]},
            )
        _require_organiser(actor, drop_groups)
        if drop.status == Drop.Status.CANCELLED:
            raise Conflict(_("This drop was cancelled."), code="drop_cancelled")
        if drop.activity_id and drop.activity_id != activity.pk:
            raise Conflict(_("This drop belongs to another activity."), code="drop_taken")
        Drop.objects.filter(pk=drop.pk).update(activity=activity, updated_at=timezone.now())
        drop.activity = activity
    return drop


def activity_drop_create(*, activity_id: int, actor, item_ids, drop_at=None, title: str = "", now=None) -> Drop:
    """Drop items into a themed drop's groups under its banner (the drops service, `drops.drop_create`).

    The drop goes out at `drop_at`, never before the activity starts (by
    default when it starts; at once if it runs); the drops service checks the
    items and the groups.
    """
    from erhuo.community.services.drops import drop_create

    now = now or timezone.now()
    activity = _organised_activity(activity_id, actor)
    if activity.kind != K.THEMED_DROP:
        raise Conflict(_("Only a themed drop groups drops."), code="not_a_themed_drop")
    if activity.status not in (S.SCHEDULED, S.RUNNING):
        raise ActivityClosed(
            _("This activity is already %(status)s.") % {"status": activity.get_status_display()},
            code="activity_closed",
        )
    # Never before the sale starts: an earlier (or no) time means "when it starts", or now if it runs.
    drop_at = max(drop_at or activity.starts_at, activity.starts_at, now)
    if drop_at >= activity.ends_at:
        raise ValidationFailed(
            _("The drop must go out while the activity runs."),
            code="drop_outside_window",
            fields={"drop_at": [_("Before its end.")]},
        )
    return drop_create(
        actor=actor,
        item_ids=item_ids,
        group_ids=list(activity.groups.values_list("pk", flat=True)),
        drop_at=drop_at,
        title=(title or activity.title)[:80],
        activity=activity,
        now=now,
    )


def activity_drop_unlink(*, activity_id: int, drop_id: int, actor) -> Drop:
    activity = _organised_activity(activity_id, actor)
    drop = Drop.objects.filter(pk=drop_id, activity=activity).first()
    if drop is None:
        raise NotFound(_("Drop not found."), code="drop_not_found")
    Drop.objects.filter(pk=drop.pk).update(activity=None, updated_at=timezone.now())
    drop.activity = None
    return drop
