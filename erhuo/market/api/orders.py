"""Orders: made from reservations, paid, fulfilled and completed; staff lists; the seller's sales."""

from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status
from ninja.pagination import paginate

from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import NotFound, PermissionRefused
from erhuo.core.pii import mask_address, mask_name, mask_phone
from erhuo.market import selectors, services
from erhuo.market.api.common import ERRORS, STAFF_PERMISSION, Id, Shaped, StepOut, one_of, require, timeline
from erhuo.market.models import Order, OrderLine
from erhuo.market.services.orders import FULFIL_PERMISSION
from erhuo.payments import services as payment_services
from erhuo.payments.models import Payment

router = Router(tags=["market: orders"])


class AddressOut(Schema):
    recipient_name: str
    recipient_phone: str
    region: str
    detail: str
    masked: bool = Field(..., description="True for everyone but the buyer: name, phone and street are hidden")


class BreakdownOut(Schema):
    commission_fen: int
    service_fees_fen: int
    seller_net_fen: int = Field(..., description="price − commission − service fees (before any refund)")
    detail: dict = Field(..., description="The breakdown frozen when the order was made: tiers and fee lines")


class OrderLineOut(Schema):
    id: int
    item_id: int
    title: str
    price_fen: int
    is_gift: bool
    refunded_fen: int
    active: bool = Field(..., description="False once the item was returned or the order ended without a sale")
    breakdown: BreakdownOut | None = Field(..., description="The seller's share: for the line's seller and staff")


class OrderOut(Schema):
    id: int
    number: str
    status: str
    status_label: str
    fulfilment: str = Field(..., description="platform (the warehouse ships) or self_ship (the seller ships)")
    viewer: str = Field(..., description="How you see the order: buyer, seller (self-ship) or staff")
    items_fen: int
    shipping_fen: int
    discount_fen: int
    total_fen: int
    paid_fen: int
    refunded_fen: int
    buyer_note: str
    created_at: datetime
    pay_by: datetime | None = Field(..., description="Unpaid orders are cancelled after this time")
    paid_at: datetime | None
    ship_by: datetime | None = Field(..., description="Self-ship orders: the seller ships by this time or refunds")
    carrier: str
    tracking_number: str
    shipped_at: datetime | None
    delivered_at: datetime | None
    complete_after: datetime | None = Field(..., description="Confirmed automatically after this time")
    completed_at: datetime | None
    closed_reason: str
    address: AddressOut
    lines: list[OrderLineOut]


class OrderDetailOut(OrderOut):
    payment_id: int | None = Field(..., description="The payment that paid the order")
    timeline: list[StepOut]


class OrderIn(Schema):
    claims: list[Id] = Field(..., min_length=1, max_length=20, description="Ids of your reserved claims")
    address_id: Id | None = Field(None, description="One of your addresses; empty: your default address")
    note: str = Field("", max_length=200, description="A note to the sender")


class PaymentIn(Schema):
    provider: str = Field(..., max_length=20, description="manual or sandbox, as enabled (alipay, wechat later)")


class PaymentOut(Schema):
    id: int
    status: str
    status_label: str
    amount_fen: int
    provider: str
    pay_url: str = Field(..., description="The pay page in the browser")
    api_url: str
    next: dict | None = Field(..., description="What to do next while the payment is open (provider-specific)")


class CancelIn(Schema):
    reason: str = Field("", max_length=300, description="Required from customer service; optional for the buyer")


class ShipIn(Schema):
    carrier: str = Field(..., max_length=30)
    tracking_number: str = Field(..., max_length=40, description="Letters, digits and dashes, as on the waybill")


class SaleOut(Schema):
    line_id: int
    order_id: int
    order_number: str
    order_status: str
    order_status_label: str
    item_id: int
    title: str
    price_fen: int
    commission_fen: int
    service_fees_fen: int
    seller_net_fen: int
    refunded_fen: int
    breakdown: dict
    active: bool
    paid_at: datetime | None
    completed_at: datetime | None


class SalesSummaryOut(Schema):
    pending_fen: int = Field(..., description="Your share of paid orders not yet completed (held in escrow)")
    pending_count: int
    earned_fen: int = Field(..., description="Your share of completed orders")
    sold_count: int
    payable_fen: int = Field(..., description="What the platform owes you now (earned, not yet paid out)")


