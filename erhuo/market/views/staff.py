"""Staff pages of the market: every order, the warehouse's steps, cancellations, returns and buyer shows.

Thin: forms parse, one service writes, selectors read. Each page and each
POST checks its own permission (403 otherwise, with nothing changed); the
services check again.

- /ops/orders/ and one order: `market.view_all_orders`; pack, ship and
  mark delivered (platform orders): `market.fulfil_order`; cancel with a
  reason (a paid order is refunded in full): `market.manage_order`;
- /ops/returns/: `market.decide_return` (the evidence photos are private
  files, served by the member pages' `market:return_photo`, which lets in
  the buyer and `market.decide_return` only);
- /ops/shows/: `market.moderate_buyer_show`.

The buyer's name, phone and street address are masked everywhere except on
one order's page, for the warehouse (`market.fulfil_order`), while the order
is waiting to be shipped; each such look is written to the access log.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erhuo.accounts.models import PersonalDataAccess
from erhuo.accounts.services import personal_data_access_record
from erhuo.core.errors import DomainError
from erhuo.market import selectors, services
from erhuo.market.models import BuyerShow, Order, ReturnRequest
from erhuo.market.staff_forms import CARRIERS, CancelForm, HideShowForm, ReturnDecisionForm, ShipForm
from erhuo.market.views.seller import breakdown_rows
from erhuo.payments.models import Payment

VIEW_PERMISSION = selectors.STAFF_PERMISSION
FULFIL_PERMISSION = "market.fulfil_order"
MANAGE_PERMISSION = "market.manage_order"
DECIDE_PERMISSION = "market.decide_return"
MODERATE_PERMISSION = "market.moderate_buyer_show"
ORDERS_PER_PAGE = 30
RETURNS_PER_PAGE = 30
SHOWS_PER_PAGE = 30
S = Order.Status
R = ReturnRequest.Status
# Orders the warehouse still has to send: the only ones whose address it sees in full.
TO_SHIP = (S.PAID, S.PACKED)
CANCELLABLE = (S.PENDING_PAYMENT, S.PAID, S.PACKED)


def staff_only(permission: str):
    """Logged in (else the login page) and holding `permission` (else 403)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _back(request, default: str) -> str:
    candidate = request.POST.get("next") or ""
    if candidate.startswith("/ops/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _refused(request, error: DomainError) -> None:
    """A service said no: a 404 stays a 404, anything else becomes a message on the page."""
    if error.status == 404:
        raise Http404
    if error.status == 403:
        raise PermissionDenied
    messages.error(request, str(error.message))


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


# --- orders --------------------------------------------------------------------------------


def _actions(user, order: Order) -> dict:
    warehouse = order.fulfilment == Order.Fulfilment.PLATFORM and user.has_perm(FULFIL_PERMISSION)
    return {
        "pack": warehouse and order.status == S.PAID,
        "ship": warehouse and order.status in TO_SHIP,
        "deliver": warehouse and order.status == S.SHIPPED,
        "cancel": user.has_perm(MANAGE_PERMISSION) and order.status in CANCELLABLE,
    }


def _order_row(user, order: Order) -> dict:
    actions = _actions(user, order)
    return {
        "order": order,
        "actions": actions,
        "any_action": any(actions.values()),
        "ship_form": ShipForm(prefix=f"s{order.pk}") if actions["ship"] else None,
        "cancel_form": CancelForm(prefix=f"c{order.pk}") if actions["cancel"] else None,
    }


def _status_counts() -> dict[str, int]:
    return dict(
        Order.objects.order_by().values_list("status").annotate(count=Count("pk")).values_list("status", "count")
    )


@staff_only(VIEW_PERMISSION)
@require_GET
def ops_orders(request):
    status = request.GET.get("status") or ""
    status = status if status in S.values else ""
    fulfilment = request.GET.get("fulfilment") or ""
    fulfilment = fulfilment if fulfilment in Order.Fulfilment.values else ""
    orders = selectors.orders_for_staff(status=status or None, fulfilment=fulfilment or None)
    if not status:
        # Every order: the newest first. One status is a work queue: the oldest first.
        orders = orders.order_by("-created_at", "-pk")
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    counts = _status_counts()
    return render(
        request,
        "market/staff/orders.html",
        {
            "page": page,
            "rows": [_order_row(request.user, order) for order in page.object_list],
            "status": status,
            "fulfilment": fulfilment,
            "status_tabs": [(value, label, counts.get(value, 0)) for value, label in S.choices],
            "total": sum(counts.values()),
            "fulfilments": Order.Fulfilment.choices,
            "carriers": CARRIERS,
        },
    )


def _order_payments(order: Order) -> list[Payment]:
    return list(
        Payment.objects.filter(purpose="order", reference=order.reference)
        .prefetch_related("refunds")
        .order_by("created_at", "pk")
    )


def _address_unmasked(request, order: Order) -> bool:
    """The warehouse sees the address of an order it must send, and the look is logged."""
    if not (
        request.user.has_perm(FULFIL_PERMISSION)
        and order.fulfilment == Order.Fulfilment.PLATFORM
        and order.status in TO_SHIP
    ):
        return False
    personal_data_access_record(
        actor=request.user,
        subject=order.buyer,
        fields=["address"],
        reason=PersonalDataAccess.Reason.ORDER_SUPPORT,
        note=_("Warehouse ships order %(number)s") % {"number": order.number},
        request=request,
    )
    return True


@staff_only(VIEW_PERMISSION)
@require_GET
def ops_order(request, order_id: int):
    order = selectors.order_of(order_id=order_id, user=request.user)
    if order is None:
        raise Http404
    services.orders_settle(order=order)
    order.refresh_from_db()
    lines = list(order.lines.all())
    returns = list(ReturnRequest.objects.filter(line__order=order).select_related("line").order_by("created_at", "pk"))
    return render(
        request,
        "market/staff/order.html",
        {
            "row": _order_row(request.user, order),
            "order": order,
            "lines": [{"line": line, "breakdown": breakdown_rows(line.breakdown)} for line in lines],
            "payments": _order_payments(order),
            "returns": returns,
            "steps": list(selectors.order_timeline(order)),
            "status_labels": dict(S.choices),
            "unmasked": _address_unmasked(request, order),
            "carriers": CARRIERS,
        },
    )


def _order_or_404(order_id: int) -> Order:
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise Http404
    return order


def _order_action(request, order_id: int, *, call, success: str, form=None):
    order = _order_or_404(order_id)
    back = _back(request, reverse("market:ops_order", args=[order.pk]))
    if form is not None and not form.is_valid():
        _form_errors(request, form)
        return redirect(back)
    try:
        call(order, form.cleaned_data if form is not None else {})
    except DomainError as error:
        _refused(request, error)
        return redirect(back)
    messages.success(request, success % {"number": order.number})
    return redirect(back)


@staff_only(FULFIL_PERMISSION)
@require_POST
def ops_order_pack(request, order_id: int):
    return _order_action(
        request,
        order_id,
        call=lambda order, data: services.order_pack(order_id=order.pk, actor=request.user),
        success=_("Order %(number)s is packed."),
    )


@staff_only(FULFIL_PERMISSION)
@require_POST
def ops_order_ship(request, order_id: int):
    return _order_action(
        request,
        order_id,
        form=ShipForm(request.POST, prefix=f"s{order_id}"),
        call=lambda order, data: services.order_ship(
            order_id=order.pk, actor=request.user, carrier=data["carrier"], tracking_number=data["tracking_number"]
        ),
        success=_("Order %(number)s is shipped."),
    )


@staff_only(FULFIL_PERMISSION)
@require_POST
def ops_order_deliver(request, order_id: int):
    return _order_action(
        request,
        order_id,
        call=lambda order, data: services.order_deliver(order_id=order.pk, actor=request.user),
        success=_("Order %(number)s is delivered; it completes when the buyer confirms or her return window ends."),
    )


@staff_only(MANAGE_PERMISSION)
@require_POST
def ops_order_cancel(request, order_id: int):
    return _order_action(
        request,
        order_id,
        form=CancelForm(request.POST, prefix=f"c{order_id}"),
        call=lambda order, data: services.order_cancel(order_id=order.pk, actor=request.user, reason=data["reason"]),
        success=_("Order %(number)s is cancelled; anything paid is refunded in full."),
    )


# --- returns -------------------------------------------------------------------------------


def _return_row(request_row: ReturnRequest, *, form=None) -> dict:
    line = request_row.line
    seller_fault = request_row.reason in ReturnRequest.SELLER_FAULT
    return {
        "request": request_row,
        "line": line,
        "refundable_fen": line.price_fen - line.refunded_fen,
        "seller_share_fen": line.seller_net_fen - line.refunded_fen,
        "seller_fault": seller_fault,
        "form": form or ReturnDecisionForm(prefix=f"r{request_row.pk}", seller_fault=seller_fault),
    }


def _decided_returns():
    return (
        ReturnRequest.objects.exclude(status=R.REQUESTED)
        .select_related("line", "line__order", "line__seller", "buyer", "decided_by")
        .order_by("-status_changed_at", "-pk")
    )


def _render_returns(request, *, forms_for: dict | None = None, status: int = 200):
    tab = "decided" if request.GET.get("tab") == "decided" else "open"
    forms_for = forms_for or {}
    open_returns = selectors.return_queue().prefetch_related("photos")
    context = {"tab": tab, "open_count": open_returns.count()}
    if tab == "open":
        page = Paginator(open_returns, RETURNS_PER_PAGE).get_page(request.GET.get("page"))
        context["rows"] = [_return_row(row, form=forms_for.get(row.pk)) for row in page.object_list]
    else:
        page = Paginator(_decided_returns(), RETURNS_PER_PAGE).get_page(request.GET.get("page"))
        context["decided"] = list(page.object_list)
    context["page"] = page
    return render(request, "market/staff/returns.html", context, status=status)


@staff_only(DECIDE_PERMISSION)
@require_GET
def ops_returns(request):
    return _render_returns(request)


@staff_only(DECIDE_PERMISSION)
@require_POST
def ops_return_decide(request, return_id: int):
    request_row = ReturnRequest.objects.filter(pk=return_id).first()
    if request_row is None:
        raise Http404
    form = ReturnDecisionForm(
        request.POST, prefix=f"r{return_id}", seller_fault=request_row.reason in ReturnRequest.SELLER_FAULT
    )
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.return_decide(
                return_id=return_id,
                actor=request.user,
                outcome=data["outcome"],
                decision=data["decision"],
                refund_fen=data["refund_fen"] if data["outcome"] == R.PARTIAL else 0,
                deposit_charge_fen=data["deposit_charge_fen"],
            )
        except DomainError as error:
            if error.status == 404:
                raise Http404 from None
            form.add_service_error(error)
            messages.error(request, str(error.message))
            status = error.status
        else:
            request_row.refresh_from_db()
            messages.success(
                request,
                _("Return #%(id)s decided: %(outcome)s.")
                % {"id": return_id, "outcome": request_row.get_status_display()},
            )
            return redirect("market:ops_returns")
    return _render_returns(request, forms_for={return_id: form}, status=status)


# --- buyer shows ---------------------------------------------------------------------------


SHOW_FILTERS = ("featured", "hidden")


@staff_only(MODERATE_PERMISSION)
@require_GET
def ops_shows(request):
    shown = request.GET.get("filter") or ""
    shows = (
        BuyerShow.objects.select_related("buyer", "seller", "item", "line__order", "featured_by")
        .prefetch_related("photos")
        .order_by("-created_at", "-pk")
    )
    if shown == "featured":
        shows = shows.filter(featured_at__isnull=False)
    elif shown == "hidden":
        shows = shows.filter(hidden=True)
    else:
        shown = ""
    page = Paginator(shows, SHOWS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"show": show, "hide_form": HideShowForm(prefix=f"h{show.pk}")} for show in page.object_list]
    return render(request, "market/staff/shows.html", {"page": page, "rows": rows, "filter": shown})


