"""Event handlers of the trust app for events that lower apps emit (imported from `TrustConfig.ready`)."""

from erhuo.core import events


@events.on("payment_succeeded")
def allocate_deposit_payment(event: events.Event) -> None:
    """A deposit payment succeeded: move the money from payments clearing to the seller's deposit.

    Idempotent; if this handler never runs (a crash after commit), `deposits_settle` allocates it later.
    """
    if event.payload.get("purpose") != "deposit":
        return
    from erhuo.trust.services.deposits import deposit_payment_allocate

    deposit_payment_allocate(payment_id=event.payload["payment_id"])
