"""Public pages: an item on sale with its three guarantees, and its authentication report.

No login needed. Only items on sale (listed, reserved, sold) have a page:
an item still in the pipeline, rejected or withdrawn is nobody's business
but its seller's. Nothing personal of the seller is shown but her display
name; the authenticator appears by role and staff number, never by name.
"""

from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from erhuo.catalog.models import CareStep, Grade, Item
from erhuo.community import selectors as community_selectors
from erhuo.consignment import selectors
from erhuo.consignment.models import AuthenticationReport
from erhuo.core import events

# Staff may read every report, failed ones included (the public never sees a failed one).
STAFF_PERMISSION = "accounts.view_operator_console"


@require_GET
def item_public(request, item_id: int):
    shown = selectors.public_item(item_id=item_id)
    # A community-only item (社群款) does not exist for anyone outside the groups it was dropped into.
    if shown is None or not community_selectors.item_visible_in_groups(shown.item, request.user):
        raise Http404
    item = shown.item
    if request.user.is_authenticated:
        # What she looks at tells the community what she likes (behaviour tags); handled off the request.
        events.emit("item_viewed", item_id=item.pk, user_id=request.user.pk)
    grade = item.grade or item.declared_grade
    return render(
        request,
        "consignment/public/item.html",
        {
            "shown": shown,
            "item": item,
            "grade": grade,
            "grade_label": Grade(grade).label if grade else "",
            "grade_inspected": bool(item.grade),
            "self_ship": item.fulfilment == Item.Fulfilment.SELF_SHIP,
            "consignment": getattr(item, "consignment", None),
            "care_labels": dict(CareStep.choices),
        },
    )


def _may_read_report(user, report: AuthenticationReport) -> bool:
    if user.is_authenticated and user.has_perm(STAFF_PERMISSION):
        return True
    if report.result != AuthenticationReport.Result.PASS:
        return False
    # A passing report is public once its item has been offered for sale (buyers keep reading it
    # after the sale); before that only its seller sees it.
    return report.item.listed_at is not None or (user.is_authenticated and report.item.seller_id == user.pk)


@require_GET
def authentication_report(request, item_id: int):
    report = selectors.authentication_report_for_page(item_id=item_id)
    if report is None or not _may_read_report(request.user, report):
        raise Http404
    if not community_selectors.item_visible_in_groups(report.item, request.user):
        raise Http404
    item = report.item
    return render(
        request,
        "consignment/public/authentication_report.html",
        {
            "report": report,
            "item": item,
            "passed": report.result == AuthenticationReport.Result.PASS,
            "evidence": selectors.authentication_evidence(item_id=item.pk),
            "item_is_public": item.status in selectors.PUBLIC_STATUSES,
        },
    )


urlpatterns = [
    path("items/<int:item_id>/", item_public, name="item_public"),
    path("items/<int:item_id>/authentication/", authentication_report, name="authentication_report"),
]
