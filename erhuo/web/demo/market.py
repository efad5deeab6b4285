"""Demo market: claims and queues, orders in every state, returns, buyer shows, and payouts.

Runs after the experts demo (some buyers came through an expert's link, and
their purchases earn her a commission when they complete). Sixteen new
items are consigned through the pipeline like the other demos' (one batch
each, listed shortly before their story starts), then every step below is
a market, payments, trust or ledger service called by the member, the
seller, the warehouse (`ruku`), customer service (`kefu`), the community
manager (`yunying`) or finance (`caiwu`) at its moment on the demo clock
(`sales.Agenda`). "Day 2" is the day before yesterday.

Claims (接龙)
- hot: a Bugaboo stroller listed nine minutes ago, reserved within the
  minute, with five members queueing behind (the demo member second);
- hand-over: a Longchamp bag whose first claimer made an order and did not
  pay in time: her claim expired, her order was cancelled, and the next in
  line holds it now; one more waits;
- withdrawn: on a baby gym (day 2), the demo member gave up her place in
  the queue and the first claimer withdrew; the next one paid, and the last
  one's place was closed when it sold; the item has since been shipped.

Orders, besides the other demos' (paid, packed, shipped, delivered,
completed, and two self-ship orders cancelled at their deadline):
- waiting for payment: the demo member's, in the sandbox; another buyer's
  by bank transfer, whose screenshot waits for finance;
- cancelled before payment by the buyer (the item is on sale again) and
  refunded after payment, cancelled before packing (on sale again);
- self-ship: one of the named seller's waiting to be shipped within its
  48 hours; one of the third mother's cancelled and refunded by the clock
  when she missed them;
- attributed: two buyers who came through the named expert's link bought
  and confirmed: she earns her share when each completes.

Returns (customer service decides): open, with the demo member's photos;
refunded in full (the parcel comes back to the warehouse); partly refunded
(damaged in transit, the buyer keeps it); rejected (the defect was in the
description), after which the order confirmed itself; counterfeit, refunded
in full and charged to the seller's deposit, which she topped up the next
morning.

Buyer shows with photos on completed orders, two featured in the groups by
the community manager; the demo member posted one of them.

Payouts: finance paid a batch the day before yesterday (every seller and
expert owed money then) and opened today's, which waits for the bank.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from erhuo.accounts import roles
from erhuo.accounts.models import User
from erhuo.catalog.models import Item
from erhuo.consignment import services as consignment_services
from erhuo.core.money import format_fen
from erhuo.experts.models import ExpertCommission, ReferralAttribution
from erhuo.ledger import payouts
from erhuo.ledger.models import PayoutBatch
from erhuo.market import services as market
from erhuo.market.models import BuyerShow, Claim, Order, OrderLine, ReturnRequest
from erhuo.payments import services as payment_services
from erhuo.web.demo import accounts
from erhuo.web.demo.consignment import PLATFORM, SELF_SHIP, Batch, Plan, _Seeder
from erhuo.web.demo.images import product_photo, screenshot
from erhuo.web.demo.sales import Agenda, Market, Sale
from erhuo.web.demo.trust import deposit_pay, local_moment, working_moment

RANDOM_SEED = 20260505
REVIEWER_USERNAME = "kefu"
FINANCE_USERNAME = "caiwu"
MODERATOR_USERNAME = "yunying"
# Story buyers: ordinary members (by sign-up order) past the ones the experts demo touched (6–18), before
# the trust demo's stories (40 on).
BUYER_POOL = slice(19, 40)
R = ReturnRequest.Reason


@dataclass(frozen=True)
class Listing:
    """A market story's item: who consigns it and when it went on sale."""

    seller: str  # consignment's `_Seeder.users` key
    plan: Plan
    listed: datetime


def _plan(title, category, brand, declared, original, year, grade, family, **extra) -> Plan:
    # The age is set when the listing moment is known (`_MarketDemo.listings`).
    return Plan(title, category, brand, declared, original, year, grade, family, "listed", 0, **extra)


