"""Health endpoints: /healthz (the process answers) and /readyz (Redis and the database answer)."""

from __future__ import annotations

import time

from django.db import connection, transaction
from django.db.utils import Error as DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from sessiondemo.redis_client import REDIS_FAILURES, describe_redis_error, get_redis

CHECK_TIMEOUT_SECONDS = 1.0


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_redis() -> str | None:
    """None when Redis answers PING, else a sentence saying what failed."""
    try:
        get_redis().ping()
    except REDIS_FAILURES as error:
        return f"Redis did not answer PING. {describe_redis_error(error)}"
    return None


def check_database() -> str | None:
    try:
        # SET LOCAL only lasts inside a transaction (in autocommit it is a no-op), and must
        # not outlive the check on a connection that is kept for other requests.
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL statement_timeout = %s", [int(CHECK_TIMEOUT_SECONDS * 1000)])
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return f"The database did not answer: {error}"
    return None


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict[str, object]] = {}
    failed = []
    for name, check in (("redis", check_redis), ("database", check_database)):
        started = time.perf_counter()
        problem = check()
        checks[name] = {"ok": problem is None, "ms": round((time.perf_counter() - started) * 1000, 2)}
        if problem:
            checks[name]["error"] = problem
            failed.append(name)
    body = {"status": "ok" if not failed else "unavailable", "checks": checks}
    if failed:
        body["failed"] = failed
    response = JsonResponse(body, status=503 if failed else 200)
    if failed:
        response["Retry-After"] = "5"
    return response
