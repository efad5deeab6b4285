"""Helpers for trust tests: ID numbers, ID photos, applications in each state, and snapshots.

Stable API (other test modules, and later the deposits tests, import these):

    id_number(birth=None, region="110101", sequence=None) -> str   (a valid number, new on each call)
    id_photo(name="front.png") -> SimpleUploadedFile
    submit(user, **overrides) -> SellerVerification        (through verification_submit)
    make_reviewer() -> User with the customer service role (reviews verifications, sees ID documents)
    make_verification(user=None, status="submitted", reviewer=None, **overrides) -> SellerVerification
    make_verified_seller(**user_kwargs) -> User           (an approved, valid verification and the seller role)
    automatic_providers(settings)                          (every check passes at submission)
    trust_snapshot() -> dict                               (every trust row a refused action must leave unchanged)
"""

import io
import itertools
from datetime import date, timedelta

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from erhuo.accounts import roles
from erhuo.accounts.models import RoleChange
from erhuo.accounts.tests.factories import UserFactory
from erhuo.trust.idnumber import check_character
from erhuo.trust.models import (
    IdentityDocument,
    SellerLevelChange,
    SellerRecord,
    SellerVerification,
    SellerVerificationTransition,
    VerificationCheck,
)
from erhuo.trust.services import verification as verification_services

V = SellerVerification.Status
AUTOMATIC = "erhuo.trust.providers.AutomaticPassProvider"

_serial = itertools.count(100)


def id_number(birth: date | None = None, region: str = "110101", sequence: str | None = None) -> str:
    """A valid resident ID number; each call without `birth` and `sequence` gives a new one."""
    serial = next(_serial)
    birth = birth or date(1990, 3, 7) + timedelta(days=serial // 1000)
    sequence = sequence if sequence is not None else f"{serial % 1000:03d}"
    first = f"{region}{birth:%Y%m%d}{sequence}"
    return first + check_character(first)


def id_photo(name: str = "front.png", width: int = 32, height: int = 20, colour=(90, 120, 200)):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def submission(**overrides) -> dict:
    data = {
        "real_name": "林小雨",
        "id_number": id_number(),
        "alipay_account": "13912345678",
        "sesame_score": 720,
        "id_photo_front": id_photo("front.png"),
        "id_photo_back": id_photo("back.png"),
    }
    data.update(overrides)
    return data


def submit(user, **overrides) -> SellerVerification:
    return verification_services.verification_submit(user=user, **submission(**overrides))


def make_reviewer(**kwargs):
    return UserFactory(roles=[roles.CUSTOMER_SERVICE], **kwargs)


def make_verification(user=None, status: str = V.SUBMITTED, reviewer=None, **overrides) -> SellerVerification:
    """An application driven to `status` through the services (expired: approved, then its date passed)."""
    user = user or UserFactory(roles=[roles.MEMBER])
    verification = submit(user, **overrides)
    if status == V.SUBMITTED:
        return verification
    reviewer = reviewer or make_reviewer()
    if status == V.REJECTED:
        verification_services.verification_decide(
            verification_id=verification.pk,
            actor=reviewer,
            approve=False,
            reason=SellerVerification.RejectionReason.ID_UNREADABLE,
            note="照片太模糊",
        )
    else:
        verification_services.verification_decide(
            verification_id=verification.pk,
            actor=reviewer,
            approve=True,
            checks={kind: True for kind in VerificationCheck.Kind.values},
        )
    if status == V.EXPIRED:
        SellerVerification.objects.filter(pk=verification.pk).update(expires_at=verification.created_at)
        verification_services.verifications_expire()
    verification.refresh_from_db()
    return verification


def make_verified_seller(**user_kwargs):
    user = UserFactory(roles=[roles.MEMBER], **user_kwargs)
    make_verification(user, status=V.APPROVED)
    return user


def automatic_providers(settings) -> None:
    settings.ERHUO_VERIFICATION_PROVIDERS = {kind: AUTOMATIC for kind in VerificationCheck.Kind.values}


def trust_snapshot() -> dict:
    return {
        "verifications": list(SellerVerification.objects.order_by("pk").values()),
        "transitions": list(SellerVerificationTransition.objects.order_by("pk").values_list("pk", "to_state")),
        "checks": list(VerificationCheck.objects.order_by("pk").values("pk", "kind", "result", "decided_by_id")),
        "documents": list(IdentityDocument.objects.order_by("pk").values_list("pk", "side")),
        "records": list(SellerRecord.objects.order_by("pk").values()),
        "level_changes": list(SellerLevelChange.objects.order_by("pk").values_list("pk", "to_level")),
        "role_changes": list(RoleChange.objects.order_by("pk").values_list("pk", "role", "granted")),
        "sellers": sorted(Group.objects.get(name=roles.SELLER).user_set.values_list("pk", flat=True))
        if Group.objects.filter(name=roles.SELLER).exists()
        else [],
    }


# --- deposits (the deposits helper's part) ------------------------------------------------
#
#     make_finance(**kwargs) -> User with the finance role (confirms transfers and deposit returns)
#     enable_sandbox(settings)                     (the sandbox provider is on only with DEBUG by default)
#     evidence_photo(name="evidence.png") -> SimpleUploadedFile
#     pay_deposit(seller, provider="sandbox", amount_fen=None, finance=None) -> Payment   (paid and allocated)
#     deposit_snapshot() -> dict   (every deposit, payment and ledger row, and the media files)


def make_finance(**kwargs):
    return UserFactory(roles=[roles.FINANCE], **kwargs)


def enable_sandbox(settings) -> None:
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]