ITEMS = {
    "hot": (
        "mom1",
        _plan(
            "Bugaboo Bee 6 博格步 轻便推车 灰色",
            "baby-strollers",
            "Bugaboo",
            1800,
            4980,
            2022,
            "A",
            "stroller",
            colour="灰色",
            description="一手自用，可登机，单手收车。篷布拆洗过，轮子无异响。",
        ),
    ),
    "handover": (
        accounts.SELLER_USERNAME,
        _plan(
            "Longchamp 珑骧 Le Pliage Néo 中号 藏青",
            "bags-tote",
            "Longchamp",
            500,
            1390,
            2022,
            "A",
            "bag",
            colour="藏青",
            description="Néo 加厚款，可斜挎，通勤装电脑刚好。",
        ),
    ),
    "withdrawn": (
        "mom3",
        _plan(
            "Fisher-Price 费雪 脚踏钢琴健身架",
            "baby-toys",
            "Fisher-Price",
            120,
            399,
            2023,
            "A",
            "toy",
            description="宝宝躺着踢琴会响，有音乐和灯光，已高温消毒。",
        ),
    ),
    "pending": (
        "mom3",
        _plan(
            "巴拉巴拉 女童针织连衣裙 110 粉色",
            "baby-clothes",
            "Balabala",
            60,
            229,
            2024,
            "A",
            "baby_clothes",
            size="110",
            colour="粉色",
        ),
    ),
    "transfer": (
        accounts.SELLER_USERNAME,
        _plan(
            "Theory 羊毛混纺阔腿裤 黑色 2",
            "womens-trousers",
            "Theory",
            500,
            2100,
            2022,
            "A",
            "trousers",
            size="2",
            colour="黑色",
            measurements={"裤长": "100", "腰围": "68"},
        ),
    ),
    "cancelled": (
        "mom1",
        _plan(
            "Stokke 思多嘉儿 婴儿背带 灰色",
            "baby",
            "Stokke",
            300,
            1280,
            2022,
            "A",
            "toy",
            colour="灰色",
            description="0–3 岁可用，前抱后背都可以，带护颈。",
        ),
    ),
    "refunded": (
        accounts.EXPERT_USERNAME,
        _plan(
            "Gucci 双G 真丝方巾 90 藏蓝",
            "accessories-scarves",
            "Gucci",
            1400,
            3600,
            2021,
            "A",
            "scarf",
            colour="藏蓝",
        ),
    ),
    "self_ship": (
        accounts.SELLER_USERNAME,
        _plan(
            "COS 羊毛针织开衫 燕麦色 S",
            "womens-knitwear",
            "COS",
            220,
            790,
            2022,
            "A",
            "knit",
            size="S",
            colour="燕麦色",
            fulfilment=SELF_SHIP,
        ),
    ),
    "missed": (
        "mom3",
        _plan(
            "帮宝适 超薄干爽 纸尿裤 NB 码 未拆封 2 包",
            "baby-diapers",
            "Pampers",
            90,
            178,
            2025,
            "N",
            "feeding",
            size="NB",
            fulfilment=SELF_SHIP,
        ),
    ),
    "open_return": (
        accounts.SELLER_USERNAME,
        _plan(
            "Sandro 波点真丝衬衫 S",
            "womens-tops",
            "Sandro",
            600,
            2290,
            2022,
            "A",
            "top",
            size="S",
            colour="黑底白点",
            measurements={"衣长": "64", "胸围": "94"},
        ),
    ),
    "full_return": (
        accounts.SELLER_USERNAME,
        _plan(
            "Maje 粗花呢半身裙 黑色 34",
            "womens-skirts",
            "Maje",
            450,
            1890,
            2022,
            "A",
            "dress",
            size="34",
            colour="黑色",
            measurements={"裙长": "45", "腰围": "64"},
        ),
    ),
    "partial_return": (
        accounts.EXPERT_USERNAME,
        _plan(
            "Coach Field 托特包 老花 棕色",
            "bags-tote",
            "Coach",
            1200,
            3800,
            2021,
            "A",
            "bag",
            colour="棕色",
            measurements={"长": "30", "高": "24", "宽": "11"},
        ),
    ),
    "rejected_return": (
        accounts.EXPERT_USERNAME,
        _plan(
            "Max Mara 羊毛针织连衣裙 驼色 S",
            "womens-dresses",
            "Max Mara",
            900,
            3600,
            2021,
            "A",
            "dress",
            size="S",
            colour="驼色",
            defects="领口轻微起球",
        ),
    ),
    "counterfeit": (
        "mom2",
        _plan(
            "Coach 老花长款钱包 棕色",
            "bags-wallets",
            "Coach",
            450,
            1990,
            2020,
            "B",
            "bag",
            colour="棕色",
            defects="边角轻微磨损",
        ),
    ),
    "attributed": (
        accounts.SELLER_USERNAME,
        _plan(
            "Kate Spade 珍珠耳钉 金色",
            "accessories-jewellery",
            "Kate Spade",
            200,
            690,
            2023,
            "S",
            "jewellery",
            colour="金色",
        ),
    ),
    "attributed_toy": (
        "mom3",
        _plan(
            "乐高 得宝 数字火车 10954",
            "baby-toys",
            "LEGO",
            120,
            299,
            2023,
            "A",
            "toy",
            description="零件齐全，已按颗粒清点并消毒。",
        ),
    ),
}


