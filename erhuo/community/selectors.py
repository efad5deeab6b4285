"""Reads of the community: who belongs where. Every app above asks here (never the models directly)."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

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


def group_purities(group_ids) -> dict[int, float | None]:
    """{group id: purity 0..1}; None under two members. The placement page's measure (`placement_purities`,
    tags weighted by how informative they are, ADR 12), so every page shows the same number."""
    return placement_purities(group_ids)


def _groups():
    return Group.objects.select_related("segment", "leader")


def group_of(group_id: int) -> Group | None:
    return _groups().filter(pk=group_id).first()


def my_memberships(user) -> list[Membership]:
    """Her live places (active, and waiting for a leader), her groups' segment and leader loaded."""
    if user is None or not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user=user, status__in=Membership.LIVE)
        .select_related("group", "group__segment", "group__leader")
        .order_by("status", "group__segment__name", "group__number", "group_id")
    )


def live_membership(user, group: Group | int) -> Membership | None:
    """Her active or pending place in the group, if any."""
    if user is None or not user.is_authenticated:
        return None
    group_id = group if isinstance(group, int) else group.pk
    return Membership.objects.filter(user=user, group_id=group_id, status__in=Membership.LIVE).first()


def group_members(group: Group | int, *, statuses=(Membership.Status.ACTIVE,)) -> list[Membership]:
    """A group's places in `statuses`: active ones first (the leader, assistants, members by when they joined),
    then pending ones by when they asked."""
    group_id = group if isinstance(group, int) else group.pk
    role_order = {Membership.Role.LEADER: 0, Membership.Role.ASSISTANT: 1, Membership.Role.MEMBER: 2}
    rows = list(
        Membership.objects.filter(group_id=group_id, status__in=list(statuses))
        .select_related("user")
        .order_by("created_at", "pk")
    )
    rows.sort(
        key=lambda row: (
            row.status != Membership.Status.ACTIVE,
            role_order.get(row.role, 3),
            row.joined_at or row.created_at,
            row.pk,
        )
    )
    return rows


def groups_overview(*, segment_id: int | None = None, status: str = "") -> list[Group]:
    """Every group (operators), with `purity` set on each (None under two members), in a bounded number of queries."""
    rows = _groups().order_by("segment__name", "number", "pk")
    if segment_id:
        rows = rows.filter(segment_id=segment_id)
    if status:
        rows = rows.filter(status=status)
    rows = list(rows)
    purities = group_purities([group.pk for group in rows])
    for group in rows:
        group.purity = purities.get(group.pk)
    return rows


def segments_overview() -> tuple[list, list[Group]]:
    """Active segments first, each with `group_list` (its groups with their purity), plus groups outside any."""
    from erhuo.community.models import Segment

    segments = list(Segment.objects.order_by("-active", "name"))
    groups = groups_overview()
    by_segment: dict[int | None, list[Group]] = {}
    for group in groups:
        by_segment.setdefault(group.segment_id, []).append(group)
    for segment in segments:
        segment.group_list = by_segment.get(segment.pk, [])
        segment.members_total = sum(group.member_count for group in segment.group_list)
    return segments, by_segment.get(None, [])


def tags_by_dimension(*, active_only: bool = False) -> list[tuple[str, str, list]]:
    """[(dimension, its label, [tags])] in the taxonomy's order, every dimension listed (one query)."""
    from erhuo.community.models import Dimension, Tag

    rows = Tag.objects.order_by("sort", "pk")
    if active_only:
        rows = rows.filter(active=True)
    grouped: dict[str, list] = {value: [] for value in Dimension.values}
    for tag in rows:
        grouped.setdefault(tag.dimension, []).append(tag)
    return [(value, str(label), grouped[value]) for value, label in Dimension.choices]


def tag_names(codes) -> dict[str, str]:
    from erhuo.community.models import Tag

    codes = list(codes)
    if not codes:
        return {}
    return dict(Tag.objects.filter(code__in=codes).values_list("code", "name"))


