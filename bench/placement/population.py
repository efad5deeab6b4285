"""A generated community: members with realistic, correlated tag mixes, and the segments they are placed into.

Women of 25 to 45 in Chinese cities, as the article's community was (DESIGN.md §1):

- city: 13 cities skewed to the big ones (上海 18 %, 北京 14 %, 杭州 and 深圳 11 % …, 天津 2 %);
- mothers: 30 % under 28, 75 % from 28 to 39, 60 % from 40; one child (72 %) or two, the first child's
  age bracket following the mother's age (0–1, 1–3, 3–6, 6–12), a second one older;
- spending: 轻奢 (premium) more likely in the five first-tier cities and after 32, else 大众 (budget);
- interests, correlated with the above: mothers of small children want 母婴 (90 %), of older ones 童装
  (80 %), then 女装, 包袋 (more with 轻奢), 美妆, 配饰; women without children 女装 (85 %), 包袋 (60 %
  with 轻奢, 30 % without), 配饰, 美妆; lifestyle 职场 / 职场妈妈 / 全职妈妈 for some;
- size S/M/L/XL (mothers a little larger) when she buys clothes for herself; one style (通勤, 休闲, 甜美,
  简约, 复古: 甜美 younger, 休闲 more with mothers), a second one for a third of them at weight 0.6;
- behaviour: categories she did not choose but looked at, each for 12 % of members, weight 0.2–0.6.

Questionnaire tags weigh 1.0. Everything comes from one seeded `random.Random`: the same seed gives
the same community. Arrival order is the order of generation: independent of the tags.
"""

import random

from erhuo.community.placement import SegmentSpec

# (dimension, code, name): codes shared with the default taxonomy (services.groups.DEFAULT_TAGS) where
# the same thing exists there; the rest are this benchmark's own.
TAXONOMY = [
    ("category", "womenswear", "女装"),
    ("category", "bags", "包袋"),
    ("category", "jewellery", "配饰"),
    ("category", "beauty", "美妆"),
    ("category", "baby", "母婴"),
    ("category", "kidswear", "童装"),
    ("spending", "premium", "轻奢"),
    ("spending", "budget", "大众"),
    ("size", "size-s", "S"),
    ("size", "size-m", "M"),
    ("size", "size-l", "L"),
    ("size", "size-xl", "XL"),
    ("child_age", "kids-0-1", "0–1岁"),
    ("child_age", "kids-1-3", "1–3岁"),
    ("child_age", "kids-3-6", "3–6岁"),
    ("child_age", "kids-6-12", "6–12岁"),
    ("style", "commute", "通勤"),
    ("style", "casual", "休闲"),
    ("style", "sweet", "甜美"),
    ("style", "minimal", "简约"),
    ("style", "vintage", "复古"),
    ("lifestyle", "office", "职场"),
    ("lifestyle", "working-mum", "职场妈妈"),
    ("lifestyle", "stay-home-mum", "全职妈妈"),
    ("city", "shanghai", "上海"),
    ("city", "beijing", "北京"),
    ("city", "hangzhou", "杭州"),
    ("city", "shenzhen", "深圳"),
    ("city", "guangzhou", "广州"),
    ("city", "chengdu", "成都"),
    ("city", "nanjing", "南京"),
    ("city", "suzhou", "苏州"),
    ("city", "wuhan", "武汉"),
    ("city", "chongqing", "重庆"),
    ("city", "xian", "西安"),
    ("city", "changsha", "长沙"),
    ("city", "tianjin", "天津"),
]

CITIES = [
    ("shanghai", 18),
    ("beijing", 14),
    ("hangzhou", 11),
    ("shenzhen", 11),
    ("guangzhou", 9),
    ("chengdu", 8),
    ("nanjing", 6),
    ("suzhou", 5),
    ("wuhan", 5),
    ("chongqing", 4),
    ("xian", 4),
    ("changsha", 3),
    ("tianjin", 2),
]
FIRST_TIER = {"shanghai", "beijing", "shenzhen", "guangzhou", "hangzhou"}
CHILD_AGES = ["kids-0-1", "kids-1-3", "kids-3-6", "kids-6-12"]
CATEGORIES = ["womenswear", "bags", "jewellery", "beauty", "baby", "kidswear"]

