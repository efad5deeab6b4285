"""Reads for accounts. Pages and the API read through here."""

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from erhuo.accounts.models import Address, ApiToken, User, phone_digest
from erhuo.core.pii import is_valid_phone


def user_by_login(login: str) -> User | None:
    login = (login or "").strip()
    if is_valid_phone(login):
        return User.objects.filter(phone_digest=phone_digest(login)).first()
    return User.objects.filter(username__iexact=login).first()


def api_token_by_digest(digest: str) -> ApiToken | None:
    # get(), not first(): the digest is unique and first() would add a pointless ORDER BY.
    try:
        return ApiToken.objects.select_related("user").get(digest=digest)
    except ApiToken.DoesNotExist:
        return None


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_active_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now())


def address_list(*, user: User) -> QuerySet[Address]:
    return Address.objects.filter(user=user)


def address_get(*, user: User, address_id: int) -> Address | None:
    return Address.objects.filter(user=user, pk=address_id).first()


def member_directory(*, query: str = "", role: str = "", status: str = "") -> QuerySet[User]:
    """For operators: members by name, username or exact phone number."""
    users = User.objects.all().prefetch_related("groups").order_by("-date_joined", "-pk")
    query = (query or "").strip()
    if query:
        if is_valid_phone(query):
            users = users.filter(phone_digest=phone_digest(query))
        else:
            users = users.filter(Q(display_name__icontains=query) | Q(username__icontains=query))
    if role:
        users = users.filter(groups__name=role)
    if status:
        users = users.filter(status=status)
    return users


def role_change_list(*, user: User):
    return user.role_changes.select_related("actor")


def active_member_count() -> int:
    return User.objects.filter(is_active=True).count()


def member_stats(*, now=None) -> dict:
    now = now or timezone.now()
    return {
        "members": User.objects.count(),
        "joined_week": User.objects.filter(date_joined__gte=now - timedelta(days=7)).count(),
        "suspended": User.objects.filter(status=User.Status.SUSPENDED).count(),
    }


def role_counts(codes) -> dict[str, int]:
    return dict(
        User.objects.filter(groups__name__in=list(codes))
        .values_list("groups__name")
        .annotate(count=Count("pk", distinct=True))
    )
