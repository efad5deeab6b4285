"""The demo's market (market.py, and every sale of the other demos through sales.py): claims and queues, orders
in every state with their money in the ledger, returns, buyer shows, expert commissions and payouts, what the
demo member and the demo seller find on their pages.

The demo is seeded once for this module (it takes seconds) inside a transaction that is rolled back at the
end, so other tests never see it. Tests here only read, except the page visits at the end.
"""

import re
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Sum
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.accounts import roles
from erhuo.accounts.models import User
from erhuo.catalog.models import Item, ItemTransition
from erhuo.experts.models import ExpertCommission, ReferralAttribution
from erhuo.experts.services import commission_share_fen
from erhuo.ledger import accounts as ledger_accounts
from erhuo.ledger.models import JournalEntry, PayoutBatch, PayoutLine, Posting
from erhuo.ledger.selectors import balance_by_code, balance_fen, ledger_problems
from erhuo.market import accounts as market_accounts
from erhuo.market import selectors
from erhuo.market.models import BuyerShow, Claim, Order, OrderLine, ReturnRequest
from erhuo.payments.models import Payment, Refund
from erhuo.trust import deposit_selectors
from erhuo.trust.models import DepositDeduction, SellerRecord
from erhuo.web import demo
from erhuo.web.demo import accounts as demo_accounts
from erhuo.web.demo import market as demo_market

pytestmark = pytest.mark.django_db
S = Item.Status
O = Order.Status  # noqa: E741 (the order statuses, as the models call them)
C = Claim.Status


