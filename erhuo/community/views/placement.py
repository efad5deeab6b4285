"""Community pages: placement — every group's purity, computing moves for the mixed groups, approving them.

/ops/community/placement/ and its POSTs: operators (`community.manage_community`),
403 for anyone else (the login page when logged out). Thin: one service per
POST, the overview from `selectors.placement_overview`; a refusal (a move no
longer possible, already decided) becomes a message with nothing else changed.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from erhuo.community import selectors
from erhuo.community.models import ProposedMove
from erhuo.community.services import groups as group_services
from erhuo.community.services import placement as services
from erhuo.core.errors import DomainError


def operator_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not group_services.is_operator(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _back(anchor: str = ""):
    url = reverse("community:ops_placement")
    return redirect(f"{url}#{anchor}" if anchor else url)


def _refused(request, error: DomainError) -> None:
    if error.status == 404:
        raise Http404
    if error.status == 403:
        raise PermissionDenied
    messages.error(request, str(error.message))


@operator_required
@require_GET
def ops_placement(request):
    overview = selectors.placement_overview()
    rows = overview["rows"]
    return render(
        request,
        "community/placement.html",
        {
            **overview,
            "mixed_count": sum(1 for row in rows if row.mixed),
            "mixed_percent": round(overview["mixed_below"] * 100),
        },
    )


@operator_required
@require_POST
def ops_placement_run(request):
    try:
        run = services.placement_run(actor=request.user)
    except DomainError as error:
        _refused(request, error)
        return _back()
    count = run.moves.count()
    if count:
        messages.success(
            request,
            ngettext("%(count)s move proposed. %(note)s.", "%(count)s moves proposed. %(note)s.", count)
            % {"count": count, "note": run.note},
        )
    else:
        messages.info(request, _("No move would make a group clearly purer. %(note)s.") % {"note": run.note})
    return _back("moves")


@operator_required
@require_POST
def ops_placement_move(request, move_id: int, action: str):
    move = ProposedMove.objects.select_related("user", "to_group").filter(pk=move_id).first()
    if move is None:
        raise Http404
    try:
        if action == "approve":
            services.move_approve(move_id=move_id, actor=request.user)
            messages.success(
                request,
                _("%(name)s moved to %(group)s.") % {"name": move.user.display_name, "group": move.to_group.name},
            )
        else:
            services.move_reject(move_id=move_id, actor=request.user)
            messages.info(request, _("%(name)s stays where she is.") % {"name": move.user.display_name})
    except DomainError as error:
        _refused(request, error)
    return _back(f"group-{move.from_group_id}")


@operator_required
@require_POST
def ops_placement_approve_all(request, run_id: int):
    try:
        result = services.moves_approve_all(run_id=run_id, actor=request.user)
    except DomainError as error:
        _refused(request, error)
        return _back()
    if result.approved:
        messages.success(
            request,
            ngettext("%(count)s member moved.", "%(count)s members moved.", len(result.approved))
            % {"count": len(result.approved)},
        )
    for _move_id, why in result.stale:
        messages.warning(request, why)
    if not result.approved and not result.stale:
        messages.info(request, _("No move was waiting."))
    return _back()


urlpatterns = [
    path("ops/community/placement/", ops_placement, name="ops_placement"),
    path("ops/community/placement/run/", ops_placement_run, name="ops_placement_run"),
    path(
        "ops/community/placement/moves/<int:move_id>/approve/",
        ops_placement_move,
        {"action": "approve"},
        name="ops_placement_approve",
    ),
    path(
        "ops/community/placement/moves/<int:move_id>/reject/",
        ops_placement_move,
        {"action": "reject"},
        name="ops_placement_reject",
    ),
    path(
        "ops/community/placement/runs/<int:run_id>/approve-all/",
        ops_placement_approve_all,
        name="ops_placement_approve_all",
    ),
]
