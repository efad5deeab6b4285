"""The whole demo community from `demo_seed`: people, seller verification and deposits, sales history,
seller levels, experts and personal-data records, and the pages that show them. (The market's part, its
claims, orders, returns, shows and payouts, is tested in test_demo_market.py.)

The command runs once for this module (it takes a while) inside a transaction rolled back at the end, so
other tests never see it. Tests here only read, except the page visits at the end (which log their looks
at personal data; the seeded access rows are the ones without a path).
"""

import re
from collections import Counter
from datetime import date, timedelta
from io import StringIO
from itertools import pairwise

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from erhuo.accounts import roles
from erhuo.accounts.models import Address, DeletionRequest, PersonalDataAccess, RoleChange, User, phone_digest
from erhuo.catalog.models import Item, ItemTransition
from erhuo.consignment.models import IntakeBatch
from erhuo.consignment.services import consign_refusal
from erhuo.core.pii import decrypt
from erhuo.experts.models import Expert, ExpertApplication, ExpertCommission
from erhuo.ledger import accounts as ledger_accounts
from erhuo.ledger.models import Account
from erhuo.ledger.selectors import balance_fen, ledger_problems
from erhuo.market.models import BuyerShow, OrderLine
from erhuo.market.selectors import money_problems
from erhuo.payments.models import Payment
from erhuo.trust import deposit_selectors
from erhuo.trust import selectors as trust_selectors
from erhuo.trust.idnumber import Sex, parse_id_number
from erhuo.trust.models import (
    DepositDeduction,
    DepositReturn,
    IdentityDocument,
    SellerLevelChange,
    SellerRecord,
    SellerVerification,
)
from erhuo.web import demo
from erhuo.web.demo import accounts as demo_accounts
from erhuo.web.demo import history as demo_history

