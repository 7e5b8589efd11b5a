"""The engine's Redis client: whatever CLIENT_FACTORY returns, and the default factory.

The default builds one process-wide client from REDIS_URL with short timeouts and a
bounded retry. Retrying is safe for every script the engine sends: each is idempotent
or, like a counter change, carries an operation id the script answers only once.
"""

from __future__ import annotations

import threading

import redis
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

RedisClient = redis.Redis | RedisCluster

try:  # redis-py 5.2+: failing to get a token for credential providers (Entra ID)
    from redis.auth.err import RequestTokenErr, TokenRenewalErr

    _TOKEN_ERRORS: tuple[type[BaseException], ...] = (RequestTokenErr, TokenRenewalErr)
except ImportError:  # pragma: no cover - older redis-py
    _TOKEN_ERRORS = ()

# Everything that means "Redis can't be used right now".
REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisError, RedisClusterException, *_TOKEN_ERRORS)

_client: RedisClient | None = None
_lock = threading.Lock()


def get_client() -> RedisClient:
    """The client the engine uses: CLIENT_FACTORY's."""
    from sessionkeeper.conf import config  # conf imports this module: import at call time

    return config().client_factory()


def default_client() -> RedisClient:
    """A process-wide client for SESSIONKEEPER's REDIS_URL (redis-py resets its pool after a fork)."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = build_client()
    return _client


def retry_policy(retries: int) -> Retry:
    """A bounded retry with backoff for connection failures: a blip is ridden out, an outage is not hidden."""
    return Retry(
        ExponentialBackoff(cap=0.25, base=0.02),
        retries=retries,
        supported_errors=(RedisConnectionError, RedisTimeoutError, ConnectionResetError),
    )


def build_client() -> RedisClient:
    from sessionkeeper.conf import config

    options = config()
    arguments: dict[str, object] = {
        "socket_timeout": options.socket_timeout,
        "socket_connect_timeout": options.connect_timeout,
        "retry": retry_policy(options.retries),
        "health_check_interval": 30,
    }
    if options.cluster:
        return RedisCluster.from_url(options.redis_url, **arguments)
    return redis.Redis.from_url(options.redis_url, **arguments)


def reset_default_client() -> None:
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
