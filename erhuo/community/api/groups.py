"""Community API: groups."""

from ninja import Router

router = Router(tags=["community"])
