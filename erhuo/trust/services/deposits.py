"""Every write about seller deposits (保证金).

Money moves only through `ledger.services.entry_post`; the balance of
`deposit:<seller>` is the deposit. The flows:

- paying in: `deposit_payment_start` asks payments for a payment (the
  shortfall for the seller's level, or a top-up); when it succeeds, payments
  posts provider cash → `clearing:payments` and emits `payment_succeeded`;
  `deposit_payment_allocate` then moves it `clearing:payments` → the
  seller's deposit, once (idempotency key `deposit-payment:<payment id>`).
  It runs from the event handler (`trust.handlers`), and again from
  `deposits_settle` on every read of the deposit pages and from a periodic
  task, so nothing depends on the handler having run;
- a deduction for a proven violation: deposit → `income:deposit_forfeits`,
  refused with nothing written if it is more than the balance;
- leaving: the seller asks for her deposit back (refused with the reasons
  while anything is pending; on success she loses the seller role so no new
  consignment starts); finance transfers the whole balance and confirms:
  deposit → `cash:manual`.
"""

import re

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from erhuo.accounts import roles as role_registry
from erhuo.accounts.models import User
from erhuo.accounts.services import role_grant, role_revoke
from erhuo.core import events, states
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.images import clean_image
from erhuo.core.money import format_fen
from erhuo.ledger import accounts as ledger_accounts
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.models import Account, JournalEntry
from erhuo.ledger.services import InsufficientBalance, entry_post
from erhuo.payments.models import Payment
from erhuo.payments.services import payment_create
from erhuo.trust import selectors as trust_selectors
from erhuo.trust.deposit_selectors import deposit_return_blockers
from erhuo.trust.models import DepositDeduction, DepositEvidencePhoto, DepositPolicy, DepositReturn

DEDUCT_PERMISSION = "trust.decide_deposit_deduction"
RETURN_PERMISSION = "trust.confirm_deposit_return"
PURPOSE = "deposit"
MIN_TOP_UP_FEN = 100  # ¥1
MAX_TOP_UP_FEN = 1_000_000  # ¥10,000
MAX_EVIDENCE_PHOTOS = 6
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
LABEL_CODE = re.compile(r"EH\d{8}")


class DepositError(Conflict):
    code = "deposit_not_allowed"


def payment_reference(seller) -> str:
    return f"deposit:{seller.pk}"


def allocation_key(payment_id: int) -> str:
    return f"deposit-payment:{payment_id}"


def _lock_user(user) -> None:
    # One deposit decision per seller at a time: starting a payment, asking for the money back.
    User.objects.select_for_update().filter(pk=user.pk).first()


# --- paying in -----------------------------------------------------------------


def deposit_payment_start(
    *, seller, provider: str, amount_fen: int | None = None, idempotency_key: str | None = None
) -> Payment:
    """A payment for the seller's deposit: the shortfall for her level, or a top-up she chooses (at least ¥1).

    The same idempotency key returns the same payment. One deposit payment
    may be open at a time (pay or cancel it first); a seller who asked for
    her deposit back cannot pay in.
    """
    if seller is None or not seller.is_authenticated or not seller.is_active:
        raise PermissionRefused(_("Log in to pay your deposit."), code="login_required")
    if idempotency_key:
        existing = Payment.objects.filter(
            payer=seller, idempotency_key=idempotency_key.strip()[:80], purpose=PURPOSE
        ).first()
        if existing is not None:
            return existing
    if not trust_selectors.is_verified(seller):
        raise PermissionRefused(
            _("Only verified sellers pay a deposit. Get verified first."), code="seller_not_verified"
        )
    if amount_fen is not None and (not isinstance(amount_fen, int) or isinstance(amount_fen, bool)):
        raise ValidationFailed(_("The amount is not valid."), code="amount_invalid")
    with transaction.atomic():
        _lock_user(seller)
        _settle(Payment.objects.filter(payer=seller))
        if DepositReturn.objects.filter(seller=seller, status=DepositReturn.Status.REQUESTED).exists():
            raise DepositError(
                _("You asked for your deposit back; cancel that request before paying in again."),
                code="deposit_return_requested",
            )
        open_payment = Payment.objects.filter(payer=seller, purpose=PURPOSE, status__in=Payment.OPEN).first()
        if open_payment is not None:
            raise DepositError(
                _("Deposit payment #%(id)s is still open: pay it or cancel it first.") % {"id": open_payment.pk},
                code="deposit_payment_open",
            )
        required = DepositPolicy.current().required_fen(trust_selectors.seller_level(seller))
        shortfall = max(0, required - ledger_selectors.deposit_balance_fen(seller))
        if amount_fen is None:
            if not shortfall:
                raise ValidationFailed(
                    _("Your deposit is complete. To top it up, say how much."),
                    code="top_up_amount_required",
                    fields={"amount": [_("Enter an amount of at least ¥1.")]},
                )
            amount_fen = shortfall
        minimum = max(shortfall, MIN_TOP_UP_FEN)
        if not (minimum <= amount_fen <= MAX_TOP_UP_FEN):
            raise ValidationFailed(
                _("Pay between %(min)s and %(max)s.") % {"min": format_fen(minimum), "max": format_fen(MAX_TOP_UP_FEN)},
                code="amount_invalid",
                fields={
                    "amount": [
                        _("Between %(min)s and %(max)s.")
                        % {"min": format_fen(minimum), "max": format_fen(MAX_TOP_UP_FEN)}
                    ]
                },
            )
        description = _("Seller deposit") if shortfall else _("Seller deposit top-up")
        return payment_create(
            payer=seller,
            amount_fen=amount_fen,
            purpose=PURPOSE,
            reference=payment_reference(seller),
            description=str(description),
            provider=provider,
            idempotency_key=idempotency_key,
            return_path=reverse("trust:deposit"),
        )


