"""Every write to payments goes through here: payments, provider notifications, refunds."""

from erhuo.payments.services.notifications import notification_receive, sandbox_pay
from erhuo.payments.services.payments import (
    CONFIRM_PERMISSION,
    MAX_AMOUNT_FEN,
    PROOF_MAX_BYTES,
    PaymentError,
    erase_blockers,
    payment_cancel,
    payment_create,
    payment_manual_confirm,
    payment_manual_reject,
    payment_proof_submit,
    payment_start,
    personal_data_erase,
)
from erhuo.payments.services.refunds import (
    RefundError,
    refund_fail,
    refund_manual_confirm,
    refund_request,
    refund_retry,
    refund_submit,
    refunds_submit_due,
)

__all__ = [
    "CONFIRM_PERMISSION",
    "MAX_AMOUNT_FEN",
    "PROOF_MAX_BYTES",
    "PaymentError",
    "RefundError",
    "erase_blockers",
    "notification_receive",
    "payment_cancel",
    "payment_create",
    "payment_manual_confirm",
    "payment_manual_reject",
    "payment_proof_submit",
    "payment_start",
    "personal_data_erase",
    "refund_fail",
    "refund_manual_confirm",
    "refund_request",
    "refund_retry",
    "refund_submit",
    "refunds_submit_due",
    "sandbox_pay",
]
