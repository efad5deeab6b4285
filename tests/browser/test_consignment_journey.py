"""Issue 3, done when: a seller consigns three items and follows them, step by step, until they are listed.

Everything happens in the browser: the seller submits a batch with photos
from her phone, five operators (one per role, each in a browser of her own)
work the station queues, the seller answers the price proposals, and anyone
can then read the public item pages and the bag's authentication report.
Only the users are made directly in the database.

The same run takes the phone-sized screenshots of the consignment pages for
the operator guide (docs/img/), overwriting them.

Text assertions go through `zh()`: the Chinese the page shows once the
zh-hans catalogue translates a string, the English msgid until then.
"""

import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import CareStep, Grade, Item, ItemPhoto
from erhuo.consignment.models import AuthenticationReport, Consignment, IntakeBatch, Station
from erhuo.consignment.tests.factories import make_seller
from erhuo.core.money import format_fen
from erhuo.pricing.rules import suggest_price

from .helpers import DOCS_IMG, at_path, log_in, scroll_to, shoot, success, zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = Item.Status
# The seller's item page polls its timeline every 10 s.
POLL_WAIT_MS = 15_000

BAG = "LV Neverfull 中号托特包"
TOY = "费雪 安抚小海马"
TOP = "真丝衬衫 米白 M"
# The pricing rule's suggestion (its age factor follows the calendar): ¥4,030.00 in 2026.
BAG_PRICE_FEN = suggest_price(
    original_price_fen=1_400_000, declared_value_fen=800_000, brand_tier="luxury", grade="A", purchase_year=2021
).fair_fen
TOY_PRICE_FEN = 16_000  # declared ¥200, no original price, grade A: × 0.80
TOP_PRICE_FEN = 25_800  # typed by the pricing team
BAG_FLOOR_FEN = 300_000  # below the bag's price whatever its age (the age factor stops at 0.50)


# --- pictures a phone would take ------------------------------------------------------


def _picture(path: Path, shape: str, colour) -> Path:
    """A 600 × 600 PNG of a simple object on a light background, so the pages look like they would."""
    image = Image.new("RGB", (600, 600), (246, 240, 236))
    draw = ImageDraw.Draw(image)
    if shape == "bag":
        draw.arc((200, 90, 400, 290), 180, 360, fill=(92, 58, 36), width=18)
        draw.polygon([(140, 200), (460, 200), (500, 500), (100, 500)], fill=colour)
        draw.rectangle((270, 260, 330, 300), fill=(214, 178, 98))
    elif shape == "toy":
        draw.ellipse((170, 120, 430, 420), fill=colour)
        draw.ellipse((230, 200, 260, 230), fill=(40, 40, 40))
        draw.ellipse((340, 200, 370, 230), fill=(40, 40, 40))
        draw.ellipse((240, 420, 360, 520), fill=colour)
    else:  # a top, flat or on a dress form
        draw.polygon(
            [
                (210, 110),
                (390, 110),
                (520, 200),
                (470, 270),
                (420, 240),
                (420, 520),
                (180, 520),
                (180, 240),
                (130, 270),
                (80, 200),
            ],
            fill=colour,
        )
        draw.ellipse((255, 95, 345, 150), fill=(246, 240, 236))
    image.save(path, format="PNG")
    return path


@pytest.fixture
def catalog(catalog_reference_data):
    """The seeded categories and brands (see the root conftest)."""


def _status(status: str) -> str:
    return zh(Item.Status(status).label)


# --- operator pages -----------------------------------------------------------------------


def _to_board(page) -> None:
    """From anywhere: the operations tab, then the station board."""
    page.get_by_test_id("tab-ops").tap()
    expect(page).to_have_url(at_path("/ops/"))
    page.get_by_test_id("station-board-link").tap()
    expect(page).to_have_url(at_path("/ops/stations/"))


def _to_queue(page, station: str, count: int) -> None:
    _to_board(page)
    page.locator(f'a.station-card[data-station="{station}"]').tap()
    expect(page).to_have_url(at_path(f"/ops/stations/{station}/"))
    expect(page.locator(".queue-row")).to_have_count(count)


def _back_to_queue(page, station: str, count: int) -> None:
    """From a work page: the Stations crumb, then the station's card."""
    page.locator('nav.crumbs a[href="/ops/stations/"]').tap()
    expect(page).to_have_url(at_path("/ops/stations/"))
    page.locator(f'a.station-card[data-station="{station}"]').tap()
    expect(page).to_have_url(at_path(f"/ops/stations/{station}/"))
    expect(page.locator(".queue-row")).to_have_count(count)