pytestmark = pytest.mark.django_db
PASSWORD = "erhuo2026"
V = SellerVerification.Status
S = Item.Status
STATION_USERS = {
    roles.OWNER: "owner",
    roles.COMMUNITY_MANAGER: "yunying",
    roles.INTAKE_CLERK: "ruku",
    roles.AUTHENTICATOR: "jianding",
    roles.CARE_TECHNICIAN: "qingxi",
    roles.PHOTOGRAPHER: "sheying",
    roles.CUSTOMER_SERVICE: "kefu",
    roles.FINANCE: "caiwu",
}
SUMMARY = [
    "accounts: 11 demo logins (owner, 7 operators, seller, expert, member), 320 more members, 284 addresses",
    "trust: 14 seller verifications (8 approved, 3 waiting for review, 2 rejected, 1 expired); 8 deposits paid "
    "(3 by transfer), 1 transfer waiting for finance; deposit returns: 1 waiting for finance, 1 paid",
    "history: 56 sales completed before the demo for 4 sellers (22 through the warehouse, 34 self-shipped), "
    "42 buyer shows, 2 self-ship orders cancelled at their deadline; 1 top and 3 trusted sellers; seller's deposit: "
    "2 top-ups and a deduction of ¥250.00",
    "consignment: 65 items in 17 batches from 5 sellers, 27 listed, 193 photos, 5 markdowns, 1 donated",
    "records: 9 seller records (1 top, 3 trusted, 5 new)",
    "experts: 4 experts (gold, certified, trainee), 2 applications waiting for review, 1 not approved; "
    "14 referral touches",
    "market: 78 orders (2 pending_payment, 2 paid, 1 packed, 2 shipped, 2 delivered, 61 completed, 2 cancelled, "
    "6 refunded); 90 claims (5 reserved, 6 queued, 1 expired, 3 withdrawn, 1 closed); 5 returns (1 open, "
    "2 refunded, 1 partly refunded, 1 rejected); 45 buyer shows (2 featured); 2 expert commissions; "
    "payout batches: 1 paid, 1 open",
    "community: 7 segments, 9 groups (母婴·0-3岁 1群 40/40, 2群 37/40); 212 members placed by their answers, "
    "36 in the old mixed group with 32 moves proposed; 4 joins waiting for approval; drops: 2 live, 1 scheduled, "
    "1 cancelled; micro-classes: 1 scheduled, 1 live, 1 ended, 1 cancelled; activities: 3 running, 1 giveaway drawn",
    "privacy: 7 looks at personal data in the access log; deletion requests: 1 waiting (2 blockers shown), "
    "1 completed, 1 refused, 1 cancelled",
]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("demo-media")
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
            call_command("demo_seed", stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def output(seeded):
    return seeded


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _ordinary():
    named = [account.username for account in demo_accounts.NAMED_ACCOUNTS]
    return User.objects.filter(groups__name=roles.MEMBER).exclude(username__in=named).order_by("pk")


def _moms() -> list[User]:
    return list(_ordinary()[:3])


def _roles_of(username: str) -> set[str]:
    return set(_user(username).groups.values_list("name", flat=True))


def _bulk_members():
    named = [account.username for account in demo_accounts.NAMED_ACCOUNTS]
    return User.objects.exclude(username__in=named)


def _login_request():
    return RequestFactory().post("/accounts/login/", REMOTE_ADDR="127.0.0.1")


# --- the command ---------------------------------------------------------------------------


def test_the_summary_names_every_part_in_order(output):
    lines = output.splitlines()

    assert lines[:-1] == SUMMARY
    assert re.fullmatch(r"Demo data seeded in \d+\.\d s\. Demo password: erhuo2026", lines[-1])
    assert [module.__name__.rsplit(".", 1)[-1] for module in demo.SEEDERS] == [
        "accounts",
        "trust",
        "history",
        "consignment",
        "records",
        "experts",
        "market",
        "community",
        "privacy",
    ]


# --- people --------------------------------------------------------------------------------


def test_the_demo_people_and_their_roles(output):
    assert User.objects.count() == 331
    assert User.objects.filter(groups__name=roles.MEMBER).count() == 323
    for code, username in STATION_USERS.items():
        assert list(User.objects.filter(groups__name=code).values_list("username", flat=True)) == [username]
        assert _roles_of(username) == {code}
    assert set(User.objects.filter(is_staff=True).values_list("username", flat=True)) == set(STATION_USERS.values())
    assert User.objects.filter(is_superuser=True).count() == 0
    assert _roles_of("seller") == {roles.MEMBER, roles.SELLER}
    assert _roles_of("expert") == {roles.MEMBER, roles.SELLER, roles.EXPERT}
    assert _roles_of("member") == {roles.MEMBER}
    mom1, mom2, mom3 = _moms()
    transferring = Payment.objects.get(status=Payment.Status.SUBMITTED, purpose="deposit").payer
    assert set(User.objects.filter(groups__name=roles.SELLER)) == {
        _user("seller"),
        _user("expert"),
        mom1,
        mom2,
        mom3,
        transferring,
    }
    owner = _user("owner")
    assert (owner.display_name, owner.phone, owner.city) == ("主理人苏苏", "13900000001", "上海")
    expert = _user("expert")
    assert expert.display_name == "搭配师Vivian"
    assert expert.bio.startswith("前时尚杂志造型助理，做了 8 年私人穿搭顾问。擅长小个子和产后身材的通勤搭配")


def test_every_role_came_through_its_process_and_is_on_the_record(output):
    owner = _user("owner")
    # 8 station grants, one member grant per member, 9 seller grants by customer service with a verification,
    # 4 expert grants by the community manager with an application, and 3 seller roles taken back.
    assert RoleChange.objects.count() == 347
    assert RoleChange.objects.filter(role=roles.COMMUNITY_MANAGER).get().actor == owner
    granted = Counter(
        RoleChange.objects.filter(granted=True, role__in=[roles.SELLER, roles.EXPERT]).values_list(
            "role", "actor__username"
        )
    )
    assert granted == {(roles.SELLER, "kefu"): 9, (roles.EXPERT, "yunying"): 4}
    revoked = RoleChange.objects.filter(granted=False).order_by("pk")
    assert [(row.role, row.actor.username if row.actor else None) for row in revoked] == [
        (roles.SELLER, None),  # the expired verification
        (roles.SELLER, DepositReturn.objects.get(status=DepositReturn.Status.REQUESTED).seller.username),
        (roles.SELLER, DepositReturn.objects.get(status=DepositReturn.Status.PAID).seller.username),
    ]


def test_seeded_members_look_real(output):
    members = list(_bulk_members())
    erased = [member for member in members if member.status == User.Status.CLOSED]
    members = [member for member in members if member.status != User.Status.CLOSED]

    assert len(erased) == 1
    assert (erased[0].username, erased[0].display_name, erased[0].phone, erased[0].is_active) == (
        f"deleted-{erased[0].pk}",
        "已注销用户",
        "",
        False,
    )
    assert len(members) == 319
    assert all(member.groups.filter(name=roles.MEMBER).exists() for member in members)
    assert sum(member.groups.filter(name=roles.SELLER).exists() for member in members) == 4
    phones = [member.phone for member in members]
    assert len(set(phones)) == 319
    assert all(re.fullmatch(r"1[35789]\d{9}", phone) for phone in phones)
    assert all(member.phone_digest == phone_digest(member.phone) for member in members)
    assert all(re.fullmatch(r"u[0-9a-f]{8}", member.username) for member in members)
    assert len({member.display_name for member in members}) == 319
    assert sum(1 for member in members if re.search(r"[\u4e00-\u9fff]", member.display_name)) > 280
    assert Counter(member.city for member in members) == {
        "上海": 53,
        "北京": 41,
        "杭州": 29,
        "深圳": 29,
        "成都": 23,
        "广州": 22,  # 23 before one member from Guangzhou had her personal data erased
        "南京": 18,
        "苏州": 17,
        "武汉": 12,
        "重庆": 12,
        "长沙": 9,
        "天津": 9,
        "西安": 9,
        "郑州": 6,
        "合肥": 6,
        "青岛": 6,
        "宁波": 6,
        "厦门": 6,
        "无锡": 3,
        "昆明": 3,
    }
    assert sum(1 for member in members if member.bio) > 240
    now = timezone.now()
    assert all(now - timedelta(days=91) < member.date_joined <= now for member in members)
    assert len({member.date_joined.date() for member in members}) > 60
    # One in eight had not entered an address; the five of them who bought something since entered one at
    # checkout (sales.py). Everyone has exactly one, the default.
    with_address = Counter(Address.objects.filter(user__in=members).values_list("user_id", flat=True))
    assert len(with_address) == 284
    assert set(with_address.values()) == {1}
    assert Address.objects.filter(user__in=members, is_default=False).count() == 0
    assert not Address.objects.filter(user=erased[0]).exists()


def test_demo_member_has_two_addresses_and_details_are_encrypted_at_rest(output):
    member = _user("member")
    addresses = list(member.addresses.order_by("pk"))

    assert Address.objects.count() == 288
    assert [(a.label, a.recipient_name, a.region, a.detail, a.is_default) for a in addresses] == [
        ("家", "周婷", "上海市 上海市 徐汇区", "宜山路 700 弄 12 号 1202 室", True),
        ("公司", "周婷", "上海市 上海市 静安区", "南京西路 1266 号恒隆广场办公楼一座 32 层", False),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT detail, recipient_name, recipient_phone FROM accounts_address WHERE id = %s", [addresses[0].pk]
        )
        raw_detail, raw_name, raw_phone = cursor.fetchone()
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [member.pk])
        (raw_user_phone,) = cursor.fetchone()
    assert "宜山路" not in raw_detail
    assert raw_detail.startswith("gAAAAA")  # a Fernet token
    assert decrypt(raw_detail) == "宜山路 700 弄 12 号 1202 室"
    assert "周婷" not in raw_name
    assert decrypt(raw_phone) == "13900000012"
    assert decrypt(raw_user_phone) == "13900000012"


