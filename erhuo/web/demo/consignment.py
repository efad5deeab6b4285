"""Demo consignment: about sixty items spread over every station and exit.

Every item is driven through the real pipeline services
(`erhuo.consignment.services`) by the demo operators (ruku pre-screens,
receives and grades; jianding authenticates; qingxi cleans; sheying
photographs; yunying prices; the owner records a loss), so each chain of
custody is what the pipeline itself writes. Photos are drawn by
`images.py` and go through the same validation as a phone upload.

The pipeline services stamp everything "now". To make the SLA clocks and
the seller pages interesting, `backdate` then moves each item's history
into the past: the batch is submitted at one moment, pre-screened and
shipped together, and each item's own steps follow at plausible intervals
so that its current step is as old as its plan says (some are late on
purpose).

Steps after `listed` (reserved, sold, packed, shipped, delivered,
completed) are the market's: a member claims the item, orders and pays,
the warehouse packs and ships it (`sales.py`). They are not rewritten
afterwards: `backdate` plans their moments along with the pipeline's, and
the market's services then run at those moments on the demo clock.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from types import SimpleNamespace

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import QuerySet
from django.utils import timezone

from erhuo.accounts import roles
from erhuo.accounts.models import User
from erhuo.catalog.models import Brand, Category, Item, ItemPhoto, ItemTransition
from erhuo.consignment import services
from erhuo.consignment.models import AuthenticationReport, CareRecord, Consignment, IntakeBatch, RejectionReason
from erhuo.web.demo import accounts
from erhuo.web.demo.images import product_photo
from erhuo.web.demo.sales import Agenda, Market, Sale

RANDOM_SEED = 20260303
S = Item.Status
PLATFORM = Item.Fulfilment.PLATFORM
SELF_SHIP = Item.Fulfilment.SELF_SHIP
YUAN = 100

# Members who sell baby goods besides the named seller and expert (the first
# ordinary members by sign-up order: deterministic, like the accounts seed).
EXTRA_SELLERS = 3


@dataclass(frozen=True)
class Plan:
    """One demo item: what the seller submits and how far it gets."""

    title: str
    category: str  # category slug
    brand: str | None
    declared: int  # yuan
    original: int | None  # yuan
    year: int | None
    declared_grade: str
    family: str  # the drawing in images.py
    target: str  # the step it stops at (see `_drive`)
    age_hours: float = 24  # how long it has been in its last step
    size: str = ""
    colour: str = ""
    description: str = ""
    grade: str = ""  # the inspected grade; the seller's own if empty
    defects: str = ""
    measurements: dict = field(default_factory=dict)
    fulfilment: str = PLATFORM
    unsold: str = Consignment.UnsoldChoice.RETURN
    floor: int | None = None  # yuan
    price: int | None = None  # yuan, the pricing team's own price instead of the rule's
    repair: tuple[int, str] | None = None  # (quote in yuan, what needs repairing)
    reject: tuple[str, str] | None = None  # (reason, note)
    checks: str = ""  # key of AUTH_CHECKS
    markdown_days: int = 0  # listed this many days ago and marked down by the unsold rule


@dataclass(frozen=True)
class Batch:
    seller: str  # username, or "mom1".."mom3" for the extra sellers
    note: str
    items: tuple[Plan, ...]
    prescreen_hours: float = 5
    ship_hours: float = 20


# --- what authenticators check ---------------------------------------------

AUTH_CHECKS = {
    "bag": [
        ("整体做工", "版型挺括，走线平直，边油均匀无溢出", True),
        ("五金与刻字", "刻字清晰、深浅一致，字体与该年份款式相符", True),
        ("皮料与图案", "皮纹自然；老花图案在接缝处对齐、左右对称", True),
        ("内标与编码", "内标压印清晰，日期码/序列号格式与生产年份一致", True),
        ("缝线", "针脚均匀，每厘米针数与正品一致，线色正确", True),
    ],
    "bag_fake": [
        ("整体做工", "版型偏软，侧边边油多处溢出", False),
        ("五金与刻字", "双 G 扣刻字字体偏粗，字母间距不均", False),
        ("内标与编码", "内标序列号格式与该款式不符", False),
        ("缝线", "针脚基本均匀", True),
        ("皮料与气味", "皮面涂层偏厚，有明显胶味", False),
    ],
    "coat": [
        ("主标与洗标", "主标刺绣、洗标成分（羊毛 90% 羊绒 10%）与该款一致", True),
        ("面料与工艺", "双面呢手工缝合，正反两面无明线", True),
        ("辅料", "纽扣刻字清晰，里布与肩衬为原厂", True),
        ("吊牌防伪", "吊牌防伪码可在品牌官网查询", True),
    ],
    "scarf": [
        ("卷边", "手工卷边，朝正面卷，针脚隐藏", True),
        ("印花", "套色准确无错位，设计师签名清晰", True),
        ("洗标", "100% 真丝，法国制造，字体正确", True),
    ],
    "jewellery": [
        ("刻字", "内圈品牌标识、序列号与 750 金印清晰", True),
        ("螺丝结构", "螺丝头形状与间距一致，开合顺畅", True),
        ("重量", "17 号约 31 g，与官方数据一致", True),
        ("证书与凭证", "附原厂证书与专柜购买凭证", True),
    ],
    "shoe": [
        ("鞋垫与烫金", "鞋垫烫金字体、位置正确", True),
        ("鞋底", "大底刻字与码数标识清晰，磨损与使用痕迹相符", True),
        ("马衔扣五金", "五金重量足，电镀均匀", True),
    ],
    "wallet": [
        ("编织工艺", "皮条宽窄一致，编织紧密无胶痕", True),
        ("内标", "内侧压印字体与间距正确", True),
        ("边油", "边油平滑均匀", True),
    ],
}

CARE_NOTES = {
    "spot_clean": "局部去污，五金与边角擦拭",
    "wash": "40℃ 温水手洗，中性洗涤剂，平铺晾干",
    "dry_clean": "专业干洗，低温烘干",
    "steam": "挂烫整形，去除褶皱",
    "disinfect": "高温蒸汽 + 紫外线消毒 30 分钟，检测合格",
    "leather_care": "皮革清洁滋养，边角补色",
    "polish": "超声波清洗，抛光",
    "repair": "已按报价完成修复",
}


def P(title, category, brand, declared, original, year, grade, family, target, age_hours=24, **extra) -> Plan:
    return Plan(title, category, brand, declared, original, year, grade, family, target, age_hours, **extra)


H = 1  # hours
D = 24  # a day, in hours

BATCHES: tuple[Batch, ...] = (
    # --- Cici (the demo seller): women's clothes and bags -------------------
    Batch(
        accounts.SELLER_USERNAME,
        "换季清衣橱，都是自己穿的，平时放防尘袋里。",
        (
            P(
                "Sandro 小香风粗花呢短外套 黑白",
                "womens-coats",
                "Sandro",
                1200,
                3890,
                2022,
                "A",
                "coat",
                "listed",
                2 * D,
                size="36",
                colour="黑白",
                description="粗花呢短款，金扣，配半裙和牛仔都好看。",
                measurements={"衣长": "52", "胸围": "90", "肩宽": "37"},
                markdown_days=30,
                floor=700,
            ),
            P(
                "Coach 老花水桶包 棕色",
                "bags-shoulder",
                "Coach",
                800,
                3200,
                2019,
                "B",
                "bag",
                "returned",
                27 * D,
                colour="棕色",
                description="经典老花，内里干净，抽绳有使用痕迹。",
                defects="抽绳末端轻微磨毛",
            ),
        ),
    ),
    Batch(
        accounts.SELLER_USERNAME,
        "",
        (
            P(
                "COS 羊毛混纺直筒西裤 藏青",
                "womens-trousers",
                "COS",
                300,
                950,
                2022,
                "A",
                "trousers",
                "listed",
                4 * D,
                size="34",
                colour="藏青",
                description="高腰直筒，垂感好，通勤百搭。",
                measurements={"裤长": "98", "腰围": "66", "臀围": "94"},
                markdown_days=18,
            ),
            P(
                "施华洛世奇 天鹅项链 银色",
                "accessories-jewellery",
                None,
                350,
                990,
                2022,
                "S",
                "jewellery",
                "completed",
                3 * D,
                colour="银色",
                description="经典天鹅款，原盒原袋。",
            ),
        ),
    ),
    Batch(
        accounts.SELLER_USERNAME,
        "这批都不急，价格可以商量。",
        (
            P(
                "Max Mara 101801 经典双面羊绒大衣 驼色",
                "womens-coats",
                "Max Mara",
                6800,
                23900,
                2021,
                "S",
                "coat",
                "listed",
                5 * D,
                size="S",
                colour="驼色",
                description="经典 101801 款，双面羊绒，只在冬天通勤穿过十来次，一直干洗后挂衣柜。",
                measurements={"衣长": "118", "胸围": "104", "肩宽": "40", "袖长": "60"},
                checks="coat",
            ),
            P(
                "Maje 碎花雪纺连衣裙 法式茶歇裙",
                "womens-dresses",
                "Maje",
                800,
                2590,
                2023,
                "S",
                "dress",
                "listed",
                4 * D,
                size="1",
                colour="蓝底碎花",
                description="法式 V 领茶歇裙，只穿过一次拍照。",
                measurements={"衣长": "112", "胸围": "86", "腰围": "68"},
            ),
            P(
                "Coach Tabby 26 枕头包 奶白",
                "bags-shoulder",
                "Coach",
                1500,
                4500,
                2023,
                "S",
                "bag",
                "shipped",
                30 * H,
                colour="奶白",
                description="Tabby 26 枕头包，软羊皮，配两根肩带。",
                measurements={"长": "26", "高": "15", "宽": "8"},
            ),
            P(
                "Kate Spade 小号斜挎相机包 粉色",
                "bags-crossbody",
                "Kate Spade",
                500,
                1980,
                2022,
                "A",
                "bag",
                "listed",
                5 * D,
                colour="粉色",
                description="小号相机包，能放手机和口红，日常背很可爱。",
                measurements={"长": "20", "高": "13", "宽": "7"},
            ),
            P(
                "Theory 真丝衬衫 象牙白",
                "womens-tops",
                "Theory",
                600,
                2300,
                2021,
                "A",
                "top",
                "listed",
                6 * D,
                size="S",
                colour="象牙白",
                description="重磅真丝，领口无泛黄，手洗过两次。",
                measurements={"衣长": "66", "胸围": "96", "袖长": "58"},
            ),
            P(
                "Michael Kors Jet Set 托特包 焦糖色",
                "bags-tote",
                "Michael Kors",
                900,
                2900,
                2021,
                "A",
                "bag",
                "listed",
                5 * D,
                colour="焦糖色",
                description="十字纹牛皮，能放 13 寸电脑，通勤很能装。",
                measurements={"长": "34", "高": "27", "宽": "13"},
            ),
            P(
                "Ray-Ban 雷朋 飞行员太阳镜 金框",
                "accessories-sunglasses",
                None,
                400,
                1290,
                2022,
                "A",
                "jewellery",
                "delivered",
                1 * D,
                colour="金框绿片",
            ),
        ),
    ),
    Batch(
        accounts.SELLER_USERNAME,
        "",
        (
            P(
                "Maje 粉色短款针织开衫",
                "womens-knitwear",
                "Maje",
                450,
                1790,
                2023,
                "A",
                "knit",
                "accepted",
                40 * H,
                size="1",
                colour="粉色",
                description="短款开衫，珍珠扣。",
            ),
            P(
                "H&M 基础款纯棉 T 恤 三件",
                "womens-tops",
                "H&M",
                30,
                149,
                2022,
                "B",
                "top",
                "rejected",
                size="M",
                reject=(RejectionReason.BRAND, "单件价值较低，建议在社群闲置群直接转给姐妹们。"),
            ),
            P("ZARA 罗纹针织背心 米色", "womens-tops", "ZARA", 60, 199, 2023, "A", "top", "withdrawn", size="S"),
        ),
        prescreen_hours=6,
    ),
    Batch(
        accounts.SELLER_USERNAME,
        "下班寄出，麻烦先帮我看看。",
        (
            P(
                "Theory 羊毛西装外套 黑色",
                "womens-coats",
                "Theory",
                900,
                4200,
                2022,
                "A",
                "coat",
                "submitted",
                31 * H,
                size="2",
                colour="黑色",
                description="利落西装外套，羊毛混纺，有备用扣。",
            ),
            P(
                "Kate Spade 单肩托特包 黑色",
                "bags-tote",
                "Kate Spade",
                400,
                2390,
                2021,
                "B",
                "bag",
                "submitted",
                31 * H,
            ),
        ),
    ),
    Batch(
        accounts.SELLER_USERNAME,
        "",
        (
            P(
                "Sandro 蕾丝拼接连衣裙 白色",
                "womens-dresses",
                "Sandro",
                700,
                2890,
                2023,
                "S",
                "dress",
                "graded",
                9 * H,
                size="36",
                colour="白色",
                measurements={"衣长": "95", "胸围": "84"},
            ),
            P(
                "Theory 羊毛针织连衣裙 灰色",
                "womens-dresses",
                "Theory",
                650,
                2600,
                2022,
                "A",
                "dress",
                "photographed",
                30 * H,
                size="S",
                colour="灰色",
                measurements={"衣长": "100", "胸围": "86"},
            ),
            P(
                "COS 羊毛阔腿裤 灰色",
                "womens-trousers",
                "COS",
                280,
                990,
                2022,
                "A",
                "trousers",
                "received",
                30 * H,
                size="36",
                colour="灰色",
            ),
            P(
                "Massimo Dutti 羊绒围巾 浅灰",
                "accessories-scarves",
                "Massimo Dutti",
                350,
                990,
                2021,
                "A",
                "scarf",
                "lost",
                2 * D,
                colour="浅灰",
            ),
            P(
                "Longchamp 珑骧 Roseau 手提包 黑色",
                "bags-tote",
                "Longchamp",
                900,
                3050,
                2022,
                "A",
                "bag",
                "cared",
                8 * H,
                colour="黑色",
                measurements={"长": "31", "高": "22", "宽": "15"},
            ),
            P(
                "Kate Spade 长款钱包 红色",
                "bags-wallets",
                "Kate Spade",
                200,
                1290,
                2022,
                "A",
                "bag",
                "photographed",
                5 * H,
                colour="红色",
            ),
            P(
                "Michael Kors 链条斜挎包 黑色",
                "bags-crossbody",
                "Michael Kors",
                600,
                2100,
                2022,
                "A",
                "bag",
                "priced",
                40 * H,
                colour="黑色",
                measurements={"长": "22", "高": "15", "宽": "6"},
            ),
            P(
                "Massimo Dutti 双排扣风衣 卡其色",
                "womens-coats",
                "Massimo Dutti",
                700,
                2290,
                2022,
                "A",
                "coat",
                "priced",
                20 * H,
                size="S",
                colour="卡其色",
                description="经典双排扣风衣，配腰带，春秋通勤。",
                measurements={"衣长": "108", "胸围": "100", "肩宽": "39"},
            ),
        ),
    ),
    Batch(
        accounts.SELLER_USERNAME,
        "便宜的几件我自己发货。",
        (
            P(
                "ZARA 缎面吊带连衣裙 香槟色",
                "womens-dresses",
                "ZARA",
                120,
                399,
                2023,
                "S",
                "dress",
                "listed",
                6 * D,
                size="S",
                colour="香槟色",
                description="缎面吊带裙，吊牌刚剪，试穿过一次。",
                fulfilment=SELF_SHIP,
            ),
            P(
                "UNIQLO 优衣库 高级轻型羽绒服 M",
                "womens-coats",
                "UNIQLO",
                150,
                499,
                2023,
                "A",
                "coat",
                "withdrawn",
                2 * D,
                size="M",
                colour="黑色",
                fulfilment=SELF_SHIP,
            ),
            P(
                "Longchamp 珑骧 Le Pliage 中号长柄 藏青",
                "bags-tote",
                "Longchamp",
                300,
                990,
                2021,
                "B",
                "bag",
                "listed",
                5 * D,
                colour="藏青",
                description="可折叠尼龙包，旅行通勤都方便。",
                defects="底角轻微磨损",
                measurements={"长": "30", "高": "28", "宽": "20"},
            ),
            P(
                "EXCEPTION 例外 羊毛长款开衫 墨绿",
                "womens-knitwear",
                "EXCEPTION",
                900,
                3580,
                2020,
                "A",
                "knit",
                "listed",
                4 * D,
                size="M",
                colour="墨绿",
                description="宽松长款，羊毛很暖，例外经典款。",
                measurements={"衣长": "96", "胸围": "118"},
            ),
            P(
                "JNBY 江南布衣 廓形棉麻半身裙 米色",
                "womens-skirts",
                "JNBY",
                350,
                1199,
                2022,
                "A",
                "dress",
                "listed",
                6 * D,
                size="S",
                colour="米色",
                measurements={"裙长": "86", "腰围": "64"},
            ),
            P(
                "Massimo Dutti 羊绒混纺圆领毛衣 燕麦色",
                "womens-knitwear",
                "Massimo Dutti",
                400,
                1290,
                2022,
                "B",
                "knit",
                "listed",
                6 * D,
                size="S",
                colour="燕麦色",
                defects="袖口轻微起球，已去球",
                measurements={"衣长": "60", "胸围": "100"},
            ),
            P(
                "UGG 经典短靴 栗色 37",
                "shoes",
                None,
                300,
                1580,
                2021,
                "B",
                "shoe",
                "listed",
                4 * D,
                size="37",
                colour="栗色",
                description="经典短靴，羊毛内里，鞋底磨损正常。",
            ),
        ),
    ),
    # --- Vivian (expert): luxury ---------------------------------------------
    Batch(
        accounts.EXPERT_USERNAME,
        "附购买小票和防尘袋，鉴定时可以参考。",
        (
            P(
                "LV Neverfull MM 老花托特包",
                "luxury-bags",
                "Louis Vuitton",
                9000,
                14500,
                2019,
                "A",
                "luxury_bag",
                "listed",
                5 * D,
                colour="老花",
                description="Neverfull MM，带内袋，手柄轻微氧化，通勤、妈咪包都合适。",
                measurements={"长": "32", "高": "29", "宽": "17"},
                checks="bag",
            ),
            P(
                "Chanel CF 中号 黑色羊皮金扣",
                "luxury-bags",
                "Chanel",
                38000,
                69000,
                2018,
                "A",
                "luxury_bag",
                "reserved",
                0.1 * H,  # claimed six minutes ago: a reservation lasts half an hour
                colour="黑色",
                description="经典 CF 25，羊皮金扣，附卡和盒子。",
                measurements={"长": "25", "高": "16", "宽": "7"},
                checks="bag",
                price=45000,
            ),
            P(
                "Celine Triomphe 老花腋下包",
                "luxury-bags",
                "Celine",
                16000,
                26000,
                2022,
                "S",
                "luxury_bag",
                "sold",
                20 * H,
                colour="棕色老花",
                measurements={"长": "24", "高": "14", "宽": "6"},
                checks="bag",
            ),
            P(
                "Cartier Love 手镯 18K 玫瑰金 17 号",
                "luxury-jewellery",
                "Cartier",
                42000,
                68000,
                2020,
                "A",
                "jewellery",
                "packed",
                6 * H,
                size="17",
                colour="玫瑰金",
                description="经典素圈款，附证书和螺丝刀。",
                checks="jewellery",
                price=36000,
            ),
            P(
                "Hermès 爱马仕 90 方巾 真丝 马车图案",
                "accessories-scarves",
                "Hermès",
                2000,
                4150,
                2021,
                "S",
                "scarf",
                "listed",
                4 * D,
                colour="橙色",
                measurements={"边长": "90"},
                checks="scarf",
            ),
            P(
                "Bottega Veneta 编织卡包 深绿",
                "bags-wallets",
                "Bottega Veneta",
                2200,
                3900,
                2022,
                "S",
                "bag",
                "listed",
                5 * D,
                colour="深绿",
                checks="wallet",
            ),
            P(
                "Gucci 马衔扣乐福鞋 黑色 37",
                "shoes",
                "Gucci",
                2500,
                6900,
                2021,
                "A",
                "shoe",
                "listed",
                3 * D,
                size="37",
                colour="黑色",
                checks="shoe",
            ),
        ),
    ),
    Batch(
        accounts.EXPERT_USERNAME,
        "",
        (
            P(
                "Prada Re-Edition 2005 尼龙腋下包 黑色",
                "luxury-bags",
                "Prada",
                7000,
                11900,
                2022,
                "S",
                "luxury_bag",
                "graded",
                20 * H,
                colour="黑色",
            ),
            P(
                "Hermès Evelyne 16 小号 金棕色",
                "luxury-bags",
                "Hermès",
                21000,
                24500,
                2021,
                "A",
                "luxury_bag",
                "graded",
                60 * H,
                colour="金棕色",
            ),
            P(
                "Gucci GG Marmont 小号链条包 粉色",
                "luxury-bags",
                "Gucci",
                9000,
                17900,
                2020,
                "A",
                "luxury_bag",
                "auth_failed",
                20 * H,
                colour="粉色",
                checks="bag_fake",
            ),
            P(
                "Dior Saddle 马鞍包 蓝色 Oblique",
                "luxury-bags",
                "Dior",
                18000,
                29000,
                2021,
                "A",
                "luxury_bag",
                "authenticated",
                12 * H,
                colour="蓝色",
                checks="bag",
            ),
        ),
    ),
    Batch(
        accounts.EXPERT_USERNAME,
        "顺丰寄出，保价 3 万。",
        (
            P(
                "Celine 经典 Box 盒子包 中号 酒红",
                "luxury-bags",
                "Celine",
                15000,
                28000,
                2019,
                "A",
                "luxury_bag",
                "in_transit",
                30 * H,
            ),
            P(
                "Max Mara 羊毛混纺西装外套 藏青",
                "womens-coats",
                "Max Mara",
                1500,
                5900,
                2022,
                "A",
                "coat",
                "in_transit",
                30 * H,
            ),
        ),
        ship_hours=8,
    ),
    Batch(
        accounts.EXPERT_USERNAME,
        "",
        (
            P(
                "Chanel 2.55 链条包 黑色（无购买凭证）",
                "luxury-bags",
                "Chanel",
                30000,
                None,
                2015,
                "B",
                "luxury_bag",
                "rejected",
                3 * D,
                reject=(
                    RejectionReason.SUSPECTED_COUNTERFEIT,
                    "照片中五金刻字与内标序列号格式不符，不予寄售；如需可预约线下鉴定。",
                ),
            ),
        ),
    ),
    # --- mothers selling baby goods -----------------------------------------
    Batch(
        "mom1",
        "宝宝用过的都洗过了，玩具都是好的。",
        (
            P(
                "费雪 健身架 婴儿脚踏钢琴",
                "baby-toys",
                "Fisher-Price",
                120,
                399,
                2023,
                "A",
                "toy",
                "listed",
                4 * D,
                description="0-12 个月都能玩，音乐和灯光正常，电池已取出。",
                measurements={"长": "70", "宽": "56", "高": "48"},
            ),
            P(
                "乐高 得宝系列 大颗粒农场 10952",
                "baby-toys",
                "LEGO",
                200,
                499,
                2022,
                "A",
                "toy",
                "listed",
                3 * D,
                description="零件齐全，附说明书和原盒。",
            ),
            P("Jellycat 邦尼兔 中号 31cm 米色", "baby-toys", None, 80, 260, 2023, "S", "toy", "listed", 5 * D),
            P(
                "UNIQLO 儿童摇粒绒外套 110",
                "baby-clothes",
                "UNIQLO",
                40,
                99,
                2023,
                "A",
                "baby_clothes",
                "listed",
                5 * D,
                size="110",
                colour="浅粉",
            ),
            P(
                "贝亲 宽口径玻璃奶瓶 240ml 两只装",
                "baby-feeding",
                "Pigeon",
                50,
                178,
                2023,
                "S",
                "feeding",
                "listed",
                5 * D,
                description="用过两周宝宝不爱用，奶嘴是新的。",
            ),
            P("《猜猜我有多爱你》绘本 精装", "baby-books", None, 30, 68, 2022, "A", "book", "listed", 3 * D),
        ),
    ),
    Batch(
        "mom1",
        "",
        (
            P(
                "H&M 孕妇装 纯棉连衣裙 M",
                "womens-dresses",
                "H&M",
                90,
                299,
                2023,
                "A",
                "dress",
                "donated",
                1 * D,
                size="M",
                colour="藏青条纹",
                unsold=Consignment.UnsoldChoice.DONATE,
                markdown_days=47,
            ),
            P(
                "羊毛大衣 灰色（领口有虫蛀）",
                "womens-coats",
                None,
                200,
                None,
                2016,
                "C",
                "coat",
                "rejected",
                reject=(RejectionReason.CONDITION, "领口和袖口多处虫蛀，超出 C 级（8 成新）标准，无法修复后寄售。"),
            ),
        ),
    ),
    Batch(
        "mom2",
        "推车和羽绒服都保存得很好。",
        (
            P(
                "Stokke Xplory 童车 第6代",
                "baby-strollers",
                "Stokke",
                4000,
                9980,
                2021,
                "A",
                "stroller",
                "listed",
                6 * D,
                colour="黑色",
                description="第 6 代 Xplory，高景观，睡篮和座椅都在，车架无磕碰。",
                repair=(60, "遮阳棚拉链头缺失，更换原厂拉链头"),
            ),
            P(
                "巴拉巴拉 女童羽绒服 120 粉色",
                "baby-clothes",
                "Balabala",
                120,
                459,
                2022,
                "A",
                "baby_clothes",
                "listed",
                6 * D,
                size="120",
                colour="粉色",
            ),
            P(
                "babycare 婴儿腰凳 四季通用 灰色",
                "baby",
                "babycare",
                150,
                399,
                2022,
                "A",
                "baby_clothes",
                "listed",
                5 * D,
                colour="灰色",
            ),
        ),
    ),
    Batch(
        "mom2",
        "",
        (
            P(
                "巴拉巴拉 男童运动套装 130",
                "baby-clothes",
                "Balabala",
                80,
                299,
                2023,
                "A",
                "baby_clothes",
                "submitted",
                3 * H,
                size="130",
            ),
            P("乐高 城市系列 消防局 60320 全套", "baby-toys", "LEGO", 350, 799, 2022, "A", "toy", "submitted", 3 * H),
        ),
    ),
    Batch(
        "mom3",
        "",
        (
            P("费雪 安抚海马 蓝色", "baby-toys", "Fisher-Price", 60, 169, 2023, "A", "toy", "accepted", 20 * H),
            P(
                "花王妙而舒 纸尿裤 L 码（已拆封，剩 30 片）",
                "baby-diapers",
                "Merries",
                40,
                139,
                2024,
                "A",
                "feeding",
                "rejected",
                reject=(RejectionReason.HYGIENE, "已拆封的纸尿裤属于卫生用品，不能寄售；未拆封整包可以。"),
            ),
        ),
        prescreen_hours=4,
    ),
    Batch(
        "mom3",
        "",
        (
            P("费雪 安抚摇椅 婴儿躺椅", "baby-toys", "Fisher-Price", 200, 699, 2022, "A", "toy", "received", 5 * H),
            P(
                "Stokke Tripp Trapp 成长椅 原木色",
                "baby-feeding",
                "Stokke",
                1200,
                2380,
                2020,
                "B",
                "stroller",
                "graded",
                18 * H,
                colour="原木色",
                defects="椅面有轻微划痕",
                repair=(30, "安全带卡扣松动，更换卡扣"),
            ),
            P("巴拉巴拉 儿童雨靴 26 码", "baby-clothes", "Balabala", 50, 159, 2023, "A", "shoe", "cared", 20 * H),
            P(
                "Bugaboo Fox 2 博格步 高景观推车 黑色",
                "baby-strollers",
                "Bugaboo",
                3500,
                7990,
                2022,
                "A",
                "stroller",
                "countered",
                10 * H,
                colour="黑色",
            ),
            P(
                "帮宝适 一级帮 拉拉裤 XL 码 未拆封 2 包",
                "baby-diapers",
                "Pampers",
                150,
                258,
                2025,
                "N",
                "feeding",
                "listed",
                2 * D,
                size="XL",
                fulfilment=SELF_SHIP,
            ),
        ),
    ),
)

# The market's steps after listing, in order.
MARKET = ("reserved", "sold", "packed", "shipped", "delivered", "completed")


def market_steps(plan: Plan) -> tuple[str, ...]:
    """The item steps of a sale up to the plan's target (a seller who ships herself does not pack)."""
    steps = MARKET[: MARKET.index(plan.target) + 1]
    return tuple(step for step in steps if not (step == S.PACKED and plan.fulfilment == SELF_SHIP))


