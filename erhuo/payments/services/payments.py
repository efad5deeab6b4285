"""Payments: creating, paying by transfer, cancelling.

The flow: the app that needs money calls `payment_create` (idempotent on
the client's key); the payer pays by manual transfer (`payment_proof_submit`,
then finance's `payment_manual_confirm` or `payment_manual_reject`) or
through a provider whose notification reaches `notification_receive`
(`services.notifications`). Success posts provider cash → payments clearing
in the ledger in the same transaction as the status change, and emits
`payment_succeeded` after commit for the app that asked to allocate the money.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from erhuo.core import states
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.images import clean_image
from erhuo.ledger import accounts as ledger_accounts
from erhuo.ledger.services import entry_post
from erhuo.payments.models import Payment, Provider, Refund
from erhuo.payments.providers import provider_for

CONFIRM_PERMISSION = "payments.confirm_manual_payment"
MAX_AMOUNT_FEN = 10_000_000  # ¥100,000: above this, something is wrong with the caller
PROOF_MAX_BYTES = 8 * 1024 * 1024


class PaymentError(Conflict):
    code = "payment_not_allowed"


def payment_create(
    *,
    payer,
    amount_fen: int,
    purpose: str,
    reference: str,
    description: str,
    provider: str,
    idempotency_key: str | None = None,
    return_path: str = "",
) -> Payment:
    """A payment waiting to be paid. The same payer and key return the same payment."""
    from erhuo.payments.providers import enabled_providers

    if payer is None or not payer.is_active:
        raise PermissionRefused(_("Log in to pay."), code="payer_inactive")
    if provider not in enabled_providers():
        raise ValidationFailed(
            _("This payment method is not available."),
            code="provider_unavailable",
            fields={"provider": [_("Choose another payment method.")]},
        )
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or not (0 < amount_fen <= MAX_AMOUNT_FEN):
        raise ValidationFailed(_("The amount is not valid."), code="amount_invalid")
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()[:80] or None
    if return_path and not (return_path.startswith("/") and url_has_allowed_host_and_scheme(return_path, None)):
        return_path = ""
    if idempotency_key:
        existing = Payment.objects.filter(payer=payer, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_request_or_conflict(existing, amount_fen=amount_fen, purpose=purpose, reference=reference)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                payer=payer,
                amount_fen=amount_fen,
                purpose=purpose,
                reference=reference,
                description=description[:120],
                provider=provider,
                idempotency_key=idempotency_key,
                return_path=return_path[:200],
            )
            states.record_start(payment, actor=payer)
    except IntegrityError:
        # The same key arrived twice at once; the first request's payment stands.
        existing = Payment.objects.get(payer=payer, idempotency_key=idempotency_key)
        return _same_request_or_conflict(existing, amount_fen=amount_fen, purpose=purpose, reference=reference)
    return payment


def _same_request_or_conflict(existing: Payment, *, amount_fen: int, purpose: str, reference: str) -> Payment:
    if (existing.amount_fen, existing.purpose, existing.reference) != (amount_fen, purpose, reference):
        raise Conflict(
            _("This idempotency key was already used for a different payment."), code="idempotency_key_reused"
        )
    return existing


def payment_start(*, payment: Payment, mobile: bool = False, openid: str = "", client_ip: str = "") -> dict:
    """What the payer must do next (instructions, where to go, or what the page hands to the provider).

    `mobile` picks Alipay's phone page; `openid` (the payer inside WeChat)
    picks WeChat Pay's JSAPI over H5; `client_ip` is what WeChat Pay's H5
    asks for. Raises `ProviderError` when the provider cannot be reached.
    """
    return provider_for(payment.provider).start(payment, mobile=mobile, openid=openid, client_ip=client_ip)


def _open_payment_of(payment_id: int, payer) -> Payment:
    payment = Payment.objects.filter(pk=payment_id, payer=payer).first()
    if payment is None:
        raise NotFound(_("Payment not found."), code="payment_not_found")
    return payment


def payment_proof_submit(*, payment_id: int, payer, proof, note: str = "") -> Payment:
    """The payer uploads a screenshot of a manual transfer; finance will check it."""
    payment = _open_payment_of(payment_id, payer)
    if payment.provider != Provider.MANUAL:
        raise PaymentError(_("Only manual transfers need a proof."), code="proof_not_needed")
    if payment.status not in Payment.OPEN:
        raise PaymentError(
            _("This payment is already %(status)s.") % {"status": payment.get_status_display()},
            code="payment_closed",
        )
    image = clean_image(proof, max_bytes=PROOF_MAX_BYTES, field="proof")
    old_name = payment.proof.name
    name = f"{get_random_string(16)}.{image.format}"
    with transaction.atomic():
        payment.proof.save(name, image.content, save=False)
        try:
            states.transition(
                payment,
                to=Payment.Status.SUBMITTED,
                actor=payer,
                note=(note or "")[:200],
                updates={"proof": payment.proof.name, "payer_note": (note or "")[:200]},
            )
        except Exception:
            payment.proof.storage.delete(payment.proof.name)
            raise
    if old_name and old_name != payment.proof.name:
        transaction.on_commit(lambda: payment.proof.storage.delete(old_name))
    return payment


def _succeed(payment: Payment, *, actor, provider_reference: str = "", note: str = "") -> Payment:
    """Mark paid and post the money received, inside the caller's transaction."""
    now = timezone.now()
    states.transition(
        payment,
        to=Payment.Status.SUCCEEDED,
        actor=actor,
        note=note,
        updates={
            "paid_at": now,
            "provider_reference": provider_reference[:80],
            "confirmed_by": actor,
        },
        event_payload={
            "payment_id": payment.pk,
            "purpose": payment.purpose,
            "reference": payment.reference,
            "payer_id": payment.payer_id,
            "amount_fen": payment.amount_fen,
        },
    )
    entry_post(
        kind="payment_received",
        lines=[
            (ledger_accounts.cash_account(payment.provider), payment.amount_fen),
            (ledger_accounts.clearing_account(), -payment.amount_fen),
        ],
        memo=_("Payment #%(id)s: %(what)s") % {"id": payment.pk, "what": payment.description},
        reference=f"payment:{payment.pk}",
        key=f"payment:{payment.pk}",
        actor=actor,
    )
    # The transition above emits `payment_succeeded` (with purpose and reference) after commit.
    return payment


