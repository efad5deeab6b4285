"""Account pages. Thin: forms in, services do the work, selectors read."""

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from erhuo.accounts import roles as role_registry
from erhuo.accounts import selectors, services
from erhuo.accounts.forms import (
    AddressForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RoleForm,
    SignupForm,
    StatusChangeForm,
    TokenForm,
)
from erhuo.accounts.models import PersonalDataAccess, User
from erhuo.core.errors import DomainError


def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def lockout_response(request, credentials=None, *args, **kwargs):
    """django-axes calls this when a locked-out pair tries again."""
    detail = services.lockout_message()
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "account_locked", "detail": detail}, status=429)
    form = LoginForm(initial={"username": (credentials or {}).get("username", "")})
    return render(request, "accounts/login.html", {"form": form, "lockout": detail}, status=429)


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                phone=form.cleaned_data["phone"],
                display_name=form.cleaned_data["display_name"],
                password=form.cleaned_data["password"],
                city=form.cleaned_data["city"],
            )
        except DomainError as error:
            form.add_service_error(error)
        else:
            login(request, user, backend="erhuo.accounts.backends.PhoneOrUsernameBackend")
            messages.success(
                request,
                _("Welcome to Erhuo, %(name)s! Your username is %(username)s; you can also log in with your phone.")
                % {"name": user.display_name, "username": user.username},
            )
            return redirect(_next_url(request, "accounts:profile"))
    status = 422 if request.method == "POST" else 200
    return render(request, "accounts/signup.html", {"form": form, "next": _next_url(request, "")}, status=status)


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request, "accounts:profile"))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = services.login_check(
                    request=request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
                )
            except DomainError as error:
                form.add_service_error(error)
                status = error.status
            else:
                login(request, user)
                return redirect(_next_url(request, "accounts:profile"))
        else:
            status = 422
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request, "")}, status=status)


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("You have logged out."))
    return redirect("web:home")


