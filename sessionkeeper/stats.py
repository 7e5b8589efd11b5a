"""In-process figures of the session engine: what it did, how long it took, what failed.

The engine records here and depends on nothing else; the observability layer
reads ``snapshot()`` and subscribes with ``add_listener`` to feed OpenTelemetry.
Recording is a dict update under a lock: cheap enough for every request.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

EVENTS = (
    "load",  # a session was read from Redis
    "save",  # a session's changes were written
    "create",  # a new session key was written
    "creation_refused",  # a client address was over CREATION_RATE: no session was created
    "delete",  # a session was deleted (logout, flush, revoke)
    "hit",  # a load found the session
    "miss",  # a load found nothing (never seen, expired past grace, or deleted)
    "expired",  # a load found the session past its idle or absolute limit
    "grace_recovery",  # an expired session's cart was carried into a new session
    "conflict",  # a write found that another request had changed the same field
    "corrupt",  # data in Redis could not be decoded, or a key held foreign data
    "slide",  # a read recorded the activity (the idle expiry slid): the only write a read makes
    "undo",  # a request refused for size took back its counter changes
)

_KNOWN_EVENTS = frozenset(EVENTS)
# Upper bounds in seconds, as Prometheus histograms have them.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

Listener = Callable[[str, str, float], None]

_lock = threading.Lock()
# Replaced, never changed in place: recording reads it without a copy or the lock.
_listeners: tuple[Listener, ...] = ()


def _empty_histogram() -> dict[str, Any]:
    return {"count": 0, "sum": 0.0, "buckets": [0] * (len(LATENCY_BUCKETS) + 1)}


_state: dict[str, Any] = {}


def reset() -> None:
    """Start the figures from zero (tests, and a fresh process)."""
    with _lock:
        _state.clear()
        _state.update(
            events=dict.fromkeys(EVENTS, 0),
            redis_errors={},
            latency={"load": _empty_histogram(), "save": _empty_histogram()},
            stored_bytes=_empty_histogram() | {"buckets": []},
            raw_bytes_total=0,
            stored_bytes_total=0,
        )


reset()


def add_listener(listener: Listener) -> None:
    """Call ``listener(kind, name, value)`` on every record; kind is event, redis_error, latency or size."""
    global _listeners
    with _lock:
        if listener not in _listeners:
            _listeners = (*_listeners, listener)


def remove_listener(listener: Listener) -> None:
    global _listeners
    with _lock:
        _listeners = tuple(known for known in _listeners if known != listener)


def _notify(kind: str, name: str, value: float) -> None:
    for listener in _listeners:
        listener(kind, name, value)


def record_event(name: str, amount: int = 1) -> None:
    if name not in _KNOWN_EVENTS:
        raise ValueError(f"{name!r} is not a session event; the events are {', '.join(EVENTS)}.")
    with _lock:
        _state["events"][name] += amount
    _notify("event", name, amount)


def record_redis_error(kind: str) -> None:
    """``kind`` names the failure: connection, timeout, response, ..."""
    with _lock:
        errors = _state["redis_errors"]
        errors[kind] = errors.get(kind, 0) + 1
    _notify("redis_error", kind, 1)


def observe_latency(operation: str, seconds: float) -> None:
    """``operation`` is "load" or "save"."""
    with _lock:
        histogram = _state["latency"][operation]
        histogram["count"] += 1
        histogram["sum"] += seconds
        # The first bound at or above: the last bucket (past 2.5 s) when none is.
        histogram["buckets"][bisect_left(LATENCY_BUCKETS, seconds)] += 1
    _notify("latency", operation, seconds)


def observe_size(stored_bytes: int, raw_bytes: int) -> None:
    """Bytes a saved session takes in Redis, and what it would take uncompressed."""
    with _lock:
        _state["stored_bytes"]["count"] += 1
        _state["stored_bytes"]["sum"] += stored_bytes
        _state["stored_bytes_total"] += stored_bytes
        _state["raw_bytes_total"] += raw_bytes
    _notify("size", "stored", stored_bytes)


def snapshot() -> dict[str, Any]:
    """A copy of every figure, with the derived ones (hit rate, compression ratio)."""
    with _lock:
        events = dict(_state["events"])
        copy = {
            "events": events,
            "redis_errors": dict(_state["redis_errors"]),
            "latency": {
                name: {"count": h["count"], "sum": h["sum"], "buckets": list(h["buckets"])}
                for name, h in _state["latency"].items()
            },
            "latency_bucket_bounds": list(LATENCY_BUCKETS),
            "bytes_per_session": (
                _state["stored_bytes"]["sum"] / _state["stored_bytes"]["count"]
                if _state["stored_bytes"]["count"]
                else 0
            ),
            "compression_ratio": (
                _state["raw_bytes_total"] / _state["stored_bytes_total"] if _state["stored_bytes_total"] else 1.0
            ),
        }
    lookups = events["hit"] + events["miss"]
    copy["hit_rate"] = events["hit"] / lookups if lookups else None
    return copy
