"""Demo selling history: what four sellers sold before the demo's present, and what it earned them.

Seller levels come from the record (`trust.levels`): a trusted seller has
sold at least 5 items, a top seller at least 30, with good ratings and
on-time shipping. Only trusted and top sellers may ship items themselves,
and the consignment demo has self-ship items from the named seller and
from the third mother, so this history runs after the verifications
(trust.py) and BEFORE the consignment demo.

The items are new ones, driven through the real consignment services by
the demo operators (consignment.py's pipeline driver): a new seller's
first items go through the warehouse; once she is trusted, she sells
cheaper things herself (self-ship: submitted → accepted → priced → listed).
Each is then sold through the market's services (sales.py): a member
claims it, orders and pays in the sandbox, the warehouse packs and ships it
(or the seller ships it herself), the buyer confirms it and most rate it
with a buyer show. The pipeline's chain of custody is moved into the past
like the consignment demo's, and the market's steps run at their planned
moments on the demo clock, so the seller's record counts every sale,
shipment and rating when it happened and each level is dated when it was
earned:

- `seller` (Cici): 6 sales through the warehouse, then 10 self-ship
  orders → trusted. The last of them she did not ship within 48 hours: the
  market's clock cancelled and refunded it, and customer service deducted
  part of her deposit for it (with the decision and the order's timeline as
  evidence); she had topped her deposit up before and topped it up again
  after, so she can still consign;
- `expert` (Vivian): 6 sales through the warehouse (two authenticated
  luxury pieces) → trusted;
- `mom1`: 5 baby things through the warehouse, then 26 self-ship orders
  (one of them cancelled the same way) → top seller;
- `mom3`: 5 sales through the warehouse → trusted.
"""

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import cycle

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from erhuo.accounts import roles
from erhuo.accounts.models import User
from erhuo.catalog.models import Item
from erhuo.consignment import services as consignment_services
from erhuo.consignment.models import IntakeBatch
from erhuo.core.money import format_fen
from erhuo.market.models import Order, OrderLine
from erhuo.trust import selectors as trust_selectors
from erhuo.trust.models import DepositDeduction, SellerRecord, SellerVerification
from erhuo.trust.services import deposits as deposit_services
from erhuo.web.demo import accounts
from erhuo.web.demo.clock import demo_clock
from erhuo.web.demo.consignment import PLATFORM, SELF_SHIP, Batch, Plan, _Seeder, market_steps
from erhuo.web.demo.images import screenshot
from erhuo.web.demo.sales import Agenda, Market, Sale
from erhuo.web.demo.trust import deposit_pay, local_moment

RANDOM_SEED = 20260202
D = 24  # hours in a day: plan ages are in hours
# The history's buyers: ordinary members after the three mothers (by sign-up order), before the ones the
# trust and privacy demos give other stories (trust.STORY_POOL_START), and now and then the demo member.
BUYER_POOL = slice(3, 40)


def H(title, category, brand, declared, original, year, grade, family, completed_days_ago, **extra) -> Plan:
    """An item of the history: sold, and completed `completed_days_ago` days ago."""
    return Plan(
        title, category, brand, declared, original, year, grade, family, "listed", completed_days_ago * D, **extra
    )


def SS(title, category, brand, declared, original, year, grade, family, completed_days_ago, **extra) -> Plan:
    """A self-shipped item of the history."""
    return H(
        title,
        category,
        brand,
        declared,
        original,
        year,
        grade,
        family,
        completed_days_ago,
        fulfilment=SELF_SHIP,
        **extra,
    )


@dataclass(frozen=True)
class Career:
    seller: str  # the key of consignment's `_Seeder.users`
    platform: Batch  # her first sales, through the warehouse
    platform_ratings: tuple[int, ...]
    self_ship: tuple[Batch, ...] = ()  # once trusted
    self_ship_ratings: tuple[int, ...] = ()
    # The title of the one self-ship order she did not ship in time (cancelled and refunded by the clock).
    # A late shipment counts against her on-time rate: it comes after enough on-time ones to keep her level.
    late: str = ""


