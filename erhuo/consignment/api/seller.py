"""seller API of the consignment pipeline."""

from ninja import Router

router = Router(tags=["consignment: seller"])
