"""Provider notifications, about payments and about refunds, applied once.

A notification is trusted only after its provider verified it. Its event
key is unique and stored in the same transaction as its effect, so a
replay, a concurrent duplicate, or an out-of-order "failed" after
"succeeded" changes nothing. A notification that fails verification, names
an unknown payment or refund, or carries the wrong amount is stored as
rejected (with its raw body) and nothing else changes.
"""

import logging

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from erhuo.core import states
from erhuo.core.money import format_fen
from erhuo.payments.models import Payment, PaymentNotification, Provider, Refund
from erhuo.payments.providers import NotificationRejected, enabled_providers, provider_for
from erhuo.payments.services.payments import PaymentError, _open_payment_of, _succeed

logger = logging.getLogger(__name__)

STATUSES = {"succeeded", "failed", "pending"}


def notification_receive(*, provider: str, body: bytes, headers) -> PaymentNotification:
    """Apply a provider's notification once.

    A bad signature, an unknown payment or refund, or a wrong amount is
    recorded as rejected and raised (nothing else changes). A replay of an
    applied event finds its key and changes nothing. The event key is stored
    in the same transaction as the change it causes, so a crash between the
    two cannot happen.
    """
    if provider not in enabled_providers():
        # A provider switched off (the sandbox in production) accepts nothing, however well signed.
        _record_rejected(provider, "provider not enabled", body=body)
        raise NotificationRejected(_("This payment method is not available."), code="provider_unavailable")
    backend = provider_for(provider)
    try:
        notification = backend.verify_notification(body, headers)
    except NotificationRejected as error:
        _record_rejected(provider, str(error.message), body=body)
        logger.warning("%s notification rejected: %s", provider, error.message)
        raise
    if PaymentNotification.objects.filter(event_key=notification.event_key).exists():
        return _record_duplicate(provider, notification)
    apply = _apply_refund if notification.kind == "refund" else _apply_payment
    try:
        with transaction.atomic():
            return apply(provider, notification)
    except NotificationRejected as error:
        _record_rejected(provider, str(error.message), body=body)
        logger.warning("%s notification rejected: %s", provider, error.message)
        raise
    except IntegrityError:
        # The same event arrived twice at once: the other delivery applied it.
        return _record_duplicate(provider, notification)


def _apply_payment(provider: str, notification) -> PaymentNotification:
    payment = Payment.objects.select_for_update().filter(pk=notification.payment_id, provider=provider).first()
    problem = _payment_problem(payment, notification)
    if problem:
        raise NotificationRejected(problem)
    record = PaymentNotification.objects.create(
        provider=provider,
        event_key=notification.event_key,
        payment=payment,
        outcome=PaymentNotification.Outcome.APPLIED,
        payload=notification.payload,
    )
    if notification.status == "succeeded" and payment.status in Payment.OPEN:
        _succeed(
            payment,
            actor=None,
            provider_reference=notification.provider_reference,
            note=_("Paid through %(provider)s") % {"provider": payment.get_provider_display()},
        )
    elif notification.status == "failed" and payment.status in Payment.OPEN:
        states.transition(payment, to=Payment.Status.FAILED, note=_("The provider reported a failure"))
    # A late "failed" after success (Alipay's TRADE_CLOSED after a full refund), a second success,
    # or a "pending" changes nothing.
    return record


def _payment_problem(payment: Payment | None, notification) -> str:
    if payment is None:
        return _("The notification names an unknown payment.")
    if notification.amount_fen != payment.amount_fen:
        return _("The notification's amount (%(got)s) differs from the payment's (%(expected)s).") % {
            "got": format_fen(notification.amount_fen),
            "expected": format_fen(payment.amount_fen),
        }
    if notification.status not in STATUSES:
        return _("The notification's status is unknown.")
    return ""


def _apply_refund(provider: str, notification) -> PaymentNotification:
    from erhuo.payments.services.refunds import _refund_fail, _refund_succeed

    # Payment first, then refund: the order every refund service locks in.
    payment = Payment.objects.select_for_update().filter(pk=notification.payment_id, provider=provider).first()
    refund = (
        Refund.objects.select_for_update().filter(pk=notification.refund_id, payment=payment).first()
        if payment is not None
        else None
    )
    problem = _refund_problem(refund, notification)
    if problem:
        raise NotificationRejected(problem)
    refund.payment = payment
    detail = ""
    if refund.status == Refund.Status.FAILED and notification.status == "succeeded":
        # The money left after all, though the refund was given up here: finance must look at it.
        detail = "refund already failed here, the provider reports it paid: check by hand"
        logger.error("refund %s failed here, but %s reports it paid (%s)", refund.pk, provider, notification.event_key)
    record = PaymentNotification.objects.create(
        provider=provider,
        event_key=notification.event_key,
        payment=payment,
        refund=refund,
        outcome=PaymentNotification.Outcome.APPLIED,
        detail=detail,
        payload=notification.payload,
    )
    if refund.status == Refund.Status.PENDING and notification.status == "succeeded":
        _refund_succeed(
            refund,
            actor=None,
            provider_reference=notification.provider_reference,
            note=_("Refunded through %(provider)s") % {"provider": payment.get_provider_display()},
        )
    elif refund.status == Refund.Status.PENDING and notification.status == "failed":
        _refund_fail(refund, actor=None, reason=_("The provider reported that the refund failed"))
    # A second success, a "failed" after success, or a "pending" changes nothing.
    return record


def _refund_problem(refund: Refund | None, notification) -> str:
    if refund is None:
        return _("The notification names an unknown refund.")
    if notification.amount_fen != refund.amount_fen:
        return _("The notification's amount (%(got)s) differs from the refund's (%(expected)s).") % {
            "got": format_fen(notification.amount_fen),
            "expected": format_fen(refund.amount_fen),
        }
    if notification.status not in STATUSES:
        return _("The notification's status is unknown.")
    return ""


def _record_rejected(provider: str, detail: str, *, body: bytes) -> None:
    PaymentNotification.objects.create(
        provider=provider,
        outcome=PaymentNotification.Outcome.REJECTED,
        detail=detail[:300],
        payload={"raw": body[:2000].decode("utf-8", "replace")},
    )


def _record_duplicate(provider: str, notification) -> PaymentNotification:
    return PaymentNotification.objects.create(
        provider=provider,
        payment_id=notification.payment_id if Payment.objects.filter(pk=notification.payment_id).exists() else None,
        outcome=PaymentNotification.Outcome.DUPLICATE,
        detail=f"replay of {notification.event_key}"[:300],
        payload=notification.payload,
    )


def sandbox_pay(*, payment_id: int, payer) -> PaymentNotification:
    """The payer pays in the sandbox: the sandbox 'provider' sends its signed notification to us."""
    payment = _open_payment_of(payment_id, payer)
    if payment.provider != Provider.SANDBOX:
        raise PaymentError(_("This payment is not a sandbox payment."), code="not_sandbox")
    if payment.status not in Payment.OPEN:
        raise PaymentError(
            _("This payment is already %(status)s.") % {"status": payment.get_status_display()},
            code="payment_closed",
        )
    body, headers = provider_for(Provider.SANDBOX).notification_for(payment)
    return notification_receive(provider=Provider.SANDBOX, body=body, headers=headers)
