"""Refunds: money of a succeeded payment going back to its payer, through the payment's provider.

The accounting contract (ADR 9): the app asking for a refund has already
moved the money from its own ledger account back into payments clearing,
in the same transaction as its call to `refund_request`. Payments only
pays it out: when the provider confirms, clearing → provider cash is posted
in the same transaction as the refund's move to succeeded, and
`refund_succeeded` is emitted after commit. A failed refund leaves the
money in clearing and emits `refund_failed`; the asking app decides what
becomes of it (a new refund with a new key, or moving it back). Finance
can ask again for a failed refund (`refund_retry`): the money is still in
clearing, so a new refund of the same amount pays it out, once per failure.

How each provider pays back:

- sandbox: accepted at once and confirmed by its signed refund
  notification, verified like a real one, in the same transaction;
- manual: finance transfers the money back by hand, then confirms
  (`refund_manual_confirm`);
- Alipay and WeChat Pay: their refund APIs, called right after commit,
  outside any transaction or lock (`refund_submit`); a refund still pending
  is asked again by `refunds_submit_due` (a periodic task), under the same
  refund number, so the provider never pays it twice. WeChat Pay may answer
  "processing" and confirm with a refund notification.

Locks: the payment row, then the refund row, in every service here, so two
refunds of one payment are serialised and can never add up to more than it.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.core import states
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.money import format_fen
from erhuo.ledger import accounts as ledger_accounts
from erhuo.ledger.services import entry_post
from erhuo.payments import selectors
from erhuo.payments.models import Payment, Provider, Refund
from erhuo.payments.providers import FAILED, PENDING, PROVIDERS, SUCCEEDED, RefundResult, provider_for
from erhuo.payments.services.payments import CONFIRM_PERMISSION

logger = logging.getLogger(__name__)

KEY_MAX_LENGTH = 120
REASON_MAX_LENGTH = 300
# A provider refund still pending is asked again after this long.
RETRY_AFTER = timedelta(minutes=10)


class RefundError(Conflict):
    code = "refund_not_allowed"


def _event_payload(refund: Refund, payment: Payment) -> dict:
    return {
        "refund_id": refund.pk,
        "payment_id": payment.pk,
        "purpose": payment.purpose,
        "reference": payment.reference,
        "payer_id": payment.payer_id,
        "amount_fen": refund.amount_fen,
        "key": refund.key,
    }


def refund_request(*, payment_id: int, amount_fen: int, reason: str, key: str, actor=None) -> Refund:
    """Give `amount_fen` of a succeeded payment back to its payer; the same `key` returns the same refund.

    Call it in the transaction that moved the money back into payments
    clearing (ADR 9). Refused, with nothing changed: a payment that is not
    paid (`payment_not_refundable`), an amount that is not a positive whole
    number of fen (`amount_invalid`), more than what is left of the payment
    after its other refunds, pending or paid (`refund_exceeds_payment`), a
    key already used for another refund (`idempotency_key_reused`).
    """
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise ValidationFailed(
            _("A refund is a positive amount."),
            code="amount_invalid",
            fields={"amount_fen": [_("More than ¥0, in fen.")]},
        )
    key = (key or "").strip()
    if not key or len(key) > KEY_MAX_LENGTH:
        raise ValidationFailed(
            _("A refund needs an idempotency key of at most %(max)s characters.") % {"max": KEY_MAX_LENGTH},
            code="key_invalid",
        )
    reason = (reason or "").strip()[:REASON_MAX_LENGTH]
    if not reason:
        raise ValidationFailed(
            _("Say why the money is refunded."), code="reason_required", fields={"reason": [_("Required.")]}
        )
    try:
        with transaction.atomic():
            # The payment's row lock serialises refunds of one payment (and requests with one key).
            payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
            if payment is None:
                raise NotFound(_("Payment not found."), code="payment_not_found")
            existing = Refund.objects.filter(key=key).first()
            if existing is not None:
                return _same_refund_or_conflict(existing, payment_id=payment_id, amount_fen=amount_fen)
            if payment.status != Payment.Status.SUCCEEDED:
                raise RefundError(
                    _("Only a paid payment can be refunded; this one is %(status)s.")
                    % {"status": payment.get_status_display()},
                    code="payment_not_refundable",
                )
            left = selectors.refundable_fen(payment)
            if amount_fen > left:
                raise RefundError(
                    _(
                        "A refund of %(amount)s is more than what is left of this payment: %(left)s can still be "
                        "refunded (paid %(paid)s, refunded or being refunded %(refunded)s)."
                    )
                    % {
                        "amount": format_fen(amount_fen),
                        "left": format_fen(left),
                        "paid": format_fen(payment.amount_fen),
                        "refunded": format_fen(payment.amount_fen - left),
                    },
                    code="refund_exceeds_payment",
                )
            refund = Refund.objects.create(
                payment=payment, amount_fen=amount_fen, reason=reason, key=key, requested_by=actor
            )
            refund.payment = payment
            states.record_start(refund, actor=actor, note=reason)
            _ask_provider(refund)
    except IntegrityError:
        # The same key was inserted by a concurrent request for another payment; the first one stands.
        existing = Refund.objects.filter(key=key).first()
        if existing is None:
            raise
        return _same_refund_or_conflict(existing, payment_id=payment_id, amount_fen=amount_fen)
    refund.refresh_from_db()
    return refund


def _same_refund_or_conflict(existing: Refund, *, payment_id: int, amount_fen: int) -> Refund:
    if (existing.payment_id, existing.amount_fen) != (payment_id, amount_fen):
        raise Conflict(
            _("This idempotency key was already used for a different refund."), code="idempotency_key_reused"
        )
    return existing


def _ask_provider(refund: Refund) -> None:
    """Inside refund_request's transaction: local providers answer now; remote ones are called after commit."""
    payment = refund.payment
    backend = provider_for(payment.provider)
    if backend.calls_out:
        # Never a network call inside a transaction holding the payment's lock (or the caller's locks).
        transaction.on_commit(lambda refund_id=refund.pk: _submit_quietly(refund_id))
        return
    _apply_result(refund, backend.refund(refund))
    if payment.provider == Provider.SANDBOX:
        from erhuo.payments.services.notifications import notification_receive

        body, headers = backend.refund_notification_for(refund)
        notification_receive(provider=Provider.SANDBOX, body=body, headers=headers)


