"""The next in line who is offered the item gets a notice in her notification centre, once, after commit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from erhuo.market import handlers, services
from erhuo.market.tests.factories import buyer, listed_item
from erhuo.notifications.models import Notice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _a_window_and_english(settings):
    settings.ERHUO_CLAIM_PAYMENT_MINUTES = 30
    settings.LANGUAGE_CODE = "en"  # notices are written in the site's language


def test_the_hand_over_leaves_the_next_in_line_a_notice(django_capture_on_commit_callbacks):
    item = listed_item(title="真丝衬衫")
    first, second, third = buyer(), buyer(), buyer()
    reservation = services.claim_create(item_id=item.pk, member=first)
    queued = services.claim_create(item_id=item.pk, member=second)
    services.claim_create(item_id=item.pk, member=third)
    handed_over = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        services.claim_withdraw(claim_id=reservation.pk, member=first, now=handed_over)

    notice = Notice.objects.get()
    pay_by = timezone.localtime(handed_over + timedelta(minutes=30)).strftime("%H:%M")
    assert (notice.user_id, notice.kind, notice.title, notice.body, notice.url, notice.data, notice.key) == (
        second.pk,
        "claim_offered",
        "Your turn: “真丝衬衫” is reserved for you",
        f"Pay by {pay_by}, or it passes to the next in line.",
        "/me/claims/",
        {"claim_id": queued.pk, "item_id": item.pk},
        f"claim-offered:{queued.pk}",
    )
    assert notice.read_at is None


def test_the_first_reservation_sends_no_notice_and_a_repeated_event_no_second(django_capture_on_commit_callbacks):
    item = listed_item()
    first, second = buyer(), buyer()
    with django_capture_on_commit_callbacks(execute=True):
        reservation = services.claim_create(item_id=item.pk, member=first)
        queued = services.claim_create(item_id=item.pk, member=second)
    assert Notice.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        services.claim_withdraw(claim_id=reservation.pk, member=first)
    # The same event delivered again (a retried handler): still one notice.
    event = handlers.events.Event(
        name="claim_reserved", payload={"pk": queued.pk, "member_id": second.pk, "item_id": item.pk, "offered": True}
    )
    with django_capture_on_commit_callbacks(execute=True):
        handlers._claim_reserved(event)
    assert list(Notice.objects.values_list("user_id", "key")) == [(second.pk, f"claim-offered:{queued.pk}")]


def test_nothing_is_sent_when_the_hand_over_rolls_back(django_capture_on_commit_callbacks):
    item = listed_item()
    first, second = buyer(), buyer()
    reservation = services.claim_create(item_id=item.pk, member=first)
    services.claim_create(item_id=item.pk, member=second)
    # Not executing the on-commit callbacks is what a rollback looks like to them.
    with django_capture_on_commit_callbacks(execute=False):
        services.claim_withdraw(claim_id=reservation.pk, member=first)
    assert Notice.objects.count() == 0
