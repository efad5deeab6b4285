"""Tags, member tags, segments, groups, memberships, invites and admission: every write of them.

Capacity is kept under the group's row lock (SELECT … FOR UPDATE on
PostgreSQL; on SQLite every write transaction is IMMEDIATE, so writers are
serialised anyway): `Group.member_count` counts the active members, the
leader and assistants included; a pending join is not counted. The join that
takes the last place moves the group open → full and, when its segment has
no other open group with room, opens the next one ("女装·轻奢 3群") in the
same transaction, under the segment's lock, so two groups filling at once
open one next group, not two. Locks are always taken groups first (in id
order), then the segment.

Admission: a newcomer opens an invite, answers the questionnaire
(`QUESTIONNAIRE`), her answers become questionnaire tags, and she is placed
by `erhuo.community.placement.rank` over the open groups of active segments,
with up to three other matching groups offered.
"""

import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from erhuo.community import placement, selectors
from erhuo.community.models import (
    DEFAULT_GROUP_CAPACITY,
    Dimension,
    Group,
    Invite,
    MemberProfile,
    Membership,
    MemberTag,
    Segment,
    Tag,
)
from erhuo.core import events, states
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed

MANAGE_PERMISSION = "community.manage_community"
G = Group.Status
M = Membership.Status

CODE_LENGTH = 8
# No 0/o, 1/l/i: a code read aloud or typed from a poster is not mistaken.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RULE_KEYS = ("all", "any", "none")
MAX_RULE_TAGS = 20
MIN_CAPACITY = 2
MAX_CAPACITY = DEFAULT_GROUP_CAPACITY
REASON_MAX = 200
MAX_MUTE = timedelta(days=30)
OFFERED_MAX = 3


def _invalid(field_name: str, message, code: str = "validation_error") -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field_name: [message]})


def is_operator(user) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_perm(MANAGE_PERMISSION)
    )


def _require_operator(actor) -> None:
    if not is_operator(actor):
        raise PermissionRefused(_("Only community operators can do this."), code="not_operator")


