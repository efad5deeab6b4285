"""Assembles the apps' routers into one API at /api/v1/."""

from ninja import NinjaAPI

from erhuo.accounts.api import router as accounts_router
from erhuo.accounts.auth import API_AUTH
from erhuo.community.api import router as community_router
from erhuo.consignment.api import router as consignment_router
from erhuo.core.api import install_error_handlers
from erhuo.core.api import router as system_router
from erhuo.experts.api import router as experts_router
from erhuo.ledger.api import router as ledger_router
from erhuo.market.api import router as market_router
from erhuo.notifications.api import router as notifications_router
from erhuo.payments.api import router as payments_router
from erhuo.trust.api import router as trust_router
from erhuo.web.api_privacy import router as privacy_router

api = NinjaAPI(
    title="二货 Erhuo API",
    version="1",
    description=(
        "Community-run second-hand commerce. Authenticate with `POST /api/v1/auth/token`, then send "
        '`Authorization: Bearer <token>`. Every error is JSON: `{"code": ..., "detail": ...}`.'
    ),
    auth=API_AUTH,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)

api.add_router("", system_router)
api.add_router("", accounts_router)
api.add_router("", ledger_router)
api.add_router("", notifications_router)
api.add_router("", payments_router)
api.add_router("", trust_router)
api.add_router("", community_router)
api.add_router("", consignment_router)
api.add_router("", experts_router)
api.add_router("", market_router)
api.add_router("", privacy_router)
