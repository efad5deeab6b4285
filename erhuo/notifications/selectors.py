"""Reads of notices: a person's own, newest first, and how many she has not read."""

from django.db.models import QuerySet

from erhuo.notifications.models import Notice


def notices_for(user, *, unread_only: bool = False) -> QuerySet:
    if user is None or not user.is_authenticated:
        return Notice.objects.none()
    notices = Notice.objects.filter(user=user)
    if unread_only:
        notices = notices.filter(read_at__isnull=True)
    return notices.order_by("-created_at", "-pk")


def unread_count(user) -> int:
    """One COUNT over the (user, read_at) index."""
    if user is None or not user.is_authenticated:
        return 0
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


def notice_of(*, user, notice_id: int) -> Notice | None:
    if user is None or not user.is_authenticated:
        return None
    return Notice.objects.filter(pk=notice_id, user=user).first()


def personal_data_export(*, user) -> dict:
    return {
        "notices": [
            {
                "kind": notice.kind,
                "title": notice.title,
                "body": notice.body,
                "url": notice.url,
                "created_at": notice.created_at.isoformat(),
                "read_at": notice.read_at.isoformat() if notice.read_at else None,
            }
            for notice in Notice.objects.filter(user=user).order_by("created_at", "pk")
        ]
    }
