"""Demo communities for `make demo`: segments, groups, placement, drops, micro-classes, activities and notices.

Runs after the market demo (the last of the selling stories) and before privacy. Everything goes through
the community services as the community manager (`yunying`), the expert (`expert`, who leads groups) and
the members would, each step at its moment on the demo clock:

- the default tag taxonomy (`taxonomy_seed`) and six segments: 女装·轻奢, 女装·大众, 包袋·轻奢,
  母婴·0-3岁 (groups of 40: its 1群 is full and 2群 opened by itself when the 41st mother came),
  童装·3-6岁 and 综合 (no rule: everyone else), their first groups led by `yunying` or `expert`;
- about two hundred members answering the questionnaire through a community invite
  (`admission_answer`) with varied answers, placed by the engine over the last four weeks, the demo
  member among them;
- 鉴定师私享群, outside any segment, approving each join: three approved, four waiting;
- 二货妈妈 老群, a mixed group migrated from WeChat (members joined in order of arrival through the
  group's own invite, whatever their interests), and this morning's placement run with the moves it
  proposes waiting for the operator;
- community-only items (社群款) consigned through the pipeline like the other demos' and dropped into
  the demo member's group (live), a drop scheduled for tomorrow evening and one cancelled;
- micro-classes by the expert: scheduled with sign-ups, on now, ended with materials and a replay,
  cancelled;
- activities: a running buy-with-gift with two gift items in stock, a giveaway drawn two days ago (its
  draw verifiable), one running with entrants, and a themed drop with its own drop.

The pipeline has no choice of channel yet (the admin's item page edits it), so the consigned items'
channel is set to community here as the admin would, before they are dropped. Deterministic answers
(`random.Random(RANDOM_SEED)`); the giveaway's seed is secret, so who wins changes from seed to seed.
"""

import io
import random
from dataclasses import replace
from datetime import datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from erhuo.accounts import roles
from erhuo.accounts.models import User
from erhuo.catalog.models import Item
from erhuo.community.models import (
    Activity,
    ClassMaterial,
    Drop,
    Group,
    Membership,
    MicroClass,
    ProposedMove,
    Segment,
)
from erhuo.community.services import activities as activity_services
from erhuo.community.services import classes as class_services
from erhuo.community.services import drops as drop_services
from erhuo.community.services import groups as group_services
from erhuo.community.services import placement as placement_services
from erhuo.consignment import services as consignment_services
from erhuo.web.demo import accounts, privacy
from erhuo.web.demo.clock import demo_clock
from erhuo.web.demo.consignment import PLATFORM, Batch, Plan, _Seeder
from erhuo.web.demo.trust import local_moment

RANDOM_SEED = 20260606
MANAGER_USERNAME = "yunying"
EXPERT_USERNAME = accounts.EXPERT_USERNAME
MEMBER_USERNAME = accounts.MEMBER_USERNAME
MOTHERS_CAPACITY = 40

# (slug, name, rule, capacity, leader, description)
SEGMENTS = (
    (
        "women-premium",
        "女装·轻奢",
        {"all": ["womenswear"], "any": ["premium", "luxury"]},
        500,
        EXPERT_USERNAME,
        "Sandro、Maje、Theory 这一档的通勤和约会穿搭",
    ),
    (
        "women-everyday",
        "女装·大众",
        {"all": ["womenswear"], "any": ["budget", "midrange"]},
        500,
        MANAGER_USERNAME,
        "好穿不贵的日常款",
    ),
    (
        "bags-premium",
        "包袋·轻奢",
        {"all": ["bags"], "any": ["premium", "luxury"]},
        500,
        EXPERT_USERNAME,
        "Coach、Longchamp、MK 和二奢包袋",
    ),
    (
        "mums-0-3",
        "母婴·0-3岁",
        {"all": ["kids-0-3"]},
        MOTHERS_CAPACITY,
        MANAGER_USERNAME,
        "推车、背带、绘本和 0–3 岁宝宝的衣服",
    ),
    ("kids-3-6", "童装·3-6岁", {"all": ["kidswear", "kids-4-6"]}, 500, MANAGER_USERNAME, "幼儿园年纪的童装和玩具"),
    ("general", "综合", {}, 500, MANAGER_USERNAME, "还没有专属群的姐妹先在这里"),
)
LEGACY_SEGMENT = ("legacy", "老群迁移", "从微信老群迁来的成员：按到达顺序入群，兴趣各不相同")

