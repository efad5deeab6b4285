"""The notifications API: her own notices only; 404 for anyone else's, and nothing changes."""

import pytest
from django.utils import timezone

from erhuo.notifications.models import Notice

pytestmark = pytest.mark.django_db


def notice(user, title="Hello", *, read=False, **extra) -> Notice:
    return Notice.objects.create(user=user, kind="test", title=title, read_at=timezone.now() if read else None, **extra)


def snapshot() -> list[dict]:
    return list(Notice.objects.order_by("pk").values())


def test_the_list_is_hers_newest_first_and_paginated(api_client, member, other_member):
    read = notice(member, "Read", read=True, url="/x/", data={"class_id": 7})
    unread = notice(member, "Unread")
    notice(other_member, "Hers")
    api_client.login(member)

    response = api_client.get("/api/v1/notices")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(item["id"], item["title"], item["read_at"] is None) for item in body["items"]] == [
        (unread.pk, "Unread", True),
        (read.pk, "Read", False),
    ]
    assert set(body["items"][1]) == {"id", "kind", "title", "body", "url", "data", "created_at", "read_at"}
    assert (body["items"][1]["url"], body["items"][1]["data"]) == ("/x/", {"class_id": 7})
    only_unread = api_client.get("/api/v1/notices", unread="true").json()
    assert [item["id"] for item in only_unread["items"]] == [unread.pk]
    paged = api_client.get("/api/v1/notices", page_size=1, page=2).json()
    assert [item["id"] for item in paged["items"]] == [read.pk]


def test_unread_count(api_client, member, other_member):
    notice(member)
    notice(member, read=True)
    notice(other_member)
    api_client.login(member)
    assert api_client.get("/api/v1/notices/unread-count").json() == {"unread": 1}


def test_marking_one_read(api_client, member):
    mine = notice(member)
    api_client.login(member)
    response = api_client.post(f"/api/v1/notices/{mine.pk}/read")
    assert response.status_code == 200
    assert response.json()["id"] == mine.pk
    mine.refresh_from_db()
    assert response.json()["read_at"] is not None and mine.read_at is not None
    # Again: 200, the first time stays.
    again = api_client.post(f"/api/v1/notices/{mine.pk}/read")
    assert again.json()["read_at"] == response.json()["read_at"]


def test_another_members_notice_is_404_and_nothing_changes(api_client, member, other_member):
    hers = notice(other_member)
    before = snapshot()
    api_client.login(member)
    response = api_client.post(f"/api/v1/notices/{hers.pk}/read")
    assert response.status_code == 404
    assert response.json() == {"code": "notice_not_found", "detail": "Notice not found."}
    assert api_client.post(f"/api/v1/notices/{2**63}/read").status_code == 422
    assert snapshot() == before


def test_read_all(api_client, member, other_member):
    seen = notice(member)
    arrived = notice(member)
    theirs = notice(other_member)
    api_client.login(member)

    response = api_client.post("/api/v1/notices/read-all", {"up_to_id": seen.pk})
    assert response.json() == {"marked": 1, "unread": 1}
    assert api_client.post("/api/v1/notices/read-all").json() == {"marked": 1, "unread": 0}
    assert Notice.objects.get(pk=arrived.pk).read_at is not None
    assert Notice.objects.get(pk=theirs.pk).read_at is None


def test_every_route_needs_a_login(api_client, member):
    mine = notice(member)
    before = snapshot()
    assert api_client.get("/api/v1/notices").status_code == 401
    assert api_client.get("/api/v1/notices/unread-count").status_code == 401
    assert api_client.post(f"/api/v1/notices/{mine.pk}/read").status_code == 401
    assert api_client.post("/api/v1/notices/read-all").status_code == 401
    assert snapshot() == before
