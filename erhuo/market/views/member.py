"""The member's market pages: the shop, claiming, her claims, checkout, her orders, returns and buyer shows.

Thin: forms parse, one service writes, selectors read. Reads settle first
(overdue reservations, unpaid orders past their window, delivered orders
past their confirmation date), so a page never shows a state the clock has
already ended. Only the shop, the featured shows and claiming (which sends
an anonymous visitor to the login page) are open without a login.

A member's order, return or return photo exists only for her: anyone else
gets 404, as if it did not exist. A service's refusal (DomainError) becomes
a message on the page; a form is drawn again with what she typed.
"""

import mimetypes
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, prefetch_related_objects
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erhuo.accounts import selectors as account_selectors
from erhuo.catalog.models import Category, Grade, Item, ItemPhoto
from erhuo.community import selectors as community_selectors
from erhuo.consignment.selectors import PUBLIC_PHOTO_ORDER
from erhuo.core.errors import DomainError
from erhuo.market import selectors, services
from erhuo.market.forms import BuyerShowForm, CheckoutForm, OrderCancelForm, PayForm, ReturnForm
from erhuo.market.models import BuyerShow, Claim, Order, OrderLine, ReturnRequest
from erhuo.market.services.orders import shipping_fee_fen
from erhuo.payments import selectors as payment_selectors
from erhuo.payments.models import Payment, Provider
from erhuo.payments.providers import enabled_providers

SHOP_PAGE_SIZE = 24
ORDERS_PAGE_SIZE = 20
FEATURED_SHOWN = 40
SHOP_STATUSES = (Item.Status.LISTED, Item.Status.RESERVED)
S = Order.Status
C = Claim.Status
R = ReturnRequest.Status
# The tab every member page lights up in the navigation.
ACTIVE_NAV = "shop"


# --- small helpers ------------------------------------------------------------------------


def _item_url(item_id: int) -> str:
    return reverse("consignment:item_public", args=[item_id])


def _safe_next(request, default: str) -> str:
    """`next` from the form or the query, if it is a path on this site; else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if (
        candidate.startswith("/")
        and not candidate.startswith("//")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return default


def _refused(request, error: DomainError) -> None:
    """A service said no: a 404 stays a 404 (nothing to show), anything else becomes a message."""
    if error.status == 404:
        raise Http404
    messages.error(request, str(error.message))


def _page(request, template: str, context: dict, *, status: int = 200):
    return render(request, template, {"active_nav": ACTIVE_NAV, **context}, status=status)


def _cover_photo(item: Item):
    """The card's photo, as the item page picks its first one: the platform's public photos in their
    order (flat, on-body, detail, defect); for a self-ship item without them, the seller's own."""
    photos = getattr(item, "card_photos", [])
    order = {kind: index for index, kind in enumerate(PUBLIC_PHOTO_ORDER)}
    public = sorted((p for p in photos if p.kind in ItemPhoto.PUBLIC_KINDS), key=lambda p: order[p.kind])
    if public:
        return public[0]
    if item.fulfilment == Item.Fulfilment.SELF_SHIP:
        return next((p for p in photos if p.kind == ItemPhoto.Kind.SELLER), None)
    return None


def _thumb_url(item: Item) -> str:
    photo = _cover_photo(item)
    if photo is None:
        return ""
    return (photo.thumbnail or photo.image).url


def _card_photos() -> Prefetch:
    kinds = [*ItemPhoto.PUBLIC_KINDS, ItemPhoto.Kind.SELLER]
    return Prefetch(
        "photos", queryset=ItemPhoto.objects.filter(kind__in=kinds).order_by("created_at", "pk"), to_attr="card_photos"
    )


def _grade(item: Item) -> tuple[str, str]:
    grade = item.grade or item.declared_grade
    return grade, (Grade(grade).label if grade else "")


# --- the shop -----------------------------------------------------------------------------


