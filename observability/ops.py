"""Figures shared between instances through Redis, for the /ops/ page.

Each instance publishes its own figures, with a short history, under a key that expires
soon after it stops (crashed, scaled in). Publishing rides on a request at most once per
OPS_PUBLISH_INTERVAL, so it adds one Redis round trip every few seconds, not one per request.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import threading
import time
from collections import deque
from typing import Any

from django.conf import settings
from opentelemetry import context as otel_context
from redis.cluster import RedisCluster

from observability import metrics
from sessiondemo.redis_client import REDIS_FAILURES, describe_redis_error, get_redis
from sessionkeeper import stats

logger = logging.getLogger("observability")

HISTORY_LENGTH = 120  # samples kept per instance: ten minutes at the default interval


def ops_key(worker: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:ops:{worker}"


def worker_name(instance: str) -> str:
    """One name per process: each gunicorn worker keeps its own figures, and App Service's
    WEBSITE_INSTANCE_ID names the machine, shared by its workers."""
    pid = f"pid {os.getpid()}"
    return instance if instance.endswith(pid) else f"{instance} {pid}"


def index_key() -> str:
    """A sorted set of instance names by last publish time: reading needs no SCAN (a cluster has many nodes)."""
    return f"{settings.REDIS_KEY_PREFIX}:ops-instances"


def time_to_live() -> int:
    return max(30, int(3 * settings.OPS_PUBLISH_INTERVAL))


class Publisher:
    """Publishes this process's figures, throttled by time; one per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_published = float("-inf")
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY_LENGTH)
        self._used_memory: int | None = None  # from the previous publish: one round trip, not two

    def publish_if_due(self, instance: str) -> bool:
        """Publish when the interval has passed since the last publish; True when it did."""
        now = time.monotonic()
        with self._lock:
            if now - self._last_published < settings.OPS_PUBLISH_INTERVAL:
                return False
            # Claimed before the write, so concurrent requests don't publish twice.
            self._last_published = now
        return self.publish(instance)

    def publish(self, instance: str) -> bool:
        figures = metrics.current_figures()
        self.history.append(_history_sample(figures, self._used_memory))
        payload = {
            "name": worker_name(instance),
            "instance": instance,
            "pid": os.getpid(),
            "published_at": time.time(),
            "interval": settings.OPS_PUBLISH_INTERVAL,
            "figures": figures,
            "history": list(self.history),
        }
        try:
            self._used_memory = _write(worker_name(instance), json.dumps(payload, separators=(",", ":")))
        except REDIS_FAILURES as error:
            # The request it rides on goes on: its answer does not depend on the figures.
            logger.warning(
                "Publishing the ops figures of %s to Redis failed. %s", instance, describe_redis_error(error)
            )
            return False
        return True

    def reset(self) -> None:
        with self._lock:
            self._last_published = float("-inf")
            self._used_memory = None
            self.history.clear()


def _history_sample(figures: dict[str, Any], used_memory: int | None) -> dict[str, Any]:
    # Cumulative counts: readers turn two samples into a rate.
    return {
        "t": round(time.time(), 3),
        "requests": figures["requests"]["total"],
        "hits": figures["events"]["hit"],
        "misses": figures["events"]["miss"],
        "used_memory": used_memory,
    }


def _write(worker: str, payload: str) -> int | None:
    """Store the payload and refresh the index; returns Redis's used memory when it came along."""
    client = get_redis()
    ttl = time_to_live()
    now = time.time()
    pipeline = client.pipeline(transaction=False)
    pipeline.set(ops_key(worker), payload, ex=ttl)
    pipeline.zadd(index_key(), {worker: now})
    pipeline.zremrangebyscore(index_key(), "-inf", now - ttl)
    pipeline.expire(index_key(), ttl)
    if isinstance(client, RedisCluster):
        pipeline.execute()
        return None  # a cluster pipeline carries keyed commands only
    # INFO rides in the same round trip: the memory chart costs nothing extra.
    return pipeline.info("memory").execute()[-1].get("used_memory")


publisher = Publisher()


def publish_in_passing(instance: str) -> bool:
    """Publish if due, riding on a request without counting as its work.

    A fresh context hides the publish from every enclosing ``count_round_trips`` (the request
    log, tests, the bench), so "round trips per request" stays what the request needs; the
    OpenTelemetry context comes along, so the publish still shows inside the request's trace.
    """
    trace_context = otel_context.get_current()

    def publish() -> bool:
        token = otel_context.attach(trace_context)
        try:
            return publisher.publish_if_due(instance)
        finally:
            otel_context.detach(token)

    return contextvars.Context().run(publish)


def read_instances() -> list[dict[str, Any]]:
    """Every instance that published within the time to live, by name."""
    client = get_redis()
    names = [name.decode() for name in client.zrangebyscore(index_key(), time.time() - time_to_live(), "+inf")]
    if not names:
        return []
    keys = [ops_key(name) for name in names]
    # The keys hash to different slots in a cluster; mget_nonatomic splits them by slot.
    payloads = client.mget_nonatomic(keys) if isinstance(client, RedisCluster) else client.mget(keys)
    instances = [json.loads(payload) for payload in payloads if payload is not None]
    return sorted(instances, key=lambda instance: instance["name"])


