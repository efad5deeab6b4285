"""Demo trust: who is a verified seller, who waits for review, who was turned down, and their deposits.

Runs after the accounts and before anything that consigns: consignment now
takes items only from a seller whose verification is valid and whose
deposit covers her level (`consignment.services.consign_refusal`).

Everything goes through the trust and payments services, as the member,
customer service (`kefu`, who reviews applications) and finance (`caiwu`,
who confirms transfers and deposit returns) would do it, each at its own
moment on the demo clock (`clock.demo_clock`), so the dates tell a story:

- the sellers the consignment demo uses (the named `seller` and `expert`,
  and the three mothers, the first ordinary members by sign-up) applied in
  the community's first weeks, were approved by kefu and paid the new-seller
  deposit, some through the sandbox, some by a bank transfer with a
  screenshot that caiwu confirmed;
- ordinary members at every other point: three applications waiting in the
  review queue (the oldest since the day before yesterday), two rejected
  (an unreadable ID photo; an Alipay account in someone else's name), one
  approval that has expired, one verified seller whose transfer waits for
  caiwu, one seller who is leaving (her deposit return waits for caiwu) and
  one who left (deposit paid back).

Nobody's identity is real: ID numbers are generated with a valid GB 11643
check digit for an adult born in the region she lives in (or, for some,
her home province), and the ID photos are drawn cards with grey bars where
the values would be, marked as demo documents.

What the sellers did next (sales, levels, the named seller's deduction and
top-ups) is in `history.py`.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from erhuo.accounts import roles
from erhuo.accounts.models import Address, User
from erhuo.core.money import format_fen
from erhuo.payments import services as payment_services
from erhuo.payments.models import Payment
from erhuo.trust.idnumber import check_character
from erhuo.trust.models import SellerVerification, TrustPolicy, VerificationCheck
from erhuo.trust.services import deposits as deposit_services
from erhuo.trust.services import verification as verification_services
from erhuo.web.demo import accounts
from erhuo.web.demo.clock import demo_clock
from erhuo.web.demo.images import id_card_photo, screenshot

RANDOM_SEED = 20260404
REVIEWER_USERNAME = "kefu"
FINANCE_USERNAME = "caiwu"
# The consignment demo's mothers: the first ordinary members by sign-up order (consignment.EXTRA_SELLERS).
EXTRA_SELLERS = 3
# Ordinary members from this position on (by sign-up order) play the other trust stories, so that they
# are not also the consignment demo's buyers or the experts demo's applicants (the first twenty or so).
STORY_POOL_START = 40

V = SellerVerification.Status
Reason = SellerVerification.RejectionReason
ALL_CHECKS_PASSED = dict.fromkeys(VerificationCheck.Kind.values, True)
APPROVAL_NOTES = (
    "身份证照片清晰，姓名、号码与芝麻信用、支付宝实名一致。",
    "证件齐全，信息核对无误。",
    "人像面与国徽面清晰完整，支付宝实名一致，通过。",
)

# The district each city's members are registered in (行政区划代码), and a few home provinces:
# many people live far from where their ID card was issued.
REGION_CODES = {
    "上海": "310104",
    "北京": "110105",
    "杭州": "330106",
    "深圳": "440305",
    "广州": "440106",
    "成都": "510104",
    "南京": "320106",
    "苏州": "320508",
    "武汉": "420106",
    "重庆": "500103",
    "西安": "610113",
    "天津": "120101",
    "长沙": "430104",
    "厦门": "350203",
    "青岛": "370202",
    "宁波": "330203",
    "合肥": "340104",
    "郑州": "410105",
    "无锡": "320211",
    "昆明": "530102",
}
HOME_REGIONS = ("341122", "411302", "362321", "430621", "510722", "130682", "371402", "452122", "230103", "211282")


@dataclass(frozen=True)
class Identity:
    real_name: str
    id_number: str
    alipay_account: str
    sesame_score: int


def id_number(*, region: str, birth: date, sequence: int) -> str:
    """A resident ID number: region, date of birth, a sequence ending in an even digit (a woman), check digit."""
    first = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first + check_character(first)


def local_moment(now: datetime, *, days: int, hour: int, minute: int = 0) -> datetime:
    """`days` before today at hh:mm local time (operators work in the daytime)."""
    local = timezone.localtime(now) - timedelta(days=days)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def working_moment(now: datetime) -> datetime:
    """A little before `now` if it is office hours (9:00–21:00), else 20:40 the evening before."""
    local = timezone.localtime(now)
    if 9 <= (local - timedelta(minutes=25)).hour < 21:
        return now - timedelta(minutes=25)
    evening = local.replace(hour=20, minute=40, second=0, microsecond=0)
    return evening if evening < local else evening - timedelta(days=1)


def extra_sellers() -> list[User]:
    """The consignment demo's three mothers (mom1..mom3): the first ordinary members by sign-up order."""
    named = [account.username for account in accounts.NAMED_ACCOUNTS]
    return list(
        User.objects.filter(groups__name=roles.MEMBER).exclude(username__in=named).order_by("pk")[:EXTRA_SELLERS]
    )


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


