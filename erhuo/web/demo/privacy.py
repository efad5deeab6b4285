"""Demo personal-data records: who looked at whose data and why, and deletion requests in every state.

Through the same services the pages use, on the demo clock:

- the access log (what the owner reads at the personal-data access page,
  and each member in her own privacy page): customer service looked up the
  demo member's phone and addresses for a courier who could not reach her,
  a buyer's address for a wrong delivery address, and the ID card of two
  seller applications (the oldest one waiting, and the one she rejected
  for an unreadable photo);
- one deletion request in each state: waiting, with what blocks it shown
  (the seller who is leaving: her deposit is still held until finance
  pays it back); completed (a member who left; her personal data erased,
  what accounting must keep kept); refused, with the reason; cancelled by
  the member herself.
"""

from datetime import timedelta

from django.utils import timezone

from erhuo.accounts import roles
from erhuo.accounts import services as account_services
from erhuo.accounts.models import DeletionRequest, PersonalDataAccess, User
from erhuo.trust.models import DepositReturn, IdentityDocument, SellerVerification
from erhuo.trust.services import verification as verification_services
from erhuo.web import privacy
from erhuo.web.demo import accounts
from erhuo.web.demo.clock import demo_clock
from erhuo.web.demo.trust import local_moment, working_moment

REVIEWER_USERNAME = "kefu"
# Ordinary members from this position on (by sign-up order) ask for deletion: past the ones the other
# demo modules give a part (consignment's buyers, experts' applicants, trust's stories).
DELETION_POOL_START = 90
Reason = PersonalDataAccess.Reason


def _ordinary_members():
    named = [account.username for account in accounts.NAMED_ACCOUNTS]
    return User.objects.filter(groups__name=roles.MEMBER).exclude(username__in=named).order_by("pk")


def _free_to_erase(pool: list[User]) -> User:
    """The next member of the pool whom nothing stops from being erased."""
    while pool:
        user = pool.pop(0)
        if not privacy.erase_blockers(user=user):
            return user
    raise LookupError("no demo member free to erase")


def _request(user: User, *, at, reason: str) -> DeletionRequest:
    with demo_clock(at):
        return privacy.deletion_request_create(user=user, password=accounts.DEMO_PASSWORD, reason=reason)


def _accesses(now, reviewer: User) -> None:
    member = User.objects.get(username=accounts.MEMBER_USERNAME)
    with demo_clock(local_moment(now, days=3, hour=15, minute=20)):
        account_services.member_personal_data_reveal(
            actor=reviewer,
            subject=member,
            reason=Reason.DELIVERY_PROBLEM,
            note="顺丰派件员说收件电话打不通，核对收件人手机号和地址",
        )
    buyer = _ordinary_members()[3]  # one of the consignment demo's buyers
    with demo_clock(local_moment(now, days=1, hour=10, minute=40)):
        account_services.member_personal_data_reveal(
            actor=reviewer, subject=buyer, reason=Reason.ORDER_SUPPORT, note="买家说小区名写错了，核对默认地址"
        )
    # The ID card of two applications, as the review page shows them: the identity in full, then each photo.
    rejected = SellerVerification.objects.get(rejection_reason=SellerVerification.RejectionReason.ID_UNREADABLE)
    oldest_waiting = (
        SellerVerification.objects.filter(status=SellerVerification.Status.SUBMITTED).order_by("created_at").first()
    )
    for verification, moment, sides in (
        (rejected, rejected.decided_at - timedelta(minutes=6), [IdentityDocument.Side.FRONT]),
        (oldest_waiting, working_moment(now), [IdentityDocument.Side.FRONT, IdentityDocument.Side.BACK]),
    ):
        with demo_clock(moment):
            verification_services.verification_identity_reveal(actor=reviewer, verification=verification)
            for side in sides:
                verification_services.identity_document_open(actor=reviewer, verification_id=verification.pk, side=side)


def seed(*, stdout) -> None:
    now = timezone.now()
    reviewer = User.objects.get(username=REVIEWER_USERNAME)
    _accesses(now, reviewer)

    # Waiting, with its blockers: the seller who is leaving asks before finance has paid her deposit back.
    leaving = DepositReturn.objects.get(status=DepositReturn.Status.REQUESTED).seller
    waiting = _request(
        leaving, at=now - timedelta(hours=20), reason="不在这边卖东西了，保证金退回后请帮我把账号和资料都删掉。"
    )

    pool = list(_ordinary_members()[DELETION_POOL_START : DELETION_POOL_START + 10])
    leaver = _free_to_erase(pool)
    completed = _request(
        leaver, at=local_moment(now, days=6, hour=22, minute=10), reason="要出国了，以后用不上，麻烦注销。"
    )
    with demo_clock(local_moment(now, days=5, hour=11, minute=5)):
        privacy.deletion_request_erase(
            actor=reviewer,
            request_id=completed.pk,
            note="已电话核实是本人申请。个人信息已删除；交易和记账记录按法律要求保留（不含姓名电话）。",
        )

    refused_member = _free_to_erase(pool)
    refused = _request(refused_member, at=local_moment(now, days=9, hour=1, minute=35), reason="注销")
    with demo_clock(local_moment(now, days=8, hour=10, minute=15)):
        account_services.deletion_request_refuse(
            actor=reviewer,
            request_id=refused.pk,
            note="申请前 10 分钟账号刚在新设备上登录并改了密码，无法确认是你本人操作。为保护账号，"
            "这次申请不处理；请本人联系客服视频核验后重新申请。",
        )

    changed_mind = _free_to_erase(pool)
    cancelled = _request(
        changed_mind, at=local_moment(now, days=15, hour=21, minute=0), reason="群太多了，想清净一下。"
    )
    with demo_clock(local_moment(now, days=14, hour=8, minute=30)):
        account_services.deletion_request_cancel(user=changed_mind, request_id=cancelled.pk)

    stdout.write(
        f"privacy: {PersonalDataAccess.objects.count()} looks at personal data in the access log; deletion requests: "
        f"1 waiting ({len(waiting.blockers)} blockers shown), 1 completed, 1 refused, 1 cancelled"
    )
