"""Session middleware that turns a Redis outage into a 503, never into a logout.

It also tells the store who is asking (user agent, address, serving instance),
which the "Active sessions" page shows, and answers an oversized session with
a 400 that says so instead of a 500.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from redis.exceptions import RedisClusterException

from sessiondemo.client_address import client_ip
from sessiondemo.instance import instance_name
from sessiondemo.redis_client import REDIS_FAILURES
from sessiondemo.sessions.exceptions import SessionStoreUnavailable, SessionTooLarge
from sessiondemo.unavailable import session_store_unavailable_response, wants_json

logger = logging.getLogger("sessiondemo.sessions")

UNAVAILABLE = (SessionStoreUnavailable, RedisClusterException, *REDIS_FAILURES)


def session_too_large_response(request: HttpRequest, error: SessionTooLarge) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": str(error)}, status=400)
    html = f"<!doctype html><title>Session too large</title><h1>Session too large</h1><p>{escape(error)}</p>"
    return HttpResponse(html, status=400)


class SessionMiddleware(DjangoSessionMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        bind_client = getattr(request.session, "bind_client", None)
        if bind_client is not None:
            bind_client(
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                ip=client_ip(request),
                instance=instance_name(request),
            )

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, UNAVAILABLE):
            logger.warning("Session store unavailable during %s %s: %s", request.method, request.path, exception)
            return session_store_unavailable_response(request)
        if isinstance(exception, SessionTooLarge):
            logger.warning("Session too large during %s %s: %s", request.method, request.path, exception)
            return session_too_large_response(request, exception)
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        try:
            return super().process_response(request, response)
        except UNAVAILABLE as error:
            logger.warning("Session store unavailable saving %s %s: %s", request.method, request.path, error)
            return session_store_unavailable_response(request)
        except SessionTooLarge as error:
            logger.warning("Session too large saving %s %s: %s", request.method, request.path, error)
            return session_too_large_response(request, error)
