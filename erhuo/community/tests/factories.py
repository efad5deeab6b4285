"""Quick ways to tags, segments, groups and members, made directly (the services have their own tests)."""

import itertools

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community.models import Dimension, Group, Membership, MemberTag, Segment, Tag

_codes = itertools.count(1)


def tag(code: str, *, dimension: str = Dimension.CATEGORY, name: str | None = None) -> Tag:
    found = Tag.objects.filter(code=code).first()
    return found or Tag.objects.create(code=code, dimension=dimension, name=name or code)


def segment(name: str = "女装·轻奢", *, all_tags=("womenswear", "premium"), capacity: int = 500) -> Segment:
    found = Segment.objects.filter(name=name).first()
    if found:
        return found
    for code in all_tags:
        tag(code)
    return Segment.objects.create(
        name=name, slug=f"seg-{next(_codes)}", rule={"all": list(all_tags)}, capacity=capacity
    )


def group(
    *,
    segment_obj: Segment | None = None,
    leader=None,
    capacity: int = 500,
    number: int | None = None,
    join_policy: str = Group.JoinPolicy.OPEN,
    name: str | None = None,
) -> Group:
    """A group with its leader as an active member (member_count counts her)."""
    from django.utils import timezone

    leader = leader or UserFactory(roles=[roles.COMMUNITY_MANAGER])
    if segment_obj is not None and number is None:
        number = segment_obj.groups.count() + 1
    code = f"G{next(_codes):07d}"
    created = Group.objects.create(
        segment=segment_obj,
        number=number,
        name=name or (f"{segment_obj.name} {number}群" if segment_obj else f"群 {code}"),
        leader=leader,
        capacity=capacity,
        join_policy=join_policy,
        invite_code=code,
    )
    Membership.objects.create(
        group=created,
        user=leader,
        role=Membership.Role.LEADER,
        status=Membership.Status.ACTIVE,
        source=Membership.Source.OPERATOR,
        joined_at=timezone.now(),
    )
    Group.objects.filter(pk=created.pk).update(member_count=1)
    created.refresh_from_db()
    return created


def member_of(group_obj: Group, user=None, *, role: str = Membership.Role.MEMBER) -> Membership:
    """Put `user` (a new member if None) in the group as active, and count her."""
    from django.db.models import F
    from django.utils import timezone

    user = user or UserFactory(roles=[roles.MEMBER])
    membership = Membership.objects.create(
        group=group_obj,
        user=user,
        role=role,
        status=Membership.Status.ACTIVE,
        source=Membership.Source.OPERATOR,
        joined_at=timezone.now(),
    )
    Group.objects.filter(pk=group_obj.pk).update(member_count=F("member_count") + 1)
    group_obj.refresh_from_db()
    return membership


def tagged(user, *codes: str, weight: float = 1.0, source: str = MemberTag.Source.QUESTIONNAIRE):
    for code in codes:
        MemberTag.objects.update_or_create(user=user, tag=tag(code), source=source, defaults={"weight": weight})
    return user


# --- activities -----------------------------------------------------------------------------------


def listed_item(*, seller, price_fen: int = 8_000, title: str = "赠品 丝巾", fulfilment: str = "platform"):
    """An item on sale, put there directly (the pipeline is consignment's business)."""
    from django.utils import timezone

    from erhuo.catalog.models import Category, Item

    category = Category.objects.filter(slug="community-test-gifts").first() or Category.objects.create(
        name="community-test-gifts", slug="community-test-gifts", is_returnable=True, return_window_days=7
    )
    return Item.objects.create(
        seller=seller,
        title=title,
        category=category,
        grade="A",
        price_fen=price_fen,
        fulfilment=fulfilment,
        status=Item.Status.LISTED,
        listed_at=timezone.now(),
    )


def activity(*, actor, groups, kind: str = "giveaway", starts_in=None, lasts=None, now=None, **fields):
    """An activity made through the service (so a giveaway's seed is committed), starting `starts_in` from now
    (default: already running) and lasting `lasts` (default: a day)."""
    from datetime import timedelta

    from django.utils import timezone

    from erhuo.community.services.activities import activity_create

    now = now or timezone.now()
    starts_at = now + (starts_in if starts_in is not None else timedelta(minutes=-1))
    ends_at = starts_at + (lasts or timedelta(days=1))
    if kind == "giveaway":
        fields.setdefault("prize", "一只 Longchamp 包")
    if kind == "buy_with_gift":
        if "gifts" not in fields and "gift_item_id" not in fields:
            fields["gifts"] = [listed_item(seller=actor).pk]
        fields.setdefault("threshold_fen", 20_000)
    return activity_create(
        actor=actor,
        kind=kind,
        title=fields.pop("title", "周末活动"),
        group_ids=[group.pk for group in groups],
        starts_at=starts_at,
        ends_at=ends_at,
        now=now,
        **fields,
    )


def item_on_sale(
    *,
    seller=None,
    title: str = "社群款 真丝连衣裙",
    channel: str = "community",
    category_slug: str = "womens-dresses",
    brand_name: str | None = None,
    size: str = "",
    price_fen: int = 58_000,
):
    """A listed item in a seeded category (the migration's tree), with a channel, a brand and a size."""
    from django.utils import timezone

    from erhuo.catalog.models import Brand, Category, Item

    seller = seller or UserFactory(roles=[roles.MEMBER, roles.SELLER])
    category = Category.objects.filter(slug=category_slug).first() or Category.objects.create(
        name=category_slug, slug=category_slug
    )
    return Item.objects.create(
        seller=seller,
        title=title,
        category=category,
        brand=Brand.objects.filter(name=brand_name).first() if brand_name else None,
        size=size,
        grade="A",
        price_fen=price_fen,
        channel=channel,
        status=Item.Status.LISTED,
        listed_at=timezone.now(),
    )