def require_group_admin(actor, group: Group) -> None:
    """The group's leader or one of its assistants, or an operator; a leader of another group is told so."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionRefused(_("Log in first."), code="login_required")
    if is_operator(actor) or selectors.leads(actor, group):
        return
    leads_elsewhere = Membership.objects.filter(
        user=actor, status=M.ACTIVE, role__in=(Membership.Role.LEADER, Membership.Role.ASSISTANT)
    ).exists()
    if leads_elsewhere:
        raise PermissionRefused(
            _("This is another leader's group: you can only manage your own."), code="not_your_group"
        )
    raise PermissionRefused(
        _("Only the group's leader, its assistants or an operator can do this."), code="not_group_admin"
    )


def _is_banned(user) -> bool:
    return MemberProfile.objects.filter(user=user, banned_at__isnull=False).exists()


def _random_code(model, field_name: str) -> str:
    for _attempt in range(20):
        code = get_random_string(CODE_LENGTH, CODE_ALPHABET)
        if not model.objects.filter(**{field_name: code}).exists():
            return code
    raise Conflict(_("Could not make a unique code; try again."), code="code_collision")  # pragma: no cover


def _clean_text(value, *, field_name: str, max_length: int, required: bool = False, label=None) -> str:
    value = (value or "").strip()
    if required and not value:
        raise _invalid(
            field_name, _("%(label)s is required.") % {"label": label or field_name}, f"{field_name}_required"
        )
    if len(value) > max_length:
        raise _invalid(
            field_name,
            _("%(label)s is at most %(count)s characters.") % {"label": label or field_name, "count": max_length},
            f"{field_name}_too_long",
        )
    return value


# --- tags --------------------------------------------------------------------------------------


def tag_create(*, actor, dimension: str, code: str, name: str, sort: int = 0) -> Tag:
    _require_operator(actor)
    if dimension not in Dimension.values:
        raise _invalid("dimension", _("Choose one of the dimensions."), "dimension_unknown")
    code = (code or "").strip().lower()
    if not code or len(code) > 40 or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in code):
        raise _invalid("code", _("A code is 1–40 letters, digits, “-” or “_”."), "tag_code_invalid")
    name = _clean_text(name, field_name="name", max_length=40, required=True, label=_("Name"))
    if Tag.objects.filter(code=code).exists():
        raise Conflict(_("A tag with the code “%(code)s” exists already.") % {"code": code}, code="tag_code_taken")
    if Tag.objects.filter(dimension=dimension, name=name).exists():
        raise Conflict(_("“%(name)s” exists already in this dimension.") % {"name": name}, code="tag_name_taken")
    try:
        with transaction.atomic():
            return Tag.objects.create(dimension=dimension, code=code, name=name, sort=max(0, int(sort or 0)))
    except IntegrityError as error:  # a concurrent twin
        raise Conflict(_("This tag exists already."), code="tag_code_taken") from error


def tag_update(
    *, actor, tag_id: int, name: str | None = None, sort: int | None = None, active: bool | None = None
) -> Tag:
    """Rename, reorder, deactivate or reactivate a tag. Its code never changes (segment rules name it)."""
    _require_operator(actor)
    tag = Tag.objects.filter(pk=tag_id).first()
    if tag is None:
        raise NotFound(_("No such tag."), code="tag_not_found")
    if name is not None:
        name = _clean_text(name, field_name="name", max_length=40, required=True, label=_("Name"))
        if Tag.objects.filter(dimension=tag.dimension, name=name).exclude(pk=tag.pk).exists():
            raise Conflict(_("“%(name)s” exists already in this dimension.") % {"name": name}, code="tag_name_taken")
        tag.name = name
    if sort is not None:
        tag.sort = max(0, int(sort))
    if active is not None:
        tag.active = bool(active)
    tag.save()
    return tag


# The taxonomy a new installation starts with (codes are stable; names are what members read).
DEFAULT_TAGS: list[tuple[str, str, str]] = [
    (Dimension.CATEGORY, "womenswear", "女装"),
    (Dimension.CATEGORY, "bags", "包袋"),
    (Dimension.CATEGORY, "shoes", "鞋履"),
    (Dimension.CATEGORY, "jewellery", "珠宝配饰"),
    (Dimension.CATEGORY, "beauty", "美妆护肤"),
    (Dimension.CATEGORY, "maternity", "孕产"),
    (Dimension.CATEGORY, "baby", "母婴用品"),
    (Dimension.CATEGORY, "kidswear", "童装"),
    (Dimension.CATEGORY, "toys-books", "玩具绘本"),
    (Dimension.CATEGORY, "home", "家居"),
    (Dimension.SIZE, "size-xs", "XS"),
    (Dimension.SIZE, "size-s", "S"),
    (Dimension.SIZE, "size-m", "M"),
    (Dimension.SIZE, "size-l", "L"),
    (Dimension.SIZE, "size-xl", "XL"),
    (Dimension.SIZE, "size-xxl", "XXL"),
    (Dimension.SIZE, "shoe-35", "35码鞋"),
    (Dimension.SIZE, "shoe-36", "36码鞋"),
    (Dimension.SIZE, "shoe-37", "37码鞋"),
    (Dimension.SIZE, "shoe-38", "38码鞋"),
    (Dimension.SIZE, "shoe-39", "39码鞋"),
    (Dimension.SIZE, "shoe-40", "40码鞋"),
    (Dimension.SIZE, "shoe-41", "41码鞋"),
    (Dimension.STYLE, "minimal", "简约"),
    (Dimension.STYLE, "french", "法式"),
    (Dimension.STYLE, "street", "街头"),
    (Dimension.STYLE, "vintage", "复古"),
    (Dimension.STYLE, "sporty", "运动"),
    (Dimension.CHILD_AGE, "kids-0-3", "0–3岁"),
    (Dimension.CHILD_AGE, "kids-4-6", "4–6岁"),
    (Dimension.CHILD_AGE, "kids-7-12", "7–12岁"),
    (Dimension.CHILD_AGE, "kids-13-16", "13–16岁"),
    (Dimension.SPENDING, "budget", "平价"),
    (Dimension.SPENDING, "midrange", "品质"),
    (Dimension.SPENDING, "premium", "轻奢"),
    (Dimension.SPENDING, "luxury", "奢侈品"),
    (Dimension.LIFESTYLE, "working-mum", "职场妈妈"),
    (Dimension.LIFESTYLE, "stay-home-mum", "全职妈妈"),
    (Dimension.LIFESTYLE, "expecting", "备孕/孕期"),
    (Dimension.CITY, "shanghai", "上海"),
    (Dimension.CITY, "beijing", "北京"),
    (Dimension.CITY, "hangzhou", "杭州"),
    (Dimension.CITY, "shenzhen", "深圳"),
    (Dimension.CITY, "guangzhou", "广州"),
    (Dimension.CITY, "chengdu", "成都"),
    (Dimension.CITY, "other-city", "其他城市"),
]


def taxonomy_seed() -> int:
    """Create the default tags that do not exist yet (by code); returns how many were created. Idempotent."""
    existing = set(Tag.objects.values_list("code", flat=True))
    names = set(Tag.objects.values_list("dimension", "name"))
    created = 0
    for sort, (dimension, code, name) in enumerate(DEFAULT_TAGS):
        if code in existing or (dimension, name) in names:
            continue
        Tag.objects.create(dimension=dimension, code=code, name=name, sort=sort)
        created += 1
    return created


# --- member tags ---------------------------------------------------------------------------------


def _clean_weight(code: str, weight) -> float:
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise _invalid("weights", _("The weight of “%(code)s” is not a number.") % {"code": code}, "weight_invalid")
    weight = float(weight)
    if not math.isfinite(weight):
        raise _invalid("weights", _("The weight of “%(code)s” is not a number.") % {"code": code}, "weight_invalid")
    return min(1.0, max(0.0, weight))


def member_tags_set(*, user, source: str, weights: dict[str, float], actor=None) -> None:
    """Replace every tag of `user` from `source` with `weights` ({tag code: weight}).

    Weights are clamped into 0..1 (a tag weighing 0 is dropped); a code that is
    not an offered tag is refused (`unknown_tag`) with nothing changed. Operator
    tags need an operator.
    """
    if source not in MemberTag.Source.values:
        raise _invalid("source", _("Unknown source of tags."), "source_unknown")
    if source == MemberTag.Source.OPERATOR:
        _require_operator(actor)
    cleaned = {str(code): _clean_weight(str(code), weight) for code, weight in (weights or {}).items()}
    tags = {tag.code: tag for tag in Tag.objects.filter(code__in=list(cleaned), active=True)}
    unknown = sorted(code for code in cleaned if code not in tags)
    if unknown:
        raise _invalid(
            "weights",
            _("Unknown tags: %(codes)s.") % {"codes": ", ".join(code[:40] for code in unknown[:5])},
            "unknown_tag",
        )
    with transaction.atomic():
        MemberTag.objects.filter(user=user, source=source).delete()
        MemberTag.objects.bulk_create(
            [
                MemberTag(user=user, tag=tags[code], source=source, weight=weight)
                for code, weight in cleaned.items()
                if weight > 0
            ]
        )


# --- segments ------------------------------------------------------------------------------------


def _clean_rule(rule) -> dict:
    if rule is None:
        rule = {}
    if not isinstance(rule, dict):
        raise _invalid("rule", _("A rule names tags under “all”, “any” and “none”."), "rule_invalid")
    unknown_keys = sorted(set(rule) - set(RULE_KEYS))
    if unknown_keys:
        raise _invalid(
            "rule",
            _("A rule has only “all”, “any” and “none”, not %(keys)s.") % {"keys": ", ".join(map(str, unknown_keys))},
            "rule_invalid",
        )
    cleaned: dict[str, list[str]] = {}
    for key in RULE_KEYS:
        codes = rule.get(key) or []
        if isinstance(codes, str) or not isinstance(codes, list | tuple):
            raise _invalid("rule", _("Each part of a rule is a list of tag codes."), "rule_invalid")
        unique = []
        for code in codes:
            if not isinstance(code, str):
                raise _invalid("rule", _("Each part of a rule is a list of tag codes."), "rule_invalid")
            if code not in unique:
                unique.append(code)
        if unique:
            cleaned[key] = unique
    every = [code for codes in cleaned.values() for code in codes]
    if len(every) > MAX_RULE_TAGS:
        raise _invalid("rule", _("A rule names at most %(count)s tags.") % {"count": MAX_RULE_TAGS}, "rule_invalid")
    known = set(Tag.objects.filter(code__in=every, active=True).values_list("code", flat=True))
    unknown = sorted(set(every) - known)
    if unknown:
        raise _invalid(
            "rule", _("Unknown tags: %(codes)s.") % {"codes": ", ".join(c[:40] for c in unknown[:5])}, "unknown_tag"
        )
    wanted = set(cleaned.get("all", [])) | set(cleaned.get("any", []))
    clash = sorted(wanted & set(cleaned.get("none", [])))
    if clash:
        raise _invalid(
            "rule",
            _("A tag cannot be both wanted and excluded: %(codes)s.") % {"codes": ", ".join(clash)},
            "rule_contradiction",
        )
    return cleaned


def _clean_capacity(capacity, *, field_name: str = "capacity") -> int:
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        try:
            capacity = int(capacity)
        except (TypeError, ValueError):
            raise _invalid(field_name, _("Capacity is a whole number."), "capacity_invalid") from None
    if capacity < MIN_CAPACITY or capacity > MAX_CAPACITY:
        raise _invalid(
            field_name,
            _("A group holds %(min)s to %(max)s members.") % {"min": MIN_CAPACITY, "max": MAX_CAPACITY},
            "capacity_invalid",
        )
    return capacity


def _clean_slug(slug) -> str:
    slug = (slug or "").strip().lower()
    if not slug or len(slug) > 40 or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in slug):
        raise _invalid("slug", _("A code is 1–40 letters, digits, “-” or “_”."), "slug_invalid")
    return slug


def segment_create(
    *, actor, name: str, slug: str, rule: dict, capacity: int = DEFAULT_GROUP_CAPACITY, description: str = ""
) -> Segment:
    _require_operator(actor)
    name = _clean_text(name, field_name="name", max_length=40, required=True, label=_("Name"))
    slug = _clean_slug(slug)
    description = _clean_text(description, field_name="description", max_length=200, label=_("Description"))
    capacity = _clean_capacity(capacity)
    rule = _clean_rule(rule)
    if Segment.objects.filter(name=name).exists():
        raise Conflict(_("A segment named “%(name)s” exists already.") % {"name": name}, code="segment_name_taken")
    if Segment.objects.filter(slug=slug).exists():
        raise Conflict(
            _("A segment with the code “%(slug)s” exists already.") % {"slug": slug}, code="segment_slug_taken"
        )
    try:
        with transaction.atomic():
            return Segment.objects.create(name=name, slug=slug, rule=rule, capacity=capacity, description=description)
    except IntegrityError as error:
        raise Conflict(_("This segment exists already."), code="segment_name_taken") from error


def segment_update(
    *,
    actor,
    segment_id: int,
    name: str | None = None,
    rule: dict | None = None,
    capacity: int | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> Segment:
    """Rename, re-rule, resize (for groups opened from now on) or close a segment to newcomers."""
    _require_operator(actor)
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        raise NotFound(_("No such segment."), code="segment_not_found")
    if name is not None:
        name = _clean_text(name, field_name="name", max_length=40, required=True, label=_("Name"))
        if Segment.objects.filter(name=name).exclude(pk=segment.pk).exists():
            raise Conflict(_("A segment named “%(name)s” exists already.") % {"name": name}, code="segment_name_taken")
        segment.name = name
    if rule is not None:
        segment.rule = _clean_rule(rule)
    if capacity is not None:
        segment.capacity = _clean_capacity(capacity)
    if description is not None:
        segment.description = _clean_text(description, field_name="description", max_length=200, label=_("Description"))
    if active is not None:
        segment.active = bool(active)
    segment.save()
    return segment


# --- groups --------------------------------------------------------------------------------------


def _lock_group(group_id) -> Group:
    # `of=("self",)` and no ordering: the default ordering joins the (nullable) segment, which PostgreSQL
    # refuses to lock.
    group = Group.objects.select_for_update(of=("self",)).order_by().filter(pk=group_id).first()
    if group is None:
        raise NotFound(_("No such group."), code="group_not_found")
    return group


def _has_room(group: Group) -> bool:
    return group.status == G.OPEN and group.member_count < group.capacity


def _create_group_locked(*, segment, leader, name, capacity, join_policy, wechat_group_id, actor) -> Group:
    """Create a group (the segment's row locked by the caller) with its leader as an active member."""
    number = None
    if segment is not None:
        number = (segment.groups.aggregate(top=Max("number"))["top"] or 0) + 1
        # Group names are Chinese whatever the operator's language ("女装·轻奢 3群"): members know them so.
        name = name or f"{segment.name} {number}群"
    now = timezone.now()
    group = Group.objects.create(
        segment=segment,
        number=number,
        name=name[:60],
        leader=leader,
        capacity=capacity,
        join_policy=join_policy,
        wechat_group_id=wechat_group_id,
        invite_code=_random_code(Group, "invite_code"),
        member_count=1,
    )
    states.record_start(group, actor=actor)
    membership = Membership.objects.create(
        group=group,
        user=leader,
        role=Membership.Role.LEADER,
        status=M.ACTIVE,
        source=Membership.Source.OPERATOR,
        joined_at=now,
        status_changed_at=now,
    )
    states.record_start(membership, actor=actor)
    events.emit("community_group_opened", group_id=group.pk, segment_id=getattr(segment, "pk", None))
    events.emit("community_member_joined", group_id=group.pk, user_id=leader.pk)
    return group


def group_create(
    *,
    actor,
    leader,
    segment: Segment | None = None,
    name: str = "",
    capacity: int | None = None,
    join_policy: str = Group.JoinPolicy.OPEN,
    wechat_group_id: str = "",
) -> Group:
    """Open a group: numbered within its segment ("女装·轻奢 2群" unless named), its leader an active member."""
    _require_operator(actor)
    if leader is None or not leader.is_active:
        raise _invalid("leader", _("Choose an active member to lead the group."), "leader_invalid")
    if _is_banned(leader):
        raise PermissionRefused(_("A member banned from the community cannot lead a group."), code="banned")
    name = _clean_text(name, field_name="name", max_length=60, label=_("Name"))
    if segment is None and not name:
        raise _invalid("name", _("A group outside any segment needs a name."), "name_required")
    if join_policy not in Group.JoinPolicy.values:
        raise _invalid("join_policy", _("Choose how members join."), "join_policy_invalid")
    wechat_group_id = _clean_text(wechat_group_id, field_name="wechat_group_id", max_length=64)
    if capacity is None:
        capacity = segment.capacity if segment is not None else DEFAULT_GROUP_CAPACITY
    capacity = _clean_capacity(capacity)
    with transaction.atomic():
        if segment is not None:
            segment = Segment.objects.select_for_update().get(pk=segment.pk)
        if name and Group.objects.filter(name=name).exists():
            raise Conflict(_("A group named “%(name)s” exists already.") % {"name": name}, code="group_name_taken")
        return _create_group_locked(
            segment=segment,
            leader=leader,
            name=name,
            capacity=capacity,
            join_policy=join_policy,
            wechat_group_id=wechat_group_id,
            actor=actor,
        )


def _open_next_locked(segment: Segment, *, actor=None) -> Group:
    last = segment.groups.order_by("-number", "-pk").select_related("leader").first()
    leader = last.leader if last is not None else actor
    if leader is None:
        raise ValidationFailed(
            _("This segment has no group yet: create its first group with a leader."), code="no_leader"
        )
    return _create_group_locked(
        segment=segment,
        leader=leader,
        name="",
        capacity=segment.capacity,
        join_policy=last.join_policy if last is not None else Group.JoinPolicy.OPEN,
        wechat_group_id="",
        actor=actor,
    )


def group_open_next(*, segment: Segment, actor=None) -> Group:
    """Open the segment's next group: the next number, the same leader as its last group, the segment's capacity."""
    if actor is not None:
        _require_operator(actor)
    with transaction.atomic():
        segment = Segment.objects.select_for_update().get(pk=segment.pk)
        return _open_next_locked(segment, actor=actor)


def _ensure_room_in_segment(segment_id: int | None, *, actor=None) -> Group | None:
    """After a group filled: open the segment's next group unless another open group has room (segment locked)."""
    if segment_id is None:
        return None
    segment = Segment.objects.select_for_update().get(pk=segment_id)
    if not segment.active:
        return None
    if segment.groups.filter(status=G.OPEN, member_count__lt=F("capacity")).exists():
        return None
    return _open_next_locked(segment, actor=actor)


def _count_in(group: Group, *, actor=None) -> None:
    """One more active member in the locked `group`; it goes full (and the next opens) at capacity."""
    count = group.member_count + 1
    if count >= group.capacity and group.status == G.OPEN:
        states.transition(group, to=G.FULL, actor=actor, updates={"member_count": count}, note="capacity reached")
        _ensure_room_in_segment(group.segment_id, actor=actor)
    else:
        Group.objects.filter(pk=group.pk).update(member_count=count, updated_at=timezone.now())
        group.member_count = count


def _count_out(group: Group, *, actor=None) -> None:
    """One active member fewer in the locked `group`; a full group with room again reopens."""
    count = max(0, group.member_count - 1)
    if group.status == G.FULL and count < group.capacity:
        states.transition(group, to=G.OPEN, actor=actor, updates={"member_count": count}, note="a place freed")
    else:
        Group.objects.filter(pk=group.pk).update(member_count=count, updated_at=timezone.now())
        group.member_count = count


def group_update(
    *,
    actor,
    group_id: int,
    name: str | None = None,
    announcement: str | None = None,
    capacity: int | None = None,
    join_policy: str | None = None,
    wechat_group_id: str | None = None,
) -> Group:
    """Leaders edit the announcement and how members join; operators also the name, capacity and WeChat id."""
    with transaction.atomic():
        group = _lock_group(group_id)
        require_group_admin(actor, group)
        operator_only = (name, capacity, wechat_group_id)
        if any(value is not None for value in operator_only):
            _require_operator(actor)
        if group.status == G.ARCHIVED:
            raise Conflict(_("This group is archived."), code="group_archived")
        if name is not None:
            name = _clean_text(name, field_name="name", max_length=60, required=True, label=_("Name"))
            if Group.objects.filter(name=name).exclude(pk=group.pk).exists():
                raise Conflict(_("A group named “%(name)s” exists already.") % {"name": name}, code="group_name_taken")
            group.name = name
        if announcement is not None:
            group.announcement = _clean_text(
                announcement, field_name="announcement", max_length=1000, label=_("Announcement")
            )
        if join_policy is not None:
            if join_policy not in Group.JoinPolicy.values:
                raise _invalid("join_policy", _("Choose how members join."), "join_policy_invalid")
            group.join_policy = join_policy
        if wechat_group_id is not None:
            group.wechat_group_id = _clean_text(wechat_group_id, field_name="wechat_group_id", max_length=64)
        fields = ["name", "announcement", "join_policy", "wechat_group_id", "updated_at"]
        if capacity is not None:
            capacity = _clean_capacity(capacity)
            if capacity < group.member_count:
                raise _invalid(
                    "capacity",
                    _("The group has %(count)s members already.") % {"count": group.member_count},
                    "capacity_below_members",
                )
            group.capacity = capacity
            fields.append("capacity")
        group.save(update_fields=fields)
        if capacity is not None:
            if group.status == G.OPEN and group.member_count >= group.capacity:
                states.transition(group, to=G.FULL, actor=actor, note="capacity lowered")
                _ensure_room_in_segment(group.segment_id, actor=actor)
            elif group.status == G.FULL and group.member_count < group.capacity:
                states.transition(group, to=G.OPEN, actor=actor, note="capacity raised")
        return group


def group_archive(*, actor, group_id: int, reason: str = "") -> Group:
    """Operators close a group for good: nobody joins it any more (its members stay, read-only)."""
    _require_operator(actor)
    with transaction.atomic():
        group = _lock_group(group_id)
        if group.status == G.ARCHIVED:
            raise Conflict(_("This group is archived already."), code="group_archived")
        states.transition(group, to=G.ARCHIVED, actor=actor, note=(reason or "")[:REASON_MAX])
        return group


# --- memberships ---------------------------------------------------------------------------------


def _refuse_admission(group: Group, user) -> None:
    if group.status == G.ARCHIVED:
        raise Conflict(_("This group is archived and takes no new members."), code="group_archived")
    if _is_banned(user):
        raise PermissionRefused(_("This member is banned from the community."), code="banned")
    if Membership.objects.filter(group=group, user=user, status__in=Membership.LIVE).exists():
        raise Conflict(_("She is already in this group (or waiting for the leader)."), code="already_member")
    if not _has_room(group):
        raise Conflict(
            _("“%(group)s” is full (%(count)s/%(capacity)s).")
            % {"group": group.name, "count": group.member_count, "capacity": group.capacity},
            code="group_full",
        )


def membership_add(
    *, group_id: int, user, source: str, actor=None, role: str = Membership.Role.MEMBER, fit: float | None = None
) -> Membership:
    """Put `user` in the group. A group that approves each join makes her wait (not counted) unless an operator
    or a move put her there. Refused with nothing changed: archived, full, banned, already a live member."""
    if source not in Membership.Source.values:
        raise _invalid("source", _("Unknown way of joining."), "source_unknown")
    if role not in Membership.Role.values:
        raise _invalid("role", _("Unknown role."), "role_unknown")
    if user is None or not getattr(user, "pk", None) or not user.is_active:
        raise _invalid("user", _("Only an active account can join a group."), "user_invalid")
    with transaction.atomic():
        group = _lock_group(group_id)
        _refuse_admission(group, user)
        waits = group.join_policy == Group.JoinPolicy.APPROVAL and source in (
            Membership.Source.PLACEMENT,
            Membership.Source.INVITE,
            Membership.Source.CHOSEN,
        )
        now = timezone.now()
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    group=group,
                    user=user,
                    role=role,
                    status=M.PENDING if waits else M.ACTIVE,
                    source=source,
                    fit=fit,
                    joined_at=None if waits else now,
                    status_changed_at=now,
                )
        except IntegrityError as error:  # a concurrent twin took her live place first
            raise Conflict(_("She is already in this group."), code="already_member") from error
        states.record_start(membership, actor=actor)
        if waits:
            events.emit("community_join_requested", group_id=group.pk, user_id=user.pk, membership_id=membership.pk)
        else:
            _count_in(group, actor=actor)
            events.emit("community_member_joined", group_id=group.pk, user_id=user.pk)
        return membership