# --- What /ops/data.json serves ---------------------------------------------------


def rate_series(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn cumulative samples into per-interval points: requests/s, hit rate, memory."""
    points = []
    for before, after in zip(history, history[1:], strict=False):
        seconds = after["t"] - before["t"]
        requests = after["requests"] - before["requests"]
        hits, misses = after["hits"] - before["hits"], after["misses"] - before["misses"]
        if seconds <= 0 or min(requests, hits, misses) < 0:
            continue  # a restarted counter: no rate across the gap
        points.append(
            {
                "t": after["t"],
                "requests": requests,
                "hits": hits,
                "misses": misses,
                "seconds": seconds,
                "requests_per_sec": requests / seconds,
                "hit_rate": hits / (hits + misses) if hits + misses else None,
                "used_memory": after["used_memory"],
            }
        )
    return points


def site_series(series_by_instance: list[list[dict[str, Any]]], interval: float) -> list[dict[str, Any]]:
    """Add the instances' points up, interval by interval (an instance's rate is its own average there)."""
    buckets: dict[float, dict[str, Any]] = {}
    for series in series_by_instance:
        own: dict[float, list[float]] = {}
        for point in series:
            t = round(point["t"] / interval) * interval if interval else point["t"]
            bucket = buckets.setdefault(
                t, {"t": t, "requests_per_sec": 0.0, "hits": 0, "misses": 0, "used_memory": None}
            )
            bucket["hits"] += point["hits"]
            bucket["misses"] += point["misses"]
            if point["used_memory"] is not None:
                bucket["used_memory"] = point["used_memory"]  # one Redis: every instance sees the same
            requests_and_seconds = own.setdefault(t, [0, 0.0])
            requests_and_seconds[0] += point["requests"]
            requests_and_seconds[1] += point["seconds"]
        for t, (requests, seconds) in own.items():
            buckets[t]["requests_per_sec"] += requests / seconds
    points = [buckets[t] for t in sorted(buckets)]
    for point in points:
        lookups = point["hits"] + point["misses"]
        point["hit_rate"] = point["hits"] / lookups if lookups else None
    return points


def _add_histogram(total: dict[str, Any], histogram: dict[str, Any]) -> None:
    total["count"] += histogram["count"]
    total["sum"] += histogram["sum"]
    total["buckets"] = [a + b for a, b in zip(total["buckets"], histogram["buckets"], strict=False)] or list(
        histogram["buckets"]
    )


def site_figures(instances: list[dict[str, Any]]) -> dict[str, Any]:
    """The instances' figures added up; averages weighted by each instance's saves."""
    total: dict[str, Any] = {
        "events": dict.fromkeys(stats.EVENTS, 0),
        "redis_errors": {},
        "latency": {},
        "latency_bucket_bounds": list(stats.LATENCY_BUCKETS),
        "requests": {"total": 0, "server_errors": 0, "seconds_total": 0.0},
        "redis_round_trips": 0,
    }
    weighted_bytes = weighted_ratio = saves = 0.0
    for instance in instances:
        figures = instance["figures"]
        for name, count in figures["events"].items():
            total["events"][name] = total["events"].get(name, 0) + count
        for kind, count in figures["redis_errors"].items():
            total["redis_errors"][kind] = total["redis_errors"].get(kind, 0) + count
        for operation, histogram in figures["latency"].items():
            empty = {"count": 0, "sum": 0.0, "buckets": []}
            _add_histogram(total["latency"].setdefault(operation, empty), histogram)
        for name in total["requests"]:
            total["requests"][name] += figures["requests"][name]
        total["redis_round_trips"] += figures["redis_round_trips"]
        weight = figures["events"]["save"]
        saves += weight
        weighted_bytes += figures["bytes_per_session"] * weight
        weighted_ratio += figures["compression_ratio"] * weight
    total["bytes_per_session"] = weighted_bytes / saves if saves else 0
    total["compression_ratio"] = weighted_ratio / saves if saves else 1.0
    lookups = total["events"]["hit"] + total["events"]["miss"]
    total["hit_rate"] = total["events"]["hit"] / lookups if lookups else None
    return total


def ops_data(this_instance: str) -> dict[str, Any]:
    """Everything the page draws; this instance's own figures are at most one interval old."""
    publisher.publish_if_due(this_instance)
    instances = read_instances()
    for instance in instances:
        instance["series"] = rate_series(instance.pop("history"))
        instance["current"] = instance["name"] == worker_name(this_instance)
    interval = settings.OPS_PUBLISH_INTERVAL
    return {
        "generated_at": time.time(),
        "served_by": this_instance,
        "interval": interval,
        "redis": metrics.redis_info.sample(),
        "site": {
            "figures": site_figures(instances),
            "series": site_series([instance["series"] for instance in instances], interval),
        },
        "instances": instances,
    }
