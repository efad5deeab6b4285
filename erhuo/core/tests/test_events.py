import pytest

from erhuo.core import events


@pytest.mark.django_db
def test_a_failing_handler_does_not_stop_the_others(django_capture_on_commit_callbacks, caplog):
    received = []

    def broken(event):
        raise ValueError("handler bug")

    def working(event):
        received.append(event.payload)

    events.on("thing_happened")(broken)
    events.on("thing_happened")(working)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            events.emit("thing_happened", pk=3)
        assert received == [{"pk": 3}]
        assert "handler bug" in caplog.text
    finally:
        events.unregister("thing_happened", broken)
        events.unregister("thing_happened", working)


def test_registering_twice_keeps_one_handler():
    def handler(event):
        return None

    events.on("twice")(handler)
    events.on("twice")(handler)
    try:
        assert events.handlers_for("twice") == [handler]
    finally:
        events.unregister("twice", handler)