def notify_admins_of_join(membership_id) -> None:
    """An in-app notice to the group's leader and assistants that a member waits for approval (once each)."""
    from django.urls import reverse

    from erhuo.notifications.services import notices_send, site_language

    membership = Membership.objects.select_related("group", "user").filter(pk=membership_id, status=M.PENDING).first()
    if membership is None:  # decided (or gone) before the notice went out
        return
    group = membership.group
    admins = Membership.objects.filter(
        group=group, status=M.ACTIVE, role__in=(Membership.Role.LEADER, Membership.Role.ASSISTANT)
    ).values_list("user_id", flat=True)
    with site_language():
        notices_send(
            users=list(admins),
            kind="join_requested",
            title=_("%(member)s asks to join %(group)s")
            % {"member": membership.user.display_name, "group": group.name},
            body=_("Approve or decline her on the group's admin page."),
            url=reverse("community:group_admin", args=[group.pk]) + "#pending",
            data={"group_id": group.pk, "membership_id": membership.pk},
            key=f"join_requested:{membership.pk}",
        )


def _load_membership(membership_id) -> Membership:
    membership = Membership.objects.filter(pk=membership_id).first()
    if membership is None:
        raise NotFound(_("No such membership."), code="membership_not_found")
    return membership


def _relock(membership_id, group_id) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership_id)
    if membership.group_id != group_id:  # pragma: no cover - a membership never changes group
        raise states.StateChanged()
    return membership


