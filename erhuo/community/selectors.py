"""Reads of the community: who belongs where. Every app above asks here (never the models directly)."""

from django.db.models import QuerySet

from erhuo.community.models import Group, Membership


def active_memberships(user) -> QuerySet:
    if user is None or not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, status=Membership.Status.ACTIVE)


def active_group_ids(user) -> set[int]:
    """The groups `user` is an active member of (leader and assistants included)."""
    return set(active_memberships(user).values_list("group_id", flat=True))


def is_active_member(user, group: Group | int) -> bool:
    group_id = group if isinstance(group, int) else group.pk
    return active_memberships(user).filter(group_id=group_id).exists()


def leads(user, group: Group | int) -> bool:
    """The group's leader or one of its active assistants."""
    group_id = group if isinstance(group, int) else group.pk
    return (
        active_memberships(user)
        .filter(group_id=group_id, role__in=(Membership.Role.LEADER, Membership.Role.ASSISTANT))
        .exists()
    )


# --- groups: tags, profiles, segments, groups, invites ------------------------------------------


def member_profile(user) -> dict[str, float]:
    """Her tags as {tag code: weight}, the sources merged (the highest weight of a tag wins)."""
    user_id = getattr(user, "pk", user)
    if user_id is None:
        return {}
    return profiles_of([user_id]).get(user_id, {})


def profiles_of(user_ids) -> dict[int, dict[str, float]]:
    """{user id: profile} for many members in one query (members without tags are left out)."""
    from erhuo.community.models import MemberTag

    user_ids = list(user_ids)
    profiles: dict[int, dict[str, float]] = {}
    if not user_ids:
        return profiles
    rows = MemberTag.objects.filter(user_id__in=user_ids, weight__gt=0).values_list("user_id", "tag__code", "weight")
    for user_id, code, weight in rows:
        profile = profiles.setdefault(user_id, {})
        if weight > profile.get(code, 0.0):
            profile[code] = weight
    return profiles


def group_profiles(group_ids) -> dict[int, list[tuple[int, dict]]]:
    """{group id: [(user id, profile), …]} of each group's active members, in two queries."""
    group_ids = list(group_ids)
    result: dict[int, list[tuple[int, dict]]] = {group_id: [] for group_id in group_ids}
    if not group_ids:
        return result
    pairs = list(
        Membership.objects.filter(group_id__in=group_ids, status=Membership.Status.ACTIVE)
        .order_by("group_id", "pk")
        .values_list("group_id", "user_id")
    )
    from erhuo.community.models import MemberTag

    # Joined through the membership rather than `user_id IN (…)`: a page of groups can hold thousands of members.
    rows = MemberTag.objects.filter(
        weight__gt=0,
        user__memberships__group_id__in=group_ids,
        user__memberships__status=Membership.Status.ACTIVE,
    ).values_list("user__memberships__group_id", "user_id", "tag__code", "weight")
    profiles: dict[tuple[int, int], dict[str, float]] = {}
    for group_id, user_id, code, weight in rows:
        profile = profiles.setdefault((group_id, user_id), {})
        if weight > profile.get(code, 0.0):
            profile[code] = weight
    for group_id, user_id in pairs:
        result[group_id].append((user_id, profiles.get((group_id, user_id), {})))
    return result


# --- activities: buy-with-gift, giveaways and their fair draw, themed drops, participation -------

ACTIVITY_STAFF_PERMISSION = "community.manage_community"
SOLD_ITEM_STATUSES = ("sold", "packed", "shipped", "delivered", "completed")


def led_group_ids(user) -> set[int]:
    """The groups `user` leads or assists (active)."""
    return set(
        active_memberships(user)
        .filter(role__in=(Membership.Role.LEADER, Membership.Role.ASSISTANT))
        .values_list("group_id", flat=True)
    )


def _activity_group_ids(activity) -> set[int]:
    cached = getattr(activity, "_prefetched_objects_cache", {}).get("groups")
    if cached is not None:
        return {group.pk for group in cached}
    return set(activity.groups.values_list("pk", flat=True))


def activity_visible_to(user, activity) -> bool:
    """Operators see every activity; a member those of the groups she is an active member of."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_perm(ACTIVITY_STAFF_PERMISSION):
        return True
    return bool(_activity_group_ids(activity) & active_group_ids(user))


def activity_organised_by(user, activity) -> bool:
    """May `user` cancel, draw, link drops: an operator, or the leader/assistant of every target group."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_perm(ACTIVITY_STAFF_PERMISSION):
        return True
    group_ids = _activity_group_ids(activity)
    return bool(group_ids) and group_ids <= led_group_ids(user)


