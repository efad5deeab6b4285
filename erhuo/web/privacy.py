"""Personal data across every app: the member's download, what blocks an erasure, and the erasure itself.

`web` is the only app allowed to import every other one, so this is where the
apps' parts are put together. Each app may offer, with exactly these names:

    <app>.selectors.personal_data_export(*, user) -> dict   (its section of the download, unmasked)
    <app>.services.erase_blockers(*, user) -> list[str]     (why the account cannot be erased yet)
    <app>.services.personal_data_erase(*, user) -> None     (remove what it holds; keep what the law keeps)

`APP_MODULES` is the one list of apps asked. An app that does not (yet) have
a module or a function is skipped, so this works before and after each app
lands. Accounts goes first in the download and last in the erasure (the
erasure closes the account); consignment and catalog have no functions of
their own here yet, so their parts are below, read-only.
"""

import json
from collections.abc import Callable
from importlib import import_module

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.accounts import selectors as account_selectors
from erhuo.accounts import services as account_services
from erhuo.accounts.models import DeletionRequest, User
from erhuo.catalog.models import Item
from erhuo.consignment.models import IntakeBatch

# The apps asked for their part, in the order their sections appear in the download.
APP_MODULES = (
    "erhuo.trust",
    "erhuo.experts",
    "erhuo.community",
    "erhuo.market",
    "erhuo.notifications",
    "erhuo.ledger",
    "erhuo.payments",
)

EXPORT_FORMAT_VERSION = 1


def _module(name: str):
    """The module, or None when the app has not written it yet (an error inside it still raises)."""
    try:
        return import_module(name)
    except ModuleNotFoundError as error:
        if error.name == name:
            return None
        raise


def _app_functions(room: str, function: str) -> list[tuple[str, Callable]]:
    """(app label, function) for every app in APP_MODULES whose `room` module has `function`."""
    found = []
    for package in APP_MODULES:
        module = _module(f"{package}.{room}")
        callable_ = getattr(module, function, None) if module is not None else None
        if callable(callable_):
            found.append((package.rsplit(".", 1)[-1], callable_))
    return found


# --- consignment and catalog (read-only, until those apps offer their own) ----


def consignment_personal_data_export(*, user: User) -> dict:
    """The member's intake batches and the items she consigned, with where each one stands."""
    items = Item.objects.filter(seller=user).select_related("category", "brand").order_by("created_at", "pk")
    batches = IntakeBatch.objects.filter(seller=user).order_by("created_at", "pk")
    return {
        "batches": [
            {
                "code": batch.code,
                "status": batch.status,
                "carrier": batch.carrier,
                "tracking_number": batch.tracking_number,
                "shipped_at": batch.shipped_at.isoformat() if batch.shipped_at else None,
                "note": batch.note,
                "created_at": batch.created_at.isoformat(),
            }
            for batch in batches
        ],
        "items": [
            {
                "id": item.pk,
                "title": item.title,
                "description": item.description,
                "category": item.category.name,
                "brand": str(item.brand) if item.brand else "",
                "size": item.size,
                "colour": item.colour,
                "status": item.status,
                "price_fen": item.price_fen,
                "floor_price_fen": item.floor_price_fen,
                "created_at": item.created_at.isoformat(),
            }
            for item in items
        ],
    }


def consignment_erase_blockers(*, user: User) -> list[str]:
    """Items still somewhere in the pipeline: each must reach a final step (returned, sold and completed, …) first."""
    terminal = [status for status, targets in Item.TRANSITIONS.items() if not targets]
    open_items = Item.objects.filter(seller=user).exclude(status__in=terminal).order_by("pk")
    count = open_items.count()
    if not count:
        return []
    return [
        _("%(count)s consigned item(s) are still in our care or on sale: %(titles)s.")
        % {"count": count, "titles": "、".join(open_items.values_list("title", flat=True)[:5])}
    ]


# --- the download -----------------------------------------------------------


def personal_data_export(*, user: User) -> dict:
    """Everything we hold about `user`, unmasked, by app."""
    data = {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "accounts": account_selectors.personal_data_export(user=user),
        "consignment": consignment_personal_data_export(user=user),
    }
    for label, export in _app_functions("selectors", "personal_data_export"):
        data[label] = export(user=user)
    return data


def personal_data_export_json(*, user: User) -> bytes:
    return json.dumps(personal_data_export(user=user), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode(
        "utf-8"
    )


def export_filename(*, now=None) -> str:
    return f"erhuo-my-data-{timezone.localdate(now or timezone.now()).isoformat()}.json"


# --- erasure ----------------------------------------------------------------


def erase_blockers(*, user: User) -> list[str]:
    """Why `user`'s account cannot be erased now, from every app (empty: it can)."""
    blockers = list(account_services.erase_blockers(user=user))
    blockers += consignment_erase_blockers(user=user)
    for _label, app_blockers in _app_functions("services", "erase_blockers"):
        blockers += [str(blocker) for blocker in app_blockers(user=user)]
    return blockers


def deletion_request_create(*, user: User, password: str, reason: str = "") -> DeletionRequest:
    """The member's request, with what blocks it right now recorded beside it."""
    return account_services.deletion_request_create(
        user=user, password=password, reason=reason, blockers=erase_blockers(user=user)
    )


def deletion_request_erase(*, actor: User, request_id: int, note: str = "") -> DeletionRequest:
    """Erase: every app's part, then accounts', in one transaction (see accounts.services)."""
    return account_services.deletion_request_erase(
        actor=actor,
        request_id=request_id,
        blockers_for=lambda user: erase_blockers(user=user),
        erasers=[eraser for _label, eraser in _app_functions("services", "personal_data_erase")],
        note=note,
    )
