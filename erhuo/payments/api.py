"""The payments API: a payer's payment and its refunds, paying, finance's queues, and provider notifications.

A payment exists only for its payer and for finance; anyone else gets 404,
as if it did not exist. Finance routes need `payments.confirm_manual_payment`
(403 otherwise; the services check it again). Provider notifications arrive
unauthenticated and are trusted only after their signature is verified: a
tampered body is recorded as rejected and changes nothing; a replayed one is
recorded as a duplicate and changes nothing. Each provider gets the answer
it expects: the sandbox JSON, Alipay the plain text "success" (or "fail"),
WeChat Pay 204 (or 4xx with `{"code": "FAIL", "message"}`).
"""

from datetime import datetime

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import DomainError, NotFound, PermissionRefused
from erhuo.payments import selectors, services
from erhuo.payments.models import Payment, Provider
from erhuo.payments.providers import enabled_providers
from erhuo.payments.views import client_hints, rejection_reason

router = Router(tags=["payments"])

FINANCE_PERMISSION = services.CONFIRM_PERMISSION
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class RefundOut(Schema):
    id: int
    payment_id: int
    amount_fen: int
    reason: str
    status: str = Field(..., description="pending, succeeded or failed")
    status_label: str
    created_at: datetime
    succeeded_at: datetime | None
    provider_reference: str

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()


class FinanceRefundOut(RefundOut):
    provider: str
    payer_id: int
    payer_name: str
    payment_amount_fen: int
    payment_description: str
    payment_paid_at: datetime | None

    @staticmethod
    def resolve_provider(obj):
        return obj.payment.provider

    @staticmethod
    def resolve_payer_id(obj):
        return obj.payment.payer_id

    @staticmethod
    def resolve_payer_name(obj):
        return obj.payment.payer.display_name

    @staticmethod
    def resolve_payment_amount_fen(obj):
        return obj.payment.amount_fen

    @staticmethod
    def resolve_payment_description(obj):
        return obj.payment.description

    @staticmethod
    def resolve_payment_paid_at(obj):
        return obj.payment.paid_at


class PaymentOut(Schema):
    id: int
    amount_fen: int
    purpose: str
    reference: str
    description: str
    provider: str
    status: str
    status_label: str
    created_at: datetime
    paid_at: datetime | None
    payer_id: int
    payer_note: str
    pay_url: str = Field(..., description="The payer's pay page")
    return_path: str
    proof_url: str | None = Field(None, description="The transfer screenshot (payer and finance only)")
    rejection_reason: str = Field("", description="Finance's reason when a manual transfer was rejected")
    next: dict | None = Field(None, description="What the payer must do next while the payment is open (payer only)")
    refunded_fen: int = Field(0, description="What was paid back (refunds that succeeded)")
    refunds: list[RefundOut] = Field([], description="Refunds of this payment, oldest first, whatever their status")

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_pay_url(obj):
        return reverse("payments:pay", args=[obj.pk])

    @staticmethod
    def resolve_proof_url(obj):
        return reverse("payments:proof_image", args=[obj.pk]) if obj.proof else None

    @staticmethod
    def resolve_rejection_reason(obj):
        if obj.status != Payment.Status.FAILED:
            return ""
        return rejection_reason(list(selectors.payment_history(payment=obj)))

    @staticmethod
    def resolve_next(obj, context):
        request = context["request"]
        if obj.payer_id != request.user.pk or not obj.is_open:
            return None
        try:
            return services.payment_start(payment=obj, **client_hints(request))
        except DomainError as error:
            # The provider cannot be reached just now: the payment itself is still readable.
            return {"kind": "unavailable", "code": error.code, "detail": str(error.message)}

    @staticmethod
    def resolve_refunded_fen(obj):
        return selectors.refunded_fen(obj)

    @staticmethod
    def resolve_refunds(obj):
        return list(obj.refunds.all())


class RejectIn(Schema):
    reason: str = Field(..., min_length=1, max_length=300)


class ConfirmIn(Schema):
    note: str = Field("", max_length=300)


class NotificationOut(Schema):
    outcome: str