def activity_reportable_by(user, activity) -> bool:
    """May `user` read the participation report: an operator, or a leader/assistant of one of its groups."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_perm(ACTIVITY_STAFF_PERMISSION):
        return True
    return bool(_activity_group_ids(activity) & led_group_ids(user))


def _activities():
    from django.db.models import Prefetch

    from erhuo.community.models import Activity

    return Activity.objects.select_related("gift_item", "created_by").prefetch_related(
        Prefetch("groups", queryset=Group.objects.order_by("pk"))
    )


def activity_of(activity_id: int):
    return _activities().filter(pk=activity_id).first()


def activities_visible_to(user, *, group_id: int | None = None, kind: str = "", status: str = "") -> QuerySet:
    """Activities `user` may see, the soonest ending first among the live ones (operators: all)."""
    from erhuo.community.models import Activity

    if user is None or not user.is_authenticated:
        return Activity.objects.none()
    activities = _activities()
    if not user.has_perm(ACTIVITY_STAFF_PERMISSION):
        mine = active_memberships(user).values("group_id")
        activities = activities.filter(
            pk__in=Activity.groups.through.objects.filter(group_id__in=mine).values("activity_id")
        )
    if group_id:
        activities = activities.filter(
            pk__in=Activity.groups.through.objects.filter(group_id=group_id).values("activity_id")
        )
    if kind:
        activities = activities.filter(kind=kind)
    if status:
        activities = activities.filter(status=status)
    return activities.order_by("-starts_at", "-pk")


def group_activities(group, *, ended_limit: int = 5) -> dict:
    """The group page's card: running (ending soonest first), upcoming (soonest first), recently ended."""
    from erhuo.community.models import Activity

    S = Activity.Status
    rows = list(
        Activity.objects.filter(groups=group)
        .exclude(status=S.CANCELLED)
        .select_related("gift_item")
        .order_by("-ends_at", "-pk")[:100]
    )
    return {
        "running": sorted((a for a in rows if a.status == S.RUNNING), key=lambda a: (a.ends_at, a.pk)),
        "upcoming": sorted((a for a in rows if a.status == S.SCHEDULED), key=lambda a: (a.starts_at, a.pk)),
        "ended": [a for a in rows if a.status in (S.ENDED, S.DRAWN)][:ended_limit],
    }


def activity_ids_due(activity_ids, *, now=None) -> list[int]:
    """Of these activities, those whose clock has a move to make (cheap: one query)."""
    from django.db.models import Q
    from django.utils import timezone

    from erhuo.community.models import Activity

    now = now or timezone.now()
    S = Activity.Status
    return list(
        Activity.objects.filter(pk__in=list(activity_ids))
        .filter(Q(status=S.SCHEDULED, starts_at__lte=now) | Q(status=S.RUNNING, ends_at__lte=now))
        .values_list("pk", flat=True)
    )


def gift_item_held(item_id: int) -> bool:
    """Is the item a gift of an activity (held off sale, or in an order as a gift)? For the market's claims."""
    from erhuo.community.models import ActivityGift

    return ActivityGift.objects.filter(item_id=item_id, released_at__isnull=True).exists()


def activity_entry_of(activity, user):
    """Her giveaway entry, if she entered (None otherwise)."""
    from erhuo.community.models import ActivityEntry

    if user is None or not user.is_authenticated:
        return None
    return ActivityEntry.objects.filter(activity=activity, user=user, reference="").first()


def giftable_items(user) -> QuerySet:
    """Her own listed, platform-shipped items that are not already a gift: what she can give away."""
    from erhuo.catalog.models import Item
    from erhuo.community.models import ActivityGift

    held = ActivityGift.objects.filter(released_at__isnull=True).values("item_id")
    return (
        Item.objects.filter(seller=user, status=Item.Status.LISTED, fulfilment=Item.Fulfilment.PLATFORM)
        .exclude(pk__in=held)
        .order_by("-listed_at", "-pk")
    )


def _masked(name: str) -> str:
    from erhuo.core.pii import mask_name

    return mask_name(name or "?")


