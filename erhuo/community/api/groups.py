"""Community API: the questionnaire, invites and admission; my groups; leaders' member management;
operators' tags, segments, groups and invites.

A member reads only groups she belongs to (404 otherwise); a leader manages only
her own group (403 `not_your_group` on another's); operators
(`community.manage_community`) everything.
"""

from datetime import datetime
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from erhuo.accounts.models import User
from erhuo.community import selectors
from erhuo.community.models import Dimension, Group, Invite, Membership, Segment, Tag
from erhuo.community.services import groups as services
from erhuo.core.api import ErrorOut
from erhuo.core.errors import NotFound, PermissionRefused

router = Router(tags=["community: groups"])

MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Code = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9]+$")]
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _require_operator(request) -> None:
    if not services.is_operator(request.user):
        raise PermissionRefused(_("Only community operators can do this."), code="not_operator")


def _group_or_404(request, group_id: int, *, admin: bool = False) -> Group:
    """The group if she may see it (a live member, or an operator); for `admin`, its leaders and operators (403)."""
    group = selectors.group_of(group_id)
    if group is None:
        raise NotFound(_("No such group."), code="group_not_found")
    operator = services.is_operator(request.user)
    if admin:
        services.require_group_admin(request.user, group)
        return group
    if not operator and selectors.live_membership(request.user, group) is None:
        raise NotFound(_("No such group."), code="group_not_found")
    return group


def _membership_in(group: Group, membership_id: int) -> Membership:
    membership = Membership.objects.select_related("user").filter(pk=membership_id, group=group).first()
    if membership is None:
        raise NotFound(_("No such member in this group."), code="membership_not_found")
    return membership


# --- shapes --------------------------------------------------------------------------------------


class TagOut(Schema):
    id: int
    dimension: str
    code: str
    name: str
    sort: int
    active: bool


class OptionOut(Schema):
    code: str
    name: str


class QuestionOut(Schema):
    key: str = Field(..., examples=["categories"])
    label: str
    help: str
    kind: str = Field(..., description="multi (several options), single (one option) or children (ages or none)")
    required: bool
    max_choices: int
    options: list[OptionOut] = Field(..., description="Empty for children: send `no_children` or `children_ages`")


class QuestionnaireOut(Schema):
    questions: list[QuestionOut]
    child_age_min: int
    child_age_max: int


class SegmentBriefOut(Schema):
    id: int
    name: str
    slug: str


class GroupBriefOut(Schema):
    id: int
    name: str
    segment: SegmentBriefOut | None
    number: int | None
    status: str = Field(..., description="open, full or archived")
    join_policy: str = Field(..., description="open, or approval (the leader admits each join)")
    member_count: int
    capacity: int


class GroupOut(GroupBriefOut):
    leader: str = Field(..., description="The leader's display name")
    announcement: str
    wechat_group_id: str
    my_role: str | None = Field(..., description="member, assistant or leader; null for an operator not in it")
    my_status: str | None = Field(..., description="active, or pending (waiting for the leader)")


class MembershipOut(Schema):
    id: int
    group: GroupBriefOut
    role: str
    status: str = Field(..., description="pending, active, rejected, left, removed or moved")
    source: str
    fit: float | None
    joined_at: datetime | None
    muted_until: datetime | None


class MemberOut(Schema):
    membership_id: int
    user_id: int
    username: str
    display_name: str
    role: str
    status: str
    source: str
    fit: float | None
    joined_at: datetime | None
    requested_at: datetime
    muted_until: datetime | None


class OfferedOut(Schema):
    group: GroupBriefOut
    score: float = Field(..., description="How well she fits it, 0..1")


class AdmissionOut(Schema):
    placed: MembershipOut | None
    offered: list[OfferedOut] = Field(..., description="Up to three other matching groups with room")
    why: list[OptionOut] = Field(..., description="Her tags that the group is about")
    note: str


class InviteOut(Schema):
    id: int | None
    code: str
    kind: str = Field(..., description="community (placed by the questionnaire) or group")
    group: GroupBriefOut | None
    label: str
    expires_at: datetime | None
    max_uses: int | None
    uses: int
    revoked_at: datetime | None
    link: str = Field(..., description="The page a newcomer opens (the QR code's content)")


class InvitePublicOut(Schema):
    code: str
    kind: str
    group: GroupBriefOut | None
    label: str
    expires_at: datetime | None


class SegmentOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    rule: dict
    capacity: int
    active: bool
    groups: int
    members: int


class GroupRowOut(GroupBriefOut):
    leader: str
    purity: float | None = Field(..., description="Mean tag similarity of its members' pairs, 0..1; null under 2")


def _segment_brief(segment: Segment | None):
    if segment is None:
        return None
    return {"id": segment.pk, "name": segment.name, "slug": segment.slug}


def _group_brief(group: Group) -> dict:
    return {
        "id": group.pk,
        "name": group.name,
        "segment": _segment_brief(group.segment),
        "number": group.number,
        "status": group.status,
        "join_policy": group.join_policy,
        "member_count": group.member_count,
        "capacity": group.capacity,
    }


def _membership(membership: Membership) -> dict:
    return {
        "id": membership.pk,
        "group": _group_brief(membership.group),
        "role": membership.role,
        "status": membership.status,
        "source": membership.source,
        "fit": membership.fit,
        "joined_at": membership.joined_at,
        "muted_until": membership.muted_until,
    }


def _member(membership: Membership) -> dict:
    return {
        "membership_id": membership.pk,
        "user_id": membership.user_id,
        "username": membership.user.username,
        "display_name": membership.user.display_name,
        "role": membership.role,
        "status": membership.status,
        "source": membership.source,
        "fit": membership.fit,
        "joined_at": membership.joined_at,
        "requested_at": membership.created_at,
        "muted_until": membership.muted_until,
    }


def _invite_link(request, code: str) -> str:
    from django.urls import reverse

    return request.build_absolute_uri(reverse("community:join", args=[code]))


def _invite(request, invite: Invite) -> dict:
    return {
        "id": invite.pk,
        "code": invite.code,
        "kind": "group" if invite.group_id else "community",
        "group": _group_brief(invite.group) if invite.group_id else None,
        "label": invite.label,
        "expires_at": invite.expires_at,
        "max_uses": invite.max_uses,
        "uses": invite.uses,
        "revoked_at": invite.revoked_at,
        "link": _invite_link(request, invite.code),
    }


def _segment(segment: Segment, stats: dict) -> dict:
    groups, members = stats.get(segment.pk, (0, 0))
    return {
        "id": segment.pk,
        "name": segment.name,
        "slug": segment.slug,
        "description": segment.description,
        "rule": segment.rule or {},
        "capacity": segment.capacity,
        "active": segment.active,
        "groups": groups,
        "members": members,
    }


def _segment_stats() -> dict:
    stats: dict[int, tuple[int, int]] = {}
    for segment_id, count in Group.objects.exclude(segment=None).values_list("segment_id", "member_count"):
        groups, members = stats.get(segment_id, (0, 0))
        stats[segment_id] = (groups + 1, members + count)
    return stats


# --- the questionnaire, invites, admission -------------------------------------------------------


@router.get(
    "/community/questionnaire",
    auth=None,
    response=QuestionnaireOut,
    summary="The onboarding questionnaire: its questions and their options",
)
def questionnaire(request):
    """Answer it with `POST /community/join/{code}`. Options are the offered tags of each question's dimension."""
    options = services.questionnaire_options()
    return {
        "questions": [
            {
                "key": question.key,
                "label": str(question.label),
                "help": str(question.help),
                "kind": question.kind,
                "required": question.required,
                "max_choices": question.max_choices,
                "options": [{"code": tag.code, "name": tag.name} for tag in options[question.key]],
            }
            for question in services.QUESTIONNAIRE
        ],
        "child_age_min": services.CHILD_AGE_MIN,
        "child_age_max": services.CHILD_AGE_MAX,
    }


@router.get(
    "/community/invites/{code}",
    auth=None,
    response={200: InvitePublicOut, 404: ErrorOut},
    summary="What an invite opens: the community, or one group",
)
def invite_public(request, code: Code):
    """404 `invite_invalid` when the code is unknown, revoked, expired, used up or its group closed (the detail
    says which)."""
    invite = services.invite_for_code(code)
    problem = services.invite_problem(invite)
    if problem:
        raise NotFound(services.INVITE_REASONS[problem], code="invite_invalid")
    return {
        "code": invite.code,
        "kind": "group" if invite.group_id else "community",
        "group": _group_brief(invite.group) if invite.group_id else None,
        "label": invite.label,
        "expires_at": invite.expires_at,
    }


