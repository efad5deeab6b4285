"""Accounts API: tokens, the caller, profile, addresses, and the operators' member directory."""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from erhuo.accounts import roles as role_registry
from erhuo.accounts import selectors, services
from erhuo.accounts.models import Address, User
from erhuo.core import ratelimit
from erhuo.core.api import ErrorOut, PageNumberPagination
from erhuo.core.errors import NotFound, PermissionRefused, RateLimited
from erhuo.core.pii import mask_name

router = Router(tags=["accounts"])


# --- schemas ---------------------------------------------------------------


class TokenIn(Schema):
    username: str = Field(..., max_length=64, description="Mobile number or username")
    password: str = Field(..., max_length=256)
    name: str = Field("", max_length=60, description="A name to recognise the token by")


class TokenOut(Schema):
    token: str
    token_id: int
    expires_at: datetime


class SignupIn(Schema):
    phone: str = Field(..., max_length=20)
    display_name: str = Field(..., max_length=40)
    password: str = Field(..., max_length=256)
    city: str = Field("", max_length=40)


class RoleOut(Schema):
    code: str
    label: str


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    phone: str = Field(..., description="Masked, e.g. 138****5678")
    city: str
    bio: str
    avatar_url: str | None
    status: str
    roles: list[RoleOut]
    is_operator: bool
    date_joined: datetime


class ProfileIn(Schema):
    display_name: str = Field(..., max_length=40)
    city: str = Field("", max_length=40)
    bio: str = Field("", max_length=300)


class PasswordIn(Schema):
    old_password: str = Field(..., max_length=256)
    new_password: str = Field(..., max_length=256)


class AddressIn(Schema):
    label: str = Field("", max_length=20)
    recipient_name: str = Field(..., max_length=40)
    recipient_phone: str = Field(..., max_length=20)
    province: str = Field(..., max_length=20)
    city: str = Field(..., max_length=20)
    district: str = Field("", max_length=20)
    detail: str = Field(..., max_length=200)
    postal_code: str = Field("", max_length=6)
    is_default: bool = False


class AddressOut(Schema):
    id: int
    label: str
    recipient_name: str
    recipient_phone: str
    province: str
    city: str
    district: str
    detail: str
    postal_code: str
    is_default: bool
    updated_at: datetime


class ApiTokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class MemberOut(Schema):
    id: int
    username: str
    display_name: str
    phone: str = Field(..., description="Masked")
    city: str
    status: str
    roles: list[str]
    date_joined: datetime


class RoleChangeIn(Schema):
    role: str = Field(..., max_length=32)
    note: str = Field("", max_length=200)


class StatusChangeIn(Schema):
    to: str = Field(..., max_length=16)
    note: str = Field("", max_length=300)


def _me(user: User) -> dict:
    codes = sorted(user.role_codes())
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "phone": user.masked_phone,
        "city": user.city,
        "bio": user.bio,
        "avatar_url": user.avatar.url if user.avatar else None,
        "status": user.status,
        "roles": [{"code": code, "label": role_registry.role_label(code)} for code in codes],
        "is_operator": user.is_staff,
        "date_joined": user.date_joined,
    }


def _member(user: User) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "phone": user.masked_phone,
        "city": user.city,
        "status": user.status,
        "roles": sorted(group.name for group in user.groups.all()),
        "date_joined": user.date_joined,
    }


# --- auth ------------------------------------------------------------------


