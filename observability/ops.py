"""Figures shared between instances through Redis, for the /ops/ page and /metrics?scope=site.

Each worker process publishes its own figures, with a short history, under a key that expires
soon after it stops (crashed, scaled in), and adds what its counters gained since its last
publish to the site's totals, a hash that never expires: the site's counters never go back
when a worker goes away. Publishing rides on a request at most once per OPS_PUBLISH_INTERVAL,
so it adds one Redis round trip every few seconds, not one per request.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
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

HISTORY_LENGTH = 120  # samples kept per worker: ten minutes at the default interval
PID_SUFFIX = re.compile(r" pid \d+$")


def ops_key(worker: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:ops:{worker}"


def worker_name(instance: str) -> str:
    """One name per process: each gunicorn worker keeps its own figures, and App Service's
    WEBSITE_INSTANCE_ID names the machine, shared by its workers."""
    pid = f"pid {os.getpid()}"
    return instance if instance.endswith(pid) else f"{instance} {pid}"


def instance_of(worker: dict[str, Any]) -> str:
    """The instance a worker belongs to: WEBSITE_INSTANCE_ID on App Service and in the local
    cluster; locally without it, "host:port" (the served-by name without its pid)."""
    return PID_SUFFIX.sub("", worker["instance"])


def index_key() -> str:
    """A sorted set of worker names by last publish time: reading needs no SCAN (a cluster has many nodes)."""
    return f"{settings.REDIS_KEY_PREFIX}:ops-instances"


def totals_key() -> str:
    """The whole site's cumulative counters: one hash that every worker adds its growth to, and that
    never expires, so the site's totals never go back when a worker stops or goes idle."""
    return f"{settings.REDIS_KEY_PREFIX}:ops-totals"


def time_to_live() -> int:
    return max(30, int(3 * settings.OPS_PUBLISH_INTERVAL))


# --- Cumulative counters ----------------------------------------------------------


def counter_fields(figures: dict[str, Any]) -> dict[str, int | float]:
    """A process's figures that only ever grow, as the totals hash's fields."""
    fields: dict[str, int | float] = {
        "requests": figures["requests"]["total"],
        "server_errors": figures["requests"]["server_errors"],
        "request_seconds": figures["requests"]["seconds_total"],
        "redis_round_trips": figures["redis_round_trips"],
    }
    fields.update({f"event:{name}": count for name, count in figures["events"].items()})
    fields.update({f"redis_error:{kind}": count for kind, count in figures["redis_errors"].items()})
    for operation, histogram in figures["latency"].items():
        fields[f"latency:{operation}:count"] = histogram["count"]
        fields[f"latency:{operation}:sum"] = histogram["sum"]
        fields.update({f"latency:{operation}:bucket:{i}": count for i, count in enumerate(histogram["buckets"])})
    return fields


def growth(current: dict[str, int | float], published: dict[str, int | float]) -> dict[str, int | float]:
    """What each counter gained since the last publish. A counter below its published value was
    reset (a test, a restarted process's new figures): all of it is new."""
    gained = {}
    for field, value in current.items():
        before = published.get(field, 0)
        change = value - before if value >= before else value
        if change:
            gained[field] = change
    return gained


def figures_from_totals(totals: dict[str, float]) -> dict[str, Any]:
    """The totals hash read back in the shape of a process's figures (events, errors, latency, requests)."""
    figures = empty_figures()
    figures["requests"] = {
        "total": int(totals.get("requests", 0)),
        "server_errors": int(totals.get("server_errors", 0)),
        "seconds_total": totals.get("request_seconds", 0.0),
    }
    figures["redis_round_trips"] = int(totals.get("redis_round_trips", 0))
    for field, value in totals.items():
        kind, _, name = field.partition(":")
        if kind == "event":
            figures["events"][name] = int(value)
        elif kind == "redis_error":
            figures["redis_errors"][name] = int(value)
        elif kind == "latency":
            operation, _, part = name.partition(":")
            histogram = figures["latency"].setdefault(operation, _empty_histogram())
            if part.startswith("bucket:"):
                histogram["buckets"][int(part.removeprefix("bucket:"))] = int(value)
            else:
                histogram[part] = int(value) if part == "count" else value
    return figures


def _empty_histogram() -> dict[str, Any]:
    return {"count": 0, "sum": 0.0, "buckets": [0] * (len(stats.LATENCY_BUCKETS) + 1)}