# --- deposits (also used by history.py) ---------------------------------------------------------


def transfer_proof(*, payer: User, amount_fen: int, at: datetime, account_name: str) -> SimpleUploadedFile:
    """The screenshot a member uploads after a bank or Alipay transfer."""
    lines = (
        "收款方：二货社区（保证金专户）",
        f"金额：{format_fen(amount_fen)}",
        f"付款人：{account_name}",
        f"附言：保证金 {payer.phone[-4:]}",
        f"时间：{timezone.localtime(at):%Y-%m-%d %H:%M}",
    )
    return _upload("transfer.jpg", screenshot("转账成功", lines))


def deposit_pay(
    *,
    seller: User,
    provider: str,
    at: datetime,
    amount_fen: int | None = None,
    finance: User | None = None,
    confirmed_at: datetime | None = None,
    payer_name: str = "",
    payer_note: str = "",
    finance_note: str = "",
) -> Payment:
    """A deposit payment, as the seller makes it at `at`.

    Sandbox: she pays at once. Manual: she uploads her transfer screenshot a
    few minutes later; when `finance` and `confirmed_at` are given, finance
    confirms it then (otherwise it waits in finance's queue).
    """
    with demo_clock(at):
        payment = deposit_services.deposit_payment_start(seller=seller, provider=provider, amount_fen=amount_fen)
        if provider == "sandbox":
            payment_services.sandbox_pay(payment_id=payment.pk, payer=seller)
            deposit_services.deposits_settle(seller=seller)
    if provider == "manual":
        uploaded = at + timedelta(minutes=7)
        with demo_clock(uploaded):
            proof = transfer_proof(
                payer=seller, amount_fen=payment.amount_fen, at=uploaded, account_name=payer_name or seller.display_name
            )
            payment_services.payment_proof_submit(payment_id=payment.pk, payer=seller, proof=proof, note=payer_note)
        if finance is not None and confirmed_at is not None:
            with demo_clock(confirmed_at):
                payment_services.payment_manual_confirm(payment_id=payment.pk, actor=finance, note=finance_note)
                # The event handler allocates it after commit; settle now so the balance counts at once.
                deposit_services.deposits_settle(seller=seller)
    payment.refresh_from_db()
    return payment


# --- verification ------------------------------------------------------------------------


class _Trust:
    def __init__(self, *, now: datetime):
        self.now = now
        self.rng = random.Random(RANDOM_SEED)  # noqa: S311 (sample data, not secrets)
        self.reviewer = User.objects.get(username=REVIEWER_USERNAME)
        self.finance = User.objects.get(username=FINANCE_USERNAME)
        self.policy = TrustPolicy.current()
        self.photo_variant = 0

    def day(self, days: int, hour: int, minute: int = 0) -> datetime:
        return local_moment(self.now, days=days, hour=hour, minute=minute)

    def ago(self, *, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)

    def identity(self, user: User, *, real_name: str = "", region: str = "", birth: date | None = None, alipay=""):
        rng = self.rng
        if not real_name:
            address = Address.objects.filter(user=user, is_default=True).first()
            real_name = address.recipient_name if address else accounts._real_name(rng)
        if not region:
            region = rng.choice(HOME_REGIONS) if rng.random() < 0.3 else REGION_CODES.get(user.city, "310104")
        birth = birth or date(rng.randint(1982, 2000), rng.randint(1, 12), rng.randint(1, 28))
        sequence = rng.randrange(0, 100) * 10 + rng.choice((0, 2, 4, 6, 8))
        if not alipay:
            alipay = user.phone if rng.random() < 0.7 else f"{rng.randint(10**8, 10**10)}@qq.com"
        score = rng.randint(max(self.policy.min_sesame_score + 30, 640), 800)
        return Identity(real_name, id_number(region=region, birth=birth, sequence=sequence), alipay, score)

    def apply(self, user: User, *, at: datetime, identity: Identity, unreadable: bool = False) -> SellerVerification:
        """The member's application with both sides of her ID card (a blurred, glaring front if `unreadable`)."""
        self.photo_variant += 1
        with demo_clock(at):
            verification = verification_services.verification_submit(
                user=user,
                real_name=identity.real_name,
                id_number=identity.id_number,
                alipay_account=identity.alipay_account,
                sesame_score=identity.sesame_score,
                id_photo_front=_upload(
                    "id-front.jpg", id_card_photo("front", self.photo_variant, unreadable=unreadable)
                ),
                id_photo_back=_upload("id-back.jpg", id_card_photo("back", self.photo_variant)),
            )
        return verification

    def approve(self, verification: SellerVerification, *, at: datetime) -> None:
        with demo_clock(at):
            verification_services.verification_decide(
                verification_id=verification.pk,
                actor=self.reviewer,
                approve=True,
                checks=ALL_CHECKS_PASSED,
                note=self.rng.choice(APPROVAL_NOTES),
            )

    def reject(self, verification: SellerVerification, *, at: datetime, failed: str, reason: str, note: str) -> None:
        checks = {**ALL_CHECKS_PASSED, failed: False}
        with demo_clock(at):
            verification_services.verification_decide(
                verification_id=verification.pk,
                actor=self.reviewer,
                approve=False,
                checks=checks,
                reason=reason,
                note=note,
            )

    def verified(self, user: User, *, applied: datetime, decided: datetime, **identity) -> SellerVerification:
        verification = self.apply(user, at=applied, identity=self.identity(user, **identity))
        self.approve(verification, at=decided)
        return verification

    def pay(self, seller: User, provider: str, at: datetime, *, confirmed_at: datetime | None = None, **extra):
        return deposit_pay(
            seller=seller,
            provider=provider,
            at=at,
            finance=self.finance if confirmed_at else None,
            confirmed_at=confirmed_at,
            finance_note="已到账，核对转账截图与银行流水一致。" if confirmed_at else "",
            **extra,
        )


