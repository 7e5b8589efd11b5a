"""Session middleware that turns a Redis outage into a 503, never into a logout."""

from __future__ import annotations

import logging

from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from redis.exceptions import RedisError

from sessiondemo.sessions.exceptions import SessionStoreUnavailable
from sessiondemo.unavailable import session_store_unavailable_response

logger = logging.getLogger("sessiondemo.sessions")


class SessionMiddleware(DjangoSessionMiddleware):
    def process_exception(self, request, exception):
        if isinstance(exception, (SessionStoreUnavailable, RedisError)):
            logger.warning("Session store unavailable during %s %s: %s", request.method, request.path, exception)
            return session_store_unavailable_response(request)
        return None

    def process_response(self, request, response):
        try:
            return super().process_response(request, response)
        except (SessionStoreUnavailable, RedisError) as error:
            logger.warning("Session store unavailable saving %s %s: %s", request.method, request.path, error)
            return session_store_unavailable_response(request)
