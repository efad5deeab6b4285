"""Domain errors with stable codes.

Services raise these; the API turns them into JSON `{"code", "detail"}` and
pages turn them into messages. A code is a stable, lower-case string per app
(`item_not_claimable`); the message is translated.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A rule of the domain refused the request. Nothing was changed."""

    code = "domain_error"
    status = 400
    default_message = _("The request could not be completed.")

    def __init__(self, message=None, *, code: str | None = None, status: int | None = None, fields=None):
        self.message = message if message is not None else self.default_message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        # Optional {field: [messages]} for forms and API clients.
        self.fields = fields or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        data = {"code": self.code, "detail": str(self.message)}
        if self.fields:
            data["errors"] = {key: [str(m) for m in messages] for key, messages in self.fields.items()}
        return data


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 422
    default_message = _("Some fields are not valid.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionRefused(DomainError):
    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission to do this.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("The request conflicts with the current state.")


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = _("Too many requests. Please wait a moment and try again.")
