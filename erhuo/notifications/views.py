"""The notification centre: my notices, newest first, unread ones highlighted; mark one or all read.

Thin: one service writes, selectors read. A person only ever sees and marks
her own notices; another person's notice is 404 and nothing changes.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erhuo.core.errors import NotFound
from erhuo.notifications import selectors, services

PAGE_SIZE = 20


@login_required
@require_GET
def notice_list(request):
    unread_only = request.GET.get("show") == "unread"
    page = Paginator(selectors.notices_for(request.user, unread_only=unread_only), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    notices = list(page.object_list)
    return render(
        request,
        "notifications/notices.html",
        {
            "page": page,
            "notices": notices,
            "unread_only": unread_only,
            "newest_id": max((notice.pk for notice in notices), default=None),
            "active_nav": "me",
        },
    )


def _back(request) -> str:
    """Back to the page of the list she was on (only our own list's query)."""
    url = reverse("notifications:list")
    query = {key: request.POST[key] for key in ("page", "show") if request.POST.get(key, "").isalnum()}
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


@login_required
@require_POST
def notice_read(request, notice_id: int):
    """Mark read; with `open`, then go where the notice leads (its link was checked when it was sent)."""
    try:
        notice = services.notice_mark_read(notice_id=notice_id, user=request.user)
    except NotFound:
        raise Http404 from None
    if request.POST.get("open") and notice.url:
        return redirect(notice.url)
    return redirect(_back(request))


@login_required
@require_POST
def notice_read_all(request):
    up_to = request.POST.get("up_to_id", "")
    marked = services.notices_mark_all_read(
        user=request.user, up_to_id=int(up_to) if up_to.isdigit() and len(up_to) <= 18 else None
    )
    if marked:
        messages.success(request, _("All your notices are marked read."))
    return redirect(_back(request))