def _shop_items(user, category: Category | None):
    items = (
        Item.objects.filter(status__in=SHOP_STATUSES, price_fen__isnull=False)
        .filter(community_selectors.items_visible_filter(user))
        .select_related("brand")
        .annotate(waiting=Count("claims", filter=Q(claims__status=C.QUEUED)))
        .prefetch_related(_card_photos())
        .order_by("-listed_at", "-pk")
    )
    if category is not None:
        items = items.filter(Q(category=category) | Q(category__parent=category) | Q(category__parent__parent=category))
    return items


def item_cards(request, items: list[Item]) -> list[dict]:
    """Shop cards for items on sale (photo, price, grade, how many wait, her own place), in one query for
    her live claims and, unless the items come annotated with `waiting`, one for the queues. The items come
    with `card_photos` prefetched (`_card_photos()`); the caller has checked she may see them.

    Also the cards of a group's feed of dropped items (`page_slots.item_cards`).
    """
    if not items:
        return []
    ids = [item.pk for item in items]
    mine = {}
    if request.user.is_authenticated:
        mine = {
            claim.item_id: claim
            for claim in Claim.objects.filter(member=request.user, item_id__in=ids, status__in=Claim.LIVE)
        }
    waiting = {}
    if not all(hasattr(item, "waiting") for item in items):
        waiting = dict(
            Claim.objects.filter(item_id__in=ids, status=C.QUEUED)
            .values("item_id")
            .annotate(count=Count("pk"))
            .values_list("item_id", "count")
        )
    # A reserved item nobody claimed is held as an activity's gift: no claim button on it.
    gifts = community_selectors.gift_items_held(item.pk for item in items if item.status == Item.Status.RESERVED)
    cards = []
    for item in items:
        grade, grade_label = _grade(item)
        cards.append(
            {
                "item": item,
                "url": _item_url(item.pk),
                "thumb": _thumb_url(item),
                "grade": grade,
                "grade_label": grade_label,
                "waiting": item.waiting if hasattr(item, "waiting") else waiting.get(item.pk, 0),
                "mine": mine.get(item.pk),
                "own": request.user.is_authenticated and item.seller_id == request.user.pk,
                "gift": item.pk in gifts,
            }
        )
    return cards


@require_GET
def shop(request):
    # Overdue reservations end before anyone reads a status (one query when none is due).
    services.claims_settle_due(limit=SHOP_PAGE_SIZE)
    categories = list(Category.objects.filter(parent__isnull=True).order_by("position", "pk"))
    chosen = next((c for c in categories if c.slug == request.GET.get("category")), None)
    page = Paginator(_shop_items(request.user, chosen), SHOP_PAGE_SIZE).get_page(request.GET.get("page"))
    cards = item_cards(request, list(page.object_list))
    return _page(
        request,
        "market/member/shop.html",
        {
            "page": page,
            "cards": cards,
            "categories": categories,
            "chosen": chosen,
            "payment_minutes": settings.ERHUO_CLAIM_PAYMENT_MINUTES,
        },
    )


# --- claims -------------------------------------------------------------------------------


@require_POST
def claim(request, item_id: int):
    back = _safe_next(request, _item_url(item_id))
    if not request.user.is_authenticated:
        # After logging in she comes back to the page she claimed from, and claims again.
        return redirect_to_login(back)
    try:
        made = services.claim_create(item_id=item_id, member=request.user)
    except DomainError as error:
        _refused(request, error)
    else:
        if made.status == C.RESERVED:
            until = timezone.localtime(made.reserved_until).strftime("%H:%M")
            messages.success(request, _("Reserved for you until %(time)s — pay to make it yours.") % {"time": until})
        else:
            messages.success(
                request,
                _("You are number %(position)s in the queue. We tell you when it is your turn.")
                % {"position": made.position},
            )
    return redirect(back)


def _with_photos(claims) -> None:
    prefetch_related_objects([claim.item for claim in claims], _card_photos())


@login_required
@require_GET
def my_claims(request):
    services.claims_settle_member(member=request.user)
    claims = selectors.claims_of(request.user)
    _with_photos(claims)
    for row in claims:
        row.thumb = _thumb_url(row.item)
    reserved = [row for row in claims if row.status == C.RESERVED]
    queued = sorted((row for row in claims if row.status == C.QUEUED), key=lambda row: row.position)
    ended = [row for row in claims if not row.is_live]
    return _page(
        request,
        "market/member/claims.html",
        {
            "reserved": reserved,
            "queued": queued,
            "ended": ended,
            "can_check_out": any(not r.open_order_id for r in reserved),
        },
    )


