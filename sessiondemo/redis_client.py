"""The one place that builds Redis clients from settings.

Every client in the project (session engine, health checks, figures) comes from
``get_redis()``. Its connections count round trips, so that tests, logs and the
benchmark can say how many times a request waited on Redis.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
from django.conf import settings
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster
from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

RedisClient = redis.Redis | RedisCluster


@dataclass
class RoundTripCounter:
    """Counts what one unit of work (usually a request) sent to Redis."""

    round_trips: int = 0
    commands: int = 0


_current_counter: ContextVar[RoundTripCounter | None] = ContextVar("redis_round_trips", default=None)
_process_totals = RoundTripCounter()


@contextlib.contextmanager
def count_round_trips() -> Iterator[RoundTripCounter]:
    """Count the round trips made inside the block (nested blocks count for both)."""
    counter = RoundTripCounter()
    outer = _current_counter.get()
    token = _current_counter.set(counter)
    try:
        yield counter
    finally:
        _current_counter.reset(token)
        if outer is not None:
            outer.round_trips += counter.round_trips
            outer.commands += counter.commands


def process_round_trips() -> int:
    """Round trips this process has made since it started."""
    return _process_totals.round_trips


def _record(command: bytes | list | tuple) -> None:
    # A pipeline or a script call is packed into one send: one round trip.
    commands = len(command) if isinstance(command, (list, tuple)) else 1
    _process_totals.round_trips += 1
    _process_totals.commands += commands
    counter = _current_counter.get()
    if counter is not None:
        counter.round_trips += 1
        counter.commands += commands


class CountingMixin:
    def send_packed_command(self, command, check_health=True):  # type: ignore[no-untyped-def]
        _record(command)
        return super().send_packed_command(command, check_health)  # type: ignore[misc]


class CountingConnection(CountingMixin, Connection):
    pass


class CountingSSLConnection(CountingMixin, SSLConnection):
    pass


class CountingUnixDomainSocketConnection(CountingMixin, UnixDomainSocketConnection):
    pass


def connection_class_for(url: str) -> type[Connection]:
    scheme = urlsplit(url).scheme
    if scheme == "rediss":
        return CountingSSLConnection
    if scheme == "unix":
        return CountingUnixDomainSocketConnection
    return CountingConnection


def retry_policy() -> Retry:
    """A bounded retry with backoff: a blip is ridden out, an outage is not hidden."""
    return Retry(
        ExponentialBackoff(cap=0.25, base=0.02),
        retries=settings.REDIS_RETRIES,
        supported_errors=(RedisConnectionError, RedisTimeoutError, ConnectionResetError),
    )


def build_client(url: str | None = None, cluster: bool | None = None) -> RedisClient:
    """Build a new client for ``url`` (default: settings.REDIS_URL)."""
    url = url or settings.REDIS_URL
    cluster = settings.REDIS_CLUSTER if cluster is None else cluster
    options = {
        "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
        "retry": retry_policy(),
        "health_check_interval": 30,
    }
    if cluster:
        return RedisCluster.from_url(url, connection_class=connection_class_for(url), **options)
    pool = redis.ConnectionPool.from_url(url, connection_class=connection_class_for(url), **options)
    return redis.Redis(connection_pool=pool)


_client: RedisClient | None = None
_client_lock = threading.Lock()


def get_redis() -> RedisClient:
    """The process-wide client. redis-py resets its pool after a fork (gunicorn)."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                if settings.EMBEDDED_REDIS:
                    from sessiondemo.embedded_redis import ensure_embedded_redis

                    ensure_embedded_redis(settings.EMBEDDED_REDIS_DIR)
                _client = build_client()
    return _client


def reset_client() -> None:
    """Drop the process-wide client (tests that point settings at another server)."""
    global _client
    with _client_lock:
        if _client is not None:
            _client.close()
        _client = None
