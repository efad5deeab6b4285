"""Generated product photos for the demo: no stock photos, no network.

Each photo is a 600×800 JPEG: a soft background colour per category family,
a simple drawn silhouette (bag, dress, coat, shoe, toy, stroller, ...), the
kind of shot in a corner and, when a CJK font is installed, the item's
Chinese title. Photos are drawn once per (title, family, kind) and the bytes
are reused: the services still store every photo as its own file.
"""

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 600, 800
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")

# Background and drawing colour per family: soft, like a studio backdrop.
PALETTE = {
    "bag": ((244, 236, 228), (139, 94, 60)),
    "luxury_bag": ((240, 234, 222), (110, 78, 48)),
    "dress": ((250, 236, 240), (180, 71, 95)),
    "coat": ((238, 236, 232), (168, 128, 92)),
    "top": ((236, 242, 248), (86, 120, 160)),
    "knit": ((246, 240, 230), (176, 140, 96)),
    "trousers": ((234, 238, 242), (70, 84, 110)),
    "shoe": ((240, 240, 236), (60, 60, 64)),
    "scarf": ((248, 238, 230), (196, 110, 70)),
    "jewellery": ((242, 240, 246), (160, 130, 60)),
    "watch": ((236, 238, 240), (90, 96, 104)),
    "baby_clothes": ((238, 246, 240), (96, 150, 120)),
    "toy": ((252, 244, 226), (230, 140, 60)),
    "stroller": ((236, 242, 244), (60, 90, 100)),
    "feeding": ((240, 246, 250), (90, 140, 180)),
    "book": ((250, 244, 236), (150, 90, 120)),
}
KIND_LABELS = {
    "seller": "卖家实拍",
    "flat": "平铺",
    "on_body": "上身",
    "detail": "细节",
    "defect": "瑕疵",
    "authentication": "鉴定细节",
    "received": "到仓",
    # Members' own photos: a buyer show (买家秀) and the evidence of a return.
    "buyer": "买家秀",
    "evidence": "买家拍摄",
}
MEMBER_KINDS = {"seller", "buyer", "evidence"}


@lru_cache(maxsize=4)
def _font(size: int):
    if not CJK_FONT.exists():
        return None
    return ImageFont.truetype(str(CJK_FONT), size=size)


def _bag(draw, colour, box):
    left, top, right, bottom = box
    handle_top = top + (bottom - top) * 0.05
    body_top = top + (bottom - top) * 0.35
    draw.arc((left + 70, handle_top, right - 70, body_top + 90), 180, 360, fill=colour, width=16)
    draw.rounded_rectangle((left, body_top, right, bottom), radius=28, fill=colour)
    draw.rectangle((left + 30, body_top + 40, right - 30, body_top + 48), fill=(255, 255, 255))


def _dress(draw, colour, box):
    left, top, right, bottom = box
    middle = (left + right) / 2
    draw.polygon(
        [
            (middle - 50, top),
            (middle + 50, top),
            (middle + 70, top + 150),
            (right, bottom),
            (left, bottom),
            (middle - 70, top + 150),
        ],
        fill=colour,
    )
    draw.rectangle((middle - 72, top + 140, middle + 72, top + 160), fill=(255, 255, 255))


def _coat(draw, colour, box):
    left, top, right, bottom = box
    middle = (left + right) / 2
    # Sleeves first, then the body over them, then the opening and the lapels.
    draw.polygon(
        [(left + 10, top + 60), (left - 45, bottom - 130), (left + 5, bottom - 115), (left + 40, top + 140)],
        fill=colour,
    )
    draw.polygon(
        [(right - 10, top + 60), (right + 45, bottom - 130), (right - 5, bottom - 115), (right - 40, top + 140)],
        fill=colour,
    )
    draw.polygon(
        [
            (middle - 60, top),
            (middle + 60, top),
            (right, top + 70),
            (right - 10, bottom),
            (left + 10, bottom),
            (left, top + 70),
        ],
        fill=colour,
    )
    draw.line((middle, top + 90, middle, bottom), fill=(255, 255, 255), width=5)
    draw.line((middle - 60, top, middle, top + 90), fill=(255, 255, 255), width=4)
    draw.line((middle + 60, top, middle, top + 90), fill=(255, 255, 255), width=4)