def invites_of(*, group: Group | int | None = None, community: bool = False) -> QuerySet:
    """The invites of a group, or the community's own (no group), newest first."""
    from erhuo.community.models import Invite

    rows = Invite.objects.select_related("group", "created_by")
    if community:
        return rows.filter(group__isnull=True)
    group_id = group if isinstance(group, int) or group is None else group.pk
    return rows.filter(group_id=group_id)


def shared_tags(user, group: Group) -> list[str]:
    """The names of her tags that her group's rule names, or that most of its members carry (why she is there)."""
    from erhuo.community.placement import Centroid, rule_tags

    mine = {code for code, weight in member_profile(user).items() if weight > 0}
    codes = [code for code in rule_tags(group.segment.rule or {}) if code in mine] if group.segment_id else []
    members = group_profiles([group.pk])[group.pk]
    centroid = Centroid.of(profile for _user_id, profile in members)
    if centroid.count:
        common = sorted(
            (code for code, total in centroid.total.items() if code in mine and total / centroid.count >= 0.3),
            key=lambda code: -centroid.total[code],
        )
        codes += [code for code in common if code not in codes]
    names = tag_names(codes[:6])
    return [names[code] for code in codes[:6] if code in names]


# --- drops: who sees community-only items, group feeds, drop targets and suggestions ------------

# Staff who see every item, community-only ones included, as the market and the warehouse did before
# groups existed: whoever sees every order, and operators at the console.
ITEM_STAFF_PERMISSIONS = ("market.view_all_orders", "accounts.view_operator_console")
OPERATOR_PERMISSION = "community.manage_community"
FEED_STATUSES = ("listed", "reserved")