# 16 segments, as a community of this kind would run them: category × spending tier, mothers by their
# children's ages, office wear, stay-at-home mothers, and a general one.
SEGMENTS = [
    SegmentSpec("womenswear-premium", {"all": ["womenswear", "premium"]}, "女装·轻奢"),
    SegmentSpec("womenswear-budget", {"all": ["womenswear", "budget"]}, "女装·大众"),
    SegmentSpec("bags-premium", {"all": ["bags", "premium"]}, "包袋·轻奢"),
    SegmentSpec("bags-budget", {"all": ["bags", "budget"]}, "包袋·大众"),
    SegmentSpec("jewellery", {"all": ["jewellery"]}, "配饰"),
    SegmentSpec("beauty-premium", {"all": ["beauty", "premium"]}, "美妆·轻奢"),
    SegmentSpec("beauty-budget", {"all": ["beauty", "budget"]}, "美妆·大众"),
    SegmentSpec("baby-0-1", {"all": ["baby", "kids-0-1"]}, "母婴·0–1岁"),
    SegmentSpec("baby-1-3", {"all": ["baby", "kids-1-3"]}, "母婴·1–3岁"),
    SegmentSpec("baby-3-plus", {"all": ["baby"], "any": ["kids-3-6", "kids-6-12"]}, "母婴·3岁+"),
    SegmentSpec("kidswear-0-3", {"all": ["kidswear"], "any": ["kids-0-1", "kids-1-3"]}, "童装·0–3岁"),
    SegmentSpec("kidswear-3-6", {"all": ["kidswear", "kids-3-6"]}, "童装·3–6岁"),
    SegmentSpec("kidswear-6-12", {"all": ["kidswear", "kids-6-12"]}, "童装·6–12岁"),
    SegmentSpec("office", {"all": ["commute"], "any": ["office", "working-mum"]}, "职场通勤"),
    SegmentSpec("stay-home-mum", {"all": ["stay-home-mum"]}, "全职妈妈"),
    SegmentSpec("general", {}, "综合"),
]


def _pick(rng: random.Random, choices: list[tuple[str, float]]) -> str:
    total = sum(weight for _value, weight in choices)
    point = rng.random() * total
    for value, weight in choices:
        point -= weight
        if point < 0:
            return value
    return choices[-1][0]


def member(rng: random.Random) -> dict[str, float]:
    """One member's profile {tag code: weight}."""
    age = rng.randint(25, 45)
    mother = rng.random() < (0.30 if age < 28 else 0.75 if age < 40 else 0.60)
    city = _pick(rng, CITIES)
    premium = rng.random() < (0.38 if city in FIRST_TIER else 0.20) + (0.08 if age > 32 else 0.0)
    tags = {city: 1.0, ("premium" if premium else "budget"): 1.0}
    categories = []
    if mother:
        bracket = max(0, min(3, (age - 26) // 4 + rng.choice([-1, 0, 0, 1])))
        tags[CHILD_AGES[bracket]] = 1.0
        if rng.random() >= 0.72:  # a second child, older
            tags[CHILD_AGES[min(3, bracket + rng.choice([1, 2]))]] = 1.0
        small = bracket <= 1
        if rng.random() < (0.90 if small else 0.50):
            categories.append("baby")
        if rng.random() < (0.40 if small else 0.80):
            categories.append("kidswear")
        if rng.random() < 0.55:
            categories.append("womenswear")
        if rng.random() < (0.30 if premium else 0.15):
            categories.append("bags")
        if rng.random() < 0.25:
            categories.append("beauty")
        if rng.random() < 0.10:
            categories.append("jewellery")
        if rng.random() < 0.35:
            tags["stay-home-mum" if rng.random() < 0.5 else "working-mum"] = 1.0
    else:
        if rng.random() < 0.85:
            categories.append("womenswear")
        if rng.random() < (0.60 if premium else 0.30):
            categories.append("bags")
        if rng.random() < 0.35:
            categories.append("jewellery")
        if rng.random() < 0.45:
            categories.append("beauty")
        if rng.random() < 0.30:
            tags["office"] = 1.0
    if not categories:
        categories.append("womenswear")
    for code in categories:
        tags[code] = 1.0
    sizes = (
        [("size-s", 14), ("size-m", 36), ("size-l", 34), ("size-xl", 16)]
        if mother
        else [
            ("size-s", 22),
            ("size-m", 38),
            ("size-l", 28),
            ("size-xl", 12),
        ]
    )
    size = _pick(rng, sizes)
    if "womenswear" in categories or "kidswear" not in categories:
        tags[size] = 1.0
    styles = [
        ("commute", 15 if mother else 25),
        ("casual", 35 if mother else 20),
        ("sweet", 20 if age < 32 else 8),
        ("minimal", 25),
        ("vintage", 10),
    ]
    tags[_pick(rng, styles)] = 1.0
    if rng.random() < 0.35:
        second = _pick(rng, styles)
        tags[second] = max(tags.get(second, 0.0), 0.6)
    for code in CATEGORIES:  # behaviour: what she looked at without choosing it
        if code not in tags and rng.random() < 0.12:
            tags[code] = round(rng.uniform(0.2, 0.6), 2)
    return tags


def generate(count: int, seed: int) -> dict[int, dict[str, float]]:
    """{member id 1…count: profile}, ids in order of arrival."""
    rng = random.Random(seed)
    return {member_id: member(rng) for member_id in range(1, count + 1)}