def read_totals() -> dict[str, float]:
    raw = get_redis().hgetall(totals_key())
    return {field.decode(): float(value) for field, value in raw.items()}


# --- Publishing -------------------------------------------------------------------


class Publisher:
    """Publishes this process's figures, throttled by time; one per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._last_published = float("-inf")
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY_LENGTH)
        self._used_memory: int | None = None  # from the previous publish: one round trip, not two
        self._published_counters: dict[str, int | float] = {}  # what the totals hash already holds of ours

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
        # One write at a time, so that no growth is added to the totals twice.
        with self._writing:
            figures = metrics.current_figures()
            counters = counter_fields(figures)
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
                self._used_memory = _write(
                    worker_name(instance),
                    json.dumps(payload, separators=(",", ":")),
                    growth(counters, self._published_counters),
                )
            except REDIS_FAILURES as error:
                # The request it rides on goes on: its answer does not depend on the figures. The growth
                # is kept for the next publish.
                logger.warning(
                    "Publishing the ops figures of %s to Redis failed. %s", instance, describe_redis_error(error)
                )
                return False
            self._published_counters = counters
            return True

    def reset(self) -> None:
        with self._lock:
            self._last_published = float("-inf")
            self._used_memory = None
            self.history.clear()
            self._published_counters = {}


def _history_sample(figures: dict[str, Any], used_memory: int | None) -> dict[str, Any]:
    # Cumulative counts: readers turn two samples into a rate.
    events = figures["events"]
    return {
        "t": round(time.time(), 3),
        "requests": figures["requests"]["total"],
        "hits": events["hit"],
        "misses": events["miss"],
        "creations": events.get("create", 0),
        "creations_refused": events.get("creation_refused", 0),
        "used_memory": used_memory,
    }


def _write(worker: str, payload: str, gained: dict[str, int | float]) -> int | None:
    """Store the payload, add the growth to the totals and refresh the index, in one round trip;
    returns Redis's used memory when it came along."""
    client = get_redis()
    ttl = time_to_live()
    now = time.time()
    pipeline = client.pipeline(transaction=False)
    pipeline.set(ops_key(worker), payload, ex=ttl)
    for field, amount in gained.items():
        if isinstance(amount, float):
            pipeline.hincrbyfloat(totals_key(), field, amount)
        else:
            pipeline.hincrby(totals_key(), field, amount)
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


def read_workers() -> list[dict[str, Any]]:
    """Every worker that published within the time to live, by name."""
    client = get_redis()
    names = [name.decode() for name in client.zrangebyscore(index_key(), time.time() - time_to_live(), "+inf")]
    if not names:
        return []
    keys = [ops_key(name) for name in names]
    # The keys hash to different slots in a cluster; mget_nonatomic splits them by slot.
    payloads = client.mget_nonatomic(keys) if isinstance(client, RedisCluster) else client.mget(keys)
    workers = [json.loads(payload) for payload in payloads if payload is not None]
    return sorted(workers, key=lambda worker: worker["name"])


# --- What /ops/data.json and /metrics?scope=site serve ----------------------------


