"""Default answers for the middleware: plain, negotiated by Accept, each replaceable by a setting."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from sessionkeeper.exceptions import UNREACHABLE, SessionCreationRefused, SessionStoreUnavailable, SessionTooLarge


def _answer(request: HttpRequest, message: str, status: int) -> HttpResponse:
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"error": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    """503 with Retry-After: the session is kept, the request can be tried again; a Redis that refuses
    writes (full, read-only) is named."""
    sentence = error.sentence if isinstance(error, SessionStoreUnavailable) else UNREACHABLE
    response = _answer(request, sentence, 503)
    response["Retry-After"] = str(SessionStoreUnavailable.retry_after)
    response["Cache-Control"] = "no-store"
    return response


def too_large(request: HttpRequest, error: SessionTooLarge) -> HttpResponse:
    return _answer(request, str(error), 400)


def creation_refused(request: HttpRequest, error: SessionCreationRefused) -> HttpResponse:
    response = _answer(request, str(error), 429)
    response["Retry-After"] = str(error.retry_after)
    response["Cache-Control"] = "no-store"
    return response