def sees_every_item(user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return any(user.has_perm(permission) for permission in ITEM_STAFF_PERMISSIONS)


def is_community_operator(user) -> bool:
    return user is not None and user.is_authenticated and user.has_perm(OPERATOR_PERMISSION)


def _drop_is_out(now=None, prefix: str = "") -> Q:
    """A drop that members see: live, or scheduled and due (the clock only has not written it yet)."""
    from erhuo.community.models import Drop

    now = now or timezone.now()
    return Q(**{f"{prefix}status": Drop.Status.LIVE}) | Q(
        **{f"{prefix}status": Drop.Status.SCHEDULED, f"{prefix}drop_at__lte": now}
    )


def _item_ids_dropped_to(user, *, now=None) -> QuerySet:
    """Ids of the items dropped (and out) into a group `user` is an active member of: a subquery, not a list."""
    from erhuo.community.models import Drop

    groups = Membership.objects.filter(user_id=user.pk, status=Membership.Status.ACTIVE).values("group_id")
    return (
        Drop.items.through.objects.filter(_drop_is_out(now, prefix="drop__"), drop__groups__in=groups)
        .values("item_id")
        .distinct()
    )


def items_visible_filter(user, *, now=None) -> Q:
    """Which catalog items `user` may see, as a filter for `Item` querysets (one SQL query, whatever the size).

    Platform items and items on both channels: everyone. Community-only items
    (社群款): the active members of a group they were dropped into by a drop
    that is out, their seller, and staff (`ITEM_STAFF_PERMISSIONS`); nobody else.
    """
    from erhuo.catalog.models import Item

    everyone = ~Q(channel=Item.Channel.COMMUNITY)
    if user is None or not user.is_authenticated:
        return everyone
    if sees_every_item(user):
        return Q()
    return everyone | Q(seller_id=user.pk) | Q(pk__in=_item_ids_dropped_to(user, now=now))


def item_visible_in_groups(item, user, *, now=None) -> bool:
    """May `user` see (and so claim) this item? The same rule as `items_visible_filter`, for one item:
    no query for a public item or its seller, one for a member (once per item object), the permission
    check for staff."""
    from erhuo.catalog.models import Item

    if item.channel != Item.Channel.COMMUNITY:
        return True
    if user is None or not user.is_authenticated:
        return False
    if item.seller_id == user.pk:
        return True
    # Asked again for the same page (the page itself, then its claim button): answered from the item.
    known = getattr(item, "_visible_to_members", None)
    if known is None:
        known = item._visible_to_members = {}
    if user.pk not in known:
        known[user.pk] = _item_ids_dropped_to(user, now=now).filter(item_id=item.pk).exists() or sees_every_item(user)
    return known[user.pk]


def drop_target_groups(user) -> QuerySet:
    """Groups `user` may drop items into: every group that is not archived for an operator; the groups she
    leads or assists otherwise."""
    if user is None or not user.is_authenticated:
        return Group.objects.none()
    groups = Group.objects.exclude(status=Group.Status.ARCHIVED).select_related("segment")
    if is_community_operator(user):
        return groups
    led = active_memberships(user).filter(role__in=(Membership.Role.LEADER, Membership.Role.ASSISTANT))
    return groups.filter(pk__in=led.values("group_id"))


def may_drop(user) -> bool:
    return is_community_operator(user) or drop_target_groups(user).exists()


def drops_for(user, *, status: str | None = None, group_id: int | None = None) -> QuerySet:
    """Drops `user` may see, newest first: all for an operator, those into groups she leads otherwise
    (a drop into two groups shows to the leader of either). Items and groups are prefetched."""
    from django.db.models import Count, Prefetch

    from erhuo.catalog.models import Item
    from erhuo.community.models import Drop

    drops = Drop.objects.all()
    if not is_community_operator(user):
        led = active_memberships(user).filter(role__in=(Membership.Role.LEADER, Membership.Role.ASSISTANT))
        drops = drops.filter(
            pk__in=Drop.groups.through.objects.filter(group_id__in=led.values("group_id")).values("drop_id")
        )
    if status:
        drops = drops.filter(status=status)
    if group_id:
        drops = drops.filter(pk__in=Drop.groups.through.objects.filter(group_id=group_id).values("drop_id"))
    return (
        drops.select_related("created_by")
        .annotate(items_count=Count("items", distinct=True))
        .prefetch_related(
            Prefetch("groups", queryset=Group.objects.order_by("pk")),
            Prefetch("items", queryset=Item.objects.select_related("brand").order_by("pk")),
        )
        .order_by("-drop_at", "-pk")
    )


def drop_of(drop_id: int):
    from erhuo.community.models import Drop

    return Drop.objects.filter(pk=drop_id).prefetch_related("groups", "items").first()


def group_feed(group: Group | int, *, limit: int = 60, offset: int = 0, now=None) -> list:
    """The items dropped into the group and on sale, the latest drop first (three queries).

    Each item comes with `dropped_at` (its latest drop into this group that is
    out) and `card_photos` (the photos a card may show). The caller checks that
    the reader belongs to the group: every item here is visible to its members.
    """
    from django.db.models import Max, Prefetch

    from erhuo.catalog.models import Item, ItemPhoto
    from erhuo.community.models import Drop

    group_id = group if isinstance(group, int) else group.pk
    rows = list(
        Drop.items.through.objects.filter(
            _drop_is_out(now, prefix="drop__"),
            drop__groups=group_id,
            item__status__in=FEED_STATUSES,
            item__price_fen__isnull=False,
        )
        .values("item_id")
        .annotate(dropped_at=Max("drop__drop_at"))
        .order_by("-dropped_at", "-item_id")[offset : offset + limit]
    )
    if not rows:
        return []
    kinds = [*ItemPhoto.PUBLIC_KINDS, ItemPhoto.Kind.SELLER]
    items = (
        Item.objects.filter(pk__in=[row["item_id"] for row in rows])
        .select_related("brand")
        .prefetch_related(
            Prefetch(
                "photos",
                queryset=ItemPhoto.objects.filter(kind__in=kinds).order_by("created_at", "pk"),
                to_attr="card_photos",
            )
        )
    )
    by_id = {item.pk: item for item in items}
    feed = []
    for row in rows:
        item = by_id.get(row["item_id"])
        if item is not None:
            item.dropped_at = row["dropped_at"]
            feed.append(item)
    return feed


FEED_PHOTO_ORDER = ("flat", "on_body", "detail", "defect")


def card_photo(item):
    """The photo an item's card shows: the platform's first public photo (flat, on-body, detail, defect);
    for a self-ship item without them, the seller's own."""
    photos = getattr(item, "card_photos", None) or []
    order = {kind: index for index, kind in enumerate(FEED_PHOTO_ORDER)}
    public = sorted((p for p in photos if p.kind in order), key=lambda p: order[p.kind])
    if public:
        return public[0]
    if item.fulfilment == "self_ship":
        return next((p for p in photos if p.kind == "seller"), None)
    return None


@dataclass(frozen=True)
class Suggestion:
    group: Group
    score: float
    reasons: list[str]


def _group_profiles_for(group_ids: list[int]) -> dict[int, list[dict]]:
    """{group id: [member profile, …]} for the groups' active members who carry tags (two queries whatever their
    size). A member without tags (a leader from the staff) tells nothing of what the group wants."""
    found = group_profiles(group_ids)
    return {group_id: [profile for _user_id, profile in pairs if profile] for group_id, pairs in found.items()}


def drop_suggest_groups(*, item=None, items=None, limit: int = 5, among=None) -> list[Suggestion]:
    """The groups an item (or a set) suits best, best first: `Suggestion(group, score, reasons)`.

    The item becomes a tag profile (`item_tags.item_profile`: its category, its
    brand's spending tier, its size); a set of items is the sum of their unit
    profiles. A group's score is the mean cosine of that profile with its
    tagged members' profiles (`placement.Centroid.fit`); a group without any
    yet is scored by its segment's rule. The reasons name the item's tags and the
    share of the group's members who carry each. Archived groups are never
    suggested; `among` (a queryset or ids) limits the candidates, e.g. to the
    groups a leader may drop into. Ties: the bigger group, then the older.
    """
    from erhuo.community import item_tags
    from erhuo.community.models import Tag
    from erhuo.community.placement import Centroid, cosine, rule_profile, rule_tags

    chosen = list(items or ([] if item is None else [item]))
    profile: dict[str, float] = {}
    if len(chosen) == 1:
        profile = item_tags.item_profile(chosen[0])
    elif chosen:
        profile = Centroid.of(item_tags.item_profile(one) for one in chosen).total
    profile = {code: weight for code, weight in profile.items() if weight > 0}
    if not profile:
        return []
    groups = Group.objects.exclude(status=Group.Status.ARCHIVED).select_related("segment")
    if among is not None:
        groups = groups.filter(pk__in=among)
    groups = list(groups.order_by("pk"))
    profiles = _group_profiles_for([group.pk for group in groups])
    names = dict(Tag.objects.filter(code__in=list(profile)).values_list("code", "name"))
    ranked = []
    for group in groups:
        members = profiles.get(group.pk, [])
        if members:
            value = Centroid.of(members).fit(profile)
            reasons = []
            for code in sorted(profile, key=lambda code: (-profile[code], code)):
                carrying = sum(1 for member in members if member.get(code, 0) > 0)
                if carrying:
                    reasons.append(
                        _("%(tag)s: %(percent)s%% of members")
                        % {"tag": names.get(code, code), "percent": round(100 * carrying / len(members))}
                    )
        else:
            rule = group.segment.rule if group.segment_id else {}
            value = cosine(profile, rule_profile(rule)) if rule_tags(rule) else 0.0
            shared = [names.get(code, code) for code in profile if code in rule_tags(rule)]
            reasons = (
                [_("No member tags yet; the group is for %(tags)s") % {"tags": "、".join(shared)}] if shared else []
            )
        if value > 0:
            ranked.append(Suggestion(group=group, score=round(value, 4), reasons=reasons))
    ranked.sort(key=lambda suggestion: (-suggestion.score, -suggestion.group.member_count, suggestion.group.pk))
    return ranked[:limit]


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


def with_my_entries(activities: QuerySet, user) -> QuerySet:
    """Annotate `my_entered` and `my_won` (her giveaway entry) on each activity, in the same query."""
    from django.db.models import Exists, OuterRef

    from erhuo.community.models import ActivityEntry

    mine = ActivityEntry.objects.filter(activity=OuterRef("pk"), user_id=getattr(user, "pk", None), reference="")
    return activities.annotate(my_entered=Exists(mine), my_won=Exists(mine.filter(won=True)))


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


def activity_ids_of_group(group) -> QuerySet:
    """The ids of the group's activities whose clock may have a move to make (a subquery, not a list)."""
    from erhuo.community.models import Activity

    return Activity.objects.filter(
        groups=group, status__in=(Activity.Status.SCHEDULED, Activity.Status.RUNNING)
    ).values("pk")


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


def gift_items_held(item_ids) -> set[int]:
    """Of these items, the ones held as activity gifts (one query; none when no id is given)."""
    from erhuo.community.models import ActivityGift

    item_ids = list(item_ids)
    if not item_ids:
        return set()
    return set(
        ActivityGift.objects.filter(item_id__in=item_ids, released_at__isnull=True).values_list("item_id", flat=True)
    )


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
    from django.db.models import Min

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
        "first_entry_at": entries.aggregate(first=Min("created_at"))["first"],
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
    # The commitment means something only if it came before anyone entered (entries need a created giveaway).
    record["committed_before_entries"] = (
        record["first_entry_at"] is None or record["seed_committed_at"] <= record["first_entry_at"]
    )
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


def themed_drop_items(activity, *, only_out: bool = False, now=None) -> list:
    """The items of the drops under a themed drop, with their drop time and card photos (two queries).

    `only_out`: only drops members can see now (live, or due): a drop scheduled later stays a surprise."""
    from django.db.models import Min, Prefetch

    from erhuo.catalog.models import Item, ItemPhoto
    from erhuo.community.models import Drop

    links = Drop.items.through.objects.filter(drop__activity=activity).exclude(drop__status=Drop.Status.CANCELLED)
    if only_out:
        links = links.filter(_drop_is_out(now, prefix="drop__"))
    rows = list(
        links.values("item_id").annotate(dropped_at=Min("drop__drop_at")).order_by("dropped_at", "item_id")[:200]
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


# --- classes: micro-classes, their sign-ups, materials and participation -----------------------------

CLASS_PAST_SHOWN = 10


def _class_operator(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm("community.manage_community"))


def class_visible_to(user, micro_class) -> bool:
    """Who may read a class: the active members of its groups (their leaders too), its speaker, operators."""
    if user is None or not user.is_authenticated:
        return False
    if micro_class.speaker_id == user.pk or _class_operator(user):
        return True
    return active_memberships(user).filter(group__classes=micro_class).exists()


def class_of(class_id: int):
    """The class with its speaker, who scheduled it, and its groups (two queries)."""
    from django.db.models import Prefetch

    from erhuo.community.models import MicroClass

    return (
        MicroClass.objects.select_related("speaker", "created_by")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("pk")))
        .filter(pk=class_id)
        .first()
    )


