"""The consignment API: the seller's side and the stations' side."""

from ninja import Router

from erhuo.consignment.api import operator, seller

router = Router(tags=["consignment"])
router.add_router("", seller.router)
router.add_router("", operator.router)
