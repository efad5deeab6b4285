"""Demo experts for `make demo`: experts at each level, applications in every state, and referral
attributions. Everything goes through the services, as a member and a reviewer would.

`seed(*, stdout)` expects the demo accounts to exist (the community manager `yunying`, the named expert
`expert`, the member `member`, and the generated members) and runs after trust and consignment, so the
named expert is a verified seller before her expert application is approved (at gold level).
Commissions are not written here: they accrue when an attributed buyer's order completes, and the market
demo (market.py) has such buyers buy after their visit. The visits are 5 to 13 days old: after the sales
history (at least two weeks old), so that no earlier sale would have earned a commission, and well inside
the 30-day attribution window. Deterministic: the same people get the same applications on every fresh
database.
"""

import io
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from erhuo.accounts import roles
from erhuo.accounts.models import User
from erhuo.experts import services
from erhuo.experts.models import Expert
from erhuo.experts.standards import STANDARD_CODES

REVIEWER_USERNAME = "yunying"
EXPERT_USERNAME = "expert"
MEMBER_USERNAME = "member"
NAMED_USERNAMES = ("owner", "yunying", "seller", "expert", "member", "caiwu", "kefu")

PALETTES = (
    ((250, 236, 240), (180, 71, 95)),
    ((236, 242, 248), (86, 120, 160)),
    ((246, 240, 230), (139, 94, 60)),
    ((238, 246, 240), (96, 150, 120)),
    ((242, 240, 246), (120, 96, 150)),
)


def _photo(index: int, palette: int) -> SimpleUploadedFile:
    """A 600×600 JPEG: a soft backdrop, a dress and a bag drawn in the palette's colour."""
    background, ink = PALETTES[palette % len(PALETTES)]
    image = Image.new("RGB", (600, 600), background)
    draw = ImageDraw.Draw(image)
    shift = (index * 37) % 120
    draw.polygon([(220 + shift, 120), (320 + shift, 120), (380 + shift, 480), (160 + shift, 480)], fill=ink)
    draw.rounded_rectangle((60, 380 - shift // 2, 200, 500 - shift // 2), radius=24, fill=ink)
    draw.arc((90, 330 - shift // 2, 170, 420 - shift // 2), start=180, end=360, fill=ink, width=8)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return SimpleUploadedFile(f"portfolio-{palette}-{index}.jpg", buffer.getvalue(), content_type="image/jpeg")


def _photos(count: int, palette: int) -> list[SimpleUploadedFile]:
    return [_photo(index, palette) for index in range(count)]


# (style focus, specialties, experience, years, level or decision)
APPLICANTS = (
    (
        "产后身材的通勤穿搭，一包多搭",
        ["office_wear", "luxury_bags", "accessories"],
        "前时尚杂志造型助理，做了 8 年私人穿搭顾问，帮三百多位妈妈重新整理过衣橱；"
        "熟悉 LV、Gucci、Coach 的经典款和保值款。",
        8,
        "gold",
    ),
    (
        "童装混搭：舒适、安全、好打理",
        ["kids_styling", "baby_goods"],
        "两个孩子的妈妈，开过三年母婴店，懂面料、尺码和安全标准（GB 31701），常在群里帮妈妈们挑童装和推车。",
        6,
        "certified",
    ),
    (
        "轻奢包袋的真假与保养",
        ["luxury_bags", "authentication", "care"],
        "二奢店鉴定师出身，看过上千只包，熟悉五金、走线、编码和皮料；也会教大家日常清洁和防霉。",
        10,
        "certified",
    ),
    (
        "大码女生的温柔通勤风",
        ["plus_size", "office_wear"],
        "自己穿 XL，三年来在小红书分享大码穿搭，擅长用版型和颜色修饰身材，帮不少姐妹找到合身的通勤装。",
        3,
        "trainee",
    ),
    (
        "孕期到哺乳期的实穿衣橱",
        ["maternity", "baby_goods"],
        "两次孕期都只买了少量单品反复搭配，整理过一份孕期衣橱清单，想把经验分享给新手妈妈。",
        2,
        "pending",
    ),
    (
        "复古中古首饰搭配",
        ["vintage", "accessories"],
        "收藏中古首饰五年，常逛中古店和市集，喜欢把老物件和现代基础款搭在一起。",
        5,
        "pending",
    ),
    (
        "什么都会一点",
        ["office_wear"],
        "喜欢买衣服，朋友都说我会搭配，想试试当达人，平时也在群里很活跃。",
        1,
        "rejected",
    ),
)
REJECTION = "作品集里的照片多为网店图，看不出是你自己的搭配；经验描述也比较笼统。欢迎拍几套自己的搭配后再来申请。"


def seed(*, stdout) -> None:
    reviewer = User.objects.get(username=REVIEWER_USERNAME)
    named_expert = User.objects.get(username=EXPERT_USERNAME)
    others = list(
        User.objects.filter(groups__name=roles.MEMBER, is_staff=False)
        .exclude(username__in=NAMED_USERNAMES)
        .order_by("pk")[: len(APPLICANTS) + 12]
    )
    applicants = [named_expert, *others[: len(APPLICANTS) - 1]]
    buyers = [User.objects.get(username=MEMBER_USERNAME), *others[len(APPLICANTS) - 1 :]]
    checklist = dict.fromkeys(STANDARD_CODES, True)

    experts: list[Expert] = []
    for index, (applicant, (style, specialties, experience, years, outcome)) in enumerate(
        zip(applicants, APPLICANTS, strict=True)
    ):
        application = services.application_submit(
            applicant=applicant,
            style_focus=style,
            specialties=specialties,
            experience=experience,
            years_experience=years,
            links=[f"https://www.xiaohongshu.com/user/profile/demo{index}"],
            photos=_photos(4 if index % 2 else 6, index),
        )
        if outcome == "pending":
            continue
        if outcome == "rejected":
            services.application_decide(
                application_id=application.pk,
                actor=reviewer,
                approve=False,
                checklist={**checklist, "clear_own_photos": False, "specialty_knowledge": False},
                note=REJECTION,
            )
            continue
        services.application_decide(
            application_id=application.pk,
            actor=reviewer,
            approve=True,
            checklist=checklist,
            level=outcome,
            note="作品集风格统一，经验扎实，欢迎加入！",
        )
        experts.append(Expert.objects.select_related("user").get(application=application))

    # The named expert shares her own words on her profile.
    if named_expert.bio:
        Expert.objects.filter(user=named_expert).update(bio=named_expert.bio)

    # Buyers who came through the experts' links (the latest touch counts): the demo member first, then others.
    now = timezone.now()
    touches = 0
    for index, buyer in enumerate(buyers):
        expert = experts[index % len(experts)]
        services.referral_visit(
            code=expert.referral_code, visitor=buyer, visited_at=now - timedelta(days=5 + index % 8, hours=index)
        )
        touches += 1
    stdout.write(
        f"experts: {len(experts)} experts (gold, certified, trainee), "
        f"{sum(1 for row in APPLICANTS if row[4] == 'pending')} applications waiting for review, 1 not approved; "
        f"{touches} referral touches"
    )