def visible_class(user, class_id: int):
    micro_class = class_of(class_id)
    if micro_class is None or not class_visible_to(user, micro_class):
        return None
    return micro_class


def _with_class_counts(classes, user=None):
    from django.db.models import Count, Exists, OuterRef, Q

    from erhuo.community.models import ClassSignup

    classes = classes.select_related("speaker").annotate(
        signed_up_count=Count("signups", filter=Q(signups__cancelled_at__isnull=True), distinct=True),
        attended_count=Count("signups", filter=Q(signups__attended_at__isnull=False), distinct=True),
    )
    if user is not None and user.is_authenticated:
        classes = classes.annotate(
            signed_up_by_me=Exists(
                ClassSignup.objects.filter(micro_class=OuterRef("pk"), user_id=user.pk, cancelled_at__isnull=True)
            )
        )
    return classes


def group_classes(group: Group | int, *, user=None, past_shown: int = CLASS_PAST_SHOWN) -> dict:
    """A group's classes for its page: {"upcoming": on now and to come, soonest first; "past": ended and
    cancelled, latest first}, each with `signed_up_count`, `attended_count` and `signed_up_by_me` (two queries)."""
    from erhuo.community.models import MicroClass

    group_id = group if isinstance(group, int) else group.pk
    classes = _with_class_counts(MicroClass.objects.filter(groups=group_id), user)
    upcoming = classes.filter(status__in=(MicroClass.Status.SCHEDULED, MicroClass.Status.LIVE))
    past = classes.filter(status__in=(MicroClass.Status.ENDED, MicroClass.Status.CANCELLED))
    return {
        "upcoming": list(upcoming.order_by("starts_at", "pk")),
        "past": list(past.order_by("-starts_at", "-pk")[:past_shown]),
    }


