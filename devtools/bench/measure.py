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
    # The signed-in cart: this engine keeps it with the account (USER_COUNTERS), read with the session.
    costs["cart_read_signed_in"] = cost(browser, "/bench/cart")
    costs["cart_add_signed_in"] = cost(browser, "/bench/add")
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


SMALL_CART = {"TEA-001": 2, "COF-002": 1}
# The device a benchmark session records (its metadata counts in bytes per session).
BENCH_CLIENT = {
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "ip": "198.51.100.7",
    "instance": "bench-1",
}


def interleaved_latency(iterations: int, user_id: int) -> dict[str, Any]:
    """This engine's and django-redis's load+save in one process, one after the other in turn.

    Measured apart, each engine meets whatever else the machine did at its moment; taken
    in turn, both meet the same noise, so their tails compare. Run with django-redis
    configured (SESSION_BACKEND=django-redis): this engine needs only SESSIONKEEPER.
    """
    from django.contrib.sessions.backends.cache import SessionStore as Stock

    from sessionkeeper.store import SessionStore as Ours

    stores = {"redis": Ours, "django-redis": Stock}
    keys, samples = {}, {name: [] for name in stores}
    for name, store_class in stores.items():
        session = store_class()
        session.update(typical_session_data(user_id))
        session.save()
        keys[name] = session.session_key
    for index in range(-min(100, iterations), iterations):
        order = ("redis", "django-redis") if index % 2 else ("django-redis", "redis")
        for name in order:
            started = time.perf_counter()
            session = stores[name](keys[name])
            session.get("theme")
            session["visits"] = index
            session.save()
            if index >= 0:
                samples[name].append(time.perf_counter() - started)
    return {name: percentiles(values) for name, values in samples.items()}


def bytes_stored(engine: str, user_id: int) -> dict[str, Any]:
    """What one small-cart session (2 lines, signed in) takes where the engine keeps it.

    For this engine everything the session costs is counted: its hash (device metadata
    included) and its user's session index, which holds just this session.
    """
    from django.conf import settings

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    session = store_class()
    if hasattr(session, "bind_client"):
        session.bind_client(**BENCH_CLIENT)
    session["theme"] = "dark"
    session.save()
    if hasattr(session, "counters"):
        counters = session.counters("cart")
    else:  # a stock engine: the cart kept in the session, as the site keeps a guest's
        from sessionkeeper.counters import SessionDictCounters

        counters = SessionDictCounters(session, "cart")
    for sku, quantity in SMALL_CART.items():
        counters.add(sku, quantity, 99)
    session.cycle_key()  # what login does
    session.update(typical_session_data(user_id))
    session.save()
    payload = len(json.dumps(dict(session.items())))
    if engine == "redis":
        from sessionkeeper import layout
        from sessionkeeper.client import get_client
        from sessionkeeper.conf import config

        client, prefix = get_client(), config().key_prefix
        session_bytes = client.memory_usage(layout.hash_key_of(prefix, session.session_key), samples=0)
        # Layout 3: the account record holds the cart and the index; layouts 1-2: a sorted-set index.
        account_bytes = client.memory_usage(layout.account_key(prefix, layout.user_tag(user_id)), samples=0) or 0
        index_bytes = client.memory_usage(layout.user_index_key(prefix, user_id), samples=0) or 0
        stored = session_bytes + account_bytes + index_bytes
        how = (
            f"MEMORY USAGE of the session hash ({session_bytes}), of the user's account record with the cart "
            f"and the session index ({account_bytes}) and of an older sorted-set index ({index_bytes})"
        )
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


def writes_per_read(engine: str, reads: int) -> dict[str, Any]:
    """How many read-only requests of a signed-in shopper, one a second, wrote anything.

    Redis engines: a request wrote when Redis's change counter (INFO persistence) moved;
    the database engine: an INSERT or UPDATE; signed cookies: a new Set-Cookie. This
    engine's clock is moved on a second per request, as a shopper's would.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    browser = Client()
    browser.get("/bench/login")
    browser.get("/bench/read")
    clock = None
    if engine == "redis":
        from sessionkeeper.store import SessionStore

        start = time.time()
        clock = SessionStore.clock = _Clock(start)
    client = _redis_for(engine)
    wrote = 0
    try:
        for _ in range(reads):
            if clock is not None:
                clock.now += 1
            before = _changes(client)
            with CaptureQueriesContext(connection) as queries:
                response = browser.get("/bench/read")
            writes_sql = any(q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE")) for q in queries)
            changed = client is not None and _changes(client) != before
            new_cookie = engine == "signed_cookies" and "sessionid" in response.cookies
            wrote += bool(changed or writes_sql or new_cookie)
    finally:
        if engine == "redis":
            from sessionkeeper.store import SessionStore

            SessionStore.clock = None
    return {"reads": reads, "writing_reads": wrote, "writes_per_read": round(wrote / reads, 4)}


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _redis_for(engine: str) -> Any:
    if engine == "redis":
        from sessionkeeper.client import get_client

        return get_client()
    if engine.startswith("django-redis"):
        from django.conf import settings
        from django.core.cache import caches

        return caches[settings.SESSION_CACHE_ALIAS].client.get_client()
    return None


def _changes(client: Any) -> int:
    return int(client.info("persistence")["rdb_changes_since_last_save"]) if client is not None else 0


def ping_floor(count: int) -> dict[str, float]:
    from sessionkeeper.client import get_client

    client = get_client()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.ping()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def scale_run(scales: list[int], iterations: int, user_id: int) -> list[dict[str, Any]]:
    from devtools.bench.scale import measure_at_scales, session_template

    template = session_template(typical_session_data(user_id), SMALL_CART)
    return measure_at_scales(scales, iterations, lambda: store_latency(iterations, user_id), template)


def measure(
    engine: str, iterations: int, scales: list[int], floor: bool, reads: int = 600, interleaved: int = 0
) -> dict[str, Any]:
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
        from sessionkeeper.client import get_client
        from sessionkeeper.scripts import load_scripts_everywhere

        load_scripts_everywhere(get_client())
    figures: dict[str, Any] = {
        "engine": engine,
        "session_engine": settings.SESSION_ENGINE,
        "save_every_request": bool(getattr(settings, "SESSION_SAVE_EVERY_REQUEST", False)),
        "requests": request_costs(engine),
        "latency": store_latency(iterations, user.pk),
        "stored": bytes_stored(engine, user.pk + 1),  # a user of its own: an index holding this session only
        "writes": writes_per_read(engine, reads),
    }
    if floor:
        figures["ping"] = ping_floor(iterations)
    if scales:
        figures["scale"] = scale_run(scales, iterations, user.pk)
    if interleaved:
        figures["interleaved"] = interleaved_latency(interleaved, user.pk)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Measure one session engine in this process.")
    parser.add_argument("engine")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--scale", default="", help="Stored-session counts for the scale run, comma-separated.")
    parser.add_argument("--ping", action="store_true", help="Also measure Redis's PING round trip.")
    parser.add_argument(
        "--reads", type=int, default=1200, help="Read-only requests, a second apart, for writes per read."
    )
    parser.add_argument(
        "--interleaved",
        type=int,
        default=0,
        help="Also time this engine and django-redis in turn, this many times each (django-redis only).",
    )
    parser.add_argument("--result", required=True, help="Write the JSON here (stdout carries the request log).")
    options = parser.parse_args(argv)
    scales = [int(value) for value in options.scale.split(",") if value]
    figures = measure(options.engine, options.iterations, scales, options.ping, options.reads, options.interleaved)
    Path(options.result).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))
    main()