def deposit_payment_allocate(*, payment_id: int) -> JournalEntry | None:
    """Move a succeeded deposit payment from payments clearing to the seller's deposit, once.

    Returns the entry (the existing one when it was already allocated), or
    None when the payment is not a succeeded deposit payment.
    """
    key = allocation_key(payment_id)
    existing = JournalEntry.objects.filter(key=key).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        # Lock the payment: the handler and the settlement may allocate it at the same moment; the second waits,
        # then finds the entry and neither posts nor announces it twice.
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("payer")
            .filter(pk=payment_id, purpose=PURPOSE)
            .first()
        )
        if payment is None or payment.status != Payment.Status.SUCCEEDED:
            return None
        existing = JournalEntry.objects.filter(key=key).first()
        if existing is not None:
            return existing
        seller = payment.payer
        clearing = ledger_accounts.clearing_account()
        entry = entry_post(
            kind="deposit_paid",
            lines=[(clearing, payment.amount_fen), (ledger_accounts.deposit_account(seller), -payment.amount_fen)],
            memo=_("Deposit paid in (payment #%(id)s)") % {"id": payment.pk},
            reference=payment_reference(seller),
            key=key,
            # Clearing holds exactly the money received and not yet allocated: it never goes below zero.
            nonnegative=(clearing,),
        )
        events.emit("deposit_paid_in", seller_id=seller.pk, payment_id=payment.pk, amount_fen=payment.amount_fen)
    return entry