def membership_move(*, membership_id: int, to_group_id: int, actor, fit: float | None = None) -> Membership:
    """An operator moves an active member to another group: the old place MOVED, a new ACTIVE one (source MOVE)."""
    _require_operator(actor)
    found = _load_membership(membership_id)
    if found.group_id == to_group_id:
        raise Conflict(_("She is in this group already."), code="already_member")
    with transaction.atomic():
        locked = {gid: _lock_group(gid) for gid in sorted({found.group_id, to_group_id})}
        source_group, target = locked[found.group_id], locked[to_group_id]
        membership = _relock(found.pk, source_group.pk)
        if membership.status != M.ACTIVE:
            raise Conflict(_("Only an active member can be moved."), code="membership_not_active")
        if membership.role == Membership.Role.LEADER:
            raise Conflict(
                _("A group's leader cannot be moved; give the group another leader first."), code="leader_cannot_move"
            )
        _refuse_admission(target, membership.user)
        states.transition(membership, to=M.MOVED, actor=actor, note=f"to group {target.pk}")
        _count_out(source_group, actor=actor)
        now = timezone.now()
        moved = Membership.objects.create(
            group=target,
            user=membership.user,
            role=Membership.Role.MEMBER,
            status=M.ACTIVE,
            source=Membership.Source.MOVE,
            fit=fit,
            joined_at=now,
            status_changed_at=now,
        )
        states.record_start(moved, actor=actor, note=f"from group {source_group.pk}")
        _count_in(target, actor=actor)
        events.emit("community_member_left", group_id=source_group.pk, user_id=membership.user_id)
        events.emit("community_member_joined", group_id=target.pk, user_id=membership.user_id)
        return moved


