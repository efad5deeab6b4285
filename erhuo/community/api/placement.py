"""Community API: placement."""

from ninja import Router

router = Router(tags=["community"])