def _settle(payments) -> int:
    unallocated = (
        payments.filter(purpose=PURPOSE, status=Payment.Status.SUCCEEDED)
        .annotate(
            allocated=Exists(
                JournalEntry.objects.filter(
                    key=Concat(Value("deposit-payment:"), Cast(OuterRef("pk"), output_field=CharField()))
                )
            )
        )
        .filter(allocated=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    count = 0
    for payment_id in list(unallocated):
        if deposit_payment_allocate(payment_id=payment_id) is not None:
            count += 1
    return count


def deposits_settle(*, seller=None) -> int:
    """Allocate every succeeded deposit payment not yet allocated (of one seller, or of everyone).

    Idempotent; runs on reads of the deposit pages and from a periodic task,
    so an allocation never waits for the event handler.
    """
    payments = Payment.objects.all() if seller is None else Payment.objects.filter(payer=seller)
    return _settle(payments)


# --- deductions ------------------------------------------------------------------


def _clean_evidence(photos) -> list:
    photos = [photo for photo in (photos or ()) if photo]
    if len(photos) > MAX_EVIDENCE_PHOTOS:
        raise ValidationFailed(
            _("At most %(count)s evidence photos.") % {"count": MAX_EVIDENCE_PHOTOS},
            code="too_many_photos",
            fields={"evidence_photos": [_("Too many photos.")]},
        )
    return [clean_image(photo, max_bytes=EVIDENCE_MAX_BYTES, field="evidence_photos") for photo in photos]


def _item_fields(item_reference: str) -> dict:
    reference = (item_reference or "").strip().upper()
    if not reference:
        return {}
    if reference.isdigit() and len(reference) <= 12:
        return {"item_id": int(reference)}
    if LABEL_CODE.fullmatch(reference):
        return {"label_code": reference}
    raise ValidationFailed(
        _("Name the item by its number or its label code (EH…)."),
        code="item_reference_invalid",
        fields={"item_reference": [_("An item number or a label code like EH12345678.")]},
    )


def deposit_deduct(
    *,
    seller,
    actor,
    amount_fen: int,
    violation: str,
    decision: str,
    evidence_photos=(),
    item_reference: str = "",
) -> DepositDeduction:
    """Forfeit part of a seller's deposit for a proven violation, with the decision and its evidence.

    More than the balance is refused (`insufficient_balance`) and nothing is
    written: no entry, no row, no photo file.
    """
    if actor is None or not actor.is_active or not actor.has_perm(DEDUCT_PERMISSION):
        raise PermissionRefused(_("Only customer service decides deposit deductions."), code="deduction_denied")
    if seller.pk == actor.pk:
        raise PermissionRefused(_("Nobody decides a deduction from their own deposit."), code="own_deposit")
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise ValidationFailed(
            _("The amount must be more than zero."), code="amount_invalid", fields={"amount": [_("More than zero.")]}
        )
    if violation not in DepositDeduction.Violation.values:
        raise ValidationFailed(
            _("Choose the violation."), code="violation_invalid", fields={"violation": [_("Choose one.")]}
        )
    decision = (decision or "").strip()
    if not decision:
        raise ValidationFailed(
            _("Write the decision: what was proven, and why this amount."),
            code="decision_required",
            fields={"decision": [_("Required.")]},
        )
    item_fields = _item_fields(item_reference)
    images = _clean_evidence(evidence_photos)
    written: list[tuple] = []
    try:
        with transaction.atomic():
            _settle(Payment.objects.filter(payer=seller))
            deposit = ledger_accounts.deposit_account(seller)
            try:
                entry = entry_post(
                    kind="deposit_deducted",
                    lines=[(deposit, amount_fen), (ledger_accounts.forfeits_account(), -amount_fen)],
                    memo=_("Deposit deducted: %(violation)s")
                    % {"violation": DepositDeduction.Violation(violation).label},
                    reference=payment_reference(seller),
                    actor=actor,
                    nonnegative=(deposit,),
                )
            except InsufficientBalance:
                # Said in the seller's terms, on the amount field, rather than in the ledger's.
                held = format_fen(ledger_selectors.balance_fen(deposit))
                raise InsufficientBalance(
                    _("Her deposit holds %(held)s: a deduction cannot be more than that.") % {"held": held},
                    fields={"amount": [_("At most %(held)s.") % {"held": held}]},
                ) from None
            deduction = DepositDeduction.objects.create(
                seller=seller,
                amount_fen=amount_fen,
                violation=violation,
                decision=decision[:2000],
                decided_by=actor,
                entry=entry,
                **item_fields,
            )
            for image in images:
                photo = DepositEvidencePhoto(deduction=deduction, width=image.width, height=image.height)
                photo.image.save(f"{get_random_string(16)}.{image.format}", image.content, save=False)
                written.append((photo.image.storage, photo.image.name))
                photo.save()
            events.emit(
                "deposit_deducted",
                seller_id=seller.pk,
                deduction_id=deduction.pk,
                amount_fen=amount_fen,
                violation=violation,
            )
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise
    return deduction


# --- leaving and getting the deposit back -----------------------------------------------


def deposit_return_request(*, seller) -> DepositReturn:
    """The seller leaves: ask for the whole deposit back. She stops being a seller at once."""
    if seller is None or not seller.is_authenticated or not seller.is_active:
        raise PermissionRefused(_("Log in first."), code="login_required")
    with transaction.atomic():
        _lock_user(seller)
        _settle(Payment.objects.filter(payer=seller))
        blockers = deposit_return_blockers(seller=seller)
        if blockers:
            raise DepositError(
                _("Your deposit cannot be returned yet: %(reasons)s") % {"reasons": " ".join(blockers)},
                code="deposit_return_blocked",
                fields={"blockers": blockers},
            )
        request = DepositReturn.objects.create(seller=seller, amount_fen=ledger_selectors.deposit_balance_fen(seller))
        states.record_start(request, actor=seller, note=_("The seller is leaving."))
        role_revoke(
            user=seller,
            role=role_registry.SELLER,
            actor=seller,
            note=_("Asked for the deposit back (deposit return #%(id)s)") % {"id": request.pk},
            check_actor=False,
        )
    return request


def deposit_return_cancel(*, return_id: int, seller) -> DepositReturn:
    """The seller stays after all. A verified seller gets the seller role back."""
    with transaction.atomic():
        request = DepositReturn.objects.select_for_update().filter(pk=return_id, seller=seller).first()
        if request is None:
            raise NotFound(_("No such deposit return."), code="deposit_return_not_found")
        if request.status != DepositReturn.Status.REQUESTED:
            raise DepositError(
                _("This return is already %(status)s.") % {"status": request.get_status_display()},
                code="deposit_return_closed",
            )
        states.transition(request, to=DepositReturn.Status.CANCELLED, actor=seller, note=_("Cancelled by the seller"))
        if trust_selectors.is_verified(seller):
            role_grant(
                user=seller,
                role=role_registry.SELLER,
                actor=seller,
                note=_("Cancelled deposit return #%(id)s") % {"id": request.pk},
                check_actor=False,
            )
    return request


def deposit_return_confirm(*, return_id: int, actor, note: str = "") -> DepositReturn:
    """Finance transferred the deposit back: post the whole balance at this moment and close the request."""
    if actor is None or not actor.is_active or not actor.has_perm(RETURN_PERMISSION):
        raise PermissionRefused(_("Only finance confirms deposit returns."), code="finance_only")
    with transaction.atomic():
        request = DepositReturn.objects.select_for_update().select_related("seller").filter(pk=return_id).first()
        if request is None:
            raise NotFound(_("No such deposit return."), code="deposit_return_not_found")
        if request.seller_id == actor.pk:
            raise PermissionRefused(_("Nobody confirms their own deposit return."), code="own_deposit")
        if request.status != DepositReturn.Status.REQUESTED:
            raise DepositError(
                _("This return is already %(status)s.") % {"status": request.get_status_display()},
                code="deposit_return_closed",
            )
        seller = request.seller
        _settle(Payment.objects.filter(payer=seller))
        deposit = ledger_accounts.deposit_account(seller)
        cash = ledger_accounts.cash_account("manual")
        # Lock both accounts (in primary-key order, as entry_post does, so no two entries wait on each other)
        # before reading the balance: a deduction decided meanwhile waits, and what is paid is what is there.
        locked = {
            a.pk: a for a in Account.objects.select_for_update().filter(pk__in=[deposit.pk, cash.pk]).order_by("pk")
        }
        balance = locked[deposit.pk].balance_fen
        entry = None
        if balance > 0:
            entry = entry_post(
                kind="deposit_returned",
                lines=[(deposit, balance), (cash, -balance)],
                memo=_("Deposit returned to the seller (return #%(id)s)") % {"id": request.pk},
                reference=payment_reference(seller),
                key=f"deposit-return:{request.pk}",
                actor=actor,
                nonnegative=(deposit,),
            )
        states.transition(
            request,
            to=DepositReturn.Status.PAID,
            actor=actor,
            note=(note or "").strip()[:300] or _("Transferred back by finance"),
            updates={"amount_fen": balance, "paid_by": actor, "paid_at": timezone.now(), "entry": entry},
            event_payload={"seller_id": seller.pk, "amount_fen": balance},
        )
    return request


# --- personal data ---------------------------------------------------------------------


def erase_blockers(*, user) -> list[str]:
    """A deposit still held, or a return being processed: the account cannot be erased yet."""
    blockers = []
    balance = ledger_selectors.deposit_balance_fen(user)
    if balance > 0:
        blockers.append(
            _("Your deposit of %(amount)s is still held: ask for it back first.") % {"amount": format_fen(balance)}
        )
    if DepositReturn.objects.filter(seller=user, status=DepositReturn.Status.REQUESTED).exists():
        blockers.append(_("Your deposit return is still being processed."))
    return blockers


def personal_data_erase(*, user) -> None:
    """Nothing is erased here. Deductions, their decisions and evidence photos, and returns are records of
    decisions about money (kept for accounting and for disputes); they name the seller only by her account."""
