"""What an item says about the person who wants it: its category, spending tier and size as member tags.

Drops are suggested to the groups whose members carry these tags
(`selectors.drop_suggest_groups`), and a member who views, claims or buys an
item has them raised as behaviour tags (`services.drops.behaviour_tags_bump`).

The mapping is a table over the catalogue's seeded categories
(`catalog/migrations/0002_seed_categories_and_brands.py`) and brand tiers. A
tag is named by its code and, as a fallback, by its dimension and name: the
taxonomy is edited by operators, and a 女装 tag is still 女装 whatever its
code. A tag that does not exist (or is no longer offered) is skipped, never
created here.
"""

import re
from dataclasses import dataclass

from django.db.models import Q

from erhuo.community.models import Dimension, Tag

# How much each dimension counts in an item's profile: what it is matters most, then the budget, then the fit.
CATEGORY_WEIGHT = 1.0
SPENDING_WEIGHT = 0.8
SIZE_WEIGHT = 0.6
CHILD_AGE_WEIGHT = 0.6


@dataclass(frozen=True)
class TagRef:
    dimension: str
    code: str
    name: str


def _category(code: str, name: str) -> TagRef:
    return TagRef(Dimension.CATEGORY, code, name)


# The tags of the default taxonomy (`services.groups.DEFAULT_TAGS`) that items stand for.
WOMENSWEAR = _category("womenswear", "女装")
BAGS = _category("bags", "包袋")
SHOES = _category("shoes", "鞋履")
JEWELLERY = _category("jewellery", "珠宝配饰")
BABY = _category("baby", "母婴用品")
KIDSWEAR = _category("kidswear", "童装")
TOYS_BOOKS = _category("toys-books", "玩具绘本")

# Catalogue category slug → the category tags it stands for. An item collects the tags of its category and of
# every ancestor (a 童装 item is 母婴用品 and 童装). 奢侈品 is a spending tier among the tags, not a category:
# a luxury bag is a bag.
CATEGORY_TAGS: dict[str, tuple[TagRef, ...]] = {
    "womens": (WOMENSWEAR,),
    "bags": (BAGS,),
    "shoes": (SHOES,),
    "accessories": (JEWELLERY,),
    "luxury-bags": (BAGS,),
    "luxury-watches": (JEWELLERY,),
    "luxury-jewellery": (JEWELLERY,),
    "baby": (BABY,),
    "baby-clothes": (KIDSWEAR,),
    "baby-toys": (TOYS_BOOKS,),
    "baby-books": (TOYS_BOOKS,),
}

LUXURY = TagRef(Dimension.SPENDING, "luxury", "奢侈品")
PREMIUM = TagRef(Dimension.SPENDING, "premium", "轻奢")
MIDRANGE = TagRef(Dimension.SPENDING, "midrange", "品质")
BUDGET = TagRef(Dimension.SPENDING, "budget", "平价")
# Brand tier → spending tier.
SPENDING_BY_BRAND_TIER = {"luxury": LUXURY, "designer": PREMIUM, "premium": MIDRANGE, "mass": BUDGET}
# Without a brand: the luxury category says luxury; otherwise the price decides.
SPENDING_BY_PRICE = ((500_000, LUXURY), (100_000, PREMIUM), (20_000, MIDRANGE), (0, BUDGET))

LETTER_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
_LETTER_ALIASES = {"2XL": "XXL", "XXXL": "XXL", "3XL": "XXL"}
# Chinese women's sizes by height (155/80A …), and European ones (34, 36 …), as the letter size they wear.
_HEIGHT_SIZES = ((150, "XS"), (155, "S"), (160, "M"), (165, "L"), (170, "XL"), (175, "XXL"))
_EU_SIZES = {32: "XS", 34: "XS", 36: "S", 38: "M", 40: "L", 42: "XL", 44: "XXL", 46: "XXL"}
SHOE_SIZES = range(35, 42)
# Children's clothes are sized by height in cm: the child's age follows (upper bounds, exclusive).
CHILD_AGES = (
    (100, TagRef(Dimension.CHILD_AGE, "kids-0-3", "0–3岁")),
    (120, TagRef(Dimension.CHILD_AGE, "kids-4-6", "4–6岁")),
    (150, TagRef(Dimension.CHILD_AGE, "kids-7-12", "7–12岁")),
    (999, TagRef(Dimension.CHILD_AGE, "kids-13-16", "13–16岁")),
)


