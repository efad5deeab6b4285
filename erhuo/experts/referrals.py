"""Remembering a referral visit until the visitor logs in.

/r/<code>/ stores the code and the time of the visit in the session and in a
signed cookie that lives for the policy's attribution window. When the
visitor logs in or signs up later (Django's `user_logged_in`, connected in
`apps.py`), the visit is attributed to her from the time she made it, so a
visit older than the window no longer counts.
"""

from contextlib import suppress
from datetime import UTC, datetime

from django.core import signing

from erhuo.core.errors import DomainError

COOKIE_NAME = "erhuo_ref"
SESSION_KEY = "erhuo_referral"
SALT = "erhuo.experts.referral"


def remember_visit(request, response, *, code: str, visited_at: datetime, window_days: int) -> None:
    stamp = int(visited_at.timestamp())
    request.session[SESSION_KEY] = {"code": code, "at": stamp}
    response.set_signed_cookie(
        COOKIE_NAME,
        f"{code}:{stamp}",
        salt=SALT,
        max_age=window_days * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def _parse(code, stamp) -> tuple[str, datetime] | None:
    try:
        return str(code)[:16], datetime.fromtimestamp(int(stamp), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def remembered_visit(request) -> tuple[str, datetime] | None:
    """The latest remembered visit (code, time), from the session or the cookie, or None."""
    visits = []
    session = getattr(request, "session", None)
    data = session.get(SESSION_KEY) if session is not None else None
    if isinstance(data, dict):
        visits.append(_parse(data.get("code"), data.get("at")))
    try:
        raw = request.get_signed_cookie(COOKIE_NAME, default=None, salt=SALT)
    except signing.BadSignature:
        raw = None
    if raw and ":" in raw:
        visits.append(_parse(*raw.rsplit(":", 1)))
    visits = [visit for visit in visits if visit is not None]
    return max(visits, key=lambda visit: visit[1]) if visits else None


def attribute_on_login(sender, request, user, **kwargs) -> None:
    """Attribute a visit made before logging in (a receiver of `user_logged_in`)."""
    if request is None:
        return
    visit = remembered_visit(request)
    if visit is None:
        return
    from erhuo.experts import services

    code, visited_at = visit
    # The expert was suspended meanwhile, or the code is unknown: the visit earns nothing.
    with suppress(DomainError):
        services.referral_visit(code=code, visitor=user, visited_at=visited_at)
    if getattr(request, "session", None) is not None:
        request.session.pop(SESSION_KEY, None)
