"""In-app notices: one row per person and message, read or not (issue 6).

A notice is written by `services.notice_send` (or `notices_send` for many
people) and then handed to the delivery channels configured in
`ERHUO_NOTICE_CHANNELS` after the transaction commits (`channels.py`): the
row itself is the in-app notice; the real-time channel pushes it to the
person's open pages. A sender that may run twice (a retried task, a handler
called again) passes a `key`: one notice per person and key, ever.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notice(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    # What it is about, as a stable slug ("claim_offered", "class_reminder"): clients pick an icon by it.
    kind = models.SlugField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"), blank=True, max_length=2000)
    # Where it leads: a path on this site ("/classes/7/") or an http(s) address; empty for none.
    url = models.CharField(_("link"), max_length=300, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    # The sender's idempotency key ("class-reminder:<class id>:<user id>"); empty when the sender needs none.
    key = models.CharField(_("key"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], condition=~Q(key=""), name="notice_once_per_key"),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notice_unread"),
            models.Index(fields=["user", "-created_at"], name="notice_by_user"),
        ]

    def __str__(self):
        return f"{self.user_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