def membership_decide(*, membership_id: int, actor, approve: bool, reason: str = "") -> Membership:
    """The leader (an assistant, an operator) admits or turns away a pending join."""
    found = _load_membership(membership_id)
    reason = _clean_text(reason, field_name="reason", max_length=REASON_MAX, label=_("Reason"))
    with transaction.atomic():
        group = _lock_group(found.group_id)
        require_group_admin(actor, group)
        membership = _relock(found.pk, group.pk)
        if membership.status != M.PENDING:
            raise Conflict(_("This join was decided already."), code="not_pending")
        if not approve:
            states.transition(membership, to=M.REJECTED, actor=actor, note=reason)
            events.emit("community_join_rejected", group_id=group.pk, user_id=membership.user_id)
            return membership
        if group.status == G.ARCHIVED:
            raise Conflict(_("This group is archived and takes no new members."), code="group_archived")
        if _is_banned(membership.user):
            raise PermissionRefused(_("This member is banned from the community."), code="banned")
        if not _has_room(group):
            raise Conflict(
                _("“%(group)s” is full (%(count)s/%(capacity)s).")
                % {"group": group.name, "count": group.member_count, "capacity": group.capacity},
                code="group_full",
            )
        states.transition(membership, to=M.ACTIVE, actor=actor, note=reason, updates={"joined_at": timezone.now()})
        _count_in(group, actor=actor)
        events.emit("community_member_joined", group_id=group.pk, user_id=membership.user_id)
        return membership


def membership_leave(*, membership_id: int, user) -> Membership:
    """She leaves a group (or withdraws her pending join). A leader hands the group over first."""
    found = _load_membership(membership_id)
    if user is None or found.user_id != getattr(user, "pk", None):
        raise NotFound(_("No such membership."), code="membership_not_found")
    with transaction.atomic():
        group = _lock_group(found.group_id)
        membership = _relock(found.pk, group.pk)
        if membership.status not in Membership.LIVE:
            raise Conflict(_("You are no longer in this group."), code="membership_not_active")
        if membership.role == Membership.Role.LEADER:
            raise Conflict(
                _("The leader cannot leave her own group; ask an operator to hand it over."), code="leader_cannot_leave"
            )
        was_active = membership.status == M.ACTIVE
        states.transition(membership, to=M.LEFT, actor=user)
        if was_active:
            _count_out(group, actor=user)
            events.emit("community_member_left", group_id=group.pk, user_id=membership.user_id)
        return membership


def _refuse_acting_on(actor, membership: Membership) -> None:
    if membership.user_id == getattr(actor, "pk", None):
        raise Conflict(_("You cannot do this to yourself."), code="own_membership")
    if membership.role == Membership.Role.LEADER:
        raise Conflict(_("The group's leader cannot be removed or muted."), code="leader_protected")
    if membership.role == Membership.Role.ASSISTANT and not is_operator(actor):
        leads_it = Membership.objects.filter(
            group_id=membership.group_id, user=actor, status=M.ACTIVE, role=Membership.Role.LEADER
        ).exists()
        if not leads_it:
            raise PermissionRefused(
                _("Only the leader or an operator can act on an assistant."), code="assistant_protected"
            )


def membership_remove(*, membership_id: int, actor, reason: str) -> Membership:
    found = _load_membership(membership_id)
    reason = _clean_text(reason, field_name="reason", max_length=REASON_MAX, required=True, label=_("Reason"))
    with transaction.atomic():
        group = _lock_group(found.group_id)
        require_group_admin(actor, group)
        membership = _relock(found.pk, group.pk)
        if membership.status != M.ACTIVE:
            raise Conflict(_("She is not an active member of this group."), code="membership_not_active")
        _refuse_acting_on(actor, membership)
        states.transition(membership, to=M.REMOVED, actor=actor, note=reason)
        _count_out(group, actor=actor)
        events.emit("community_member_left", group_id=group.pk, user_id=membership.user_id)
        events.emit("community_member_removed", group_id=group.pk, user_id=membership.user_id, reason=reason)
        return membership


def membership_mute(*, membership_id: int, actor, until) -> Membership:
    """Mute a member until `until` (at most 30 days ahead); `until=None` lifts it."""
    found = _load_membership(membership_id)
    now = timezone.now()
    if until is not None:
        if until <= now:
            raise _invalid("until", _("Choose a time in the future."), "mute_in_past")
        if until > now + MAX_MUTE:
            raise _invalid("until", _("A member is muted for at most 30 days."), "mute_too_long")
    with transaction.atomic():
        group = _lock_group(found.group_id)
        require_group_admin(actor, group)
        membership = _relock(found.pk, group.pk)
        if membership.status != M.ACTIVE:
            raise Conflict(_("She is not an active member of this group."), code="membership_not_active")
        _refuse_acting_on(actor, membership)
        membership.muted_until = until
        membership.save(update_fields=["muted_until", "updated_at"])
        events.emit(
            "community_member_muted", group_id=group.pk, user_id=membership.user_id, until=until and until.isoformat()
        )
        return membership


def membership_set_role(*, membership_id: int, actor, role: str) -> Membership:
    """The group's leader (or an operator) makes an active member an assistant, or an assistant a member again."""
    if role not in (Membership.Role.MEMBER, Membership.Role.ASSISTANT):
        raise _invalid("role", _("A member can be made an assistant, or a member again."), "role_invalid")
    found = _load_membership(membership_id)
    with transaction.atomic():
        group = _lock_group(found.group_id)
        require_group_admin(actor, group)
        leads_it = Membership.objects.filter(
            group=group, user=actor, status=M.ACTIVE, role=Membership.Role.LEADER
        ).exists()
        if not leads_it and not is_operator(actor):
            raise PermissionRefused(
                _("Only the group's leader or an operator chooses its assistants."), code="assistant_protected"
            )
        membership = _relock(found.pk, group.pk)
        if membership.status != M.ACTIVE:
            raise Conflict(_("She is not an active member of this group."), code="membership_not_active")
        if membership.role == Membership.Role.LEADER:
            raise Conflict(_("The group's leader cannot be removed or muted."), code="leader_protected")
        if membership.role == role:
            return membership
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        events.emit("community_role_changed", group_id=group.pk, user_id=membership.user_id, role=role)
        return membership


def member_ban(*, user, actor, reason: str) -> MemberProfile:
    """Operators ban a member from the whole community: her live places end, no invite or group admits her."""
    _require_operator(actor)
    reason = _clean_text(reason, field_name="reason", max_length=REASON_MAX, required=True, label=_("Reason"))
    if user is None or user.pk == getattr(actor, "pk", None):
        raise Conflict(_("You cannot ban yourself."), code="own_membership")
    with transaction.atomic():
        profile, _created = MemberProfile.objects.select_for_update().get_or_create(user=user)
        if profile.banned_at is not None:
            raise Conflict(_("She is banned already."), code="already_banned")
        live = list(Membership.objects.filter(user=user, status__in=Membership.LIVE).order_by("group_id"))
        if any(m.role == Membership.Role.LEADER and m.status == M.ACTIVE for m in live):
            raise Conflict(_("She leads a group: give it another leader before banning her."), code="bans_a_leader")
        for found in live:
            group = _lock_group(found.group_id)
            membership = _relock(found.pk, group.pk)
            if membership.status == M.ACTIVE:
                states.transition(membership, to=M.REMOVED, actor=actor, note=reason)
                _count_out(group, actor=actor)
                events.emit("community_member_left", group_id=group.pk, user_id=user.pk)
            elif membership.status == M.PENDING:
                states.transition(membership, to=M.REJECTED, actor=actor, note=reason)
        profile.banned_at = timezone.now()
        profile.ban_reason = reason
        profile.save(update_fields=["banned_at", "ban_reason", "updated_at"])
        events.emit("community_member_banned", user_id=user.pk)
        return profile


