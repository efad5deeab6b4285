"""Demo sales: the market's own services, each step at its own moment on the demo clock.

Every sale in the demo goes the way a member's does: she claims the item
(接龙), makes the order with her default address, pays in the sandbox; the
warehouse (`ruku`) packs and ships it, or the seller ships it herself; it is
delivered, and the buyer confirms it (or the order confirms itself when its
window closes). So every sold item has its claim, its order, its payment and
its escrow entries and, once completed, the split of the money into the
seller's payable amount, the commission and the service fees.

Two things the site does after a transaction commits are done here
directly, because the demo seeds everything in one transaction and its
`on_commit` handlers only run at the very end:

- allocating a sandbox payment to its order (`order_payment_allocate`, what
  the `payment_succeeded` handler calls; idempotent, so the handler later
  finds it done);
- recounting the seller's record when an item sells (what the catalog's
  `item_sold` event does), so that a level is earned on the day of the sale
  that earned it.

An `Agenda` runs the steps of many sales in the order of their moments, each
inside `demo_clock`, so that every counter (a seller's record, a payout
batch) sees the world as it was at that moment.
"""

import heapq
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile

from erhuo.accounts import services as account_services
from erhuo.accounts.models import Address, User
from erhuo.catalog.models import Item
from erhuo.market import services as market
from erhuo.market.models import BuyerShow, Claim, Order, OrderLine, ReturnRequest
from erhuo.payments import services as payment_services
from erhuo.payments.models import Payment
from erhuo.trust.services.record import seller_record_recompute
from erhuo.web.demo import accounts
from erhuo.web.demo.clock import demo_clock
from erhuo.web.demo.images import product_photo

WAREHOUSE_USERNAME = "ruku"
PLATFORM_CARRIER = "顺丰"
# What sellers who ship themselves use, most often first.
SELF_SHIP_CARRIERS = ("中通", "圆通", "韵达", "顺丰", "京东")

SHOW_TEXTS = {
    5: (
        "和描述的一模一样，成色很新，包装也很用心，下次还来！",
        "上身效果超好，面料很舒服，姐妹们放心冲。",
        "收到就穿上了，尺码刚好，卖家人很好，沟通很愉快。",
        "比想象中还新，平台的清洁和包装都很专业。",
        "闺蜜看了也想要，可惜只有一件哈哈。",
        "发货很快，第二天就到了，细节和照片一致。",
        "给宝宝用上了，消毒过很放心，好评！",
    ),
    4: (
        "整体不错，有一点点使用痕迹，描述里也写了，可以接受。",
        "东西挺好的，就是快递慢了一天。",
    ),
    3: ("成色比预期旧一些，不过价格也便宜，还行吧。",),
}


def tracking_number(carrier: str, rng: random.Random) -> str:
    """A waybill number in the carrier's usual shape."""
    if carrier == "顺丰":
        return f"SF{rng.randrange(10**12, 10**13)}"
    if carrier == "中通":
        return f"7{rng.randrange(10**13, 10**14)}"
    if carrier == "圆通":
        return f"YT{rng.randrange(10**12, 10**13)}"
    if carrier == "京东":
        return f"JDVA{rng.randrange(10**10, 10**11)}"
    return f"43{rng.randrange(10**11, 10**12)}"  # 韵达


@dataclass
class Sale:
    """One item on its way to one buyer: what the services returned so far."""

    item: Item
    buyer: User
    claim: Claim | None = None
    order: Order | None = None
    payment: Payment | None = None
    family: str = "top"  # the drawing of the item's photos (images.py), for the buyer's own photos
    returned: ReturnRequest | None = None  # her return request, if she asked for one

    @property
    def line(self) -> OrderLine:
        return self.order.lines.get(item=self.item)


class Agenda:
    """Steps at moments, taken in the order of their moments (ties: in the order added).

    A step may add later steps (finance opens a batch, then pays it): they
    take their place among the others.
    """

    def __init__(self):
        self._steps: list[tuple[datetime, int, Callable, tuple, dict]] = []
        self._added = 0

    def add(self, moment: datetime, action: Callable, /, *args, **kwargs) -> None:
        heapq.heappush(self._steps, (moment, self._added, action, args, kwargs))
        self._added += 1

    def run(self) -> int:
        done = 0
        while self._steps:
            moment, _index, action, args, kwargs = heapq.heappop(self._steps)
            with demo_clock(moment):
                action(*args, **kwargs)
            done += 1
        return done