class AnswersIn(Schema):
    categories: list[str] = Field(default_factory=list, max_length=20, examples=[["womenswear", "bags"]])
    styles: list[str] = Field(default_factory=list, max_length=20, examples=[["french"]])
    clothes_size: str = Field("", max_length=40, examples=["size-m"])
    shoe_size: str = Field("", max_length=40, examples=["shoe-37"])
    no_children: bool = Field(False, examples=[False])
    children_ages: list[int] = Field(default_factory=list, max_length=20, examples=[[2]])
    budget: str = Field("", max_length=40, examples=["premium"])
    city: str = Field("", max_length=40, examples=["shanghai"])


def _admission(admission: services.Admission) -> dict:
    names = selectors.tag_names(admission.why)
    return {
        "placed": _membership(admission.placed) if admission.placed else None,
        "offered": [{"group": _group_brief(group), "score": round(score, 4)} for group, score in admission.offered],
        "why": [{"code": code, "name": names.get(code, code)} for code in admission.why],
        "note": str(admission.note),
    }


@router.post(
    "/community/join/{code}",
    response={201: AdmissionOut, **ERRORS},
    summary="Answer the questionnaire through an invite and be placed in a group",
)
def join(request, code: Code, payload: AnswersIn):
    """Her answers become her questionnaire tags; she is placed in the best-matching open group (the invite's
    group first, for a group invite), with up to three others offered (`POST /groups/{id}/join`). A group that
    approves each join leaves her `pending`.

    422 `invite_invalid` (`errors.invite`: unknown, revoked, expired, used_up, group_archived), `answers_invalid`
    (`errors` per question), `no_group`; 403 `banned`; 409 `already_member`. Nothing is written when refused."""
    admission = services.admission_answer(user=request.user, invite_code=code, answers=payload.dict())
    return Status(201, _admission(admission))


@router.post(
    "/groups/{int:group_id}/join",
    response={201: MembershipOut, **ERRORS},
    summary="Join one of the groups I was offered",
)
def join_offered(request, group_id: Id):
    """Any open group with room whose segment's rule she matches. 403 `not_a_match`, 409 `group_full`,
    `already_member`, 422 `not_onboarded` (answer the questionnaire first)."""
    membership = services.admission_join_offered(user=request.user, group_id=group_id)
    return Status(201, _membership(Membership.objects.select_related("group__segment").get(pk=membership.pk)))


# --- my groups -----------------------------------------------------------------------------------


@router.get("/groups/mine", response=list[MembershipOut], summary="My groups (and joins waiting for a leader)")
def groups_mine(request):
    return [_membership(membership) for membership in selectors.my_memberships(request.user)]


@router.get("/groups/{int:group_id}", response={200: GroupOut, 404: ErrorOut}, summary="A group I belong to")
def group_detail(request, group_id: Id):
    """404 unless you are in it (or waiting to be admitted), or an operator."""
    group = _group_or_404(request, group_id)
    mine = selectors.live_membership(request.user, group)
    return {
        **_group_brief(group),
        "leader": group.leader.display_name,
        "announcement": group.announcement,
        "wechat_group_id": group.wechat_group_id if mine is not None and mine.status == "active" else "",
        "my_role": mine.role if mine else None,
        "my_status": mine.status if mine else None,
    }


@router.post(
    "/groups/{int:group_id}/leave", response={200: MembershipOut, **ERRORS}, summary="Leave a group (or withdraw)"
)
def group_leave(request, group_id: Id):
    group = _group_or_404(request, group_id)
    mine = selectors.live_membership(request.user, group)
    if mine is None:
        raise NotFound(_("You are not in this group."), code="membership_not_found")
    membership = services.membership_leave(membership_id=mine.pk, user=request.user)
    membership.group = group
    return _membership(membership)


# --- leaders: members, pending joins, the announcement -------------------------------------------


@router.get(
    "/groups/{int:group_id}/members",
    response={200: list[MemberOut], **ERRORS},
    summary="A group's members and pending joins (its leader, assistants, operators)",
)
def group_members(
    request,
    group_id: Id,
    status: Literal["active", "pending", "all"] = Query("all", description="active, pending or all (both)"),
):
    group = _group_or_404(request, group_id, admin=True)
    statuses = {
        "active": (Membership.Status.ACTIVE,),
        "pending": (Membership.Status.PENDING,),
        "all": Membership.LIVE,
    }[status]
    return [_member(membership) for membership in selectors.group_members(group, statuses=statuses)]


