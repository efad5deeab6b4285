"""The bell in the header: how many notices the signed-in person has not read."""

from django.utils.functional import SimpleLazyObject

from erhuo.notifications.selectors import unread_count


def notices(request):
    """`unread_notice_count`: one COUNT, run only when a template shows it, and only for a signed-in person."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notice_count": 0}
    return {"unread_notice_count": SimpleLazyObject(lambda: unread_count(user))}