def _order(order: Order, user, *, detail: bool = False) -> dict:
    is_buyer = order.buyer_id == user.pk
    is_staff = user.has_perm(STAFF_PERMISSION)  # Django caches the user's permissions: one query per request
    viewer = "buyer" if is_buyer else "staff" if is_staff else "seller"
    if is_buyer:
        address = {
            "recipient_name": order.recipient_name,
            "recipient_phone": order.recipient_phone,
            "region": order.region,
            "detail": order.address_detail,
            "masked": False,
        }
    else:
        address = {
            "recipient_name": mask_name(order.recipient_name),
            "recipient_phone": mask_phone(order.recipient_phone),
            "region": order.region,
            "detail": mask_address(order.address_detail, keep=0),
            "masked": True,
        }
    lines = []
    for line in order.lines.all():
        sees_breakdown = is_staff or line.seller_id == user.pk
        lines.append(
            {
                "id": line.pk,
                "item_id": line.item_id,
                "title": line.title,
                "price_fen": line.price_fen,
                "is_gift": line.is_gift,
                "refunded_fen": line.refunded_fen,
                "active": line.active,
                "breakdown": {
                    "commission_fen": line.commission_fen,
                    "service_fees_fen": line.service_fees_fen,
                    "seller_net_fen": line.seller_net_fen,
                    "detail": line.breakdown,
                }
                if sees_breakdown
                else None,
            }
        )
    data = {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "status_label": order.get_status_display(),
        "fulfilment": order.fulfilment,
        "viewer": viewer,
        **{
            name: getattr(order, name)
            for name in (
                "items_fen",
                "shipping_fen",
                "discount_fen",
                "total_fen",
                "paid_fen",
                "refunded_fen",
                "buyer_note",
                "created_at",
                "pay_by",
                "paid_at",
                "ship_by",
                "carrier",
                "tracking_number",
                "shipped_at",
                "delivered_at",
                "complete_after",
                "completed_at",
                "closed_reason",
            )
        },
        "address": address,
        "lines": lines,
    }
    if detail:
        sellers = {line.seller_id for line in order.lines.all()}
        data["payment_id"] = order.payment_id
        data["timeline"] = timeline(
            selectors.order_timeline(order), dict(Order.Status.choices), buyer_id=order.buyer_id, seller_ids=sellers
        )
    return data


def _payment(payment: Payment) -> dict:
    return {
        "id": payment.pk,
        "status": payment.status,
        "status_label": payment.get_status_display(),
        "amount_fen": payment.amount_fen,
        "provider": payment.provider,
        "pay_url": reverse("payments:pay", args=[payment.pk]),
        "api_url": f"/api/v1/payments/{payment.pk}",
        "next": payment_services.payment_start(payment=payment) if payment.is_open else None,
    }


def _require_fulfiller(request, order_id: int) -> None:
    """The warehouse, or the seller who ships this (self-ship) order; the service checks the detail again."""
    if request.user.has_perm(FULFIL_PERMISSION):
        return
    if not Order.objects.filter(pk=order_id, shipper=request.user).exists():
        raise PermissionRefused(_("Only the warehouse, or the seller of a self-ship order, does this."))


def _visible_order(request, order_id: int, *, settle: bool = True) -> Order:
    if settle:
        order = Order.objects.filter(pk=order_id).first()
        if order is not None:
            services.orders_settle(order=order)
    order = selectors.order_of(order_id=order_id, user=request.user)
    if order is None:
        raise NotFound(_("Order not found."), code="order_not_found")
    return order


def _order_detail(request, order_id: int) -> dict:
    return _order(_visible_order(request, order_id, settle=False), request.user, detail=True)


def _settle_orders_of(buyer) -> None:
    """Apply the deadlines of her orders that are due (none, usually: one cheap query)."""
    now = timezone.now()
    services.claims_settle_member(member=buyer, now=now)
    due = Order.objects.filter(buyer=buyer, status=Order.Status.DELIVERED, complete_after__lte=now)
    for order in list(due[:50]):
        services.orders_settle(order=order, now=now)


