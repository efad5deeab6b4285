"""Every write of the market goes through these modules."""

from erhuo.market.services.claims import (  # noqa: F401
    claim_create,
    claim_withdraw,
    claims_settle_due,
    claims_settle_item,
    claims_settle_member,
)
from erhuo.market.services.orders import (  # noqa: F401
    order_cancel,
    order_complete,
    order_confirm,
    order_create,
    order_deliver,
    order_pack,
    order_pay,
    order_payment_allocate,
    order_ship,
    orders_settle,
)
from erhuo.market.services.privacy import erase_blockers, personal_data_erase  # noqa: F401
from erhuo.market.services.returns import (  # noqa: F401
    return_decide,
    return_request_create,
    return_request_withdraw,
)
from erhuo.market.services.shows import buyer_show_create, buyer_show_feature, buyer_show_hide  # noqa: F401
