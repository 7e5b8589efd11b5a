"""One benchmark run: a private Redis, each engine measured in its own processes, one results dict."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from devtools.bench import http_load
from devtools.bench.engines import ENGINES, Engine
from devtools.redis_servers import RedisServer


class BenchmarkError(RuntimeError):
    """A step of the benchmark failed; the message says which and where its log is."""


@dataclass(frozen=True)
class Plan:
    iterations: int = 2000
    duration: float = 3.0
    adds: int = 201
    workers: int = 4
    scales: tuple[int, ...] = (1_000, 100_000, 1_000_000)
    # Read-only requests a second apart: 1,200 is one idle timeout of 20 minutes.
    reads: int = 1200
    # Load+saves of this engine and django-redis timed in turn: a p99 is its hundredth-worst sample.
    in_turn: int = 5000


def machine_description(redis_version: str) -> dict[str, Any]:
    release = Path("/etc/os-release")
    system = platform.system()
    if release.exists():
        for line in release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                system = line.split("=", 1)[1].strip('"')
    cores = os.cpu_count() or 0
    description = f"{cores} cores, {system}, Python {platform.python_version()}, redis {redis_version}"
    return {
        "cores": cores,
        "system": system,
        "python": platform.python_version(),
        "redis": redis_version,
        "description": description,
    }


def engine_environment(engine: Engine, redis_url: str, directory: Path) -> dict[str, str]:
    """Everything the engine's processes get: settings.py turns it into the engine's configuration."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": str(settings.BASE_DIR),
        "DJANGO_SETTINGS_MODULE": "sessiondemo.settings",
        "SECRET_KEY": "bench",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
        "SESSIONDEMO_VAR_DIR": str(directory / "var"),
        **engine.environment,
    }


def run_python(arguments: list[str], environment: dict[str, str], directory: Path, what: str) -> None:
    log = directory / f"{what.replace(' ', '-')}.log"
    with open(log, "wb") as output:
        result = subprocess.run(
            [sys.executable, *arguments],
            cwd=directory,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=900,
        )
    if result.returncode != 0:
        raise BenchmarkError(
            f"The {what} step failed (exit {result.returncode}); its output:\n{log.read_text()[-3000:]}"
        )


def measure_in_process(engine: Engine, environment: dict[str, str], directory: Path, plan: Plan) -> dict[str, Any]:
    result = directory / f"measure-{engine.name}.json"
    arguments = [
        "-m",
        "devtools.bench.measure",
        engine.name,
        "--iterations",
        str(plan.iterations),
        "--reads",
        str(plan.reads),
        "--result",
        str(result),
    ]
    if engine.name == "redis":
        arguments += ["--ping", "--scale", ",".join(str(scale) for scale in plan.scales)]
    if engine.name == "django-redis":
        arguments += ["--interleaved", str(plan.in_turn)]
    run_python(arguments, environment, directory, f"measure {engine.name}")
    return json.loads(result.read_text())


def measure_over_http(environment: dict[str, str], directory: Path, plan: Plan) -> dict[str, Any]:
    with http_load.gunicorn(environment, directory, workers=plan.workers) as port:
        # Unmeasured: every worker imports its views and opens its connections first.
        http_load.throughput(port, "GET", "/bench/read", min(1.0, plan.duration))
        return {
            "workers": plan.workers,
            "read_only": best_of_two(lambda: http_load.throughput(port, "GET", "/bench/read", plan.duration)),
            "modifying": best_of_two(lambda: http_load.throughput(port, "POST", "/bench/write", plan.duration)),
            "concurrent_adds": http_load.concurrent_adds(port, plan.adds),
            "two_devices": http_load.concurrent_adds_on_two_devices(port, plan.adds),
        }


def best_of_two(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    # The machine may be shared: the better of two runs is the less disturbed one.
    return max((run(), run()), key=lambda figures: figures["requests_per_s"])


def run_benchmark(plan: Plan, say: Callable[[str], None]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-sessions-") as name:
        directory = Path(name)
        redis = RedisServer(directory / "redis").start()
        try:
            results: dict[str, Any] = {
                "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "machine": machine_description(redis.client().info("server")["redis_version"]),
                "plan": {**plan.__dict__, "scales": list(plan.scales)},
                "engines": {},
                "load_average_at_start": list(os.getloadavg()),
            }
            say("Creating the benchmark's SQLite database ...")
            database_environment = engine_environment(ENGINES[3], redis.url, directory)
            run_python(
                [str(settings.BASE_DIR / "manage.py"), "migrate", "--noinput", "-v", "0"],
                database_environment,
                directory,
                "migrate",
            )
            for engine in ENGINES:
                redis.client(socket_timeout=30).flushall()
                environment = engine_environment(engine, redis.url, directory)
                say(f"Measuring {engine.label} in process ...")
                figures = measure_in_process(engine, environment, directory, plan)
                if "scale" in figures:
                    results["scale"] = figures.pop("scale")
                if "ping" in figures:
                    results["ping"] = figures.pop("ping")
                if "interleaved" in figures:
                    results["interleaved"] = figures.pop("interleaved")
                redis.client(socket_timeout=30).flushall()
                say(f"Measuring {engine.label} through gunicorn ...")
                figures["http"] = measure_over_http(environment, directory, plan)
                figures["label"] = engine.label
                results["engines"][engine.name] = figures
            results["load_average_at_end"] = list(os.getloadavg())
            return results
        finally:
            redis.stop()