def _top(draw, colour, box):
    left, top, right, bottom = box
    middle = (left + right) / 2
    draw.polygon(
        [
            (middle - 50, top),
            (middle + 50, top),
            (right + 30, top + 90),
            (right - 10, top + 150),
            (right - 20, bottom - 80),
            (left + 20, bottom - 80),
            (left + 10, top + 150),
            (left - 30, top + 90),
        ],
        fill=colour,
    )
    draw.ellipse((middle - 40, top - 20, middle + 40, top + 40), fill=(255, 255, 255))


def _trousers(draw, colour, box):
    left, top, right, bottom = box
    middle = (left + right) / 2
    draw.polygon(
        [(left + 20, top), (right - 20, top), (right, bottom), (middle + 10, bottom), (middle, top + 140)], fill=colour
    )
    draw.polygon([(left + 20, top), (middle, top + 140), (middle - 10, bottom), (left, bottom)], fill=colour)


def _shoe(draw, colour, box):
    left, _top, right, bottom = box
    floor = bottom - 60
    draw.polygon(
        [(left, floor), (left + 20, floor - 120), (left + 140, floor - 130), (right - 40, floor - 30), (right, floor)],
        fill=colour,
    )
    draw.rectangle((left, floor, right, floor + 24), fill=(40, 40, 40))
    draw.rectangle((left + 10, floor + 24, left + 50, floor + 60), fill=(40, 40, 40))


def _scarf(draw, colour, box):
    left, top, right, bottom = box
    for index in range(6):
        inset = index * 24
        shade = tuple(min(255, channel + index * 18) for channel in colour)
        draw.rectangle((left + inset, top + inset, right - inset, bottom - inset), outline=shade, width=12)


def _jewellery(draw, colour, box):
    left, top, right, bottom = box
    draw.arc((left, top, right, bottom - 60), 20, 160, fill=colour, width=8)
    middle = (left + right) / 2
    draw.ellipse((middle - 34, bottom - 110, middle + 34, bottom - 42), fill=colour)
    draw.ellipse((middle - 16, bottom - 92, middle + 16, bottom - 60), fill=(255, 255, 255))


def _watch(draw, colour, box):
    left, top, right, bottom = box
    middle = (left + right) / 2
    draw.rectangle((middle - 50, top, middle + 50, bottom), fill=colour)
    draw.ellipse((middle - 110, (top + bottom) / 2 - 110, middle + 110, (top + bottom) / 2 + 110), fill=colour)
    centre = (top + bottom) / 2
    draw.ellipse((middle - 90, centre - 90, middle + 90, centre + 90), fill=(250, 250, 248))
    draw.line((middle, centre, middle, centre - 70), fill=colour, width=6)
    draw.line((middle, centre, middle + 50, centre), fill=colour, width=6)


def _toy(draw, colour, box):
    left, top, right, bottom = box
    middle = (left + right) / 2
    draw.ellipse((middle - 120, top + 120, middle + 120, bottom), fill=colour)
    draw.ellipse((middle - 80, top, middle + 80, top + 160), fill=colour)
    draw.ellipse((middle - 110, top - 10, middle - 50, top + 50), fill=colour)
    draw.ellipse((middle + 50, top - 10, middle + 110, top + 50), fill=colour)
    draw.ellipse((middle - 40, top + 60, middle - 20, top + 80), fill=(40, 40, 40))
    draw.ellipse((middle + 20, top + 60, middle + 40, top + 80), fill=(40, 40, 40))


def _stroller(draw, colour, box):
    left, top, right, bottom = box
    draw.pieslice((left, top, right - 60, bottom - 100), 180, 360, fill=colour)
    draw.rectangle((left, (top + bottom) / 2 - 50, right - 60, (top + bottom) / 2 + 40), fill=colour)
    draw.line((right - 60, (top + bottom) / 2, right, top + 40), fill=colour, width=12)
    for x in (left + 50, right - 110):
        draw.ellipse((x - 45, bottom - 100, x + 45, bottom - 10), outline=colour, width=14)


def _bottle(draw, colour, box):
    left, top, right, bottom = box
    middle = (left + right) / 2
    draw.rounded_rectangle((middle - 80, top + 120, middle + 80, bottom), radius=40, fill=colour)
    draw.rectangle((middle - 60, top + 70, middle + 60, top + 130), fill=(220, 220, 220))
    draw.ellipse((middle - 30, top, middle + 30, top + 90), fill=(240, 210, 170))


