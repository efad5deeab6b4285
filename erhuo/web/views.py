from django.contrib.auth.decorators import permission_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponsePermanentRedirect, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from erhuo.accounts import roles as role_registry
from erhuo.accounts import selectors as account_selectors
from erhuo.trust import selectors as trust_selectors


def home(request):
    return render(request, "web/home.html", {"member_count": account_selectors.active_member_count()})


def favicon(request):
    # Resolved per request: with the manifest storage the hashed name exists only after collectstatic.
    return HttpResponsePermanentRedirect(static("web/favicon.svg"))


def guarantees(request):
    return render(request, "web/guarantees.html")


def _legal_page(request, name: str, title: str):
    language = "en" if get_language() == "en" else "zh-hans"
    return render(request, "web/legal/page.html", {"document": f"web/legal/{name}.{language}.html", "title": title})


def privacy(request):
    return _legal_page(request, "privacy", _("Privacy policy"))


def community_rules(request):
    return _legal_page(request, "rules", _("Community rules"))


def seller_area(request):
    user = request.user
    return render(
        request,
        "web/seller_area.html",
        {"is_seller": trust_selectors.is_verified(user), "verification": trust_selectors.verification_status(user)},
    )


@permission_required("accounts.view_operator_console", raise_exception=True)
def operator_console(request):
    role_counts = account_selectors.role_counts(role_registry.ROLES.keys())
    stats = account_selectors.member_stats()
    my_roles = [role_registry.ROLES[code] for code in sorted(request.user.role_codes()) if code in role_registry.ROLES]
    return render(
        request,
        "web/operator_console.html",
        {
            "stats": stats,
            "my_roles": my_roles,
            "role_rows": [(role, role_counts.get(code, 0)) for code, role in role_registry.ROLES.items()],
        },
    )


# --- error pages: JSON under /api/, the site's own style elsewhere ---------


def _error(request, status: int, title: str, detail: str, code: str):
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "detail": detail}, status=status)
    return render(request, "web/error.html", {"status": status, "title": title, "detail": detail}, status=status)


def api_not_found(request, *args, **kwargs):
    return JsonResponse({"code": "not_found", "detail": _("Not found.")}, status=404)


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return _error(request, 413, _("Too large"), _("The request is too large."), "request_too_large")
    return _error(request, 400, _("Bad request"), _("The request could not be understood."), "bad_request")


def permission_denied(request, exception=None):
    return _error(
        request, 403, _("Not allowed"), _("You do not have permission to open this page."), "permission_denied"
    )


def page_not_found(request, exception=None):
    return _error(request, 404, _("Page not found"), _("This page does not exist or has moved."), "not_found")


def server_error(request):
    # No context processors here: the database or the session may be what failed.
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "server_error", "detail": _("Something went wrong on our side. Please try again later.")},
            status=500,
        )
    return HttpResponseServerError(loader.get_template("web/500.html").render({}))


def csrf_failure(request, reason=""):
    return _error(
        request,
        403,
        _("Please try again"),
        _("The form expired or came from another site. Reload the page and submit again."),
        "csrf_failed",
    )