def classes_for(user, *, status: str = "", group_id: int | None = None):
    """Classes `user` may read, soonest first: an operator all; a member those of her groups and those she gives."""
    from django.db.models import Q

    from erhuo.community.models import MicroClass

    if user is None or not user.is_authenticated:
        return MicroClass.objects.none()
    classes = MicroClass.objects.all()
    if not _class_operator(user):
        mine = active_memberships(user).values("group_id")
        classes = classes.filter(
            Q(pk__in=MicroClass.groups.through.objects.filter(group_id__in=mine).values("microclass_id"))
            | Q(speaker_id=user.pk)
        )
    if status:
        classes = classes.filter(status=status)
    if group_id:
        classes = classes.filter(
            pk__in=MicroClass.groups.through.objects.filter(group_id=group_id).values("microclass_id")
        )
    return _with_class_counts(classes, user).order_by("starts_at", "pk")


def class_signup_of(micro_class, user):
    """Her sign-up (cancelled or not), if any."""
    from erhuo.community.models import ClassSignup

    if user is None or not user.is_authenticated:
        return None
    return ClassSignup.objects.filter(micro_class=micro_class, user_id=user.pk).first()


def class_participation(micro_class) -> dict:
    """How many signed up (and still come), were reminded, attended, and cancelled: one query."""
    from django.db.models import Count, Q

    from erhuo.community.models import ClassSignup

    live = Q(cancelled_at__isnull=True)
    return ClassSignup.objects.filter(micro_class=micro_class).aggregate(
        signed_up=Count("pk", filter=live),
        reminded=Count("pk", filter=live & Q(reminded_at__isnull=False)),
        attended=Count("pk", filter=Q(attended_at__isnull=False)),
        cancelled=Count("pk", filter=Q(cancelled_at__isnull=False)),
    )