def test_every_printed_login_works_with_its_username_and_its_phone(output):
    assert demo.DEMO_PASSWORD == PASSWORD
    assert [(login.role, login.username) for login in demo.DEMO_LOGINS] == [
        ("主理人", "owner"),
        ("社群运营", "yunying"),
        ("入库员", "ruku"),
        ("鉴定师", "jianding"),
        ("清洗消毒", "qingxi"),
        ("摄影师", "sheying"),
        ("客服", "kefu"),
        ("财务", "caiwu"),
        ("闲置主", "seller"),
        ("达人", "expert"),
        ("群员", "member"),
    ]
    for login in demo.DEMO_LOGINS:
        assert authenticate(_login_request(), username=login.username, password=login.password).username == (
            login.username
        )
        assert authenticate(_login_request(), username=login.phone, password=login.password).username == (
            login.username
        )
    assert authenticate(_login_request(), username="member", password="wrong-password") is None
    # The bulk members share one hash of the same password.
    someone = _ordinary().first()
    assert authenticate(_login_request(), username=someone.phone, password=PASSWORD) == someone


# --- seller verification -------------------------------------------------------------------------


def test_verifications_in_every_state(output):
    verifications = SellerVerification.objects.select_related("user", "decided_by")

    assert Counter(verifications.values_list("status", flat=True)) == {
        V.APPROVED: 8,
        V.SUBMITTED: 3,
        V.REJECTED: 2,
        V.EXPIRED: 1,
    }
    for verification in verifications.exclude(status=V.SUBMITTED):
        assert verification.decided_by.username == "kefu"
        assert verification.created_at < verification.decided_at < timezone.now()
        assert verification.user.date_joined < verification.created_at
    rejected = {v.rejection_reason: v.rejection_note for v in verifications.filter(status=V.REJECTED)}
    assert set(rejected) == {
        SellerVerification.RejectionReason.ID_UNREADABLE,
        SellerVerification.RejectionReason.ALIPAY_MISMATCH,
    }
    assert all(note.strip() for note in rejected.values())
    assert {v.user.username for v in verifications.filter(status=V.APPROVED)} >= {"seller", "expert"}
    assert {v.user for v in verifications.filter(status=V.APPROVED)} >= set(_moms())


