"""A delivery channel for tests: it remembers what it was given (and one that always fails)."""

from erhuo.notifications.channels import Channel

delivered: list = []


class RecordingChannel(Channel):
    name = "recording"

    def deliver(self, notice) -> None:
        delivered.append(notice.pk)


class BrokenChannel(Channel):
    name = "broken"

    def deliver(self, notice) -> None:
        raise RuntimeError("the provider is down")


RECORDING = "erhuo.notifications.tests.recording.RecordingChannel"
BROKEN = "erhuo.notifications.tests.recording.BrokenChannel"
