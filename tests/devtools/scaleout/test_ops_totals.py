"""The site's totals on /metrics?scope=site (and /ops/) never go back when an instance stops."""

from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from observability import ops
from tests.devtools.scaleout.conftest import METRICS_TOKEN

pytestmark = pytest.mark.slow

COUNTER_SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def site_figures(shopper) -> tuple[dict[tuple, float], dict[str, float]]:
    """The site's counters (every sample of every counter and histogram) and its gauges."""
    answer = shopper.request("GET", "/metrics?scope=site", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200, answer.text[:300]
    counters, gauges = {}, {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if family.type in ("counter", "histogram") and sample.name.endswith(COUNTER_SUFFIXES):
                counters[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
            elif family.type == "gauge":
                gauges[sample.name] = sample.value
    return counters, gauges


def forget_instance(redis, name: str) -> int:
    """What Redis does by itself 30 s after an instance's last publish: its workers' figures expire."""
    workers = [worker.decode() for worker in redis.zrange(ops.index_key(), 0, -1)]
    gone = [worker for worker in workers if ops.PID_SUFFIX.sub("", worker) == name]
    for worker in gone:
        redis.delete(ops.ops_key(worker))
        redis.zrem(ops.index_key(), worker)
    return len(gone)


def test_stopping_an_instance_never_lowers_the_sites_totals(cluster, cluster_redis, make_shopper):
    shopper = make_shopper()
    # Round robin: every instance answers; a worker publishes at most every OPS_PUBLISH_INTERVAL (5 s).
    deadline = time.monotonic() + 15
    while True:
        for _ in range(12):
            shopper.session()
        before, gauges = site_figures(shopper)
        if gauges["sessiondemo_instances"] == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert gauges["sessiondemo_instances"] == 3
    assert gauges["sessiondemo_workers"] >= 3
    assert before[("sessiondemo_requests_total", ())] > 0  # what the workers have published so far

    stopped = 3
    cluster.kill_instance(stopped)
    try:
        assert forget_instance(cluster_redis.client(), cluster.instance_names[stopped - 1]) >= 1
        after, gauges = site_figures(shopper)
        assert gauges["sessiondemo_instances"] == 2, "A stopped instance is still counted."
        lower = {name: (value, after.get(name, 0)) for name, value in before.items() if after.get(name, 0) < value}
        assert lower == {}, f"Site totals went back when an instance stopped: {lower}"
    finally:
        cluster.restart_instance(stopped)
