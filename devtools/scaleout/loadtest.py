"""Run the locust journey headless against a cluster and read back its figures."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from devtools.scaleout.cluster import PROJECT_DIRECTORY, Cluster, ClusterError, ClusterSettings

LOCUSTFILE = PROJECT_DIRECTORY / "loadtest" / "locustfile.py"


@dataclass(frozen=True)
class LoadTestResult:
    instances: int
    users: int
    run_time: str
    requests: int
    failures: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def markdown_row(self) -> str:
        return (
            f"| {self.instances} | {self.users} | {self.run_time} | {self.requests} | {self.requests_per_second:.1f} "
            f"| {self.p50_ms:.0f} | {self.p95_ms:.0f} | {self.p99_ms:.0f} | {self.error_rate:.2%} |"
        )


MARKDOWN_HEADER = (
    "| instances | users | duration | requests | req/s | p50 ms | p95 ms | p99 ms | errors |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def run_locust(cluster: Cluster, users: int, spawn_rate: float, run_time: str, output: Path) -> LoadTestResult:
    """Run the journey headless against ``cluster``'s proxy; the CSV files land in ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    prefix = output / f"instances-{cluster.settings.instances}"
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        run_time,
        "--host",
        cluster.url,
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "5",
        "--loglevel",
        "WARNING",
    ]
    environment = {**cluster.environment(), "LOADTEST_CA_FILE": str(cluster.certificate.authority)}
    result = subprocess.run(
        command,
        cwd=PROJECT_DIRECTORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=_seconds(run_time) + 120,
    )
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise ClusterError(f"locust wrote no figures (exit code {result.returncode}):\n{result.stderr[-3000:]}")
    return read_locust_stats(stats, cluster.settings.instances, users, run_time)


def compare_instance_counts(
    settings_for: Callable[[int], ClusterSettings],
    counts: Iterable[int],
    users: int,
    spawn_rate: float,
    run_time: str,
    output: Path,
    announce=print,
) -> list[LoadTestResult]:
    """For each instance count: start a cluster, run the journey against it, stop it."""
    results = []
    for count in counts:
        cluster = Cluster(settings_for(count))
        cluster.start(announce=announce)
        try:
            announce(f"Running {users} users for {run_time} against {count} instance(s) ...")
            results.append(run_locust(cluster, users, spawn_rate, run_time, output))
        finally:
            cluster.stop()
    return results


def read_locust_stats(path: Path, instances: int, users: int, run_time: str) -> LoadTestResult:
    """The "Aggregated" row of locust's ``*_stats.csv``."""
    with open(path, newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Name"] == "Aggregated"]
    if not rows:
        raise ClusterError(f"{path} has no Aggregated row; did locust send any request?")
    row = rows[0]
    return LoadTestResult(
        instances=instances,
        users=users,
        run_time=run_time,
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        requests_per_second=float(row["Requests/s"]),
        p50_ms=float(row["50%"]),
        p95_ms=float(row["95%"]),
        p99_ms=float(row["99%"]),
    )


def _seconds(run_time: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    if run_time[-1:] in units and run_time[:-1].isdigit():
        return int(run_time[:-1]) * units[run_time[-1]]
    if run_time.isdigit():
        return int(run_time)
    raise ClusterError(f"The run time must look like 30s, 2m or 1h, not {run_time!r}.")