CAREERS: tuple[Career, ...] = (
    Career(
        accounts.SELLER_USERNAME,
        Batch(
            accounts.SELLER_USERNAME,
            "第一次寄卖，先寄几件试试。",
            (
                H("Sandro 短款针织开衫 黑色", "womens-knitwear", "Sandro", 600, 2190, 2022, "A", "knit", 63, size="1"),
                H("Maje 格纹A字半身裙", "womens-skirts", "Maje", 500, 1890, 2022, "A", "dress", 61, size="36"),
                H("Theory 九分西装裤 黑色", "womens-trousers", "Theory", 550, 2100, 2021, "A", "trousers", 60),
                H("Coach 马鞍斜挎包 棕色", "bags-crossbody", "Coach", 900, 3300, 2021, "A", "bag", 58),
                H("Max Mara Weekend 条纹衬衫", "womens-tops", "Max Mara", 700, 2300, 2022, "S", "top", 57, size="S"),
                H("Kate Spade 手提包 藏青", "bags-tote", "Kate Spade", 800, 2890, 2022, "A", "bag", 55),
            ),
        ),
        (5, 5, 5, 5),
        (
            Batch(
                accounts.SELLER_USERNAME,
                "升级了可信卖家，便宜的我自己发。",
                (
                    SS("ZARA 针织开衫 米色 S", "womens-knitwear", "ZARA", 120, 359, 2023, "A", "knit", 50, size="S"),
                    SS("COS 直筒半身裙 黑色 S", "womens-skirts", "COS", 200, 750, 2022, "A", "dress", 48, size="S"),
                    SS("UNIQLO 羊绒圆领毛衣 S", "womens-knitwear", "UNIQLO", 150, 499, 2022, "A", "knit", 46),
                    SS("H&M 碎花连衣裙 S", "womens-dresses", "H&M", 80, 299, 2023, "A", "dress", 44, size="S"),
                    SS(
                        "Massimo Dutti 真丝小方巾",
                        "accessories-scarves",
                        "Massimo Dutti",
                        150,
                        459,
                        2022,
                        "A",
                        "scarf",
                        41,
                    ),
                    SS("Peacebird 太平鸟 牛仔外套 S", "womens-coats", "Peacebird", 150, 599, 2022, "B", "coat", 38),
                    SS("ZARA 高腰直筒牛仔裤 26", "womens-trousers", "ZARA", 100, 299, 2023, "A", "trousers", 36),
                    SS("COS 亚麻衬衫 燕麦色 S", "womens-tops", "COS", 160, 590, 2023, "S", "top", 33),
                    SS("Kate Spade 小卡包 粉色", "bags-wallets", "Kate Spade", 200, 690, 2022, "A", "bag", 31),
                    SS("Massimo Dutti 棉质衬衫 白色", "womens-tops", "Massimo Dutti", 180, 599, 2022, "A", "top", 29),
                ),
            ),
        ),
        (5, 5, 5, 4, 5, 5, 5),
        late="Massimo Dutti 棉质衬衫 白色",
    ),
    Career(
        accounts.EXPERT_USERNAME,
        Batch(
            accounts.EXPERT_USERNAME,
            "整理衣帽间，先出几件配饰和包。",
            (
                H(
                    "Hermès 爱马仕 70 方巾 真丝",
                    "accessories-scarves",
                    "Hermès",
                    1800,
                    3650,
                    2020,
                    "A",
                    "scarf",
                    62,
                    checks="scarf",
                ),
                H("Longchamp 小羊皮手提包 黑色", "bags-tote", "Longchamp", 1500, 4200, 2021, "A", "bag", 60),
                H("Max Mara 羊毛围巾 驼色", "accessories-scarves", "Max Mara", 900, 2600, 2021, "A", "scarf", 58),
                H(
                    "LV Speedy 25 老花手袋",
                    "luxury-bags",
                    "Louis Vuitton",
                    6500,
                    11200,
                    2017,
                    "B",
                    "luxury_bag",
                    56,
                    checks="bag",
                ),
                H("Theory 羊毛连衣裙 藏青", "womens-dresses", "Theory", 600, 2800, 2021, "A", "dress", 53, size="2"),
                H("Gucci 双G 皮带 黑色 80", "accessories", "Gucci", 1400, 3200, 2020, "A", "jewellery", 50),
            ),
        ),
        (5, 5, 5, 5, 4),
    ),
    Career(
        "mom1",
        Batch(
            "mom1",
            "宝宝用不上了，都洗干净了。",
            (
                H("费雪 海马安抚玩偶 蓝色", "baby-toys", "Fisher-Price", 60, 169, 2023, "A", "toy", 64),
                H("巴拉巴拉 婴儿连体衣 三件装 73", "baby-clothes", "Balabala", 60, 199, 2023, "A", "baby_clothes", 63),
                H("贝亲 电动吸奶器 单边", "baby-feeding", "Pigeon", 200, 599, 2023, "A", "feeding", 61),
                H("babycare 婴儿浴盆 可折叠", "baby", "babycare", 80, 229, 2023, "A", "toy", 60),
                H("《好饿的毛毛虫》绘本 精装", "baby-books", None, 30, 48, 2022, "A", "book", 58),
            ),
        ),
        (5, 5, 5),
        (
            Batch(
                "mom1",
                "纸尿裤都是没拆的，衣服是孕期穿的。",
                (
                    SS(
                        "花王妙而舒 纸尿裤 M 码 未拆封 2 包",
                        "baby-diapers",
                        "Merries",
                        150,
                        278,
                        2025,
                        "N",
                        "feeding",
                        54,
                    ),
                    SS(
                        "帮宝适 一级帮 纸尿裤 L 码 未拆封",
                        "baby-diapers",
                        "Pampers",
                        120,
                        199,
                        2025,
                        "N",
                        "feeding",
                        52,
                    ),
                    SS("哺乳上衣 两件装 M", "womens-tops", None, 60, 199, 2024, "A", "top", 51, size="M"),
                    SS("ZARA 高腰阔腿裤 M", "womens-trousers", "ZARA", 80, 299, 2023, "A", "trousers", 49),
                    SS("UNIQLO 孕妇牛仔裤 L", "womens-trousers", "UNIQLO", 60, 199, 2023, "A", "trousers", 48),
                    SS("H&M 孕妇连衣裙 条纹 M", "womens-dresses", "H&M", 70, 249, 2023, "A", "dress", 46),
                    SS(
                        "Peacebird 太平鸟 针织开衫 米白 M",
                        "womens-knitwear",
                        "Peacebird",
                        120,
                        459,
                        2022,
                        "A",
                        "knit",
                        45,
                    ),
                    SS("COS 纯棉衬衫 白色 M", "womens-tops", "COS", 150, 550, 2022, "A", "top", 43),
                    SS(
                        "Longchamp 珑骧 Le Pliage 大号 妈咪包",
                        "bags-tote",
                        "Longchamp",
                        280,
                        1050,
                        2021,
                        "B",
                        "bag",
                        42,
                    ),
                    SS("Kate Spade 帆布托特包", "bags-tote", "Kate Spade", 200, 990, 2022, "A", "bag", 40),
                    SS("大容量双肩妈咪包 灰色", "bags-shoulder", None, 90, 259, 2023, "A", "bag", 39),
                    SS(
                        "Massimo Dutti 印花小方巾",
                        "accessories-scarves",
                        "Massimo Dutti",
                        120,
                        359,
                        2022,
                        "A",
                        "scarf",
                        37,
                    ),
                    SS("淡水珍珠耳钉", "accessories-jewellery", None, 150, 399, 2022, "S", "jewellery", 36),
                ),
            ),
            Batch(
                "mom1",
                "",
                (
                    SS("JNBY 江南布衣 棉麻连衣裙 M", "womens-dresses", "JNBY", 220, 1099, 2022, "A", "dress", 34),
                    SS(
                        "EXCEPTION 例外 麻质阔腿裤",
                        "womens-trousers",
                        "EXCEPTION",
                        260,
                        1280,
                        2021,
                        "A",
                        "trousers",
                        33,
                    ),
                    SS("ZARA 西装外套 黑色 M", "womens-coats", "ZARA", 150, 499, 2023, "A", "coat", 31),
                    SS("UNIQLO 摇粒绒外套 L", "womens-coats", "UNIQLO", 60, 199, 2022, "A", "coat", 30),
                    SS("Maje 针织半身裙 M", "womens-skirts", "Maje", 280, 1590, 2022, "A", "dress", 28),
                    SS("Peacebird 太平鸟 风衣 卡其 M", "womens-coats", "Peacebird", 250, 899, 2022, "A", "coat", 27),
                    SS("Coach 零钱包 老花", "bags-wallets", "Coach", 200, 790, 2021, "A", "bag", 25),
                    SS("COS 羊毛围巾 灰色", "accessories-scarves", "COS", 150, 490, 2022, "A", "scarf", 23),
                    SS("帮宝适 拉拉裤 XXL 未拆封", "baby-diapers", "Pampers", 110, 189, 2025, "N", "feeding", 21),
                    SS("花王妙而舒 纸尿裤 S 码 未拆封", "baby-diapers", "Merries", 90, 159, 2025, "N", "feeding", 19),
                    SS("H&M 针织背心 两件", "womens-tops", "H&M", 40, 149, 2023, "A", "top", 17),
                    SS("Sandro 衬衫式连衣裙 M", "womens-dresses", "Sandro", 300, 2290, 2021, "B", "dress", 16),
                    SS("好奇 心钻装 拉拉裤 XL 未拆封", "baby-diapers", None, 100, 189, 2025, "N", "feeding", 14),
                ),
            ),
        ),
        (5,) * 17 + (4, 4),
        late="UNIQLO 摇粒绒外套 L",
    ),
    Career(
        "mom3",
        Batch(
            "mom3",
            "孩子长得快，都只穿了一季。",
            (
                H("巴拉巴拉 儿童羽绒背心 110", "baby-clothes", "Balabala", 60, 229, 2023, "A", "baby_clothes", 18),
                H("乐高 得宝 动物火车 10412", "baby-toys", "LEGO", 150, 299, 2022, "A", "toy", 17),
                H("贝亲 奶瓶蒸汽消毒器", "baby-feeding", "Pigeon", 150, 459, 2023, "A", "feeding", 16),
                H("《小熊很忙》绘本 全套", "baby-books", None, 60, 132, 2022, "A", "book", 15),
                H("babycare 宝宝餐椅 可折叠", "baby-feeding", "babycare", 200, 499, 2023, "A", "stroller", 14),
            ),
        ),
        (5, 5, 4, 5),
    ),
)

