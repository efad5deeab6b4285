"""The deposit API: my deposit, paying in, leaving; operators' list and deductions; finance's returns.

Reading a deposit first allocates any succeeded deposit payment not yet
allocated. `POST /trust/deposit/payments` honours the `Idempotency-Key`
header: the same key returns the same payment (201 the first time, 200
after). Operators' routes need `trust.decide_deposit_deduction` (the list
also `ledger.view_ledger`); finance's need `trust.confirm_deposit_return`.
"""

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Header, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from erhuo.accounts.models import User
from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import NotFound, PermissionRefused
from erhuo.trust import deposit_selectors as selectors
from erhuo.trust.models import DepositDeduction, DepositReturn
from erhuo.trust.services import deposits as services

router = Router(tags=["trust: deposits"])

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
LEDGER_PERMISSION = "ledger.view_ledger"


# --- schemas --------------------------------------------------------------------------


class PostingLineOut(Schema):
    entry_id: int
    at: datetime
    memo: str
    kind: str
    amount_fen: int = Field(..., description="+ paid in, − deducted or returned")
    balance_after_fen: int
    deduction_id: int | None
    return_id: int | None


class EvidencePhotoOut(Schema):
    id: int
    url: str = Field(..., description="Permission-checked: the seller concerned and deposit operators only")
    width: int
    height: int


class DeductionOut(Schema):
    id: int
    at: datetime
    amount_fen: int
    violation: str
    violation_label: str
    decision: str
    item_id: int | None
    label_code: str
    entry_id: int
    photos: list[EvidencePhotoOut]


class ReturnOut(Schema):
    id: int
    seller_id: int
    status: str
    status_label: str
    amount_fen: int = Field(..., description="The balance when requested; once paid, what was paid back")
    requested_at: datetime
    paid_at: datetime | None


class PaymentRefOut(Schema):
    id: int
    amount_fen: int
    provider: str
    status: str
    pay_url: str


class DepositOut(Schema):
    balance_fen: int
    required_fen: int
    level: str
    shortfall_fen: int
    is_satisfied: bool
    is_verified: bool
    open_payment: PaymentRefOut | None
    pending_return: ReturnOut | None
    return_blockers: list[str] = Field(..., description="Why leaving is not possible now; empty when it is")
    history: list[PostingLineOut]
    deductions: list[DeductionOut]


class DepositPaymentIn(Schema):
    provider: str = Field(..., description="manual or sandbox (if enabled)")
    amount_fen: int | None = Field(
        None, description="Empty: exactly the shortfall. A top-up: at least ¥1 (100) and at least the shortfall."
    )


class DepositPaymentOut(Schema):
    id: int
    amount_fen: int
    provider: str
    status: str
    description: str
    pay_url: str = Field(..., description="The pay page (manual transfer instructions, or the sandbox button)")
    api_url: str


class SellerDepositOut(Schema):
    user_id: int
    display_name: str
    level: str
    balance_fen: int
    required_fen: int
    shortfall_fen: int
    pending_return: bool


class ReturnConfirmIn(Schema):
    note: str = Field("", max_length=300)


# --- shaping ------------------------------------------------------------------------------


def _photo(photo) -> dict:
    return {
        "id": photo.pk,
        "url": reverse("trust:deposit_evidence", args=[photo.pk]),
        "width": photo.width,
        "height": photo.height,
    }


def _deduction(deduction: DepositDeduction) -> dict:
    return {
        "id": deduction.pk,
        "at": deduction.created_at,
        "amount_fen": deduction.amount_fen,
        "violation": deduction.violation,
        "violation_label": deduction.get_violation_display(),
        "decision": deduction.decision,
        "item_id": deduction.item_id,
        "label_code": deduction.label_code,
        "entry_id": deduction.entry_id,
        "photos": [_photo(photo) for photo in deduction.photos.all()],
    }


def _return(request_row: DepositReturn | None) -> dict | None:
    if request_row is None:
        return None
    return {
        "id": request_row.pk,
        "seller_id": request_row.seller_id,
        "status": request_row.status,
        "status_label": request_row.get_status_display(),
        "amount_fen": request_row.amount_fen,
        "requested_at": request_row.created_at,
        "paid_at": request_row.paid_at,
    }


def _payment(payment) -> dict:
    return {
        "id": payment.pk,
        "amount_fen": payment.amount_fen,
        "provider": payment.provider,
        "status": payment.status,
        "description": payment.description,
        "pay_url": reverse("payments:pay", args=[payment.pk]),
        "api_url": f"/api/v1/payments/{payment.pk}",
    }


def deposit_out(user) -> dict:
    summary = selectors.deposit_summary(user)
    history = selectors.deposit_history(user)
    return {
        "balance_fen": summary.balance_fen,
        "required_fen": summary.required_fen,
        "level": summary.level,
        "shortfall_fen": summary.shortfall_fen,
        "is_satisfied": summary.is_satisfied,
        "is_verified": summary.is_verified,
        "open_payment": _payment(summary.open_payment) if summary.open_payment else None,
        "pending_return": _return(summary.pending_return),
        "return_blockers": [str(blocker) for blocker in selectors.deposit_return_blockers(seller=user)],
        "history": [
            {
                "entry_id": line.posting.entry_id,
                "at": line.posting.created_at,
                "memo": line.posting.entry.memo,
                "kind": line.posting.entry.kind,
                "amount_fen": line.amount_fen,
                "balance_after_fen": line.balance_after_fen,
                "deduction_id": line.deduction.pk if line.deduction else None,
                "return_id": line.deposit_return.pk if line.deposit_return else None,
            }
            for line in history.lines
        ],
        "deductions": [_deduction(deduction) for deduction in history.deductions],
    }


