"""The site's answers to the session engine's refusals (SESSIONKEEPER's *_RESPONSE settings).

Never a 500: the store down is a 503 with Retry-After, and so is a change refused by a
Redis that still answers but will not write (full, read-only), the sentence naming the
cause; a session over its size a 400, too many new sessions from one address a 429 with
Retry-After. The API gets JSON.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from sessiondemo.views import error_json, error_page, too_many_requests, wants_json
from sessionkeeper.exceptions import UNREACHABLE, SessionStoreUnavailable

RETRY_AFTER_SECONDS = SessionStoreUnavailable.retry_after


def session_store_unavailable_response(request: HttpRequest, error: Exception | None = None) -> HttpResponse:
    """503: Redis out of reach, or refusing the change (full, read-only), named in the sentence."""
    refusal = isinstance(error, SessionStoreUnavailable) and error.refuses_writes
    if wants_json(request):
        sentence = error.sentence if isinstance(error, SessionStoreUnavailable) else UNREACHABLE
        response: HttpResponse = error_json(sentence, 503)
    else:
        reason = error.sentence if refusal else ""
        response = error_page(request, "503.html", 503, retry_after=RETRY_AFTER_SECONDS, reason=reason)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Not cached anywhere: the next try must reach us.
    response["Cache-Control"] = "no-store"
    return response


def session_too_large_response(request: HttpRequest, error: Exception) -> HttpResponse:
    if wants_json(request):
        return error_json(str(error), 400)
    return error_page(request, "400.html", 400, reason=str(error))


def session_creation_refused_response(request: HttpRequest, error: Exception) -> HttpResponse:
    response = too_many_requests(request, getattr(error, "retry_after", RETRY_AFTER_SECONDS), str(error))
    response["Cache-Control"] = "no-store"
    return response
