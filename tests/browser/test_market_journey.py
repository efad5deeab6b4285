"""Issue 5, done when: two members claim one item, the first buys it through checkout, the sandbox, the
warehouse and her confirmation, the seller is paid out, and the books balance with escrow at zero.

Everything happens in the browser, each person in a phone browser of her own:
two members open the same listed item; A claims it (接龙) and holds the
reservation, B claims a moment later and queues behind her. A adds an
address, checks out from her claims and pays in the sandbox; B, still in
line, finds nothing to check out, sees her place end when the item sells,
and a claim from a page she left open is refused. The warehouse packs,
ships (carrier and tracking number) and marks the order delivered; A
confirms receipt and the order completes. Finance creates a payout batch
holding the seller's share and confirms the transfer; the seller reads the
sale's frozen breakdown and the payout. Only the users and the starting
listed item (with its photo and care records) are made in the database.

The same run takes the phone-sized screenshots of these pages for the
operator guide (docs/img/market-*.png), overwriting them.

Text assertions go through `zh()`: the Chinese the page shows once the
zh-hans catalogue translates a string, the English msgid until then.
"""

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone, translation
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from erhuo.accounts import roles
from erhuo.accounts.models import PersonalDataAccess
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Brand, CareStep, Category, Item, ItemPhoto
from erhuo.consignment.models import CareRecord
from erhuo.core.money import format_fen
from erhuo.ledger import reconciliation
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.models import PayoutBatch, PayoutLine
from erhuo.market.accounts import COMMISSION_INCOME, ESCROW, SERVICE_FEE_INCOME, SHIPPING_INCOME, seller_payable_code
from erhuo.market.models import Claim, Order
from erhuo.market.services.orders import shipping_fee_fen
from erhuo.market.tests.factories import listed_item
from erhuo.payments.models import Payment, Provider
from erhuo.pricing import fees
from erhuo.trust.tests.factories import make_verified_seller

from .helpers import DOCS_IMG, at_path, log_in, scroll_to, shoot, submit, success, zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = Order.Status

PRICE_FEN = 26_800  # under the free-shipping threshold: the order carries one shipping fee
CARE = (CareStep.INSPECT_CLEAN, CareStep.LEATHER_CARE)
TITLE = "COACH 焦糖色托特包"
NOTE = "工作日白天请放快递柜，谢谢"
CARRIER = "顺丰速运"
TRACKING = "SF1427750392611"
TRANSFER_REFERENCE = "ALIPAY-20261204-0042"


