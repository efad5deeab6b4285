from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from erhuo.accounts import roles as role_registry


def navigation(request):
    """The areas a person can reach, for the header and the bottom tab bar."""
    user = getattr(request, "user", None)
    items = [{"key": "home", "label": _("Home"), "url": reverse("web:home"), "icon": "⌂"}]
    items.append({"key": "sell", "label": _("Consign"), "url": reverse("web:seller_area"), "icon": "✦"})
    if user is not None and user.is_authenticated:
        if user.has_perm("accounts.view_operator_console"):
            items.append({"key": "ops", "label": _("Operations"), "url": reverse("web:operator_console"), "icon": "☰"})
        items.append({"key": "me", "label": _("Me"), "url": reverse("accounts:profile"), "icon": "☺"})
    else:
        items.append({"key": "login", "label": _("Log in"), "url": reverse("accounts:login"), "icon": "☺"})
    return {
        "nav_items": items,
        "active_nav": _active(request),
        "role_labels": {code: role.label for code, role in role_registry.ROLES.items()},
    }


def _active(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    if match.view_name == "web:home":
        return "home"
    if match.view_name == "web:seller_area":
        return "sell"
    if match.view_name == "web:operator_console" or match.view_name.startswith(
        (
            "accounts:member_",
            "accounts:ops_",
            "consignment:ops_",
            "trust:ops_",
            "experts:ops_",
            "payments:ops_",
            "payments:finance",
            "ledger:",
            "accounts:personal_data_access",
            "privacy:deletion_queue",
            "privacy:deletion_detail",
            "privacy:deletion_erase",
            "privacy:deletion_refuse",
            "community:ops_",
        )
    ):
        return "ops"
    if match.view_name.startswith(("consignment:seller_", "trust:verify", "trust:deposit", "payments:pay")):
        return "sell"
    if match.view_name in {"accounts:login", "accounts:signup"}:
        return "login"
    if match.namespace in {"accounts", "privacy", "community"} or match.view_name.startswith(
        ("experts:apply", "experts:dashboard", "experts:withdraw", "experts:profile_update")
    ):
        return "me"
    return ""
