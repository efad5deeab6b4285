"""The seller's market pages: what she sold and what it leaves her, one sale in full, the parcels she ships.

Thin: forms parse, one service writes, selectors read. Every page needs a
login and shows only the caller's own sales and orders: another seller's
sale or order is a 404, as if it did not exist.

The buyer's name, phone and street address are shown in full in one place
only: on the self-ship page, for orders that are paid and not yet shipped
(the seller must write the waybill). Each time they are shown the look is
written to the personal-data access log, which the buyer can read.
Everywhere else the seller sees the buyer's region only.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erhuo.accounts.models import PersonalDataAccess
from erhuo.accounts.services import personal_data_access_record
from erhuo.core.errors import DomainError
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.models import PayoutLine
from erhuo.market import selectors, services
from erhuo.market.accounts import seller_payable_code
from erhuo.market.models import Order, OrderLine
from erhuo.market.staff_forms import CARRIERS, ShipForm

SALES_PER_PAGE = 30
PAYOUTS_SHOWN = 50
SENT_SHOWN = 20
# A self-ship deadline closer than this is shown in red.
URGENT_BEFORE = timedelta(hours=12)
# What the seller sees of the buyer's address when she ships, as named in the access log.
ADDRESS_FIELDS = ["address"]
S = Order.Status


# --- the breakdown -------------------------------------------------------------------------


def breakdown_rows(data: dict) -> dict:
    """The frozen `pricing.fees.Breakdown` of an order line, ready for the template."""
    data = data or {}
    return {
        "price_fen": data.get("price_fen", 0),
        "commission_fen": data.get("commission_fen", 0),
        "commission_percent": f"{(data.get('commission_bps') or 0) / 100:g}%",
        "service_fees": list(data.get("service_fees") or []),
        "waived_fen": data.get("waived_fen", 0),
        "seller_net_fen": data.get("seller_net_fen", 0),
    }


def _sales(user):
    # An order cancelled before payment never sold anything.
    return selectors.sales_of(user).exclude(order__status=S.CANCELLED)


# --- my sales ------------------------------------------------------------------------------


@login_required
@require_GET
def my_sales(request):
    page = Paginator(_sales(request.user), SALES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"line": line, "breakdown": breakdown_rows(line.breakdown)} for line in page.object_list]
    return render(
        request,
        "market/seller/sales.html",
        {
            "summary": selectors.seller_money_summary(request.user),
            "page": page,
            "rows": rows,
            "payouts": _payouts_of(request.user),
        },
    )


def _seller_payouts(user):
    # Her payout lines for sales (an expert's commissions are paid from another account).
    return ledger_selectors.payouts_for(user).filter(account__code=seller_payable_code(user.pk))


def _payouts_of(user) -> list:
    return list(_seller_payouts(user)[:PAYOUTS_SHOWN])


@dataclass(frozen=True)
class Step:
    at: object
    status: str
    label: str
    who: str
    note: str


def _who(step, order: Order, seller) -> str:
    if step.actor_id is None:
        return _("automatically")
    if step.actor_id == seller.pk:
        return _("you")
    if step.actor_id == order.buyer_id:
        return _("the buyer")
    return _("Erhuo")


def seller_timeline(order: Order, seller) -> list[Step]:
    """The order's steps as the seller reads them: who by role, never the buyer's name."""
    labels = dict(Order.Status.choices)
    return [
        Step(
            at=step.created_at,
            status=step.to_state,
            label=str(labels.get(step.to_state, step.to_state)),
            who=_who(step, order, seller),
            note=step.note,
        )
        for step in selectors.order_timeline(order)
    ]


@login_required
@require_GET
def sale(request, line_id: int):
    line = _sales(request.user).filter(pk=line_id).first()
    if line is None:
        raise Http404
    order = line.order
    return render(
        request,
        "market/seller/sale.html",
        {
            "line": line,
            "order": order,
            "breakdown": breakdown_rows(line.breakdown),
            "steps": seller_timeline(order, request.user),
            "payout": _payout_of_line(line),
        },
    )


def _payout_of_line(line: OrderLine):
    """The payout that carried this sale's share: the first one of her sales account after the order completed.

    A payout pays the account's whole balance, so the first line made after
    the completion holds it, unless that transfer failed (the money went back
    and the next payout carried it).
    """
    completed_at = line.order.completed_at
    if line.order.status != S.COMPLETED or completed_at is None:
        return None
    payouts = _seller_payouts(line.seller).filter(created_at__gte=completed_at).exclude(status=PayoutLine.Status.FAILED)
    return payouts.order_by("created_at", "pk").first()


# --- self-ship orders ------------------------------------------------------------------------


def _ship_rows(request, orders, *, forms: dict | None = None) -> list[dict]:
    now = timezone.now()
    forms = forms or {}
    rows = []
    for order in orders:
        rows.append(
            {
                "order": order,
                "urgent": order.ship_by is not None and order.ship_by - now < URGENT_BEFORE,
                "late": order.ship_by is not None and order.ship_by <= now,
                "form": forms.get(order.pk) or ShipForm(prefix=f"s{order.pk}"),
            }
        )
    return rows


def _log_address_looks(request, orders) -> None:
    for order in orders:
        personal_data_access_record(
            actor=request.user,
            subject=order.buyer,
            fields=ADDRESS_FIELDS,
            reason=PersonalDataAccess.Reason.ORDER_SUPPORT,
            note=_("Seller ships order %(number)s") % {"number": order.number},
            request=request,
        )


def _render_ship(request, *, forms: dict | None = None, status: int = 200):
    # Deadlines first: an order the seller let pass is cancelled and refunded before she sees the list.
    for late in selectors.orders_to_ship_by(request.user).filter(status=S.PAID, ship_by__lte=timezone.now()):
        services.orders_settle(order=late)
    orders = selectors.orders_to_ship_by(request.user)
    to_ship = list(orders.filter(status=S.PAID))
    sent = list(
        orders.filter(status__in=(S.SHIPPED, S.DELIVERED, S.COMPLETED)).order_by("-shipped_at", "-pk")[:SENT_SHOWN]
    )
    waiting = orders.filter(status=S.PENDING_PAYMENT).count()
    _log_address_looks(request, to_ship)
    return render(
        request,
        "market/seller/ship.html",
        {
            "rows": _ship_rows(request, to_ship, forms=forms),
            "sent": sent,
            "waiting_count": waiting,
            "carriers": CARRIERS,
        },
        status=status,
    )


@login_required
@require_GET
def self_ship_orders(request):
    return _render_ship(request)


@login_required
@require_POST
def self_ship_send(request, order_id: int):
    order = selectors.orders_to_ship_by(request.user).filter(pk=order_id).first()
    if order is None:
        raise Http404
    form = ShipForm(request.POST, prefix=f"s{order.pk}")
    status = 422
    if form.is_valid():
        try:
            services.order_ship(
                order_id=order.pk,
                actor=request.user,
                carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"],
            )
        except DomainError as error:
            if error.status == 404:
                raise Http404 from None
            form.add_service_error(error)
            messages.error(request, str(error.message))
            status = error.status
        else:
            messages.success(request, _("Order %(number)s is marked as shipped.") % {"number": order.number})
            return redirect("market:self_ship_orders")
    return _render_ship(request, forms={order.pk: form}, status=status)


@login_required
@require_POST
def self_ship_delivered(request, order_id: int):
    """The carrier's tracking shows her parcel delivered: the buyer's confirmation window starts."""
    order = selectors.orders_to_ship_by(request.user).filter(pk=order_id).first()
    if order is None:
        raise Http404
    try:
        services.order_deliver(order_id=order.pk, actor=request.user)
    except DomainError as error:
        if error.status == 404:
            raise Http404 from None
        messages.error(request, str(error.message))
        return _render_ship(request, status=error.status)
    messages.success(
        request,
        _("Order %(number)s is delivered; it completes when the buyer confirms or her return window ends.")
        % {"number": order.number},
    )
    return redirect("market:self_ship_orders")


urlpatterns = [
    path("sell/sales/", my_sales, name="my_sales"),
    path("sell/sales/<int:line_id>/", sale, name="sale"),
    path("sell/ship/", self_ship_orders, name="self_ship_orders"),
    path("sell/ship/<int:order_id>/", self_ship_send, name="self_ship_send"),
    path("sell/ship/<int:order_id>/delivered/", self_ship_delivered, name="self_ship_delivered"),
]