def _submit_quietly(refund_id: int) -> None:
    try:
        refund_submit(refund_id=refund_id)
    except Exception:
        # The periodic task asks again; the caller's commit already stands.
        logger.exception("refund %s: asking the provider failed", refund_id)


def refund_submit(*, refund_id: int) -> Refund | None:
    """Ask the provider (Alipay, WeChat Pay) to pay a pending refund, then record its answer.

    Call it outside any transaction: the provider is called with no lock
    held, then a short transaction records the answer (unless a
    notification settled the refund meanwhile). Asking again is harmless:
    the provider knows the refund by its number and pays it once.
    """
    refund = Refund.objects.select_related("payment").filter(pk=refund_id).first()
    if refund is None or refund.status != Refund.Status.PENDING:
        return refund
    backend = PROVIDERS.get(refund.payment.provider)
    if backend is None or not backend.calls_out:
        return refund
    if not backend.is_configured():
        logger.error("refund %s: %s is not configured; the refund waits", refund.pk, refund.payment.provider)
        return refund
    try:
        result = backend.refund(refund)
    except Exception as error:
        logger.exception("refund %s: the provider call failed", refund.pk)
        result = RefundResult(status=PENDING, detail=type(error).__name__)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        refund.payment = payment
        if refund.status == Refund.Status.PENDING:
            _apply_result(refund, result)
    return refund


