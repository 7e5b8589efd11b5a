"""The site's figures: the session engine's (sessions.stats), this process's requests, and
samples of Redis INFO; as OpenTelemetry instruments and as Prometheus text for /metrics.

The OpenTelemetry instruments come from the global meter: no-ops until telemetry is
configured, exported to Azure Monitor (or a test's reader) once it is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from opentelemetry import metrics as otel_metrics
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from redis.cluster import RedisCluster

from sessiondemo.redis_client import REDIS_FAILURES, describe_redis_error, get_redis, process_round_trips
from sessionkeeper import stats

logger = logging.getLogger("observability")

# The engine's event names, and what each counter is called outside it.
EVENT_COUNTERS = {
    "load": "loads",
    "save": "saves",
    "create": "creations",
    "delete": "deletions",
    "hit": "hits",
    "miss": "misses",
    "expired": "expiries",
    "grace_recovery": "grace_recoveries",
    "conflict": "conflicts",
    "corrupt": "corrupt_records",
    "creation_refused": "creations_refused",
    "slide": "slides",
    "undo": "undos",
}
REDIS_INFO_MAX_AGE_SECONDS = 2.0


# --- This process's requests ------------------------------------------------------


class RequestFigures:
    """Requests this process has answered, counted by the request-log middleware."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.server_errors = 0
            self.seconds_total = 0.0

    def record(self, status: int, seconds: float) -> None:
        with self._lock:
            self.total += 1
            self.seconds_total += seconds
            if status >= 500:
                self.server_errors += 1

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {"total": self.total, "server_errors": self.server_errors, "seconds_total": self.seconds_total}


requests = RequestFigures()


# --- Samples of Redis INFO --------------------------------------------------------


class RedisInfoSampler:
    """Reads INFO at most every couple of seconds, however often /metrics is scraped."""

    def __init__(self, max_age: float = REDIS_INFO_MAX_AGE_SECONDS) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._sample: dict[str, Any] | None = None
        self._taken_at = 0.0

    def sample(self) -> dict[str, Any]:
        """The latest sample; ``{"error": sentence}`` when Redis did not answer."""
        with self._lock:
            if self._sample is None or time.monotonic() - self._taken_at > self.max_age:
                self._sample = read_redis_info()
                self._taken_at = time.monotonic()
            return self._sample

    def forget(self) -> None:
        with self._lock:
            self._sample = None


def _info_per_node(client) -> list[dict[str, Any]]:
    if isinstance(client, RedisCluster):
        answer = client.info(target_nodes=RedisCluster.PRIMARIES)
        # One primary answers with its INFO; several answer with {node name: INFO}.
        if answer and all(isinstance(value, dict) for value in answer.values()):
            return list(answer.values())
        return [answer]
    return [client.info()]


def read_redis_info() -> dict[str, Any]:
    """Keyspace hit rate, memory, evictions, clients and ops/s, summed over the primaries."""
    try:
        nodes = _info_per_node(get_redis())
    except REDIS_FAILURES as error:
        problem = describe_redis_error(error)
        logger.warning("Redis INFO failed, so the Redis figures are missing. %s", problem)
        return {"error": f"Redis did not answer INFO. {problem}"}
    total = {
        field: sum(int(node.get(field, 0)) for node in nodes)
        for field in (
            "keyspace_hits",
            "keyspace_misses",
            "used_memory",
            "maxmemory",
            "evicted_keys",
            "expired_keys",
            "connected_clients",
            "instantaneous_ops_per_sec",
        )
    }
    lookups = total["keyspace_hits"] + total["keyspace_misses"]
    total["keyspace_hit_rate"] = total["keyspace_hits"] / lookups if lookups else None
    total["nodes"] = len(nodes)
    return total


redis_info = RedisInfoSampler()


# --- OpenTelemetry instruments fed by the session engine --------------------------