def size_tag(code: str) -> TagRef:
    return TagRef(Dimension.SIZE, f"size-{code.lower()}", code)


def shoe_tag(size: int) -> TagRef:
    return TagRef(Dimension.SIZE, f"shoe-{size}", f"{size}码鞋")


def _category_path(category) -> list:
    path = []
    node = category
    # Three levels at most in the seeded tree; the bound guards against a loop typed into the admin.
    while node is not None and len(path) < 6:
        path.append(node)
        node = node.parent
    return path


def _letter_size(size: str, *, clothing: bool) -> str | None:
    raw = (size or "").strip().upper().replace(" ", "")
    if not raw:
        return None
    raw = _LETTER_ALIASES.get(raw, raw)
    if raw in LETTER_SIZES:
        return raw
    if not clothing:
        return None
    height = re.match(r"^(1[4-8]\d)/\d{2,3}[A-Z]?$", raw)
    if height:
        value = int(height.group(1))
        letter = None
        for bound, code in _HEIGHT_SIZES:
            if value >= bound:
                letter = code
        return letter
    if raw.isdigit() and int(raw) in _EU_SIZES:
        return _EU_SIZES[int(raw)]
    return None


def _child_age(size: str) -> TagRef | None:
    digits = re.match(r"^(\d{2,3})(CM)?$", (size or "").strip().upper())
    if not digits:
        return None
    height = int(digits.group(1))
    if not 50 <= height <= 170:
        return None
    return next(ref for bound, ref in CHILD_AGES if height < bound)


def item_tag_refs(item) -> dict[TagRef, float]:
    """The tags an item stands for, with their weight in its profile (no database: the caller loads
    the item's category with its parents and its brand)."""
    refs: dict[TagRef, float] = {}
    path = _category_path(item.category) if item.category_id else []
    slugs = {node.slug for node in path}
    for node in path:
        for ref in CATEGORY_TAGS.get(node.slug, ()):
            refs.setdefault(ref, CATEGORY_WEIGHT)
    tier = item.brand.tier if item.brand_id and item.brand is not None else None
    spending = SPENDING_BY_BRAND_TIER.get(tier)
    if spending is None and "luxury" in slugs:
        spending = LUXURY
    if spending is None and item.price_fen:
        spending = next(ref for floor, ref in SPENDING_BY_PRICE if item.price_fen >= floor)
    if spending is not None:
        refs[spending] = SPENDING_WEIGHT
    if "baby-clothes" in slugs:
        age = _child_age(item.size)
        if age is not None:
            refs[age] = CHILD_AGE_WEIGHT
    elif "shoes" in slugs:
        raw = (item.size or "").strip()
        if raw.isdigit() and int(raw) in SHOE_SIZES:
            refs[shoe_tag(int(raw))] = SIZE_WEIGHT
    elif "baby" not in slugs:
        letter = _letter_size(item.size, clothing="womens" in slugs)
        if letter is not None:
            refs[size_tag(letter)] = SIZE_WEIGHT
    return refs


def resolve(refs) -> dict[TagRef, Tag]:
    """The offered tags the references name, in one query: by code first, else by dimension and name."""
    refs = list(refs)
    if not refs:
        return {}
    wanted = Q(code__in=[ref.code for ref in refs])
    for ref in refs:
        wanted |= Q(dimension=ref.dimension, name=ref.name)
    tags = list(Tag.objects.filter(wanted, active=True))
    by_code = {tag.code: tag for tag in tags}
    by_name = {(tag.dimension, tag.name): tag for tag in tags}
    found = {}
    for ref in refs:
        tag = by_code.get(ref.code) or by_name.get((ref.dimension, ref.name))
        if tag is not None:
            found[ref] = tag
    return found


def item_profile(item) -> dict[str, float]:
    """The item as a tag profile {tag code: weight}, over the tags that exist (one query)."""
    refs = item_tag_refs(item)
    tags = resolve(refs)
    profile: dict[str, float] = {}
    for ref, weight in refs.items():
        tag = tags.get(ref)
        if tag is not None:
            profile[tag.code] = max(profile.get(tag.code, 0.0), weight)
    return profile