class _Seeder:
    def __init__(self, *, now):
        self.now = now
        self.rng = random.Random(RANDOM_SEED)  # noqa: S311 (sample data, not secrets)
        self.users = {
            user.username: user
            for user in User.objects.filter(
                username__in=[
                    accounts.OWNER_USERNAME,
                    "yunying",
                    "ruku",
                    "jianding",
                    "qingxi",
                    "sheying",
                    accounts.SELLER_USERNAME,
                    accounts.EXPERT_USERNAME,
                    accounts.MEMBER_USERNAME,
                ]
            )
        }
        named = {account.username for account in accounts.NAMED_ACCOUNTS}
        ordinary = list(User.objects.filter(groups__name=roles.MEMBER).exclude(username__in=named).order_by("pk")[:6])
        # They became sellers through seller verification and paid their deposits (trust.py, seeded first).
        for index, user in enumerate(ordinary[:EXTRA_SELLERS], start=1):
            self.users[f"mom{index}"] = user
        self.buyers = [self.users[accounts.MEMBER_USERNAME], *ordinary[EXTRA_SELLERS:]]
        self.categories = {category.slug: category for category in Category.objects.all()}
        self.brands = {brand.name: brand for brand in Brand.objects.all()}
        self.plans: dict[int, Plan] = {}
        self.batches: dict[int, Batch] = {}

    # --- photos ------------------------------------------------------------

    def photo(self, plan: Plan, kind: str, caption: str = "", *, drawing: str = "") -> services.PhotoUpload:
        data = product_photo(plan.title, plan.family, drawing or kind)
        return services.PhotoUpload(
            kind=kind, file=SimpleUploadedFile(f"{kind}.jpg", data, content_type="image/jpeg"), caption=caption
        )

    # --- the pipeline ------------------------------------------------------

    def submit(self, batch: Batch) -> IntakeBatch:
        drafts = []
        for plan in batch.items:
            photos = [self.photo(plan, "seller", "卖家实拍")]
            if plan.family == "luxury_bag":
                photos.append(self.photo(plan, "seller", "内标和五金", drawing="detail"))
            drafts.append(
                services.ItemDraft(
                    title=plan.title,
                    category_id=self.categories[plan.category].pk,
                    declared_value_fen=plan.declared * YUAN,
                    photos=photos,
                    brand_id=self.brands[plan.brand].pk if plan.brand else None,
                    description=plan.description,
                    size=plan.size,
                    colour=plan.colour,
                    original_price_fen=plan.original * YUAN if plan.original else None,
                    purchase_year=plan.year,
                    declared_grade=plan.declared_grade,
                    defects=plan.defects,
                    fulfilment=plan.fulfilment,
                    unsold_choice=plan.unsold,
                )
            )
        intake = services.batch_submit(seller=self.users[batch.seller], drafts=drafts, note=batch.note)
        items = list(Item.objects.filter(consignment__batch=intake).order_by("pk"))
        for item, plan in zip(items, batch.items, strict=True):
            self.plans[item.pk] = plan
            self.batches[item.pk] = batch
        return intake

    def prescreen(self, item: Item, plan: Plan) -> None:
        if plan.target == "withdrawn" and plan.fulfilment == PLATFORM:
            services.seller_withdraw(item_id=item.pk, seller=item.seller, note="想想还是自己留着穿")
        elif plan.reject:
            reason, note = plan.reject
            services.item_prescreen(item_id=item.pk, actor=self.users["ruku"], accept=False, reason=reason, note=note)
        else:
            note = "照片清楚，成色与描述一致" if self.rng.random() < 0.5 else ""
            services.item_prescreen(item_id=item.pk, actor=self.users["ruku"], accept=True, note=note)

    def drive(self, item_id: int, plan: Plan) -> None:
        """Take an accepted item as far as its plan says (after shipping, for platform items)."""
        target = plan.target
        ops = self.users
        seller = Item.objects.get(pk=item_id).seller
        if plan.fulfilment == SELF_SHIP:
            services.item_price(item_id=item_id, actor=ops["yunying"], note="卖家自发货，按照片审核定价")
            services.seller_price_accept(item_id=item_id, seller=seller)
            if target == "withdrawn":
                services.seller_withdraw(item_id=item_id, seller=seller, note="朋友要了，下架")
            return
        luxury = plan.category.startswith("luxury")
        receive_photos = [self.photo(plan, "received", "到仓开箱")] if luxury else []
        services.item_receive(
            item_id=item_id, actor=ops["ruku"], note="包裹完好，件数与批次一致", photos=receive_photos
        )
        if target == "received":
            return
        grade_photos = [self.photo(plan, "defect", f"瑕疵：{plan.defects}")] if plan.defects else []
        services.item_grade(
            item_id=item_id,
            actor=ops["jianding"] if luxury else ops["ruku"],
            grade=plan.grade or plan.declared_grade,
            defects=plan.defects,
            measurements=plan.measurements,
            note="成色与卖家描述一致" if (plan.grade or plan.declared_grade) == plan.declared_grade else "",
            repair_quote_fen=plan.repair[0] * YUAN if plan.repair else None,
            repair_note=plan.repair[1] if plan.repair else "",
            photos=grade_photos,
        )
        if target == "lost":
            services.item_care_record(item_id=item_id, actor=ops["qingxi"], step="dry_clean", note="送外协干洗")
            services.item_record_loss(
                item_id=item_id,
                actor=ops[accounts.OWNER_USERNAME],
                note="外协干洗时串色，围巾边缘染上蓝色，无法恢复；按声明价值赔付卖家。",
            )
            return
        if target == "graded":
            return
        consignment = Consignment.objects.get(item_id=item_id)
        if consignment.needs_authentication:
            checks = [{"point": p, "finding": f, "ok": ok} for p, f, ok in AUTH_CHECKS[plan.checks or "bag"]]
            passed = target != "auth_failed"
            services.item_authenticate(
                item_id=item_id,
                actor=ops["jianding"],
                passed=passed,
                checks=checks,
                notes=(
                    "各项特征与正品一致，鉴定通过。"
                    if passed
                    else "多处特征与正品不符，判定为非正品。按规则退回卖家，退回运费由卖家承担。"
                ),
                photos=[
                    self.photo(plan, "authentication", "鉴定：内标与编码"),
                    self.photo(plan, "authentication", "鉴定：五金", drawing="detail"),
                ],
            )
            if target in {"auth_failed", "authenticated"}:
                return
        if plan.repair:
            services.seller_repair_answer(item_id=item_id, seller=seller, accept=True)
            consignment.refresh_from_db()
        steps = services.missing_care_steps(consignment, set())
        for step in steps:
            services.item_care_record(item_id=item_id, actor=ops["qingxi"], step=step, note=CARE_NOTES.get(step, ""))
        services.item_care_complete(item_id=item_id, actor=ops["qingxi"], note="清洁记录齐全")
        if target == "cared":
            return
        category = self.categories[plan.category]
        photos = [self.photo(plan, "flat", "正面平铺")]
        if category.effective_needs_on_body_photo():
            photos.append(self.photo(plan, "on_body", "上身效果（模特 165cm）"))
        photos.append(self.photo(plan, "detail", "细节"))
        services.item_photograph(item_id=item_id, actor=ops["sheying"], photos=photos)
        if target == "photographed":
            return
        services.item_price(
            item_id=item_id,
            actor=ops["yunying"],
            price_fen=plan.price * YUAN if plan.price else None,
            note="参考近 30 天同款成交价" if plan.price else "",
        )
        if target == "priced":
            return
        if target == "countered":
            consignment.refresh_from_db()
            counter = round(consignment.suggested_price_fen * 1.25 / 1000) * 1000
            services.seller_price_counter(item_id=item_id, seller=seller, counter_price_fen=counter)
            return
        if target == "returned":
            services.seller_withdraw(item_id=item_id, seller=seller, note="价格比预期低，先不卖了")
            services.item_return_shipped(
                item_id=item_id, actor=ops["ruku"], carrier="顺丰", tracking_number="SF1432098776512"
            )
            return
        if plan.title.startswith("Stokke Xplory"):
            # This seller countered; the pricing team accepted her price.
            consignment.refresh_from_db()
            counter = round(consignment.suggested_price_fen * 1.1 / 1000) * 1000
            services.seller_price_counter(item_id=item_id, seller=seller, counter_price_fen=counter)
            services.item_counter_answer(item_id=item_id, actor=ops["yunying"], accept=True, note="同款近期成交价支持")
        else:
            services.seller_price_accept(
                item_id=item_id, seller=seller, floor_price_fen=plan.floor * YUAN if plan.floor else None
            )

    # --- history -----------------------------------------------------------

    def backdate(self, planned: dict[int, tuple[str, ...]] | None = None) -> dict[int, dict[str, datetime]]:
        """Move each item's chain of custody into the past (see the module docstring).

        `planned` names the steps each item will still take (the market's,
        after listing); they are laid out with the rest, and their moments
        are returned (item id → step → moment) for the market's services.
        """
        planned = planned or {}
        rows_by_item = defaultdict(list)
        for row in ItemTransition.objects.filter(subject_id__in=self.plans).order_by("created_at", "pk"):
            rows_by_item[row.subject_id].append(row)
        by_batch = defaultdict(list)
        for item_id, batch in self.batches.items():
            by_batch[id(batch)].append(item_id)
        moments = {}
        for item_ids in by_batch.values():
            moments.update(self._backdate_batch(sorted(item_ids), rows_by_item, planned))
        return moments

    def _backdate_batch(self, item_ids: list[int], rows_by_item, planned) -> dict[int, dict[str, datetime]]:
        batch = self.batches[item_ids[0]]
        rows_with_plans = {}
        for item_id in item_ids:
            rows = rows_by_item[item_id]
            # A step to come is laid out like one that happened (it only needs its states).
            path = [rows[-1].to_state, *planned.get(item_id, ())]
            rows_with_plans[item_id] = rows + [SimpleNamespace(from_state=a, to_state=b) for a, b in pairwise(path)]
        layouts = {item_id: self._layout(rows_with_plans[item_id], self.plans[item_id], batch) for item_id in item_ids}
        start = min(self.now - timedelta(hours=self.plans[i].age_hours) - layouts[i]["needed"] for i in item_ids)
        moments = {}
        for item_id in item_ids:
            rows = rows_by_item[item_id]
            times = self._times(layouts[item_id], start, self.plans[item_id])
            self._write_times(item_id, rows, times[: len(rows)], start, batch)
            moments[item_id] = dict(zip(planned.get(item_id, ()), times[len(rows) :], strict=True))
        intake = IntakeBatch.objects.get(consignments__item_id=item_ids[0])
        # The code carries the day it was submitted (B + yymmdd + random part).
        code = f"B{timezone.localtime(start):%y%m%d}-{intake.code.rsplit('-', 1)[-1]}"
        shipped = start + timedelta(hours=batch.ship_hours) if intake.shipped_at else None
        IntakeBatch.objects.filter(pk=intake.pk).update(
            code=code, created_at=start, updated_at=shipped or start, shipped_at=shipped
        )
        return moments

    # Typical hours before a step, for an item's own steps (weights within its window).
    STEP_HOURS = {
        "received": 36,
        "graded": 10,
        "authenticated": 22,
        "authentication_failed": 22,
        "return_to_seller": 20,
        "cared": 24,
        "photographed": 9,
        "priced": 5,
        "listed": 14,
        "returned": 30,
        "lost": 30,
        "withdrawn": 30,
    }
    # Fixed hours before a step that follows listing (markdowns follow the rule's schedule).
    AFTER_LISTING_HOURS = {
        "listed": services.MARKDOWN_SCHEDULE[0][0] * 24 + 1,
        "reserved": 50,
        "sold": 0.2,  # paid about 12 minutes after claiming: well inside the 30-minute window
        "packed": 22,
        "shipped": 3,
        "delivered": 44,
        "completed": 60,  # the buyer confirms two or three days after the parcel arrives
        "withdrawn": 4 * 24,
        "donated": (services.UNSOLD_AFTER_DAYS - services.MARKDOWN_SCHEDULE[-1][0]) * 24 + 1,
    }
    SELF_SHIP_HOURS_TO_SHIP = 20  # a seller who ships herself posts the parcel the next day

    def _layout(self, rows, plan: Plan, batch: Batch) -> dict:
        """Split an item's rows into batch steps, its own steps and steps after listing."""
        shared, own, after = [], [], []
        listed_seen = False
        for index, row in enumerate(rows):
            if index == 0:
                shared.append(0.0)
            elif index == 1 and row.from_state == S.SUBMITTED:
                shared.append(batch.prescreen_hours + self.rng.uniform(-1, 1))
            elif index == 2 and row.to_state == S.IN_TRANSIT:
                shared.append(batch.ship_hours)
            elif listed_seen and row.from_state == row.to_state == S.LISTED:
                after.append(self.AFTER_LISTING_HOURS[S.LISTED])  # markdowns keep to the schedule, to the hour
            elif listed_seen and row.to_state == "cancelled":
                # A self-ship order the seller never shipped: cancelled by the clock just after its deadline.
                after.append(settings.ERHUO_SELF_SHIP_HOURS + 0.05)
            elif listed_seen:
                hours = self.AFTER_LISTING_HOURS.get(row.to_state, 24)
                if row.to_state == S.SHIPPED and plan.fulfilment == SELF_SHIP:
                    hours = self.SELF_SHIP_HOURS_TO_SHIP
                after.append(hours * self.rng.uniform(0.9, 1.1))
            else:
                weight = self.STEP_HOURS.get(row.to_state, 10)
                if row.from_state == S.AUTHENTICATION_FAILED:
                    weight = 0.05  # sent back the moment it failed
                own.append(weight * self.rng.uniform(0.7, 1.3))
            if row.to_state == S.LISTED:
                listed_seen = True
        if plan.markdown_days and plan.target == "listed":
            # Listed `markdown_days` ago: the steps after listing span exactly that.
            after = [*after[:-1], plan.markdown_days * 24 - plan.age_hours - sum(after[:-1])] if after else after
        needed = shared[-1] + sum(own) + sum(after)
        return {"shared": shared, "own": own, "after": after, "needed": timedelta(hours=needed)}

    def _times(self, layout: dict, start, plan: Plan) -> list:
        """Batch steps from the batch's start; steps after listing back from the item's age; its own between."""
        times = [start + timedelta(hours=hours) for hours in layout["shared"]]
        own, after = layout["own"], layout["after"]
        if not own:
            return times
        moment = self.now - timedelta(hours=plan.age_hours)
        after_times = []
        for hours in reversed(after):
            after_times.insert(0, moment)
            moment -= timedelta(hours=hours)
        shared_end, window, total = times[-1], moment - times[-1], sum(own)
        elapsed = 0.0
        for weight in own:
            elapsed += weight
            times.append(shared_end + window * (elapsed / total))
        return times + after_times

    def _write_times(self, item_id: int, rows, times, start, batch: Batch) -> None:
        for row, moment in zip(rows, times, strict=True):
            # Chain-of-custody rows are append-only: their queryset refuses updates.
            # Only demo seeding may rewrite history, and only their timestamps, so
            # it calls the base QuerySet.update explicitly.
            QuerySet.update(ItemTransition.objects.filter(pk=row.pk), created_at=moment)
            ItemPhoto.objects.filter(step_id=row.pk).update(created_at=moment)
        last = times[-1]
        listed = next((moment for row, moment in zip(rows, times, strict=True) if row.to_state == S.LISTED), None)
        Item.objects.filter(pk=item_id).update(
            created_at=start, updated_at=last, status_changed_at=last, listed_at=listed
        )
        consignment = Consignment.objects.get(item_id=item_id)
        updates = {"created_at": start, "updated_at": last}
        priced = [moment for row, moment in zip(rows, times, strict=True) if row.to_state == S.PRICED]
        if priced and consignment.price_deadline:
            updates["price_deadline"] = priced[-1] + timedelta(hours=services.PRICE_ANSWER_HOURS)
        Consignment.objects.filter(pk=consignment.pk).update(**updates)
        # Care happened between the step before care and the step after it.
        records = list(CareRecord.objects.filter(item_id=item_id).order_by("pk"))
        if records:
            index = next(i for i, row in enumerate(rows) if row.to_state in {S.CARED, S.LOST})
            before, after = times[index - 1], times[index]
            for position, record in enumerate(records, start=1):
                moment = before + (after - before) * position / (len(records) + 1)
                CareRecord.objects.filter(pk=record.pk).update(created_at=moment)
        for row, moment in zip(rows, times, strict=True):
            if row.to_state in {S.AUTHENTICATED, S.AUTHENTICATION_FAILED}:
                AuthenticationReport.objects.filter(item_id=item_id).update(created_at=moment)


