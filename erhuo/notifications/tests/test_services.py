"""Sending notices (after commit, once per key, to many at once), marking them read, the channels."""

import pytest
from django.db import transaction
from django.utils import timezone

from erhuo.accounts.tests.factories import UserFactory
from erhuo.core.errors import NotFound, ValidationFailed
from erhuo.notifications import channels, selectors, services
from erhuo.notifications.models import Notice
from erhuo.notifications.tests import recording

pytestmark = pytest.mark.django_db


def rows() -> list[dict]:
    return list(Notice.objects.order_by("pk").values())


@pytest.mark.django_db(transaction=True)
def test_a_notice_sent_outside_a_transaction_is_stored_and_delivered_at_once(member, delivered):
    notice = services.notice_send(
        user=member, kind="class_reminder", title="Class at 20:00", body="Join here", url="/classes/7/", data={"a": 1}
    )

    stored = Notice.objects.get()
    assert (stored.pk, stored.user_id, stored.kind, stored.title, stored.body, stored.url, stored.data) == (
        notice.pk,
        member.pk,
        "class_reminder",
        "Class at 20:00",
        "Join here",
        "/classes/7/",
        {"a": 1},
    )
    assert (stored.key, stored.read_at) == ("", None)
    assert delivered == [notice.pk]


def test_inside_a_transaction_it_is_delivered_only_after_commit(member, delivered, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        notice = services.notice_send(user=member, kind="test", title="Hello")
        assert delivered == []
    assert len(callbacks) == 1
    assert delivered == [notice.pk]


def test_a_rolled_back_notice_is_neither_stored_nor_delivered(member, delivered, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.notice_send(user=member, kind="test", title="Hello")
        raise RuntimeError("the caller failed")
    assert callbacks == []
    assert delivered == []
    assert Notice.objects.count() == 0


def test_a_key_sends_once_per_person_and_a_retry_returns_the_first(member, other_member, delivered, committed):
    with committed():
        first = services.notice_send(user=member, kind="class_reminder", title="Soon", key="class-reminder:7")
    with committed():
        again = services.notice_send(user=member, kind="class_reminder", title="Soon (retry)", key="class-reminder:7")
    with committed():
        hers = services.notice_send(user=other_member, kind="class_reminder", title="Soon", key="class-reminder:7")

    assert again.pk == first.pk
    assert again.title == "Soon"
    assert Notice.objects.filter(key="class-reminder:7").count() == 2
    assert delivered == [first.pk, hers.pk]


def test_a_key_taken_by_a_concurrent_sender_returns_that_notice(member, delivered, monkeypatch):
    # The other process inserts between our look-up and our insert: the unique constraint decides.
    theirs = Notice.objects.create(user=member, kind="test", title="Theirs", key="race:1")
    real_filter = Notice.objects.filter
    calls = {"n": 0}

    def filter_missing_first(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1 and kwargs.get("key") == "race:1":
            return real_filter(pk=-1)
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Notice.objects, "filter", filter_missing_first)
    notice = services.notice_send(user=member, kind="test", title="Ours", key="race:1")

    assert notice.pk == theirs.pk
    assert list(Notice.objects.values_list("title", flat=True)) == ["Theirs"]
    assert delivered == []


def test_bulk_send_writes_one_per_person_and_skips_those_who_have_the_key(
    delivered, committed, django_assert_max_num_queries
):
    people = UserFactory.create_batch(4)
    earlier = services.notice_send(user=people[0], kind="class_cancelled", title="Cancelled", key="class-cancelled:3")

    with committed(), django_assert_max_num_queries(5):
        created = services.notices_send(
            users=[*people, people[1]], kind="class_cancelled", title="Cancelled", key="class-cancelled:3"
        )

    assert sorted(notice.user_id for notice in created) == sorted(person.pk for person in people[1:])
    assert Notice.objects.filter(key="class-cancelled:3").count() == 4
    assert Notice.objects.get(user=people[0]).pk == earlier.pk
    assert sorted(delivered) == sorted(notice.pk for notice in created)
    # Sent again (a retried task): nobody gets a second one.
    delivered.clear()
    with committed():
        resent = services.notices_send(users=people, kind="class_cancelled", title="Cancelled", key="class-cancelled:3")
    assert resent == []
    assert Notice.objects.count() == 4
    assert delivered == []


def test_bulk_send_without_a_key_and_to_nobody(delivered, committed):
    people = UserFactory.create_batch(3)
    with committed():
        created = services.notices_send(users=[person.pk for person in people], kind="news", title="New drop")
    assert [notice.user_id for notice in created] == [person.pk for person in people]
    assert all(notice.pk for notice in created)
    assert sorted(delivered) == sorted(notice.pk for notice in created)
    assert services.notices_send(users=[], kind="news", title="Nobody") == []


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"kind": "Not A Slug"}, "notice_kind_invalid"),
        ({"kind": ""}, "notice_kind_invalid"),
        ({"title": "   "}, "notice_title_required"),
        ({"url": "javascript:alert(1)"}, "notice_url_invalid"),
        ({"url": "//evil.example/"}, "notice_url_invalid"),
        ({"url": "/\\evil.example/"}, "notice_url_invalid"),
        ({"key": "k" * 121}, "notice_key_invalid"),
        ({"data": ["not", "a", "mapping"]}, "notice_data_invalid"),
    ],
)
def test_bad_arguments_are_refused_and_nothing_is_written(member, delivered, fields, code):
    arguments = {"user": member, "kind": "test", "title": "Hello", **fields}
    with pytest.raises(ValidationFailed) as refused:
        services.notice_send(**arguments)
    assert refused.value.code == code
    with pytest.raises(ValidationFailed):
        services.notices_send(users=[member], **{k: v for k, v in arguments.items() if k != "user"})
    assert Notice.objects.count() == 0
    assert delivered == []