CITIES = ("shanghai", "shanghai", "beijing", "hangzhou", "shenzhen", "guangzhou", "chengdu", "other-city")
SIZES = ("size-s", "size-m", "size-m", "size-l", "size-xl")
SHOES = ("shoe-36", "shoe-37", "shoe-37", "shoe-38", "shoe-39")

# How many members of each kind answer through the community invite (placed by the engine), in this order.
PROFILES = (
    ("premium_women", 34),
    ("everyday_women", 40),
    ("bag_lovers", 24),
    ("baby_mums", 77),  # with the demo member: 1群 full at 40/40 (its leader counted), 2群 at 37/40
    ("kids_mums", 24),
    ("others", 12),
)
LEGACY_MEMBERS = 36
APPROVAL_JOINS = 7  # three approved, four waiting


def answers_for(kind: str, rng: random.Random) -> dict:
    """Questionnaire answers a member of this kind might give."""
    city = rng.choice(CITIES)
    if kind == "premium_women":
        older = [] if rng.random() < 0.6 else [rng.randint(7, 12)]
        return {
            "categories": ["womenswear", *rng.sample(["bags", "shoes", "jewellery", "beauty"], rng.randint(0, 2))],
            "styles": rng.sample(["minimal", "french", "vintage"], rng.randint(1, 2)),
            "clothes_size": rng.choice(SIZES[:3]),
            "shoe_size": rng.choice(SHOES),
            "no_children": not older,
            "children_ages": older,
            "budget": rng.choice(["premium", "premium", "luxury"]),
            "city": city,
        }
    if kind == "everyday_women":
        return {
            "categories": ["womenswear", *rng.sample(["shoes", "beauty", "home"], rng.randint(0, 2))],
            "styles": rng.sample(["minimal", "street", "sporty"], rng.randint(1, 2)),
            "clothes_size": rng.choice(SIZES),
            "shoe_size": rng.choice(SHOES),
            "no_children": True,
            "budget": rng.choice(["budget", "midrange", "midrange"]),
            "city": city,
        }
    if kind == "bag_lovers":
        return {
            "categories": ["bags", *rng.sample(["jewellery", "shoes"], rng.randint(0, 1))],
            "styles": rng.sample(["minimal", "french", "vintage"], 1),
            "no_children": True,
            "budget": rng.choice(["premium", "luxury", "luxury"]),
            "city": city,
        }
    if kind == "baby_mums":
        ages = [rng.randint(0, 3)] + ([rng.randint(4, 9)] if rng.random() < 0.2 else [])
        return {
            "categories": ["baby", *rng.sample(["kidswear", "toys-books", "maternity"], rng.randint(1, 2))],
            "styles": rng.sample(["minimal", "sporty"], rng.randint(0, 1)),
            "clothes_size": rng.choice(SIZES),
            "no_children": False,
            "children_ages": ages,
            "budget": rng.choice(["budget", "midrange", "midrange", "premium"]),
            "city": city,
        }
    if kind == "kids_mums":
        return {
            "categories": ["kidswear", *rng.sample(["toys-books", "womenswear"], rng.randint(0, 1))],
            "no_children": False,
            "children_ages": [rng.randint(4, 6)],
            "budget": rng.choice(["budget", "midrange"]),
            "city": city,
        }
    # others: home, beauty, shoes; no segment of their own
    return {
        "categories": rng.sample(["home", "beauty", "shoes"], rng.randint(1, 2)),
        "no_children": True,
        "budget": rng.choice(["budget", "midrange"]),
        "city": city,
    }


MEMBER_ANSWERS = {
    "categories": ["baby", "kidswear", "womenswear"],
    "styles": ["minimal", "french"],
    "clothes_size": "size-m",
    "shoe_size": "shoe-37",
    "no_children": False,
    "children_ages": [2],
    "budget": "midrange",
    "city": "shanghai",
}


def _plan(title, category, brand, declared, original, year, grade, family, **extra) -> Plan:
    return Plan(title, category, brand, declared, original, year, grade, family, "listed", 0, **extra)


