"""The scale run: the engine's load and save latency with 1 thousand to 1 million stored sessions.

Sessions are written by a server-side script (populate.lua) in chunks, so a million of
them take seconds; memory per session is the growth of INFO used_memory divided by the count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings

from sessiondemo.redis_client import get_redis

POPULATE = (Path(__file__).resolve().parent / "populate.lua").read_text()
CHUNK = 2_000  # sessions per script call: well inside the client's 0.5 s socket timeout


def used_memory() -> int:
    return int(get_redis().info("memory")["used_memory"])


def populate(first: int, count: int) -> None:
    client = get_redis()
    now_ms = int(time.time() * 1000)
    lifetime_ms = (settings.SESSION_ABSOLUTE_TIMEOUT + settings.SESSION_GRACE_PERIOD) * 1000
    for start in range(first, first + count, CHUNK):
        size = min(CHUNK, first + count - start)
        client.eval(POPULATE, 0, settings.REDIS_KEY_PREFIX, start, size, now_ms, lifetime_ms)


def measure_at_scales(
    scales: list[int], iterations: int, measure: Callable[[], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Grow the store to each size in turn and measure there; returns one row per size."""
    client = get_redis()
    baseline_keys = client.dbsize()
    baseline_memory = used_memory()
    stored = 0
    rows = []
    for target in sorted(scales):
        started = time.perf_counter()
        populate(stored, target - stored)
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