def _show_action(request, show_id: int, call, success: str, form=None):
    back = _back(request, reverse("market:ops_shows"))
    if form is not None and not form.is_valid():
        _form_errors(request, form)
        return redirect(back)
    try:
        call(form.cleaned_data if form is not None else {})
    except DomainError as error:
        _refused(request, error)
        return redirect(back)
    messages.success(request, success % {"id": show_id})
    return redirect(back)


@staff_only(MODERATE_PERMISSION)
@require_POST
def ops_show_feature(request, show_id: int):
    featured = request.POST.get("featured") != "0"
    return _show_action(
        request,
        show_id,
        lambda data: services.buyer_show_feature(show_id=show_id, actor=request.user, featured=featured),
        _("Buyer show #%(id)s is featured in the groups.")
        if featured
        else _("Buyer show #%(id)s is no longer featured."),
    )


@staff_only(MODERATE_PERMISSION)
@require_POST
def ops_show_hide(request, show_id: int):
    return _show_action(
        request,
        show_id,
        lambda data: services.buyer_show_hide(show_id=show_id, actor=request.user, reason=data["reason"]),
        _("Buyer show #%(id)s is hidden."),
        form=HideShowForm(request.POST, prefix=f"h{show_id}"),
    )


urlpatterns = [
    path("ops/orders/", ops_orders, name="ops_orders"),
    path("ops/orders/<int:order_id>/", ops_order, name="ops_order"),
    path("ops/orders/<int:order_id>/pack/", ops_order_pack, name="ops_order_pack"),
    path("ops/orders/<int:order_id>/ship/", ops_order_ship, name="ops_order_ship"),
    path("ops/orders/<int:order_id>/deliver/", ops_order_deliver, name="ops_order_deliver"),
    path("ops/orders/<int:order_id>/cancel/", ops_order_cancel, name="ops_order_cancel"),
    path("ops/returns/", ops_returns, name="ops_returns"),
    path("ops/returns/<int:return_id>/decide/", ops_return_decide, name="ops_return_decide"),
    path("ops/shows/", ops_shows, name="ops_shows"),
    path("ops/shows/<int:show_id>/feature/", ops_show_feature, name="ops_show_feature"),
    path("ops/shows/<int:show_id>/hide/", ops_show_hide, name="ops_show_hide"),
]
