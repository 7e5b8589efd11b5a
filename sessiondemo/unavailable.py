"""The answer given when the session store is down: 503 with Retry-After, never a 500."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

RETRY_AFTER_SECONDS = 5


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def session_store_unavailable_response(request: HttpRequest) -> HttpResponse:
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
