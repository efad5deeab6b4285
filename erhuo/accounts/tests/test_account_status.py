"""The core state-machine helper, exercised through its first aggregate: the account status."""

import pytest
from django.db import transaction

from erhuo.accounts.models import AccountStatusChange, User
from erhuo.core import events, states
from erhuo.core.models import AppendOnlyError

pytestmark = pytest.mark.django_db


def test_allowed_move_writes_state_and_one_audit_row(member, owner):
    log = states.transition(member, to=User.Status.SUSPENDED, actor=owner, note="spam", data={"ticket": 7})

    member.refresh_from_db()
    assert member.status == "suspended"
    rows = list(
        AccountStatusChange.objects.filter(subject=member).values_list(
            "from_state", "to_state", "actor_id", "note", "data"
        )
    )
    assert rows == [("active", "suspended", owner.pk, "spam", {"ticket": 7})]
    assert log.pk is not None


def test_forbidden_move_raises_and_writes_nothing(member, owner):
    states.transition(member, to=User.Status.CLOSED, actor=owner)

    with pytest.raises(states.TransitionNotAllowed) as error:
        states.transition(member, to=User.Status.ACTIVE, actor=owner)

    assert error.value.code == "transition_not_allowed"
    member.refresh_from_db()
    assert member.status == "closed"
    assert AccountStatusChange.objects.filter(subject=member).count() == 1


def test_stale_state_loses_the_race(member, owner):
    stale_copy = User.objects.get(pk=member.pk)
    states.transition(member, to=User.Status.SUSPENDED, actor=owner)

    # The stale copy still believes the account is active; its conditional UPDATE matches no row.
    with pytest.raises(states.StateChanged):
        states.transition(stale_copy, to=User.Status.CLOSED, actor=owner)

    member.refresh_from_db()
    assert member.status == "suspended"
    assert AccountStatusChange.objects.filter(subject=member).count() == 1


def test_extra_updates_go_in_the_same_update(member, owner):
    states.transition(member, to=User.Status.SUSPENDED, actor=owner, updates={"is_active": False})
    member.refresh_from_db()
    assert (member.status, member.is_active) == ("suspended", False)


def test_audit_rows_are_append_only(member, owner):
    log = states.transition(member, to=User.Status.SUSPENDED, actor=owner)
    log.note = "rewritten"
    with pytest.raises(AppendOnlyError):
        log.save()
    with pytest.raises(AppendOnlyError):
        log.delete()
    with pytest.raises(AppendOnlyError):
        AccountStatusChange.objects.filter(pk=log.pk).update(note="rewritten")
    with pytest.raises(AppendOnlyError):
        AccountStatusChange.objects.filter(pk=log.pk).delete()
    assert AccountStatusChange.objects.get(pk=log.pk).note == ""


def test_event_is_sent_after_commit_only(member, owner, django_capture_on_commit_callbacks):
    received = []

    def handler(event):
        received.append((event.name, event.payload["pk"], event.payload["from_state"], event.payload["to_state"]))

    events.on("user_suspended")(handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            states.transition(member, to=User.Status.SUSPENDED, actor=owner)
        assert received == [("user_suspended", member.pk, "active", "suspended")]
    finally:
        events.unregister("user_suspended", handler)


def test_event_is_not_sent_when_the_transaction_rolls_back(member, owner, django_capture_on_commit_callbacks):
    received = []
    handler = received.append
    events.on("user_suspended")(handler)
    try:
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            states.transition(member, to=User.Status.SUSPENDED, actor=owner)
            raise RuntimeError("boom")
        assert received == []
        assert callbacks == []
        member.refresh_from_db()
        assert member.status == "active"
        assert AccountStatusChange.objects.count() == 0
    finally:
        events.unregister("user_suspended", handler)


def test_allowed_targets(member):
    assert states.allowed_targets(member) == {"suspended", "closed"}
    assert states.can_transition(member, "closed") is True
    assert states.can_transition(member, "active") is False
