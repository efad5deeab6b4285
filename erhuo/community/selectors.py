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
