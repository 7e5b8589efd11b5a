"""Structured logs: a JSON formatter, and one JSON line per request on stdout.

App Service streams stdout to Log Analytics, where one object per line becomes columns.
The session is identified by a prefix of its key's SHA-256, never by the key itself:
a log reader must not be able to take over a session.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from datetime import datetime, timezone

from django.contrib.auth import SESSION_KEY
from django.utils.functional import empty

from observability import metrics, ops
from sessiondemo.instance import instance_name
from sessiondemo.redis_client import count_round_trips

request_logger = logging.getLogger("sessiondemo.request")

SESSION_HASH_LENGTH = 12
# A caller's request id is kept when it looks like one (App Service's front end, a proxy, a test).
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Attributes every LogRecord has; anything else on a record came in through ``extra``.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # default=str: Django puts objects (the request) in ``extra`` of its own records.
        return json.dumps(entry, default=str, separators=(",", ":"))


def session_hash_prefix(session_key: str | None) -> str | None:
    if not session_key:
        return None
    return hashlib.sha256(session_key.encode()).hexdigest()[:SESSION_HASH_LENGTH]


def request_id_for(request) -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if REQUEST_ID_PATTERN.match(given) else uuid.uuid4().hex


def _user_id(request):
    """The signed-in user's id, from what the request already loaded: never a Redis read of its own."""
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "_wrapped", None) is not empty:
        return str(user.pk) if user.is_authenticated else None
    loaded = getattr(getattr(request, "session", None), "_session_cache", None)
    if isinstance(loaded, dict) and loaded.get(SESSION_KEY) is not None:
        return str(loaded[SESSION_KEY])
    return None


def _session_key(request) -> str | None:
    session = getattr(request, "session", None)
    return session.session_key if session is not None else None


class RequestLogMiddleware:
    """Log each request as one JSON line, count it, and publish the ops figures when due.

    Goes near the top of MIDDLEWARE so that its latency and round trips include the
    session middleware's load and save.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_for(request)
        started = time.perf_counter()
        with count_round_trips() as counter:
            response = self.get_response(request)
        seconds = time.perf_counter() - started
        response["X-Request-ID"] = request.request_id
        instance = instance_name(request)
        self.log(request, response, instance, seconds, counter.round_trips)
        metrics.requests.record(response.status_code, seconds)
        ops.publish_in_passing(instance)
        return response

    def log(self, request, response, instance: str, seconds: float, round_trips: int) -> None:
        level = logging.WARNING if response.status_code >= 500 else logging.INFO
        fields = {
            "instance": instance,
            "request_id": request.request_id,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "latency_ms": round(seconds * 1000, 2),
            "redis_round_trips": round_trips,
            "user_id": _user_id(request),
            "session_hash": session_hash_prefix(_session_key(request)),
        }
        request_logger.log(level, "%s %s %s", request.method, request.path, response.status_code, extra=fields)
