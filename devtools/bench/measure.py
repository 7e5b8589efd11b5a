"""In-process measurements of one session engine, run in its own Python process.

``python -m devtools.bench.measure`` is started by bench_sessions with the engine's
environment (SESSION_BACKEND, REDIS_URL, ...), so settings.py configures the engine
exactly as production would. It writes one JSON object to the --result file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from importlib import import_module
from pathlib import Path
from typing import Any


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(samples)
    if not ordered:
        return {"p50_ms": 0.0, "p99_ms": 0.0}
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 4),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 4),
    }


def typical_session_data(user_id: int) -> dict[str, Any]:
    """A signed-in shopper: Django's three auth keys, a theme, a small note, three cart lines."""
    return {
        "_auth_user_id": str(user_id),
        "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
        "_auth_user_hash": "6f1ed002ab5595859014ebf0951522d9fa2a1f5b2d2b3c5a6e7f8091a2b3c4d5",
        "theme": "dark",
        "recently_viewed": ["TEA-001", "COF-002", "CAK-003"],
    }


def request_costs(engine: str) -> dict[str, dict[str, int]]:
    """Redis round trips, commands and SQL queries per kind of request, through the real middleware."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from devtools.bench import spy

    def cost(client: Client, path: str) -> dict[str, int]:
        with spy.counting() as sent, CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code} under {engine}: {response.content[:200]!r}")
        return {"round_trips": sent.round_trips, "commands": sent.commands, "sql_queries": len(queries)}

    warm = Client()
    for path in (
        "/bench/write",
        "/bench/write?theme=light",
        "/bench/add",
        "/bench/read",
        "/bench/login",
        "/bench/read",
    ):
        warm.get(path)
    browser = Client()
    browser.get("/bench/add")  # an anonymous shopper with a cart
    browser.get("/bench/write")
    costs = {
        "untouched": cost(browser, "/bench/untouched"),
        "read_only": cost(browser, "/bench/read"),
        "modifying": cost(browser, "/bench/write?theme=light"),
        "add_to_cart": cost(browser, "/bench/add"),
        "login": cost(browser, "/bench/login"),
    }
    costs["read_only_signed_in"] = cost(browser, "/bench/read")
    return costs


def store_latency(iterations: int, user_id: int) -> dict[str, Any]:
    """p50/p99 of a load alone and of a load plus a one-key save, on the SessionStore itself."""
    from django.conf import settings

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    session = store_class()
    session.update(typical_session_data(user_id))
    session.save()
    key = session.session_key
    loads, round_trips = [], []
    for index in range(-min(100, iterations), iterations):  # negative indexes warm up, unmeasured
        started = time.perf_counter()
        session = store_class(key)
        session.get("theme")
        loaded = time.perf_counter()
        session["visits"] = index
        session.save()
        if index >= 0:
            loads.append(loaded - started)
            round_trips.append(time.perf_counter() - started)
        key = session.session_key  # signed cookies: every save is a new cookie
    return {"load": percentiles(loads), "load_save": percentiles(round_trips), "iterations": iterations}


def bytes_stored(engine: str, user_id: int) -> dict[str, Any]:
    """What one typical session takes where the engine keeps it."""
    from django.conf import settings

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    session = store_class()
    session.update(typical_session_data(user_id))
    if hasattr(session, "counters"):
        session.save()
        cart = session.counters("cart")
    else:
        from sessiondemo.sessions.counters import SessionDictCounters

        cart = SessionDictCounters(session, "cart")
    for sku, quantity in (("TEA-001", 2), ("COF-002", 1), ("CAK-003", 4)):
        cart.set(sku, quantity)
    session.save()
    payload = len(json.dumps(dict(session.items())))
    if engine == "redis":
        from sessiondemo.redis_client import get_redis
        from sessiondemo.sessions.keys import session_digest, session_hash_key

        stored = get_redis().memory_usage(session_hash_key(session_digest(session.session_key)), samples=0)
        how = "MEMORY USAGE of the session hash"
    elif engine.startswith("django-redis"):
        from django.core.cache import caches

        cache = caches[settings.SESSION_CACHE_ALIAS]
        raw_key = cache.client.make_key(session.cache_key_prefix + session.session_key)
        stored = cache.client.get_client().memory_usage(str(raw_key), samples=0)
        how = "MEMORY USAGE of the cache key"
    elif engine == "db":
        from django.contrib.sessions.models import Session

        row = Session.objects.get(session_key=session.session_key)
        stored = len(row.session_key) + len(row.session_data) + 8
        how = "row payload: key + data + expiry"
    else:
        stored = len(session.session_key)
        how = "cookie value length"
    return {"bytes": stored, "how": how, "json_payload_bytes": payload}


def ping_floor(count: int) -> dict[str, float]:
    from sessiondemo.redis_client import get_redis

    client = get_redis()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.ping()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def scale_run(scales: list[int], iterations: int, user_id: int) -> list[dict[str, Any]]:
    from devtools.bench.scale import measure_at_scales

    return measure_at_scales(scales, iterations, lambda: store_latency(iterations, user_id))


def measure(engine: str, iterations: int, scales: list[int], floor: bool) -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from devtools.bench import spy
    from devtools.bench.urls import BENCH_USERNAME

    settings.ROOT_URLCONF = "devtools.bench.urls"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    spy.install()
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USERNAME)
    if engine == "redis":
        from sessiondemo.redis_client import get_redis
        from sessiondemo.sessions.scripts import load_scripts_everywhere

        load_scripts_everywhere(get_redis())
    figures: dict[str, Any] = {
        "engine": engine,
        "session_engine": settings.SESSION_ENGINE,
        "save_every_request": bool(getattr(settings, "SESSION_SAVE_EVERY_REQUEST", False)),
        "requests": request_costs(engine),
        "latency": store_latency(iterations, user.pk),
        "stored": bytes_stored(engine, user.pk),
    }
    if floor:
        figures["ping"] = ping_floor(iterations)
    if scales:
        figures["scale"] = scale_run(scales, iterations, user.pk)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Measure one session engine in this process.")
    parser.add_argument("engine")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--scale", default="", help="Stored-session counts for the scale run, comma-separated.")
    parser.add_argument("--ping", action="store_true", help="Also measure Redis's PING round trip.")
    parser.add_argument("--result", required=True, help="Write the JSON here (stdout carries the request log).")
    options = parser.parse_args(argv)
    scales = [int(value) for value in options.scale.split(",") if value]
    figures = measure(options.engine, options.iterations, scales, options.ping)
    Path(options.result).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))
    main()
