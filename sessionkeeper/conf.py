"""The engine's settings, read from ``settings.SESSIONKEEPER`` (a dict) in one place, with defaults.

Like Django's ``CACHES[...]["OPTIONS"]``: what the site adds (its Redis client, its 503
page, how it names an instance or reads a client's address) comes in as dotted paths.
README.md lists every key. ``config()`` is cached and rebuilt when the setting changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from sessionkeeper import layout

DEFAULTS: dict[str, Any] = {
    # How the engine gets its Redis client: a dotted path to a callable returning a redis-py
    # client (redis.Redis or RedisCluster), called whenever the engine needs one, so it should
    # return a process-wide client. The default builds one from REDIS_URL below.
    "CLIENT_FACTORY": "sessionkeeper.client.default_client",
    # Used by the default factory only. REDIS_URL falls back to settings.REDIS_URL.
    "REDIS_URL": None,
    "CLUSTER": False,
    "SOCKET_TIMEOUT": 0.5,
    "CONNECT_TIMEOUT": 0.5,
    "RETRIES": 2,
    # Responses, each a dotted path to a callable(request, error) -> HttpResponse.
    "UNAVAILABLE_RESPONSE": "sessionkeeper.responses.unavailable",
    "TOO_LARGE_RESPONSE": "sessionkeeper.responses.too_large",
    "CREATION_REFUSED_RESPONSE": "sessionkeeper.responses.creation_refused",
    # What the middleware records about who asks: callable(request) -> str, and
    # callable(user agent) -> a short device name.
    "INSTANCE_NAME": "sessionkeeper.request_info.instance_name",
    "CLIENT_ADDRESS": "sessionkeeper.request_info.remote_address",
    "DEVICE_NAME": "sessionkeeper.devices.device_name",
    "KEY_PREFIX": "sessionkeeper",
    # Seconds. A session ends after IDLE_TIMEOUT without a request, ABSOLUTE_TIMEOUT after it
    # began, whichever comes first; an anonymous session that holds nothing in KEEP ends after
    # ANONYMOUS_IDLE_TIMEOUT. For GRACE_PERIOD after an ending, the KEEP keys are carried over.
    "IDLE_TIMEOUT": 20 * 60,
    "ANONYMOUS_IDLE_TIMEOUT": 20 * 60,
    "ABSOLUTE_TIMEOUT": 12 * 60 * 60,
    "GRACE_PERIOD": 30 * 60,
    # Session keys (a data key, or a counter map's name) worth keeping: carried over an expiry,
    # and what makes an anonymous session live as long as a signed-in one.
    "KEEP": [],
    # Counter maps kept with the user's account while signed in (layout 3), each with the most one
    # counter may hold when a guest's counters merge into it at sign-in: an int, or a dotted path
    # to one (read when first needed), e.g. {"cart": "myshop.cart.MAX_QUANTITY"}.
    "USER_COUNTERS": {},
    # Seconds a user's account record (USER_COUNTERS' maps and the index of their sessions) is
    # kept after its last change or sign-in.
    "ACCOUNT_TIMEOUT": 30 * 24 * 60 * 60,
    # Seconds a signed-out session's key keeps why it ended, for its cookie's holder to be told.
    "TOMBSTONE_TIMEOUT": 24 * 60 * 60,
    # A read within this many seconds of the last recorded activity writes nothing.
    # None: 1/20 of the idle timeout, at most 60 s.
    "SLIDE_THRESHOLD": None,
    "COMPRESS_THRESHOLD": 1024,
    # The most a session may hold, measured both as stored and as uncompressed JSON.
    "MAX_BYTES": 64 * 1024,
    # The layout written: 2, or 1 while instances of the previous release still run (README).
    "LAYOUT": layout.VERSION,
    # Sessions one user may keep at once; the oldest is signed out past it.
    "MAX_SESSIONS_PER_USER": 100,
    # New sessions one client address may create per window: (count, seconds), or None.
    "CREATION_RATE": None,
}


@dataclass(frozen=True)
class Config:
    client_factory: Callable[[], Any]
    redis_url: str
    cluster: bool
    socket_timeout: float
    connect_timeout: float
    retries: int
    unavailable_response: Callable[..., Any]
    too_large_response: Callable[..., Any]
    creation_refused_response: Callable[..., Any]
    instance_name: Callable[..., str]
    client_address: Callable[..., str]
    device_name: Callable[[str], str]
    key_prefix: str
    idle_ms: int
    anonymous_idle_ms: int
    absolute_ms: int
    grace_ms: int
    threshold_ms: int
    keep: tuple[str, ...]
    # (map name, the most a counter may hold after a merge) per USER_COUNTERS entry.
    user_counters: tuple[tuple[str, int], ...]
    account_ms: int
    tombstone_ms: int
    compress_threshold: int
    max_bytes: int
    layout: int
    max_sessions_per_user: int
    creation_rate: tuple[int, int] | None

    # Derived once per configuration (cached_property writes past the frozen __setattr__): a request
    # asks for these on every signed-in load and save.
    @cached_property
    def kept_fields(self) -> tuple[str, ...]:
        """The field names and counter prefixes of KEEP, as load.lua matches them."""
        return tuple(field for name in self.keep for field in (layout.data_field(name, 2), layout.counter_field(name)))

    @cached_property
    def user_counter_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.user_counters)


def _callable(options: dict[str, Any], name: str) -> Callable[..., Any]:
    value = options[name]
    if callable(value):
        return value
    try:
        return import_string(value)
    except ImportError as error:
        raise ImproperlyConfigured(f"SESSIONKEEPER[{name!r}] = {value!r} cannot be imported: {error}.") from None


def _seconds(options: dict[str, Any], name: str, minimum: int = 0) -> int:
    value = options[name]
    if not isinstance(value, int) or value < minimum:
        raise ImproperlyConfigured(
            f"SESSIONKEEPER[{name!r}] must be a whole number of at least {minimum}, not {value!r}."
        )
    return value


def _user_counters(options: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    value = options["USER_COUNTERS"]
    if not isinstance(value, dict):
        raise ImproperlyConfigured(
            "SESSIONKEEPER['USER_COUNTERS'] must map counter map names to the most a counter may hold, "
            f'such as {{"cart": 99}}, not {value!r}.'
        )
    maps = []
    for name, maximum in value.items():
        if isinstance(maximum, str):
            try:
                maximum = import_string(maximum)
            except ImportError as error:
                raise ImproperlyConfigured(
                    f"SESSIONKEEPER['USER_COUNTERS'][{name!r}] = {value[name]!r} cannot be imported: {error}."
                ) from None
        if not isinstance(name, str) or ":" in name or not isinstance(maximum, int) or maximum < 1:
            raise ImproperlyConfigured(
                f"SESSIONKEEPER['USER_COUNTERS'] needs a map name without ':' and a whole number of at least 1 "
                f"(or a dotted path to one) for each map, not {name!r}: {maximum!r}."
            )
        maps.append((name, maximum))
    return tuple(maps)


def _build() -> Config:
    given = getattr(settings, "SESSIONKEEPER", {}) or {}
    unknown = set(given) - set(DEFAULTS)
    if unknown:
        raise ImproperlyConfigured(
            f"SESSIONKEEPER has unknown keys {sorted(unknown)}; the keys are listed in sessionkeeper's README."
        )
    options = {**DEFAULTS, **given}
    if options["LAYOUT"] not in layout.VERSIONS:
        raise ImproperlyConfigured(
            f"SESSIONKEEPER['LAYOUT'] must be one of {layout.VERSIONS}, not {options['LAYOUT']!r}."
        )
    idle = _seconds(options, "IDLE_TIMEOUT", 1)
    threshold = options["SLIDE_THRESHOLD"]
    threshold_ms = min(idle * 1000 // 20, 60_000) if threshold is None else int(threshold * 1000)
    rate = options["CREATION_RATE"]
    if rate is not None and (len(rate) != 2 or min(rate) < 1):
        raise ImproperlyConfigured(f"SESSIONKEEPER['CREATION_RATE'] must be (count, seconds) or None, not {rate!r}.")
    return Config(
        client_factory=_callable(options, "CLIENT_FACTORY"),
        redis_url=options["REDIS_URL"] or getattr(settings, "REDIS_URL", "") or "redis://127.0.0.1:6379/0",
        cluster=bool(options["CLUSTER"]),
        socket_timeout=float(options["SOCKET_TIMEOUT"]),
        connect_timeout=float(options["CONNECT_TIMEOUT"]),
        retries=int(options["RETRIES"]),
        unavailable_response=_callable(options, "UNAVAILABLE_RESPONSE"),
        too_large_response=_callable(options, "TOO_LARGE_RESPONSE"),
        creation_refused_response=_callable(options, "CREATION_REFUSED_RESPONSE"),
        instance_name=_callable(options, "INSTANCE_NAME"),
        client_address=_callable(options, "CLIENT_ADDRESS"),
        device_name=_callable(options, "DEVICE_NAME"),
        key_prefix=str(options["KEY_PREFIX"]),
        idle_ms=idle * 1000,
        anonymous_idle_ms=min(idle, _seconds(options, "ANONYMOUS_IDLE_TIMEOUT", 1)) * 1000,
        absolute_ms=_seconds(options, "ABSOLUTE_TIMEOUT", 1) * 1000,
        grace_ms=_seconds(options, "GRACE_PERIOD") * 1000,
        threshold_ms=threshold_ms,
        keep=tuple(options["KEEP"]),
        user_counters=_user_counters(options),
        # An account record indexes sessions too: it outlives any of them.
        account_ms=max(
            _seconds(options, "ACCOUNT_TIMEOUT", 1),
            _seconds(options, "ABSOLUTE_TIMEOUT", 1) + _seconds(options, "GRACE_PERIOD"),
        )
        * 1000,
        tombstone_ms=_seconds(options, "TOMBSTONE_TIMEOUT", 1) * 1000,
        compress_threshold=_seconds(options, "COMPRESS_THRESHOLD", 1),
        max_bytes=_seconds(options, "MAX_BYTES", 1024),
        layout=options["LAYOUT"],
        max_sessions_per_user=_seconds(options, "MAX_SESSIONS_PER_USER", 1),
        creation_rate=(int(rate[0]), int(rate[1])) if rate else None,
    )


@cache
def config() -> Config:
    return _build()


def _forget(setting: str, **kwargs: Any) -> None:
    if setting in {"SESSIONKEEPER", "REDIS_URL"}:
        config.cache_clear()
        from sessionkeeper import client

        client.reset_default_client()


setting_changed.connect(_forget, dispatch_uid="sessionkeeper-settings")
