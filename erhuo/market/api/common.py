"""What every market route shares: id and money types, staff checks, timelines, pages of shaped rows."""

from datetime import datetime
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Schema

from erhuo.catalog.models import Item
from erhuo.core.api import ErrorOut
from erhuo.core.errors import NotFound, PermissionRefused, ValidationFailed
from erhuo.market import selectors
from erhuo.payments.services import MAX_AMOUNT_FEN

STAFF_PERMISSION = selectors.STAFF_PERMISSION
ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
# Ids are database keys: a bigger number cannot exist, and SQLite cannot even be asked about it.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Money = Annotated[int, Field(ge=0, le=MAX_AMOUNT_FEN)]


class StepOut(Schema):
    at: datetime
    from_state: str
    to_state: str
    label: str
    by: str = Field(..., description="buyer, seller, platform (staff) or system (a deadline)")
    note: str


def who_acted(actor_id: int | None, *, buyer_id: int, seller_ids: set) -> str:
    if actor_id is None:
        return "system"
    if actor_id == buyer_id:
        return "buyer"
    return "seller" if actor_id in seller_ids else "platform"


def timeline(transitions, labels: dict, *, buyer_id: int, seller_ids: set) -> list[dict]:
    return [
        {
            "at": step.created_at,
            "from_state": step.from_state,
            "to_state": step.to_state,
            "label": str(labels.get(step.to_state, step.to_state)),
            "by": who_acted(step.actor_id, buyer_id=buyer_id, seller_ids=seller_ids),
            "note": step.note,
        }
        for step in transitions
    ]


class Shaped:
    """Rows whose page is shaped for the answer: the paginator slices and counts this like a queryset."""

    def __init__(self, rows, shape):
        self.rows, self.shape = rows, shape

    def __getitem__(self, window: slice) -> list[dict]:
        return [self.shape(row) for row in self.rows[window]]

    def __len__(self) -> int:
        return len(self.rows) if isinstance(self.rows, list) else self.rows.count()


def require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionRefused()


def visible_item(request, item_id: int) -> Item:
    item = Item.objects.filter(pk=item_id).first()
    if item is None or not selectors.item_visible_to(item, request.user):
        raise NotFound(_("Item not found."), code="item_not_found")
    return item


def one_of(value: str, allowed, field: str) -> str:
    if value and value not in allowed:
        raise ValidationFailed(_("Unknown value."), code="filter_invalid", fields={field: [_("Unknown value.")]})
    return value