def refunds_submit_due(*, now=None, limit: int = 100) -> int:
    """Ask the providers again about refunds still pending (a lost call, a timeout, "processing")."""
    now = now or timezone.now()
    remote = [name for name, backend in PROVIDERS.items() if backend.calls_out]
    due = (
        Refund.objects.filter(status=Refund.Status.PENDING, payment__provider__in=remote)
        .filter(
            Q(last_attempt_at__isnull=True, created_at__lte=now - timedelta(minutes=1))
            | Q(last_attempt_at__lte=now - RETRY_AFTER)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    count = 0
    for refund_id in list(due):
        refund_submit(refund_id=refund_id)
        count += 1
    return count


def _apply_result(refund: Refund, result: RefundResult) -> None:
    """Record a provider's answer, inside a transaction holding the payment's and the refund's locks."""
    now = timezone.now()
    remote = provider_for(refund.payment.provider).calls_out
    if remote:
        Refund.objects.filter(pk=refund.pk).update(attempts=F("attempts") + 1, last_attempt_at=now, updated_at=now)
        refund.attempts += 1
        refund.last_attempt_at = now
    if result.status == SUCCEEDED:
        _refund_succeed(refund, actor=None, provider_reference=result.provider_reference)
    elif result.status == FAILED:
        _refund_fail(
            refund,
            actor=None,
            reason=_("The provider refused the refund: %(detail)s") % {"detail": result.detail or "?"},
        )
    elif result.provider_reference and result.provider_reference != refund.provider_reference:
        Refund.objects.filter(pk=refund.pk).update(provider_reference=result.provider_reference[:80])
        refund.provider_reference = result.provider_reference[:80]


def _refund_succeed(refund: Refund, *, actor, provider_reference: str = "", note: str = "") -> Refund:
    """The money went back: mark it and post clearing → provider cash, inside the caller's transaction."""
    payment = refund.payment
    updates = {"succeeded_at": timezone.now(), "confirmed_by": actor}
    if provider_reference:
        updates["provider_reference"] = provider_reference[:80]
    states.transition(
        refund,
        to=Refund.Status.SUCCEEDED,
        actor=actor,
        note=note,
        updates=updates,
        event_payload=_event_payload(refund, payment),
    )
    entry_post(
        kind="refund_paid",
        lines=[
            (ledger_accounts.clearing_account(), refund.amount_fen),
            (ledger_accounts.cash_account(payment.provider), -refund.amount_fen),
        ],
        memo=_("Refund #%(refund)s of payment #%(payment)s: %(reason)s")
        % {"refund": refund.pk, "payment": payment.pk, "reason": refund.reason},
        reference=f"payment:{payment.pk}",
        key=f"refund:{refund.pk}",
        actor=actor,
    )
    # The transition above emits `refund_succeeded` after commit.
    return refund


def _refund_fail(refund: Refund, *, actor, reason: str) -> Refund:
    """The refund will not be paid: the money stays in clearing; `refund_failed` tells the asking app."""
    payment = refund.payment
    states.transition(
        refund,
        to=Refund.Status.FAILED,
        actor=actor,
        note=reason[:REASON_MAX_LENGTH],
        event_payload={**_event_payload(refund, payment), "detail": reason[:REASON_MAX_LENGTH]},
    )
    return refund


def _require_finance(actor) -> None:
    if actor is None or not actor.has_perm(CONFIRM_PERMISSION):
        raise PermissionRefused(_("Only finance can settle refunds."), code="finance_only")


def _locked_refund(refund_id: int) -> Refund:
    """The refund and its payment, locked payment first; inside a transaction."""
    payment_id = Refund.objects.filter(pk=refund_id).values_list("payment_id", flat=True).first()
    if payment_id is None:
        raise NotFound(_("Refund not found."), code="refund_not_found")
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    refund.payment = payment
    return refund


def refund_manual_confirm(*, refund_id: int, actor, note: str = "") -> Refund:
    """Finance transferred a manual payment's refund back by hand: the refund is paid."""
    _require_finance(actor)
    with transaction.atomic():
        refund = _locked_refund(refund_id)
        if refund.payment.provider != Provider.MANUAL:
            raise RefundError(_("Only refunds of manual transfers are confirmed by hand."), code="not_manual")
        if refund.payment.payer_id == actor.pk:
            raise PermissionRefused(_("Nobody confirms a refund to themselves."), code="own_refund")
        if refund.status != Refund.Status.PENDING:
            raise RefundError(
                _("This refund is already %(status)s.") % {"status": refund.get_status_display()},
                code="refund_closed",
            )
        return _refund_succeed(refund, actor=actor, note=(note or "").strip()[:300] or _("Transferred back by finance"))


def refund_fail(*, refund_id: int, reason: str, actor=None) -> Refund:
    """A pending refund will not be paid: the provider refused it, or (manual) finance cannot pay it back.

    With an `actor`, only finance may do it, and only for a manual transfer
    (a provider's refund is failed by the provider's own answer: it may
    still be paid). The money stays in payments clearing; `refund_failed`
    tells the app that asked.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Say why the refund cannot be paid."), code="reason_required", fields={"reason": [_("Required.")]}
        )
    if actor is not None:
        _require_finance(actor)
    with transaction.atomic():
        refund = _locked_refund(refund_id)
        if actor is not None and refund.payment.provider != Provider.MANUAL:
            raise RefundError(_("Only refunds of manual transfers are given up by hand."), code="not_manual")
        if refund.status != Refund.Status.PENDING:
            raise RefundError(
                _("This refund is already %(status)s.") % {"status": refund.get_status_display()},
                code="refund_closed",
            )
        return _refund_fail(refund, actor=actor, reason=reason)


def refund_retry(*, refund_id: int, actor) -> Refund:
    """Finance asks again for a refund that failed: a new refund of the same amount, same payment and payer.

    The failed refund's money never left payments clearing, so nothing is
    posted here; the new refund pays it out as any refund does. Once per
    failed refund (a second click returns the same retry). Refused, with
    nothing changed: not finance (`finance_only`), a refund that has not
    failed (`refund_not_failed`).
    """
    _require_finance(actor)
    with transaction.atomic():
        refund = _locked_refund(refund_id)
        if refund.status != Refund.Status.FAILED:
            raise RefundError(
                _("Only a failed refund can be asked again; this one is %(status)s.")
                % {"status": refund.get_status_display()},
                code="refund_not_failed",
            )
        return refund_request(
            payment_id=refund.payment_id,
            amount_fen=refund.amount_fen,
            reason=_("Asked again after refund #%(id)s failed: %(reason)s")
            % {"id": refund.pk, "reason": refund.reason},
            key=selectors.retry_key(refund.pk),
            actor=actor,
        )