def _joined_before(user: User, moment: datetime) -> None:
    """An early seller's account is older than her application (sign-up dates are drawn at random)."""
    if user.date_joined >= moment - timedelta(days=1):
        joined = moment - timedelta(days=2, hours=3)
        User.objects.filter(pk=user.pk).update(date_joined=joined)
        user.date_joined = joined


def _story_members(count_needed: int) -> list[User]:
    named = [account.username for account in accounts.NAMED_ACCOUNTS]
    pool = User.objects.filter(groups__name=roles.MEMBER).exclude(username__in=named).order_by("pk")
    return list(pool[STORY_POOL_START : STORY_POOL_START + count_needed])


def _pick(pool: list[User], *, joined_before: datetime) -> User:
    """The first member of the pool who had joined by then (so no one applies before she signed up)."""
    for index, user in enumerate(pool):
        if user.date_joined < joined_before:
            return pool.pop(index)
    raise LookupError("no demo member joined early enough")


def seed(*, stdout) -> None:
    now = timezone.now()
    trust = _Trust(now=now)
    cici = User.objects.get(username=accounts.SELLER_USERNAME)
    vivian = User.objects.get(username=accounts.EXPERT_USERNAME)
    mom1, mom2, mom3 = extra_sellers()

    # --- the sellers the consignment demo needs ------------------------------------------------
    trust.verified(
        cici,
        applied=trust.day(87, 21, 40),
        decided=trust.day(86, 10, 15),
        real_name="钱思思",
        region="330106",
        birth=date(1990, 6, 18),
        alipay="cici.qian@163.com",
    )
    trust.pay(cici, "sandbox", trust.day(86, 12, 5))
    trust.verified(
        vivian,
        applied=trust.day(85, 13, 20),
        decided=trust.day(84, 9, 50),
        real_name="沈薇",
        region="310105",
        birth=date(1986, 11, 3),
    )
    trust.pay(vivian, "manual", trust.day(84, 11, 30), confirmed_at=trust.day(84, 16, 10), payer_name="沈薇")
    for mom, applied, decided, provider in (
        (mom1, trust.day(86, 22, 5), trust.day(85, 10, 40), "sandbox"),
        (mom2, trust.day(61, 20, 30), trust.day(60, 11, 5), "manual"),
        (mom3, trust.day(39, 9, 15), trust.day(38, 14, 20), "sandbox"),
    ):
        _joined_before(mom, applied)
        trust.verified(mom, applied=applied, decided=decided)
        if provider == "sandbox":
            trust.pay(mom, "sandbox", decided + timedelta(hours=2, minutes=13))
        else:
            trust.pay(
                mom,
                "manual",
                decided + timedelta(hours=9),
                confirmed_at=decided + timedelta(days=1, hours=1),
                payer_note="用招行卡转的，麻烦查收",
            )

    # --- ordinary members at every other point ------------------------------------------------------
    pool = _story_members(40)

    # One approval has run out: approved in the community's first days, valid for a year. The demo
    # community is three months old, so its end date is moved into the past (the one row the demo
    # edits by hand); the real expiry rule then expires it and takes the seller role back.
    expired_user = _pick(pool, joined_before=trust.day(84, 0))
    expired = trust.verified(expired_user, applied=trust.day(83, 19, 10), decided=trust.day(82, 10, 30))
    trust.pay(expired_user, "sandbox", trust.day(82, 20, 45))
    lapsed_at = trust.ago(days=2, hours=5)
    SellerVerification.objects.filter(pk=expired.pk).update(expires_at=lapsed_at)
    with demo_clock(lapsed_at + timedelta(minutes=17)):
        verification_services.verifications_expire(user=expired_user)

    # A seller who is leaving: her deposit return waits for finance.
    leaving = _pick(pool, joined_before=trust.day(71, 0))
    trust.verified(leaving, applied=trust.day(70, 20, 0), decided=trust.day(69, 11, 20))
    trust.pay(leaving, "manual", trust.day(69, 19, 30), confirmed_at=trust.day(68, 10, 5))
    with demo_clock(trust.ago(days=1, hours=3)):
        deposit_services.deposit_return_request(seller=leaving)

    # A seller who left: deposit paid back by finance.
    left = _pick(pool, joined_before=trust.day(61, 0))
    trust.verified(left, applied=trust.day(60, 12, 40), decided=trust.day(59, 15, 0))
    trust.pay(left, "sandbox", trust.day(59, 18, 25))
    with demo_clock(trust.day(9, 21, 10)):
        left_return = deposit_services.deposit_return_request(seller=left)
    with demo_clock(trust.day(8, 14, 30)):
        deposit_services.deposit_return_confirm(
            return_id=left_return.pk, actor=trust.finance, note="已原路退回支付宝，流水号 2025A8812"
        )

    # Verified three days ago; her bank transfer for the deposit waits for finance (/ops/payments/).
    transferring = _pick(pool, joined_before=trust.day(5, 0))
    trust.verified(transferring, applied=trust.day(4, 20, 15), decided=trust.day(3, 11, 0))
    trust.pay(transferring, "manual", trust.ago(hours=20), payer_note="周末转的，银行显示已到账")

    # Two rejected, each with the reason and a note she reads.
    unreadable = _pick(pool, joined_before=trust.day(13, 0))
    rejected = trust.apply(unreadable, at=trust.day(12, 22, 50), identity=trust.identity(unreadable), unreadable=True)
    trust.reject(
        rejected,
        at=trust.day(11, 10, 5),
        failed=VerificationCheck.Kind.IDENTITY,
        reason=Reason.ID_UNREADABLE,
        note="身份证人像面反光，姓名和号码都看不清。请在光线均匀的地方重新拍摄，四个角都要拍进去。",
    )
    mismatch = _pick(pool, joined_before=trust.day(7, 0))
    wrong_alipay = trust.identity(mismatch)
    wrong_alipay = Identity(
        wrong_alipay.real_name,
        wrong_alipay.id_number,
        f"1{trust.rng.randint(3, 9)}{trust.rng.randrange(10**9):09d}",
        688,
    )
    rejected = trust.apply(mismatch, at=trust.day(6, 13, 25), identity=wrong_alipay)
    trust.reject(
        rejected,
        at=trust.day(5, 16, 40),
        failed=VerificationCheck.Kind.ALIPAY,
        reason=Reason.ALIPAY_MISMATCH,
        note="填写的支付宝账号实名不是你本人（像是家人的账号）。请填写你自己实名认证的支付宝账号后重新申请。",
    )

    # Three applications waiting for review, the oldest since the day before yesterday.
    for hours_ago in (2 * 24 + 9, 26, 0.7):
        applicant = _pick(pool, joined_before=trust.day(3, 0))
        trust.apply(applicant, at=trust.ago(hours=hours_ago), identity=trust.identity(applicant))

    counts = {status: SellerVerification.objects.filter(status=status).count() for status in V.values}
    paid = Payment.objects.filter(purpose="deposit", status=Payment.Status.SUCCEEDED)
    waiting = Payment.objects.filter(purpose="deposit", status=Payment.Status.SUBMITTED).count()
    stdout.write(
        f"trust: {sum(counts.values())} seller verifications ({counts[V.APPROVED]} approved, "
        f"{counts[V.SUBMITTED]} waiting for review, {counts[V.REJECTED]} rejected, {counts[V.EXPIRED]} expired); "
        f"{paid.count()} deposits paid ({paid.filter(provider='manual').count()} by transfer), "
        f"{waiting} transfer waiting for finance; deposit returns: 1 waiting for finance, 1 paid"
    )
