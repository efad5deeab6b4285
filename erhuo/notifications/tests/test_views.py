"""The notification centre and the bell: her own notices only, unread highlighted, mark one or all read."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from erhuo.notifications.models import Notice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def as_user(user=None) -> Client:
    client = Client(headers={"accept-language": "en"})
    if user is not None:
        client.force_login(user)
    return client


def notice(user, title="Hello", *, url="", read=False, **extra) -> Notice:
    return Notice.objects.create(
        user=user, kind="test", title=title, url=url, read_at=timezone.now() if read else None, **extra
    )


def snapshot() -> list[dict]:
    return list(Notice.objects.order_by("pk").values())


def shown(response) -> list[tuple[int, str]]:
    return [
        (int(pk), unread)
        for pk, unread in re.findall(r'data-notice="(\d+)" data-kind="[^"]*" data-unread="(\d)"', response.text)
    ]


def test_the_centre_lists_her_own_newest_first_with_unread_highlighted(member, other_member):
    read = notice(member, "Read one", read=True)
    unread = notice(member, "Unread one", url="/classes/7/")
    notice(other_member, "Someone else's")

    response = as_user(member).get(reverse("notifications:list"))

    assert response.status_code == 200
    assert shown(response) == [(unread.pk, "1"), (read.pk, "0")]
    assert "Someone else" not in response.text
    assert 'class="notice-row is-unread"' in response.text
    assert response.text.count('data-testid="notice-mark-read"') == 1
    assert 'data-testid="notices-read-all"' in response.text

    only_unread = as_user(member).get(reverse("notifications:list"), {"show": "unread"})
    assert shown(only_unread) == [(unread.pk, "1")]


def test_the_centre_needs_a_login_and_is_empty_at_first(member):
    response = as_user().get(reverse("notifications:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))

    empty = as_user(member).get(reverse("notifications:list"))
    assert 'data-testid="notices-empty"' in empty.text
    assert 'data-testid="notices-read-all"' not in empty.text


def test_the_centre_is_paginated(member):
    made = [notice(member, f"N{n}") for n in range(23)]
    first = as_user(member).get(reverse("notifications:list"))
    second = as_user(member).get(reverse("notifications:list"), {"page": 2})
    assert [pk for pk, _unread in shown(first)] == [n.pk for n in reversed(made)][:20]
    assert [pk for pk, _unread in shown(second)] == [n.pk for n in reversed(made)][20:]
    assert "1 / 2" in first.text


def test_the_centre_query_count_does_not_grow_with_notices(member, django_assert_max_num_queries):
    client = as_user(member)
    for n in range(3):
        notice(member, f"N{n}")
    # Session, user, the page's count and rows, her permissions (navigation, 2), the bell's unread count.
    with django_assert_max_num_queries(7):
        client.get(reverse("notifications:list"))
    for n in range(15):
        notice(member, f"More {n}")
    with django_assert_max_num_queries(7):
        response = client.get(reverse("notifications:list"))
    assert len(shown(response)) == 18


def test_marking_one_read_returns_to_the_list_page_she_was_on(member):
    mine = notice(member)
    response = as_user(member).post(reverse("notifications:read", args=[mine.pk]), {"page": "2", "show": "unread"})
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:list") + "?page=2&show=unread"
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_opening_a_notice_marks_it_read_and_follows_its_link(member):
    mine = notice(member, url="/classes/7/")
    response = as_user(member).post(reverse("notifications:read", args=[mine.pk]), {"open": "1"})
    assert (response.status_code, response["Location"]) == (302, "/classes/7/")
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_another_members_notice_is_404_and_nothing_changes(member, other_member):
    hers = notice(other_member, url="/classes/7/")
    before = snapshot()
    client = as_user(member)
    assert client.post(reverse("notifications:read", args=[hers.pk]), {"open": "1"}).status_code == 404
    assert client.post(reverse("notifications:read", args=[hers.pk + 100])).status_code == 404
    assert snapshot() == before


def test_wrong_methods_and_anonymous_posts_change_nothing(member):
    mine = notice(member)
    before = snapshot()
    assert as_user(member).get(reverse("notifications:read", args=[mine.pk])).status_code == 405
    assert as_user(member).get(reverse("notifications:read_all")).status_code == 405
    anonymous = as_user().post(reverse("notifications:read", args=[mine.pk]))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:login"))
    assert as_user().post(reverse("notifications:read_all")).status_code == 302
    assert snapshot() == before


def test_posts_need_the_csrf_token(member):
    mine = notice(member)
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.post(reverse("notifications:read", args=[mine.pk])).status_code == 403
    assert client.post(reverse("notifications:read_all")).status_code == 403
    assert Notice.objects.get().read_at is None


def test_mark_all_read_stops_at_the_newest_she_saw(member, other_member):
    seen = [notice(member, f"Seen {n}") for n in range(2)]
    arrived = notice(member, "Arrived meanwhile")
    others = notice(other_member, "Not hers")

    response = as_user(member).post(reverse("notifications:read_all"), {"up_to_id": str(seen[-1].pk)})

    assert (response.status_code, response["Location"]) == (302, reverse("notifications:list"))
    assert [Notice.objects.get(pk=n.pk).read_at is not None for n in (*seen, arrived, others)] == [
        True,
        True,
        False,
        False,
    ]
    as_user(member).post(reverse("notifications:read_all"), {"up_to_id": "9" * 40})
    assert Notice.objects.get(pk=arrived.pk).read_at is not None
    assert Notice.objects.get(pk=others.pk).read_at is None


def test_the_bell_shows_her_unread_count_on_every_page(member, other_member):
    for n in range(3):
        notice(member, f"N{n}")
    notice(member, "Read", read=True)
    notice(other_member, "Hers")

    home = as_user(member).get(reverse("web:home"))
    assert 'data-testid="notice-bell"' in home.text
    assert re.search(r'data-testid="notice-count">3<', home.text)
    assert "Notices, 3 unread" in home.text

    Notice.objects.filter(user=member).update(read_at=timezone.now())
    quiet = as_user(member).get(reverse("web:home"))
    assert 'data-testid="notice-bell"' in quiet.text
    assert 'data-testid="notice-count"' not in quiet.text


def test_the_bell_caps_at_99_and_is_absent_for_visitors(member, django_assert_num_queries):
    Notice.objects.bulk_create([Notice(user=member, kind="test", title=f"N{n}") for n in range(120)])
    assert re.search(r'data-testid="notice-count">99\+<', as_user(member).get(reverse("web:home")).text)
    anonymous = as_user().get(reverse("web:home"))
    assert 'data-testid="notice-bell"' not in anonymous.text