def test_identities_are_valid_adult_women_from_several_regions_each_with_two_id_photos(output):
    verifications = list(SellerVerification.objects.all())
    today = timezone.localdate()

    for verification in verifications:
        identity = parse_id_number(verification.id_number)
        assert identity.sex == Sex.FEMALE
        assert identity.birth_date == verification.birth_date
        assert date(1980, 1, 1) <= identity.birth_date <= today.replace(year=today.year - 18)
        assert verification.sesame_score >= 600
        sides = set(IdentityDocument.objects.filter(verification=verification).values_list("side", flat=True))
        assert sides == {IdentityDocument.Side.FRONT, IdentityDocument.Side.BACK}
    assert len({v.id_number_digest for v in verifications}) == 14
    assert len({v.id_number[:2] for v in verifications}) >= 6
    named = SellerVerification.objects.get(user__username="seller")
    assert (named.real_name, named.id_number, named.alipay_account) == (
        "钱思思",
        "330106199006185925",
        "cici.qian@163.com",
    )


def test_the_review_queue_holds_three_applications_of_different_ages_oldest_first(output):
    now = timezone.now()
    ages = [now - verification.created_at for verification in trust_selectors.verification_queue()]

    assert len(ages) == 3
    assert ages == sorted(ages, reverse=True)
    assert ages[0] > timedelta(hours=48)
    assert timedelta(hours=20) < ages[1] < timedelta(hours=48)
    assert ages[2] < timedelta(hours=2)


def test_the_expired_approval_took_the_seller_role_back(output):
    expired = SellerVerification.objects.select_related("user").get(status=V.EXPIRED)

    assert expired.expires_at < timezone.now()
    assert not expired.user.has_role(roles.SELLER)
    assert not trust_selectors.is_verified(expired.user)
    assert expired.transitions.order_by("pk").last().to_state == V.EXPIRED


# --- levels and history --------------------------------------------------------------------------


def test_seller_levels_new_trusted_and_top_all_appear(output):
    mom1, mom2, mom3 = _moms()
    levels = {record.user: record.level for record in SellerRecord.objects.select_related("user")}

    assert levels[mom1] == "top"
    assert {user for user, level in levels.items() if level == "trusted"} == {_user("seller"), _user("expert"), mom3}
    assert Counter(levels.values()) == {"top": 1, "trusted": 3, "new": 5}
    for user, level in levels.items():
        assert trust_selectors.seller_level(user) == (level if trust_selectors.is_verified(user) else "new")
    assert trust_selectors.can_self_ship(_user("seller")) and trust_selectors.can_self_ship(mom3)
    assert not trust_selectors.can_self_ship(mom2)
    top = SellerRecord.objects.get(user=mom1)
    assert (top.items_sold, top.ratings_count, top.orders_shipped, top.orders_shipped_on_time) == (31, 22, 26, 25)
    assert (top.average_rating, top.disputes_lost, top.authentication_failures) == (4.9, 0, 0)