_meter = otel_metrics.get_meter("sessiondemo.sessions")
_event_counters = {
    event: _meter.create_counter(f"sessiondemo.session.{name}", unit="{event}", description=f"Session {name}.")
    for event, name in EVENT_COUNTERS.items()
}
_redis_errors = _meter.create_counter(
    "sessiondemo.session.redis_errors", unit="{error}", description="Redis failures met by the session engine, by kind."
)
_latency = _meter.create_histogram(
    "sessiondemo.session.duration",
    unit="s",
    description="Time a session load or save took, Redis round trip included.",
    explicit_bucket_boundaries_advisory=list(stats.LATENCY_BUCKETS),
)
_size = _meter.create_histogram(
    "sessiondemo.session.size", unit="By", description="Bytes a saved session takes in Redis."
)


def _observe_compression_ratio(options) -> Iterator[otel_metrics.Observation]:
    yield otel_metrics.Observation(stats.snapshot()["compression_ratio"])


def _observe_redis(field: str):
    def callback(options) -> Iterator[otel_metrics.Observation]:
        sample = redis_info.sample()
        if sample.get(field) is not None:
            yield otel_metrics.Observation(sample[field])

    return callback


_meter.create_observable_gauge(
    "sessiondemo.session.compression_ratio",
    callbacks=[_observe_compression_ratio],
    description="Uncompressed bytes over stored bytes, over all saves.",
)
for _field, _unit in (
    ("keyspace_hit_rate", "1"),
    ("used_memory", "By"),
    ("connected_clients", "{client}"),
    ("instantaneous_ops_per_sec", "{operation}/s"),
):
    _meter.create_observable_gauge(f"sessiondemo.redis.{_field}", callbacks=[_observe_redis(_field)], unit=_unit)
_meter.create_observable_counter(
    "sessiondemo.redis.evicted_keys", callbacks=[_observe_redis("evicted_keys")], unit="{key}"
)


def _on_session_figure(kind: str, name: str, value: float) -> None:
    if kind == "event":
        _event_counters[name].add(value)
    elif kind == "redis_error":
        _redis_errors.add(value, {"error.type": name})
    elif kind == "latency":
        _latency.record(value, {"operation": name})
    elif kind == "size":
        _size.record(value)


def connect_session_figures() -> None:
    """Subscribe the instruments to the engine's figures (idempotent)."""
    stats.add_listener(_on_session_figure)


# --- Prometheus text --------------------------------------------------------------


def _cumulative_buckets(histogram: dict[str, Any], bounds: list[float]) -> list[tuple[str, float]]:
    # stats keeps one count per bucket, the last being above every bound; Prometheus wants running totals.
    running = 0
    buckets = []
    for bound, count in zip([*map(str, bounds), "+Inf"], histogram["buckets"], strict=False):
        running += count
        buckets.append((bound, running))
    return buckets


def current_figures() -> dict[str, Any]:
    """This process's figures: the engine's snapshot, its requests and its Redis round trips."""
    figures = stats.snapshot()
    figures["requests"] = requests.snapshot()
    figures["redis_round_trips"] = process_round_trips()
    return figures