def evidence_photo(name: str = "evidence.png"):
    return id_photo(name, width=24, height=24, colour=(200, 80, 80))


def pay_deposit(seller, *, provider: str = "sandbox", amount_fen: int | None = None, finance=None):
    """Start a deposit payment, pay it (sandbox button, or proof + finance's confirmation) and allocate it."""
    from erhuo.payments import services as payment_services
    from erhuo.trust.services import deposits as deposit_services

    payment = deposit_services.deposit_payment_start(seller=seller, provider=provider, amount_fen=amount_fen)
    if provider == "sandbox":
        payment_services.sandbox_pay(payment_id=payment.pk, payer=seller)
    else:
        payment_services.payment_proof_submit(payment_id=payment.pk, payer=seller, proof=id_photo("proof.png"))
        payment_services.payment_manual_confirm(payment_id=payment.pk, actor=finance or make_finance())
    deposit_services.deposits_settle(seller=seller)
    payment.refresh_from_db()
    return payment


def deposit_snapshot() -> dict:
    from django.conf import settings

    from erhuo.ledger.models import Account, JournalEntry, Posting
    from erhuo.payments.models import Payment, PaymentNotification, PaymentTransition
    from erhuo.trust.models import DepositDeduction, DepositEvidencePhoto, DepositReturn, DepositReturnTransition

    media = settings.MEDIA_ROOT
    return {
        "accounts": list(Account.objects.order_by("pk").values_list("code", "balance_fen")),
        "entries": list(JournalEntry.objects.order_by("pk").values_list("pk", "kind", "key")),
        "postings": Posting.objects.count(),
        "payments": list(Payment.objects.order_by("pk").values_list("pk", "status", "amount_fen", "proof")),
        "payment_transitions": PaymentTransition.objects.count(),
        "notifications_applied": PaymentNotification.objects.filter(outcome="applied").count(),
        "deductions": list(DepositDeduction.objects.order_by("pk").values_list("pk", "amount_fen")),
        "evidence": DepositEvidencePhoto.objects.count(),
        "returns": list(DepositReturn.objects.order_by("pk").values_list("pk", "status", "amount_fen")),
        "return_transitions": DepositReturnTransition.objects.count(),
        "role_changes": list(RoleChange.objects.order_by("pk").values_list("pk", "role", "granted")),
        "files": sorted(
            str(path.relative_to(root))
            for root in (media, settings.ERHUO_PRIVATE_MEDIA_ROOT)
            if root.exists()
            for path in root.rglob("*")
            if path.is_file()
        ),
    }
