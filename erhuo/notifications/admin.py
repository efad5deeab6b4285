"""Notices in the admin: read only (the services write them, their person reads and marks them)."""

from django.contrib import admin

from erhuo.accounts.admin import ReadOnlyAdmin
from erhuo.notifications.models import Notice


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "title", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["title", "key"]
    raw_id_fields = ["user"]
