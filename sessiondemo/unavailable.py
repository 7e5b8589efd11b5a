"""The site's answers to the session engine's refusals (SESSIONKEEPER's *_RESPONSE settings).

Never a 500: the store down is a 503 with Retry-After, and so is a change refused by a
Redis that still answers but will not write (full, read-only), the sentence naming the
cause; a session over its size a 400, too many new sessions from one address a 429 with
Retry-After. The API gets JSON.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from sessionkeeper.exceptions import UNREACHABLE, SessionStoreUnavailable

RETRY_AFTER_SECONDS = 5


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def session_store_unavailable_response(request: HttpRequest, error: Exception | None = None) -> HttpResponse:
    """503: Redis out of reach, or refusing the change (full, read-only), named in the sentence."""
    refusal = isinstance(error, SessionStoreUnavailable) and error.refuses_writes
    if wants_json(request):
        sentence = error.sentence if isinstance(error, SessionStoreUnavailable) else UNREACHABLE
        response: HttpResponse = JsonResponse({"error": sentence}, status=503)
    else:
        # Rendered without a request context: the context processors would touch the session.
        context = {"retry_after": RETRY_AFTER_SECONDS, "reason": error.sentence if refusal else ""}
        response = HttpResponse(render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Not cached anywhere: the next try must reach us.
    response["Cache-Control"] = "no-store"
    return response


def _sentence(request: HttpRequest, template: str, error: Exception, status: int, **context) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": str(error)}, status=status)
    # The site's error page, in its frame; without a request context, as the 503 page.
    html = render_to_string(template, {"reason": str(error), **context})
    return HttpResponse(html, status=status)


def session_too_large_response(request: HttpRequest, error: Exception) -> HttpResponse:
    return _sentence(request, "400.html", error, 400)


def session_creation_refused_response(request: HttpRequest, error: Exception) -> HttpResponse:
    retry_after = getattr(error, "retry_after", RETRY_AFTER_SECONDS)
    response = _sentence(request, "429.html", error, 429, retry_after=retry_after)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response