def test_levels_were_earned_in_order_on_the_day_of_the_sale_that_earned_them(output):
    mom1 = _moms()[0]
    changes = [(c.from_level, c.to_level) for c in SellerLevelChange.objects.filter(user=mom1).order_by("created_at")]
    assert changes == [("new", "trusted"), ("trusted", "top")]
    assert SellerLevelChange.objects.count() == 5  # mom1 twice, seller, expert and mom3 once: nobody went down
    for user, sale, to_level in ((mom1, 5, "trusted"), (mom1, 30, "top"), (_user("seller"), 5, "trusted")):
        sold = list(
            ItemTransition.objects.filter(subject__seller=user, to_state=S.SOLD)
            .order_by("created_at")
            .values_list("created_at", flat=True)
        )
        change = SellerLevelChange.objects.get(user=user, to_level=to_level)
        # The record is counted again when the item sells (the catalog's event), at the moment it was paid.
        assert change.created_at == sold[sale - 1]


def _history_items():
    return Item.objects.filter(title__in=demo_history.TITLES)


def test_the_sales_history_went_through_the_market_with_a_full_chain(output):
    history = _history_items()

    assert history.count() == len(demo_history.TITLES) == 58
    # Two self-ship orders were not shipped in time: cancelled and refunded by the clock, the items withdrawn.
    assert Counter(history.values_list("status", flat=True)) == {S.COMPLETED: 56, S.WITHDRAWN: 2}
    mom1, _mom2, mom3 = _moms()
    assert Counter(history.values_list("seller", flat=True)) == {
        mom1.pk: 31,
        _user("seller").pk: 16,
        _user("expert").pk: 6,
        mom3.pk: 5,
    }
    assert Counter(history.values_list("fulfilment", flat=True)) == {"platform": 22, "self_ship": 36}
    buyers = Counter(OrderLine.objects.filter(item__in=history).values_list("order__buyer__username", flat=True))
    assert buyers["member"] == 3
    assert len(buyers) == 38
    for item in history:
        chain = list(ItemTransition.objects.filter(subject=item).order_by("created_at", "pk"))
        assert (chain[0].from_state, chain[0].to_state) == ("", S.SUBMITTED)
        for previous, row in pairwise(chain):
            assert row.from_state == previous.to_state and row.created_at >= previous.created_at, item.title
        line = OrderLine.objects.select_related("order", "claim", "order__payment").get(item=item)
        order = line.order
        states = [row.to_state for row in chain]
        after_listing = states[states.index(S.LISTED) + 1 :]
        if item.status == S.WITHDRAWN:
            assert after_listing == [S.RESERVED, S.SOLD, S.WITHDRAWN]
            assert (order.status, order.paid_fen, order.refunded_fen) == ("refunded", order.total_fen, order.total_fen)
            last = order.transitions.order_by("pk").last()
            assert last.actor is None and last.created_at > order.ship_by  # the market's clock, past the deadline
            continue
        expected = [S.RESERVED, S.SOLD, S.SHIPPED, S.DELIVERED, S.COMPLETED]
        if item.fulfilment == Item.Fulfilment.PLATFORM:
            expected.insert(2, S.PACKED)
        assert after_listing == expected
        # Who did what: the buyer claimed and confirmed, the payment sold it, the warehouse or the seller shipped.
        actors = [row.actor.username if row.actor else None for row in chain[-len(expected) :]]
        shipper = "ruku" if item.fulfilment == Item.Fulfilment.PLATFORM else item.seller.username
        assert actors == [order.buyer.username, None, *[shipper] * (len(expected) - 3), order.buyer.username]
        assert (order.status, line.claim.status, order.payment.status) == ("completed", "purchased", "succeeded")
        assert order.paid_fen == order.total_fen == order.payment.amount_fen
        assert order.paid_at - line.claim.reserved_at < timedelta(minutes=30)
        approved = SellerVerification.objects.filter(user=item.seller, decided_at__isnull=False).earliest("decided_at")
        assert IntakeBatch.objects.get(consignments__item=item).created_at > approved.decided_at
    # The buyers who rated (the careers' ratings, in order) did so with a buyer show when they confirmed.
    shows = BuyerShow.objects.filter(item__in=history)
    assert shows.count() == 42
    assert Counter(shows.values_list("stars", flat=True)) == {5: 37, 4: 5}