def class_signups(micro_class) -> list:
    """Every sign-up with its member, those still coming first, for the leader's attendance list."""
    from erhuo.community.models import ClassSignup

    rows = list(ClassSignup.objects.filter(micro_class=micro_class).select_related("user").order_by("created_at", "pk"))
    rows.sort(key=lambda row: row.cancelled_at is not None)
    return rows


def class_materials(micro_class) -> list:
    from erhuo.community.models import ClassMaterial

    return list(ClassMaterial.objects.filter(micro_class=micro_class).order_by("sort", "pk"))


def class_schedulable_groups(user):
    """Groups `user` may schedule a class into: every group not archived for an operator; the groups she leads
    or assists otherwise."""
    if user is None or not user.is_authenticated:
        return Group.objects.none()
    groups = Group.objects.exclude(status=Group.Status.ARCHIVED).select_related("segment")
    if _class_operator(user):
        return groups
    led = active_memberships(user).filter(role__in=(Membership.Role.LEADER, Membership.Role.ASSISTANT))
    return groups.filter(pk__in=led.values("group_id"))


def class_speakers(*, limit: int = 200):
    """Who may speak (the EXPERT role), for the form's suggestions; operators may speak too but are not listed."""
    from erhuo.accounts import roles
    from erhuo.accounts.models import User

    return User.objects.filter(groups__name=roles.EXPERT, is_active=True).order_by("display_name", "pk")[:limit]


# --- placement: the community's tag weights, purity, placement runs and proposed moves ------------


def placement_population() -> QuerySet:
    """The places purity is measured on: active members (not leaders nor assistants) of groups not archived."""
    return Membership.objects.filter(status=Membership.Status.ACTIVE, role=Membership.Role.MEMBER).exclude(
        group__status=Group.Status.ARCHIVED
    )


