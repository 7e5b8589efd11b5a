"""Health endpoints: /healthz (the process answers) and /readyz (Redis takes writes, the database answers).

A Redis that answers PING but refuses writes (full under noeviction, a read-only
replica, a failed snapshot) cannot sign anyone in or change a cart, so /readyz
writes a small key with a short expiry on every primary and names the refusal.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from django.conf import settings
from django.db import connection, transaction
from django.db.utils import Error as DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from redis.cluster import RedisCluster
from redis.exceptions import OutOfMemoryError, ReadOnlyError, ResponseError

from sessiondemo.redis_client import REDIS_FAILURES, RedisClient, describe_redis_error, get_redis

CHECK_TIMEOUT_SECONDS = 1.0
PROBE_EXPIRY_MS = 10_000
# Each refusal Redis gives a write (redis-py names the first two, MISCONF keeps its code in
# the message), and what it means for the site.
REFUSED_WRITES = {
    "OOM": (
        "Redis is full and refuses writes: its memory is over maxmemory and its policy (noeviction) frees nothing. "
        "Nobody can sign in or change a cart until memory is freed or maxmemory is raised."
    ),
    "READONLY": (
        "Redis is a read-only replica and refuses writes. Point REDIS_URL at the primary, or wait for the failover "
        "to finish."
    ),
    "MISCONF": (
        "Redis refuses writes because it could not save its snapshot to disk (MISCONF). "
        "Give it disk space or fix its persistence settings."
    ),
}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_redis() -> str | None:
    """None when Redis answers PING and takes a write, else sentences saying what failed."""
    client = get_redis()
    step = "answer PING"
    try:
        client.ping()
        step = "take a write"
        for key in probe_keys(client):
            client.set(key, "1", px=PROBE_EXPIRY_MS)
    except ResponseError as error:  # MISCONF refuses PING as well as writes, to be noticed
        return f"{refusal_cause(error, step)} {describe_redis_error(error)}"
    except REDIS_FAILURES as error:
        return f"Redis did not {step}. {describe_redis_error(error)}"
    return None


def refusal_cause(error: ResponseError, step: str) -> str:
    if isinstance(error, OutOfMemoryError):
        return REFUSED_WRITES["OOM"]
    if isinstance(error, ReadOnlyError):
        return REFUSED_WRITES["READONLY"]
    return REFUSED_WRITES.get(str(error).split(" ", 1)[0], f"Redis did not {step}.")


def probe_keys(client: RedisClient) -> Iterator[str]:
    """One key per primary: each cluster shard has its own memory, and can be full on its own."""
    base = f"{settings.REDIS_KEY_PREFIX}:readyz"
    if not isinstance(client, RedisCluster):
        yield base
        return
    wanted = {node.name for node in client.get_primaries()}
    for tag in range(16384):
        key = f"{base}:{{{tag}}}"
        owner = client.nodes_manager.get_node_from_slot(client.keyslot(key)).name
        if owner in wanted:
            wanted.discard(owner)
            yield key
            if not wanted:
                return


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