def _book(draw, colour, box):
    left, top, right, bottom = box
    draw.rectangle((left, top, right, bottom), fill=colour)
    draw.rectangle((left, top, left + 24, bottom), fill=tuple(max(0, channel - 40) for channel in colour))
    draw.ellipse((left + 90, top + 90, right - 60, top + 260), fill=(255, 236, 160))


SHAPES = {
    "bag": _bag,
    "luxury_bag": _bag,
    "dress": _dress,
    "coat": _coat,
    "top": _top,
    "knit": _top,
    "trousers": _trousers,
    "shoe": _shoe,
    "scarf": _scarf,
    "jewellery": _jewellery,
    "watch": _watch,
    "baby_clothes": _top,
    "toy": _toy,
    "stroller": _stroller,
    "feeding": _bottle,
    "book": _book,
}


def _wrap(draw, text: str, font, width: int) -> list[str]:
    """Break a title into lines that fit (Chinese has no spaces: break anywhere)."""
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=font) > width and line:
            lines.append(line)
            line = char.lstrip()
        else:
            line += char
    if line:
        lines.append(line)
    return lines[:3]


@lru_cache(maxsize=256)
def product_photo(title: str, family: str, kind: str = "flat") -> bytes:
    """A 600×800 JPEG of an item: its family's silhouette, the kind of shot and the title."""
    background, colour = PALETTE.get(family, PALETTE["top"])
    image = Image.new("RGB", (WIDTH, HEIGHT), background)
    draw = ImageDraw.Draw(image)
    # A detail or evidence shot is a close-up: the same drawing, larger and off-centre.
    box = (40, 100, 560, 600) if kind in {"detail", "authentication", "defect", "evidence"} else (150, 170, 450, 560)
    SHAPES.get(family, _top)(draw, colour, box)
    if kind == "authentication":
        # A loupe over the detail: what the authenticator looked at.
        draw.ellipse((330, 230, 500, 400), outline=(43, 35, 38), width=10)
        draw.line((485, 385, 560, 460), fill=(43, 35, 38), width=18)
    if kind in {"defect", "evidence"}:
        draw.ellipse((260, 300, 380, 420), outline=(200, 40, 40), width=8)
    if kind == "on_body":
        # A figure's head and shoulders behind the garment.
        draw.rectangle((288, 120, 312, 180), fill=(226, 196, 176))
        draw.ellipse((265, 60, 335, 140), fill=(226, 196, 176))
    font = _font(30)
    small = _font(22)
    draw.rectangle((0, HEIGHT - 190, WIDTH, HEIGHT), fill=(255, 255, 255))
    if font is not None:
        y = HEIGHT - 170
        for line in _wrap(draw, title, font, WIDTH - 60):
            draw.text((30, y), line, font=font, fill=(43, 35, 38))
            y += 42
        label = KIND_LABELS.get(kind, kind)
        draw.rounded_rectangle((WIDTH - 150, 24, WIDTH - 24, 66), radius=20, fill=(255, 255, 255))
        draw.text((WIDTH - 87, 45), label, font=small, fill=(142, 52, 73), anchor="mm")
        if kind not in MEMBER_KINDS:
            draw.text((30, 30), "二货 · 平台实拍", font=small, fill=colour)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=82)
    return output.getvalue()


# --- documents: ID cards, transfer receipts, evidence -------------------------

ID_CARD_SIZE = (856, 540)  # the ID-1 card's proportions (85.6 × 54 mm)


def _placeholder(draw, x: int, y: int, width: int, shade=(196, 200, 206)) -> None:
    """A grey bar where a real card has its printed value: the demo never draws a real identity."""
    draw.rounded_rectangle((x, y, x + width, y + 26), radius=6, fill=shade)