def rate_series(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn cumulative samples into per-interval points: requests/s, hit rate, creations/s, memory."""
    points = []
    for before, after in zip(history, history[1:], strict=False):
        seconds = after["t"] - before["t"]
        change = {
            name: after.get(name, 0) - before.get(name, 0)
            for name in ("requests", "hits", "misses", "creations", "creations_refused")
        }
        if seconds <= 0 or min(change.values()) < 0:
            continue  # a restarted counter: no rate across the gap
        hits, misses = change["hits"], change["misses"]
        points.append(
            {
                "t": after["t"],
                **change,
                "seconds": seconds,
                "requests_per_sec": change["requests"] / seconds,
                "creations_per_sec": change["creations"] / seconds,
                "creations_refused_per_sec": change["creations_refused"] / seconds,
                "hit_rate": hits / (hits + misses) if hits + misses else None,
                "used_memory": after["used_memory"],
            }
        )
    return points


RATES = ("requests", "creations", "creations_refused")


def combined_series(series_by_worker: list[list[dict[str, Any]]], interval: float) -> list[dict[str, Any]]:
    """Add several workers' points up, interval by interval (a worker's rate is its own average there)."""
    buckets: dict[float, dict[str, Any]] = {}
    for series in series_by_worker:
        own: dict[float, dict[str, float]] = {}
        for point in series:
            t = round(point["t"] / interval) * interval if interval else point["t"]
            bucket = buckets.setdefault(
                t, {"t": t, "hits": 0, "misses": 0, "used_memory": None} | {f"{r}_per_sec": 0.0 for r in RATES}
            )
            bucket["hits"] += point["hits"]
            bucket["misses"] += point["misses"]
            if point["used_memory"] is not None:
                bucket["used_memory"] = point["used_memory"]  # one Redis: every worker sees the same
            counts = own.setdefault(t, dict.fromkeys((*RATES, "seconds"), 0.0))
            for name in (*RATES, "seconds"):
                counts[name] += point.get(name, 0)
        for t, counts in own.items():
            for name in RATES:
                buckets[t][f"{name}_per_sec"] += counts[name] / counts["seconds"]
    points = [buckets[t] for t in sorted(buckets)]
    for point in points:
        lookups = point["hits"] + point["misses"]
        point["hit_rate"] = point["hits"] / lookups if lookups else None
    return points


def empty_figures() -> dict[str, Any]:
    return {
        "events": dict.fromkeys(stats.EVENTS, 0),
        "redis_errors": {},
        "latency": {},
        "latency_bucket_bounds": list(stats.LATENCY_BUCKETS),
        "requests": {"total": 0, "server_errors": 0, "seconds_total": 0.0},
        "redis_round_trips": 0,
        "bytes_per_session": 0,
        "compression_ratio": 1.0,
        "hit_rate": None,
    }


def _add_histogram(total: dict[str, Any], histogram: dict[str, Any]) -> None:
    total["count"] += histogram["count"]
    total["sum"] += histogram["sum"]
    total["buckets"] = [a + b for a, b in zip(total["buckets"], histogram["buckets"], strict=False)] or list(
        histogram["buckets"]
    )


def _with_hit_rate(figures: dict[str, Any]) -> dict[str, Any]:
    lookups = figures["events"]["hit"] + figures["events"]["miss"]
    figures["hit_rate"] = figures["events"]["hit"] / lookups if lookups else None
    return figures


def add_up(workers: list[dict[str, Any]]) -> dict[str, Any]:
    """The latest figures of these workers added up; averages weighted by each worker's saves."""
    total = empty_figures()
    weighted_bytes = weighted_ratio = saves = 0.0
    for worker in workers:
        figures = worker["figures"]
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
    return _with_hit_rate(total)


def site_totals(totals: dict[str, float], workers: list[dict[str, Any]]) -> dict[str, Any]:
    """The site's figures: every counter cumulative, from the totals hash (it never goes back);
    the averages (bytes per session, compression) from the workers publishing now."""
    figures = figures_from_totals(totals)
    live = add_up(workers)
    figures["bytes_per_session"] = live["bytes_per_session"]
    figures["compression_ratio"] = live["compression_ratio"]
    return _with_hit_rate(figures)


def group_by_instance(workers: list[dict[str, Any]], interval: float) -> list[dict[str, Any]]:
    """One entry per instance, its workers beneath, with their figures and series added up."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for worker in workers:
        grouped.setdefault(instance_of(worker), []).append(worker)
    return [
        {
            "name": name,
            "current": any(worker["current"] for worker in members),
            "published_at": max(worker["published_at"] for worker in members),
            "figures": add_up(members),
            "series": combined_series([worker["series"] for worker in members], interval),
            "workers": members,
        }
        for name, members in sorted(grouped.items())
    ]


def site_view() -> dict[str, Any]:
    """What /metrics?scope=site reports: the cumulative totals, and how many instances and workers publish."""
    workers = read_workers()
    return {
        "figures": site_totals(read_totals(), workers),
        "instances": len({instance_of(worker) for worker in workers}),
        "workers": len(workers),
    }


def ops_data(this_instance: str) -> dict[str, Any]:
    """Everything the page draws; this instance's own figures are at most one interval old."""
    publisher.publish_if_due(this_instance)
    workers = read_workers()
    for worker in workers:
        worker["series"] = rate_series(worker.pop("history"))
        worker["current"] = worker["name"] == worker_name(this_instance)
    interval = settings.OPS_PUBLISH_INTERVAL
    instances = group_by_instance(workers, interval)
    return {
        "generated_at": time.time(),
        "served_by": this_instance,
        "interval": interval,
        "redis": metrics.redis_info.sample(),
        "site": {
            "figures": site_totals(read_totals(), workers),
            "series": combined_series([worker["series"] for worker in workers], interval),
            "instances": len(instances),
            "workers": len(workers),
        },
        "instances": instances,
    }
