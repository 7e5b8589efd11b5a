"""The scale run: the engine's load and save latency with 1 thousand to 1 million stored sessions.

Sessions are written by a server-side script (populate.lua) in chunks, so a million of
them take seconds; memory per session is the growth of INFO used_memory divided by the count
(in layout 3 each session's user has an account record too, holding the cart: counted).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devtools.bench.measure import BENCH_CLIENT
from sessionkeeper import layout
from sessionkeeper.client import get_client as get_redis
from sessionkeeper.conf import config
from sessionkeeper.scripts import compile_source, prelude_for
from sessionkeeper.store import SessionStore

POPULATE = (Path(__file__).resolve().parent / "populate.lua").read_text()
CHUNK = 2_000  # sessions per script call: well inside the client's 0.5 s socket timeout


def used_memory() -> int:
    return int(get_redis().info("memory")["used_memory"])


def session_template(data: dict[str, Any], cart: dict[str, int]) -> list[Any]:
    """What the engine stores for a signed-in session with ``data`` and ``cart``: the session's field,
    value pairs (counted), then its account record's (layout 3 keeps the cart there)."""
    store = SessionStore()
    store.bind_client(**BENCH_CLIENT)
    store._counters = {"cart": dict(cart)}
    kept_by_account = config().user_counter_names if config().layout >= 3 else frozenset()
    fields, _ = store._encode_all(data, kept_by_account)
    pairs = [item for field, value in fields.items() for item in (field, value)]
    pairs += store._user_fields(str(data["_auth_user_id"]))
    account = [
        item
        for name, values in store._counters.items()
        if name in kept_by_account
        for counter, value in values.items()
        for item in (layout.counter_field(name, counter), value)
    ]
    return [len(pairs), *pairs, *account]


def populate(first: int, count: int, template: list[Any]) -> None:
    client = get_redis()
    header = SessionStore()._header(config().idle_ms)
    script = compile_source(prelude_for(POPULATE) + POPULATE, config()).source
    for start in range(first, first + count, CHUNK):
        size = min(CHUNK, first + count - start)
        client.eval(script, 0, *header, config().key_prefix, start, size, *template)


def measure_at_scales(
    scales: list[int], iterations: int, measure: Callable[[], dict[str, Any]], template: list[Any]
) -> list[dict[str, Any]]:
    """Grow the store to each size in turn and measure there; returns one row per size."""
    client = get_redis()
    baseline_keys = client.dbsize()
    baseline_memory = used_memory()
    stored = 0
    rows = []
    for target in sorted(scales):
        started = time.perf_counter()
        populate(stored, target - stored, template)
        stored = target
        filled_in = time.perf_counter() - started
        figures = measure()
        memory = used_memory() - baseline_memory
        rows.append(
            {
                "sessions": target,
                "keys": client.dbsize() - baseline_keys,
                "populate_s": round(filled_in, 2),
                "load": figures["load"],
                "load_save": figures["load_save"],
                "memory_bytes_per_session": round(memory / target, 1),
            }
        )
    return rows
