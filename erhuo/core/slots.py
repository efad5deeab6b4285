"""Named places in a lower app's page where a higher app adds its own piece.

The item page belongs to consignment, the seller's page to trust, the
expert's page to experts; the claim button and the buyer shows belong to
market, above all three. A lower app cannot import a higher one, so its
template leaves a slot:

    {% load erhuo %}{% slot "item_public_actions" item=item %}

and the higher app fills it from its AppConfig.ready():

    slots.provide("item_public_actions", "market/slots/claim_button.html", claim_button_context)

The context function gets the request and the slot's keyword arguments and
returns the template's context, or None to render nothing. Pieces render in
the order they were provided.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Piece:
    template_name: str
    context: Callable[..., dict | None]


_slots: dict[str, list[Piece]] = defaultdict(list)


def provide(slot: str, template_name: str, context: Callable[..., dict | None]) -> None:
    piece = Piece(template_name, context)
    if piece not in _slots[slot]:
        _slots[slot].append(piece)


def render(slot: str, request, **kwargs) -> SafeString:
    parts = []
    for piece in _slots.get(slot, ()):
        context = piece.context(request, **kwargs)
        if context is None:
            continue
        parts.append(render_to_string(piece.template_name, context, request=request))
    # Each piece is a template rendered with autoescaping on.
    return mark_safe("".join(parts))  # noqa: S308


def pieces(slot: str) -> list[Piece]:
    return list(_slots.get(slot, ()))
