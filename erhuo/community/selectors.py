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