def member_unban(*, user, actor) -> MemberProfile:
    _require_operator(actor)
    with transaction.atomic():
        profile = MemberProfile.objects.select_for_update().order_by().filter(user=user).first()
        if profile is None or profile.banned_at is None:
            raise Conflict(_("She is not banned."), code="not_banned")
        profile.banned_at = None
        profile.ban_reason = ""
        profile.save(update_fields=["banned_at", "ban_reason", "updated_at"])
        return profile


# --- invites -------------------------------------------------------------------------------------


def invite_create(
    *, actor, group: Group | None = None, label: str = "", expires_at=None, max_uses: int | None = None
) -> Invite:
    """A community invite (operators) or a group's invite (its leader, assistants or operators)."""
    if group is None:
        _require_operator(actor)
    else:
        require_group_admin(actor, group)
        if group.status == G.ARCHIVED:
            raise Conflict(_("This group is archived and takes no new members."), code="group_archived")
    label = _clean_text(label, field_name="label", max_length=60, label=_("Label"))
    if expires_at is not None and expires_at <= timezone.now():
        raise _invalid("expires_at", _("Choose an expiry in the future."), "expiry_in_past")
    if max_uses is not None and (
        isinstance(max_uses, bool) or not isinstance(max_uses, int) or max_uses < 1 or max_uses > 100_000
    ):
        raise _invalid("max_uses", _("Uses allowed is a number from 1 to 100000."), "max_uses_invalid")
    return Invite.objects.create(
        code=_random_code(Invite, "code"),
        group=group,
        created_by=actor,
        label=label,
        expires_at=expires_at,
        max_uses=max_uses,
    )


def invite_revoke(*, actor, invite_id: int) -> Invite:
    invite = Invite.objects.select_related("group").filter(pk=invite_id).first()
    if invite is None:
        raise NotFound(_("No such invite."), code="invite_not_found")
    if invite.group is None:
        _require_operator(actor)
    else:
        require_group_admin(actor, invite.group)
    with transaction.atomic():
        changed = Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if not changed:
            raise Conflict(_("This invite was revoked already."), code="invite_revoked")
    invite.refresh_from_db()
    return invite


INVITE_REASONS = {
    "unknown": gettext_lazy("This invite link is not valid. Check the link or ask for a new one."),
    "revoked": gettext_lazy("This invite was withdrawn. Ask for a new one."),
    "expired": gettext_lazy("This invite has expired. Ask for a new one."),
    "used_up": gettext_lazy("This invite has been used as many times as allowed. Ask for a new one."),
    "group_archived": gettext_lazy("The group of this invite is closed."),
}


def invite_problem(invite: Invite | None, *, now=None) -> str | None:
    """Why `invite` admits nobody (a key of INVITE_REASONS), or None when it is good."""
    now = now or timezone.now()
    if invite is None:
        return "unknown"
    if invite.revoked_at is not None:
        return "revoked"
    if invite.expires_at is not None and invite.expires_at <= now:
        return "expired"
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        return "used_up"
    if invite.group_id is not None and invite.group.status == G.ARCHIVED:
        return "group_archived"
    return None


def invite_for_code(code: str) -> Invite | None:
    """The invite a link names: an Invite's code, or a group's own invite code (a standing group invite)."""
    code = (code or "").strip().upper()[:16]
    if not code:
        return None
    invite = Invite.objects.select_related("group", "group__segment").filter(code=code).first()
    if invite is not None:
        return invite
    group = Group.objects.select_related("segment").filter(invite_code=code).first()
    if group is None:
        return None
    # A group's standing code: an unsaved invite to that group, never expiring.
    return Invite(code=code, group=group, created_by_id=group.leader_id)


def _refuse_invite(invite: Invite | None) -> None:
    problem = invite_problem(invite)
    if problem:
        raise ValidationFailed(INVITE_REASONS[problem], code="invite_invalid", fields={"invite": [problem]})


# --- the questionnaire ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    key: str
    label: object
    help: object
    kind: str  # "multi", "single", "children"
    dimension: str
    required: bool = False
    max_choices: int = 1
    # Only tags whose code starts with this (two questions share the size dimension).
    prefix: str = ""
    # How much an answer weighs in her profile.
    weight: float = 1.0


QUESTIONNAIRE: tuple[Question, ...] = (
    Question(
        "categories",
        gettext_lazy("What are you looking for?"),
        gettext_lazy("What you would like to see in your group."),
        "multi",
        Dimension.CATEGORY,
        required=True,
        max_choices=5,
    ),
    Question(
        "styles",
        gettext_lazy("Your style"),
        "",
        "multi",
        Dimension.STYLE,
        max_choices=3,
        weight=0.6,
    ),
    Question("clothes_size", gettext_lazy("Clothes size"), "", "single", Dimension.SIZE, prefix="size-", weight=0.5),
    Question("shoe_size", gettext_lazy("Shoe size"), "", "single", Dimension.SIZE, prefix="shoe-", weight=0.5),
    Question(
        "children",
        gettext_lazy("Children"),
        gettext_lazy("Their ages, so we can show you what fits them, or “no children”."),
        "children",
        Dimension.CHILD_AGE,
        required=True,
        max_choices=6,
    ),
    Question(
        "budget",
        gettext_lazy("What do you usually spend?"),
        "",
        "single",
        Dimension.SPENDING,
        required=True,
        weight=0.8,
    ),
    Question("city", gettext_lazy("Your city"), "", "single", Dimension.CITY, weight=0.3),
)
QUESTION_KEYS = {question.key for question in QUESTIONNAIRE}
ANSWER_KEYS = (QUESTION_KEYS - {"children"}) | {"no_children", "children_ages"}
CHILD_AGE_MIN, CHILD_AGE_MAX = 0, 16
# A child's age → the child_age tag it falls in.
CHILD_AGE_BANDS = ((0, 3, "kids-0-3"), (4, 6, "kids-4-6"), (7, 12, "kids-7-12"), (13, 16, "kids-13-16"))


def questionnaire_options() -> dict[str, list[Tag]]:
    """The offered tags of each question, in the taxonomy's order (one query)."""
    options: dict[str, list[Tag]] = {question.key: [] for question in QUESTIONNAIRE}
    dimensions = {question.dimension for question in QUESTIONNAIRE}
    for tag in Tag.objects.filter(active=True, dimension__in=dimensions).order_by("sort", "pk"):
        for question in QUESTIONNAIRE:
            if question.kind == "children":
                continue
            if tag.dimension == question.dimension and tag.code.startswith(question.prefix):
                options[question.key].append(tag)
    return options


def _as_list(value) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _age_band(age: int) -> str | None:
    for low, high, code in CHILD_AGE_BANDS:
        if low <= age <= high:
            return code
    return None


