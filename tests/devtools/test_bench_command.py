"""bench_sessions runs end to end and reports every engine's figures (sizes tiny; nothing timed is asserted)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from devtools.bench.engines import ENGINES


@pytest.mark.slow
def test_a_tiny_benchmark_run_writes_every_engines_figures(tmp_path):
    out = StringIO()
    call_command(
        "bench_sessions",
        "--quick",
        "--iterations",
        "10",
        "--duration",
        "0.2",
        "--adds",
        "8",
        "--workers",
        "1",
        "--scale",
        "50,100",
        "--reads",
        "100",
        "--in-turn",
        "50",
        "--output",
        str(tmp_path),
        stdout=out,
    )
    results = json.loads((tmp_path / "bench_sessions.json").read_text())
    assert set(results["engines"]) == {engine.name for engine in ENGINES}
    for name, figures in results["engines"].items():
        for kind in ("untouched", "read_only", "modifying", "add_to_cart", "login"):
            assert {"round_trips", "commands", "sql_queries"} <= set(figures["requests"][kind]), name
        assert figures["latency"]["load_save"]["p50_ms"] > 0, name
        assert figures["stored"]["bytes"] > 0, name
        assert figures["http"]["read_only"]["requests_per_s"] > 0, name
        assert figures["http"]["concurrent_adds"]["adds"] == 8, name
        assert figures["writes"]["reads"] == 100, name
    ours = results["engines"]["redis"]["requests"]
    assert ours["untouched"]["round_trips"] == 0
    assert ours["read_only_signed_in"]["round_trips"] == 1
    assert ours["modifying"]["round_trips"] <= 2
    assert ours["login"]["round_trips"] <= 3
    assert results["engines"]["redis"]["http"]["concurrent_adds"]["kept"] == 8
    assert ours["cart_read_signed_in"]["round_trips"] == 1
    assert ours["cart_add_signed_in"]["round_trips"] <= 2
    assert results["engines"]["redis"]["http"]["two_devices"]["kept"] == 8  # 0 lost across two sessions of one user
    assert "kept of adds on two devices" in out.getvalue()
    assert results["engines"]["redis"]["writes"]["writes_per_read"] < 0.05
    assert results["interleaved"]["redis"]["p99_ms"] > 0 and results["interleaved"]["django-redis"]["p99_ms"] > 0
    assert results["engines"]["django-redis-save-every-request"]["writes"]["writes_per_read"] == 1
    assert results["engines"]["redis"]["stored"]["bytes"] <= results["engines"]["django-redis"]["stored"]["bytes"]
    assert [row["sessions"] for row in results["scale"]] == [50, 100]
    assert results["ping"]["p50_ms"] > 0
    assert (tmp_path / "bench_sessions.png").stat().st_size > 0
    assert "| redis" in out.getvalue()


def test_a_scale_that_is_not_a_list_of_numbers_is_refused_with_a_sentence(tmp_path):
    with pytest.raises(CommandError, match="whole numbers separated by commas"):
        call_command("bench_sessions", "--scale", "a lot", "--output", str(tmp_path), stdout=StringIO())
