import pytest

from erhuo.notifications.tests import recording


@pytest.fixture
def delivered(settings):
    """Notices go to the recording channel only; the list of notice ids it was handed, in order."""
    settings.ERHUO_NOTICE_CHANNELS = [recording.RECORDING]
    recording.delivered.clear()
    yield recording.delivered
    recording.delivered.clear()


@pytest.fixture(autouse=True)
def _notices_in_english(settings):
    # Notices are written in the site's language; these tests read them in English.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs what the block left for after commit (tests run inside a transaction)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