def community_tag_weights() -> dict[str, float]:
    """Each tag's informativeness over the community's members (`placement.tag_weights`), counted by the
    database in two queries: how many members carry any tag, and how many carry each."""
    from django.db.models import Count

    from erhuo.community import placement
    from erhuo.community.models import MemberTag

    tagged = MemberTag.objects.filter(weight__gt=0, user_id__in=placement_population().values("user_id"))
    population = tagged.order_by().values("user_id").distinct().count()
    counts = dict(
        tagged.order_by()
        .values("tag__code")
        .annotate(members=Count("user_id", distinct=True))
        .values_list("tag__code", "members")
    )
    return placement.informativeness(population, counts)


def placement_members(group_ids) -> dict[int, list[tuple[int, dict]]]:
    """{group id: [(user id, profile), …]}: each group's active members, its leader and assistants left out
    (they run the group, they are not its audience). Two queries whatever the groups' size."""
    from erhuo.community.models import MemberTag

    group_ids = list(group_ids)
    result: dict[int, list[tuple[int, dict]]] = {group_id: [] for group_id in group_ids}
    if not group_ids:
        return result
    places = placement_population().filter(group_id__in=group_ids)
    pairs = list(places.order_by("group_id", "pk").values_list("group_id", "user_id"))
    rows = MemberTag.objects.filter(weight__gt=0, user_id__in=places.values("user_id")).values_list(
        "user_id", "tag__code", "weight"
    )
    profiles: dict[int, dict[str, float]] = {}
    for user_id, code, weight in rows:
        profile = profiles.setdefault(user_id, {})
        if weight > profile.get(code, 0.0):
            profile[code] = weight
    for group_id, user_id in pairs:
        result[group_id].append((user_id, profiles.get(user_id, {})))
    return result


def placement_purities(group_ids, *, weights: dict | None = None) -> dict[int, float | None]:
    """{group id: purity}: the mean similarity of two of its members, on profiles weighted by the community's
    tag weights (`placement.weigh`); None under two members. The measure of the placement page, the placement
    runs and bench/placement."""
    from erhuo.community.placement import Centroid, weigh

    weights = community_tag_weights() if weights is None else weights
    purities: dict[int, float | None] = {}
    for group_id, members in placement_members(group_ids).items():
        if len(members) < 2:
            purities[group_id] = None
            continue
        purities[group_id] = Centroid.of(weigh(profile, weights) for _user_id, profile in members).purity()
    return purities


def latest_placement_run():
    from erhuo.community.models import PlacementRun

    return PlacementRun.objects.select_related("created_by").order_by("-created_at", "-pk").first()


def placement_run_of(run_id: int):
    from erhuo.community.models import PlacementRun

    return PlacementRun.objects.select_related("created_by").filter(pk=run_id).first()


def run_purity(purities: dict, group_id: int) -> float | None:
    """A run's stored purity of one group (JSON keys are strings)."""
    value = purities.get(str(group_id))
    return None if value is None else float(value)


def main_tags(user_ids, *, weights: dict, limit: int = 4) -> dict[int, list[str]]:
    """{user id: names of her strongest tags}: weight × informativeness, the most telling first. One query."""
    from erhuo.community.models import MemberTag

    found: dict[int, dict[str, tuple[float, str]]] = {}
    rows = MemberTag.objects.filter(user_id__in=list(user_ids), weight__gt=0).values_list(
        "user_id", "tag__code", "tag__name", "weight"
    )
    for user_id, code, name, weight in rows:
        tags = found.setdefault(user_id, {})
        strength = weight * weights.get(code, 0.0)
        if code not in tags or strength > tags[code][0]:
            tags[code] = (strength, name)
    return {
        user_id: [name for _strength, name in sorted(tags.values(), key=lambda pair: (-pair[0], pair[1]))][:limit]
        for user_id, tags in found.items()
    }


@dataclass
class PlacementGroupRow:
    group: Group
    purity: float | None  # now
    purity_at_run: float | None  # when the latest run computed it
    purity_after: float | None  # as the latest run expects it with all its moves applied
    mixed: bool
    moves: list  # the latest run's moves out of this group, each with `.main_tags`
    moves_in: int = 0  # the latest run's moves into this group (not rejected nor stale)

    @property
    def touched(self) -> bool:
        """The latest run moves members out of it or into it, and measured it before and after."""
        return bool(self.moves or self.moves_in) and None not in (self.purity_at_run, self.purity_after)


