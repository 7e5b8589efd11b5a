"""The one place that builds Redis clients from settings.

Every client in the project (session engine, health checks, figures) comes from
``get_redis()``. Its connections count round trips, so that tests, logs and the
benchmark can say how many times a request waited on Redis.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
from django.conf import settings
from redis.auth.err import RequestTokenErr, TokenRenewalErr
from redis.cluster import RedisCluster
from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import AuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from sessiondemo import redis_secret

# REDIS_FAILURES and RedisClient are the engine's, so that the site and the engine agree on what
# "Redis can't be used right now" means (its errors, a cluster without a reachable node, no Entra ID token).
from sessionkeeper.client import REDIS_FAILURES, RedisClient
from sessionkeeper.client import retry_policy as engine_retry_policy

logger = logging.getLogger("sessiondemo.redis")


@dataclass
class RoundTripCounter:
    """Counts what one unit of work (usually a request) sent to Redis."""

    # Commands are not counted here: redis-py hands a send over as buffer chunks, not
    # commands. The benchmark counts commands by parsing what is sent (bench/spy.py).
    round_trips: int = 0


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


def process_round_trips() -> int:
    """Round trips this process has made since it started."""
    return _process_totals.round_trips


def _record_round_trip() -> None:
    # A pipeline or a script call is packed into one send: one round trip.
    _process_totals.round_trips += 1
    counter = _current_counter.get()
    if counter is not None:
        counter.round_trips += 1


class CountingMixin:
    """Counts round trips; follows a key rotation when Redis refuses the password."""

    def send_packed_command(self, command, check_health=True):  # type: ignore[no-untyped-def]
        _record_round_trip()
        return super().send_packed_command(command, check_health)  # type: ignore[misc]

    def connect_check_health(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self._use_rotated_credentials()
        try:
            return super().connect_check_health(*args, **kwargs)  # type: ignore[misc]
        except AuthenticationError:
            if not redis_secret.refresh_after_refusal():
                raise
            self._use_rotated_credentials()
            return super().connect_check_health(*args, **kwargs)  # type: ignore[misc]

    def _use_rotated_credentials(self) -> None:
        rotated = redis_secret.rotated_credentials()
        if rotated is not None and self.credential_provider is None:  # type: ignore[attr-defined]
            self.username, self.password = rotated.username, rotated.password


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
    """The engine's bounded retry, with the site's REDIS_RETRIES."""
    return engine_retry_policy(settings.REDIS_RETRIES)


def tls_options() -> dict[str, object]:
    """Verify the server's certificate and host name, against REDIS_CA_CERT or the system's CAs."""
    return {
        "ssl_cert_reqs": "required",
        "ssl_check_hostname": True,
        "ssl_ca_certs": settings.REDIS_CA_CERT or None,
        "ssl_min_version": ssl.TLSVersion.TLSv1_2,
    }


ENTRA_REDIS_SCOPE = "https://redis.azure.com/.default"


def entra_credential_provider(credential: object | None = None) -> object:
    """Microsoft Entra ID tokens as Redis credentials, refreshed before they expire.

    ``credential`` is any azure-core TokenCredential; by default DefaultAzureCredential
    (the web app's managed identity on App Service). The user name is the token's oid.
    """
    from azure.identity import DefaultAzureCredential
    from redis.auth.token_manager import RetryPolicy, TokenManagerConfig
    from redis_entraid.cred_provider import EntraIdCredentialsProvider
    from redis_entraid.identity_provider import DefaultAzureCredentialProvider

    identity = DefaultAzureCredentialProvider(credential or DefaultAzureCredential(), scopes=(ENTRA_REDIS_SCOPE,))
    # Renew at 70% of a token's life; a failed renewal is retried while the old token still works.
    config = TokenManagerConfig(0.7, 0, 1000, RetryPolicy(max_attempts=3, delay_in_ms=100))
    return EntraIdCredentialsProvider(identity, config)


def build_client(url: str | None = None, cluster: bool | None = None, credential: object | None = None) -> RedisClient:
    """Build a new client for ``url`` (default: settings.REDIS_URL).

    With REDIS_AUTH=entra, ``credential`` (default DefaultAzureCredential) supplies the tokens.
    """
    url = url or settings.REDIS_URL
    cluster = settings.REDIS_CLUSTER if cluster is None else cluster
    options: dict[str, object] = {
        "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
        "retry": retry_policy(),
        "health_check_interval": 30,
    }
    if settings.REDIS_AUTH == "entra":
        options["credential_provider"] = entra_credential_provider(credential)
    if urlsplit(url).scheme == "rediss":
        options.update(tls_options())
    if cluster:
        return RedisCluster.from_url(url, connection_class=connection_class_for(url), **options)
    pool = redis.ConnectionPool.from_url(url, connection_class=connection_class_for(url), **options)
    return redis.Redis(connection_pool=pool)


_client: RedisClient | None = None
_client_lock = threading.Lock()


# What makes sure the server behind REDIS_URL runs before the first client is built.
# Development hands one in (devtools starts the embedded Redis); production has none:
# its Redis is somebody else's to run.
_before_first_client: Callable[[], None] | None = None


def before_first_client(hook: Callable[[], None]) -> None:
    """Call ``hook`` each time the process-wide client is about to be built."""
    global _before_first_client
    _before_first_client = hook


def get_redis() -> RedisClient:
    """The process-wide client. redis-py resets its pool after a fork (gunicorn)."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                if _before_first_client is not None:
                    _before_first_client()
                _client = build_client()
    return _client


def reset_client() -> None:
    """Drop the process-wide client (tests that point settings at another server)."""
    global _client
    with _client_lock:
        if _client is not None:
            _client.close()
        _client = None
        redis_secret.forget()


def describe_redis_error(error: BaseException) -> str:
    """A sentence saying what went wrong talking to Redis and what to do about it."""
    where = _safe_location(settings.REDIS_URL)
    text = str(error)
    lowered = text.lower()
    if "certificate verify failed" in lowered or isinstance(error.__context__, ssl.SSLCertVerificationError):
        if "hostname" in lowered or "ip address mismatch" in lowered:
            return (
                f"TLS to Redis at {where} failed: its certificate is not for that host name ({text}). "
                "Use the host name the certificate names in REDIS_URL."
            )
        authority = (
            f"the CA in REDIS_CA_CERT ({settings.REDIS_CA_CERT})" if settings.REDIS_CA_CERT else "the system's CAs"
        )
        return (
            f"TLS to Redis at {where} failed: its certificate could not be verified against {authority} ({text}). "
            "Set REDIS_CA_CERT to the certificate of the CA that signed the server's certificate."
        )
    if isinstance(error, AuthenticationError) or "wrongpass" in lowered or "invalid username-password" in lowered:
        return (
            f"Redis at {where} refused the user name or password in REDIS_URL ({text}). "
            "Check the ACL user and password (rediss://user:password@host:port/0)."
        )
    if isinstance(error, (RequestTokenErr, TokenRenewalErr)):
        return (
            f"No Microsoft Entra ID token for Redis at {where} could be had ({text}). On App Service, turn on the "
            "web app's managed identity and give it an access policy on the cache; locally, sign in with az login."
        )
    if "noauth" in lowered or "authentication required" in lowered:
        return f"Redis at {where} needs a password; put it in REDIS_URL as rediss://user:password@host:port/0."
    if isinstance(error, RedisTimeoutError):
        return f"Redis at {where} did not answer within {settings.REDIS_SOCKET_TIMEOUT} s ({text})."
    if isinstance(error, RedisConnectionError):
        return f"Redis at {where} could not be reached ({text})."
    return f"Redis at {where} answered with an error: {text}"


def _safe_location(url: str) -> str:
    """host:port (or the socket path) of a Redis URL, without its credentials."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname}:{parts.port or 6379}"


def report_redis_at_start_up() -> str | None:
    """Ping Redis once when a server process starts; log what is wrong in a sentence.

    The process starts either way: pages that need the session answer 503 until
    Redis answers, and /readyz says why.
    """
    try:
        get_redis().ping()
    except REDIS_FAILURES as error:
        problem = describe_redis_error(error)
        logger.error("Redis is not usable at start-up: %s", problem)
        return problem
    return None