class DecisionIn(Schema):
    reason: str = Field("", max_length=services.REASON_MAX, examples=["发广告"])


class MuteIn(Schema):
    until: datetime | None = Field(..., description="Muted until then (at most 30 days); null lifts the mute")


@router.post(
    "/groups/{int:group_id}/members/{int:membership_id}/approve",
    response={200: MemberOut, **ERRORS},
    summary="Admit a pending join",
)
def member_approve(request, group_id: Id, membership_id: Id, payload: DecisionIn = None):
    """409 `not_pending`, `group_full`; 403 `not_your_group` for another leader's group."""
    return _decide(request, group_id, membership_id, payload, approve=True)


@router.post(
    "/groups/{int:group_id}/members/{int:membership_id}/reject",
    response={200: MemberOut, **ERRORS},
    summary="Turn a pending join away",
)
def member_reject(request, group_id: Id, membership_id: Id, payload: DecisionIn = None):
    """409 `not_pending`; 403 `not_your_group` for another leader's group."""
    return _decide(request, group_id, membership_id, payload, approve=False)


def _decide(request, group_id: int, membership_id: int, payload: DecisionIn | None, *, approve: bool):
    group = _group_or_404(request, group_id, admin=True)
    target = _membership_in(group, membership_id)
    membership = services.membership_decide(
        membership_id=target.pk, actor=request.user, approve=approve, reason=payload.reason if payload else ""
    )
    membership.user = target.user
    return _member(membership)


@router.post(
    "/groups/{int:group_id}/members/{int:membership_id}/remove",
    response={200: MemberOut, **ERRORS},
    summary="Remove a member (a reason is required)",
)
def member_remove(request, group_id: Id, membership_id: Id, payload: DecisionIn):
    """422 `reason_required`; 409 `leader_protected`, `own_membership`, `membership_not_active`."""
    group = _group_or_404(request, group_id, admin=True)
    target = _membership_in(group, membership_id)
    membership = services.membership_remove(membership_id=target.pk, actor=request.user, reason=payload.reason)
    membership.user = target.user
    return _member(membership)


@router.post(
    "/groups/{int:group_id}/members/{int:membership_id}/mute",
    response={200: MemberOut, **ERRORS},
    summary="Mute a member until a time (or lift it)",
)
def member_mute(request, group_id: Id, membership_id: Id, payload: MuteIn):
    group = _group_or_404(request, group_id, admin=True)
    target = _membership_in(group, membership_id)
    membership = services.membership_mute(membership_id=target.pk, actor=request.user, until=payload.until)
    membership.user = target.user
    return _member(membership)


class RoleIn(Schema):
    role: Literal["member", "assistant"]


@router.post(
    "/groups/{int:group_id}/members/{int:membership_id}/role",
    response={200: MemberOut, **ERRORS},
    summary="Make a member an assistant, or an assistant a member (its leader, operators)",
)
def member_role(request, group_id: Id, membership_id: Id, payload: RoleIn):
    """403 `assistant_protected` for an assistant; 409 `leader_protected`, `membership_not_active`."""
    group = _group_or_404(request, group_id, admin=True)
    target = _membership_in(group, membership_id)
    membership = services.membership_set_role(membership_id=target.pk, actor=request.user, role=payload.role)
    membership.user = target.user
    return _member(membership)


class GroupPatchIn(Schema):
    announcement: str | None = Field(None, max_length=1000)
    join_policy: Literal["open", "approval"] | None = None
    name: str | None = Field(None, max_length=60, description="Operators only")
    capacity: int | None = Field(None, ge=services.MIN_CAPACITY, le=services.MAX_CAPACITY, description="Operators")
    wechat_group_id: str | None = Field(None, max_length=64, description="Operators only")


@router.patch(
    "/groups/{int:group_id}",
    response={200: GroupBriefOut, **ERRORS},
    summary="Edit a group: leaders the announcement and joining; operators also name, capacity, WeChat id",
)
def group_patch(request, group_id: Id, payload: GroupPatchIn):
    group = _group_or_404(request, group_id, admin=True)
    group = services.group_update(actor=request.user, group_id=group.pk, **payload.dict(exclude_unset=True))
    return _group_brief(selectors.group_of(group.pk))


@router.get(
    "/groups/{int:group_id}/invites",
    response={200: list[InviteOut], **ERRORS},
    summary="A group's invites (its leader, assistants, operators)",
)
def group_invites(request, group_id: Id):
    group = _group_or_404(request, group_id, admin=True)
    return [_invite(request, invite) for invite in selectors.invites_of(group=group)]


