"""Session middleware: Django's, plus who is asking, and clear answers instead of 500s.

An unreachable store is answered by UNAVAILABLE_RESPONSE (by default a 503 with
Retry-After), never by a logout; so is a change refused by a Redis that answers but will
not write (full, read-only), whose sentence names the cause, while a page that only shows
things is served all the same. A session over MAX_BYTES is answered by TOO_LARGE_RESPONSE
(400); an address over CREATION_RATE by CREATION_REFUSED_RESPONSE (429 with Retry-After).
"""

from __future__ import annotations

import logging

from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse

from sessionkeeper.client import REDIS_FAILURES
from sessionkeeper.conf import config
from sessionkeeper.exceptions import SessionCreationRefused, SessionStoreUnavailable, SessionTooLarge

logger = logging.getLogger("sessionkeeper")

UNAVAILABLE = (SessionStoreUnavailable, *REDIS_FAILURES)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def answer(request: HttpRequest, error: Exception, moment: str) -> HttpResponse | None:
    """The configured response for an engine error, or None for anything else."""
    options = config()
    if isinstance(error, UNAVAILABLE):
        logger.warning("Session store unavailable %s %s %s: %s", moment, request.method, request.path, error)
        return options.unavailable_response(request, error)
    if isinstance(error, SessionTooLarge):
        logger.warning("Session too large %s %s %s: %s", moment, request.method, request.path, error)
        return options.too_large_response(request, error)
    if isinstance(error, SessionCreationRefused):
        logger.warning("Session creation refused %s %s %s: %s", moment, request.method, request.path, error)
        return options.creation_refused_response(request, error)
    return None


class SessionMiddleware(DjangoSessionMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        bind_client = getattr(request.session, "bind_client", None)
        if bind_client is not None:
            options = config()
            bind_client(
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                ip=options.client_address(request),
                instance=options.instance_name(request),
                request=request,
            )

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return answer(request, exception, "during")

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        try:
            return super().process_response(request, response)
        except SessionStoreUnavailable as error:
            if error.refuses_writes and request.method in SAFE_METHODS:
                # A page that only shows things, from a Redis that reads but will not write (full
                # under noeviction, a read-only replica): served. What it would have written (a
                # consumed message, a cart carried over an expiry) waits in Redis as it was.
                logger.warning("Session not saved after %s %s: %s", request.method, request.path, error)
                return response
            return answer(request, error, "saving")  # type: ignore[return-value]
        except (*UNAVAILABLE, SessionTooLarge, SessionCreationRefused) as error:
            return answer(request, error, "saving")  # type: ignore[return-value]