@login_required
def profile(request):
    return render(
        request,
        "accounts/profile.html",
        {
            "profile_user": request.user,
            "addresses": selectors.address_list(user=request.user)[:3],
            "roles": [
                role_registry.ROLES[code] for code in sorted(request.user.role_codes()) if code in role_registry.ROLES
            ],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    user = request.user
    initial = {"display_name": user.display_name, "city": user.city, "bio": user.bio}
    form = ProfileForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_profile_update(
                user=user,
                display_name=form.cleaned_data["display_name"],
                bio=form.cleaned_data["bio"],
                city=form.cleaned_data["city"],
                avatar=form.cleaned_data.get("avatar") or None,
            )
        except DomainError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("accounts:profile")
    status = 422 if request.method == "POST" else 200
    return render(request, "accounts/profile_edit.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_password_change(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except DomainError as error:
            if "password" in error.fields:
                error.fields["new_password"] = error.fields.pop("password")
            form.add_service_error(error)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password is changed. Your API tokens were revoked."))
            return redirect("accounts:profile")
    status = 422 if request.method == "POST" else 200
    return render(request, "accounts/password_change.html", {"form": form}, status=status)


# --- addresses --------------------------------------------------------------


@login_required
def address_list(request):
    return render(request, "accounts/address_list.html", {"addresses": selectors.address_list(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request, address_id: int | None = None):
    address = None
    if address_id is not None:
        address = selectors.address_get(user=request.user, address_id=address_id)
        if address is None:
            raise Http404
    initial = {name: getattr(address, name) for name in services.ADDRESS_FIELDS} if address else {}
    if address:
        initial["is_default"] = address.is_default
    form = AddressForm(request.POST or None, initial=initial)
    # Where she came from (checkout): back there once saved; only a path on this site.
    back_to = request.POST.get("next") or request.GET.get("next") or ""
    if not back_to.startswith("/") or not url_has_allowed_host_and_scheme(
        back_to, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back_to = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if address is None:
                services.address_create(user=request.user, data=data, make_default=data["is_default"])
            else:
                services.address_update(
                    user=request.user, address_id=address.pk, data=data, make_default=data["is_default"]
                )
        except DomainError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("The address is saved."))
            return redirect(back_to or "accounts:addresses")
    status = 422 if request.method == "POST" else 200
    return render(
        request, "accounts/address_form.html", {"form": form, "address": address, "next": back_to}, status=status
    )


@login_required
@require_POST
def address_delete(request, address_id: int):
    try:
        services.address_delete(user=request.user, address_id=address_id)
    except DomainError as error:
        if error.status == 404:
            raise Http404 from None
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The address is deleted."))
    return redirect("accounts:addresses")


# --- API tokens -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_token = services.api_token_issue(user=request.user, name=form.cleaned_data["name"])
        except DomainError as error:
            form.add_service_error(error)
    return render(
        request,
        "accounts/token_list.html",
        {"form": form, "tokens": selectors.api_token_list(user=request.user), "new_token": new_token},
    )


@login_required
@require_POST
def token_revoke(request, token_id: int):
    try:
        services.api_token_revoke(user=request.user, token_id=token_id)
    except DomainError:
        raise Http404 from None
    messages.success(request, _("The token is revoked."))
    return redirect("accounts:tokens")


# --- operators: member directory -------------------------------------------


@permission_required("accounts.view_member_directory", raise_exception=True)
def member_directory(request):
    query = request.GET.get("q", "")
    role = request.GET.get("role", "")
    status = request.GET.get("status", "")
    if role and role not in role_registry.ROLES:
        role = ""
    if status and status not in User.Status.values:
        status = ""
    page = Paginator(selectors.member_directory(query=query, role=role, status=status), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "accounts/member_directory.html",
        {
            "page": page,
            "query": query,
            "role": role,
            "status": status,
            "roles": role_registry.ROLES.values(),
            "statuses": User.Status.choices,
        },
    )


@permission_required("accounts.view_member_directory", raise_exception=True)
@require_http_methods(["GET", "POST"])
def member_detail(request, user_id: int):
    member = User.objects.filter(pk=user_id).first()
    if member is None:
        raise Http404
    if request.method == "POST":
        try:
            if "role" in request.POST:
                form = RoleForm(request.POST)
                if form.is_valid():
                    if form.cleaned_data["action"] == "grant":
                        services.role_grant(user=member, role=form.cleaned_data["role"], actor=request.user)
                    else:
                        services.role_revoke(user=member, role=form.cleaned_data["role"], actor=request.user)
                    messages.success(request, _("Roles updated."))
            else:
                form = StatusChangeForm(request.POST)
                if form.is_valid():
                    services.user_status_change(
                        user=member, to=form.cleaned_data["to"], actor=request.user, note=form.cleaned_data["note"]
                    )
                    messages.success(request, _("Account status updated."))
        except DomainError as error:
            messages.error(request, str(error.message))
            return _member_detail_page(request, member, status=error.status)
        return redirect("accounts:member_detail", user_id=member.pk)
    return _member_detail_page(request, member)


def _member_detail_page(request, member, status=200, extra=None):
    member_roles = member.role_codes()
    can_reveal = request.user.has_perm("accounts.view_member_pii")
    return render(
        request,
        "accounts/member_detail.html",
        {
            "member": member,
            "role_rows": [(role, role.code in member_roles) for role in role_registry.ROLES.values()],
            "can_manage_roles": request.user.has_perm("accounts.manage_roles"),
            "can_change_status": request.user.has_perm("accounts.suspend_member") and member.pk != request.user.pk,
            "role_changes": selectors.role_change_list(user=member)[:20],
            "status_changes": member.transitions.select_related("actor").order_by("-created_at")[:20],
            "status_targets": sorted(User.TRANSITIONS.get(member.status, ())),
            "status_labels": dict(User.Status.choices),
            # Personal data: masked here; `views_privacy.member_reveal` shows it in full and logs it.
            "can_reveal": can_reveal,
            "masked_addresses": selectors.address_list(user=member) if can_reveal else [],
            "reveal_reasons": PersonalDataAccess.Reason.choices,
            "reveal_form": None,
            **(extra or {}),
        },
        status=status,
    )
