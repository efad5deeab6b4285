"""API authentication: bearer tokens, or the browser session (with CSRF)."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja.security import HttpBearer, SessionAuth

from erhuo.accounts import selectors, services
from erhuo.core.errors import DomainError


class TokenInvalid(DomainError):
    code = "invalid_token"
    status = 401
    default_message = _("The token is not valid. Request a new one at POST /api/v1/auth/token.")


class TokenExpired(DomainError):
    code = "token_expired"
    status = 401
    default_message = _("The token has expired. Request a new one at POST /api/v1/auth/token.")


class BearerTokenAuth(HttpBearer):
    openapi_description = "A token from POST /api/v1/auth/token, sent as `Authorization: Bearer <token>`."

    def authenticate(self, request, token):
        token_row = selectors.api_token_by_digest(services.token_digest(token))
        if token_row is None or token_row.revoked_at is not None:
            raise TokenInvalid()
        if token_row.expires_at <= timezone.now():
            raise TokenExpired()
        if not token_row.user.is_active:
            raise TokenInvalid(_("This account is not active."), code="account_inactive")
        services.api_token_touch(token=token_row)
        request.user = token_row.user
        request.api_token = token_row
        return token_row.user


class ActiveSessionAuth(SessionAuth):
    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None and user.is_active:
            return user
        return None


bearer_auth = BearerTokenAuth()
session_auth = ActiveSessionAuth()
API_AUTH = [bearer_auth, session_auth]