# The history's items, by title (unique in the demo: the tests tell the history's items apart by them).
TITLES = frozenset(
    plan.title for career in CAREERS for batch in (career.platform, *career.self_ship) for plan in batch.items
)


class _History:
    def __init__(self, *, now: datetime, buyers: list[User]):
        self.now = now
        self.buyers = cycle(buyers)
        self.market = Market(seed=RANDOM_SEED)
        self.by_fulfilment: Counter = Counter()
        self.cancelled = 0

    def sell_batches(self, batches: tuple[Batch, ...], *, ratings: tuple[int, ...], late: str = "") -> list[Item]:
        """Submit and drive each batch's items to listed, move that into the past, then sell them at their moments.

        The first `len(ratings)` buyers rate what they bought with a buyer show; the order titled `late`
        is never shipped, and the market's clock cancels and refunds it at its deadline.
        """
        seeder = _Seeder(now=self.now)
        items = []
        for batch in batches:
            intake = seeder.submit(batch)
            batch_items = list(Item.objects.filter(consignment__batch=intake).order_by("pk"))
            for item in batch_items:
                seeder.prescreen(item, seeder.plans[item.pk])
            if any(item.fulfilment == PLATFORM for item in batch_items):
                consignment_services.batch_mark_shipped(
                    batch_id=intake.pk, seller=intake.seller, carrier="顺丰", tracking_number=f"SF13{intake.pk:011d}"
                )
            for item in batch_items:
                seeder.drive(item.pk, seeder.plans[item.pk])
            items += batch_items
        planned = {}
        for item in items:
            plan = seeder.plans[item.pk]
            steps = market_steps(replace(plan, target="completed"))
            planned[item.pk] = ("reserved", "sold", "cancelled") if item.title == late else steps
        moments = seeder.backdate(planned)
        agenda = Agenda()
        stars = iter(ratings)
        for item in items:
            sale = Sale(item=item, buyer=next(self.buyers), family=seeder.plans[item.pk].family)
            rating = None if item.title == late else next(stars, None)
            self.market.schedule(agenda, sale, moments[item.pk], stars=rating)
            if item.title == late:
                self.cancelled += 1
            else:
                self.by_fulfilment[item.fulfilment] += 1
        agenda.run()
        return items