# --- deposits and the ledger --------------------------------------------------------------------


def test_the_named_seller_paid_topped_up_was_deducted_once_and_topped_up_again(output):
    cici = _user("seller")
    payments = list(Payment.objects.filter(payer=cici).order_by("created_at"))

    assert [(p.provider, p.amount_fen, p.status) for p in payments] == [
        ("sandbox", 30_000, Payment.Status.SUCCEEDED),
        ("manual", 10_000, Payment.Status.SUCCEEDED),
        ("sandbox", 15_000, Payment.Status.SUCCEEDED),
    ]
    assert payments[1].confirmed_by.username == "caiwu"
    assert payments[1].proof
    deduction = DepositDeduction.objects.get(seller=cici)
    assert (deduction.amount_fen, deduction.violation, deduction.decided_by.username) == (
        25_000,
        DepositDeduction.Violation.MISSED_SHIPPING,
        "kefu",
    )
    late = Item.objects.get(pk=deduction.item_id)
    order = OrderLine.objects.get(item=late).order
    assert late.title == "Massimo Dutti 棉质衬衫 白色"
    assert "48 小时内未发货" in deduction.decision and order.number in deduction.decision
    assert deduction.photos.count() == 1
    assert order.ship_by < order.status_changed_at < deduction.created_at
    assert payments[1].paid_at < deduction.created_at < payments[2].paid_at
    lines = list(reversed(deposit_selectors.deposit_history(cici).lines))
    assert [(line.amount_fen, line.balance_after_fen) for line in lines] == [
        (30_000, 30_000),
        (10_000, 40_000),
        (-25_000, 15_000),
        (15_000, 30_000),
    ]
    assert lines[2].deduction == deduction
    assert deposit_selectors.deposit_is_satisfied(cici)


def test_the_books_balance_and_hold_every_deposit(output):
    assert ledger_problems() == []
    assert money_problems() == []
    assert balance_fen(ledger_accounts.clearing_account()) == 0
    # The named seller's missed shipment (¥250) and a counterfeit sold by the second mother (¥200, market.py).
    assert balance_fen(ledger_accounts.forfeits_account()) == 45_000
    holding = {
        account.owner.username: account.balance_fen
        for account in Account.objects.filter(code__startswith="deposit:").select_related("owner")
    }
    returned = DepositReturn.objects.get(status=DepositReturn.Status.PAID)
    leaving = DepositReturn.objects.get(status=DepositReturn.Status.REQUESTED)
    assert holding.pop(returned.seller.username) == 0
    # The five sellers who consign (the second mother topped hers up after her deduction), the one whose
    # verification expired and the one who is leaving.
    assert set(holding.values()) == {30_000}
    assert len(holding) == 7
    assert (returned.amount_fen, returned.paid_by.username, returned.entry is not None) == (30_000, "caiwu", True)
    assert (leaving.amount_fen, leaving.paid_at) == (30_000, None)
    assert not leaving.seller.has_role(roles.SELLER)


def test_every_seller_the_consignment_demo_uses_may_consign(output):
    for seller in [_user("seller"), _user("expert"), *_moms()]:
        assert consign_refusal(seller) is None, seller.username


def test_a_transfer_waits_for_finance_and_its_seller_may_not_consign_yet(output):
    waiting = Payment.objects.get(status=Payment.Status.SUBMITTED, purpose="deposit")

    assert (waiting.provider, waiting.purpose, waiting.amount_fen) == ("manual", "deposit", 30_000)
    assert waiting.proof
    assert trust_selectors.is_verified(waiting.payer)
    assert consign_refusal(waiting.payer).code == "deposit_required"
    # Besides it, two order payments wait (market.py): the demo member's in the sandbox, a transfer for finance.
    assert Counter(Payment.objects.filter(status__in=Payment.OPEN).values_list("purpose", "provider")) == {
        ("deposit", "manual"): 1,
        ("order", "sandbox"): 1,
        ("order", "manual"): 1,
    }


