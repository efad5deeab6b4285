"""Reads of payments and refunds."""

from django.db.models import CharField, Exists, OuterRef, Prefetch, Sum, Value
from django.db.models.functions import Cast, Concat

from erhuo.payments.models import Payment, PaymentNotification, Provider, Refund, RefundTransition

# Payments are read with their refunds (PaymentOut shows them) in one more query, not one per payment.
_WITH_REFUNDS = Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "pk"))


def payment_of(*, payment_id: int, payer) -> Payment | None:
    """A payer's own payment, or None (another member's payment does not exist for them)."""
    return Payment.objects.filter(pk=payment_id, payer=payer).prefetch_related(_WITH_REFUNDS).first()


def payment_get(*, payment_id: int) -> Payment | None:
    return (
        Payment.objects.select_related("payer", "confirmed_by")
        .prefetch_related(_WITH_REFUNDS)
        .filter(pk=payment_id)
        .first()
    )


def payments_of(*, payer, purpose: str | None = None):
    payments = Payment.objects.filter(payer=payer)
    if purpose:
        payments = payments.filter(purpose=purpose)
    return payments.order_by("-created_at", "-pk")


def manual_queue():
    """Manual transfers with a proof, oldest first: finance's work."""
    return (
        Payment.objects.filter(provider=Provider.MANUAL, status=Payment.Status.SUBMITTED)
        .select_related("payer")
        .prefetch_related(_WITH_REFUNDS)
        .order_by("status_changed_at", "pk")
    )


def payment_history(*, payment: Payment):
    return payment.transitions.select_related("actor").order_by("created_at", "pk")


def notifications_recent(*, limit: int = 50):
    return PaymentNotification.objects.select_related("payment").order_by("-created_at", "-pk")[:limit]


# --- refunds ------------------------------------------------------------------------------------


def refunds_of(*, payment: Payment):
    """A payment's refunds, oldest first."""
    return payment.refunds.order_by("created_at", "pk")


def refunded_fen(payment: Payment) -> int:
    """What was paid back of this payment (refunds that succeeded)."""
    cached = getattr(payment, "_prefetched_objects_cache", {}).get("refunds")
    if cached is not None:
        return sum(refund.amount_fen for refund in cached if refund.status == Refund.Status.SUCCEEDED)
    total = payment.refunds.filter(status=Refund.Status.SUCCEEDED).aggregate(total=Sum("amount_fen"))["total"]
    return total or 0


def refundable_fen(payment: Payment) -> int:
    """What can still be refunded: the payment less its refunds paid or on their way (not the failed ones)."""
    taken = (
        Refund.objects.filter(payment_id=payment.pk)
        .exclude(status=Refund.Status.FAILED)
        .aggregate(total=Sum("amount_fen"))["total"]
    )
    return payment.amount_fen - (taken or 0)


def refund_get(*, refund_id: int) -> Refund | None:
    return Refund.objects.select_related("payment", "payment__payer").filter(pk=refund_id).first()


def manual_refund_queue():
    """Refunds of manual transfers that finance must pay back by hand, oldest first."""
    return (
        Refund.objects.filter(status=Refund.Status.PENDING, payment__provider=Provider.MANUAL)
        .select_related("payment", "payment__payer")
        .order_by("created_at", "pk")
    )


def provider_refunds_pending():
    """Refunds still waiting for Alipay or WeChat Pay, oldest first (finance watches them)."""
    return (
        Refund.objects.filter(status=Refund.Status.PENDING, payment__provider__in=(Provider.ALIPAY, Provider.WECHAT))
        .select_related("payment")
        .order_by("created_at", "pk")
    )


RETRY_KEY_PREFIX = "retry:"


def retry_key(refund_id: int) -> str:
    """The idempotency key of the one retry a failed refund may have."""
    return f"{RETRY_KEY_PREFIX}{refund_id}"


def failed_refunds_unretried():
    """Refunds that failed and were not asked again: their money waits in payments clearing, oldest first."""
    retried = Refund.objects.filter(key=Concat(Value(RETRY_KEY_PREFIX), Cast(OuterRef("pk"), CharField())))
    return (
        Refund.objects.filter(status=Refund.Status.FAILED)
        .exclude(Exists(retried))
        .select_related("payment", "payment__payer")
        .prefetch_related(
            Prefetch(
                "transitions",
                queryset=RefundTransition.objects.filter(to_state=Refund.Status.FAILED),
                to_attr="failures",
            )
        )
        .order_by("created_at", "pk")
    )


def refund_history(*, refund: Refund):
    return refund.transitions.select_related("actor").order_by("created_at", "pk")


def personal_data_export(*, user) -> dict:
    return {
        "payments": [
            {
                "id": p.pk,
                "amount_fen": p.amount_fen,
                "purpose": p.purpose,
                "description": p.description,
                "method": p.provider,
                "status": p.status,
                "created_at": p.created_at.isoformat(),
                "paid_at": p.paid_at.isoformat() if p.paid_at else None,
                "note": p.payer_note,
            }
            for p in payments_of(payer=user)
        ],
        "refunds": [
            {
                "id": r.pk,
                "payment_id": r.payment_id,
                "amount_fen": r.amount_fen,
                "reason": r.reason,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
                "refunded_at": r.succeeded_at.isoformat() if r.succeeded_at else None,
            }
            for r in Refund.objects.filter(payment__payer=user).order_by("created_at", "pk")
        ],
    }