@router.post("/orders", response={201: OrderDetailOut, **ERRORS}, summary="Order my reserved items")
def order_create(request, payload: OrderIn):
    """One order, one shipping fee, for reservations of items sent by the same sender (the platform's items
    together; a seller's own self-ship items together). Then pay it with `POST /orders/{id}/payments` before
    `pay_by`.

    422 `address_required` (add an address first), `split_order` (different senders); 409
    `reservation_expired`, `already_ordered`; 404 `claim_not_found` (not yours)."""
    order = services.order_create(
        buyer=request.user, claim_ids=payload.claims, address_id=payload.address_id, note=payload.note
    )
    return Status(201, _order_detail(request, order.pk))


@router.get("/orders", response=list[OrderOut], summary="My orders, newest first")
@paginate(PageNumberPagination, page_size=20)
def order_list(request, status: str = Query("", max_length=20, description="Only orders in this status")):
    one_of(status, Order.Status.values, "status")
    _settle_orders_of(request.user)
    return Shaped(selectors.orders_of(request.user, status=status or None), lambda order: _order(order, request.user))


@router.get(
    "/orders/{int:order_id}",
    response={200: OrderDetailOut, 404: ErrorOut},
    summary="One order, with its lines and timeline",
)
def order_detail(request, order_id: Id):
    """For its buyer, the seller of a self-ship order, and staff who see every order; 404 for anyone else. The
    address is whole for the buyer only; the seller and staff also get each line's breakdown."""
    return Status(200, _order(_visible_order(request, order_id), request.user, detail=True))


@router.post(
    "/orders/{int:order_id}/payments",
    response={200: PaymentOut, 201: PaymentOut, **ERRORS},
    summary="Start paying my order",
)
def order_pay(
    request,
    order_id: Id,
    payload: PaymentIn,
    idempotency_key: str | None = Header(
        None, alias="Idempotency-Key", max_length=80, description="Retry safely: the same key, the same payment"
    ),
):
    """201 when this request created the payment; 200 when it returns one that already existed: the same
    `Idempotency-Key` again, or, without a key, the order's open payment with the same provider. Then follow
    `next` (or `pay_url`); in the sandbox, `POST /payments/{id}/sandbox-pay`. Once the payment succeeds the order
    becomes `paid`.

    409 `reservation_expired` when the payment window has closed (the order is cancelled), `order_closed` when
    the order is no longer waiting for payment, `idempotency_key_reused` when the key named another payment; 422
    `provider_unavailable`."""
    known = set(
        Payment.objects.filter(payer=request.user, purpose="order", reference=f"order:{order_id}").values_list(
            "pk", flat=True
        )
    )
    payment = services.order_pay(
        order_id=order_id, buyer=request.user, provider=payload.provider, idempotency_key=idempotency_key
    )
    return Status(200 if payment.pk in known else 201, _payment(payment))


@router.post(
    "/orders/{int:order_id}/cancel",
    response={200: OrderDetailOut, **ERRORS},
    summary="Cancel an order before it ships",
)
def order_cancel(request, order_id: Id, payload: CancelIn = None):
    """The buyer: while unpaid (her reservations end and pass on), or paid and not yet packed (refunded in full).
    Customer service: also packed orders, with a `reason`. 409 `order_packed` / `order_closed` otherwise."""
    services.order_cancel(order_id=order_id, actor=request.user, reason=payload.reason if payload else "")
    return Status(200, _order_detail(request, order_id))


@router.post(
    "/orders/{int:order_id}/confirm",
    response={200: OrderDetailOut, **ERRORS},
    summary="Confirm I received my order (it completes; the seller is paid)",
)
def order_confirm(request, order_id: Id):
    """For a shipped or delivered order of yours. 409 `return_open` while a return is being decided."""
    services.order_confirm(order_id=order_id, buyer=request.user)
    return Status(200, _order_detail(request, order_id))


@router.post(
    "/orders/{int:order_id}/pack",
    response={200: OrderDetailOut, **ERRORS},
    summary="Warehouse: the parcel is packed",
)
def order_pack(request, order_id: Id):
    """Needs `market.fulfil_order` (403 otherwise). Paid platform orders only (409 `self_ship_order`)."""
    require(request, FULFIL_PERMISSION)
    services.order_pack(order_id=order_id, actor=request.user)
    return Status(200, _order_detail(request, order_id))