# --- experts -------------------------------------------------------------------------------------


def test_experts_at_every_level_the_named_expert_gold(output):
    assert sorted(Expert.objects.values_list("level", flat=True)) == ["certified", "certified", "gold", "trainee"]
    assert Expert.objects.get(user__username="expert").level == "gold"
    assert (
        sorted(ExpertApplication.objects.values_list("status", flat=True))
        == ["approved"] * 4 + ["rejected"] + ["submitted"] * 2
    )
    # Commissions accrue only on completed orders of buyers who came through an expert's link (market.py).
    assert list(ExpertCommission.objects.values_list("expert__user__username", "bps", "reversed_at")) == [
        ("expert", 600, None),
        ("expert", 600, None),
    ]


# --- personal data -------------------------------------------------------------------------------


def test_the_access_log_records_customer_service_looks(output):
    seeded = PersonalDataAccess.objects.filter(path="").select_related("actor", "subject")

    assert seeded.count() == 7
    assert {row.actor.username for row in seeded} == {"kefu"}
    assert Counter(row.reason for row in seeded) == {
        PersonalDataAccess.Reason.IDENTITY_CHECK: 5,
        PersonalDataAccess.Reason.DELIVERY_PROBLEM: 1,
        PersonalDataAccess.Reason.ORDER_SUPPORT: 1,
    }
    delivery = seeded.get(reason=PersonalDataAccess.Reason.DELIVERY_PROBLEM)
    assert (delivery.subject.username, delivery.fields) == ("member", ["phone", "addresses"])
    assert seeded.filter(fields=["id_photo_back"]).count() == 1


def test_one_deletion_request_in_each_state(output):
    requests = {request.status: request for request in DeletionRequest.objects.select_related("user", "decided_by")}

    assert set(requests) == set(DeletionRequest.Status.values)
    assert DeletionRequest.objects.count() == 4
    waiting = requests[DeletionRequest.Status.REQUESTED]
    assert waiting.user == DepositReturn.objects.get(status=DepositReturn.Status.REQUESTED).seller
    assert len(waiting.blockers) == 2
    completed = requests[DeletionRequest.Status.COMPLETED]
    assert (completed.user.status, completed.user.display_name, completed.decided_by.username) == (
        User.Status.CLOSED,
        "已注销用户",
        "kefu",
    )
    refused = requests[DeletionRequest.Status.REFUSED]
    assert refused.note and refused.decided_by.username == "kefu"
    assert refused.user.status == User.Status.ACTIVE
    assert requests[DeletionRequest.Status.CANCELLED].user.status == User.Status.ACTIVE


# --- the pages show it -----------------------------------------------------------------------------


def _page(username: str, path: str) -> str:
    client = Client()
    client.force_login(_user(username))
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def test_the_pages_show_the_demo(output):
    mom1 = _moms()[0]
    oldest = trust_selectors.verification_queue().first()

    assert "¥250" in _page("seller", "/trust/deposit/")
    queue = _page("kefu", "/ops/trust/verifications/")
    for verification in trust_selectors.verification_queue():
        assert verification.user.display_name in queue
    assert oldest.real_name in _page("kefu", f"/ops/trust/verifications/{oldest.pk}/")
    waiting = Payment.objects.get(status=Payment.Status.SUBMITTED, purpose="deposit")
    assert waiting.payer.display_name in _page("caiwu", "/ops/payments/")
    returns = _page("caiwu", "/ops/trust/deposit-returns/")
    assert DepositReturn.objects.get(status=DepositReturn.Status.REQUESTED).seller.display_name in returns
    assert mom1.display_name in _page("member", f"/sellers/{mom1.username}/")
    assert "搭配师Vivian" in _page("member", "/experts/")
    assert _page("kefu", "/ops/deletion-requests/").count("#") >= 1
    assert "顺丰派件员" in _page("owner", "/accounts/ops/personal-data-access/")
