"""Reads for accounts. Pages and the API read through here."""

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.accounts import roles as role_registry
from erhuo.accounts.models import (
    AccountStatusChange,
    Address,
    ApiToken,
    DeletionRequest,
    PersonalDataAccess,
    RoleChange,
    User,
    phone_digest,
)
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


# =============================================================================
# --- personal data: access log, deletion requests, the member's own export ---
# =============================================================================


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def user_by_reference(reference: str) -> User | None:
    """An operator's filter box: a user id, a username or a full mobile number."""
    reference = (reference or "").strip()
    if not reference:
        return None
    if reference.isdigit() and not is_valid_phone(reference):
        return User.objects.filter(pk=int(reference)).first()
    return user_by_login(reference)


def personal_data_access_list(
    *, subject: User | None = None, actor: User | None = None
) -> QuerySet[PersonalDataAccess]:
    accesses = PersonalDataAccess.objects.select_related("actor", "subject")
    if subject is not None:
        accesses = accesses.filter(subject=subject)
    if actor is not None:
        accesses = accesses.filter(actor=actor)
    return accesses


def personal_data_access_for_member(*, user: User) -> list[dict]:
    """Who looked at the member's data, as she is told: the viewer's role and the time, never the viewer's name."""
    return [
        {
            "at": access.created_at,
            "viewer_roles": [role_registry.role_label(code) for code in access.actor_roles if code != "member"]
            or [_("Staff")],
            "fields": list(access.fields),
            "field_labels": access.field_labels,
            "reason": access.reason_label,
        }
        for access in PersonalDataAccess.objects.filter(subject=user).only(
            "created_at", "actor_roles", "fields", "reason"
        )
    ]


def deletion_request_list(*, user: User) -> QuerySet[DeletionRequest]:
    return DeletionRequest.objects.filter(user=user)


def deletion_request_open(*, user: User) -> DeletionRequest | None:
    return DeletionRequest.objects.filter(user=user, status=DeletionRequest.Status.REQUESTED).first()


def deletion_request_queue(*, status: str = DeletionRequest.Status.REQUESTED) -> QuerySet[DeletionRequest]:
    requests = DeletionRequest.objects.select_related("user", "decided_by")
    if status:
        requests = requests.filter(status=status)
    # Oldest first: the law gives us a deadline counted from the request.
    return requests.order_by("created_at", "pk")


def deletion_request_get(*, request_id: int) -> DeletionRequest | None:
    return DeletionRequest.objects.select_related("user", "decided_by").filter(pk=request_id).first()


def personal_data_export(*, user: User) -> dict:
    """Everything accounts holds about the user, unmasked: it is hers. Token digests are never included."""
    return {
        "account": {
            "id": user.pk,
            "username": user.username,
            "display_name": user.display_name,
            "phone": user.phone,
            "city": user.city,
            "bio": user.bio,
            "avatar": user.avatar.name if user.avatar else "",
            "status": user.status,
            "is_active": user.is_active,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "addresses": [
            {
                "label": address.label,
                "recipient_name": address.recipient_name,
                "recipient_phone": address.recipient_phone,
                "province": address.province,
                "city": address.city,
                "district": address.district,
                "detail": address.detail,
                "postal_code": address.postal_code,
                "is_default": address.is_default,
                "created_at": _iso(address.created_at),
                "updated_at": _iso(address.updated_at),
            }
            for address in Address.objects.filter(user=user)
        ],
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "role_history": [
            {"role": change.role, "granted": change.granted, "note": change.note, "at": _iso(change.created_at)}
            for change in RoleChange.objects.filter(user=user).order_by("created_at", "pk")
        ],
        "status_history": [
            {"from": change.from_state, "to": change.to_state, "note": change.note, "at": _iso(change.created_at)}
            for change in AccountStatusChange.objects.filter(subject=user).order_by("created_at", "pk")
        ],
        "api_tokens": [
            {
                "name": token.name,
                "prefix": token.prefix,
                "created_at": _iso(token.created_at),
                "expires_at": _iso(token.expires_at),
                "last_used_at": _iso(token.last_used_at),
                "revoked_at": _iso(token.revoked_at),
            }
            for token in ApiToken.objects.filter(user=user).only(
                "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"
            )
        ],
        "personal_data_access_log": [
            {
                "at": _iso(row["at"]),
                "viewer_roles": [str(label) for label in row["viewer_roles"]],
                "fields": row["fields"],
                "reason": str(row["reason"]),
            }
            for row in personal_data_access_for_member(user=user)
        ],
        "deletion_requests": [
            {
                "id": deletion_request.pk,
                "status": deletion_request.status,
                "reason": deletion_request.reason,
                "blockers": deletion_request.blockers,
                "note": deletion_request.note,
                "requested_at": _iso(deletion_request.created_at),
                "decided_at": _iso(deletion_request.decided_at),
            }
            for deletion_request in DeletionRequest.objects.filter(user=user).order_by("created_at", "pk")
        ],
    }