@login_required
@require_POST
def claim_withdraw(request, claim_id: int):
    try:
        services.claim_withdraw(claim_id=claim_id, member=request.user)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("You gave up your place. The next in line is told."))
    return redirect("market:my_claims")


# --- checkout -----------------------------------------------------------------------------


def _checkout_context(request):
    services.claims_settle_member(member=request.user)
    live = selectors.claims_of(request.user, live_only=True)
    _with_photos(live)
    for row in live:
        row.thumb = _thumb_url(row.item)
    reserved = [row for row in live if row.status == C.RESERVED]
    ready = [row for row in reserved if not row.open_order_id]
    in_order = [row for row in reserved if row.open_order_id]
    addresses = list(account_selectors.address_list(user=request.user))
    return ready, in_order, addresses


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    ready, in_order, addresses = _checkout_context(request)
    status = 200
    if request.method == "POST":
        form = CheckoutForm(request.POST, claims=ready, addresses=addresses)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                order = services.order_create(
                    buyer=request.user, claim_ids=data["claims"], address_id=data["address"], note=data["note"]
                )
            except DomainError as error:
                form.add_service_error(error)
                status = error.status
            else:
                messages.success(request, _("Order placed. Pay before the reservation ends to make it yours."))
                return redirect("market:order", order_id=order.pk)
    else:
        wanted = {int(pk) for pk in request.GET.getlist("claim") if pk.isdigit()}
        ticked = [row.pk for row in ready if not wanted or row.pk in wanted]
        form = CheckoutForm(
            claims=ready,
            addresses=addresses,
            initial={"claims": ticked, "address": addresses[0].pk if addresses else None},
        )
    ticked = {str(pk) for pk in form["claims"].value() or []}
    subtotal = sum(row.item.price_fen for row in ready if str(row.pk) in ticked)
    return _page(
        request,
        "market/member/checkout.html",
        {
            "form": form,
            "ready": ready,
            "ready_by_pk": {row.pk: row for row in ready},
            "in_order": in_order,
            "addresses": addresses,
            "address_by_pk": {address.pk: address for address in addresses},
            "subtotal_fen": subtotal,
            "shipping_fen": shipping_fee_fen(subtotal) if subtotal else 0,
            "free_from_fen": settings.ERHUO_FREE_SHIPPING_FROM_FEN,
        },
        status=status,
    )


# --- orders -------------------------------------------------------------------------------


ORDER_TABS = (
    ("", gettext_lazy("All")),
    (S.PENDING_PAYMENT, gettext_lazy("To pay")),
    (S.PAID, gettext_lazy("Paid")),
    (S.PACKED, S.PACKED.label),
    (S.SHIPPED, S.SHIPPED.label),
    (S.DELIVERED, S.DELIVERED.label),
    (S.COMPLETED, S.COMPLETED.label),
    (S.CANCELLED, S.CANCELLED.label),
    (S.REFUNDED, S.REFUNDED.label),
)


def _settle_due_orders(orders, now) -> bool:
    """Apply the order deadlines the clock has passed; True when anything changed."""
    changed = False
    for order in orders:
        due = (
            (order.status == S.PENDING_PAYMENT and order.pay_by and order.pay_by <= now)
            or (order.status == S.DELIVERED and order.complete_after and order.complete_after <= now)
            or (
                order.status == S.PAID
                and order.fulfilment == Order.Fulfilment.SELF_SHIP
                and order.ship_by
                and order.ship_by <= now
            )
        )
        if due and services.orders_settle(order=order, now=now):
            changed = True
    return changed


