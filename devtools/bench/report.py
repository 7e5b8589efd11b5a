"""The benchmark's outputs: a plain-text table, the JSON file and a PNG chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from devtools.bench.engines import ENGINES


def _trips(request: dict[str, int]) -> str:
    text = f"{request['round_trips']} ({request['commands']} cmd)"
    return text + (f" +{request['sql_queries']} SQL" if request.get("sql_queries") else "")


def engine_table(results: dict[str, Any]) -> str:
    headers = [
        "engine",
        "read-only (signed in)",
        "modifying",
        "add to cart",
        "login",
        "load+save p50/p99 ms",
        "in turn p50/p99 ms",
        "writes/read",
        "req/s read",
        "req/s write",
        "bytes/session",
        "kept of adds",
    ]
    rows = []
    for engine in ENGINES:
        figures = results["engines"].get(engine.name)
        if figures is None:
            continue
        requests = figures["requests"]
        http = figures.get("http", {})
        adds = http.get("concurrent_adds", {})
        rows.append(
            [
                engine.name,
                _trips(requests["read_only_signed_in"]),
                _trips(requests["modifying"]),
                _trips(requests["add_to_cart"]),
                _trips(requests["login"]),
                f"{figures['latency']['load_save']['p50_ms']:.3f} / {figures['latency']['load_save']['p99_ms']:.3f}",
                _in_turn(results, engine.name),
                f"{figures['writes']['writes_per_read']:.3f}" if "writes" in figures else "-",
                f"{http.get('read_only', {}).get('requests_per_s', '-')}",
                f"{http.get('modifying', {}).get('requests_per_s', '-')}",
                f"{figures['stored']['bytes']}",
                f"{adds.get('kept', '-')} of {adds.get('adds', '-')}"
                + (f" ({adds['failed']} failed)" if adds.get("failed") else ""),
            ]
        )
    return _format(headers, rows)


def _in_turn(results: dict[str, Any], name: str) -> str:
    figures = results.get("interleaved", {}).get(name.removesuffix("-save-every-request"))
    return f"{figures['p50_ms']:.3f} / {figures['p99_ms']:.3f}" if figures else "-"


def signed_in_cart_table(results: dict[str, Any]) -> str:
    """The signed-in cart: its read and add, and adds made at once on two devices of one user."""
    rows = []
    for engine in ENGINES:
        figures = results["engines"].get(engine.name)
        if figures is None:
            continue
        requests = figures["requests"]
        both = figures.get("http", {}).get("two_devices", {})
        rows.append(
            [
                engine.name,
                _trips(requests["cart_read_signed_in"]) if "cart_read_signed_in" in requests else "-",
                _trips(requests["cart_add_signed_in"]) if "cart_add_signed_in" in requests else "-",
                f"{both.get('kept', '-')} of {both.get('adds', '-')}"
                + (f" ({both['failed']} failed)" if both.get("failed") else ""),
            ]
        )
    headers = ["engine", "cart read (signed in)", "add (signed in)", "kept of adds on two devices, as either sees"]
    return _format(headers, rows)


def scale_table(results: dict[str, Any]) -> str:
    rows = [
        [
            f"{row['sessions']:,}",
            f"{row['load']['p50_ms']:.3f} / {row['load']['p99_ms']:.3f}",
            f"{row['load_save']['p50_ms']:.3f} / {row['load_save']['p99_ms']:.3f}",
            f"{row['memory_bytes_per_session']:.0f}",
        ]
        for row in results.get("scale", [])
    ]
    return _format(["stored sessions", "load p50/p99 ms", "load+save p50/p99 ms", "memory bytes/session"], rows)


def _format(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        "| " + " | ".join(header.ljust(width) for header, width in zip(headers, widths, strict=False)) + " |",
        "|" + "|".join("-" * (width + 2) for width in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)) + " |"
        for row in rows
    ]
    return "\n".join(lines)


def full_report(results: dict[str, Any]) -> str:
    machine = results["machine"]
    ping = results.get("ping", {})
    return "\n\n".join(
        [
            f"Session engines, {results['date']} on {machine['description']}.",
            "Round trips to Redis per request (commands in brackets; SQL queries where the engine uses the database):",
            engine_table(results),
            "in turn: this engine's and django-redis's load+save timed one after the other in one process, "
            f"{results['plan'].get('in_turn', '-')} times each, so both meet the same noise "
            "(load+save alone: each engine in its own process, in turn with the others). "
            "writes/read: read-only requests of a signed-in shopper, one a second, that wrote anything. "
            "bytes/session: a signed-in session with 2 cart lines at Redis's default configuration "
            "(this engine: its hash, device metadata included, and its user's account record: the cart and the index).",
            "A signed-in shopper's cart, and one user's two devices adding at once:",
            signed_in_cart_table(results),
            "kept of adds on two devices: one user signed in on two browsers, the adds split between them at "
            "once; the count the device showing fewer sees (an engine whose cart is the session's shows its own half).",
            f"Floor: Redis PING round trip p50 {ping.get('p50_ms', '-')} ms, p99 {ping.get('p99_ms', '-')} ms. "
            f"Load average at start {_load(results, 'start')}, at end {_load(results, 'end')}.",
            "Scale run (this project's engine):",
            scale_table(results),
        ]
    )


def _load(results: dict[str, Any], moment: str) -> str:
    values = results.get(f"load_average_at_{moment}")
    return " ".join(f"{value:.2f}" for value in values) if values else "-"


def write_json(results: dict[str, Any], directory: Path) -> Path:
    path = directory / "bench_sessions.json"
    path.write_text(json.dumps(results, indent=2))
    return path


def write_chart(results: dict[str, Any], directory: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [engine.name for engine in ENGINES if engine.name in results["engines"]]
    figures = [results["engines"][name] for name in names]
    figure, axes = plt.subplots(2, 2, figsize=(13, 9))
    kinds = ("read_only_signed_in", "modifying", "login")
    width = 0.25
    for offset, kind in enumerate(kinds):
        axes[0][0].bar(
            [i + offset * width for i in range(len(names))],
            [f["requests"][kind]["round_trips"] for f in figures],
            width,
            label=kind.replace("_", " "),
        )
    axes[0][0].set_title("Redis round trips per request")
    axes[0][0].set_xticks([i + width for i in range(len(names))], names, rotation=20, ha="right", fontsize=8)
    axes[0][0].legend(fontsize=8)

    axes[0][1].bar(names, [f["latency"]["load_save"]["p50_ms"] for f in figures], label="p50")
    axes[0][1].bar(
        names,
        [f["latency"]["load_save"]["p99_ms"] - f["latency"]["load_save"]["p50_ms"] for f in figures],
        bottom=[f["latency"]["load_save"]["p50_ms"] for f in figures],
        label="p99",
    )
    axes[0][1].set_title("In-process load + save (ms)")
    axes[0][1].tick_params(axis="x", labelrotation=20, labelsize=8)
    axes[0][1].legend(fontsize=8)

    reads = [f.get("http", {}).get("read_only", {}).get("requests_per_s", 0) for f in figures]
    writes = [f.get("http", {}).get("modifying", {}).get("requests_per_s", 0) for f in figures]
    axes[1][0].bar([i - 0.2 for i in range(len(names))], reads, 0.4, label="read-only")
    axes[1][0].bar([i + 0.2 for i in range(len(names))], writes, 0.4, label="modifying")
    axes[1][0].set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    axes[1][0].set_title(f"Requests per second through gunicorn ({results['plan']['workers']} workers)")
    axes[1][0].legend(fontsize=8)

    scale = results.get("scale", [])
    if scale:
        sessions = [row["sessions"] for row in scale]
        axes[1][1].plot(sessions, [row["load"]["p50_ms"] for row in scale], marker="o", label="load p50")
        axes[1][1].plot(sessions, [row["load_save"]["p50_ms"] for row in scale], marker="o", label="load+save p50")
        axes[1][1].plot(sessions, [row["load_save"]["p99_ms"] for row in scale], marker="o", label="load+save p99")
        axes[1][1].set_xscale("log")
        axes[1][1].set_ylim(bottom=0)
        axes[1][1].legend(fontsize=8)
    axes[1][1].set_title("This engine's latency (ms) by stored sessions")
    figure.suptitle(f"Session engines, {results['date']}, {results['machine']['description']}")
    figure.tight_layout()
    path = directory / "bench_sessions.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