# --- operators: tags -----------------------------------------------------------------------------


class TagIn(Schema):
    dimension: str = Field(..., max_length=16, examples=["category"], description=", ".join(Dimension.values))
    code: str = Field(..., max_length=40, examples=["sportswear"])
    name: str = Field(..., max_length=40, examples=["运动服"])
    sort: int = Field(0, ge=0, le=10_000)


class TagPatchIn(Schema):
    name: str | None = Field(None, max_length=40)
    sort: int | None = Field(None, ge=0, le=10_000)
    active: bool | None = Field(None, description="false: no longer offered (members keep it)")


@router.get("/community/tags", response={200: list[TagOut], **ERRORS}, summary="The tag taxonomy (operators)")
def tags_list(request, dimension: str = Query("", max_length=16)):
    _require_operator(request)
    rows = Tag.objects.order_by("dimension", "sort", "pk")
    if dimension:
        rows = rows.filter(dimension=dimension)
    return list(rows)


@router.post("/community/tags", response={201: TagOut, **ERRORS}, summary="Add a tag (operators)")
def tag_create(request, payload: TagIn):
    """409 `tag_code_taken`, `tag_name_taken` (in its dimension)."""
    return Status(201, services.tag_create(actor=request.user, **payload.dict()))


@router.patch("/community/tags/{int:tag_id}", response={200: TagOut, **ERRORS}, summary="Rename or deactivate")
def tag_update(request, tag_id: Id, payload: TagPatchIn):
    return services.tag_update(actor=request.user, tag_id=tag_id, **payload.dict(exclude_unset=True))


# --- operators: segments -------------------------------------------------------------------------


class RuleIn(Schema):
    all: list[str] = Field(default_factory=list, max_length=20)
    any: list[str] = Field(default_factory=list, max_length=20)
    none: list[str] = Field(default_factory=list, max_length=20)


class SegmentIn(Schema):
    name: str = Field(..., max_length=40, examples=["女装·轻奢"])
    slug: str = Field(..., max_length=40, examples=["women-premium"])
    rule: RuleIn = Field(..., examples=[{"all": ["womenswear", "premium"]}])
    capacity: int = Field(500, ge=services.MIN_CAPACITY, le=services.MAX_CAPACITY)
    description: str = Field("", max_length=200)


class SegmentPatchIn(Schema):
    name: str | None = Field(None, max_length=40)
    rule: RuleIn | None = None
    capacity: int | None = Field(None, ge=services.MIN_CAPACITY, le=services.MAX_CAPACITY)
    description: str | None = Field(None, max_length=200)
    active: bool | None = None


def _rule(rule: RuleIn) -> dict:
    return {key: value for key, value in rule.dict().items() if value}


@router.get("/community/segments", response={200: list[SegmentOut], **ERRORS}, summary="Segments (operators)")
def segments_list(request):
    _require_operator(request)
    stats = _segment_stats()
    return [_segment(segment, stats) for segment in Segment.objects.order_by("name")]


@router.post("/community/segments", response={201: SegmentOut, **ERRORS}, summary="Create a segment (operators)")
def segment_create(request, payload: SegmentIn):
    """422 `unknown_tag`, `rule_contradiction`, `capacity_invalid`; 409 `segment_name_taken`, `segment_slug_taken`."""
    data = payload.dict()
    data["rule"] = _rule(payload.rule)
    segment = services.segment_create(actor=request.user, **data)
    return Status(201, _segment(segment, {}))


@router.patch("/community/segments/{int:segment_id}", response={200: SegmentOut, **ERRORS}, summary="Edit a segment")
def segment_update(request, segment_id: Id, payload: SegmentPatchIn):
    data = payload.dict(exclude_unset=True)
    if payload.rule is not None:
        data["rule"] = _rule(payload.rule)
    segment = services.segment_update(actor=request.user, segment_id=segment_id, **data)
    return _segment(segment, _segment_stats())


# --- operators: groups ---------------------------------------------------------------------------


class GroupIn(Schema):
    leader_id: Id
    segment_id: Id | None = None
    name: str = Field("", max_length=60, description="Default: “<segment> <n>群”")
    capacity: int | None = Field(None, ge=services.MIN_CAPACITY, le=services.MAX_CAPACITY)
    join_policy: Literal["open", "approval"] = "open"
    wechat_group_id: str = Field("", max_length=64)


