"""Payouts: paying sellers and experts what the ledger says they are owed.

1. `payout_batch_create`: every payable account (sellers' sales, experts'
   commissions) holding at least the minimum gets one line for its whole
   balance, and that money moves at once from the payee's payable account to
   `payouts:in_transit` (one entry per line, key `payout-line:<id>`), so a
   second batch cannot pay it again and the payee's balance shows only what
   came in since.
2. Finance transfers the money from the bank and confirms each line with the
   bank's reference (`payout_line_mark_paid`, or `payout_batch_mark_paid` for
   every pending line at once): in transit → `cash:bank`.
3. A transfer that bounced is failed with a reason (`payout_line_fail`): the
   money goes back from in transit to the payee's payable account, and the
   next batch pays it again.

When no line is pending any more the batch closes: paid, partly paid or
failed. Every service needs `ledger.manage_payouts` (finance), and nobody
confirms a payment to themselves.

Locks are taken in one order everywhere: the batch row, then its lines, then
accounts by primary key (`entry_post` locks accounts that way too).
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.core import events, states
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.money import format_fen
from erhuo.ledger import accounts as well_known
from erhuo.ledger import selectors
from erhuo.ledger.models import Account, PayoutBatch, PayoutLine
from erhuo.ledger.services import entry_post

MANAGE_PERMISSION = "ledger.manage_payouts"
DEFAULT_MINIMUM_FEN = 100
REFERENCE_MAX_LENGTH = 120
REASON_MAX_LENGTH = 300


class PayoutError(Conflict):
    code = "payout_not_allowed"


def _require_manager(actor) -> None:
    if actor is None or not actor.is_active or not actor.has_perm(MANAGE_PERMISSION):
        raise PermissionRefused(_("Only finance can run payouts."), code="payouts_denied")


def _required_text(value: str, *, field: str, code: str, message: str, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(message, code=code, fields={field: [_("Required.")]})
    return text[:max_length]


# --- creating a batch ---------------------------------------------------------------------------


def payout_batch_create(
    *,
    actor,
    minimum_fen: int = DEFAULT_MINIMUM_FEN,
    prefixes: tuple[str, ...] = selectors.PAYABLE_PREFIXES,
) -> PayoutBatch:
    """A batch paying every payable account with `prefixes` that holds at least `minimum_fen`, in full.

    Accounts already in a pending line are skipped. Refused with
    `nothing_to_pay` when no account qualifies (no empty batch is written).
    """
    _require_manager(actor)
    if not isinstance(minimum_fen, int) or isinstance(minimum_fen, bool) or minimum_fen < 1:
        raise ValidationFailed(
            _("The minimum payout is at least ¥0.01."),
            code="minimum_invalid",
            fields={"minimum_fen": [_("At least 1 fen.")]},
        )
    prefixes = tuple(prefixes)
    try:
        with transaction.atomic():
            batch = _batch_create(actor=actor, minimum_fen=minimum_fen, prefixes=prefixes)
    except IntegrityError:
        # Another batch took one of these accounts at the same moment (one pending line per account).
        raise PayoutError(
            _("Another payout batch was created at the same moment. Reload and try again."),
            code="payout_batch_concurrent",
        ) from None
    return batch


def _batch_create(*, actor, minimum_fen: int, prefixes: tuple[str, ...]) -> PayoutBatch:
    in_transit = well_known.payouts_in_transit_account()
    candidate_ids = list(
        selectors.payout_candidates(minimum_fen=minimum_fen, prefixes=prefixes).values_list("pk", flat=True)
    )
    # Lock the candidates and in-transit together, by primary key, then decide on the balances read under
    # the lock: a sale or a refund posted meanwhile is either in this batch's amount or waits for the next.
    list(Account.objects.select_for_update().filter(pk__in=[*candidate_ids, in_transit.pk]).order_by("pk"))
    accounts = list(
        selectors.payout_candidates(minimum_fen=minimum_fen, prefixes=prefixes).filter(pk__in=candidate_ids)
    )
    if not accounts:
        raise PayoutError(
            _("Nobody is owed at least %(minimum)s right now: there is nothing to pay.")
            % {"minimum": format_fen(minimum_fen)},
            code="nothing_to_pay",
        )
    batch = PayoutBatch.objects.create(created_by=actor)
    states.record_start(batch, actor=actor)
    for account in accounts:
        line = PayoutLine.objects.create(
            batch=batch, payee=account.owner, account=account, amount_fen=account.balance_fen
        )
        states.record_start(line, actor=actor)
        entry_post(
            kind="payout_batched",
            lines=[(account, line.amount_fen), (in_transit, -line.amount_fen)],
            memo=_("Payout #%(line)s in batch #%(batch)s to %(payee)s")
            % {"line": line.pk, "batch": batch.pk, "payee": account.owner.display_name},
            reference=line.reference_key,
            key=f"payout-line:{line.pk}",
            actor=actor,
            nonnegative=(account,),
        )
    return batch


# --- settling lines -----------------------------------------------------------------------------


def _locked_batch(batch_id: int) -> PayoutBatch:
    batch = PayoutBatch.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("Payout batch not found."), code="payout_batch_not_found")
    return batch


def _locked_pending_line(line_id: int) -> tuple[PayoutBatch, PayoutLine]:
    batch_id = PayoutLine.objects.filter(pk=line_id).values_list("batch_id", flat=True).first()
    if batch_id is None:
        raise NotFound(_("Payout line not found."), code="payout_line_not_found")
    batch = _locked_batch(batch_id)
    line = PayoutLine.objects.select_for_update().select_related("payee", "account").get(pk=line_id)
    if line.status != PayoutLine.Status.PENDING:
        raise PayoutError(
            _("Payout #%(id)s is already settled: %(status)s.") % {"id": line.pk, "status": line.get_status_display()},
            code="payout_line_settled",
        )
    return batch, line


def _refuse_own(line: PayoutLine, actor) -> None:
    if line.payee_id == actor.pk:
        raise PermissionRefused(
            _("Nobody confirms a payout to themselves: payout #%(id)s is yours; ask a colleague.") % {"id": line.pk},
            code="own_payout",
        )


def _settling_accounts() -> tuple[Account, Account]:
    return well_known.payouts_in_transit_account(), well_known.cash_account(well_known.BANK)


def _pay(line: PayoutLine, *, actor, reference: str, in_transit: Account, bank: Account) -> None:
    """Mark one locked pending line paid and book the money out of the bank, inside the caller's transaction."""
    now = timezone.now()
    states.transition(
        line,
        to=PayoutLine.Status.PAID,
        actor=actor,
        note=reference,
        updates={"reference": reference, "paid_at": now, "paid_by": actor},
    )
    entry_post(
        kind="payout_paid",
        lines=[(in_transit, line.amount_fen), (bank, -line.amount_fen)],
        memo=_("Payout #%(line)s paid to %(payee)s, reference %(reference)s")
        % {"line": line.pk, "payee": line.payee.display_name, "reference": reference},
        reference=line.reference_key,
        key=f"payout-paid:{line.pk}",
        actor=actor,
        nonnegative=(in_transit,),
    )
    events.emit("payout_line_paid", line_id=line.pk, user_id=line.payee_id, amount_fen=line.amount_fen)