def _require_finance(request) -> None:
    if not request.user.has_perm(FINANCE_PERMISSION):
        raise PermissionRefused(_("Only finance can do this."), code="finance_only")


def _visible_payment(request, payment_id: int) -> Payment:
    payment = selectors.payment_get(payment_id=payment_id)
    if payment is None or (payment.payer_id != request.user.pk and not request.user.has_perm(FINANCE_PERMISSION)):
        raise NotFound(_("Payment not found."), code="payment_not_found")
    return payment


def _own(request, payment_id: int) -> Payment:
    payment = selectors.payment_of(payment_id=payment_id, payer=request.user)
    if payment is None:
        raise NotFound(_("Payment not found."), code="payment_not_found")
    return payment


# Provider notifications first: their fixed path must not be read as a payment id.
@router.post(
    "/payments/notify/sandbox",
    auth=None,
    response={200: NotificationOut, 400: ErrorOut, 404: ErrorOut},
    summary="Sandbox provider notification (signed)",
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True},
        "parameters": [
            {
                "in": "header",
                "name": "X-Sandbox-Signature",
                "required": True,
                "schema": {"type": "string"},
                "description": "HMAC-SHA256 of the raw body, hex",
            }
        ],
    },
)
def notify_sandbox(request):
    """The raw body is verified against `X-Sandbox-Signature` before anything is read from it. An event is applied
    once: a replay answers `duplicate` and changes nothing."""
    if Provider.SANDBOX not in enabled_providers():
        raise NotFound(_("This payment method is not available."), code="provider_unavailable")
    record = services.notification_receive(provider=Provider.SANDBOX, body=request.body, headers=request.headers)
    return Status(200, {"outcome": record.outcome})


FORM_BODY = {
    "requestBody": {
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
        "required": True,
    }
}


@router.post(
    "/payments/notify/alipay",
    auth=None,
    url_name="notify_alipay",
    response={404: ErrorOut},
    summary="Alipay asynchronous notification (RSA2-signed form)",
    openapi_extra={
        **FORM_BODY,
        "responses": {
            "200": {"description": "Applied, or a replay", "content": {"text/plain": {"schema": {"type": "string"}}}},
            "400": {"description": "Rejected", "content": {"text/plain": {"schema": {"type": "string"}}}},
        },
    },
)
def notify_alipay(request):
    """Alipay posts a form; its RSA2 signature is verified before anything is read. The answer is the plain
    text Alipay expects: `success` (applied or a replay: stop sending) or `fail` (send again later)."""
    if Provider.ALIPAY not in enabled_providers():
        raise NotFound(_("This payment method is not available."), code="provider_unavailable")
    try:
        services.notification_receive(provider=Provider.ALIPAY, body=request.body, headers=request.headers)
    except DomainError:
        return HttpResponse("fail", content_type="text/plain", status=400)
    return HttpResponse("success", content_type="text/plain")


def _wechat_failure(message, status: int) -> JsonResponse:
    return JsonResponse({"code": "FAIL", "message": str(message)}, status=status)


@router.post(
    "/payments/notify/wechat",
    auth=None,
    url_name="notify_wechat",
    response={204: None},
    summary="WeChat Pay v3 notification (signed, resource encrypted)",
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True},
        "responses": {
            "400": {"description": "Rejected: {code: FAIL, message}"},
            "404": {"description": "WeChat Pay is off: {code: FAIL, message}"},
        },
    },
)
def notify_wechat(request):
    """The `Wechatpay-*` headers' signature is verified and the resource decrypted before anything is read.
    Applied or a replay: 204, no body. Otherwise 4xx with `{"code": "FAIL", "message": ...}`, and WeChat Pay
    sends it again later."""
    if Provider.WECHAT not in enabled_providers():
        return _wechat_failure(_("This payment method is not available."), 404)
    try:
        services.notification_receive(provider=Provider.WECHAT, body=request.body, headers=request.headers)
    except DomainError as error:
        return _wechat_failure(error.message, error.status if 400 <= error.status < 600 else 400)
    return HttpResponse(status=204)