@login_required
@require_GET
def my_orders(request):
    now = timezone.now()
    services.claims_settle_member(member=request.user, now=now)
    tab = request.GET.get("status") or ""
    if tab not in S.values:
        tab = ""
    orders = selectors.orders_of(request.user, status=tab or None)
    page = Paginator(orders, ORDERS_PAGE_SIZE).get_page(request.GET.get("page"))
    if _settle_due_orders(list(page.object_list), now):
        page = Paginator(selectors.orders_of(request.user, status=tab or None), ORDERS_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    counts = dict(Order.objects.filter(buyer=request.user).order_by().values_list("status").annotate(n=Count("pk")))
    tabs = [
        {"key": key, "label": label, "count": sum(counts.values()) if not key else counts.get(key, 0)}
        for key, label in ORDER_TABS
    ]
    return _page(request, "market/member/orders.html", {"page": page, "tabs": tabs, "tab": tab})


def _own_order(request, order_id: int) -> Order:
    order = selectors.order_of(order_id=order_id, user=request.user)
    # Her own orders only: a seller or staff member has her own pages for them.
    if order is None or order.buyer_id != request.user.pk:
        raise Http404
    return order


def _providers() -> list[tuple[str, str]]:
    labels = dict(Provider.choices)
    return [(name, labels.get(name, name)) for name in enabled_providers()]


def _line_rows(order: Order, buyer, now) -> list[dict]:
    lines = list(order.lines.all())
    prefetch_related_objects([line.item for line in lines], "category__parent", _card_photos())
    returns: dict[int, list] = {}
    for request_row in selectors.returns_of(buyer).filter(line__order=order).order_by("created_at", "pk"):
        returns.setdefault(request_row.line_id, []).append(request_row)
    shown = set(BuyerShow.objects.filter(line__order=order).values_list("line_id", flat=True))
    delivered = order.status in (S.DELIVERED, S.COMPLETED)
    rows = []
    for line in lines:
        category = line.item.category
        returnable = category.effective_returnable()
        window_ends = None
        if returnable and order.delivered_at:
            window_ends = order.delivered_at + timedelta(days=category.effective_return_window_days())
        line_returns = returns.get(line.pk, [])
        return_open = any(row.status == R.REQUESTED for row in line_returns)
        rows.append(
            {
                "line": line,
                "thumb": _thumb_url(line.item),
                "url": _item_url(line.item_id),
                "returnable": returnable,
                "window_ends": window_ends,
                "returns": line_returns,
                "can_return": (
                    not line.is_gift
                    and line.active
                    and not return_open
                    and line.refunded_fen < line.price_fen
                    and selectors.return_window_open(line, now)
                ),
                "has_show": line.pk in shown,
                "can_show": delivered and line.active and not line.is_gift and line.pk not in shown,
            }
        )
    return rows


def _render_order(request, order: Order, *, pay_form=None, cancel_form=None, status: int = 200):
    now = timezone.now()
    open_payments = []
    if order.status == S.PENDING_PAYMENT:
        open_payments = list(
            payment_selectors.payments_of(payer=request.user, purpose="order").filter(
                reference=order.reference, status__in=Payment.OPEN
            )
        )
    providers = _providers()
    rows = _line_rows(order, request.user, now)
    return_open = any(row.status == R.REQUESTED for line_row in rows for row in line_row["returns"])
    can_pay = order.status == S.PENDING_PAYMENT
    can_cancel = order.status in (S.PENDING_PAYMENT, S.PAID)
    # A refusal that ended the order (paying it after it was cancelled) is said above the page: the form is gone.
    for form, shown in ((pay_form, can_pay), (cancel_form, can_cancel)):
        if form is not None and form.errors and not shown:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
    return _page(
        request,
        "market/member/order.html",
        {
            "order": order,
            "rows": rows,
            "return_open": return_open,
            "steps": list(selectors.order_timeline(order)),
            "status_labels": dict(S.choices),
            "can_pay": can_pay,
            "can_cancel": can_cancel,
            # An open return holds the order: it completes once the return is decided.
            "can_confirm": order.status in (S.SHIPPED, S.DELIVERED) and not return_open,
            "open_payments": open_payments,
            "providers": providers,
            "pay_form": pay_form or PayForm(providers=providers, initial={"idempotency_key": uuid.uuid4().hex}),
            "cancel_form": cancel_form or OrderCancelForm(),
            "progress": _progress(order),
        },
        status=status,
    )


PROGRESS = (S.PENDING_PAYMENT, S.PAID, S.SHIPPED, S.DELIVERED, S.COMPLETED)


def _progress(order: Order) -> list[dict]:
    """The happy path as steps, for the bar at the top of the order (none once the order has ended early)."""
    if order.status in (S.CANCELLED, S.REFUNDED):
        return []
    current = S.PAID if order.status == S.PACKED else order.status
    reached = PROGRESS.index(current)
    return [
        {"label": S(key).label, "done": index < reached, "current": index == reached}
        for index, key in enumerate(PROGRESS)
    ]


@login_required
@require_GET
def order_detail(request, order_id: int):
    order = _own_order(request, order_id)
    if services.orders_settle(order=order):
        order = _own_order(request, order_id)
    return _render_order(request, order)


@login_required
@require_POST
def order_pay(request, order_id: int):
    order = _own_order(request, order_id)
    form = PayForm(request.POST, providers=_providers())
    status = 422
    if form.is_valid():
        try:
            payment = services.order_pay(
                order_id=order.pk,
                buyer=request.user,
                provider=form.cleaned_data["provider"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except DomainError as error:
            if error.status == 404:
                raise Http404 from None
            form.add_service_error(error)
            status = error.status
        else:
            return redirect("payments:pay", payment_id=payment.pk)
    return _render_order(request, _own_order(request, order_id), pay_form=form, status=status)


@login_required
@require_POST
def order_cancel(request, order_id: int):
    order = _own_order(request, order_id)
    form = OrderCancelForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.order_cancel(order_id=order.pk, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            if error.status == 404:
                raise Http404 from None
            form.add_service_error(error)
            status = error.status
        else:
            if order.status == S.PENDING_PAYMENT:
                messages.success(request, _("The order is cancelled. Nothing was charged."))
            else:
                messages.success(request, _("The order is cancelled. Your payment is refunded in full."))
            return redirect("market:order", order_id=order.pk)
    return _render_order(request, _own_order(request, order_id), cancel_form=form, status=status)


@login_required
@require_POST
def order_confirm(request, order_id: int):
    order = _own_order(request, order_id)
    try:
        services.order_confirm(order_id=order.pk, buyer=request.user)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Thank you! The order is complete and the seller is paid."))
    return redirect("market:order", order_id=order.pk)


# --- returns ------------------------------------------------------------------------------


def _own_line(request, line_id: int) -> OrderLine:
    line = (
        OrderLine.objects.select_related("order", "item__category__parent")
        .filter(pk=line_id, order__buyer=request.user)
        .first()
    )
    if line is None:
        raise Http404
    return line


def _line_context(line: OrderLine) -> dict:
    _with_photos_of_line(line)
    category = line.item.category
    returnable = category.effective_returnable()
    window_ends = None
    if returnable and line.order.delivered_at:
        window_ends = line.order.delivered_at + timedelta(days=category.effective_return_window_days())
    return {
        "line": line,
        "order": line.order,
        "thumb": _thumb_url(line.item),
        "returnable": returnable,
        "window_ends": window_ends,
        "window_open": selectors.return_window_open(line, timezone.now()),
    }


def _with_photos_of_line(line: OrderLine) -> None:
    prefetch_related_objects([line.item], _card_photos())


@login_required
@require_http_methods(["GET", "POST"])
def return_new(request, line_id: int):
    line = _own_line(request, line_id)
    status = 200
    if request.method == "POST":
        form = ReturnForm(request.POST, request.FILES)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                made = services.return_request_create(
                    line_id=line.pk,
                    buyer=request.user,
                    reason=data["reason"],
                    description=data["description"],
                    photos=data["photos"],
                )
            except DomainError as error:
                if error.status == 404:
                    raise Http404 from None
                form.add_service_error(error)
                status = error.status
            else:
                messages.success(request, _("Your return request is sent. Customer service answers within two days."))
                return redirect("market:return_detail", return_id=made.pk)
    else:
        form = ReturnForm()
    context = _line_context(line)
    context.update({"form": form, "photos_lost": request.method == "POST" and bool(request.FILES)})
    return _page(request, "market/member/return_new.html", context, status=status)


def _own_return(request, return_id: int) -> ReturnRequest:
    found = selectors.return_of(return_id=return_id, user=request.user)
    if found is None:
        raise Http404
    return found


@login_required
@require_GET
def return_detail(request, return_id: int):
    found = _own_return(request, return_id)
    _with_photos_of_line(found.line)
    steps = list(found.transitions.select_related("actor").order_by("created_at", "pk"))
    return _page(
        request,
        "market/member/return_detail.html",
        {
            "request_row": found,
            "line": found.line,
            "order": found.line.order,
            "thumb": _thumb_url(found.line.item),
            "photos": list(found.photos.all()),
            "steps": steps,
            "status_labels": dict(R.choices),
            "is_buyer": found.buyer_id == request.user.pk,
        },
    )


@login_required
@require_POST
def return_withdraw(request, return_id: int):
    found = _own_return(request, return_id)
    try:
        services.return_request_withdraw(return_id=found.pk, buyer=request.user)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Your return request is withdrawn."))
    return redirect("market:return_detail", return_id=found.pk)


@login_required
@require_GET
def return_photo(request, return_id: int, photo_id: int):
    """A return's evidence photo, for its buyer and customer service only; never kept by shared caches."""
    found = _own_return(request, return_id)
    photo = next((p for p in found.photos.all() if p.pk == photo_id), None)
    if photo is None or not photo.image:
        raise Http404
    try:
        handle = photo.image.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    content_type = mimetypes.guess_type(photo.image.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- buyer shows --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def show_new(request, line_id: int):
    line = _own_line(request, line_id)
    status = 200
    if request.method == "POST":
        form = BuyerShowForm(request.POST, request.FILES)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.buyer_show_create(
                    line_id=line.pk, buyer=request.user, stars=data["stars"], text=data["text"], photos=data["photos"]
                )
            except DomainError as error:
                if error.status == 404:
                    raise Http404 from None
                form.add_service_error(error)
                status = error.status
            else:
                messages.success(request, _("Thank you! Your buyer show is posted."))
                return redirect("market:order", order_id=line.order_id)
    else:
        form = BuyerShowForm()
    context = _line_context(line)
    context.update(
        {
            "form": form,
            "already": BuyerShow.objects.filter(line=line).exists(),
            "delivered": line.order.status in (S.DELIVERED, S.COMPLETED),
            "photos_lost": request.method == "POST" and bool(request.FILES),
        }
    )
    return _page(request, "market/member/show_new.html", context, status=status)


@require_GET
def featured_shows(request):
    return _page(
        request, "market/member/featured_shows.html", {"shows": selectors.featured_shows(limit=FEATURED_SHOWN)}
    )


urlpatterns = [
    path("shop/", shop, name="shop"),
    path("items/<int:item_id>/claim/", claim, name="claim"),
    path("me/claims/", my_claims, name="my_claims"),
    path("me/claims/<int:claim_id>/withdraw/", claim_withdraw, name="claim_withdraw"),
    path("checkout/", checkout, name="checkout"),
    path("me/orders/", my_orders, name="my_orders"),
    path("orders/<int:order_id>/", order_detail, name="order"),
    path("orders/<int:order_id>/pay/", order_pay, name="order_pay"),
    path("orders/<int:order_id>/cancel/", order_cancel, name="order_cancel"),
    path("orders/<int:order_id>/confirm/", order_confirm, name="order_confirm"),
    path("order-lines/<int:line_id>/return/", return_new, name="return_new"),
    path("returns/<int:return_id>/", return_detail, name="return_detail"),
    path("returns/<int:return_id>/withdraw/", return_withdraw, name="return_withdraw"),
    path("returns/<int:return_id>/photos/<int:photo_id>/", return_photo, name="return_photo"),
    path("order-lines/<int:line_id>/show/", show_new, name="show_new"),
    path("shows/", featured_shows, name="featured_shows"),
]
