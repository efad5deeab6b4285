"""Reads for the pipeline: station queues with SLA clocks, the seller's view, the chain of custody.

Queues and the seller page read a fixed number of queries whatever the
number of items (select_related / prefetch_related, paginated); tests assert it.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from erhuo.catalog.models import Item, ItemPhoto, ItemTransition
from erhuo.consignment.models import Consignment, IntakeBatch, Station, StationSetting

S = Item.Status

DEFAULT_SLA_HOURS = {
    Station.PRESCREEN: 24,
    Station.RECEIVE: 24,
    Station.GRADE: 24,
    Station.AUTHENTICATE: 48,
    Station.CARE: 48,
    Station.PHOTOGRAPH: 24,
    Station.PRICE: 24,
    Station.RETURNS: 72,
}
# From arrival at the warehouse to listed, across stations.
INTAKE_TO_LISTED_HOURS = 72


def station_filter(station: str) -> Q:
    """The items waiting at a station."""
    if station == Station.PRESCREEN:
        return Q(status=S.SUBMITTED)
    if station == Station.RECEIVE:
        return Q(status__in=[S.ACCEPTED, S.IN_TRANSIT], fulfilment=Item.Fulfilment.PLATFORM)
    if station == Station.GRADE:
        return Q(status=S.RECEIVED)
    if station == Station.AUTHENTICATE:
        return Q(status=S.GRADED, consignment__needs_authentication=True)
    if station == Station.CARE:
        return Q(status=S.GRADED, consignment__needs_authentication=False) | Q(status=S.AUTHENTICATED)
    if station == Station.PHOTOGRAPH:
        return Q(status=S.CARED)
    if station == Station.PRICE:
        return (
            Q(status=S.PHOTOGRAPHED)
            | Q(status=S.ACCEPTED, fulfilment=Item.Fulfilment.SELF_SHIP)
            | Q(status=S.PRICED, consignment__price_decision=Consignment.PriceDecision.COUNTERED)
        )
    if station == Station.RETURNS:
        return Q(status=S.RETURN_TO_SELLER)
    raise ValueError(station)


def station_for_item(item: Item, consignment: Consignment | None) -> str | None:
    """Which station an item waits at now (None: with the seller, on sale, or finished)."""
    status, self_ship = item.status, item.fulfilment == Item.Fulfilment.SELF_SHIP
    needs_auth = bool(consignment and consignment.needs_authentication)
    if status == S.SUBMITTED:
        return Station.PRESCREEN
    if status in (S.ACCEPTED, S.IN_TRANSIT):
        return Station.PRICE if self_ship and status == S.ACCEPTED else Station.RECEIVE
    if status == S.RECEIVED:
        return Station.GRADE
    if status == S.GRADED:
        return Station.AUTHENTICATE if needs_auth else Station.CARE
    if status == S.AUTHENTICATED:
        return Station.CARE
    if status == S.CARED:
        return Station.PHOTOGRAPH
    if status == S.PHOTOGRAPHED:
        return Station.PRICE
    if status == S.PRICED and consignment and consignment.price_decision == Consignment.PriceDecision.COUNTERED:
        return Station.PRICE
    if status == S.RETURN_TO_SELLER:
        return Station.RETURNS
    return None


def sla_hours() -> dict[str, int]:
    hours = dict(DEFAULT_SLA_HOURS)
    hours.update(dict(StationSetting.objects.values_list("station", "sla_hours")))
    return hours


@dataclass(frozen=True)
class Clock:
    age: timedelta
    target: timedelta

    @property
    def is_late(self) -> bool:
        return self.age > self.target

    @property
    def remaining(self) -> timedelta:
        return self.target - self.age

    @property
    def share(self) -> float:
        return min(1.0, self.age / self.target) if self.target else 1.0


def clock_for(item: Item, *, station: str, hours: dict[str, int], now=None) -> Clock:
    now = now or timezone.now()
    return Clock(age=now - item.status_changed_at, target=timedelta(hours=hours[station]))


def station_queue(*, station: str, query: str = "") -> QuerySet[Item]:
    """Oldest first: the late items come first."""
    items = (
        Item.objects.filter(station_filter(station))
        .select_related("category", "category__parent", "brand", "seller", "consignment", "consignment__batch")
        .order_by("status_changed_at", "pk")
    )
    query = (query or "").strip()
    if query:
        items = items.filter(
            Q(consignment__label_code__iexact=query)
            | Q(consignment__batch__code__iexact=query)
            | Q(title__icontains=query)
        )
    return items


def station_counts(*, now=None) -> dict[str, dict[str, int]]:
    """Per station: how many items wait, and how many are past the target."""
    now = now or timezone.now()
    hours = sla_hours()
    counts = {}
    for station in Station.values:
        late_before = now - timedelta(hours=hours[station])
        row = Item.objects.filter(station_filter(station)).aggregate(
            waiting=Count("pk"), late=Count("pk", filter=Q(status_changed_at__lt=late_before))
        )
        counts[station] = row
    return counts


def item_by_label(code: str) -> Item | None:
    code = (code or "").strip().upper()
    if not code:
        return None
    # A scanned QR code carries the label URL; keep its last part.
    code = code.rstrip("/").rsplit("/", 1)[-1].rsplit("=", 1)[-1]
    return Item.objects.filter(consignment__label_code=code).first()


def _photos_prefetch() -> Prefetch:
    return Prefetch("photos", queryset=ItemPhoto.objects.order_by("created_at", "pk"))


def seller_batches(*, seller) -> QuerySet[IntakeBatch]:
    items = Item.objects.select_related("category", "brand", "consignment").prefetch_related(_photos_prefetch())
    return (
        IntakeBatch.objects.filter(seller=seller)
        .prefetch_related(Prefetch("consignments", queryset=Consignment.objects.select_related("item").order_by("pk")))
        .prefetch_related(Prefetch("consignments__item", queryset=items))
        .order_by("-created_at", "-pk")
    )


def seller_items(*, seller, status: str = "") -> QuerySet[Item]:
    items = (
        Item.objects.filter(seller=seller, consignment__isnull=False)
        .select_related("category", "brand", "consignment", "consignment__batch")
        .prefetch_related(_photos_prefetch())
        .order_by("-created_at", "-pk")
    )
    if status:
        items = items.filter(status=status)
    return items


def seller_item(*, seller, item_id: int) -> Item | None:
    return seller_items(seller=seller).filter(pk=item_id).first()


def item_for_operator(*, item_id: int) -> Item | None:
    return (
        Item.objects.select_related(
            "category", "category__parent", "brand", "seller", "consignment", "consignment__batch"
        )
        .prefetch_related(_photos_prefetch(), "care_records")
        .filter(pk=item_id, consignment__isnull=False)
        .first()
    )


def chain_of_custody(*, item: Item) -> list[ItemTransition]:
    """Every step, oldest first, with who (actor and their roles) and the photos of the step."""
    return list(
        ItemTransition.objects.filter(subject=item)
        .select_related("actor")
        .prefetch_related("actor__groups", Prefetch("photos", queryset=ItemPhoto.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )


def batch_for_seller(*, seller, batch_id: int) -> IntakeBatch | None:
    return seller_batches(seller=seller).filter(pk=batch_id).first()


def public_authentication_report(*, item_id: int):
    from erhuo.consignment.models import AuthenticationReport

    return (
        AuthenticationReport.objects.select_related("item", "item__category", "item__brand", "authenticator")
        .prefetch_related("authenticator__groups")
        .filter(item_id=item_id)
        .first()
    )
