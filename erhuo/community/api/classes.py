"""Community API: classes."""

from ninja import Router

router = Router(tags=["community"])