def _markdown(seeder: _Seeder) -> dict:
    """Run the real unsold-item rule at past moments, so markdowns and the donation happen as they would."""
    now = seeder.now
    chosen = {item_id: plan for item_id, plan in seeder.plans.items() if plan.markdown_days}
    for item_id, plan in chosen.items():
        Item.objects.filter(pk=item_id).update(listed_at=now - timedelta(days=plan.markdown_days, hours=1))
    days = sorted({plan.markdown_days for plan in chosen.values()}, reverse=True)
    moments = set()
    for listed_days in days:
        for threshold, _share in services.MARKDOWN_SCHEDULE:
            if listed_days > threshold:
                moments.add(listed_days - threshold)
    totals = defaultdict(int)
    for days_ago in sorted(moments, reverse=True):
        for key, count in services.unsold_items_settle(now=now - timedelta(days=days_ago)).items():
            totals[key] += count
    for key, count in services.unsold_items_settle(now=now).items():
        totals[key] += count
    return dict(totals)


def seed(*, stdout) -> None:
    now = timezone.now()
    seeder = _Seeder(now=now)
    intakes = [seeder.submit(batch) for batch in BATCHES]
    for intake in intakes:
        items = list(Item.objects.filter(consignment__batch=intake).order_by("pk"))
        if any(seeder.plans[item.pk].target == "submitted" for item in items):
            continue
        for item in items:
            seeder.prescreen(item, seeder.plans[item.pk])
        moving = [
            item
            for item in items
            if seeder.plans[item.pk].target not in {"accepted", "rejected"}
            and not (seeder.plans[item.pk].target == "withdrawn" and item.fulfilment == PLATFORM)
        ]
        if any(item.fulfilment == PLATFORM for item in moving):
            services.batch_mark_shipped(
                batch_id=intake.pk, seller=intake.seller, carrier="顺丰", tracking_number=f"SF14{intake.pk:011d}"
            )
        for item in moving:
            plan = seeder.plans[item.pk]
            if plan.target != "in_transit":
                seeder.drive(item.pk, plan)
    markdowns = _markdown(seeder)
    planned = {item_id: market_steps(plan) for item_id, plan in seeder.plans.items() if plan.target in MARKET}
    moments = seeder.backdate(planned)
    # The market's part: each sold item's buyer claims, orders and pays at its planned moments.
    buyers = iter(seeder.buyers * 3)
    sales, agenda = Market(seed=RANDOM_SEED), Agenda()
    for item_id in planned:
        sale = Sale(item=Item.objects.get(pk=item_id), buyer=next(buyers), family=seeder.plans[item_id].family)
        sales.schedule(agenda, sale, moments[item_id])
    agenda.run()
    counts = defaultdict(int)
    for status in Item.objects.filter(pk__in=seeder.plans).values_list("status", flat=True):
        counts[status] += 1
    photos = ItemPhoto.objects.filter(item_id__in=seeder.plans).count()
    sellers = len({batch.seller for batch in BATCHES})
    stdout.write(
        f"consignment: {len(seeder.plans)} items in {len(BATCHES)} batches from {sellers} sellers, "
        f"{counts[S.LISTED]} listed, {photos} photos, {markdowns.get('marked_down', 0)} markdowns, "
        f"{markdowns.get('donated', 0)} donated"
    )