@lru_cache(maxsize=32)
def id_card_photo(side: str, variant: int = 0, *, unreadable: bool = False) -> bytes:
    """A JPEG 'photo' of a resident ID card: the layout and labels, grey placeholders instead of the values.

    `side` is "front" (the portrait side: 姓名, 性别, 出生, 住址, 公民身份号码) or "back" (the
    national emblem side). `variant` tilts and tints it a little, as phone photos differ.
    `unreadable` adds the glare and blur that make a reviewer ask for a new photo.
    """
    from PIL import ImageFilter

    card_w, card_h = ID_CARD_SIZE
    table = (92 + variant * 7 % 30, 86 + variant * 5 % 24, 78 + variant * 3 % 20)
    photo = Image.new("RGB", (card_w + 120, card_h + 120), table)
    card = Image.new("RGB", (card_w, card_h), (236, 240, 238))
    draw = ImageDraw.Draw(card)
    for row in range(0, card_h, 6):  # the card's fine guilloche pattern, as a pale wave of lines
        tint = (226, 233, 232) if (row // 6) % 2 else (232, 238, 236)
        draw.line((0, row, card_w, row + 4), fill=tint, width=3)
    font, small, big = _font(30), _font(24), _font(38)
    ink, label = (40, 44, 52), (70, 110, 150)
    if side == "front":
        rows = (("姓名", 110, 62), ("性别", 120, 126), ("出生", 260, 180), ("住址", 330, 236))
        for text, width, y in rows:
            if font is not None:
                draw.text((48, y), text, font=small, fill=label)
            _placeholder(draw, 120, y + 2, width)
        _placeholder(draw, 120, y + 44, 300)
        _placeholder(draw, 340, 128, 70)
        if font is not None:
            draw.text((270, 126), "民族", font=small, fill=label)
            draw.text((48, 430), "公民身份号码", font=small, fill=label)
        _placeholder(draw, 230, 428, 440, shade=(186, 190, 198))
        # The portrait: a soft silhouette in a frame.
        draw.rectangle((590, 70, 800, 330), fill=(226, 230, 232))
        draw.ellipse((640, 100, 750, 220), fill=(200, 204, 210))
        draw.pieslice((600, 210, 790, 420), 180, 360, fill=(200, 204, 210))
    else:
        draw.ellipse((60, 50, 210, 200), outline=(200, 60, 60), width=10)
        draw.regular_polygon((135, 125, 42), 5, fill=(214, 170, 60))
        if big is not None:
            draw.text((260, 80), "中华人民共和国", font=big, fill=ink)
            draw.text((260, 150), "居民身份证", font=_font(54) or big, fill=ink)
        if small is not None:
            draw.text((170, 380), "签发机关", font=small, fill=label)
            draw.text((170, 440), "有效期限", font=small, fill=label)
        _placeholder(draw, 300, 378, 300)
        _placeholder(draw, 300, 438, 330)
    if small is not None:
        # Never mistaken for a real document.
        draw.text((card_w - 300, card_h - 44), "二货演示 · 非真实证件", font=small, fill=(190, 70, 90))
    card = card.rotate((variant % 5 - 2) * 0.8, expand=True, fillcolor=table)
    photo.paste(card, (60 - (card.width - card_w) // 2, 60 - (card.height - card_h) // 2))
    if unreadable:
        glare = Image.new("RGB", photo.size, (255, 255, 255))
        mask = Image.new("L", photo.size, 0)
        ImageDraw.Draw(mask).ellipse((120, 60, 720, 520), fill=170)
        photo = Image.composite(glare, photo, mask.filter(ImageFilter.GaussianBlur(60)))
        photo = photo.filter(ImageFilter.GaussianBlur(4))
    output = io.BytesIO()
    photo.save(output, format="JPEG", quality=85)
    return output.getvalue()


@lru_cache(maxsize=64)
def screenshot(title: str, lines: tuple[str, ...], *, accent=(22, 119, 255), image_format: str = "JPEG") -> bytes:
    """A phone screenshot (750 × 1334, JPEG or PNG): a coloured header with `title`, then one line of text per row.

    For a bank or Alipay transfer receipt a member uploads as proof, or the
    parcel tracking page customer service keeps as evidence.
    """
    image = Image.new("RGB", (750, 1334), (245, 246, 248))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 750, 150), fill=accent)
    font, small = _font(34), _font(28)
    if font is not None:
        draw.text((375, 100), title, font=font, fill=(255, 255, 255), anchor="mm")
    draw.rounded_rectangle((30, 190, 720, 230 + 76 * len(lines)), radius=18, fill=(255, 255, 255))
    y = 220
    for line in lines:
        if small is not None:
            draw.text((60, y), line, font=small, fill=(43, 35, 38))
        y += 76
    output = io.BytesIO()
    if image_format == "PNG":
        # A phone saves its screenshots as PNG; a palette keeps the file small.
        image.quantize(colors=64).save(output, format="PNG", optimize=True)
    else:
        image.save(output, format="JPEG", quality=82)
    return output.getvalue()