def giveaway_record(activity) -> dict:
    """Everything published about a giveaway's draw (never the seed before the draw), and the draw re-run here.

    Before entries close: the committed seed hash and the number of entrants.
    After: the entrants (user id and masked name) and their list's hash.
    After the draw: the seed, each step of the algorithm and the winners,
    re-computed from the published data (`recomputed_winners`) beside the
    recorded ones (`winners`), and whether both hashes check out.
    """
    from erhuo.community import draw
    from erhuo.community.models import Activity, ActivityEntry

    S = Activity.Status
    entries = ActivityEntry.objects.filter(activity=activity, reference="")
    closed = activity.status in (S.ENDED, S.DRAWN)
    drawn = activity.status == S.DRAWN
    record = {
        "activity_id": activity.pk,
        "title": activity.title,
        "prize": activity.prize,
        "status": activity.status,
        "winners_count": activity.winners_count,
        "algorithm": draw.ALGORITHM,
        "seed_hash": activity.seed_hash,
        "seed_committed_at": activity.created_at,
        "entries_open_at": activity.starts_at,
        "entries_close_at": activity.ends_at,
        "entrants_count": entries.count(),
        "entrants": [],
        "entrants_text": None,
        "entrants_hash": activity.entrants_hash if closed else None,
        "seed": activity.seed if drawn else None,
        "drawn_at": activity.drawn_at if drawn else None,
        "winners": [],
        "steps": [],
        "recomputed_winners": [],
        "seed_matches": None,
        "entrants_match": None,
    }
    if not closed:
        return record
    rows = list(entries.order_by("user_id").values_list("user_id", "user__display_name", "won", "rank"))
    ids = [row[0] for row in rows]
    record["entrants"] = [{"user_id": user_id, "display_name": _masked(name)} for user_id, name, _won, _rank in rows]
    record["entrants_text"] = draw.entrants_text(ids)
    record["entrants_match"] = draw.entrants_hash(ids) == activity.entrants_hash
    if drawn and activity.seed:
        names = {row[0]: _masked(row[1]) for row in rows}
        record["winners"] = sorted(
            (
                {"rank": rank, "user_id": user_id, "display_name": names[user_id]}
                for user_id, _n, won, rank in rows
                if won
            ),
            key=lambda winner: winner["rank"],
        )
        record["seed_matches"] = draw.seed_hash(activity.seed) == activity.seed_hash
        record["steps"] = draw.draw_steps(activity.seed, ids, activity.winners_count)
        record["recomputed_winners"] = [step["user_id"] for step in record["steps"]]
    return record


def members_reached(activity) -> int:
    """Distinct active members of the activity's groups (a member of two counts once)."""
    return (
        Membership.objects.filter(group__in=_activity_group_ids(activity), status=Membership.Status.ACTIVE)
        .values("user_id")
        .distinct()
        .count()
    )


def themed_drop_items(activity) -> list:
    """The items of the drops under a themed drop, with their drop time and card photos (three queries)."""
    from django.db.models import Min, Prefetch

    from erhuo.catalog.models import Item, ItemPhoto
    from erhuo.community.models import Drop

    rows = list(
        Drop.items.through.objects.filter(drop__activity=activity)
        .exclude(drop__status=Drop.Status.CANCELLED)
        .values("item_id")
        .annotate(dropped_at=Min("drop__drop_at"))
        .order_by("dropped_at", "item_id")[:200]
    )
    if not rows:
        return []
    kinds = [*ItemPhoto.PUBLIC_KINDS, ItemPhoto.Kind.SELLER]
    items = Item.objects.filter(pk__in=[row["item_id"] for row in rows]).prefetch_related(
        Prefetch(
            "photos",
            queryset=ItemPhoto.objects.filter(kind__in=kinds).order_by("created_at", "pk"),
            to_attr="card_photos",
        )
    )
    by_id = {item.pk: item for item in items}
    found = []
    for row in rows:
        item = by_id.get(row["item_id"])
        if item is not None:
            item.dropped_at = row["dropped_at"]
            item.is_sold = item.status in SOLD_ITEM_STATUSES
            found.append(item)
    return found


def activity_drops(activity) -> list:
    from erhuo.community.models import Drop

    return list(Drop.objects.filter(activity=activity).order_by("drop_at", "pk"))


def linkable_drops(activity, user) -> list:
    """Drops `user` may put under this themed drop: not cancelled, not under another activity, into its groups."""
    from erhuo.community.models import Drop

    group_ids = _activity_group_ids(activity)
    outside = Drop.groups.through.objects.exclude(group_id__in=group_ids).values("drop_id")
    drops = (
        Drop.objects.filter(activity__isnull=True, groups__in=group_ids)
        .exclude(status=Drop.Status.CANCELLED)
        .exclude(pk__in=outside)
        .distinct()
        .order_by("-drop_at", "-pk")
    )
    if user is None or not user.has_perm(ACTIVITY_STAFF_PERMISSION):
        not_led = Drop.groups.through.objects.exclude(group_id__in=led_group_ids(user)).values("drop_id")
        drops = drops.exclude(pk__in=not_led)
    return list(drops[:50])