@router.post(
    "/auth/token",
    auth=None,
    response={201: TokenOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Exchange a phone number/username and password for a bearer token",
)
def token_create(request, payload: TokenIn):
    """Tokens expire after `ERHUO_API_TOKEN_DAYS` days; only their digest is stored."""
    user = services.login_check(request=request, username=payload.username, password=payload.password)
    token, raw = services.api_token_issue(user=user, name=payload.name)
    return Status(201, {"token": raw, "token_id": token.pk, "expires_at": token.expires_at})


@router.delete("/auth/token", response={204: None}, summary="Revoke the token used for this request")
def token_delete(request):
    token = getattr(request, "api_token", None)
    if token is not None:
        services.api_token_revoke(user=request.user, token_id=token.pk)
    return Status(204, None)


@router.post(
    "/auth/signup",
    auth=None,
    response={201: MeOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Create a member account",
)
def signup(request, payload: SignupIn):
    if not ratelimit.allow(f"signup:{ratelimit.client_address(request)}", limit=10, window_seconds=3600):
        raise RateLimited(_("Too many sign-ups from this address. Please try again later."))
    user = services.user_create(
        phone=payload.phone, display_name=payload.display_name, password=payload.password, city=payload.city
    )
    return Status(201, _me(user))


# --- the caller ------------------------------------------------------------


@router.get("/me", response=MeOut, summary="The caller")
def me(request):
    return _me(request.user)


@router.patch("/me", response={200: MeOut, 422: ErrorOut}, summary="Update the caller's profile")
def me_update(request, payload: ProfileIn):
    user = services.user_profile_update(
        user=request.user, display_name=payload.display_name, bio=payload.bio, city=payload.city
    )
    return Status(200, _me(user))


@router.post("/me/password", response={204: None, 422: ErrorOut}, summary="Change the caller's password")
def me_password(request, payload: PasswordIn):
    """Every API token of the caller is revoked, this one included."""
    services.user_password_change(
        user=request.user, old_password=payload.old_password, new_password=payload.new_password
    )
    return Status(204, None)


@router.get("/me/tokens", response=list[ApiTokenOut], summary="The caller's API tokens")
def me_tokens(request):
    return list(selectors.api_token_list(user=request.user))


@router.delete(
    "/me/tokens/{token_id}", response={204: None, 404: ErrorOut}, summary="Revoke one of the caller's tokens"
)
def me_token_revoke(request, token_id: int):
    services.api_token_revoke(user=request.user, token_id=token_id)
    return Status(204, None)


# --- addresses --------------------------------------------------------------


@router.get("/me/addresses", response=list[AddressOut], summary="The caller's addresses")
def address_list(request):
    return list(selectors.address_list(user=request.user))


@router.post("/me/addresses", response={201: AddressOut, 409: ErrorOut, 422: ErrorOut}, summary="Add an address")
def address_create(request, payload: AddressIn):
    data = payload.dict()
    make_default = data.pop("is_default")
    return Status(201, services.address_create(user=request.user, data=data, make_default=make_default))


def _own_address(request, address_id: int) -> Address:
    address = selectors.address_get(user=request.user, address_id=address_id)
    if address is None:
        raise NotFound(_("No such address."), code="address_not_found")
    return address


@router.get("/me/addresses/{address_id}", response={200: AddressOut, 404: ErrorOut}, summary="One address")
def address_detail(request, address_id: int):
    return Status(200, _own_address(request, address_id))


@router.put(
    "/me/addresses/{address_id}", response={200: AddressOut, 404: ErrorOut, 422: ErrorOut}, summary="Replace an address"
)
def address_update(request, address_id: int, payload: AddressIn):
    data = payload.dict()
    make_default = data.pop("is_default")
    return Status(
        200, services.address_update(user=request.user, address_id=address_id, data=data, make_default=make_default)
    )


@router.delete("/me/addresses/{address_id}", response={204: None, 404: ErrorOut}, summary="Delete an address")
def address_delete(request, address_id: int):
    services.address_delete(user=request.user, address_id=address_id)
    return Status(204, None)


# --- operators --------------------------------------------------------------


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionRefused()


@router.get("/members", response=list[MemberOut], summary="Member directory (operators; phone numbers masked)")
@paginate(PageNumberPagination, page_size=30)
def member_list(request, q: str = "", role: str = "", status: str = ""):
    _require(request, "accounts.view_member_directory")
    return [_member(user) for user in selectors.member_directory(query=q[:64], role=role[:32], status=status[:16])]


def _member_or_404(user_id: int) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("No such member."), code="member_not_found")
    return user


@router.post(
    "/members/{user_id}/roles",
    response={200: MemberOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Grant a role (owner)",
)
def member_role_grant(request, user_id: int, payload: RoleChangeIn):
    _require(request, "accounts.view_member_directory")
    member = _member_or_404(user_id)
    services.role_grant(user=member, role=payload.role, actor=request.user, note=payload.note)
    return Status(200, _member(member))


@router.delete(
    "/members/{user_id}/roles/{role}",
    response={200: MemberOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Revoke a role (owner)",
)
def member_role_revoke(request, user_id: int, role: str):
    _require(request, "accounts.view_member_directory")
    member = _member_or_404(user_id)
    services.role_revoke(user=member, role=role, actor=request.user)
    return Status(200, _member(member))


@router.post(
    "/members/{user_id}/status",
    response={200: MemberOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Suspend, reactivate or close an account",
)
def member_status_change(request, user_id: int, payload: StatusChangeIn):
    _require(request, "accounts.view_member_directory")
    member = _member_or_404(user_id)
    services.user_status_change(user=member, to=payload.to, actor=request.user, note=payload.note)
    return Status(200, _member(member))


# --- personal data: "show in full" and the access logs ------------------------
# The member's download and deletion request gather every app's part, so their
# routes live in `erhuo.web.api_privacy`.


class RevealIn(Schema):
    reason: str = Field(
        ..., max_length=32, description="order_support, delivery_problem, identity_check or legal_request"
    )
    note: str = Field("", max_length=300)


class RevealedOut(Schema):
    id: int
    phone: str = Field(..., description="In full; this response is logged")
    addresses: list[AddressOut]
    access_id: int


class MyAccessOut(Schema):
    at: datetime
    viewer_roles: list[str] = Field(..., description="The viewer's roles, never the viewer's name")
    fields: list[str]
    reason: str


class AccessOut(Schema):
    id: int
    at: datetime = Field(..., alias="created_at")
    actor_id: int
    actor_name: str
    actor_roles: list[str]
    subject_id: int
    subject_name: str = Field(..., description="Masked")
    fields: list[str]
    reason: str
    note: str
    path: str
    ip_address: str | None

    @staticmethod
    def resolve_actor_name(access) -> str:
        return access.actor.display_name

    @staticmethod
    def resolve_subject_name(access) -> str:
        return mask_name(access.subject.display_name)


@router.post(
    "/members/{user_id}/personal-data",
    response={200: RevealedOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="A member's phone number and addresses in full (customer service, owner; logged)",
)
def member_personal_data_reveal(request, user_id: int, payload: RevealIn):
    """Every call writes a personal data access row with the reason; the member sees that it happened."""
    _require(request, "accounts.view_member_pii")
    member = _member_or_404(user_id)
    revealed = services.member_personal_data_reveal(
        actor=request.user, subject=member, reason=payload.reason, note=payload.note, request=request
    )
    return Status(
        200,
        {"id": member.pk, "phone": revealed.phone, "addresses": revealed.addresses, "access_id": revealed.access.pk},
    )


@router.get(
    "/me/personal-data/access-log",
    response=list[MyAccessOut],
    summary="Who has seen the caller's personal data in full (role and time)",
)
def me_personal_data_access_log(request):
    return [
        {
            "at": row["at"],
            "viewer_roles": [str(label) for label in row["viewer_roles"]],
            "fields": row["fields"],
            "reason": str(row["reason"]),
        }
        for row in selectors.personal_data_access_for_member(user=request.user)
    ]


@router.get(
    "/personal-data-access",
    response=list[AccessOut],
    summary="The personal data access log (owner; subjects' names masked)",
)
@paginate(PageNumberPagination, page_size=30)
def personal_data_access_list(request, subject: str = "", actor: str = ""):
    _require(request, "accounts.view_personal_data_access")
    subject_user = selectors.user_by_reference(subject[:64])
    actor_user = selectors.user_by_reference(actor[:64])
    accesses = selectors.personal_data_access_list(subject=subject_user, actor=actor_user)
    if (subject and subject_user is None) or (actor and actor_user is None):
        accesses = accesses.none()
    return accesses