def _check_after_verification(user: User, items: list[Item]) -> None:
    """No item of the history may have been consigned before its seller was verified (the plan ages say when)."""
    approved = SellerVerification.objects.filter(user=user, decided_at__isnull=False).order_by("decided_at").first()
    first = IntakeBatch.objects.filter(consignments__item__in=items).order_by("created_at").first()
    if approved is None or first.created_at <= approved.decided_at:
        raise RuntimeError(f"demo history of {user.username} starts before her verification; shorten the ages")


def _history_buyers() -> list[User]:
    named = [account.username for account in accounts.NAMED_ACCOUNTS]
    ordinary = list(
        User.objects.filter(groups__name=roles.MEMBER).exclude(username__in=named).order_by("pk")[BUYER_POOL]
    )
    member = User.objects.get(username=accounts.MEMBER_USERNAME)
    # The demo member bought twice before (every nineteenth sale).
    return [member, *ordinary[:18], member, *ordinary[18:]]


def _named_seller_deposit(cici: User, late_item: Item, now: datetime) -> DepositDeduction:
    """Cici's deposit after the new-seller payment (trust.py): a top-up, one deduction, a top-up after it."""
    finance = User.objects.get(username="caiwu")
    reviewer = User.objects.get(username="kefu")
    deposit_pay(
        seller=cici,
        provider="manual",
        amount_fen=10_000,
        at=local_moment(now, days=58, hour=20, minute=30),
        finance=finance,
        confirmed_at=local_moment(now, days=57, hour=10, minute=20),
        payer_name="钱思思",
        payer_note="多存 100 元，怕万一被扣影响上新",
        finance_note="已到账（支付宝转账）。",
    )
    order = OrderLine.objects.select_related("order").get(item=late_item).order
    paid, deadline = timezone.localtime(order.paid_at), timezone.localtime(order.ship_by)
    cancelled = timezone.localtime(order.status_changed_at)
    evidence = screenshot(
        "订单详情",
        (
            f"订单号：{order.number}",
            f"商品：{late_item.title}",
            f"买家付款：{paid:%m-%d %H:%M}",
            f"发货期限：{deadline:%m-%d %H:%M}（付款后 48 小时）",
            f"{cancelled:%m-%d %H:%M} 超时未发货，系统取消并全额退款",
            "买家催发货 3 次，客服联系卖家 2 次未回复",
        ),
        accent=(255, 106, 0),
    )
    decided = cancelled + timedelta(hours=20)
    with demo_clock(decided):
        deduction = deposit_services.deposit_deduct(
            seller=cici,
            actor=reviewer,
            amount_fen=25_000,
            violation=DepositDeduction.Violation.MISSED_SHIPPING,
            decision=(
                f"自发货订单「{late_item.title}」（{order.number}）买家付款后 48 小时内未发货，买家催促 3 次，"
                "客服联系卖家 2 次未回复，订单到期由系统取消并全额退款（见订单截图）。"
                "按《卖家规则》自发货超时条款扣除保证金 ¥250。已电话告知卖家，卖家认可。"
            ),
            evidence_photos=[SimpleUploadedFile("order.jpg", evidence, content_type="image/jpeg")],
            item_reference=str(late_item.pk),
        )
    deposit_pay(seller=cici, provider="sandbox", amount_fen=15_000, at=decided + timedelta(hours=3, minutes=12))
    return deduction