# (key, seller, plan): community-only items (社群款) for the drops, then the expert's gifts.
ITEMS = (
    (
        "live1",
        "mom1",
        _plan(
            "Stokke 思多嘉儿 Tripp Trapp 成长椅 白色",
            "baby",
            "Stokke",
            700,
            1990,
            2022,
            "A",
            "toy",
            colour="白色",
            description="社群款：群里姐妹优先。带婴儿护栏，无磕碰。",
        ),
    ),
    (
        "live2",
        accounts.SELLER_USERNAME,
        _plan(
            "巴拉巴拉 男童摇粒绒外套 100 藏青",
            "baby-clothes",
            "Balabala",
            50,
            199,
            2024,
            "A",
            "baby_clothes",
            size="100",
            colour="藏青",
        ),
    ),
    (
        "live3",
        "mom3",
        _plan(
            "乐高 得宝 大颗粒 动物园 10971",
            "baby-toys",
            "LEGO",
            150,
            399,
            2023,
            "A",
            "toy",
            description="零件齐全，已清洗消毒。",
        ),
    ),
    (
        "scheduled1",
        accounts.SELLER_USERNAME,
        _plan(
            "Sandro 粗花呢短外套 36 米白",
            "womens-tops",
            "Sandro",
            900,
            3290,
            2022,
            "A",
            "top",
            size="36",
            colour="米白",
        ),
    ),
    (
        "scheduled2",
        accounts.EXPERT_USERNAME,
        _plan(
            "Maje 碎花真丝连衣裙 1 号",
            "womens-dresses",
            "Maje",
            700,
            2590,
            2022,
            "A",
            "dress",
            size="1",
            colour="蓝底碎花",
        ),
    ),
    (
        "themed",
        accounts.EXPERT_USERNAME,
        _plan("Coach Tabby 26 斜挎包 黑色", "bags-tote", "Coach", 1500, 3950, 2022, "A", "bag", colour="黑色"),
    ),
    (
        "gift1",
        accounts.EXPERT_USERNAME,
        _plan(
            "Gucci 小号化妆包 帆布 赠品",
            "accessories-scarves",
            "Gucci",
            200,
            990,
            2020,
            "B",
            "scarf",
            defects="边角轻微磨损",
        ),
    ),
    (
        "gift2",
        accounts.EXPERT_USERNAME,
        _plan(
            "Kate Spade 丝巾 小方巾 粉色",
            "accessories-scarves",
            "Kate Spade",
            120,
            490,
            2023,
            "A",
            "scarf",
            colour="粉色",
        ),
    ),
)


def _photo(index: int) -> SimpleUploadedFile:
    image = Image.new("RGB", (800, 600), (250, 236, 240))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((80, 80 + index * 10, 720, 520), radius=32, fill=(180, 71, 95))
    draw.rectangle((140, 160, 660, 200), fill=(250, 236, 240))
    draw.rectangle((140, 240, 520, 270), fill=(250, 236, 240))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return SimpleUploadedFile(f"class-slide-{index}.jpg", buffer.getvalue(), content_type="image/jpeg")