def _open_item(page, item) -> None:
    """From a station queue, an item's work page."""
    page.locator(f'.queue-row[data-item="{item.pk}"] a.queue-link').tap()
    expect(page).to_have_url(at_path(f"/ops/items/{item.pk}/"))
    expect(page.get_by_test_id("item-title")).to_have_text(item.title)


def _work_status(page, status: str) -> None:
    chip = page.get_by_test_id("item-status")
    expect(chip).to_have_attribute("data-status", status)
    expect(chip).to_have_text(_status(status))


def _care_record(page, step: str, *, note: str = "", photo: Path | None = None) -> None:
    form = page.get_by_test_id(f"form-care-{step}")
    if note:
        form.locator("input[name=note]").fill(note)
    if photo is not None:
        form.locator("input[name=photo]").set_input_files(photo)
    form.locator("button[type=submit]").tap()
    success(page, zh("Recorded: %(step)s.") % {"step": zh(CareStep(step).label)})
    expect(page.locator(f'.care-step.is-done[data-step="{step}"]')).to_have_count(1)


def _care_complete(page) -> None:
    page.get_by_test_id("form-care-complete").locator("button[type=submit]").tap()
    success(page, zh("Care complete; on to photography."))
    _work_status(page, S.CARED)


# --- the seller's pages ---------------------------------------------------------------------


def _fill_item(page, index: int, *, title, category, declared_value, grade, photos, **optional) -> None:
    block = page.locator("[data-item-block]").nth(index)
    expect(block.locator("[data-item-number]")).to_have_text(str(index + 1))
    name = f"items-{index}-"
    block.locator(f'input[name="{name}title"]').fill(title)
    block.locator(f'select[name="{name}category"]').select_option(label=category)
    if "brand" in optional:
        block.locator(f'select[name="{name}brand"]').select_option(label=optional["brand"])
    for field in ("size", "colour", "original_price", "purchase_year"):
        if field in optional:
            block.locator(f'input[name="{name}{field}"]').fill(str(optional[field]))
    block.locator(f'input[name="{name}declared_value"]').fill(declared_value)
    block.locator(f'input[name="{name}declared_grade"][value="{grade}"]').check()
    block.locator(f'input[name="{name}photos"]').set_input_files(photos)
    # Baby goods and luxury bags must come to the warehouse; the page says so as soon as the category is chosen.
    if category in ("奢侈品包袋", "玩具"):
        expect(block.locator("[data-self-ship-hint]")).to_have_text(
            zh("In this category every item comes to our warehouse.")
        )


def _seller_row(page, item):
    return page.locator(f'[data-testid="item-row"][data-item-id="{item.pk}"]')


def _timeline(page):
    return page.get_by_test_id("timeline").get_by_test_id("step")


def _seller_sees(page, item, status: str, steps: int) -> None:
    """Her item page, reloaded: the newest step on top, and the item's status."""
    page.goto(f"/consign/items/{item.pk}/")
    expect(_timeline(page)).to_have_count(steps)
    newest = _timeline(page).first
    expect(newest).to_have_attribute("data-to", status)
    expect(newest.locator(".consign-step-status")).to_have_text(_status(status))
    expect(page.locator("#item-now").get_by_test_id("item-status")).to_have_text(_status(status))


def _accept_price(page, item, price_fen: int, *, floor: str = "") -> None:
    page.goto(f"/consign/items/{item.pk}/")
    decision = page.get_by_test_id("price-decision")
    expect(decision.get_by_test_id("suggested-price")).to_have_text(format_fen(price_fen))
    if floor:
        decision.locator("input[name=floor_price]").fill(floor)
    accept = decision.get_by_test_id("accept-price")
    expect(accept).to_have_text(zh("Accept %(price)s and list it") % {"price": format_fen(price_fen)})
    accept.tap()
    expect(page).to_have_url(at_path(f"/consign/items/{item.pk}/"))
    success(page, zh("Thank you: the item is listed at the price you accepted."))
    expect(page.locator("#item-now").get_by_test_id("item-status")).to_have_text(_status(S.LISTED))
    expect(page.get_by_test_id("price-decision")).to_have_count(0)


PLATFORM_PATH = [
    S.SUBMITTED,
    S.ACCEPTED,
    S.IN_TRANSIT,
    S.RECEIVED,
    S.GRADED,
    S.AUTHENTICATED,
    S.CARED,
    S.PHOTOGRAPHED,
    S.PRICED,
    S.LISTED,
]