class SessionFiguresCollector(Collector):
    """Session, request and round-trip figures, read at scrape time from ``read_figures``:
    this process's by default, or the whole site's (the cumulative totals, ops.site_view())."""

    def __init__(self, read_figures: Callable[[], dict[str, Any]] = current_figures) -> None:
        self.read_figures = read_figures

    def collect(self):
        figures = self.read_figures()
        events = CounterMetricFamily("sessiondemo_session_events", "Session events, by event.", labels=["event"])
        for event, count in figures["events"].items():
            events.add_metric([event], count)
        yield events
        errors = CounterMetricFamily(
            "sessiondemo_session_redis_errors", "Redis failures met by the session engine, by kind.", labels=["kind"]
        )
        for kind, count in figures["redis_errors"].items():
            errors.add_metric([kind], count)
        yield errors
        latency = HistogramMetricFamily(
            "sessiondemo_session_duration_seconds", "Session load and save latency.", labels=["operation"]
        )
        for operation, histogram in figures["latency"].items():
            buckets = _cumulative_buckets(histogram, figures["latency_bucket_bounds"])
            latency.add_metric([operation], buckets, histogram["sum"])
        yield latency
        yield GaugeMetricFamily(
            "sessiondemo_session_bytes",
            "Mean bytes a saved session takes in Redis.",
            value=figures["bytes_per_session"],
        )
        yield GaugeMetricFamily(
            "sessiondemo_session_compression_ratio",
            "Uncompressed bytes over stored bytes, over all saves.",
            value=figures["compression_ratio"],
        )
        if figures["hit_rate"] is not None:
            yield GaugeMetricFamily(
                "sessiondemo_session_hit_ratio", "Session loads that found the session.", value=figures["hit_rate"]
            )
        served = figures["requests"]
        yield CounterMetricFamily("sessiondemo_requests", "Requests answered.", value=served["total"])
        yield CounterMetricFamily(
            "sessiondemo_request_server_errors", "Requests answered with a 5xx.", value=served["server_errors"]
        )
        yield CounterMetricFamily(
            "sessiondemo_redis_round_trips", "Round trips made to Redis.", value=figures["redis_round_trips"]
        )


class RedisInfoCollector(Collector):
    """Figures Redis keeps about itself (server-wide: every instance reports the same)."""

    GAUGES = (
        ("keyspace_hit_rate", "sessiondemo_redis_keyspace_hit_ratio", "Keyspace lookups that found the key."),
        ("used_memory", "sessiondemo_redis_used_memory_bytes", "Memory Redis uses."),
        ("maxmemory", "sessiondemo_redis_maxmemory_bytes", "Redis's memory limit (0: none)."),
        ("connected_clients", "sessiondemo_redis_connected_clients", "Clients connected to Redis."),
        ("instantaneous_ops_per_sec", "sessiondemo_redis_ops_per_second", "Commands Redis runs per second."),
    )

    def collect(self):
        sample = redis_info.sample()
        yield GaugeMetricFamily(
            "sessiondemo_redis_up", "1 when Redis answered INFO.", value=0 if "error" in sample else 1
        )
        if "error" in sample:
            return
        for field, name, documentation in self.GAUGES:
            if sample[field] is not None:
                yield GaugeMetricFamily(name, documentation, value=sample[field])
        yield CounterMetricFamily("sessiondemo_redis_evicted_keys", "Keys Redis evicted.", value=sample["evicted_keys"])
        yield CounterMetricFamily("sessiondemo_redis_expired_keys", "Keys Redis expired.", value=sample["expired_keys"])


registry = CollectorRegistry(auto_describe=False)
registry.register(SessionFiguresCollector())
registry.register(RedisInfoCollector())


def prometheus_text() -> bytes:
    """This process's figures: scrape each instance (each worker, under gunicorn) to add them up."""
    return generate_latest(registry)


def site_prometheus_text(site: dict[str, Any]) -> bytes:
    """The whole site's figures: ``ops.site_view()``, the cumulative totals every worker adds to.

    For a scraper that can only reach the site through its load balancer (App Service):
    per-process counters seen through it would jump from one worker's to another's. These
    never go back, even when a worker stops or goes idle.
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SessionFiguresCollector(lambda: site["figures"]))
    registry.register(RedisInfoCollector())
    registry.register(_PublishersCollector(site["instances"], site["workers"]))
    return generate_latest(registry)


class _PublishersCollector(Collector):
    def __init__(self, instances: int, workers: int) -> None:
        self.instances = instances
        self.workers = workers

    def collect(self):
        yield GaugeMetricFamily(
            "sessiondemo_instances", "Instances with a worker that published within the time to live.", self.instances
        )
        yield GaugeMetricFamily(
            "sessiondemo_workers", "Worker processes that published within the time to live.", self.workers
        )