@router.get(
    "/community/groups",
    response={200: list[GroupRowOut], **ERRORS},
    summary="Every group with its size and purity (operators)",
)
def groups_list(
    request,
    segment_id: int | None = Query(None, ge=1, le=MAX_ID),
    status: Literal["", "open", "full", "archived"] = Query(""),
):
    _require_operator(request)
    return [
        {**_group_brief(group), "leader": group.leader.display_name, "purity": group.purity}
        for group in selectors.groups_overview(segment_id=segment_id, status=status)
    ]


@router.post("/community/groups", response={201: GroupRowOut, **ERRORS}, summary="Open a group (operators)")
def group_create(request, payload: GroupIn):
    _require_operator(request)
    leader = User.objects.filter(pk=payload.leader_id).first()
    if leader is None:
        raise NotFound(_("No such member to lead the group."), code="leader_not_found")
    segment = None
    if payload.segment_id is not None:
        segment = Segment.objects.filter(pk=payload.segment_id).first()
        if segment is None:
            raise NotFound(_("No such segment."), code="segment_not_found")
    group = services.group_create(
        actor=request.user,
        leader=leader,
        segment=segment,
        name=payload.name,
        capacity=payload.capacity,
        join_policy=payload.join_policy,
        wechat_group_id=payload.wechat_group_id,
    )
    group = selectors.group_of(group.pk)
    return Status(201, {**_group_brief(group), "leader": group.leader.display_name, "purity": None})


@router.post(
    "/community/groups/{int:group_id}/archive", response={200: GroupBriefOut, **ERRORS}, summary="Archive a group"
)
def group_archive(request, group_id: Id):
    group = services.group_archive(actor=request.user, group_id=group_id)
    return _group_brief(selectors.group_of(group.pk))


# --- invites -------------------------------------------------------------------------------------


class InviteIn(Schema):
    group_id: Id | None = Field(
        None, description="A group's invite (its leader, assistants, operators); none: the community's (operators)"
    )
    label: str = Field("", max_length=60, examples=["小红书 3月"])
    expires_at: datetime | None = None
    max_uses: int | None = Field(None, ge=1, le=100_000)


@router.get("/community/invites", response={200: list[InviteOut], **ERRORS}, summary="Community invites (operators)")
def invites_list(request):
    _require_operator(request)
    return [_invite(request, invite) for invite in selectors.invites_of(community=True)]


@router.post("/community/invites", response={201: InviteOut, **ERRORS}, summary="Create an invite")
def invite_create(request, payload: InviteIn):
    group = None
    if payload.group_id is not None:
        group = _group_or_404(request, payload.group_id, admin=True)
    invite = services.invite_create(
        actor=request.user, group=group, label=payload.label, expires_at=payload.expires_at, max_uses=payload.max_uses
    )
    return Status(201, _invite(request, invite))


@router.post(
    "/community/invites/{int:invite_id}/revoke", response={200: InviteOut, **ERRORS}, summary="Withdraw an invite"
)
def invite_revoke(request, invite_id: Id):
    return _invite(request, services.invite_revoke(actor=request.user, invite_id=invite_id))


# --- operators: bans -----------------------------------------------------------------------------


class BanIn(Schema):
    reason: str = Field(..., max_length=services.REASON_MAX)


class BanOut(Schema):
    user_id: int
    banned_at: datetime | None
    ban_reason: str


def _user_or_404(user_id: int) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("No such member."), code="user_not_found")
    return user


@router.post("/community/members/{int:user_id}/ban", response={200: BanOut, **ERRORS}, summary="Ban from the community")
def member_ban(request, user_id: Id, payload: BanIn):
    """Her live places end (removed); no invite or group admits her until unbanned. 409 `bans_a_leader`."""
    _require_operator(request)
    profile = services.member_ban(user=_user_or_404(user_id), actor=request.user, reason=payload.reason)
    return {"user_id": user_id, "banned_at": profile.banned_at, "ban_reason": profile.ban_reason}


@router.post("/community/members/{int:user_id}/unban", response={200: BanOut, **ERRORS}, summary="Lift a ban")
def member_unban(request, user_id: Id):
    _require_operator(request)
    profile = services.member_unban(user=_user_or_404(user_id), actor=request.user)
    return {"user_id": user_id, "banned_at": profile.banned_at, "ban_reason": profile.ban_reason}
