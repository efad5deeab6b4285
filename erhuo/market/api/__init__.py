"""The market API: claims (接龙), orders and their payments, fulfilment, sales, returns and buyer shows.

Conventions, for a client developer:

- Every route needs a token (`Authorization: Bearer …`) or a session, except
  the public buyer-show lists; without one the answer is 401.
- Every error is `{"code": <stable string>, "detail": <translated message>}`
  (plus `errors` per field for 422), with its status: 404 for something
  that does not exist *or that is not yours* (another member's claim,
  order or return looks exactly like a missing one), 403 for a staff route
  without the staff permission, 409 for a rule of the market (sold item,
  closed window, …), 422 for invalid fields.
- Money is an integer number of fen (分) in fields named `*_fen`.
- Reads settle deadlines first (an expired reservation is handed to the
  next in line, an unpaid order past its window is cancelled, a delivered
  order past its confirmation date completes), so what you read is current
  even when the background worker is down.
- Lists are paginated: `?page=1&page_size=…` → `{"items": [...], "count": n}`.
"""

from ninja import Router

from erhuo.market.api import claims, orders, returns, shows

router = Router()
router.add_router("", claims.router)
router.add_router("", orders.router)
router.add_router("", returns.router)
router.add_router("", shows.router)