def seed(*, stdout) -> None:
    now = timezone.now()
    history = _History(now=now, buyers=_history_buyers())
    users = _Seeder(now=now).users
    late_items: dict[str, Item] = {}
    for career in CAREERS:
        seller = users[career.seller]
        items = history.sell_batches((career.platform,), ratings=career.platform_ratings)
        _check_after_verification(seller, items)
        if not career.self_ship:
            continue
        if not trust_selectors.can_self_ship(seller):
            raise RuntimeError(f"{career.seller} is not trusted after her first sales")
        items = history.sell_batches(career.self_ship, ratings=career.self_ship_ratings, late=career.late)
        late = next(item for item in items if item.title == career.late)
        if OrderLine.objects.get(item=late).order.status != Order.Status.REFUNDED:
            raise RuntimeError(f"{career.seller}'s late order was not cancelled by the clock")
        late_items[career.seller] = late
    cici = users[accounts.SELLER_USERNAME]
    deduction = _named_seller_deposit(cici, late_items[accounts.SELLER_USERNAME], now)
    levels = Counter(
        SellerRecord.objects.filter(user__in=[users[career.seller] for career in CAREERS]).values_list(
            "level", flat=True
        )
    )
    completed = sum(history.by_fulfilment.values())
    stdout.write(
        f"history: {completed} sales completed before the demo for {len(CAREERS)} sellers "
        f"({history.by_fulfilment[PLATFORM]} through the warehouse, {history.by_fulfilment[SELF_SHIP]} self-shipped), "
        f"{history.market.counts['shows']} buyer shows, {history.cancelled} self-ship orders cancelled at their "
        f"deadline; {levels['top']} top and {levels['trusted']} trusted sellers; {cici.username}'s deposit: "
        f"2 top-ups and a deduction of {format_fen(deduction.amount_fen)}"
    )
