"""The trust API: verification, seller record, deposits."""

from ninja import Router

from erhuo.trust.api import deposits, verification

router = Router(tags=["trust"])
router.add_router("", verification.router)
router.add_router("", deposits.router)
