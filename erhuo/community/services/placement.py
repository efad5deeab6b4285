"""Placement runs and proposed moves: every write of them. The arithmetic is `erhuo.community.placement`.

A run (operators: `community.manage_community`) measures every group's purity —
the mean similarity of two of its members, on tag profiles weighted by how much
sharing each tag says in the whole community (`selectors.community_tag_weights`)
— and, for the mixed groups (purity under `placement.MIXED_BELOW`), proposes
moves: members who fit another group of a segment they match, with room, much
better than their own (`placement.propose_moves`). A new run makes the previous
runs' moves still proposed STALE: they were computed on groups that have changed.

An operator approves a move (the member is moved by `groups.membership_move`)
or rejects it. A move that can no longer be made — she left, the target filled
or was archived, she was banned — becomes STALE with the reason, and the
approval is refused (`Conflict` "move_stale") with nothing else changed.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from erhuo.community import placement, selectors
from erhuo.community.models import Group, Membership, PlacementRun, ProposedMove
from erhuo.community.services import groups as group_services
from erhuo.core import states
from erhuo.core.errors import Conflict, DomainError, NotFound, PermissionRefused, ValidationFailed

P = ProposedMove.Status
# Moves proposed by one run at most: an operator reviews them one by one.
MOVES_LIMIT = 200
MAX_GROUPS = 2000


def _require_operator(actor) -> None:
    if not group_services.is_operator(actor):
        raise PermissionRefused(_("Only community operators can run placement and decide moves."), code="not_operator")


def _clean_group_ids(group_ids) -> list[int] | None:
    if group_ids is None:
        return None
    try:
        cleaned = sorted({int(group_id) for group_id in group_ids})
    except (TypeError, ValueError) as error:
        raise ValidationFailed(
            _("Groups are given by their numbers."),
            code="group_ids_invalid",
            fields={"group_ids": [_("Not a number.")]},
        ) from error
    if not cleaned or len(cleaned) > MAX_GROUPS:
        raise ValidationFailed(
            _("Choose between 1 and %(max)s groups, or leave the choice empty for all.") % {"max": MAX_GROUPS},
            code="group_ids_invalid",
        )
    return cleaned


def _purity(members: list, weights: dict) -> float | None:
    if len(members) < 2:
        return None
    return placement.Centroid.of(placement.weigh(profile, weights) for _user_id, profile in members).purity()


def _rounded(purities: dict) -> dict[str, float | None]:
    return {str(group_id): None if value is None else round(value, 4) for group_id, value in purities.items()}


def placement_run(*, actor, group_ids=None, limit: int = MOVES_LIMIT) -> PlacementRun:
    """Measure the groups' purity and propose moves out of the mixed ones; the previous moves go STALE.

    `group_ids`: the groups to look at (moves go between them only); all groups not archived when None.
    Groups outside any segment are measured but neither give nor take members: their members chose them.
    """
    _require_operator(actor)
    group_ids = _clean_group_ids(group_ids)
    groups = Group.objects.exclude(status=Group.Status.ARCHIVED).select_related("segment").order_by("pk")
    if group_ids is not None:
        groups = groups.filter(pk__in=group_ids)
    groups = list(groups)
    if group_ids is not None and len(groups) != len(group_ids):
        missing = sorted(set(group_ids) - {group.pk for group in groups})
        raise NotFound(
            _("No such group (or archived): %(ids)s.") % {"ids": ", ".join(str(pk) for pk in missing[:10])},
            code="group_not_found",
        )
    weights = selectors.community_tag_weights()
    members = selectors.placement_members([group.pk for group in groups])
    in_segments = [group for group in groups if group.segment_id is not None]
    purity_now = {group.pk: _purity(members[group.pk], weights) for group in groups}
    mixed = [
        group.pk
        for group in in_segments
        if purity_now[group.pk] is not None and purity_now[group.pk] < placement.MIXED_BELOW
    ]
    plan = placement.propose_moves(
        {group.pk: members[group.pk] for group in in_segments},
        {group.pk: group.segment.rule or {} for group in in_segments if group.status == Group.Status.OPEN},
        {group.pk: (group.member_count, group.capacity) for group in in_segments},
        limit,
        weights=weights,
        from_groups=mixed,
    )
    sizes = {group.pk: len(members[group.pk]) for group in groups}
    for move in plan.moves:
        sizes[move.from_group] -= 1
        sizes[move.to_group] += 1
    purity_after = dict(purity_now)
    for group_id, value in plan.purity_after.items():
        purity_after[group_id] = value if sizes[group_id] >= 2 else None
    with transaction.atomic():
        superseded = list(ProposedMove.objects.select_for_update().filter(status=P.PROPOSED).order_by("pk"))
        run = PlacementRun.objects.create(
            created_by=actor,
            purity_before=_rounded(purity_now),
            purity_after=_rounded(purity_after),
            note=_("%(groups)s groups, %(mixed)s mixed, %(moves)s moves proposed")
            % {"groups": len(groups), "mixed": len(mixed), "moves": len(plan.moves)},
        )
        for move in superseded:
            states.transition(
                move, to=P.STALE, actor=actor, note=_("Superseded by placement run %(run)s.") % {"run": run.pk}
            )
        created = ProposedMove.objects.bulk_create(
            [
                ProposedMove(
                    run=run,
                    user_id=move.member_id,
                    from_group_id=move.from_group,
                    to_group_id=move.to_group,
                    fit_before=round(move.fit_before, 4),
                    fit_after=round(move.fit_after, 4),
                )
                for move in plan.moves
            ]
        )
        for move in created:
            states.record_start(move, actor=actor)
    return run


def _lock_move(move_id) -> ProposedMove:
    move = (
        ProposedMove.objects.select_for_update()
        .select_related("user", "from_group", "to_group")
        .filter(pk=move_id)
        .first()
    )
    if move is None:
        raise NotFound(_("No such proposed move."), code="move_not_found")
    if move.status != P.PROPOSED:
        raise Conflict(
            _("This move was already decided: %(status)s.") % {"status": move.get_status_display()},
            code="move_decided",
        )
    return move


def _why_not_possible(move: ProposedMove) -> tuple[Membership | None, str | None]:
    """Her active place in the group she would leave, or why the move cannot be made any more."""
    name = move.user.display_name or move.user.username
    place = Membership.objects.filter(
        user_id=move.user_id, group_id=move.from_group_id, status=Membership.Status.ACTIVE
    ).first()
    target = Group.objects.filter(pk=move.to_group_id).first()
    if place is None:
        return None, _("%(name)s is no longer in %(group)s.") % {"name": name, "group": move.from_group.name}
    if target.status == Group.Status.ARCHIVED:
        return None, _("%(group)s has been archived.") % {"group": target.name}
    if target.member_count >= target.capacity or target.status != Group.Status.OPEN:
        return None, _("%(group)s is full now (%(count)s/%(capacity)s).") % {
            "group": target.name,
            "count": target.member_count,
            "capacity": target.capacity,
        }
    if Membership.objects.filter(user_id=move.user_id, group=target, status__in=Membership.LIVE).exists():
        return None, _("%(name)s is in %(group)s already.") % {"name": name, "group": target.name}
    return place, None


def move_approve(*, move_id: int, actor) -> ProposedMove:
    """Move her as proposed (`groups.membership_move`, fit recorded). If that is no longer possible, the move
    becomes STALE with the reason and `Conflict("move_stale")` is raised; nothing else changes."""
    _require_operator(actor)
    stale_reason = None
    with transaction.atomic():
        move = _lock_move(move_id)
        place, stale_reason = _why_not_possible(move)
        if stale_reason is None:
            try:
                with transaction.atomic():
                    group_services.membership_move(
                        membership_id=place.pk, to_group_id=move.to_group_id, actor=actor, fit=move.fit_after
                    )
            except (Conflict, PermissionRefused) as error:  # filled, left or banned since the check above
                stale_reason = str(error.message)
        if stale_reason is None:
            states.transition(move, to=P.APPROVED, actor=actor, updates={"decided_by": actor})
        else:
            states.transition(move, to=P.STALE, actor=actor, note=stale_reason[:500], updates={"decided_by": actor})
    if stale_reason is not None:
        raise Conflict(_("This move is no longer possible: %(reason)s") % {"reason": stale_reason}, code="move_stale")
    return move


def move_reject(*, move_id: int, actor) -> ProposedMove:
    """She stays where she is."""
    _require_operator(actor)
    with transaction.atomic():
        move = _lock_move(move_id)
        states.transition(move, to=P.REJECTED, actor=actor, updates={"decided_by": actor})
    return move


@dataclass
class ApproveAllResult:
    approved: list[int] = field(default_factory=list)
    stale: list[tuple[int, str]] = field(default_factory=list)  # (move id, why)


def moves_approve_all(*, run_id: int, actor) -> ApproveAllResult:
    """Approve every move of the run still proposed, best first; each in its own transaction, so a move that
    became impossible goes STALE and the others still apply."""
    _require_operator(actor)
    if not PlacementRun.objects.filter(pk=run_id).exists():
        raise NotFound(_("No such placement run."), code="run_not_found")
    result = ApproveAllResult()
    move_ids = list(
        ProposedMove.objects.filter(run_id=run_id, status=P.PROPOSED).order_by("pk").values_list("pk", flat=True)
    )
    for move_id in move_ids:
        try:
            move_approve(move_id=move_id, actor=actor)
        except DomainError as error:
            if error.code == "move_stale":
                result.stale.append((move_id, str(error.message)))
            elif error.code != "move_decided":  # decided meanwhile by someone else: nothing to do
                raise
        else:
            result.approved.append(move_id)
    return result