def _require_finance(actor) -> None:
    if actor is None or not actor.has_perm(CONFIRM_PERMISSION):
        raise PermissionRefused(_("Only finance can confirm transfers."), code="finance_only")


def payment_manual_confirm(*, payment_id: int, actor, note: str = "") -> Payment:
    """Finance saw the money arrive on the group's account."""
    _require_finance(actor)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is None:
            raise NotFound(_("Payment not found."), code="payment_not_found")
        if payment.provider != Provider.MANUAL:
            raise PaymentError(_("Only manual transfers are confirmed by hand."), code="not_manual")
        if payment.payer_id == actor.pk:
            raise PermissionRefused(_("Nobody confirms their own payment."), code="own_payment")
        if payment.status not in Payment.OPEN:
            raise PaymentError(
                _("This payment is already %(status)s.") % {"status": payment.get_status_display()},
                code="payment_closed",
            )
        return _succeed(payment, actor=actor, note=(note or "")[:300] or _("Transfer confirmed by finance"))


def payment_manual_reject(*, payment_id: int, actor, reason: str) -> Payment:
    """Finance did not find the transfer; the payer is told why and may pay again."""
    _require_finance(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Say why the transfer was not accepted."), code="reason_required", fields={"reason": [_("Required.")]}
        )
    payment = Payment.objects.filter(pk=payment_id, provider=Provider.MANUAL).first()
    if payment is None:
        raise NotFound(_("Payment not found."), code="payment_not_found")
    if payment.status not in Payment.OPEN:
        raise PaymentError(
            _("This payment is already %(status)s.") % {"status": payment.get_status_display()},
            code="payment_closed",
        )
    states.transition(payment, to=Payment.Status.FAILED, actor=actor, note=reason[:300])
    return payment


def payment_cancel(*, payment_id: int, payer) -> Payment:
    """The payer gives up an unpaid payment."""
    payment = _open_payment_of(payment_id, payer)
    if payment.status not in Payment.OPEN:
        raise PaymentError(
            _("This payment is already %(status)s.") % {"status": payment.get_status_display()},
            code="payment_closed",
        )
    states.transition(payment, to=Payment.Status.CANCELLED, actor=payer)
    return payment


def erase_blockers(*, user) -> list[str]:
    blockers = []
    open_count = Payment.objects.filter(payer=user, status__in=Payment.OPEN).count()
    if open_count:
        blockers.append(_("%(count)s payment(s) still waiting; pay or cancel them first.") % {"count": open_count})
    # Finance needs to know whom to pay back until every refund is settled.
    refunding = Refund.objects.filter(payment__payer=user, status=Refund.Status.PENDING).count()
    if refunding:
        blockers.append(_("%(count)s refund(s) still on their way to you.") % {"count": refunding})
    return blockers


def personal_data_erase(*, user) -> None:
    """Payments are accounting records and are kept; the transfer screenshots are personal and are deleted."""
    for payment in Payment.objects.filter(payer=user).exclude(proof=""):
        name = payment.proof.name
        Payment.objects.filter(pk=payment.pk).update(proof="")
        storage = payment.proof.storage
        transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))