def _close_if_settled(batch: PayoutBatch, *, actor) -> None:
    """Close the (locked) batch once no line is pending: paid, partly paid, or failed."""
    S = PayoutLine.Status
    counts = {status: 0 for status in S.values}
    for status in batch.lines.values_list("status", flat=True):
        counts[status] += 1
    if counts[S.PENDING] or not batch.is_open:
        return
    if not counts[S.FAILED]:
        to = PayoutBatch.Status.PAID
    elif not counts[S.PAID]:
        to = PayoutBatch.Status.FAILED
    else:
        to = PayoutBatch.Status.PARTLY_PAID
    states.transition(batch, to=to, actor=actor, data={"paid": counts[S.PAID], "failed": counts[S.FAILED]})


def payout_line_mark_paid(*, line_id: int, actor, reference: str) -> PayoutLine:
    """Finance transferred this line's money: in transit → bank, with the bank's reference."""
    _require_manager(actor)
    reference = _required_text(
        reference,
        field="reference",
        code="reference_required",
        message=_("Copy the transfer's reference from the bank or Alipay."),
        max_length=REFERENCE_MAX_LENGTH,
    )
    with transaction.atomic():
        batch, line = _locked_pending_line(line_id)
        _refuse_own(line, actor)
        in_transit, bank = _settling_accounts()
        _pay(line, actor=actor, reference=reference, in_transit=in_transit, bank=bank)
        _close_if_settled(batch, actor=actor)
    return line


def payout_batch_mark_paid(*, batch_id: int, actor, reference: str) -> PayoutBatch:
    """Finance transferred every pending line of the batch (one bank batch, one reference)."""
    _require_manager(actor)
    reference = _required_text(
        reference,
        field="reference",
        code="reference_required",
        message=_("Copy the transfer's reference from the bank or Alipay."),
        max_length=REFERENCE_MAX_LENGTH,
    )
    with transaction.atomic():
        batch = _locked_batch(batch_id)
        lines = list(
            PayoutLine.objects.select_for_update()
            .select_related("payee")
            .filter(batch=batch, status=PayoutLine.Status.PENDING)
            .order_by("pk")
        )
        if not lines:
            raise PayoutError(_("No payout in this batch is waiting to be paid."), code="payout_batch_settled")
        for line in lines:
            # All or nothing: one's own line is left to a colleague, so the whole batch is refused.
            _refuse_own(line, actor)
        in_transit, bank = _settling_accounts()
        for line in lines:
            _pay(line, actor=actor, reference=reference, in_transit=in_transit, bank=bank)
        _close_if_settled(batch, actor=actor)
    batch.refresh_from_db()
    return batch


def payout_line_fail(*, line_id: int, actor, reason: str) -> PayoutLine:
    """The transfer bounced (wrong account, closed account…): the money goes back to the payee's balance."""
    _require_manager(actor)
    reason = _required_text(
        reason,
        field="reason",
        code="reason_required",
        message=_("Say why the transfer failed."),
        max_length=REASON_MAX_LENGTH,
    )
    with transaction.atomic():
        batch, line = _locked_pending_line(line_id)
        in_transit = well_known.payouts_in_transit_account()
        states.transition(
            line, to=PayoutLine.Status.FAILED, actor=actor, note=reason, updates={"failure_reason": reason}
        )
        entry_post(
            kind="payout_failed",
            lines=[(in_transit, line.amount_fen), (line.account, -line.amount_fen)],
            memo=_("Payout #%(line)s to %(payee)s failed: %(reason)s")
            % {"line": line.pk, "payee": line.payee.display_name, "reason": reason},
            reference=line.reference_key,
            key=f"payout-failed:{line.pk}",
            actor=actor,
            nonnegative=(in_transit,),
        )
        events.emit(
            "payout_line_failed", line_id=line.pk, user_id=line.payee_id, amount_fen=line.amount_fen, reason=reason
        )
        _close_if_settled(batch, actor=actor)
    return line