def test_long_texts_are_shortened_and_web_addresses_allowed(member, delivered):
    notice = services.notice_send(
        user=member, kind="test", title="标" * 200, body="x" * 3000, url="https://example.com/replay"
    )
    assert (len(notice.title), notice.title[-1]) == (120, "…")
    assert len(notice.body) == 2000
    assert notice.url == "https://example.com/replay"


def test_marking_read_is_hers_only_and_keeps_the_first_time(member, other_member):
    notice = services.notice_send(user=member, kind="test", title="Hello")
    before = rows()

    with pytest.raises(NotFound) as refused:
        services.notice_mark_read(notice_id=notice.pk, user=other_member)
    assert refused.value.code == "notice_not_found"
    with pytest.raises(NotFound):
        services.notice_mark_read(notice_id=notice.pk + 1000, user=member)
    assert rows() == before

    marked = services.notice_mark_read(notice_id=notice.pk, user=member)
    first_read = Notice.objects.get().read_at
    assert first_read is not None and marked.read_at == first_read
    again = services.notice_mark_read(notice_id=notice.pk, user=member)
    assert again.read_at == first_read == Notice.objects.get().read_at


def test_marking_all_read_only_touches_her_unread_ones_up_to_the_newest_she_saw(member, other_member):
    old_read = services.notice_send(user=member, kind="test", title="Read already")
    services.notice_mark_read(notice_id=old_read.pk, user=member)
    read_at = Notice.objects.get(pk=old_read.pk).read_at
    seen = [services.notice_send(user=member, kind="test", title=f"Seen {n}") for n in range(2)]
    arrived_meanwhile = services.notice_send(user=member, kind="test", title="New")
    others = services.notice_send(user=other_member, kind="test", title="Not hers")

    assert services.notices_mark_all_read(user=member, up_to_id=seen[-1].pk) == 2

    assert Notice.objects.get(pk=old_read.pk).read_at == read_at
    assert all(Notice.objects.get(pk=notice.pk).read_at for notice in seen)
    assert Notice.objects.get(pk=arrived_meanwhile.pk).read_at is None
    assert Notice.objects.get(pk=others.pk).read_at is None
    assert selectors.unread_count(member) == 1
    assert services.notices_mark_all_read(user=member) == 1
    assert selectors.unread_count(member) == 0
    assert selectors.unread_count(other_member) == 1


def test_selectors_show_her_own_newest_first(member, other_member):
    now = timezone.now()
    older = Notice.objects.create(user=member, kind="test", title="Older", created_at=now.replace(year=now.year - 1))
    newer = Notice.objects.create(user=member, kind="test", title="Newer", created_at=now, read_at=now)
    Notice.objects.create(user=other_member, kind="test", title="Hers")

    assert list(selectors.notices_for(member)) == [newer, older]
    assert list(selectors.notices_for(member, unread_only=True)) == [older]
    assert selectors.unread_count(member) == 1
    assert selectors.notice_of(user=member, notice_id=newer.pk) == newer
    assert selectors.notice_of(user=other_member, notice_id=newer.pk) is None


def test_the_realtime_channel_pushes_the_notice_to_her_websocket_group(member, settings, monkeypatch, committed):
    settings.ERHUO_NOTICE_CHANNELS = [
        "erhuo.notifications.channels.InAppChannel",
        "erhuo.notifications.channels.RealtimeChannel",
    ]
    pushed = []
    monkeypatch.setattr(channels.realtime, "send_to_user", lambda *args: pushed.append(args))

    with committed():
        notice = services.notice_send(
            user=member, kind="class_reminder", title="Soon", url="/classes/7/", data={"x": 1}
        )

    assert pushed == [
        (
            member.pk,
            "notice",
            {
                "type": "notice",
                "id": notice.pk,
                "kind": "class_reminder",
                "title": "Soon",
                "body": "",
                "url": "/classes/7/",
                "data": {"x": 1},
                "created_at": notice.created_at.isoformat(),
                "read_at": None,
            },
        )
    ]


def test_a_failing_channel_does_not_stop_the_others(member, settings, committed):
    settings.ERHUO_NOTICE_CHANNELS = [recording.BROKEN, recording.RECORDING]
    recording.delivered.clear()
    with committed():
        notice = services.notice_send(user=member, kind="test", title="Hello")
    assert recording.delivered == [notice.pk]
    assert Notice.objects.count() == 1
    recording.delivered.clear()


def test_personal_data_export_and_erasure(member, other_member):
    services.notice_send(user=member, kind="test", title="Hers", url="/x/")
    services.notice_send(user=other_member, kind="test", title="Not hers")
    exported = selectors.personal_data_export(user=member)
    assert [(row["title"], row["url"], row["read_at"]) for row in exported["notices"]] == [("Hers", "/x/", None)]
    assert services.erase_blockers(user=member) == []
    services.personal_data_erase(user=member)
    assert list(Notice.objects.values_list("title", flat=True)) == ["Not hers"]