@pytest.fixture(autouse=True)
def _market_settings(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    settings.ERHUO_CLAIM_PAYMENT_MINUTES = 30
    settings.ERHUO_SHIPPING_FEE_FEN = 1_000
    settings.ERHUO_FREE_SHIPPING_FROM_FEN = 29_900


@pytest.fixture
def catalog(catalog_reference_data):
    """The seeded categories and brands (see the root conftest)."""


# --- the item's photo ------------------------------------------------------------------------------


def _tote_bag() -> bytes:
    """A 600 × 600 flat-lay of a caramel tote bag with two handles."""
    image = Image.new("RGB", (600, 600), (246, 240, 236))
    draw = ImageDraw.Draw(image)
    for left in (170, 330):
        draw.arc((left, 90, left + 110, 260), 180, 360, fill=(92, 58, 36), width=14)
    draw.polygon([(110, 200), (490, 200), (530, 530), (70, 530)], fill=(176, 112, 62))
    draw.rectangle((70, 505, 530, 530), fill=(150, 92, 48))
    draw.rectangle((270, 300, 330, 330), fill=(214, 178, 98))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _item_on_sale(seller, clerk) -> Item:
    """A tote the warehouse received, cleaned and photographed, listed at PRICE_FEN."""
    item = listed_item(
        seller=seller, price_fen=PRICE_FEN, title=TITLE, category_obj=Category.objects.get(slug="bags-tote")
    )
    Item.objects.filter(pk=item.pk).update(
        brand=Brand.objects.get(name="Coach"),
        colour="焦糖色",
        description="通勤用过一年，容量大，能放下 13 寸电脑。",
    )
    photo = ContentFile(_tote_bag(), name="tote.png")
    ItemPhoto.objects.create(item=item, kind=ItemPhoto.Kind.FLAT, image=photo, width=600, height=600, uploaded_by=clerk)
    for step in CARE:
        CareRecord.objects.create(item=item, step=step, done_by=clerk)
    item.refresh_from_db()
    return item


def _to_ops(page) -> None:
    page.get_by_test_id("tab-ops").tap()
    expect(page).to_have_url(at_path("/ops/"))


def _waiting(count: int) -> str:
    with translation.override("zh-hans"):
        return translation.ngettext("%(counter)s person waiting", "%(counter)s people waiting", count) % {
            "counter": count
        }


def _hhmm(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def test_two_members_claim_one_buys_the_warehouse_ships_and_the_seller_is_paid_out(open_page, catalog):
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    seller = make_verified_seller(display_name="林晓雨", city="杭州", phone="13877770101")
    a = UserFactory(roles=[roles.MEMBER], display_name="陈美玲", city="上海", phone="13877770202")
    b = UserFactory(roles=[roles.MEMBER], display_name="王佳怡", city="苏州", phone="13877770303")
    clerk = UserFactory(roles=[roles.INTAKE_CLERK], display_name="入库李师傅", phone="13877770404")
    finance = UserFactory(roles=[roles.FINANCE], display_name="财务周姐", phone="13877770505")
    item = _item_on_sale(seller, clerk)
    item_path = f"/items/{item.pk}/"
    with translation.override("zh-hans"):
        # What the order freezes: the rule in pricing.fees, with the care the warehouse did.
        expected = fees.breakdown(PRICE_FEN, care_steps=[(step.value, str(step.label)) for step in CARE])
    shipping = shipping_fee_fen(PRICE_FEN)
    total = PRICE_FEN + shipping
    assert shipping > 0
    assert expected.service_fees_fen > 0

    # === The seller sees her item on sale, with nothing to claim. ===
    seller_page = open_page("seller")
    log_in(seller_page, seller)
    seller_page.goto(item_path)
    expect(seller_page.get_by_test_id("claim-own")).to_have_text(zh("Your item"))
    expect(seller_page.get_by_test_id("claim-button")).to_have_count(0)

    # === Two members open the same item page; B also keeps it open in a second tab. ===
    a_page = open_page("a")
    log_in(a_page, a)
    b_page = open_page("b")
    log_in(b_page, b)
    b_old_tab = b_page.context.new_page()
    for page in (a_page, b_page, b_old_tab):
        page.goto(item_path)
        expect(page.locator("h1")).to_have_text(TITLE)
        expect(page.get_by_test_id("price")).to_have_text(format_fen(PRICE_FEN))
        expect(page.get_by_test_id("claim-button")).to_have_text(zh("Claim it (接龙)"))
    expect(a_page.get_by_test_id("queue-count")).to_have_count(0)
    shoot(a_page, "market-item-claim.png")

    # === A taps first: the item is reserved for her (position 0). ===
    a_page.get_by_test_id("claim-button").tap()
    expect(a_page).to_have_url(at_path(item_path))
    a_claim = Claim.objects.get(member=a)
    until = _hhmm(a_claim.reserved_until)
    success(a_page, zh("Reserved for you until %(time)s — pay to make it yours.") % {"time": until})
    expect(a_page.get_by_test_id("claim-state")).to_have_text(
        zh("Reserved for you until %(until)s: pay to make it yours.") % {"until": until}
    )
    expect(a_page.get_by_test_id("claim-button")).to_have_count(0)
    item.refresh_from_db()
    assert (a_claim.status, a_claim.seq, item.status) == (Claim.Status.RESERVED, 1, Item.Status.RESERVED)

    # === B taps the same button a moment later: she queues, first in line (position 1). ===
    b_page.get_by_test_id("claim-button").tap()
    expect(b_page).to_have_url(at_path(item_path))
    success(b_page, zh("You are number %(position)s in the queue. We tell you when it is your turn.") % {"position": 1})
    expect(b_page.get_by_test_id("claim-state")).to_have_text(
        zh("You are number %(position)s in the queue.") % {"position": 1}
    )
    expect(b_page.get_by_test_id("queue-count")).to_have_text(_waiting(1))
    b_claim = Claim.objects.get(member=b)
    assert (b_claim.status, b_claim.seq) == (Claim.Status.QUEUED, 2)

    b_page.get_by_test_id("go-claims").tap()
    expect(b_page).to_have_url(at_path("/me/claims/"))
    expect(b_page.get_by_test_id("reserved-claims")).to_have_count(0)
    queued = b_page.get_by_test_id("queued-claims").get_by_test_id("claim-row")
    expect(queued).to_have_count(1)
    expect(queued.locator(".claim-title")).to_have_text(TITLE)
    expect(queued.get_by_test_id("claim-position")).to_have_text(
        zh("Number %(position)s in the queue") % {"position": 1}
    )
    shoot(b_page, "market-claims-queued.png")

    # Nothing is hers to check out while she waits.
    b_page.goto("/checkout/")
    expect(b_page.get_by_test_id("nothing-reserved")).to_contain_text(zh("Nothing is reserved for you right now."))
    expect(b_page.get_by_test_id("checkout-form")).to_have_count(0)

    # === A opens her claims: reserved, with the time to pay by. ===
    a_page.reload()
    expect(a_page.get_by_test_id("queue-count")).to_have_text(_waiting(1))
    a_page.get_by_test_id("tab-shop").tap()
    expect(a_page).to_have_url(at_path("/shop/"))
    a_page.get_by_test_id("link-my-claims").tap()
    expect(a_page).to_have_url(at_path("/me/claims/"))
    reserved = a_page.get_by_test_id("reserved-claims").get_by_test_id("claim-row")
    expect(reserved).to_have_count(1)
    expect(reserved.locator(".claim-title")).to_have_text(TITLE)
    expect(reserved.locator(".claim-price")).to_have_text(format_fen(PRICE_FEN))
    expect(reserved.locator(".claim-clock .badge-warn")).to_have_text(zh("Pay by %(until)s") % {"until": until})
    expect(a_page.get_by_test_id("queued-claims")).to_have_count(0)
    shoot(a_page, "market-claims-reserved.png")

    # === Checkout: she has no address yet, adds one, comes back; her reservation waited. ===
    reserved.get_by_test_id("claim-checkout").tap()
    expect(a_page).to_have_url(re.compile(rf"/checkout/\?claim={a_claim.pk}$"))
    expect(a_page.get_by_test_id("no-address")).to_have_text(zh("You have no shipping address yet."))
    expect(a_page.get_by_test_id("place-order")).to_be_disabled()
    a_page.get_by_test_id("add-address").tap()
    expect(a_page).to_have_url(re.compile(r"/accounts/me/addresses/new/\?next=/checkout/%3Fclaim%3D\d+$"))
    a_page.fill("input[name=label]", "家")
    a_page.fill("input[name=recipient_name]", "陈美玲")
    a_page.fill("input[name=recipient_phone]", "13877770202")
    a_page.fill("input[name=province]", "上海市")
    a_page.fill("input[name=city]", "上海市")
    a_page.fill("input[name=district]", "静安区")
    a_page.fill("input[name=detail]", "南京西路 1266 号 2 栋 1803")
    a_page.check("input[name=is_default]")
    submit(a_page)
    # Saved, she is back at her checkout, the reservation still selected.
    expect(a_page).to_have_url(re.compile(rf"/checkout/\?claim={a_claim.pk}$"))
    success(a_page, zh("The address is saved."))
    form = a_page.get_by_test_id("checkout-form")
    expect(form.locator("input[name=claims]")).to_be_checked()
    expect(form.locator(".checkout-item .claim-title")).to_have_text(TITLE)
    expect(form.locator("input[name=address]")).to_have_count(1)
    expect(form.locator("input[name=address]")).to_be_checked()
    expect(a_page.get_by_test_id("checkout-addresses")).to_contain_text("南京西路 1266 号 2 栋 1803")
    expect(a_page.get_by_test_id("checkout-totals").locator("dd")).to_have_text(
        [format_fen(PRICE_FEN), format_fen(shipping)]
    )
    form.locator("input[name=note]").fill(NOTE)
    scroll_to(a_page, "[data-testid=checkout-addresses]")
    shoot(a_page, "market-checkout.png")
    a_page.get_by_test_id("place-order").tap()
    expect(a_page).to_have_url(re.compile(r"/orders/\d+/$"))
    order = Order.objects.get(buyer=a)
    expect(a_page).to_have_url(at_path(f"/orders/{order.pk}/"))
    success(a_page, zh("Order placed. Pay before the reservation ends to make it yours."))
    expect(a_page.get_by_test_id("order-number")).to_have_text(order.number)
    expect(a_page.get_by_test_id("order-status")).to_have_text(zh(S.PENDING_PAYMENT.label))
    expect(a_page.get_by_test_id("total-items")).to_have_text(format_fen(PRICE_FEN))
    expect(a_page.get_by_test_id("total-shipping")).to_have_text(format_fen(shipping))
    expect(a_page.get_by_test_id("total")).to_have_text(format_fen(total))
    assert (order.status, order.items_fen, order.shipping_fen, order.total_fen, order.buyer_note) == (
        S.PENDING_PAYMENT,
        PRICE_FEN,
        shipping,
        total,
        NOTE,
    )

    # === A pays in the sandbox. ===
    pay_form = a_page.get_by_test_id("pay-form")
    pay_form.locator(f'input[name=provider][value="{Provider.SANDBOX}"]').check()
    pay_button = pay_form.get_by_test_id("pay-button")
    expect(pay_button).to_have_text(zh("Pay %(amount)s") % {"amount": format_fen(total)})
    pay_button.tap()
    expect(a_page).to_have_url(re.compile(r"/pay/\d+/$"))
    payment = Payment.objects.get(payer=a)
    expect(a_page).to_have_url(at_path(f"/pay/{payment.pk}/"))
    expect(a_page.get_by_test_id("payment-amount")).to_have_text(format_fen(total))
    expect(a_page.get_by_test_id("payment-status")).to_have_text(zh(Payment.Status.PENDING.label))
    sandbox_button = a_page.get_by_test_id("sandbox-pay-button")
    expect(sandbox_button).to_have_text(zh("Pay %(amount)s in the sandbox") % {"amount": format_fen(total)})
    shoot(a_page, "market-sandbox-pay.png")
    sandbox_button.tap()
    expect(a_page).to_have_url(at_path(f"/pay/{payment.pk}/"))
    success(a_page, zh("Paid in the sandbox. Thank you!"))
    expect(a_page.get_by_test_id("payment-status")).to_have_text(zh(Payment.Status.SUCCEEDED.label))
    a_page.get_by_test_id("payment-return").tap()
    expect(a_page).to_have_url(at_path(f"/orders/{order.pk}/"))
    expect(a_page.get_by_test_id("order-status")).to_have_text(zh(S.PAID.label))
    expect(a_page.get_by_test_id("order-now")).to_contain_text(
        zh("Paid. Thank you! Your money is held safely until you confirm delivery.")
    )
    expect(a_page.get_by_test_id("pay-form")).to_have_count(0)
    shoot(a_page, "market-order-paid.png")
    order.refresh_from_db()
    payment.refresh_from_db()
    a_claim.refresh_from_db()
    item.refresh_from_db()
    assert (order.status, order.paid_fen, order.payment_id) == (S.PAID, total, payment.pk)
    assert (payment.status, a_claim.status, item.status) == (
        Payment.Status.SUCCEEDED,
        Claim.Status.PURCHASED,
        Item.Status.SOLD,
    )
    assert ledger_selectors.balance_by_code(ESCROW) == total

    # === B: the item sold, her place ended; her old tab's claim is refused. ===
    b_page.goto("/me/claims/")
    expect(b_page.get_by_test_id("queued-claims")).to_have_count(0)
    expect(b_page.get_by_test_id("no-live-claims")).to_be_visible()
    expect(b_page.get_by_test_id("ended-claims").get_by_test_id("claim-status")).to_have_text(
        zh(Claim.Status.CLOSED.label)
    )
    b_old_tab.bring_to_front()
    b_old_tab.get_by_test_id("claim-button").tap()
    expect(b_old_tab).to_have_url(at_path(item_path))
    expect(b_old_tab.locator(".message-error")).to_have_text(zh("Sorry, this item has been sold."))
    expect(b_old_tab.get_by_test_id("sale-state")).to_have_text(zh(Item.Status.SOLD.label))
    expect(b_old_tab.get_by_test_id("claim-box")).to_have_count(0)
    shoot(b_old_tab, "market-claim-refused.png")
    # A's order is nobody else's business.
    assert b_page.goto(f"/orders/{order.pk}/").status == 404
    assert list(Claim.objects.filter(member=b).values_list("status", flat=True)) == [Claim.Status.CLOSED]

    # === The warehouse packs, ships and marks it delivered. ===
    clerk_page = open_page("warehouse")
    log_in(clerk_page, clerk)
    _to_ops(clerk_page)
    clerk_page.get_by_test_id("orders-link").tap()
    expect(clerk_page).to_have_url(at_path("/ops/orders/"))
    to_send = clerk_page.get_by_test_id(f"count-{S.PAID}")
    expect(to_send).to_have_attribute("data-count", "1")
    to_send.tap()
    expect(clerk_page).to_have_url(re.compile(rf"/ops/orders/\?status={S.PAID}$"))
    row = clerk_page.locator(f'[data-testid=order][data-order="{order.pk}"]')
    expect(clerk_page.get_by_test_id("order")).to_have_count(1)
    row.locator(".sales-order-number").tap()
    order_path = f"/ops/orders/{order.pk}/"
    expect(clerk_page).to_have_url(at_path(order_path))
    expect(clerk_page.get_by_test_id("order-number")).to_have_text(order.number)
    expect(clerk_page.get_by_test_id("order-total")).to_have_text(format_fen(total))
    address = clerk_page.get_by_test_id("address")
    expect(address).to_have_attribute("data-unmasked", "1")
    expect(address).to_contain_text("南京西路 1266 号 2 栋 1803")
    line = clerk_page.get_by_test_id("line")
    expect(line).to_have_count(1)
    expect(line.get_by_test_id("seller-net")).to_have_text(format_fen(expected.seller_net_fen))
    shoot(clerk_page, "market-staff-order.png")

    clerk_page.get_by_test_id("pack").tap()
    expect(clerk_page).to_have_url(at_path(order_path))
    success(clerk_page, zh("Order %(number)s is packed.") % {"number": order.number})
    ship_form = clerk_page.locator(f"form[action='{order_path}ship/']")
    ship_form.locator(f"input[name=s{order.pk}-carrier]").fill(CARRIER)
    ship_form.locator(f"input[name=s{order.pk}-tracking_number]").fill(TRACKING)
    ship_form.get_by_test_id("ship").tap()
    expect(clerk_page).to_have_url(at_path(order_path))
    success(clerk_page, zh("Order %(number)s is shipped.") % {"number": order.number})
    # Shipped: the address is masked again.
    expect(clerk_page.get_by_test_id("address")).not_to_have_attribute("data-unmasked", "1")
    expect(clerk_page.get_by_test_id("address")).not_to_contain_text("南京西路 1266 号 2 栋 1803")
    clerk_page.get_by_test_id("deliver").tap()
    expect(clerk_page).to_have_url(at_path(order_path))
    success(
        clerk_page,
        zh("Order %(number)s is delivered; it completes when the buyer confirms or her return window ends.")
        % {"number": order.number},
    )
    expect(clerk_page.get_by_test_id("order-actions")).to_have_count(0)
    expect(clerk_page.get_by_test_id("timeline").locator("li")).to_have_count(5)
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (S.DELIVERED, CARRIER, TRACKING)
    looks = PersonalDataAccess.objects.filter(subject=a, actor=clerk)
    assert looks.exists()
    assert set(looks.values_list("reason", flat=True)) == {PersonalDataAccess.Reason.ORDER_SUPPORT}

    # === A confirms receipt: the order completes. ===
    a_page.get_by_test_id("tab-shop").tap()
    a_page.get_by_test_id("link-my-orders").tap()
    expect(a_page).to_have_url(at_path("/me/orders/"))
    a_page.locator(f"a[href='/orders/{order.pk}/']").first.tap()
    expect(a_page).to_have_url(at_path(f"/orders/{order.pk}/"))
    expect(a_page.get_by_test_id("order-status")).to_have_text(zh(S.DELIVERED.label))
    expect(a_page.get_by_test_id("order-now")).to_contain_text(zh("Delivered. Check everything, then confirm receipt."))
    a_page.get_by_test_id("confirm-button").tap()
    expect(a_page).to_have_url(at_path(f"/orders/{order.pk}/"))
    success(a_page, zh("Thank you! The order is complete and the seller is paid."))
    expect(a_page.get_by_test_id("order-status")).to_have_text(zh(S.COMPLETED.label))
    expect(a_page.get_by_test_id("confirm-form")).to_have_count(0)
    # Confirming ended her return window: no return, and no date that suggests otherwise.
    expect(a_page.get_by_test_id("return-new")).to_have_count(0)
    expect(a_page.locator(".order-line-actions")).to_have_text(zh("Post a buyer show"))
    shoot(a_page, "market-order-completed.png")
    order.refresh_from_db()
    assert order.status == S.COMPLETED
    assert ledger_selectors.balance_by_code(ESCROW) == 0
    assert ledger_selectors.balance_by_code(seller_payable_code(seller.pk)) == expected.seller_net_fen

    # === Finance pays the seller out in a batch and confirms the transfer. ===
    finance_page = open_page("finance")
    log_in(finance_page, finance)
    _to_ops(finance_page)
    finance_page.get_by_test_id("payouts-link").tap()
    expect(finance_page).to_have_url(at_path("/ops/payouts/"))
    preview = finance_page.get_by_test_id("preview-line")
    expect(preview).to_have_count(1)
    expect(preview).to_have_attribute("data-account", seller_payable_code(seller.pk))
    expect(preview.locator("td").first).to_contain_text(seller.display_name)
    expect(preview.locator("td.num")).to_have_text(format_fen(expected.seller_net_fen))
    shoot(finance_page, "market-payouts.png")
    finance_page.get_by_test_id("create-batch").tap()
    expect(finance_page).to_have_url(re.compile(r"/ops/payouts/\d+/$"))
    batch = PayoutBatch.objects.get()
    expect(finance_page).to_have_url(at_path(f"/ops/payouts/{batch.pk}/"))
    success(
        finance_page,
        zh("Payout batch #%(id)s created: transfer each line, then confirm it with the bank's reference.")
        % {"id": batch.pk},
    )
    expect(finance_page.get_by_test_id("batch-pending")).to_have_text(format_fen(expected.seller_net_fen))
    paid_form = finance_page.get_by_test_id("batch-paid-form")
    paid_form.locator("input[name=batch-reference]").fill(TRANSFER_REFERENCE)
    paid_form.get_by_test_id("batch-paid").tap()
    expect(finance_page).to_have_url(at_path(f"/ops/payouts/{batch.pk}/"))
    success(finance_page, zh("Every pending payout of batch #%(id)s is confirmed paid.") % {"id": batch.pk})
    expect(finance_page.get_by_test_id("batch-pending")).to_have_text(format_fen(0))
    expect(finance_page.get_by_test_id("payout-line")).to_have_attribute("data-status", PayoutLine.Status.PAID)
    payout = PayoutLine.objects.get()
    assert (payout.payee_id, payout.amount_fen, payout.status, payout.reference) == (
        seller.pk,
        expected.seller_net_fen,
        PayoutLine.Status.PAID,
        TRANSFER_REFERENCE,
    )

    # === The seller reads her sale: the frozen breakdown, and the payout that carried it. ===
    seller_page.get_by_test_id("tab-sell").tap()
    expect(seller_page).to_have_url(at_path("/sell/"))
    seller_page.get_by_test_id("my-sales").tap()
    expect(seller_page).to_have_url(at_path("/sell/sales/"))
    expect(seller_page.get_by_test_id("earned")).to_have_text(format_fen(expected.seller_net_fen))
    expect(seller_page.get_by_test_id("payable")).to_have_text(format_fen(0))
    expect(seller_page.get_by_test_id("sold-count")).to_have_text("1")
    sale = seller_page.get_by_test_id("sale")
    expect(sale).to_have_count(1)
    expect(sale.get_by_test_id("seller-net")).to_have_text(format_fen(expected.seller_net_fen))
    payout_row = seller_page.get_by_test_id("payout")
    expect(payout_row).to_have_count(1)
    expect(payout_row.get_by_test_id("payout-status")).to_contain_text(zh(PayoutLine.Status.PAID.label))
    expect(payout_row.get_by_test_id("payout-amount")).to_have_text(format_fen(expected.seller_net_fen))
    expect(payout_row).to_contain_text(TRANSFER_REFERENCE)
    scroll_to(seller_page, "[data-testid=sales]")
    shoot(seller_page, "market-sales.png")

    sale.locator(".sales-sale-title").tap()
    line_pk = order.lines.get().pk
    expect(seller_page).to_have_url(at_path(f"/sell/sales/{line_pk}/"))
    expect(seller_page.get_by_test_id("sale-title")).to_have_text(TITLE)
    breakdown = seller_page.get_by_test_id("breakdown")
    expect(breakdown.locator("tbody th")).to_have_text(
        [
            zh("Sale price"),
            zh("Commission (%(rate)s)") % {"rate": expected.commission_percent},
            *[fee.label for fee in expected.service_fees],
        ]
    )
    expect(breakdown.locator("tbody td")).to_have_text(
        [
            format_fen(PRICE_FEN),
            f"−{format_fen(expected.commission_fen)}",
            *[f"−{format_fen(fee.amount_fen)}" for fee in expected.service_fees],
        ]
    )
    expect(breakdown.get_by_test_id("seller-net")).to_have_text(format_fen(expected.seller_net_fen))
    expect(seller_page.get_by_test_id("payout-line")).to_contain_text(format_fen(expected.seller_net_fen))
    expect(seller_page.get_by_test_id("payout-line")).to_contain_text(TRANSFER_REFERENCE)
    expect(seller_page.get_by_test_id("region")).to_have_text(order.region)
    html = seller_page.content()
    for personal in ("陈美玲", "13877770202", "南京西路"):
        assert personal not in html, personal
    shoot(seller_page, "market-sale.png")

    # === The books: the order completed, every entry balanced, escrow empty, every check clean. ===
    order.refresh_from_db()
    item.refresh_from_db()
    assert (order.status, order.paid_fen, order.refunded_fen) == (S.COMPLETED, total, 0)
    assert item.status == Item.Status.COMPLETED
    line = order.lines.get()
    assert (line.price_fen, line.commission_fen, line.service_fees_fen, line.seller_net_fen) == (
        PRICE_FEN,
        expected.commission_fen,
        expected.service_fees_fen,
        expected.seller_net_fen,
    )
    assert line.breakdown == expected.as_dict()
    assert ledger_selectors.ledger_problems() == []
    assert [(result.name, result.problems) for result in reconciliation.run_all() if not result.ok] == []
    assert {result.name for result in reconciliation.run_all()} >= {"ledger", "payouts", "orders"}
    assert ledger_selectors.balance_by_code(ESCROW) == 0
    assert ledger_selectors.balance_by_code(seller_payable_code(seller.pk)) == 0
    assert ledger_selectors.balance_by_code(COMMISSION_INCOME) == expected.commission_fen
    assert ledger_selectors.balance_by_code(SERVICE_FEE_INCOME) == expected.service_fees_fen
    assert ledger_selectors.balance_by_code(SHIPPING_INCOME) == shipping
    assert list(order.transitions.values_list("to_state", flat=True)) == [
        S.PENDING_PAYMENT,
        S.PAID,
        S.PACKED,
        S.SHIPPED,
        S.DELIVERED,
        S.COMPLETED,
    ]

    for name in (
        "market-item-claim",
        "market-claims-queued",
        "market-claims-reserved",
        "market-checkout",
        "market-sandbox-pay",
        "market-order-paid",
        "market-claim-refused",
        "market-staff-order",
        "market-order-completed",
        "market-payouts",
        "market-sales",
        "market-sale",
    ):
        assert (DOCS_IMG / f"{name}.png").stat().st_size > 0