def questionnaire_clean(answers) -> tuple[dict, dict[str, float]]:
    """Check the answers; returns (the answers as kept, her questionnaire tags {code: weight}).

    Raises ValidationFailed `answers_invalid` with every field's problems at once.
    """
    if not isinstance(answers, dict):
        raise ValidationFailed(
            _("The answers are not readable."),
            code="answers_invalid",
            fields={"answers": [_("The answers are not readable.")]},
        )
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    weights: dict[str, float] = {}
    options = questionnaire_options()
    for key in sorted(set(answers) - ANSWER_KEYS):
        errors.setdefault(str(key)[:40], []).append(_("This is not one of our questions."))
    for question in QUESTIONNAIRE:
        if question.kind == "children":
            continue
        offered = {tag.code for tag in options[question.key]}
        chosen = []
        for value in _as_list(answers.get(question.key)):
            if not isinstance(value, str) or value not in offered:
                errors.setdefault(question.key, []).append(
                    _("“%(value)s” is not one of the options.") % {"value": str(value)[:40]}
                )
            elif value not in chosen:
                chosen.append(value)
        if question.kind == "single" and len(chosen) > 1:
            errors.setdefault(question.key, []).append(_("Choose one."))
        elif len(chosen) > question.max_choices:
            errors.setdefault(question.key, []).append(_("Choose at most %(count)s.") % {"count": question.max_choices})
        if question.required and not chosen and question.key not in errors:
            if question.key == "categories":
                errors.setdefault(question.key, []).append(_("Choose at least one category."))
            else:
                errors.setdefault(question.key, []).append(_("Please answer this question."))
        if question.kind == "single":
            cleaned[question.key] = chosen[0] if chosen else ""
        else:
            cleaned[question.key] = chosen
        for code in chosen:
            weights[code] = max(weights.get(code, 0.0), question.weight)
    # Children: ages 0–16, or "no children", not both.
    no_children = answers.get("no_children") in (True, "true", "on", "1", 1)
    ages = []
    child_question = next(q for q in QUESTIONNAIRE if q.kind == "children")
    for value in _as_list(answers.get("children_ages")):
        text = str(value).strip()
        if isinstance(value, bool) or not (isinstance(value, int) or text.lstrip("-").isdigit()):
            errors.setdefault("children", []).append(_("“%(value)s” is not an age.") % {"value": text[:10]})
            continue
        age = int(text)
        if age < CHILD_AGE_MIN or age > CHILD_AGE_MAX:
            errors.setdefault("children", []).append(
                _("A child's age is from %(min)s to %(max)s; “%(age)s” is not.")
                % {"min": CHILD_AGE_MIN, "max": CHILD_AGE_MAX, "age": age}
            )
            continue
        ages.append(age)
    if no_children and ages:
        errors.setdefault("children", []).append(_("You said you have no children and gave their ages: choose one."))
    elif not no_children and not ages and "children" not in errors:
        errors.setdefault("children", []).append(_("Give your children's ages, or choose “no children”."))
    if len(ages) > child_question.max_choices:
        errors.setdefault("children", []).append(
            _("At most %(count)s children.") % {"count": child_question.max_choices}
        )
    offered_bands = {tag.code for tag in Tag.objects.filter(dimension=Dimension.CHILD_AGE, active=True)}
    for age in ages:
        band = _age_band(age)
        if band in offered_bands:
            weights[band] = max(weights.get(band, 0.0), child_question.weight)
    cleaned["no_children"] = no_children
    cleaned["children_ages"] = sorted(ages)
    if errors:
        raise ValidationFailed(
            _("Some answers need another look."), code="answers_invalid", fields={k: v for k, v in errors.items()}
        )
    return cleaned, weights


# --- admission -----------------------------------------------------------------------------------


@dataclass
class Admission:
    placed: Membership | None
    offered: list[tuple[Group, float]] = field(default_factory=list)
    # Why she went where she did, for her result page: the tags she shares with the group (codes).
    why: list[str] = field(default_factory=list)
    note: str = ""


def _candidates(*, exclude_group_ids=()) -> tuple[list[placement.Candidate], dict[int, Group]]:
    """Every open group with room of an active segment, as the engine sees it (three queries)."""
    groups = {
        group.pk: group
        for group in Group.objects.select_related("segment")
        .filter(status=G.OPEN, segment__active=True)
        .exclude(pk__in=list(exclude_group_ids))
        .order_by("pk")
        if group.member_count < group.capacity
    }
    profiles = selectors.group_profiles(groups)
    candidates = [
        placement.Candidate(
            group_id=group.pk,
            rule=group.segment.rule or {},
            centroid=placement.Centroid.of(profile for _user_id, profile in profiles[group.pk]),
            member_count=group.member_count,
            capacity=group.capacity,
        )
        for group in groups.values()
    ]
    return candidates, groups


def _best_segment(profile, segments) -> Segment | None:
    """The active segment with a rule she matches whose ideal member looks most like her."""
    best, best_value = None, 0.0
    for segment in segments:
        rule = segment.rule or {}
        if not placement.rule_tags(rule) or not placement.matches(rule, profile):
            continue
        value = placement.cosine(profile, placement.rule_profile(rule))
        key = (round(value, 6), len(placement.rule_tags(rule)))
        if best is None or key > best_value:
            best, best_value = segment, key
    return best


def _shared_tags(profile, group: Group, centroid: placement.Centroid | None) -> list[str]:
    mine = {code for code, weight in profile.items() if weight > 0}
    rule_codes = placement.rule_tags(group.segment.rule or {}) if group.segment_id else []
    shared = [code for code in rule_codes if code in mine]
    if centroid is not None and centroid.count:
        common = sorted(
            (code for code, total in centroid.total.items() if code in mine and total / centroid.count >= 0.3),
            key=lambda code: -centroid.total[code],
        )
        shared += [code for code in common if code not in shared]
    return shared[:6]


# A group that filled meanwhile is chosen again from fresh reads; many newcomers racing for tiny groups can lose
# several times in a row (each race has one winner), so the bound is generous.
PLACEMENT_ATTEMPTS = 20


class _FoundRoom(Exception):
    def __init__(self, group: Group):
        self.group = group


def _open_with_room(segment: Segment) -> Group | None:
    return (
        segment.groups.select_related("segment")
        .filter(status=G.OPEN, member_count__lt=F("capacity"))
        .order_by("number", "pk")
        .first()
    )


def _open_group_in(segment: Segment) -> Group:
    """The segment's open group with room, or its next group opened now.

    Locks are taken groups first, then the segment (`_count_in`), so this never
    goes on to lock an existing group while it holds the segment's row: a group
    found under the segment's lock is returned after rolling back to a
    savepoint, which releases that lock.
    """
    existing = _open_with_room(segment)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            locked = Segment.objects.select_for_update().get(pk=segment.pk)
            existing = _open_with_room(locked)
            if existing is not None:
                raise _FoundRoom(existing)
            return _open_next_locked(locked)
    except _FoundRoom as found:
        return found.group


def _candidate_of(group: Group) -> placement.Candidate:
    members = selectors.group_profiles([group.pk])[group.pk]
    return placement.Candidate(
        group_id=group.pk,
        rule=(group.segment.rule if group.segment_id else {}) or {},
        centroid=placement.Centroid.of(profile for _user_id, profile in members),
        member_count=group.member_count,
        capacity=group.capacity,
        open=group.status == G.OPEN,
    )


def _choose(profile, candidates, groups, segments) -> tuple[Group, float | None, list]:
    """Where she goes now: (group, fit, the ranked alternatives)."""
    specific = placement.rank(profile, [c for c in candidates if placement.rule_tags(c.rule)])
    general = placement.rank(profile, [c for c in candidates if not placement.rule_tags(c.rule)])
    ranked = specific + general
    best_segment = _best_segment(profile, segments)
    best_has_room = best_segment is not None and any(
        groups[c.group_id].segment_id == best_segment.pk for _value, c in specific
    )
    if specific and (best_segment is None or best_has_room):
        value, candidate = specific[0]
        return groups[candidate.group_id], value, ranked
    if best_segment is not None:
        # Every group of the segment she fits best is full: its next group opens for her.
        target = _open_group_in(best_segment)
        return target, placement.score(profile, _candidate_of(target)), ranked
    if general:
        value, candidate = general[0]
        return groups[candidate.group_id], value, ranked
    catch_all = next((s for s in segments if not placement.rule_tags(s.rule or {})), None)
    if catch_all is None:
        raise ValidationFailed(_("We have no group for you yet. We will let you know when one opens."), code="no_group")
    target = _open_group_in(catch_all)
    return target, placement.score(profile, _candidate_of(target)), ranked


