"""/ops/ and its data: every instance's published figures, the whole site's, for staff only."""

from __future__ import annotations

import time

import pytest

from observability import ops
from sessiondemo.redis_client import count_round_trips, get_redis, process_round_trips


def publish_as(instance: str, times: int = 3, *, traffic=None) -> ops.Publisher:
    """Publish this process's figures under another instance's name, as a second server would."""
    publisher = ops.Publisher()
    for _ in range(times):
        if traffic:
            traffic()
        publisher.publish(instance)
        time.sleep(0.02)
    return publisher


def test_ops_data_shows_every_instance_that_published_and_adds_them_up(client, api, staff_member, fresh_figures):
    traffic = lambda: api.send("POST", "/api/cart/items", {"sku": "TEA-001"})  # noqa: E731
    publish_as("instance-a", traffic=traffic)
    publish_as("instance-b", traffic=traffic)
    client.force_login(staff_member)

    data = client.get("/ops/data.json").json()
    names = [instance["name"] for instance in data["instances"]]
    assert any(name.startswith("instance-a pid ") for name in names)
    assert any(name.startswith("instance-b pid ") for name in names)
    assert any(instance["current"] for instance in data["instances"])  # the one that served the page
    assert len(names) == 3
    a = next(instance for instance in data["instances"] if instance["instance"] == "instance-a")
    assert len(a["series"]) == 2 and a["series"][-1]["requests_per_sec"] > 0
    site = data["site"]["figures"]
    assert site["requests"]["total"] == sum(i["figures"]["requests"]["total"] for i in data["instances"])
    assert site["events"]["save"] == sum(i["figures"]["events"]["save"] for i in data["instances"])
    assert site["latency"]["save"]["count"] == sum(i["figures"]["latency"]["save"]["count"] for i in data["instances"])
    assert data["site"]["series"] and data["redis"]["used_memory"] > 0


def test_an_instance_that_stops_publishing_drops_off_after_the_time_to_live(client, redis_url, staff_member, settings):
    publish_as("gone", times=1)
    get_redis().delete(ops.ops_key(ops.worker_name("gone")))  # what the EX does after 30 s
    client.force_login(staff_member)
    names = [instance["instance"] for instance in client.get("/ops/data.json").json()["instances"]]
    assert "gone" not in names


def test_publishing_is_throttled_to_one_round_trip_per_interval(client, redis_url, db, settings, fresh_figures):
    settings.OPS_PUBLISH_INTERVAL = 60
    get_redis().ping()  # connect first: a new connection's handshake is round trips of its own
    before = process_round_trips()
    client.get("/healthz")  # nobody published yet: this one does
    assert process_round_trips() - before == 1
    before = process_round_trips()
    for _ in range(20):
        client.get("/healthz")
    assert process_round_trips() - before == 0
    name = ops.worker_name(client.get("/healthz")["X-Served-By"])
    assert 0 < get_redis().ttl(ops.ops_key(name)) <= ops.time_to_live()


def test_the_publish_is_not_counted_as_the_requests_own_round_trips(client, redis_url, db, fresh_figures):
    get_redis().ping()
    with count_round_trips() as counter:
        client.get("/healthz")  # publishes: the first request since the figures were reset
    assert counter.round_trips == 0
    assert get_redis().exists(ops.ops_key(ops.worker_name(client.get("/healthz")["X-Served-By"])))


def test_rates_are_worked_out_between_samples_and_a_restart_leaves_a_gap():
    history = [
        {"t": 100.0, "requests": 10, "hits": 5, "misses": 5, "used_memory": 1},
        {"t": 105.0, "requests": 20, "hits": 9, "misses": 6, "used_memory": 2},
        {"t": 110.0, "requests": 3, "hits": 1, "misses": 0, "used_memory": 3},  # restarted
    ]
    [point] = ops.rate_series(history)
    assert point["requests_per_sec"] == 2.0 and point["hit_rate"] == 0.8 and point["used_memory"] == 2


@pytest.mark.parametrize("path", ["/ops/", "/ops/data.json"])
def test_ops_is_for_staff_only(client, redis_url, customer, path):
    anonymous = client.get(path)
    assert anonymous.status_code in (302, 403)
    client.force_login(customer)
    assert client.get(path).status_code == 403


def test_the_ops_page_loads_its_script_and_styles_from_static_files_without_inline_code(
    client, redis_url, staff_member
):
    client.force_login(staff_member)
    html = client.get("/ops/").content.decode()
    assert 'src="/static/observability/ops.js"' in html and "observability/ops.css" in html
    assert "<script>" not in html and " style=" not in html and "onclick" not in html
    assert 'data-source="/ops/data.json"' in html


def test_figures_are_published_read_and_sampled_on_single_redis_and_cluster(any_redis, fresh_figures, settings):
    from observability.metrics import read_redis_info

    publish_as("instance-a", times=2)
    publish_as("instance-b", times=1)
    assert {instance["instance"] for instance in ops.read_instances()} == {"instance-a", "instance-b"}
    sample = read_redis_info()
    assert "error" not in sample and sample["used_memory"] > 0
    assert sample["nodes"] == (3 if settings.REDIS_CLUSTER else 1)
