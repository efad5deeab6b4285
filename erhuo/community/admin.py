"""Admin for the community: read here; written on the community's pages through the services.

Tags, segments, groups, memberships and invites change through `erhuo.community.services` (operators'
pages /ops/community/, leaders' /groups/<id>/admin/), so that capacity, numbering and every state change
are kept and recorded; the admin shows them. Other areas of the community add their models below.
"""

from django.contrib import admin

from erhuo.accounts.admin import ReadOnlyAdmin
from erhuo.community.models import Group as CommunityGroup
from erhuo.community.models import (
    GroupTransition,
    Invite,
    MemberProfile,
    Membership,
    MembershipTransition,
    MemberTag,
    Segment,
    Tag,
)

# --- groups: tags, segments, groups, memberships, invites ---------------------------------------


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "dimension", "sort", "active"]
    list_filter = ["dimension", "active"]
    search_fields = ["code", "name"]


@admin.register(MemberTag)
class MemberTagAdmin(ReadOnlyAdmin):
    list_display = ["user", "tag", "source", "weight", "updated_at"]
    list_filter = ["source", "tag__dimension"]
    list_select_related = ["user", "tag"]
    search_fields = ["user__username", "tag__code"]


@admin.register(MemberProfile)
class MemberProfileAdmin(ReadOnlyAdmin):
    list_display = ["user", "onboarded_at", "banned_at", "ban_reason"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__display_name"]


@admin.register(Segment)
class SegmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "capacity", "active", "rule"]
    list_filter = ["active"]


@admin.register(CommunityGroup)
class GroupAdmin(ReadOnlyAdmin):
    list_display = ["name", "segment", "number", "leader", "member_count", "capacity", "status", "join_policy"]
    list_filter = ["status", "join_policy", "segment"]
    list_select_related = ["segment", "leader"]
    search_fields = ["name", "invite_code", "wechat_group_id"]


@admin.register(GroupTransition)
class GroupTransitionAdmin(ReadOnlyAdmin):
    list_display = ["subject", "from_state", "to_state", "actor", "note", "created_at"]
    list_select_related = ["subject", "actor"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "group", "role", "status", "source", "fit", "joined_at", "muted_until"]
    list_filter = ["status", "role", "source"]
    list_select_related = ["user", "group"]
    search_fields = ["user__username", "group__name"]


@admin.register(MembershipTransition)
class MembershipTransitionAdmin(ReadOnlyAdmin):
    list_display = ["subject", "from_state", "to_state", "actor", "note", "created_at"]
    list_select_related = ["subject", "actor"]


@admin.register(Invite)
class InviteAdmin(ReadOnlyAdmin):
    list_display = ["code", "group", "label", "uses", "max_uses", "expires_at", "revoked_at", "created_by"]
    list_select_related = ["group", "created_by"]
    search_fields = ["code", "label"]