@router.post(
    "/orders/{int:order_id}/ship",
    response={200: OrderDetailOut, **ERRORS},
    summary="Warehouse, or the seller of a self-ship order: the parcel left",
)
def order_ship(request, order_id: Id, payload: ShipIn):
    """403 for anyone else. 422 `tracking_required` without a carrier and a valid tracking number."""
    _require_fulfiller(request, order_id)
    services.order_ship(
        order_id=order_id, actor=request.user, carrier=payload.carrier, tracking_number=payload.tracking_number
    )
    return Status(200, _order_detail(request, order_id))


@router.post(
    "/orders/{int:order_id}/deliver",
    response={200: OrderDetailOut, **ERRORS},
    summary="Warehouse, or the seller of a self-ship order: the carrier delivered it",
)
def order_deliver(request, order_id: Id):
    """The buyer then has her category's return window; the order completes by itself after `complete_after`."""
    _require_fulfiller(request, order_id)
    services.order_deliver(order_id=order_id, actor=request.user)
    return Status(200, _order_detail(request, order_id))


@router.get("/ops/orders", response={200: list[OrderOut], 403: ErrorOut}, summary="Staff: every order, oldest first")
@paginate(PageNumberPagination, page_size=50)
def ops_order_list(
    request,
    status: str = Query("", max_length=20, description="paid (to pack), packed (to ship), …"),
    fulfilment: str = Query("", max_length=16, description="platform or self_ship"),
):
    """Needs `market.view_all_orders`. Addresses are masked."""
    require(request, STAFF_PERMISSION)
    one_of(status, Order.Status.values, "status")
    one_of(fulfilment, Order.Fulfilment.values, "fulfilment")
    orders = selectors.orders_for_staff(status=status or None, fulfilment=fulfilment or None)
    return Shaped(orders, lambda order: _order(order, request.user))


# --- the seller -----------------------------------------------------------------------------------

SOLD_ORDER_STATUSES = tuple(
    status for status in Order.Status.values if status not in (Order.Status.PENDING_PAYMENT, Order.Status.CANCELLED)
)


@router.get("/sales", response=list[SaleOut], summary="Seller: what I sold, with each sale's breakdown")
@paginate(PageNumberPagination, page_size=50)
def sale_list(request):
    """Lines of paid orders (waiting, shipped, completed, refunded), newest first. `seller_net_fen` is your share
    before refunds; `breakdown` details the commission tier and the service fees."""
    lines = selectors.sales_of(request.user).filter(order__status__in=SOLD_ORDER_STATUSES)
    return Shaped(lines, _sale)


def _sale(line: OrderLine) -> dict:
    order = line.order
    return {
        "line_id": line.pk,
        "order_id": order.pk,
        "order_number": order.number,
        "order_status": order.status,
        "order_status_label": order.get_status_display(),
        "item_id": line.item_id,
        "title": line.title,
        "price_fen": line.price_fen,
        "commission_fen": line.commission_fen,
        "service_fees_fen": line.service_fees_fen,
        "seller_net_fen": line.seller_net_fen,
        "refunded_fen": line.refunded_fen,
        "breakdown": line.breakdown,
        "active": line.active,
        "paid_at": order.paid_at,
        "completed_at": order.completed_at,
    }


@router.get("/sales/summary", response=SalesSummaryOut, summary="Seller: my money, pending and earned")
def sales_summary(request):
    return selectors.seller_money_summary(request.user)


@router.get("/self-ship-orders", response=list[OrderOut], summary="Seller: orders I ship myself, most urgent first")
@paginate(PageNumberPagination, page_size=50)
def self_ship_list(
    request,
    status: str = Query("paid", max_length=20, description="paid (to ship, the default), shipped, …, or all"),
):
    """Ship each with `POST /orders/{id}/ship` before `ship_by`, or it is cancelled and refunded."""
    if status != "all":
        one_of(status, Order.Status.values, "status")
    late = Order.objects.filter(shipper=request.user, status=Order.Status.PAID, ship_by__lte=timezone.now())
    for order in list(late[:50]):
        services.orders_settle(order=order)
    orders = selectors.orders_to_ship_by(request.user)
    if status != "all":
        orders = orders.filter(status=status)
    return Shaped(orders, lambda order: _order(order, request.user))
