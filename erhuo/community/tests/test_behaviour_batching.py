"""Behaviour bumps are sent to the task queue in batches (one enqueue for many claims), at once in immediate mode."""

import pytest

from erhuo.community import handlers, tasks


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks, "behaviour_tags_from_items", lambda batch: calls.append(list(batch)))
    handlers.flush()
    calls.clear()
    yield calls
    handlers.flush()


def test_bumps_wait_for_a_batch_and_go_as_one_task(settings, sent, monkeypatch):
    settings.HUEY = {**settings.HUEY, "immediate": False}
    monkeypatch.setattr(handlers, "FLUSH_SIZE", 3)
    monkeypatch.setattr(handlers, "FLUSH_SECONDS", 60)

    handlers._bump(1, 10, 0.2)
    handlers._bump(2, 10, 0.2)
    assert sent == []
    assert handlers._pending_count() == 2

    handlers._bump(3, 11, 0.5)

    assert sent == [[(1, 10, 0.2), (2, 10, 0.2), (3, 11, 0.5)]]
    assert handlers._pending_count() == 0


def test_a_lone_bump_goes_when_flushed_by_its_timer(settings, sent):
    settings.HUEY = {**settings.HUEY, "immediate": False}

    handlers._bump(1, 10, 0.2)
    assert sent == []
    handlers.flush()  # what the timer does after FLUSH_SECONDS

    assert sent == [[(1, 10, 0.2)]]


def test_in_immediate_mode_each_bump_goes_at_once(settings, sent):
    settings.HUEY = {**settings.HUEY, "immediate": True}

    handlers._bump(1, 10, 0.2)
    handlers._bump(None, 10, 0.2)  # no member: nothing

    assert sent == [[(1, 10, 0.2)]]