@router.get(
    "/payments/manual-queue",
    response={200: list[PaymentOut], 403: ErrorOut},
    summary="Manual transfers waiting for finance, oldest first",
)
@paginate(PageNumberPagination, page_size=30)
def manual_queue(request):
    _require_finance(request)
    return selectors.manual_queue()


@router.get(
    "/payments/refunds/pending",
    response={200: list[FinanceRefundOut], 403: ErrorOut},
    summary="Refunds of manual transfers finance must pay back by hand, oldest first",
)
@paginate(PageNumberPagination, page_size=30)
def refunds_pending(request):
    _require_finance(request)
    return selectors.manual_refund_queue()


@router.get(
    "/payments/refunds/failed",
    response={200: list[FinanceRefundOut], 403: ErrorOut},
    summary="Refunds that failed and were not asked again (their money waits in clearing), oldest first",
)
@paginate(PageNumberPagination, page_size=30)
def refunds_failed(request):
    _require_finance(request)
    return selectors.failed_refunds_unretried()


@router.post(
    "/payments/refunds/{int:refund_id}/retry",
    response={201: FinanceRefundOut, **ERRORS},
    summary="Finance: ask again for a failed refund (a new refund of the same amount, once per failure)",
)
def refund_retry(request, refund_id: int):
    _require_finance(request)
    refund = services.refund_retry(refund_id=refund_id, actor=request.user)
    return Status(201, selectors.refund_get(refund_id=refund.pk))


@router.post(
    "/payments/refunds/{int:refund_id}/confirm",
    response={200: FinanceRefundOut, **ERRORS},
    summary="Finance: the refund was transferred back",
)
def refund_confirm(request, refund_id: int, payload: ConfirmIn = None):
    """Finance transferred a manual payment's refund back by hand; the books follow (clearing → cash)."""
    _require_finance(request)
    services.refund_manual_confirm(refund_id=refund_id, actor=request.user, note=payload.note if payload else "")
    return Status(200, selectors.refund_get(refund_id=refund_id))


@router.get("/payments/{int:payment_id}", response={200: PaymentOut, 404: ErrorOut}, summary="One payment")
def payment_detail(request, payment_id: int):
    """For its payer and for finance; 404 for anyone else."""
    return Status(200, _visible_payment(request, payment_id))


@router.post(
    "/payments/{int:payment_id}/proof",
    response={200: PaymentOut, **ERRORS},
    summary="Send the screenshot of a manual transfer (multipart)",
)
def proof_submit(request, payment_id: int, proof: File[UploadedFile], note: Form[str] = ""):
    """Multipart: `proof` (JPEG, PNG or WebP), optional `note` for finance."""
    services.payment_proof_submit(payment_id=payment_id, payer=request.user, proof=proof, note=note[:200])
    return Status(200, _own(request, payment_id))


@router.post("/payments/{int:payment_id}/cancel", response={200: PaymentOut, **ERRORS}, summary="Cancel my payment")
def cancel(request, payment_id: int):
    services.payment_cancel(payment_id=payment_id, payer=request.user)
    return Status(200, _own(request, payment_id))


@router.post(
    "/payments/{int:payment_id}/sandbox-pay", response={200: PaymentOut, **ERRORS}, summary="Pay in the sandbox"
)
def sandbox_pay(request, payment_id: int):
    services.sandbox_pay(payment_id=payment_id, payer=request.user)
    return Status(200, _own(request, payment_id))


@router.post(
    "/payments/{int:payment_id}/confirm", response={200: PaymentOut, **ERRORS}, summary="Finance: the money arrived"
)
def confirm(request, payment_id: int, payload: ConfirmIn = None):
    _require_finance(request)
    services.payment_manual_confirm(payment_id=payment_id, actor=request.user, note=payload.note if payload else "")
    return Status(200, selectors.payment_get(payment_id=payment_id))


@router.post(
    "/payments/{int:payment_id}/reject",
    response={200: PaymentOut, **ERRORS},
    summary="Finance: the transfer did not arrive",
)
def reject(request, payment_id: int, payload: RejectIn):
    _require_finance(request)
    services.payment_manual_reject(payment_id=payment_id, actor=request.user, reason=payload.reason)
    return Status(200, selectors.payment_get(payment_id=payment_id))