def _offered(ranked, groups, *, placed: Group | None, live: list[Membership]) -> list[tuple[Group, float]]:
    """Up to three other groups to offer: the best of each other segment (siblings of her group, or of a group
    she is in, carry the same drops), each with its score."""
    taken = {m.group.segment_id for m in live if m.group.segment_id is not None}
    if placed is not None and placed.segment_id is not None:
        taken.add(placed.segment_id)
    offered, seen = [], set(taken)
    for value, candidate in ranked:
        group = groups[candidate.group_id]
        if placed is not None and group.pk == placed.pk:
            continue
        key = group.segment_id if group.segment_id is not None else ("group", group.pk)
        if key in seen:
            continue
        seen.add(key)
        offered.append((group, value))
        if len(offered) == OFFERED_MAX:
            break
    return offered


def _place(*, user, profile, preferred: Group | None, source_preferred: str) -> Admission:
    """Place her (inside the caller's transaction): the preferred group if it has room, else the best match.

    The candidates are read without locks; `membership_add` locks the group and
    checks again, so a group that filled meanwhile refuses her and the choice is
    made again from fresh reads (a few times at most). Already in a group of the
    segment that suits her best, she stays there (nothing new is written).
    """
    live = list(Membership.objects.filter(user=user, status__in=Membership.LIVE).select_related("group__segment"))
    live_ids = {membership.group_id for membership in live}
    # Segments with at least one group (a segment nobody leads yet has no next group to open).
    segments = list(Segment.objects.filter(active=True, groups__isnull=False).distinct().order_by("pk"))
    note = ""
    if preferred is not None:
        try:
            candidate = _candidate_of(preferred)
            fit = placement.score(profile, candidate) if preferred.segment_id else None
            placed = membership_add(group_id=preferred.pk, user=user, source=source_preferred, fit=fit)
        except Conflict as error:
            if error.code != "group_full":
                raise
            note = _("“%(group)s” is full, so we found you the best group with room.") % {"group": preferred.name}
        else:
            candidates, groups = _candidates(exclude_group_ids=live_ids | {preferred.pk})
            specific = placement.rank(profile, [c for c in candidates if placement.rule_tags(c.rule)])
            general = placement.rank(profile, [c for c in candidates if not placement.rule_tags(c.rule)])
            return Admission(
                placed=placed,
                offered=_offered(specific + general, groups, placed=preferred, live=live),
                why=_shared_tags(profile, preferred, candidate.centroid),
            )
    best_segment = _best_segment(profile, segments)
    already = next((m for m in live if best_segment is not None and m.group.segment_id == best_segment.pk), None)
    if already is not None:
        candidates, groups = _candidates(exclude_group_ids=live_ids)
        specific = placement.rank(profile, [c for c in candidates if placement.rule_tags(c.rule)])
        general = placement.rank(profile, [c for c in candidates if not placement.rule_tags(c.rule)])
        return Admission(
            placed=already,
            offered=_offered(specific + general, groups, placed=already.group, live=live),
            why=_shared_tags(profile, already.group, _candidate_of(already.group).centroid),
            note=_("You are already in “%(group)s”, the group that suits you best.") % {"group": already.group.name},
        )
    for _attempt in range(PLACEMENT_ATTEMPTS):
        candidates, groups = _candidates(exclude_group_ids=live_ids)
        target, fit, ranked = _choose(profile, candidates, groups, segments)
        try:
            placed = membership_add(group_id=target.pk, user=user, source=Membership.Source.PLACEMENT, fit=fit)
        except Conflict as error:
            if error.code != "group_full":
                raise
            continue  # it filled meanwhile: choose again
        by_id = {c.group_id: c for c in candidates}
        centroid = by_id[target.pk].centroid if target.pk in by_id else None
        return Admission(
            placed=placed,
            offered=_offered(ranked, groups, placed=target, live=live),
            why=_shared_tags(profile, target, centroid),
            note=note,
        )
    raise Conflict(_("Groups are filling up right now. Please try again."), code="groups_busy")


def admission_answer(*, user, invite_code: str, answers: dict) -> Admission:
    """A newcomer answers the questionnaire through an invite; she gets her tags and a group.

    Refused with nothing changed: an invalid invite (`invite_invalid`, the
    reason in `fields["invite"]`), a banned member (`banned`), impossible
    answers (`answers_invalid`, per field), a group invite to a group she is
    already in (`already_member`), nowhere to go (`no_group`).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionRefused(_("Log in first."), code="login_required")
    with transaction.atomic():
        # Read, not locked: a busy invite must not queue every newcomer behind one row. Its use is counted at
        # the end with a conditional UPDATE, so a limited invite never admits more than it allows.
        invite = invite_for_code(invite_code)
        _refuse_invite(invite)
        if _is_banned(user):
            raise PermissionRefused(_("Your account cannot join the community."), code="banned")
        cleaned, weights = questionnaire_clean(answers)
        if (
            invite.group_id is not None
            and Membership.objects.filter(group_id=invite.group_id, user=user, status__in=Membership.LIVE).exists()
        ):
            raise Conflict(_("You are already in “%(group)s”.") % {"group": invite.group.name}, code="already_member")
        member_tags_set(user=user, source=MemberTag.Source.QUESTIONNAIRE, weights=weights)
        profile_row, _created = MemberProfile.objects.get_or_create(user=user)
        profile_row.answers = cleaned
        profile_row.onboarded_at = timezone.now()
        profile_row.save(update_fields=["answers", "onboarded_at", "updated_at"])
        profile = selectors.member_profile(user)
        admission = _place(
            user=user,
            profile=profile,
            preferred=invite.group if invite.group_id else None,
            source_preferred=Membership.Source.INVITE,
        )
        if invite.pk is not None:
            counted = Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True)
            if invite.max_uses is not None:
                counted = counted.filter(uses__lt=F("max_uses"))
            if not counted.update(uses=F("uses") + 1, updated_at=timezone.now()):
                invite.refresh_from_db()
                _refuse_invite(invite)
                raise ValidationFailed(  # pragma: no cover - refused above in every case
                    INVITE_REASONS["used_up"], code="invite_invalid", fields={"invite": ["used_up"]}
                )
        events.emit(
            "community_admitted",
            user_id=user.pk,
            group_id=admission.placed.group_id if admission.placed else None,
            invite_id=invite.pk,
        )
        return admission


def admission_join_offered(*, user, group_id: int) -> Membership:
    """She joins one more of the groups she was offered (any open group with room whose rule she matches)."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionRefused(_("Log in first."), code="login_required")
    if not MemberProfile.objects.filter(user=user, onboarded_at__isnull=False).exists():
        raise ValidationFailed(_("Answer the questionnaire first."), code="not_onboarded")
    group = Group.objects.select_related("segment").filter(pk=group_id).first()
    if group is None or group.segment_id is None or not group.segment.active:
        raise NotFound(_("No such group."), code="group_not_found")
    profile = selectors.member_profile(user)
    members = selectors.group_profiles([group.pk])[group.pk]
    candidate = placement.Candidate(
        group_id=group.pk,
        rule=group.segment.rule or {},
        centroid=placement.Centroid.of(p for _u, p in members),
        member_count=group.member_count,
        capacity=group.capacity,
        open=group.status == G.OPEN,
    )
    value = placement.score(profile, candidate)
    if placement.rule_tags(candidate.rule) and value <= 0:
        raise PermissionRefused(_("This group is for members with other interests."), code="not_a_match")
    return membership_add(group_id=group.pk, user=user, source=Membership.Source.CHOSEN, fit=value)