def _require(request, *permissions: str) -> None:
    if not any(request.user.has_perm(permission) for permission in permissions):
        raise PermissionRefused()


# --- the member -----------------------------------------------------------------------------


@router.get("/trust/deposit", response=DepositOut, summary="My deposit: balance, requirement, history")
def my_deposit(request):
    services.deposits_settle(seller=request.user)
    return deposit_out(request.user)


@router.post(
    "/trust/deposit/payments",
    response={200: DepositPaymentOut, 201: DepositPaymentOut, **ERRORS},
    summary="Start a deposit payment (the shortfall, or a top-up)",
)
def deposit_payment_start(request, payload: DepositPaymentIn, idempotency_key: Header[str | None] = None):
    """Send `Idempotency-Key` to retry safely: the same key returns the same payment (201, then 200). Then pay it
    at `pay_url` (or through `/payments/{id}/proof` or `/payments/{id}/sandbox-pay`)."""
    key = (idempotency_key or "").strip()[:80] or None
    existed = key is not None and selectors.deposit_payment_for_key(request.user, key) is not None
    payment = services.deposit_payment_start(
        seller=request.user, provider=payload.provider, amount_fen=payload.amount_fen, idempotency_key=key
    )
    return Status(200 if existed else 201, _payment(payment))


@router.post(
    "/trust/deposit/return",
    response={201: ReturnOut, **ERRORS},
    summary="Leave: ask for my deposit back",
)
def deposit_return_request(request):
    """Refused (409 `deposit_return_blocked`, reasons in `errors.blockers`) while a deposit payment is open, an item
    is still in consignment, a return is already requested, or there is no deposit. On success the seller role is
    removed: no new consignment starts."""
    return Status(201, _return(services.deposit_return_request(seller=request.user)))


@router.delete("/trust/deposit/return", response={200: ReturnOut, **ERRORS}, summary="Cancel my deposit return")
def deposit_return_cancel(request):
    pending = selectors.pending_return(request.user)
    if pending is None:
        raise NotFound(_("No deposit return is waiting."), code="deposit_return_not_found")
    return Status(200, _return(services.deposit_return_cancel(return_id=pending.pk, seller=request.user)))


# --- operators ----------------------------------------------------------------------------------


@router.get(
    "/trust/deposits",
    response={200: list[SellerDepositOut], 403: ErrorOut},
    summary="Sellers' deposits, the largest shortfall first",
)
@paginate(PageNumberPagination, page_size=50)
def deposit_list(request, q: str = ""):
    _require(request, services.DEDUCT_PERMISSION, LEDGER_PERMISSION)
    return [
        {
            "user_id": row.user.pk,
            "display_name": row.user.display_name,
            "level": row.level,
            "balance_fen": row.balance_fen,
            "required_fen": row.required_fen,
            "shortfall_fen": row.shortfall_fen,
            "pending_return": row.pending_return,
        }
        for row in selectors.sellers_with_deposits(query=q[:40])
    ]


@router.post(
    "/trust/deposits/{int:user_id}/deductions",
    response={201: DeductionOut, **ERRORS},
    summary="Deduct from a seller's deposit for a proven violation (multipart)",
)
def deduction_create(
    request,
    user_id: int,
    amount_fen: Form[int],
    violation: Form[str],
    decision: Form[str],
    item_reference: Form[str] = "",
    evidence_photos: File[list[UploadedFile]] = None,
):
    """Multipart: `amount_fen`, `violation` (misrepresentation, counterfeit, missed_shipping, other), `decision`,
    optional `item_reference` (item number or label code) and up to 6 `evidence_photos`. More than the balance is
    409 `insufficient_balance`, and nothing is written."""
    _require(request, services.DEDUCT_PERMISSION)
    seller = User.objects.filter(pk=user_id).first()
    if seller is None:
        raise NotFound(_("No such member."), code="member_not_found")
    deduction = services.deposit_deduct(
        seller=seller,
        actor=request.user,
        amount_fen=amount_fen,
        violation=violation,
        decision=decision,
        evidence_photos=evidence_photos or [],
        item_reference=item_reference[:20],
    )
    return Status(201, _deduction(deduction))


# --- finance -------------------------------------------------------------------------------------


@router.get(
    "/trust/deposit-returns",
    response={200: list[ReturnOut], 403: ErrorOut},
    summary="Deposit returns waiting for finance, oldest first",
)
def return_list(request):
    _require(request, services.RETURN_PERMISSION)
    return [_return(row) for row in selectors.returns_requested()]


@router.post(
    "/trust/deposit-returns/{int:return_id}/confirm",
    response={200: ReturnOut, **ERRORS},
    summary="Finance: the deposit was transferred back",
)
def return_confirm(request, return_id: int, payload: ReturnConfirmIn = None):
    """Books the whole balance at this moment (deposit → cash:manual) and closes the request."""
    _require(request, services.RETURN_PERMISSION)
    done = services.deposit_return_confirm(
        return_id=return_id, actor=request.user, note=payload.note if payload else ""
    )
    return Status(200, _return(done))