class _CommunityDemo:
    def __init__(self, *, now: datetime):
        self.now = now
        self.rng = random.Random(RANDOM_SEED)  # noqa: S311 (sample data, not secrets)
        self.manager = User.objects.get(username=MANAGER_USERNAME)
        self.expert = User.objects.get(username=EXPERT_USERNAME)
        self.member = User.objects.get(username=MEMBER_USERNAME)
        named = [account.username for account in accounts.NAMED_ACCOUNTS]
        # Not the members whose deletion requests the privacy demo (seeded next) tells.
        asking_to_leave = privacy._ordinary_members()[
            privacy.DELETION_POOL_START : privacy.DELETION_POOL_START + 10
        ].values_list("pk", flat=True)
        self.pool = list(
            User.objects.filter(groups__name=roles.MEMBER, is_active=True, is_staff=False)
            .exclude(username__in=named)
            .exclude(pk__in=list(asking_to_leave))
            .order_by("pk")
        )
        self.segments: dict[str, Segment] = {}
        self.items: dict[str, Item] = {}
        self.counts: dict[str, int] = {}

    def ago(self, *, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)

    def day(self, days: int, hour: int, minute: int = 0) -> datetime:
        return local_moment(self.now, days=days, hour=hour, minute=minute)

    # --- segments and groups -------------------------------------------------------------------

    def structure(self) -> None:
        with demo_clock(self.day(35, 10)):
            group_services.taxonomy_seed()
            for slug, name, rule, capacity, leader, description in SEGMENTS:
                segment = group_services.segment_create(
                    actor=self.manager, name=name, slug=slug, rule=rule, capacity=capacity, description=description
                )
                self.segments[slug] = segment
                group_services.group_create(
                    actor=self.manager, leader=User.objects.get(username=leader), segment=segment
                )
            self.invite = group_services.invite_create(actor=self.manager, label="小红书主页链接")
            group_services.invite_create(actor=self.manager, label="门店海报二维码", max_uses=200)

    # --- members answer the questionnaire ------------------------------------------------------

    def admissions(self) -> None:
        pool = iter(self.pool)
        people: list[tuple[User, dict]] = []
        for kind, count in PROFILES:
            for _index in range(count):
                user = next(pool, None)
                if user is None:
                    break
                people.append((user, answers_for(kind, self.rng)))
        # Arrival order over the last four weeks, mixed across kinds; the demo member three weeks ago.
        self.rng.shuffle(people)
        people.insert(len(people) // 4, (self.member, MEMBER_ANSWERS))
        span = timedelta(days=28).total_seconds()
        for index, (user, answers) in enumerate(people):
            moment = self.ago(days=29) + timedelta(seconds=span * index / len(people))
            with demo_clock(moment):
                group_services.admission_answer(user=user, invite_code=self.invite.code, answers=answers)
        self.counts["answered"] = len(people)
        self.rest = list(pool)

    def approval_group(self) -> None:
        with demo_clock(self.day(12, 11)):
            group = group_services.group_create(
                actor=self.manager,
                leader=self.expert,
                name="鉴定师私享群",
                capacity=80,
                join_policy=Group.JoinPolicy.APPROVAL,
            )
            group_services.group_update(
                actor=self.expert, group_id=group.pk, announcement="只聊包袋鉴定与保养，进群请先看公告，不发广告。"
            )
        # The first bag lovers placed, who asked later to join through its invite; the expert decides.
        bag_people = list(
            User.objects.filter(
                memberships__group__segment=self.segments["bags-premium"],
                memberships__role=Membership.Role.MEMBER,
            ).order_by("memberships__joined_at")[:APPROVAL_JOINS]
        )
        pending = []
        for index, user in enumerate(bag_people):
            with demo_clock(self.ago(days=3 - index * 0.4, hours=index)):
                membership = group_services.membership_add(
                    group_id=group.pk, user=user, source=Membership.Source.INVITE
                )
                pending.append(membership)
        for membership in pending[:3]:
            with demo_clock(self.ago(days=1, hours=2)):
                group_services.membership_decide(membership_id=membership.pk, actor=self.expert, approve=True)
        self.approval = group

    def legacy_group(self) -> None:
        """The old WeChat group: everyone who scanned its code joined it, whatever she likes."""
        with demo_clock(self.day(60, 20)):
            slug, name, description = LEGACY_SEGMENT
            segment = group_services.segment_create(
                actor=self.manager, name=name, slug=slug, rule={}, capacity=200, description=description
            )
            group = group_services.group_create(
                actor=self.manager, leader=self.manager, segment=segment, name="二货妈妈 老群"
            )
            # Closed to newcomers: nobody is placed here any more.
            group_services.segment_update(actor=self.manager, segment_id=segment.pk, active=False)
        kinds = [kind for kind, _count in PROFILES]
        joined = 0
        for index, user in enumerate(self.rest[:LEGACY_MEMBERS]):
            kind = kinds[index % len(kinds)]
            with demo_clock(self.ago(days=58 - index, hours=index % 7)):
                group_services.admission_answer(
                    user=user, invite_code=group.invite_code, answers=answers_for(kind, self.rng)
                )
            joined += 1
        self.legacy = group
        self.counts["legacy"] = joined
        with demo_clock(self.day(0, 9, 30) if timezone.localtime(self.now).hour >= 10 else self.ago(minutes=30)):
            self.run = placement_services.placement_run(actor=self.manager)

    # --- items, drops ------------------------------------------------------------------------

    def consign(self) -> None:
        seeder = _Seeder(now=self.now)
        seeder.rng = random.Random(RANDOM_SEED)  # noqa: S311
        for index, (key, seller, plan) in enumerate(ITEMS):
            plan = replace(plan, age_hours=100 + index)  # listed four days ago
            intake = seeder.submit(Batch(seller, "", (plan,), prescreen_hours=4, ship_hours=18))
            item = Item.objects.get(consignment__batch=intake)
            seeder.prescreen(item, plan)
            consignment_services.batch_mark_shipped(
                batch_id=intake.pk, seller=intake.seller, carrier="顺丰", tracking_number=f"SF16{intake.pk:011d}"
            )
            seeder.drive(item.pk, plan)
            self.items[key] = item
        seeder.backdate()
        community_only = [item.pk for key, item in self.items.items() if not key.startswith("gift")]
        # No service chooses a channel yet: set as the admin's item page would.
        Item.objects.filter(pk__in=community_only).update(channel=Item.Channel.COMMUNITY)
        for item in self.items.values():
            item.refresh_from_db()
        assert all(item.fulfilment == PLATFORM for item in self.items.values())

    def member_group(self) -> Group:
        return (
            Membership.objects.select_related("group")
            .get(user=self.member, status=Membership.Status.ACTIVE, group__segment__isnull=False)
            .group
        )

    def drops(self) -> None:
        home = self.member_group()
        self.home = home
        # Its leader's own groups in the same segment (both mothers' groups, when that is where she is).
        siblings = list(Group.objects.filter(segment=home.segment, leader=home.leader).order_by("pk"))
        leader = home.leader
        with demo_clock(self.ago(hours=2, minutes=15)):
            drop_services.drop_create(
                actor=leader,
                item_ids=[self.items["live1"].pk, self.items["live2"].pk, self.items["live3"].pk],
                group_ids=[group.pk for group in siblings],
                title="周五晚 8 点 社群专享",
            )
        women = list(Group.objects.filter(segment=self.segments["women-premium"]).order_by("pk"))
        with demo_clock(self.ago(hours=5)):
            tomorrow = local_moment(self.now, days=-1, hour=20)
            drop_services.drop_create(
                actor=self.expert,
                item_ids=[self.items["scheduled1"].pk, self.items["scheduled2"].pk],
                group_ids=[group.pk for group in women] + [home.pk] * (home.leader_id == self.expert.pk),
                drop_at=tomorrow,
                title="明晚 8 点 法式小众专场",
            )
        with demo_clock(self.day(3, 15)):
            cancelled = drop_services.drop_create(
                actor=leader,
                item_ids=[self.items["live3"].pk],
                group_ids=[home.pk],
                drop_at=self.day(2, 20),
                title="周三 绘本玩具",
            )
        with demo_clock(self.day(3, 18)):
            drop_services.drop_cancel(actor=leader, drop_id=cancelled.pk, reason="和周五的专场合并了")

    # --- micro-classes ---------------------------------------------------------------------

    def classes(self) -> None:
        home = self.home
        # The expert speaks; her classes are for the groups she leads and, through the manager, the member's.
        expert_groups = list(
            Group.objects.filter(leader=self.expert, segment__isnull=False).values_list("pk", flat=True)
        )
        groups = sorted({*expert_groups, home.pk})
        audience = [
            m.user
            for m in Membership.objects.filter(
                group_id__in=groups, status=Membership.Status.ACTIVE, role=Membership.Role.MEMBER
            )
            .exclude(user=self.member)
            .select_related("user")
            .order_by("pk")[:40]
        ]

        def create(title, topic, description, starts_at, created_at, capacity=None):
            with demo_clock(created_at):
                return class_services.class_create(
                    actor=self.manager,
                    title=title,
                    topic=topic,
                    speaker=self.expert,
                    starts_at=starts_at,
                    duration_minutes=60,
                    group_ids=groups,
                    description=description,
                    capacity=capacity,
                )

        def sign_up(micro_class, people, moment):
            with demo_clock(moment):
                for user in people:
                    class_services.class_signup(class_id=micro_class.pk, user=user)

        # Ended a week ago, with materials and a replay.
        ended = create(
            "二手包袋保养入门",
            "包袋保养",
            "皮面清洁、五金防氧化、防霉收纳：一只包多背五年。",
            self.day(7, 20),
            self.day(10, 12),
        )
        sign_up(ended, [self.member, *audience[:18]], self.day(9, 21))
        with demo_clock(self.day(7, 19, 58)):
            class_services.class_start(class_id=ended.pk, actor=self.expert)
        with demo_clock(self.day(7, 20, 5)):
            for user in [self.member, *audience[:12]]:
                class_services.class_attend(class_id=ended.pk, user=user)
        with demo_clock(self.day(7, 21, 2)):
            class_services.class_end(class_id=ended.pk, actor=self.expert)
            class_services.material_add(
                class_id=ended.pk,
                actor=self.expert,
                kind=ClassMaterial.Kind.TEXT,
                title="课堂笔记",
                text="1. 皮面用软布蘸清水轻擦，不用湿巾。\n2. 五金用眼镜布擦干，远离香水。\n"
                "3. 收纳：填充无酸纸，放防尘袋，衣柜放干燥剂，每月拿出来透透气。",
            )
            class_services.material_add(
                class_id=ended.pk, actor=self.expert, kind=ClassMaterial.Kind.IMAGE, title="课件", image=_photo(1)
            )
            class_services.material_add(
                class_id=ended.pk,
                actor=self.expert,
                kind=ClassMaterial.Kind.LINK,
                title="保养清单",
                url="https://erhuo.example.com/guides/bag-care",
            )
        with demo_clock(self.day(6, 10)):
            class_services.class_replay_set(
                class_id=ended.pk, actor=self.expert, url="https://erhuo.example.com/replays/bag-care"
            )
        # On now: started ten minutes ago.
        live = create(
            "通勤胶囊衣橱：10 件穿一个月",
            "穿搭",
            "用基础款搭出一个月不重样的通勤造型，顺便聊聊哪些二手单品最值。",
            self.ago(minutes=10),
            self.day(4, 12),
        )
        sign_up(live, audience[5:25], self.day(3, 21))
        with demo_clock(self.ago(minutes=11)):
            class_services.class_start(class_id=live.pk, actor=self.expert)
        # Scheduled the day after tomorrow at 20:00, 30 places, the demo member signed up.
        scheduled = create(
            "宝宝衣服怎么挑：尺码、面料与安全标准",
            "童装",
            "看懂 GB 31701 和面料标签，二手童装怎么清洗消毒。",
            local_moment(self.now, days=-2, hour=20),
            self.day(1, 10),
            capacity=30,
        )
        sign_up(scheduled, [self.member, *audience[10:24]], self.ago(hours=3))
        # Cancelled: the speaker was away.
        cancelled = create(
            "中古首饰的搭配",
            "首饰",
            "老物件和现代基础款怎么搭。",
            local_moment(self.now, days=-4, hour=20),
            self.day(5, 9),
        )
        sign_up(cancelled, [self.member, *audience[20:28]], self.day(4, 20))
        with demo_clock(self.day(2, 9)):
            class_services.class_cancel(
                class_id=cancelled.pk, actor=self.manager, reason="老师临时出差，改期后会再通知大家。"
            )

    # --- activities --------------------------------------------------------------------------

    def activities(self) -> None:
        home = self.home
        groups = sorted(
            {home.pk, *Group.objects.filter(leader=self.expert, segment__isnull=False).values_list("pk", flat=True)}
        )
        entrants = [
            m.user
            for m in Membership.objects.filter(group=home, status=Membership.Status.ACTIVE, role=Membership.Role.MEMBER)
            .exclude(user=self.member)
            .select_related("user")
            .order_by("pk")
        ]
        # A running buy-with-gift: spend ¥300 in the expert's groups, get one of her gifts (two in stock).
        expert_groups = list(
            Group.objects.filter(leader=self.expert, segment__isnull=False).order_by("pk").values_list("pk", flat=True)
        )
        with demo_clock(self.day(1, 10)):
            activity_services.activity_create(
                actor=self.expert,
                kind=Activity.Kind.BUY_WITH_GIFT,
                title="满 300 送小礼物",
                description="活动期间在群里下单满 300 元，随单送一件赠品，送完为止。",
                group_ids=expert_groups,
                starts_at=self.day(1, 10),
                ends_at=self.now + timedelta(days=5),
                threshold_fen=30_000,
                gifts=[self.items["gift1"].pk, self.items["gift2"].pk],
            )
        # A giveaway drawn two days ago.
        with demo_clock(self.day(9, 10)):
            drawn = activity_services.activity_create(
                actor=self.manager,
                kind=Activity.Kind.GIVEAWAY,
                title="晒单抽奖：Longchamp 小号饺子包",
                description="群成员都可以参加，截止后公开抽奖，人人可核验。",
                group_ids=groups,
                starts_at=self.day(9, 10),
                ends_at=self.day(2, 20),
                prize="Longchamp Le Pliage 小号 一只",
                winners_count=2,
            )
        for index, user in enumerate([self.member, *entrants[:24]]):
            with demo_clock(self.day(8 - index % 6, 12, index)):
                activity_services.giveaway_enter(activity_id=drawn.pk, user=user)
        with demo_clock(self.day(2, 20, 30)):
            activity_services.activities_settle_due(activity_ids=[drawn.pk])
            activity_services.giveaway_draw(activity_id=drawn.pk, actor=self.manager)
        # A giveaway running now.
        with demo_clock(self.ago(hours=30)):
            running = activity_services.activity_create(
                actor=self.manager,
                kind=Activity.Kind.GIVEAWAY,
                title="新群福利：抽 3 位送宝宝绘本",
                group_ids=[home.pk],
                starts_at=self.ago(hours=30),
                ends_at=self.now + timedelta(days=3),
                prize="《好饿的毛毛虫》精装绘本",
                winners_count=3,
            )
        for index, user in enumerate([self.member, *entrants[24:36]]):
            with demo_clock(self.ago(hours=20 - index)):
                activity_services.giveaway_enter(activity_id=running.pk, user=user)
        # A themed drop for the bag lovers, with its own drop.
        bags = list(Group.objects.filter(segment=self.segments["bags-premium"]).values_list("pk", flat=True))
        with demo_clock(self.day(1, 12)):
            themed = activity_services.activity_create(
                actor=self.expert,
                kind=Activity.Kind.THEMED_DROP,
                title="包袋专场：Coach 与 Longchamp",
                description="达人亲自验过的包袋，今晚 8 点开抢。",
                group_ids=bags,
                starts_at=self.day(1, 12),
                ends_at=self.now + timedelta(days=2),
            )
            activity_services.activity_drop_create(
                activity_id=themed.pk, actor=self.expert, item_ids=[self.items["themed"].pk], title="包袋专场 第一波"
            )

    def run(self) -> None:
        self.structure()
        self.admissions()
        self.approval_group()
        self.legacy_group()
        self.consign()
        self.drops()
        self.classes()
        self.activities()


def seed(*, stdout) -> None:
    demo = _CommunityDemo(now=timezone.now())
    demo.run()
    mothers = Group.objects.filter(segment=demo.segments["mums-0-3"]).order_by("number")
    drops = {status: Drop.objects.filter(status=status).count() for status in Drop.Status.values}
    classes = {status: MicroClass.objects.filter(status=status).count() for status in MicroClass.Status.values}
    activities = {status: Activity.objects.filter(status=status).count() for status in Activity.Status.values}
    stdout.write(
        f"community: {Segment.objects.count()} segments, {Group.objects.count()} groups "
        f"(母婴·0-3岁 {', '.join(f'{g.number}群 {g.member_count}/{g.capacity}' for g in mothers)}); "
        f"{demo.counts['answered']} members placed by their answers, {demo.counts['legacy']} in the old mixed group "
        f"with {ProposedMove.objects.filter(status=ProposedMove.Status.PROPOSED).count()} moves proposed; "
        f"{Membership.objects.filter(status=Membership.Status.PENDING).count()} joins waiting for approval; "
        f"drops: {drops['live']} live, {drops['scheduled']} scheduled, {drops['cancelled']} cancelled; "
        f"micro-classes: {', '.join(f'{count} {status}' for status, count in classes.items())}; "
        f"activities: {activities['running']} running, {activities['drawn']} giveaway drawn"
    )
