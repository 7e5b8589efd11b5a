"""The site's answers to the session engine's refusals (SESSIONKEEPER's *_RESPONSE settings).

Never a 500: the store down is a 503 with Retry-After, a session over its size a 400,
too many new sessions from one address a 429 with Retry-After. The API gets JSON.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.html import escape

RETRY_AFTER_SECONDS = 5


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def session_store_unavailable_response(request: HttpRequest, error: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            {"error": "The session store is unavailable for a moment; your session is kept. Try again shortly."},
            status=503,
        )
    else:
        # Rendered without a request context: the context processors would touch the session.
        html = render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Not cached anywhere: the next try must reach us.
    response["Cache-Control"] = "no-store"
    return response


def _sentence(request: HttpRequest, title: str, error: Exception, status: int) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": str(error)}, status=status)
    html = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{escape(error)}</p>"
    return HttpResponse(html, status=status)


def session_too_large_response(request: HttpRequest, error: Exception) -> HttpResponse:
    return _sentence(request, "Session too large", error, 400)


def session_creation_refused_response(request: HttpRequest, error: Exception) -> HttpResponse:
    response = _sentence(request, "Too many new sessions", error, 429)
    response["Retry-After"] = str(getattr(error, "retry_after", RETRY_AFTER_SECONDS))
    response["Cache-Control"] = "no-store"
    return response
