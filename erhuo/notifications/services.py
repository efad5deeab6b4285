"""Every write of the notifications app: send notices, mark them read, erase them with the account.

Sending stores the notice and hands it to the delivery channels after the
transaction commits (`channels.deliver`): called inside a service's
transaction, nothing is announced unless that transaction commits; called
outside one, it is delivered at once. With a `key`, a person gets one notice
per key, ever: a retried task or a handler that runs twice returns the notice
already sent and delivers nothing again (the unique constraint decides a race).

A person only ever reads and marks her own notices: another person's notice
is "not found", and nothing changes.
"""

import re
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from erhuo.core.errors import NotFound, ValidationFailed
from erhuo.notifications import channels
from erhuo.notifications.models import Notice

TITLE_MAX = Notice._meta.get_field("title").max_length
BODY_MAX = Notice._meta.get_field("body").max_length
URL_MAX = Notice._meta.get_field("url").max_length
KEY_MAX = Notice._meta.get_field("key").max_length
BULK_BATCH = 500
_KIND = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def site_language():
    """Write a notice's texts in the site's language (`LANGUAGE_CODE`), not the language of whoever caused it:
    members have no language of their own yet, and a notice is stored as written.

        with site_language():
            notice_send(user=..., title=_("Your class starts soon"), ...)
    """
    return translation.override(settings.LANGUAGE_CODE)


def _shorten(text: str, limit: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean(*, kind: str, title: str, body: str, url: str, data, key) -> dict:
    """Checks a sender's arguments (a programming mistake raises; long texts are shortened, not refused)."""
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise ValidationFailed(_("A notice's kind is a short lower-case code."), code="notice_kind_invalid")
    title = _shorten(str(title), TITLE_MAX)
    if not title:
        raise ValidationFailed(_("A notice needs a title."), code="notice_title_required")
    url = (url or "").strip()
    local = url.startswith("/") and not url.startswith("//") and "\\" not in url
    if url and (len(url) > URL_MAX or not (local or url.startswith(("https://", "http://")))):
        raise ValidationFailed(_("A notice links to a page of this site or a web address."), code="notice_url_invalid")
    key = key or ""
    if len(key) > KEY_MAX:
        raise ValidationFailed(_("A notice's key is too long."), code="notice_key_invalid")
    if data is not None and not isinstance(data, dict):
        raise ValidationFailed(_("A notice's details are a mapping."), code="notice_data_invalid")
    return {
        "kind": kind,
        "title": title,
        "body": _shorten(str(body or ""), BODY_MAX),
        "url": url,
        "data": data or {},
        "key": key,
    }


def _deliver_after_commit(notices: list[Notice]) -> None:
    if notices:
        transaction.on_commit(partial(channels.deliver, notices))


def notice_send(*, user, kind: str, title: str, body: str = "", url: str = "", data=None, key=None) -> Notice:
    """Send `user` a notice; with `key`, at most once per person and key (the first one is returned again)."""
    fields = _clean(kind=kind, title=title, body=body, url=url, data=data, key=key)
    user_id = user if isinstance(user, int) else user.pk
    with transaction.atomic():
        if fields["key"]:
            sent = Notice.objects.filter(user_id=user_id, key=fields["key"]).first()
            if sent is not None:
                return sent
            try:
                with transaction.atomic():
                    notice = Notice.objects.create(user_id=user_id, **fields)
            except IntegrityError:
                # Another process sent it between our read and our insert: theirs is the one.
                return Notice.objects.get(user_id=user_id, key=fields["key"])
        else:
            notice = Notice.objects.create(user_id=user_id, **fields)
        _deliver_after_commit([notice])
    return notice


def notices_send(*, users, kind: str, title: str, body: str = "", url: str = "", data=None, key=None) -> list[Notice]:
    """The same notice to many people in a few queries; with `key`, those who already have it are skipped.

    Returns the notices written now (none for a person who already had the key's notice).
    """
    fields = _clean(kind=kind, title=title, body=body, url=url, data=data, key=key)
    user_ids = list(dict.fromkeys(user if isinstance(user, int) else user.pk for user in users))
    if not user_ids:
        return []
    now = timezone.now()
    with transaction.atomic():
        if fields["key"]:
            already = set(
                Notice.objects.filter(user_id__in=user_ids, key=fields["key"]).values_list("user_id", flat=True)
            )
            wanted = [user_id for user_id in user_ids if user_id not in already]
            Notice.objects.bulk_create(
                [Notice(user_id=user_id, created_at=now, **fields) for user_id in wanted],
                batch_size=BULK_BATCH,
                ignore_conflicts=True,
            )
            # Ignored conflicts come back without keys: read back what this call wrote.
            created = list(Notice.objects.filter(user_id__in=wanted, key=fields["key"], created_at=now).order_by("pk"))
        else:
            created = Notice.objects.bulk_create(
                [Notice(user_id=user_id, created_at=now, **fields) for user_id in user_ids], batch_size=BULK_BATCH
            )
        _deliver_after_commit(created)
    return created


def _own_notice(*, notice_id: int, user) -> Notice:
    notice = None
    if user is not None and user.is_authenticated:
        notice = Notice.objects.filter(pk=notice_id, user=user).first()
    if notice is None:
        raise NotFound(_("Notice not found."), code="notice_not_found")
    return notice


def notice_mark_read(*, notice_id: int, user) -> Notice:
    """Mark one of `user`'s notices read (again: nothing changes, the first time stays)."""
    notice = _own_notice(notice_id=notice_id, user=user)
    if notice.read_at is None:
        now = timezone.now()
        if Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=now):
            notice.read_at = now
        else:
            notice.refresh_from_db(fields=["read_at"])
    return notice


def notices_mark_all_read(*, user, up_to_id: int | None = None) -> int:
    """Mark every unread notice of `user` read, or only those up to `up_to_id` (the newest one she saw,
    so that a notice arriving meanwhile stays unread). Returns how many were marked."""
    if user is None or not user.is_authenticated:
        return 0
    unread = Notice.objects.filter(user=user, read_at__isnull=True)
    if up_to_id is not None:
        unread = unread.filter(pk__lte=up_to_id)
    return unread.update(read_at=timezone.now())


# --- personal data (erhuo/web/privacy.py) -----------------------------------------------------


def erase_blockers(*, user) -> list[str]:
    return []


def personal_data_erase(*, user) -> None:
    """Notices are messages to her, not records anyone must keep: they go with her account."""
    Notice.objects.filter(user=user).delete()
