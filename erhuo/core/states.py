"""State machines: one transition table, one transition service, an audit row per move.

An aggregate declares its moves as a table and a concrete `AuditTransition`
subclass whose `subject` foreign key has `related_name="transitions"`:

    class Item(TimeStampedModel):
        class Status(models.TextChoices): ...
        TRANSITIONS = {Status.LISTED: {Status.RESERVED, Status.WITHDRAWN}, ...}
        status = models.CharField(max_length=32, choices=Status.choices)

Every change of state goes through `transition()`. It checks the move
against the table, then writes the new state with one conditional UPDATE
(`WHERE pk = … AND status = <expected>`) whose row count is checked, so two
concurrent moves from the same state cannot both win, on SQLite and
PostgreSQL alike, without reading and writing in Python. The audit row is
written in the same transaction, and the `<model>_<state>` event is sent
after commit.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erhuo.core import events
from erhuo.core.errors import Conflict


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    default_message = _("This step is not allowed from the current state.")


class StateChanged(Conflict):
    code = "state_changed"
    default_message = _("Someone else changed this just now. Reload and try again.")


@dataclass(frozen=True)
class Move:
    from_state: str
    to_state: str


def allowed_targets(instance: models.Model, *, field: str = "status") -> set[str]:
    table: Mapping[str, set[str]] = type(instance).TRANSITIONS
    return set(table.get(getattr(instance, field), ()))


def can_transition(instance: models.Model, to: str, *, field: str = "status") -> bool:
    return to in allowed_targets(instance, field=field)


def log_model_for(model: type[models.Model]) -> type[models.Model]:
    return model._meta.get_field("transitions").related_model


def transition(
    instance: models.Model,
    *,
    to: str,
    actor=None,
    note: str = "",
    data: dict | None = None,
    field: str = "status",
    expected: str | None = None,
    updates: dict | None = None,
    event_payload: dict | None = None,
):
    """Move `instance` to state `to` and return the audit row.

    `expected` is the state the caller believes the row is in (defaults to
    the in-memory value); `updates` are other columns written by the same
    UPDATE (e.g. `reserved_until`). Raises `TransitionNotAllowed` when the
    table forbids the move and `StateChanged` when the row moved meanwhile;
    in both cases nothing is written.
    """
    model = type(instance)
    current = expected if expected is not None else getattr(instance, field)
    if to not in model.TRANSITIONS.get(current, ()):
        raise TransitionNotAllowed(
            _("Cannot go from “%(from)s” to “%(to)s”.")
            % {"from": _state_label(model, field, current), "to": _state_label(model, field, to)}
        )
    values = {field: to, **(updates or {})}
    now = timezone.now()
    names = {f.name for f in model._meta.concrete_fields}
    if "updated_at" in names:
        values.setdefault("updated_at", now)
    # `<field>_changed_at` is when the aggregate entered its current state (SLA clocks).
    if f"{field}_changed_at" in names:
        values.setdefault(f"{field}_changed_at", now)
    with transaction.atomic():
        changed = model._default_manager.filter(pk=instance.pk, **{field: current}).update(**values)
        if changed != 1:
            raise StateChanged()
        log = log_model_for(model)._default_manager.create(
            subject=instance,
            from_state=current,
            to_state=to,
            actor=actor,
            note=note,
            data=data or {},
        )
        for name, value in values.items():
            setattr(instance, name, value)
        events.emit(
            f"{model._meta.model_name}_{to}",
            model=model._meta.label_lower,
            pk=instance.pk,
            from_state=current,
            to_state=to,
            actor_id=getattr(actor, "pk", None),
            **(event_payload or {}),
        )
    return log


def _state_label(model, field: str, value: str) -> str:
    choices = dict(model._meta.get_field(field).flatchoices)
    return str(choices.get(value, value))


def record_start(
    instance: models.Model, *, actor=None, note: str = "", data: dict | None = None, field: str = "status"
):
    """Write the first audit row of a new aggregate (from nothing to its initial state)."""
    model = type(instance)
    to = getattr(instance, field)
    log = log_model_for(model)._default_manager.create(
        subject=instance, from_state="", to_state=to, actor=actor, note=note, data=data or {}
    )
    events.emit(
        f"{model._meta.model_name}_{to}",
        model=model._meta.label_lower,
        pk=instance.pk,
        from_state="",
        to_state=to,
        actor_id=getattr(actor, "pk", None),
    )
    return log