def placement_overview() -> dict:
    """The placement page: every group not archived with its purity now, at the latest run and as that run
    expects it; the run's moves under the group they leave, each with the member's main tags. Seven queries
    whatever the number of groups, members and moves."""
    from erhuo.community.models import ProposedMove
    from erhuo.community.placement import MIXED_BELOW

    groups = list(
        Group.objects.exclude(status=Group.Status.ARCHIVED)
        .select_related("segment")
        .order_by("segment__name", "number", "pk")
    )
    weights = community_tag_weights()
    purities = placement_purities([group.pk for group in groups], weights=weights)
    run = latest_placement_run()
    moves = []
    if run is not None:
        moves = list(
            ProposedMove.objects.filter(run=run)
            .select_related("user", "from_group", "to_group", "decided_by")
            .order_by("pk")
        )
    tags = main_tags({move.user_id for move in moves}, weights=weights)
    by_group: dict[int, list] = {}
    coming: dict[int, int] = {}
    for move in moves:
        move.main_tags = tags.get(move.user_id, [])
        by_group.setdefault(move.from_group_id, []).append(move)
        if move.status in (ProposedMove.Status.PROPOSED, ProposedMove.Status.APPROVED):
            coming[move.to_group_id] = coming.get(move.to_group_id, 0) + 1
    rows = []
    for group in groups:
        purity = purities.get(group.pk)
        rows.append(
            PlacementGroupRow(
                group=group,
                purity=purity,
                purity_at_run=run_purity(run.purity_before, group.pk) if run else None,
                purity_after=run_purity(run.purity_after, group.pk) if run else None,
                mixed=purity is not None and purity < MIXED_BELOW,
                moves=by_group.pop(group.pk, []),
                moves_in=coming.get(group.pk, 0),
            )
        )
    counts = {status: 0 for status in ProposedMove.Status.values}
    for move in moves:
        counts[move.status] += 1
    return {
        "run": run,
        "rows": rows,
        "moves": moves,
        "counts": counts,
        "mixed_below": MIXED_BELOW,
        # Moves out of groups archived since the run: listed apart, so none is lost from sight.
        "other_moves": [move for group_moves in by_group.values() for move in group_moves],
    }


# --- personal data (erhuo/web/privacy.py) -----------------------------------------------------


def personal_data_export(*, user) -> dict:
    """Her tags, questionnaire answers, groups, class sign-ups and activity entries."""
    from erhuo.community.models import ActivityEntry, ClassSignup, MemberProfile, MemberTag

    profile = MemberProfile.objects.filter(user=user).first()
    return {
        "answers": profile.answers if profile else {},
        "tags": [
            {"tag": name, "dimension": dimension, "source": source, "weight": round(weight, 3)}
            for name, dimension, source, weight in MemberTag.objects.filter(user=user)
            .order_by("tag__dimension", "tag__sort", "pk")
            .values_list("tag__name", "tag__dimension", "source", "weight")
        ],
        "groups": [
            {"group": name, "role": role, "status": status, "joined_at": joined.isoformat() if joined else None}
            for name, role, status, joined in Membership.objects.filter(user=user)
            .order_by("created_at", "pk")
            .values_list("group__name", "role", "status", "joined_at")
        ],
        "classes": [
            {"class": title, "starts_at": starts.isoformat(), "attended": attended is not None}
            for title, starts, attended in ClassSignup.objects.filter(user=user)
            .order_by("created_at", "pk")
            .values_list("micro_class__title", "micro_class__starts_at", "attended_at")
        ],
        "activities": [
            {"activity": title, "won": won, "reference": reference, "created_at": created.isoformat()}
            for title, won, reference, created in ActivityEntry.objects.filter(user=user)
            .order_by("created_at", "pk")
            .values_list("activity__title", "won", "reference", "created_at")
        ],
    }
