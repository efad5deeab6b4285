"""Community API: drops."""

from ninja import Router

router = Router(tags=["community"])