@pytest.fixture(scope="module")
def demo_media(tmp_path_factory):
    return tmp_path_factory.mktemp("demo-media")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, demo_media):
    media = demo_media
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media / "public", ERHUO_PRIVATE_MEDIA_ROOT=media / "private"),
    ):
        # Never the development database: only a test database (in memory, or named test_*).
        name = str(connection.settings_dict["NAME"])
        assert "memory" in name or "test" in name, name
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out = StringIO()
            demo.seed(stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def db_seeded(seeded):
    return seeded


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _moms() -> list[User]:
    named = [account.username for account in demo_accounts.NAMED_ACCOUNTS]
    return list(User.objects.filter(groups__name=roles.MEMBER).exclude(username__in=named).order_by("pk")[:3])


def _item(key: str) -> Item:
    return Item.objects.get(title=demo_market.ITEMS[key][1].title)


def _order(key: str) -> Order:
    """The order of the story's item (the one line that is still live, or the last one)."""
    return OrderLine.objects.filter(item=_item(key)).select_related("order").order_by("-pk").first().order


def _claims(key: str) -> list[tuple[str, str]]:
    return list(Claim.objects.filter(item=_item(key)).order_by("seq").values_list("member__username", "status"))


# --- orders and their money ---------------------------------------------------------------------


def test_orders_in_every_state(db_seeded):
    counts = Counter(Order.objects.values_list("status", flat=True))

    assert counts == {
        O.PENDING_PAYMENT: 2,
        O.PAID: 2,
        O.PACKED: 1,
        O.SHIPPED: 2,
        O.DELIVERED: 2,
        O.COMPLETED: 61,
        O.CANCELLED: 2,
        O.REFUNDED: 6,
    }
    assert Counter(Order.objects.values_list("fulfilment", flat=True)) == {"platform": 40, "self_ship": 38}
    assert "market: 78 orders (2 pending_payment, 2 paid, 1 packed, 2 shipped, 2 delivered" in db_seeded


def test_every_item_that_sold_has_its_claim_order_payment_and_escrow_entry(db_seeded):
    sold = Item.objects.filter(pk__in=ItemTransition.objects.filter(to_state=S.SOLD).values("subject_id"))

    assert sold.count() == 74
    for item in sold:
        line = OrderLine.objects.select_related("order__payment", "claim").get(item=item, order__paid_fen__gt=0)
        order = line.order
        assert line.claim.status == C.PURCHASED and line.claim.member_id == order.buyer_id, item.title
        assert (order.payment.status, order.payment.provider) == ("succeeded", "sandbox")
        assert order.payment.amount_fen == order.paid_fen == order.total_fen
        assert order.payment.reference == order.reference
        assert JournalEntry.objects.filter(key=f"order-paid:{order.payment_id}", reference=order.reference).exists()
        # Every payment came within the claim's 30-minute window.
        assert order.paid_at - line.claim.reserved_at < timedelta(minutes=30)
        assert line.seller_net_fen == line.price_fen - line.commission_fen - line.service_fees_fen
        assert line.breakdown["seller_net_fen"] == line.seller_net_fen, item.title
    # A sold item is never left without an order: nothing is sold, packed, ... but through an order.
    for item in Item.objects.filter(status__in=[S.SOLD, S.PACKED, S.SHIPPED, S.DELIVERED, S.COMPLETED]):
        assert OrderLine.objects.filter(item=item, active=True).exists(), item.title


def test_the_books_add_up_after_seeding(db_seeded):
    assert ledger_problems() == []
    assert selectors.money_problems() == []
    out = StringIO()
    call_command("ledger_check", stdout=out)
    assert out.getvalue().endswith("The ledger balances.\n")
    out = StringIO()
    call_command("reconcile", stdout=out)  # raises on a problem
    # Every check ran and passed (its label is in the language of the moment).
    assert re.search(r"^OK +orders: ", out.getvalue(), re.MULTILINE)
    assert out.getvalue().endswith("All 3 checks pass.\n")
    assert balance_fen(ledger_accounts.clearing_account()) == 0
    held = Order.objects.filter(status__in=Order.OPEN_PAID).aggregate(paid=Sum("paid_fen"), back=Sum("refunded_fen"))
    assert balance_by_code(market_accounts.ESCROW) == held["paid"] - held["back"] == 4_792_000


def test_completed_orders_split_into_the_sellers_share_commission_fees_and_shipping(db_seeded):
    completed = Order.objects.filter(status=O.COMPLETED).prefetch_related("lines")

    assert completed.count() == 61
    for order in completed:
        entry = JournalEntry.objects.get(key=f"order-complete:{order.pk}")
        postings = Counter()
        for posting in Posting.objects.filter(entry=entry).select_related("account"):
            postings[posting.account.code] += posting.amount_fen
        assert postings[market_accounts.ESCROW] == order.paid_fen - order.refunded_fen
        by_seller = Counter()
        for line in order.lines.all():
            by_seller[market_accounts.seller_payable_code(line.seller_id)] -= line.seller_net_fen - line.refunded_fen
        if order.fulfilment == Order.Fulfilment.SELF_SHIP:
            by_seller[market_accounts.seller_payable_code(order.shipper_id)] -= order.shipping_fen
        for code, amount in by_seller.items():
            assert postings[code] == amount, order.number
        assert postings[market_accounts.COMMISSION_INCOME] == -sum(line.commission_fen for line in order.lines.all())
    assert balance_by_code(market_accounts.COMMISSION_INCOME) == 238_060
    assert balance_by_code(market_accounts.SERVICE_FEE_INCOME) == 52_500


# --- claims ----------------------------------------------------------------------------------------


def test_the_hot_item_is_reserved_with_five_members_queueing(db_seeded):
    stroller = _item("hot")
    claims = list(Claim.objects.filter(item=stroller).order_by("seq"))
    now = timezone.now()

    assert stroller.status == S.RESERVED
    assert [claim.status for claim in claims] == [C.RESERVED] + [C.QUEUED] * 5
    assert [selectors.claim_position(claim) for claim in claims] == [0, 1, 2, 3, 4, 5]
    assert claims[2].member.username == "member"
    # Listed nine minutes before the market demo ran (the suite may read it minutes later), claimed 40 seconds
    # later with a 30-minute window still running, the queue full within three minutes.
    assert now - stroller.listed_at >= timedelta(minutes=9)
    assert claims[0].reserved_until - claims[0].reserved_at == timedelta(minutes=30)
    assert claims[0].reserved_until > now
    assert claims[0].created_at - stroller.listed_at == timedelta(seconds=40)
    assert claims[-1].created_at - claims[0].created_at < timedelta(minutes=3)
    assert selectors.queue_summary(stroller)["queued"] == 5


def test_an_unpaid_reservation_expired_and_passed_to_the_next_in_line(db_seeded):
    bag = _item("handover")
    claims = list(Claim.objects.filter(item=bag).order_by("seq"))

    assert [claim.status for claim in claims] == [C.EXPIRED, C.RESERVED, C.QUEUED]
    expired, reserved, _queued = claims
    order = OrderLine.objects.get(claim=expired).order
    # The services' own words, in the language the demo was seeded in.
    assert (order.status, order.closed_reason) == (O.CANCELLED, _("Not paid within the payment window."))
    assert order.transitions.order_by("pk").last().actor is None
    # Offered at the hand-over with a fresh window (the first one ended 15 minutes ago).
    assert reserved.reserved_at > expired.reserved_until
    assert reserved.reserved_until - reserved.reserved_at == timedelta(minutes=30)
    assert reserved.reserved_until > timezone.now()
    assert reserved.transitions.order_by("pk").last().note == _("Your turn: the item is reserved for you.")


def test_withdrawn_claims_and_a_queue_closed_when_the_item_sold(db_seeded):
    assert [status for _member, status in _claims("withdrawn")] == [C.WITHDRAWN, C.WITHDRAWN, C.PURCHASED, C.CLOSED]
    assert _claims("withdrawn")[1][0] == "member"
    order = _order("withdrawn")
    assert (order.status, order.carrier) == (O.SHIPPED, "顺丰")
    assert [row.to_state for row in order.transitions.order_by("pk")] == [
        "pending_payment",
        "paid",
        "packed",
        "shipped",
    ]
    assert Counter(Claim.objects.values_list("status", flat=True)) == {
        C.PURCHASED: 74,
        C.QUEUED: 6,
        C.RESERVED: 5,
        C.WITHDRAWN: 3,
        C.EXPIRED: 1,
        C.CLOSED: 1,
    }


# --- payments waiting, cancellations, self-ship -------------------------------------------------------


def test_two_orders_wait_for_payment_one_with_a_transfer_proof_for_finance(db_seeded, demo_media, settings):
    settings.ERHUO_PRIVATE_MEDIA_ROOT = demo_media / "private"  # where the seeding stored the screenshot
    mine, transfer = _order("pending"), _order("transfer")
    now = timezone.now()

    assert (mine.buyer.username, mine.status, mine.buyer_note) == (
        "member",
        O.PENDING_PAYMENT,
        "麻烦帮忙检查一下有没有起球，谢谢～",
    )
    sandbox = Payment.objects.get(reference=mine.reference)
    assert (sandbox.provider, sandbox.status, sandbox.amount_fen) == ("sandbox", "pending", mine.total_fen)
    assert now < mine.pay_by < now + timedelta(minutes=30)
    manual = Payment.objects.get(reference=transfer.reference)
    assert (manual.provider, manual.status, manual.amount_fen) == ("manual", "submitted", transfer.total_fen)
    with manual.proof.open("rb") as proof:
        assert proof.read(8) == b"\x89PNG\r\n\x1a\n"
    assert manual.payer_note == "支付宝转账，附言写了订单号"
    assert transfer.status == O.PENDING_PAYMENT and now < transfer.pay_by


def test_cancelled_and_refunded_orders_put_their_items_back_on_sale(db_seeded):
    unpaid, refunded = _order("cancelled"), _order("refunded")

    assert (unpaid.status, unpaid.closed_reason) == (O.CANCELLED, "拍错了，想要的是米色那款，不好意思。")
    assert unpaid.transitions.order_by("pk").last().actor == unpaid.buyer
    assert not Payment.objects.filter(reference=unpaid.reference).exists()
    assert _claims("cancelled") == [(unpaid.buyer.username, C.WITHDRAWN)]
    assert (refunded.status, refunded.paid_fen, refunded.refunded_fen) == (
        O.REFUNDED,
        refunded.total_fen,
        refunded.total_fen,
    )
    refund = Refund.objects.get(payment=refunded.payment)
    assert (refund.status, refund.amount_fen) == ("succeeded", refunded.total_fen)
    assert _item("cancelled").status == _item("refunded").status == S.LISTED


def test_self_ship_orders_wait_for_their_seller_or_end_at_the_deadline(db_seeded):
    waiting, missed = _order("self_ship"), _order("missed")
    now = timezone.now()

    assert (waiting.status, waiting.shipper.username) == (O.PAID, "seller")
    assert waiting.ship_by - waiting.paid_at == timedelta(hours=48)
    assert timedelta(hours=20) <= now - waiting.paid_at < timedelta(hours=21)
    assert waiting in selectors.orders_to_ship_by(_user("seller")).filter(status=O.PAID)
    mom3 = _moms()[2]
    assert (missed.status, missed.shipper, missed.refunded_fen) == (O.REFUNDED, mom3, missed.total_fen)
    deadline = timezone.localtime(missed.ship_by).strftime("%Y-%m-%d %H:%M")
    assert missed.closed_reason == _("The seller did not ship by %(deadline)s; refunded in full.") % {
        "deadline": deadline
    }
    assert missed.transitions.order_by("pk").last().created_at - missed.ship_by == timedelta(minutes=3)
    assert _item("missed").status == S.WITHDRAWN
    record = SellerRecord.objects.get(user=mom3)
    assert (record.orders_shipped, record.orders_shipped_on_time, record.level) == (1, 0, "trusted")


# --- returns ---------------------------------------------------------------------------------------


def test_returns_in_every_outcome(db_seeded):
    returns = {request.line.item.title: request for request in ReturnRequest.objects.select_related("line__item")}
    by_key = {key: returns[demo_market.ITEMS[key][1].title] for key in demo_market.ITEMS if ITEM_RETURNS.get(key)}

    assert len(returns) == 5
    assert {key: request.status for key, request in by_key.items()} == ITEM_RETURNS
    assert {key: request.photos.count() for key, request in by_key.items()} == {
        "open_return": 2,
        "full_return": 1,
        "partial_return": 2,
        "rejected_return": 1,
        "counterfeit": 2,
    }
    assert by_key["open_return"].buyer.username == "member"
    assert _order("open_return").status == O.DELIVERED
    for key, request in by_key.items():
        if key != "open_return":
            assert request.decided_by.username == "kefu" and request.decision, key
    # Refunded in full: the price and the shipping back, the skirt back at the warehouse.
    skirt = _order("full_return")
    assert (skirt.status, skirt.refunded_fen) == (O.REFUNDED, skirt.paid_fen)
    assert _item("full_return").status == S.RECEIVED
    # Partly refunded: ¥120 out of the seller's share; the buyer kept it and confirmed.
    tote = _order("partial_return")
    line = tote.lines.get()
    assert (by_key["partial_return"].refund_fen, line.refunded_fen, tote.status) == (12_000, 12_000, O.COMPLETED)
    entry = JournalEntry.objects.get(key=f"order-complete:{tote.pk}")
    payable = Posting.objects.get(entry=entry, account__code=market_accounts.seller_payable_code(line.seller_id))
    assert payable.amount_fen == -(line.seller_net_fen - 12_000)
    # Rejected: the order then confirmed itself when its window closed (the market's clock, no actor).
    dress = _order("rejected_return")
    last = dress.transitions.order_by("pk").last()
    assert (dress.status, last.actor, last.created_at - dress.complete_after) == (
        O.COMPLETED,
        None,
        timedelta(minutes=4),
    )
    # Counterfeit: refunded in full, charged to the seller's deposit, the wallet going back to her.
    wallet = _order("counterfeit")
    mom2 = _moms()[1]
    deduction = DepositDeduction.objects.get(seller=mom2)
    assert (deduction.amount_fen, deduction.violation, deduction.decided_by.username) == (20_000, "counterfeit", "kefu")
    assert deduction.decision == by_key["counterfeit"].decision
    assert (wallet.status, _item("counterfeit").status) == (O.REFUNDED, S.RETURN_TO_SELLER)
    # She topped her deposit up the next morning, and the lost dispute is on her record.
    assert deposit_selectors.deposit_is_satisfied(mom2)
    assert SellerRecord.objects.get(user=mom2).disputes_lost == 1


ITEM_RETURNS = {
    "open_return": ReturnRequest.Status.REQUESTED,
    "full_return": ReturnRequest.Status.REFUNDED,
    "partial_return": ReturnRequest.Status.PARTIAL,
    "rejected_return": ReturnRequest.Status.REJECTED,
    "counterfeit": ReturnRequest.Status.REFUNDED,
}


# --- buyer shows, commissions, payouts ---------------------------------------------------------------


def test_buyer_shows_with_photos_two_featured_by_the_community_manager(db_seeded):
    shows = BuyerShow.objects.all()

    assert shows.count() == 45
    assert Counter(shows.values_list("stars", flat=True)) == {5: 40, 4: 5}
    featured = list(shows.exclude(featured_at=None).order_by("featured_at"))
    assert [(show.item.title, show.buyer.username, show.photos.count()) for show in featured] == [
        ("施华洛世奇 天鹅项链 银色", "member", 3),
        ("乐高 得宝 数字火车 10954", featured[1].buyer.username, 2),
    ]
    assert {show.featured_by.username for show in featured} == {"yunying"}
    assert [show.item_id for show in selectors.featured_shows()] == [featured[1].item_id, featured[0].item_id]
    assert shows.filter(photos__isnull=False).distinct().count() == 3


def test_the_named_expert_earned_her_share_of_two_attributed_sales(db_seeded):
    commissions = list(ExpertCommission.objects.select_related("buyer", "expert__user").order_by("pk"))

    assert [(c.expert.user.username, c.bps) for c in commissions] == [("expert", 600), ("expert", 600)]
    assert {c.buyer.username for c in commissions} >= {"member"}
    for commission in commissions:
        line = OrderLine.objects.select_related("order").get(pk=int(commission.sale_reference.split(":")[1]))
        assert line.order.buyer == commission.buyer and line.order.status == O.COMPLETED
        assert commission.amount_fen == commission_share_fen(line.price_fen, 600)
        touch = ReferralAttribution.objects.get(pk=commission.attribution_id)
        assert touch.created_at < line.order.paid_at
    shown = {show.item.title for show in selectors.shows_for_expert(_user("expert").pk)}
    assert shown == {"Kate Spade 珍珠耳钉 金色", "乐高 得宝 数字火车 10954"}


def test_finance_paid_one_payout_batch_and_opened_another(db_seeded):
    paid, open_batch = PayoutBatch.objects.order_by("created_at")

    assert (paid.status, paid.created_by.username) == ("paid", "caiwu")
    assert (open_batch.status, open_batch.created_by.username) == ("open", "caiwu")
    assert set(paid.lines.values_list("status", flat=True)) == {PayoutLine.Status.PAID}
    assert set(open_batch.lines.values_list("status", flat=True)) == {PayoutLine.Status.PENDING}
    assert {line.reference for line in paid.lines.all()} == {
        f"招行批量代发 {timezone.localtime(paid.lines.first().paid_at):%Y%m%d}-01"
    }
    seller = _user("seller")
    assert paid.lines.filter(payee=seller).exists() and open_batch.lines.filter(payee=seller).exists()
    in_transit = open_batch.lines.aggregate(total=Sum("amount_fen"))["total"]
    assert balance_fen(ledger_accounts.payouts_in_transit_account()) == in_transit
    # Everything a seller had earned is in a batch: nothing completed since today's.
    for line in PayoutLine.objects.select_related("account"):
        assert line.account.balance_fen == 0, line.account.code


# --- what the demo member and the demo seller find ----------------------------------------------------


def test_the_demo_member_has_claims_orders_a_return_and_shows(db_seeded):
    member = _user("member")
    claims = selectors.claims_of(member)

    assert [(claim.item.title, claim.status, claim.position) for claim in claims if claim.is_live] == [
        ("巴拉巴拉 女童针织连衣裙 110 粉色", C.RESERVED, 0),
        ("Bugaboo Bee 6 博格步 轻便推车 灰色", C.QUEUED, 2),
    ]
    assert next(claim for claim in claims if claim.status == C.RESERVED).open_order_id == _order("pending").pk
    assert [claim.item.title for claim in claims if claim.status == C.WITHDRAWN] == ["Fisher-Price 费雪 脚踏钢琴健身架"]
    assert Counter(selectors.orders_of(member).values_list("status", flat=True)) == {
        O.PENDING_PAYMENT: 1,
        O.PAID: 1,
        O.DELIVERED: 1,
        O.COMPLETED: 5,
    }
    assert [request.status for request in selectors.returns_of(member)] == [ReturnRequest.Status.REQUESTED]
    # Three of her purchases of the history, the necklace and the earrings (market.py).
    assert BuyerShow.objects.filter(buyer=member).count() == 5


def test_the_demo_seller_has_sales_with_breakdowns_and_payouts(db_seeded):
    seller = _user("seller")
    sales = list(selectors.sales_of(seller))

    assert Counter(line.order.status for line in sales) == {
        O.COMPLETED: 17,
        O.PAID: 1,
        O.SHIPPED: 1,
        O.DELIVERED: 2,
        O.PENDING_PAYMENT: 1,
        O.CANCELLED: 1,
        O.REFUNDED: 2,
    }
    for line in sales:
        breakdown = line.breakdown
        assert breakdown["price_fen"] == line.price_fen
        assert (
            breakdown["seller_net_fen"]
            == line.seller_net_fen
            == line.price_fen - line.commission_fen - line.service_fees_fen
        )
    summary = selectors.seller_money_summary(seller)
    assert summary["sold_count"] == 17
    assert summary["payable_fen"] == 0  # every fen she earned is in a payout batch
    assert (
        PayoutLine.objects.filter(payee=seller, account__code=market_accounts.seller_payable_code(seller.pk)).count()
        == 2
    )


def _page(username: str, path: str) -> str:
    client = Client()
    client.force_login(_user(username))
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def test_the_pages_show_the_market(db_seeded):
    assert "Bugaboo Bee 6 博格步 轻便推车 灰色" in _page("member", reverse("market:my_claims"))
    assert "Sandro 波点真丝衬衫 S" in _page("member", reverse("market:my_orders"))
    request = ReturnRequest.objects.get(status=ReturnRequest.Status.REQUESTED)
    assert "袖口内侧有一块黄色污渍" in _page("member", reverse("market:return_detail", args=[request.pk]))
    assert "袖口内侧有一块黄色污渍" in _page("kefu", reverse("market:ops_returns"))
    assert "COS 羊毛针织开衫 燕麦色 S" in _page("seller", reverse("market:self_ship_orders"))
    assert "Kate Spade 珍珠耳钉 金色" in _page("seller", reverse("market:my_sales"))
    transfer = Payment.objects.get(purpose="order", status=Payment.Status.SUBMITTED)
    assert transfer.payer.display_name in _page("caiwu", reverse("payments:finance_queue"))
    batches = _page("caiwu", reverse("ledger:payouts"))
    for batch in PayoutBatch.objects.all():
        assert f'data-batch="{batch.pk}"' in batches
    paid = PayoutBatch.objects.get(status="paid")
    assert "Cici的衣橱" in _page("caiwu", reverse("ledger:payout_batch", args=[paid.pk]))
    assert "施华洛世奇 天鹅项链 银色" in _page("member", reverse("market:featured_shows"))