class _MarketDemo:
    def __init__(self, *, now: datetime):
        self.now = now
        self.seeder = _Seeder(now=now)
        self.users = self.seeder.users
        for username in (REVIEWER_USERNAME, FINANCE_USERNAME, MODERATOR_USERNAME):
            self.users[username] = User.objects.get(username=username)
        named = [account.username for account in accounts.NAMED_ACCOUNTS]
        ordinary = User.objects.filter(groups__name=roles.MEMBER).exclude(username__in=named).order_by("pk")
        self.pool = list(ordinary[BUYER_POOL])
        self.member = self.users[accounts.MEMBER_USERNAME]
        self.sales = Market(seed=RANDOM_SEED)
        self.agenda = Agenda()
        self.items: dict[str, Item] = {}
        self.stories: dict[str, Sale] = {}

    # --- time -----------------------------------------------------------------------------------

    def ago(self, *, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)

    def day(self, days: int, hour: int, minute: int = 0) -> datetime:
        """`days` (at least 1) before today, at hh:mm local time."""
        return local_moment(self.now, days=days, hour=hour, minute=minute)

    def listing_moments(self) -> dict[str, datetime]:
        return {
            "hot": self.ago(minutes=9),
            "handover": self.ago(hours=3, minutes=20),
            "withdrawn": self.day(2, 19, 40),
            "pending": self.ago(hours=2, minutes=40),
            "transfer": self.ago(hours=5, minutes=10),
            "cancelled": self.day(2, 18, 0),
            "refunded": self.day(4, 18, 30),
            "self_ship": self.ago(days=2, hours=3),
            "missed": self.day(5, 16, 0),
            "open_return": self.day(6, 15, 0),
            "full_return": self.day(10, 17, 0),
            "partial_return": self.day(8, 19, 30),
            "rejected_return": self.day(14, 18, 0),
            "counterfeit": self.day(8, 16, 0),
            "attributed": self.day(4, 20, 0),
            "attributed_toy": self.day(9, 19, 0),
        }

    # --- the items, through the pipeline ---------------------------------------------------------

    def consign(self) -> None:
        """Each story's item, one batch each, driven to listed and moved into the past to list at its moment."""
        seeder = self.seeder
        for key, listed in self.listing_moments().items():
            seller, plan = ITEMS[key]
            age = (self.now - listed).total_seconds() / 3600
            plan = replace(plan, age_hours=age)
            intake = seeder.submit(Batch(seller, "", (plan,), prescreen_hours=4, ship_hours=18))
            item = Item.objects.get(consignment__batch=intake)
            seeder.prescreen(item, plan)
            if plan.fulfilment == PLATFORM:
                consignment_services.batch_mark_shipped(
                    batch_id=intake.pk, seller=intake.seller, carrier="顺丰", tracking_number=f"SF15{intake.pk:011d}"
                )
            seeder.drive(item.pk, plan)
            self.items[key] = item
        seeder.backdate()
        for item in self.items.values():
            item.refresh_from_db()

    # --- people ---------------------------------------------------------------------------------

    def buyer(self, index: int) -> User:
        return self.pool[index]

    def sale(self, key: str, buyer: User) -> Sale:
        sale = Sale(item=self.items[key], buyer=buyer, family=ITEMS[key][1].family)
        self.stories[key] = sale
        return sale

    def at(self, moment: datetime, action, /, *args, **kwargs) -> None:
        self.agenda.add(moment, action, *args, **kwargs)

    # --- claims ---------------------------------------------------------------------------------

    def hot_item(self) -> None:
        """Reserved forty seconds after listing; five more members queue within three minutes."""
        listed = self.ago(minutes=9)
        self.at(listed + timedelta(seconds=40), self.sales.claim, self.sale("hot", self.buyer(5)))
        queue = [self.buyer(0), self.member, self.buyer(1), self.buyer(2), self.buyer(3)]
        for position, member in enumerate(queue, start=1):
            waiting = Sale(item=self.items["hot"], buyer=member)
            self.at(listed + timedelta(seconds=40 + 25 * position), self.sales.claim, waiting)

    def handover(self) -> None:
        """The first claimer ordered and did not pay: her reservation expired and passed to the next in line."""
        first = self.sale("handover", self.buyer(6))
        self.at(self.ago(minutes=45), self.sales.claim, first)
        self.at(self.ago(minutes=44), self.sales.order, first)
        for minutes, member in ((43, self.buyer(7)), (40, self.buyer(8))):
            self.at(self.ago(minutes=minutes), self.sales.claim, Sale(item=self.items["handover"], buyer=member))
        # The next page view after the window closed settles it (the periodic task would too).
        self.at(self.ago(minutes=14), market.claims_settle_item, item_id=self.items["handover"].pk)

    def withdrawals(self) -> None:
        """The demo member leaves the queue; the first claimer withdraws; the next in line pays; it ships."""
        item = self.items["withdrawn"]
        first, member = Sale(item=item, buyer=self.buyer(9)), Sale(item=item, buyer=self.member)
        winner, last = self.sale("withdrawn", self.buyer(10)), Sale(item=item, buyer=self.buyer(11))
        for minute, sale in ((1, first), (2, member), (3, winner), (5, last)):
            self.at(self.day(2, 20, minute), self.sales.claim, sale)
        self.at(self.day(2, 20, 8), self._withdraw, member)
        self.at(self.day(2, 20, 12), self._withdraw, first)
        self.at(self.day(2, 20, 14), self.sales.order, winner)
        self.at(self.day(2, 20, 20), self.sales.pay, winner)
        self.at(self.day(1, 10, 30), self.sales.pack, winner)
        self.at(self.day(1, 16, 0), self.sales.ship, winner)

    def _withdraw(self, sale: Sale) -> None:
        market.claim_withdraw(claim_id=sale.claim.pk, member=sale.buyer)

    # --- orders ---------------------------------------------------------------------------------

    def waiting_for_payment(self) -> None:
        """The demo member's order waits for her sandbox payment; another buyer's transfer waits for finance."""
        mine = self.sale("pending", self.member)
        self.at(self.ago(minutes=7), self.sales.claim, mine)
        self.at(self.ago(minutes=6), self.sales.order, mine, note="麻烦帮忙检查一下有没有起球，谢谢～")
        self.at(self.ago(minutes=5), self._start_payment, mine, "sandbox")
        transfer = self.sale("transfer", self.buyer(12))
        self.at(self.ago(minutes=12), self.sales.claim, transfer)
        self.at(self.ago(minutes=11), self.sales.order, transfer)
        self.at(self.ago(minutes=10), self._start_payment, transfer, "manual")
        self.at(self.ago(minutes=4), self._send_proof, transfer)

    def _start_payment(self, sale: Sale, provider: str) -> None:
        sale.payment = market.order_pay(order_id=sale.order.pk, buyer=sale.buyer, provider=provider)

    def _send_proof(self, sale: Sale) -> None:
        now = timezone.localtime(timezone.now())
        proof = screenshot(
            "转账成功",
            (
                f"收款方：{settings.ERHUO_MANUAL_PAYEE_NAME}",
                f"金额：{format_fen(sale.payment.amount_fen)}",
                f"付款人：{sale.buyer.display_name}",
                f"附言：{sale.order.number}",
                f"时间：{now:%Y-%m-%d %H:%M}",
            ),
            image_format="PNG",
        )
        payment_services.payment_proof_submit(
            payment_id=sale.payment.pk,
            payer=sale.buyer,
            proof=SimpleUploadedFile("alipay.png", proof, content_type="image/png"),
            note="支付宝转账，附言写了订单号",
        )

    def cancellations(self) -> None:
        """Cancelled before paying (wrong colour); refunded in full when cancelled after paying, before packing."""
        unpaid = self.sale("cancelled", self.buyer(13))
        self.at(self.day(1, 11, 0), self.sales.claim, unpaid)
        self.at(self.day(1, 11, 2), self.sales.order, unpaid)
        self.at(self.day(1, 11, 10), self._cancel, unpaid, "拍错了，想要的是米色那款，不好意思。")
        paid = self.sale("refunded", self.buyer(14))
        self.at(self.day(2, 21, 0), self.sales.claim, paid)
        self.at(self.day(2, 21, 2), self.sales.order, paid)
        self.at(self.day(2, 21, 9), self.sales.pay, paid)
        self.at(self.day(2, 21, 40), self._cancel, paid, "家里人已经送了我一条同款，不需要了，麻烦退款。")

    def _cancel(self, sale: Sale, reason: str) -> None:
        market.order_cancel(order_id=sale.order.pk, actor=sale.buyer, reason=reason)

    def self_ship(self) -> None:
        """The named seller has a self-ship order to send; the third mother missed her 48 hours."""
        waiting = self.sale("self_ship", self.buyer(15))
        self.at(self.ago(hours=20, minutes=14), self.sales.claim, waiting)
        self.at(self.ago(hours=20, minutes=13), self.sales.order, waiting)
        self.at(self.ago(hours=20, minutes=5), self.sales.pay, waiting)
        missed = self.sale("missed", self.buyer(16))
        paid = self.day(3, 14, 9)
        self.at(self.day(3, 14, 0), self.sales.claim, missed)
        self.at(self.day(3, 14, 1), self.sales.order, missed)
        self.at(paid, self.sales.pay, missed)
        deadline = paid + timedelta(hours=settings.ERHUO_SELF_SHIP_HOURS)
        self.at(deadline + timedelta(minutes=3), self.sales.settle, missed)

    def attributed(self) -> None:
        """Two buyers who came through the named expert's link buy and confirm: her share accrues on completion."""
        claimed = self.day(8, 20, 0)
        # Her follower who visited through her link most recently before that evening (the experts demo).
        follower = (
            ReferralAttribution.objects.filter(
                expert__user=self.users[accounts.EXPERT_USERNAME], created_at__lt=claimed - timedelta(hours=2)
            )
            .exclude(buyer=self.member)
            .select_related("buyer")
            .order_by("-created_at", "-pk")
            .first()
            .buyer
        )
        toy = self.sale("attributed_toy", follower)
        self.sales.schedule(
            self.agenda,
            toy,
            {
                "reserved": claimed,
                "sold": self.day(8, 20, 9),
                "packed": self.day(7, 10, 5),
                "shipped": self.day(7, 15, 20),
                "delivered": self.day(5, 12, 0),
                "completed": self.day(4, 9, 0),
            },
            stars=5,
            photos=2,
        )
        earrings = self.sale("attributed", self.member)
        self.sales.schedule(
            self.agenda,
            earrings,
            {
                "reserved": self.day(4, 20, 30),
                "sold": self.day(4, 20, 38),
                "packed": self.day(3, 10, 15),
                "shipped": self.day(3, 11, 0),
                "delivered": self.day(2, 10, 30),
                "completed": self.day(1, 9, 40),
            },
            stars=5,
            photos=3,
        )

    # --- returns --------------------------------------------------------------------------------

    def _delivered(self, key: str, buyer: User, claimed: datetime, delivered: datetime) -> Sale:
        sale = self.sale(key, buyer)
        self.sales.schedule(
            self.agenda,
            sale,
            {
                "reserved": claimed,
                "sold": claimed + timedelta(minutes=9),
                "packed": claimed + timedelta(hours=13, minutes=20),
                "shipped": claimed + timedelta(hours=19),
                "delivered": delivered,
            },
        )
        return sale

    def _ask_return(self, sale: Sale, reason: str, description: str, photos: int) -> None:
        uploads = [
            SimpleUploadedFile(
                f"return-{index}.jpg",
                product_photo(sale.item.title, sale.family, "evidence" if index else "buyer"),
                content_type="image/jpeg",
            )
            for index in range(photos)
        ]
        sale.returned = market.return_request_create(
            line_id=sale.line.pk, buyer=sale.buyer, reason=reason, description=description, photos=uploads
        )

    def _decide(self, sale: Sale, outcome: str, decision: str, **amounts) -> None:
        market.return_decide(
            return_id=sale.returned.pk,
            actor=self.users[REVIEWER_USERNAME],
            outcome=outcome,
            decision=decision,
            **amounts,
        )

    def returns(self) -> None:
        # Open: the demo member's, with her photos.
        mine = self._delivered("open_return", self.member, self.day(4, 12, 30), self.day(2, 14, 20))
        self.at(
            self.day(1, 21, 30),
            self._ask_return,
            mine,
            R.NOT_AS_DESCRIBED,
            "袖口内侧有一块黄色污渍，洗不掉，商品描述和照片里都没有提到。附上照片，希望退货退款。",
            2,
        )
        # Refunded in full: it did not fit; the skirt goes back to the warehouse.
        skirt = self._delivered("full_return", self.buyer(17), self.day(8, 21, 5), self.day(5, 11, 0))
        self.at(self.day(4, 20, 30), self._ask_return, skirt, R.SIZE, "腰围偏小，扣不上，吊牌和包装都还在。", 1)
        self.at(
            self.day(3, 10, 45),
            self._decide,
            skirt,
            ReturnRequest.Status.REFUNDED,
            "签收后 7 天内申请，吊牌、包装完好，同意退货退款（含运费）。商品寄回仓库重新质检后再上架。",
        )
        # Partly refunded: dented in transit; the buyer keeps it, then confirms.
        tote = self._delivered("partial_return", self.buyer(18), self.day(6, 20, 10), self.day(3, 13, 0))
        self.at(
            self.day(3, 19, 40),
            self._ask_return,
            tote,
            R.DAMAGED,
            "快递外箱被压扁了，包身右下角有一道压痕，其他都好。",
            2,
        )
        self.at(
            self.day(2, 11, 20),
            self._decide,
            tote,
            ReturnRequest.Status.PARTIAL,
            "核对签收照片，外箱运输中受压，包角压痕轻微、不影响使用。买家愿意保留商品，部分退款 ¥120。",
            refund_fen=12_000,
        )
        self.at(self.day(2, 19, 5), self.sales.confirm, tote)
        # Rejected: the pilling was in the description; the order then confirmed itself when its window closed.
        dress = self._delivered("rejected_return", self.buyer(19), self.day(12, 21, 0), self.day(9, 11, 30))
        self.at(self.day(9, 20, 15), self._ask_return, dress, R.NOT_AS_DESCRIBED, "领口起球，穿上很明显。", 1)
        self.at(
            self.day(8, 10, 40),
            self._decide,
            dress,
            ReturnRequest.Status.REJECTED,
            "商品详情已写明“领口轻微起球”，并附瑕疵照片，与收到的商品一致，不支持退货。可以用去球器处理。",
        )
        auto_confirmed = self.day(9, 11, 30) + timedelta(days=settings.ERHUO_AUTO_CONFIRM_DAYS, minutes=4)
        self.at(auto_confirmed, self.sales.settle, dress)
        # Counterfeit: refunded in full and charged to the seller's deposit; she tops it up the next morning.
        wallet = self._delivered("counterfeit", self.buyer(20), self.day(6, 21, 30), self.day(4, 12, 0))
        self.at(
            self.day(3, 20, 0),
            self._ask_return,
            wallet,
            R.COUNTERFEIT,
            "拿到专柜验了，柜员说五金刻字和内标编码都不对，怀疑是假货。",
            2,
        )
        self.at(
            self.day(2, 16, 30),
            self._decide,
            wallet,
            ReturnRequest.Status.REFUNDED,
            "鉴定师老陈复核：五金刻字字体偏粗，内标编码格式与该款不符，判定为非正品。全额退款给买家；"
            "按《卖家规则》售假条款扣除卖家保证金 ¥200，商品退回卖家。",
            deposit_charge_fen=20_000,
        )
        seller = self.items["counterfeit"].seller
        self.at(
            self.day(1, 9, 12), deposit_pay, seller=seller, provider="sandbox", amount_fen=20_000, at=self.day(1, 9, 12)
        )

    # --- buyer shows ----------------------------------------------------------------------------

    def shows(self) -> None:
        """The demo member's show of the necklace she bought (consignment demo); two shows featured."""
        necklace = OrderLine.objects.select_related("order", "item").get(
            item__title="施华洛世奇 天鹅项链 银色", order__buyer=self.member, order__status=Order.Status.COMPLETED
        )
        sale = Sale(item=necklace.item, buyer=self.member, order=necklace.order, family="jewellery")
        self.stories["necklace"] = sale
        self.at(
            self.day(2, 21, 15),
            self.sales.show,
            sale,
            stars=5,
            text="天鹅项链收到啦！盒子、袋子都在，链子没有一点划痕，戴上去闪闪的。老公说像新买的～",
            photos=3,
        )
        self.at(self.day(1, 10, 0), self._feature, "necklace")
        self.at(self.day(1, 10, 5), self._feature, "attributed_toy")

    def _feature(self, key: str) -> None:
        show = BuyerShow.objects.get(line__order=self.stories[key].order)
        market.buyer_show_feature(show_id=show.pk, actor=self.users[MODERATOR_USERNAME])

    # --- payouts --------------------------------------------------------------------------------

    def payouts(self) -> None:
        """Finance paid a batch the day before yesterday; today's batch waits for the bank."""
        self.at(self.day(2, 15, 0), self._batch, paid_at=self.day(2, 17, 30))
        self.at(working_moment(self.now), self._batch, paid_at=None)

    def _batch(self, *, paid_at: datetime | None) -> None:
        finance = self.users[FINANCE_USERNAME]
        batch = payouts.payout_batch_create(actor=finance)
        if paid_at is not None:
            self.at(
                paid_at,
                payouts.payout_batch_mark_paid,
                batch_id=batch.pk,
                actor=finance,
                reference=f"招行批量代发 {timezone.localtime(paid_at):%Y%m%d}-01",
            )

    # --- everything -----------------------------------------------------------------------------

    def run(self) -> None:
        self.consign()
        self.hot_item()
        self.handover()
        self.withdrawals()
        self.waiting_for_payment()
        self.cancellations()
        self.self_ship()
        self.attributed()
        self.returns()
        self.shows()
        self.payouts()
        self.agenda.run()


