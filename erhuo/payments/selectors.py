"""Reads of payments."""

from erhuo.payments.models import Payment, PaymentNotification, Provider


def payment_of(*, payment_id: int, payer) -> Payment | None:
    """A payer's own payment, or None (another member's payment does not exist for them)."""
    return Payment.objects.filter(pk=payment_id, payer=payer).first()


def payment_get(*, payment_id: int) -> Payment | None:
    return Payment.objects.select_related("payer", "confirmed_by").filter(pk=payment_id).first()


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
        .order_by("status_changed_at", "pk")
    )


def payment_history(*, payment: Payment):
    return payment.transitions.select_related("actor").order_by("created_at", "pk")


def notifications_recent(*, limit: int = 50):
    return PaymentNotification.objects.select_related("payment").order_by("-created_at", "-pk")[:limit]


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
        ]
    }