class Market:
    """The market's steps as the demo's people take them (every call inside the agenda's demo clock)."""

    def __init__(self, *, seed: int):
        self.rng = random.Random(seed)  # noqa: S311 (sample data, not secrets)
        self.warehouse = User.objects.get(username=WAREHOUSE_USERNAME)
        self.counts: Counter = Counter()

    # --- the buyer ------------------------------------------------------------------------------

    def ensure_address(self, buyer: User) -> None:
        """A member without an address enters one at her first checkout (one in eight has none yet)."""
        if Address.objects.filter(user=buyer).exists():
            return
        region = next((row for row in accounts.REGIONS if row[0] == buyer.city), accounts.REGIONS[0])
        district = self.rng.choice(region[4])
        account_services.address_create(
            user=buyer,
            data={
                "label": "家",
                "recipient_name": accounts._real_name(self.rng),
                "recipient_phone": buyer.phone,
                "province": region[2],
                "city": region[3],
                "district": district[0],
                "detail": accounts._street_address(self.rng, region, district),
                "postal_code": district[1],
            },
        )

    def claim(self, sale: Sale) -> Claim:
        sale.claim = market.claim_create(item_id=sale.item.pk, member=sale.buyer)
        return sale.claim

    def order(self, sale: Sale, *, note: str = "") -> Order:
        self.ensure_address(sale.buyer)
        sale.order = market.order_create(buyer=sale.buyer, claim_ids=[sale.claim.pk], note=note)
        return sale.order

    def pay(self, sale: Sale) -> Payment:
        """She pays in the sandbox; the money goes into escrow and the item is sold."""
        sale.payment = market.order_pay(order_id=sale.order.pk, buyer=sale.buyer, provider="sandbox")
        payment_services.sandbox_pay(payment_id=sale.payment.pk, payer=sale.buyer)
        # What the `payment_succeeded` handler does after commit, done now (see the module docstring).
        market.order_payment_allocate(payment_id=sale.payment.pk)
        sale.order.refresh_from_db()
        if sale.order.status != Order.Status.PAID:
            raise RuntimeError(f"demo order {sale.order.pk} was not paid: {sale.order.status}")
        # What the catalog's `item_sold` event does after commit: the seller's record counts the sale.
        for seller in User.objects.filter(sold_lines__order=sale.order).distinct():
            seller_record_recompute(user=seller)
        return sale.payment

    # --- fulfilment -----------------------------------------------------------------------------

    def _fulfiller(self, sale: Sale) -> User:
        return sale.order.shipper if sale.order.fulfilment == Order.Fulfilment.SELF_SHIP else self.warehouse

    def pack(self, sale: Sale) -> None:
        market.order_pack(order_id=sale.order.pk, actor=self.warehouse)

    def ship(self, sale: Sale, *, carrier: str = "") -> None:
        self_ship = sale.order.fulfilment == Order.Fulfilment.SELF_SHIP
        carrier = carrier or (self.rng.choice(SELF_SHIP_CARRIERS) if self_ship else PLATFORM_CARRIER)
        market.order_ship(
            order_id=sale.order.pk,
            actor=self._fulfiller(sale),
            carrier=carrier,
            tracking_number=tracking_number(carrier, self.rng),
        )

    def deliver(self, sale: Sale) -> None:
        market.order_deliver(order_id=sale.order.pk, actor=self._fulfiller(sale))

    def confirm(self, sale: Sale) -> None:
        market.order_confirm(order_id=sale.order.pk, buyer=sale.buyer)

    def settle(self, sale: Sale) -> None:
        """The market's clock passes the order's deadline (the periodic task, or anyone reading it)."""
        market.orders_settle(order=sale.order)
        sale.order.refresh_from_db()

    def show(self, sale: Sale, *, stars: int, text: str = "", photos: int = 0) -> BuyerShow:
        """The buyer's rating, words and her own photos (买家秀)."""
        text = text or self.rng.choice(SHOW_TEXTS[stars])
        uploads = [
            SimpleUploadedFile(
                f"show-{index}.jpg",
                product_photo(sale.item.title, sale.family, "buyer" if index == 0 else "evidence"),
                content_type="image/jpeg",
            )
            for index in range(photos)
        ]
        self.counts["shows"] += 1
        return market.buyer_show_create(line_id=sale.line.pk, buyer=sale.buyer, stars=stars, text=text, photos=uploads)

    # --- a whole sale on a schedule -------------------------------------------------------------

    def schedule(
        self,
        agenda: Agenda,
        sale: Sale,
        moments: dict[str, datetime],
        *,
        stars: int | None = None,
        photos: int = 0,
    ) -> Sale:
        """Add the sale's steps to `agenda`, one per item step in `moments` (reserved … completed).

        `reserved` claims the item (and, when it is also paid for, makes the
        order a minute or two later); `sold` pays; `packed`, `shipped`,
        `delivered` are the warehouse's or the seller's; `completed` is the
        buyer's confirmation, followed by her show when `stars` is given.
        `cancelled` lets a self-ship order's deadline pass (the seller never
        shipped it).
        """
        reserved = moments["reserved"]
        agenda.add(reserved, self.claim, sale)
        if "sold" in moments:
            ordered = min(reserved + timedelta(seconds=self.rng.randint(40, 150)), moments["sold"])
            agenda.add(ordered, self.order, sale)
            agenda.add(moments["sold"], self.pay, sale)
        for step, action in (
            ("packed", self.pack),
            ("shipped", self.ship),
            ("delivered", self.deliver),
            ("completed", self.confirm),
        ):
            if step in moments:
                agenda.add(moments[step], action, sale)
        if "cancelled" in moments:
            agenda.add(moments["cancelled"], self.settle, sale)
        if stars is not None and "completed" in moments:
            agenda.add(
                moments["completed"] + timedelta(minutes=self.rng.randint(2, 20)),
                self.show,
                sale,
                stars=stars,
                photos=photos,
            )
        return sale
