"""No lost updates across server processes: gunicorn with four workers, one browser session (item 2)."""

from __future__ import annotations

import pytest

from devtools.bench import http_load
from devtools.bench.engines import ENGINES
from devtools.bench.run import engine_environment

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("cluster", [False, True], ids=["single", "cluster"])
def test_two_hundred_concurrent_adds_through_four_gunicorn_workers_are_all_kept(cluster, request, tmp_path):
    url = request.getfixturevalue("redis_cluster_url" if cluster else "redis_url")
    environment = engine_environment(ENGINES[0], url, tmp_path) | {"REDIS_CLUSTER": "1" if cluster else "0"}
    with http_load.gunicorn(environment, tmp_path, workers=4) as port:
        result = http_load.concurrent_adds(port, adds=200)
    assert result == {"adds": 200, "succeeded": 200, "failed": 0, "kept": 200}
