import json

from django.conf import settings
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _


class RequestTooLargeMiddleware:
    """Refuse an oversized request body with 413 before anything reads it.

    Non-file bodies are capped at DATA_UPLOAD_MAX_MEMORY_SIZE; multipart
    uploads at ERHUO_MAX_UPLOAD_BYTES.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        content_type = request.META.get("CONTENT_TYPE", "")
        limit = (
            getattr(settings, "ERHUO_MAX_UPLOAD_BYTES", 30 * 1024 * 1024)
            if content_type.startswith("multipart/")
            else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        )
        if limit is not None and length > limit:
            return too_large_response(request, limit)
        return self.get_response(request)


def refusal(request, status: int, code: str, title: str, detail: str):
    """A refusal before any view ran: the API's JSON error shape, or the site's error page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "detail": detail}, status=status)
    return render(request, "web/error.html", {"status": status, "title": title, "detail": detail}, status=status)


def too_large_response(request, limit: int):
    detail = _("The request is too large (at most %(mb)s MB).") % {"mb": max(1, limit // (1024 * 1024))}
    return refusal(request, 413, "request_too_large", _("Too large"), detail)


class NulCharacterMiddleware:
    """Refuse a request whose path, query string or form fields carry a NUL character, with 400.

    No text a person types holds one; PostgreSQL cannot store or compare one and answers
    with an error that would otherwise be a 500 (SQLite would quietly keep it). JSON bodies are
    checked where they spell one (``\\u0000``); uploaded files are not text and are not checked.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _has_nul(request.GET):
            return nul_response(request)
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            if request.method == "POST":
                try:
                    form = request.POST
                except MultiPartParserError:
                    # Reading it here consumed the body: refuse it as the API or the page would have.
                    return malformed_response(request)
                if _has_nul(form):
                    return nul_response(request)
        elif request.path.startswith("/api/") and _json_has_nul(request.body):
            # The API reads any other body as JSON, whatever its declared type.
            return nul_response(request)
        return self.get_response(request)


def _json_has_nul(body: bytes) -> bool:
    if b"\\u0000" not in body:  # the only way JSON can carry a NUL; most bodies stop here
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False  # malformed: the API refuses it with its own message
    return _nul_in(data)


def _nul_in(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_nul_in(key) or _nul_in(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_nul_in(item) for item in value)
    return False


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in value for value in data.getlist(key)) for key in data)


def nul_response(request):
    return refusal(request, 400, "nul_character", _("Bad request"), _("Text may not contain NUL characters."))


def malformed_response(request):
    return refusal(request, 400, "malformed_body", _("Bad request"), _("The request body could not be read."))
