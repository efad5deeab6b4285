"""The API's shared pieces: health, and one JSON shape for every error.

Every error leaves the API as `{"code": <stable string>, "detail": <translated
message>}` (plus `errors` for field problems) with the right status; nothing
else, and never a stack trace.
"""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import connection
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja import pagination as ninja_pagination
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError
from pydantic import Field

from erhuo.core.errors import DomainError

logger = logging.getLogger("erhuo.api")

router = Router(tags=["system"])


class ErrorOut(Schema):
    code: str
    detail: str


class HealthOut(Schema):
    status: str
    database: str


@router.get("/health", auth=None, response={200: HealthOut, 503: ErrorOut}, summary="Service health")
def health(request):
    """Liveness and database reachability, for load balancers and monitors."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("health check: database unreachable")
        return Status(503, {"code": "database_unavailable", "detail": _("The database cannot be reached.")})
    return Status(200, {"status": "ok", "database": connection.vendor})


_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    422: "validation_error",
    429: "rate_limited",
}


def _status_message(status: int) -> str:
    messages = {
        400: _("The request could not be understood."),
        401: _("Log in or send a valid token (Authorization: Bearer …)."),
        403: _("You do not have permission to do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        413: _("The request is too large."),
        429: _("Too many requests. Please wait a moment and try again."),
    }
    return messages.get(status, _("The request could not be completed."))


def error_body(status: int, code: str | None = None, detail: str | None = None, **extra) -> dict:
    body = {"code": code or _STATUS_CODES.get(status, "error"), "detail": detail or _status_message(status)}
    body.update(extra)
    return body


def _field_errors(errors: list[dict]) -> list[dict]:
    cleaned = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload")]
        cleaned.append(
            {"field": ".".join(location), "message": str(error.get("msg", "")), "type": error.get("type", "")}
        )
    return cleaned


def install_error_handlers(api) -> None:
    def respond(request, status, body):
        return api.create_response(request, body, status=status)

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        return respond(request, exc.status, exc.as_dict())

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        return respond(
            request,
            422,
            error_body(422, "validation_error", _("Some fields are not valid."), errors=_field_errors(exc.errors)),
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request, exc):
        return respond(request, 401, error_body(401))

    @api.exception_handler(AuthorizationError)
    def authorization_error(request, exc):
        return respond(request, 403, error_body(403))

    @api.exception_handler(Throttled)
    def throttled(request, exc):
        response = respond(request, 429, error_body(429))
        if exc.wait:
            response["Retry-After"] = str(int(exc.wait))
        return response

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        if exc.status_code == 400:
            # Django Ninja raises this for a body that is not valid JSON.
            return respond(request, 400, error_body(400, "malformed_body", _("The request body is not valid JSON.")))
        return respond(request, exc.status_code, error_body(exc.status_code))

    @api.exception_handler(MultiPartParserError)
    def malformed_multipart(request, exc):
        # A multipart body without a usable boundary: the client's mistake, not ours.
        return respond(request, 400, error_body(400, "malformed_body", _("The request body could not be read.")))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, 404, error_body(404))

    @api.exception_handler(PermissionDenied)
    def permission_denied(request, exc):
        return respond(request, 403, error_body(403))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        return respond(request, 413, error_body(413))

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, exc):
        return respond(request, 400, error_body(400))

    @api.exception_handler(Exception)
    def unexpected(request, exc):
        logger.exception("unhandled API error on %s %s", request.method, request.path)
        return respond(
            request,
            500,
            error_body(500, "server_error", _("Something went wrong on our side. Please try again later.")),
        )


MAX_PAGE = 100_000
MAX_PAGE_SIZE = 200


class PageNumberPagination(ninja_pagination.PageNumberPagination):
    """Ninja's page-number pagination with bounded page numbers.

    An absurd page number (page=10**20) would ask the database for an offset
    it cannot represent, which SQLite answers with an error; bounded, it is a
    422 like any other invalid parameter.
    """

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE)
