from django.conf import settings
from django.http import JsonResponse
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


def too_large_response(request, limit: int):
    detail = _("The request is too large (at most %(mb)s MB).") % {"mb": max(1, limit // (1024 * 1024))}
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "request_too_large", "detail": detail}, status=413)
    return render(request, "web/error.html", {"status": 413, "title": _("Too large"), "detail": detail}, status=413)