def test_a_seller_consigns_three_items_and_follows_them_until_they_are_listed(page, open_page, catalog, tmp_path):
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    seller = make_seller(display_name="林小雨", city="杭州")
    clerk = UserFactory(roles=[roles.INTAKE_CLERK], display_name="陈晓梅")
    authenticator = UserFactory(roles=[roles.AUTHENTICATOR], display_name="苏婉清")
    care = UserFactory(roles=[roles.CARE_TECHNICIAN], display_name="王佳怡")
    photographer = UserFactory(roles=[roles.PHOTOGRAPHER], display_name="赵敏")
    pricer = UserFactory(roles=[roles.COMMUNITY_MANAGER], display_name="刘芳")
    pictures = {
        name: _picture(tmp_path / f"{name}.png", shape, colour)
        for name, shape, colour in [
            ("bag-front", "bag", (139, 94, 60)),
            ("bag-back", "bag", (120, 80, 52)),
            ("toy", "toy", (120, 190, 220)),
            ("top", "top", (240, 232, 214)),
            ("bag-flat", "bag", (150, 102, 64)),
            ("toy-flat", "toy", (110, 180, 214)),
            ("top-flat", "top", (236, 226, 204)),
            ("top-on-body", "top", (228, 216, 190)),
            ("stamp", "bag", (96, 64, 40)),
            ("disinfected", "toy", (130, 200, 226)),
        ]
    }

    # === The seller submits a batch of three items from her phone. ===
    seller_page = page
    log_in(seller_page, seller)
    seller_page.get_by_test_id("tab-sell").tap()
    expect(seller_page).to_have_url(at_path("/sell/"))
    seller_page.get_by_test_id("my-consignments").tap()
    expect(seller_page).to_have_url(at_path("/consign/"))
    expect(seller_page.locator("h1")).to_have_text(zh("My consignments"))
    seller_page.get_by_test_id("new-batch").tap()
    expect(seller_page).to_have_url(at_path("/consign/new/"))
    expect(seller_page.locator("h1")).to_have_text(zh("Consign items"))

    _fill_item(
        seller_page,
        0,
        title=BAG,
        category="奢侈品包袋",
        brand="Louis Vuitton 路易威登",
        colour="老花",
        declared_value="8,000",
        original_price="14000",
        purchase_year=2021,
        grade="A",
        photos=[pictures["bag-front"], pictures["bag-back"]],
    )
    scroll_to(seller_page, "[data-item-block]")
    shoot(seller_page, "consign-new.png")
    seller_page.get_by_test_id("add-item").tap()
    _fill_item(seller_page, 1, title=TOY, category="玩具", declared_value="200", grade="A", photos=[pictures["toy"]])
    seller_page.get_by_test_id("add-item").tap()
    _fill_item(
        seller_page,
        2,
        title=TOP,
        category="上衣",
        size="M",
        colour="米白",
        declared_value="300",
        grade="S",
        photos=[pictures["top"]],
    )
    expect(seller_page.locator("[data-item-block]")).to_have_count(3)
    seller_page.get_by_test_id("submit-batch").tap()
    expect(seller_page).to_have_url(re.compile(r"/consign/batches/\d+/$"))

    batch = IntakeBatch.objects.get(seller=seller)
    bag, toy, top = (Item.objects.get(seller=seller, title=title) for title in (BAG, TOY, TOP))
    items = (bag, toy, top)
    expect(seller_page).to_have_url(at_path(f"/consign/batches/{batch.pk}/"))
    success(
        seller_page,
        zh("Batch %(code)s is submitted: we pre-screen each item from its photos within 24 hours.")
        % {"code": batch.code},
    )
    assert re.fullmatch(r"B\d{6}-[A-Z2-9]{5}", batch.code)
    expect(seller_page.get_by_test_id("batch-code")).to_have_text(batch.code)
    expect(seller_page.get_by_test_id("batch-status")).to_have_text(zh(IntakeBatch.Status.SUBMITTED.label))
    expect(seller_page.get_by_test_id("shipping-slip")).to_have_count(0)
    rows = seller_page.get_by_test_id("item-row")
    expect(rows).to_have_count(3)
    for item in items:
        expect(_seller_row(seller_page, item).get_by_test_id("item-status")).to_have_text(_status(S.SUBMITTED))
    # What she typed, in the database as fen.
    assert (bag.category.name, bag.brand.name, bag.original_price_fen, bag.purchase_year) == (
        "奢侈品包袋",
        "Louis Vuitton",
        1_400_000,
        2021,
    )
    assert [Consignment.objects.get(item=item).declared_value_fen for item in items] == [800_000, 20_000, 30_000]
    assert [(toy.category.name, toy.brand), (top.category.name, top.size)] == [("玩具", None), ("上衣", "M")]
    assert [item.photos.filter(kind=ItemPhoto.Kind.SELLER).count() for item in items] == [2, 1, 1]

    # Her bag's page: one step so far, by her.
    _seller_row(seller_page, bag).locator("a").tap()
    expect(seller_page).to_have_url(at_path(f"/consign/items/{bag.pk}/"))
    expect(seller_page.locator("h1")).to_have_text(BAG)
    expect(_timeline(seller_page)).to_have_count(1)
    expect(_timeline(seller_page).first).to_have_attribute("data-to", S.SUBMITTED)
    expect(_timeline(seller_page).first.get_by_test_id("step-by")).to_have_text(zh("You"))

    # === Pre-screen: the intake clerk accepts the bag on its page, the other two in bulk. ===
    clerk_page = open_page("clerk")
    log_in(clerk_page, clerk)
    _to_board(clerk_page)
    prescreen_card = clerk_page.locator('a.station-card[data-station="prescreen"]')
    expect(prescreen_card.locator(".station-waiting strong")).to_have_text("3")
    prescreen_card.tap()
    expect(clerk_page).to_have_url(at_path("/ops/stations/prescreen/"))
    expect(clerk_page.locator(".queue-row")).to_have_count(3)
    shoot(clerk_page, "station-queue.png")
    _open_item(clerk_page, bag)
    expect(clerk_page.get_by_test_id("form-prescreen").locator(".prescreen-photos img")).to_have_count(2)
    clerk_page.get_by_test_id("form-prescreen").locator('button[name=decision][value="accept"]').tap()
    success(clerk_page, zh("Accepted: the seller can ship it."))
    _work_status(clerk_page, S.ACCEPTED)

    _back_to_queue(clerk_page, Station.PRESCREEN, 2)
    for item in (toy, top):
        clerk_page.locator(f'input[name=item_ids][value="{item.pk}"]').check()
    clerk_page.locator('button[name=bulk_action][value="accept"]').tap()
    success(clerk_page, zh("%(done)s done.") % {"done": 2})
    expect(clerk_page.get_by_test_id("queue")).to_have_count(0)
    assert [Item.objects.get(pk=item.pk).status for item in items] == [S.ACCEPTED] * 3

    _seller_sees(seller_page, bag, S.ACCEPTED, 2)
    expect(_timeline(seller_page).first.get_by_test_id("step-by")).to_have_text(
        zh(roles.ROLES[roles.INTAKE_CLERK].label)
    )

    # === The seller sees the shipping slip and marks the batch shipped. ===
    seller_page.locator(f'.consign-back a[href="/consign/batches/{batch.pk}/"]').tap()
    expect(seller_page).to_have_url(at_path(f"/consign/batches/{batch.pk}/"))
    expect(seller_page.get_by_test_id("batch-status")).to_have_text(zh(IntakeBatch.Status.SCREENED.label))
    slip = seller_page.get_by_test_id("shipping-slip")
    expect(slip.locator(".consign-slip-code")).to_have_text(batch.code)
    expect(slip.get_by_test_id("batch-qr").locator("svg")).to_have_count(1)
    expect(slip.locator("tbody tr")).to_have_count(3)
    for item in items:
        expect(slip.locator("tbody tr", has_text=item.title).locator("td").first).to_have_text(str(item.pk))
    ship = seller_page.get_by_test_id("ship-instructions")
    ship.locator("input[name$=carrier]").fill("顺丰速运")
    ship.locator("input[name$=tracking_number]").fill("SF1402668831")
    ship.locator("button[type=submit]").tap()
    success(seller_page, zh("Thank you! We will tell you when batch %(code)s arrives.") % {"code": batch.code})
    expect(seller_page.get_by_test_id("batch-status")).to_have_text(zh(IntakeBatch.Status.SHIPPED.label))
    expect(seller_page.get_by_test_id("item-status")).to_have_text([_status(S.IN_TRANSIT)] * 3)
    batch.refresh_from_db()
    assert (batch.status, batch.carrier, batch.tracking_number) == (
        IntakeBatch.Status.SHIPPED,
        "顺丰速运",
        "SF1402668831",
    )
    # She opens her bag's page and keeps it open while the parcel is received: it follows the bag live.
    _seller_row(seller_page, bag).locator("a").tap()
    expect(seller_page).to_have_url(at_path(f"/consign/items/{bag.pk}/"))
    expect(_timeline(seller_page)).to_have_count(3)
    expect(_timeline(seller_page).first).to_have_attribute("data-to", S.IN_TRANSIT)

    # === Receiving: the clerk scans the batch code, receives each item, and prints the bag's label. ===
    _to_board(clerk_page)
    clerk_page.get_by_test_id("scan-input").fill(batch.code)
    clerk_page.locator("form.scan-box button[type=submit]").tap()
    expect(clerk_page).to_have_url(at_path(f"/ops/stations/receive/?q={batch.code}"))
    expect(clerk_page.locator(".queue-row")).to_have_count(3)
    for index, item in enumerate(items):
        if index:
            _back_to_queue(clerk_page, Station.RECEIVE, 3 - index)
        _open_item(clerk_page, item)
        expect(clerk_page.get_by_test_id("label-code")).to_have_count(0)
        clerk_page.get_by_test_id("form-receive").locator("button[type=submit]").tap()
        success(clerk_page, zh("Received and labelled. Print the label and stick it on."))
        _work_status(clerk_page, S.RECEIVED)
        label_code = Consignment.objects.get(item=item).label_code
        assert re.fullmatch(r"EH\d{8}", label_code)
        expect(clerk_page.get_by_test_id("label-code")).to_have_text(label_code)
        if item is bag:
            clerk_page.get_by_test_id("print-label").tap()
            expect(clerk_page).to_have_url(at_path(f"/ops/items/{bag.pk}/label/"))
            label = clerk_page.get_by_test_id("label")
            expect(label.locator(".item-label-code")).to_have_text(label_code)
            expect(label.locator(".item-label-title")).to_have_text(BAG)
            expect(label.locator(".item-label-qr svg")).to_have_count(1)
            shoot(clerk_page, "label.png")
            clerk_page.locator(f'nav.crumbs a[href="/ops/items/{bag.pk}/"]').tap()
            expect(clerk_page).to_have_url(at_path(f"/ops/items/{bag.pk}/"))
    labels = [Consignment.objects.get(item=item).label_code for item in items]
    assert len(set(labels)) == 3
    batch.refresh_from_db()
    assert batch.status == IntakeBatch.Status.RECEIVED

    # Her page shows the new step without a reload: its timeline polls every 10 s.
    received = seller_page.locator(f'[data-testid="step"][data-to="{S.RECEIVED}"]')
    expect(received).to_be_visible(timeout=POLL_WAIT_MS)
    expect(_timeline(seller_page)).to_have_count(4)
    expect(_timeline(seller_page).first).to_have_attribute("data-to", S.RECEIVED)
    expect(received.locator(".consign-step-status")).to_have_text(_status(S.RECEIVED))
    expect(received.get_by_test_id("step-by")).to_have_text(zh(roles.ROLES[roles.INTAKE_CLERK].label))
    expect(received.locator("code")).to_have_text(labels[0])
    expect(seller_page.locator(".consign-moved")).to_contain_text(
        zh("New step: “%(status)s”.") % {"status": _status(S.RECEIVED)}
    )
    # The status and the label above the timeline are refreshed with it.
    expect(seller_page.locator("#item-now").get_by_test_id("item-status")).to_have_text(_status(S.RECEIVED))
    expect(seller_page.locator("#item-now .chip-quiet")).to_have_text(f"{zh('Label')} {labels[0]}")
    expect(seller_page).to_have_url(at_path(f"/consign/items/{bag.pk}/"))

    # === Inspection and grading, with measurements. ===
    for index, (item, grade, measurements) in enumerate(
        [
            (bag, "A", {"0": "32", "1": "17", "2": "29"}),
            (toy, "A", {}),
            (top, "S", {"0": "96", "1": "62"}),
        ]
    ):
        _back_to_queue(clerk_page, Station.GRADE, 3 - index)
        _open_item(clerk_page, item)
        form = clerk_page.get_by_test_id("form-grade")
        form.locator(f'input[name=grade][value="{grade}"]').check()
        for row, value in measurements.items():
            form.locator(f"input[name=m_val_{row}]").fill(value)
        form.locator("button[type=submit]").tap()
        success(clerk_page, zh("Graded %(grade)s.") % {"grade": grade})
        _work_status(clerk_page, S.GRADED)
    assert [Item.objects.get(pk=item.pk).grade for item in items] == ["A", "A", "S"]
    assert Item.objects.get(pk=bag.pk).measurements == {"长": "32", "宽": "17", "高": "29"}
    _seller_sees(seller_page, bag, S.GRADED, 5)
    expect(_timeline(seller_page).first.locator(".consign-step-detail")).to_have_text(
        zh("Inspected grade: %(grade)s") % {"grade": "A"}
    )

    # The board: the bag waits for authentication, the others for care; the clerk works neither.
    _to_board(clerk_page)
    for station, waiting in [(Station.AUTHENTICATE, "1"), (Station.CARE, "2"), (Station.PRESCREEN, "0")]:
        card = clerk_page.locator(f'.station-card[data-station="{station}"]')
        expect(card.locator(".station-waiting strong")).to_have_text(waiting)
    expect(clerk_page.locator(".station-card.is-disabled[data-station=authenticate]")).to_have_count(1)
    shoot(clerk_page, "stations-board.png")

    # === Authentication of the bag: checks, an evidence photo, pass. ===
    authenticator_page = open_page("authenticator")
    log_in(authenticator_page, authenticator)
    _to_queue(authenticator_page, Station.AUTHENTICATE, 1)
    _open_item(authenticator_page, bag)
    form = authenticator_page.get_by_test_id("form-authenticate")
    checks = [
        ("五金 刻印", "刻印清晰，字体与间距正确"),
        ("走线", "走线均匀，每寸针数一致"),
        ("内标", "日期码 SD2191，与产地和年份相符"),
    ]
    point_names = {"五金 刻印": 0, "走线": 1, "内标": 3}
    for point, finding in checks:
        row = point_names[point]
        expect(form.locator(f"input[name=point_{row}]")).to_have_value(point)
        form.locator(f"input[name=finding_{row}]").fill(finding)
        form.locator(f"select[name=ok_{row}]").select_option("ok")
    form.locator("input[name=photos]").set_input_files(pictures["stamp"])
    form.locator("textarea[name=notes]").fill("2021 年产 Neverfull MM，五金、走线与日期码均与正品一致。")
    form.locator('input[name=result][value="pass"]').check()
    authenticator_page.evaluate("window.scrollTo(0, 0)")
    shoot(authenticator_page, "station-item.png")
    form.locator("button[type=submit]").tap()
    success(authenticator_page, zh("Authentication passed; the report is published."))
    _work_status(authenticator_page, S.AUTHENTICATED)
    report = AuthenticationReport.objects.get(item=bag)
    assert (report.result, report.authenticator) == (AuthenticationReport.Result.PASS, authenticator)
    assert report.checks == [{"point": point, "finding": finding, "ok": True} for point, finding in checks]
    _seller_sees(seller_page, bag, S.AUTHENTICATED, 6)
    expect(_timeline(seller_page).first.get_by_test_id("step-by")).to_have_text(
        zh(roles.ROLES[roles.AUTHENTICATOR].label)
    )
    expect(_timeline(seller_page).first.locator(".consign-step-photos img")).to_have_count(1)

    # === Care: the toy is not done before it is disinfected. ===
    care_page = open_page("care")
    log_in(care_page, care)
    _to_queue(care_page, Station.CARE, 3)
    _open_item(care_page, toy)
    expect(care_page.locator(".care-step")).to_have_count(2)
    _care_record(care_page, CareStep.INSPECT_CLEAN, note="表面擦拭，无污渍")
    with care_page.expect_response(lambda response: response.request.method == "POST") as response:
        care_page.get_by_test_id("form-care-complete").locator("button[type=submit]").tap()
    assert response.value.status == 409
    expect(care_page.locator(".message-error")).to_have_text(
        zh("Care steps still missing: %(steps)s.") % {"steps": zh(CareStep.DISINFECT.label)}
    )
    expect(care_page.get_by_test_id("work")).to_have_attribute("data-error-code", "care_steps_missing")
    _work_status(care_page, S.GRADED)
    expect(care_page.locator(".item-head .chip-quiet").first).to_have_text(
        zh("at %(station)s") % {"station": zh(Station.CARE.label)}
    )
    expect(care_page.get_by_test_id(f"form-care-{CareStep.DISINFECT}")).to_be_visible()
    assert Item.objects.get(pk=toy.pk).status == S.GRADED
    assert not toy.transitions.filter(to_state=S.CARED).exists()
    assert list(toy.care_records.values_list("step", flat=True)) == [CareStep.INSPECT_CLEAN]
    _care_record(care_page, CareStep.DISINFECT, note="婴儿用品专用消毒液浸泡", photo=pictures["disinfected"])
    _care_complete(care_page)

    for item, steps in [(bag, [CareStep.INSPECT_CLEAN, CareStep.LEATHER_CARE]), (top, [CareStep.STEAM])]:
        _back_to_queue(care_page, Station.CARE, 2 if item is bag else 1)
        _open_item(care_page, item)
        for step in steps:
            _care_record(care_page, step)
        _care_complete(care_page)
    _seller_sees(seller_page, bag, S.CARED, 7)

    # === A wrong role: the photographer is refused at receiving. ===
    photographer_page = open_page("photographer")
    log_in(photographer_page, photographer)
    _to_board(photographer_page)
    expect(photographer_page.locator('.station-card.is-disabled[data-station="receive"]')).to_have_count(1)
    expect(photographer_page.locator('a[data-station="receive"]')).to_have_count(0)
    response = photographer_page.goto("/ops/stations/receive/")
    assert response.status == 403
    expect(photographer_page.get_by_test_id("error-status")).to_have_text("403")
    expect(photographer_page.get_by_test_id("error-title")).to_have_text(zh("Not allowed"))
    expect(photographer_page.get_by_test_id("error-detail")).to_have_text(
        zh("You do not have permission to open this page.")
    )

    # === Photography: flat for all, on-body for the top. ===
    for index, (item, inputs) in enumerate(
        [
            (bag, {"flat": pictures["bag-flat"]}),
            (toy, {"flat": pictures["toy-flat"]}),
            (top, {"flat": pictures["top-flat"], "on_body": pictures["top-on-body"]}),
        ]
    ):
        (_back_to_queue if index else _to_queue)(photographer_page, Station.PHOTOGRAPH, 3 - index)
        _open_item(photographer_page, item)
        form = photographer_page.get_by_test_id("form-photograph")
        for kind, picture in inputs.items():
            form.locator(f"input[name={kind}]").set_input_files(picture)
        form.locator("button[type=submit]").tap()
        success(photographer_page, zh("Photographed; on to pricing."))
        _work_status(photographer_page, S.PHOTOGRAPHED)
    assert sorted(top.photos.filter(kind__in=ItemPhoto.PUBLIC_KINDS).values_list("kind", flat=True)) == [
        ItemPhoto.Kind.FLAT,
        ItemPhoto.Kind.ON_BODY,
    ]
    _seller_sees(seller_page, bag, S.PHOTOGRAPHED, 8)

    # === Pricing: the rule's suggestion for two, the team's own price for the top. ===
    pricer_page = open_page("pricer")
    log_in(pricer_page, pricer)
    for index, (item, price_fen, typed) in enumerate(
        [(bag, BAG_PRICE_FEN, ""), (toy, TOY_PRICE_FEN, ""), (top, TOP_PRICE_FEN, "258")]
    ):
        (_back_to_queue if index else _to_queue)(pricer_page, Station.PRICE, 3 - index)
        _open_item(pricer_page, item)
        form = pricer_page.get_by_test_id("form-price")
        if not typed:
            expect(form.locator(".price-fair strong")).to_have_text(format_fen(price_fen))
        form.locator("input[name=price]").fill(typed)
        form.locator("button[type=submit]").tap()
        success(pricer_page, zh("Price proposed to the seller: %(price)s.") % {"price": format_fen(price_fen)})
        _work_status(pricer_page, S.PRICED)
    _seller_sees(seller_page, bag, S.PRICED, 9)
    expect(_timeline(seller_page).first.locator(".consign-step-detail")).to_have_text(
        zh("Suggested price %(price)s") % {"price": format_fen(BAG_PRICE_FEN)}
    )

    # === The seller accepts the three prices, the bag with a floor. ===
    _accept_price(seller_page, bag, BAG_PRICE_FEN, floor="3000")
    facts = seller_page.locator(".facts")
    expect(facts.locator("dt", has_text=zh("Your floor price")).locator("xpath=following-sibling::dd[1]")).to_have_text(
        "¥3,000.00"
    )
    _accept_price(seller_page, toy, TOY_PRICE_FEN)
    _accept_price(seller_page, top, TOP_PRICE_FEN)
    for item, price_fen, floor_fen in [(bag, BAG_PRICE_FEN, BAG_FLOOR_FEN), (toy, TOY_PRICE_FEN, None)]:
        item.refresh_from_db()
        assert (item.status, item.price_fen, item.floor_price_fen) == (S.LISTED, price_fen, floor_fen)
    top.refresh_from_db()
    assert (top.status, top.price_fen, top.floor_price_fen) == (S.LISTED, TOP_PRICE_FEN, None)

    # Every item's chain of custody, newest first, on her page; who did each step, by role.
    you, clerk_role = zh("You"), zh(roles.ROLES[roles.INTAKE_CLERK].label)
    for item in items:
        path = PLATFORM_PATH if item is bag else [s for s in PLATFORM_PATH if s != S.AUTHENTICATED]
        seller_page.goto(f"/consign/items/{item.pk}/")
        steps = _timeline(seller_page)
        expect(steps).to_have_count(len(path))
        assert [steps.nth(i).get_attribute("data-to") for i in range(len(path))] == list(reversed(path))
        expected_by = {
            S.SUBMITTED: you,
            S.ACCEPTED: clerk_role,
            S.IN_TRANSIT: you,
            S.RECEIVED: clerk_role,
            S.GRADED: clerk_role,
            S.AUTHENTICATED: zh(roles.ROLES[roles.AUTHENTICATOR].label),
            S.CARED: zh(roles.ROLES[roles.CARE_TECHNICIAN].label),
            S.PHOTOGRAPHED: zh(roles.ROLES[roles.PHOTOGRAPHER].label),
            S.PRICED: zh(roles.ROLES[roles.COMMUNITY_MANAGER].label),
            S.LISTED: you,
        }
        expect(steps.get_by_test_id("step-by")).to_have_text([expected_by[s] for s in reversed(path)])
        for operator in (clerk, authenticator, care, photographer, pricer):
            expect(seller_page.get_by_text(operator.display_name)).to_have_count(0)
    # The bag's page links to its authentication report.
    seller_page.goto(f"/consign/items/{bag.pk}/")
    expect(seller_page.get_by_test_id("authentication-report")).to_have_attribute(
        "href", f"/items/{bag.pk}/authentication/"
    )
    scroll_to(seller_page, "section:has(#custody)")
    shoot(seller_page, "consign-item.png")

    seller_page.goto(f"/consign/batches/{batch.pk}/")
    expect(seller_page.get_by_test_id("item-status")).to_have_text([_status(S.LISTED)] * 3)
    expect(seller_page.get_by_test_id("batch-status")).to_have_text(zh(IntakeBatch.Status.RECEIVED.label))

    # === Anyone can read the public pages. ===
    visitor_page = open_page("visitor")
    for item, price, kinds in [
        (bag, format_fen(BAG_PRICE_FEN), [ItemPhoto.Kind.FLAT]),
        (toy, "¥160.00", [ItemPhoto.Kind.FLAT]),
        (top, "¥258.00", [ItemPhoto.Kind.FLAT, ItemPhoto.Kind.ON_BODY]),
    ]:
        response = visitor_page.goto(f"/items/{item.pk}/")
        assert response.status == 200
        expect(visitor_page.locator("h1")).to_have_text(item.title)
        expect(visitor_page.get_by_test_id("price")).to_have_text(price)
        expect(visitor_page.get_by_test_id("seller-name")).to_have_text("林小雨")
        # The platform's own photos only, not the seller's.
        slides = visitor_page.get_by_test_id("gallery").locator(".gallery-slide")
        expect(slides).to_have_count(len(kinds))
        assert [slides.nth(i).get_attribute("data-kind") for i in range(len(kinds))] == kinds
        expect(visitor_page.get_by_test_id("report-link")).to_have_count(1 if item is bag else 0)

    visitor_page.goto(f"/items/{toy.pk}/")
    expect(visitor_page.get_by_test_id("guarantee-clean").locator(".badge-ok")).to_have_text(
        [f"✓ {zh(CareStep.INSPECT_CLEAN.label)}", f"✓ {zh(CareStep.DISINFECT.label)}"]
    )

    visitor_page.goto(f"/items/{bag.pk}/")
    expect(visitor_page.locator(".price-original s")).to_have_text("¥14,000.00")
    expect(visitor_page.get_by_test_id("grade")).to_have_text(zh(Grade.A.label))
    expect(visitor_page.get_by_test_id("measurements")).to_have_text("长 32 cm · 宽 17 cm · 高 29 cm")
    report_link = visitor_page.get_by_test_id("report-link")
    expect(report_link).to_have_text(zh("Read the authentication report"))
    shoot(visitor_page, "item-public.png")

    report_link.tap()
    expect(visitor_page).to_have_url(at_path(f"/items/{bag.pk}/authentication/"))
    expect(visitor_page.locator("h1")).to_have_text(zh("Authentication report"))
    expect(visitor_page.locator(".report-item")).to_have_text(BAG)
    expect(visitor_page.get_by_test_id("checked-by")).to_have_text(
        zh("Authenticator · staff no. J-%(number)s") % {"number": authenticator.pk}
    )
    expect(visitor_page.get_by_test_id("result")).to_contain_text(zh("Result: authentic"))
    expect(visitor_page.get_by_test_id("checks").locator("strong")).to_have_text([point for point, _f in checks])
    expect(visitor_page.get_by_test_id("evidence").locator("img")).to_have_count(1)
    expect(visitor_page.get_by_text(authenticator.display_name)).to_have_count(0)
    assert authenticator.display_name not in visitor_page.content()
    assert authenticator.username not in visitor_page.content()
    shoot(visitor_page, "authentication-report.png")

    for name in (
        "consign-new",
        "consign-item",
        "stations-board",
        "station-queue",
        "station-item",
        "label",
        "item-public",
        "authentication-report",
    ):
        assert (DOCS_IMG / f"{name}.png").stat().st_size > 0
