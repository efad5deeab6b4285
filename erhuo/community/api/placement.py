"""Community API: placement — every group's purity, placement runs and the moves they propose (operators).

Operators only (`community.manage_community`): anyone else gets 403
`not_operator` with nothing changed. Purity is the mean similarity of two of a
group's members on tag profiles weighted by each tag's informativeness in the
community (`erhuo.community.placement`), 0..1, null under two members.
"""

from datetime import datetime
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from erhuo.community import selectors
from erhuo.community.models import ProposedMove
from erhuo.community.services import groups as group_services
from erhuo.community.services import placement as services
from erhuo.core.api import ErrorOut
from erhuo.core.errors import PermissionRefused

router = Router(tags=["community: placement"])

MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _require_operator(request) -> None:
    if not group_services.is_operator(request.user):
        raise PermissionRefused(_("Only community operators can run placement and decide moves."), code="not_operator")


# --- shapes --------------------------------------------------------------------------------------


class GroupRefOut(Schema):
    id: int
    name: str


class MoveOut(Schema):
    id: int
    run_id: int
    status: str = Field(..., description="proposed, approved, rejected or stale", examples=["proposed"])
    status_label: str
    user_id: int
    display_name: str
    main_tags: list[str] = Field(
        ..., description="Her most telling tags, first the strongest", examples=[["上海", "M"]]
    )
    from_group: GroupRefOut
    to_group: GroupRefOut
    fit_before: float = Field(..., description="Her mean similarity with her group's other members", examples=[0.12])
    fit_after: float = Field(..., description="Her mean similarity with the target group's members", examples=[0.71])
    decided_by: str | None = Field(..., description="Who approved or rejected it")
    updated_at: datetime


class GroupPurityOut(Schema):
    id: int
    name: str
    segment: str | None
    status: str
    member_count: int
    capacity: int
    purity: float | None = Field(..., description="Now; null under two members", examples=[0.38])
    purity_at_run: float | None = Field(..., description="When the latest run measured it")
    purity_after: float | None = Field(..., description="As the latest run expects it with all its moves applied")
    mixed: bool = Field(..., description="Purity under `mixed_below`: the run proposes moves out of it")


class RunOut(Schema):
    id: int
    created_at: datetime
    created_by: str | None
    note: str
    counts: dict[str, int] = Field(..., examples=[{"proposed": 3, "approved": 1, "rejected": 0, "stale": 0}])


class PlacementOut(Schema):
    run: RunOut | None = Field(..., description="The latest run; null before the first")
    mixed_below: float = Field(..., examples=[0.4])
    groups: list[GroupPurityOut]
    moves: list[MoveOut] = Field(..., description="The latest run's moves, in the order proposed (best first)")


class RunIn(Schema):
    group_ids: list[Id] | None = Field(
        None,
        max_length=services.MAX_GROUPS,
        description="The groups to look at (moves go between them only); all groups when empty",
        examples=[[12, 13, 14]],
    )


class StaleOut(Schema):
    id: int
    detail: str


class ApproveAllOut(Schema):
    approved: list[int] = Field(..., description="Ids of the moves applied")
    stale: list[StaleOut] = Field(..., description="Moves no longer possible, each with why")


def _move(move: ProposedMove, tags: list[str] | None = None) -> dict:
    return {
        "id": move.pk,
        "run_id": move.run_id,
        "status": move.status,
        "status_label": move.get_status_display(),
        "user_id": move.user_id,
        "display_name": move.user.display_name,
        "main_tags": tags if tags is not None else getattr(move, "main_tags", []),
        "from_group": {"id": move.from_group_id, "name": move.from_group.name},
        "to_group": {"id": move.to_group_id, "name": move.to_group.name},
        "fit_before": move.fit_before,
        "fit_after": move.fit_after,
        "decided_by": move.decided_by.display_name if move.decided_by_id else None,
        "updated_at": move.updated_at,
    }


def _overview() -> dict:
    overview = selectors.placement_overview()
    run = overview["run"]
    return {
        "run": None
        if run is None
        else {
            "id": run.pk,
            "created_at": run.created_at,
            "created_by": run.created_by.display_name if run.created_by_id else None,
            "note": run.note,
            "counts": overview["counts"],
        },
        "mixed_below": overview["mixed_below"],
        "groups": [
            {
                "id": row.group.pk,
                "name": row.group.name,
                "segment": row.group.segment.name if row.group.segment_id else None,
                "status": row.group.status,
                "member_count": row.group.member_count,
                "capacity": row.group.capacity,
                "purity": None if row.purity is None else round(row.purity, 4),
                "purity_at_run": row.purity_at_run,
                "purity_after": row.purity_after,
                "mixed": row.mixed,
            }
            for row in overview["rows"]
        ],
        "moves": [_move(move) for move in overview["moves"]],
    }


def _move_read(move_id: int) -> dict:
    move = ProposedMove.objects.select_related("user", "from_group", "to_group", "decided_by").get(pk=move_id)
    tags = selectors.main_tags([move.user_id], weights=selectors.community_tag_weights()).get(move.user_id, [])
    return _move(move, tags)


# --- routes --------------------------------------------------------------------------------------


@router.get(
    "/community/placement/runs/latest",
    response={200: PlacementOut, **ERRORS},
    summary="Every group's purity and the latest run's moves (operators)",
)
def placement_latest(request):
    _require_operator(request)
    return _overview()


@router.post(
    "/community/placement/runs",
    response={201: PlacementOut, **ERRORS},
    summary="Measure the groups and propose moves out of the mixed ones (operators)",
)
def placement_run(request, payload: RunIn | None = None):
    """The previous runs' moves still proposed become stale."""
    group_ids = payload.group_ids if payload is not None and payload.group_ids else None
    services.placement_run(actor=request.user, group_ids=group_ids)
    return Status(201, _overview())


@router.post(
    "/community/placement/moves/{int:move_id}/approve",
    response={200: MoveOut, **ERRORS},
    summary="Apply a proposed move (operators); 409 move_stale when it is no longer possible",
)
def move_approve(request, move_id: Id):
    services.move_approve(move_id=move_id, actor=request.user)
    return _move_read(move_id)


@router.post(
    "/community/placement/moves/{int:move_id}/reject",
    response={200: MoveOut, **ERRORS},
    summary="Reject a proposed move: she stays (operators)",
)
def move_reject(request, move_id: Id):
    services.move_reject(move_id=move_id, actor=request.user)
    return _move_read(move_id)


@router.post(
    "/community/placement/runs/{int:run_id}/approve-all",
    response={200: ApproveAllOut, **ERRORS},
    summary="Apply every move of a run still proposed (operators)",
)
def moves_approve_all(request, run_id: Id):
    result = services.moves_approve_all(run_id=run_id, actor=request.user)
    return {"approved": result.approved, "stale": [{"id": pk, "detail": why} for pk, why in result.stale]}