def seed(*, stdout) -> None:
    demo = _MarketDemo(now=timezone.now())
    demo.run()
    orders = Order.objects.values_list("status", flat=True)
    by_status = {status: 0 for status in Order.Status.values}
    for status in orders:
        by_status[status] += 1
    claims = {status: Claim.objects.filter(status=status).count() for status in Claim.Status.values}
    returns = {status: ReturnRequest.objects.filter(status=status).count() for status in ReturnRequest.Status.values}
    batches = {status: PayoutBatch.objects.filter(status=status).count() for status in PayoutBatch.Status.values}
    stdout.write(
        f"market: {len(orders)} orders ({', '.join(f'{count} {status}' for status, count in by_status.items())}); "
        f"{sum(claims.values())} claims ({claims['reserved']} reserved, {claims['queued']} queued, "
        f"{claims['expired']} expired, {claims['withdrawn']} withdrawn, {claims['closed']} closed); "
        f"{sum(returns.values())} returns ({returns['requested']} open, {returns['refunded']} refunded, "
        f"{returns['partial']} partly refunded, {returns['rejected']} rejected); "
        f"{BuyerShow.objects.count()} buyer shows ({BuyerShow.objects.exclude(featured_at=None).count()} featured); "
        f"{ExpertCommission.objects.count()} expert commissions; "
        f"payout batches: {batches['paid']} paid, {batches['open']} open"
    )