def activity_report(activity) -> dict:
    """Participation, by kind. Buy-with-gift: orders that got a gift, members who did, gifts given and
    left. Giveaway: entrants, winners. Themed drop: its drops and items, how many sold. All kinds: members
    reached (active members of its groups) and the share who took part."""
    from collections import Counter

    from erhuo.community.models import Activity, ActivityEntry, ActivityGift

    K = Activity.Kind
    reached = members_reached(activity)
    entries = ActivityEntry.objects.filter(activity=activity)
    report = {"kind": activity.kind, "members_reached": reached, "participants": 0, "participation_rate": 0.0}
    if activity.kind == K.BUY_WITH_GIFT:
        gifts = list(ActivityGift.objects.filter(activity=activity).select_related("item").order_by("pk"))
        with_gift = entries.exclude(reference="")
        participants = with_gift.values("user_id").distinct().count()
        report.update(
            orders_with_gift=with_gift.count(),
            participants=participants,
            gifts_total=len(gifts),
            gifts_given=sum(1 for gift in gifts if gift.reference),
            gifts_left=activity.gifts_left or 0,
            gifts_back_on_sale=sum(1 for gift in gifts if gift.released_at and not gift.reference),
            gifts=[
                {
                    "item_id": gift.item_id,
                    "title": gift.item.title,
                    "item_status": gift.item.status,
                    "order_reference": gift.reference,
                    "given_at": gift.given_at,
                    "back_on_sale_at": gift.released_at if not gift.reference else None,
                }
                for gift in gifts
            ],
        )
    elif activity.kind == K.GIVEAWAY:
        entrants = entries.filter(reference="")
        participants = entrants.count()
        report.update(
            entrants=participants,
            participants=participants,
            winners=list(entrants.filter(won=True).order_by("rank").values_list("user_id", flat=True)),
        )
    else:
        items = themed_drop_items(activity)
        by_status = Counter(item.status for item in items)
        sold = sum(1 for item in items if item.is_sold)
        report.update(
            drops=len(activity_drops(activity)),
            items=len(items),
            items_sold=sold,
            items_on_sale=by_status.get("listed", 0) + by_status.get("reserved", 0),
            items_by_status=dict(sorted(by_status.items())),
            sell_through=round(sold / len(items), 4) if items else 0.0,
        )
    if reached and report["participants"]:
        report["participation_rate"] = round(report["participants"] / reached, 4)
    return report


def activities_for_operators(*, status: str = "", kind: str = "") -> QuerySet:
    """Every activity with its entry counts, newest first (one query; groups prefetched)."""
    from django.db.models import Count, Q

    activities = _activities().annotate(
        entries_count=Count("entries", filter=Q(entries__reference=""), distinct=True),
        gift_orders_count=Count("entries", filter=~Q(entries__reference=""), distinct=True),
    )
    if status:
        activities = activities.filter(status=status)
    if kind:
        activities = activities.filter(kind=kind)
    return activities.order_by("-starts_at", "-pk")


DROP_CANDIDATES_SHOWN = 20


def drop_candidate_items(*, query: str = "", exclude_ids=(), limit: int = DROP_CANDIDATES_SHOWN) -> list:
    """Items on sale a leader may drop, newest listing first: by title, brand, label code or `#id`.

    Community-only items included: choosing the groups they go to is the point.
    The label code is the warehouse's tag (read through the item's reverse
    relation; nothing of consignment is imported). Photos as for cards.
    """
    from django.db.models import Prefetch

    from erhuo.catalog.models import Item, ItemPhoto

    items = Item.objects.filter(status=Item.Status.LISTED, price_fen__isnull=False).exclude(pk__in=list(exclude_ids))
    query = (query or "").strip()[:80]
    if query:
        wanted = Q(title__icontains=query) | Q(brand__name__icontains=query) | Q(brand__name_zh__icontains=query)
        wanted |= Q(consignment__label_code__iexact=query)
        number = query.lstrip("#")
        if number.isdigit() and len(number) < 19:
            wanted |= Q(pk=int(number))
        items = items.filter(wanted)
    kinds = [*ItemPhoto.PUBLIC_KINDS, ItemPhoto.Kind.SELLER]
    return list(
        items.select_related("brand")
        .prefetch_related(
            Prefetch(
                "photos",
                queryset=ItemPhoto.objects.filter(kind__in=kinds).order_by("created_at", "pk"),
                to_attr="card_photos",
            )
        )
        .order_by("-listed_at", "-pk")[:limit]
    )


def items_for_drop(item_ids) -> list:
    """The chosen items (any status: the form says which cannot drop), with what their profiles and cards need."""
    from django.db.models import Prefetch

    from erhuo.catalog.models import Item, ItemPhoto

    ids = [item_id for item_id in item_ids if isinstance(item_id, int)][:50]
    if not ids:
        return []
    kinds = [*ItemPhoto.PUBLIC_KINDS, ItemPhoto.Kind.SELLER]
    return list(
        Item.objects.filter(pk__in=ids)
        .select_related("brand", "category__parent__parent")
        .prefetch_related(
            Prefetch(
                "photos",
                queryset=ItemPhoto.objects.filter(kind__in=kinds).order_by("created_at", "pk"),
                to_attr="card_photos",
            )
        )
        .order_by("-listed_at", "-pk")
    )
