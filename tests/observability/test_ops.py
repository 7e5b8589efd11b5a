"""/ops/ and its data: every instance's published figures, the whole site's, for staff only."""

from __future__ import annotations

import time

import pytest

from observability import metrics, ops
from sessiondemo import redis_client
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


def test_ops_data_groups_workers_by_instance_and_adds_them_up(client, api, staff_member, fresh_figures):
    traffic = lambda: api.send("POST", "/api/cart/items", {"sku": "TEA-001"})  # noqa: E731
    publish_as("instance-a", traffic=traffic)
    publish_as("instance-b", traffic=traffic)
    client.force_login(staff_member)

    data = client.get("/ops/data.json").json()
    names = [instance["name"] for instance in data["instances"]]
    assert "instance-a" in names and "instance-b" in names
    assert len(names) == 3 == data["site"]["instances"]  # and the test server, which served the page
    assert data["site"]["workers"] == sum(len(instance["workers"]) for instance in data["instances"])
    assert sum(instance["current"] for instance in data["instances"]) == 1
    a = next(instance for instance in data["instances"] if instance["name"] == "instance-a")
    [worker] = a["workers"]
    assert worker["name"].startswith("instance-a pid ")
    assert len(worker["series"]) == 2 and worker["series"][-1]["requests_per_sec"] > 0
    assert a["figures"]["requests"]["total"] == worker["figures"]["requests"]["total"]
    site = data["site"]["figures"]
    workers = [worker for instance in data["instances"] for worker in instance["workers"]]
    # The test process published as every one of them: the totals hold each one's publications.
    assert site["requests"]["total"] >= max(w["figures"]["requests"]["total"] for w in workers) > 0
    assert site["events"]["save"] >= sum(w["figures"]["events"]["save"] for w in workers[:1]) > 0
    assert site["latency"]["save"]["count"] > 0
    assert data["site"]["series"] and data["redis"]["used_memory"] > 0
    assert "creations_per_sec" in data["site"]["series"][-1]


def test_workers_of_one_instance_count_as_one_instance():
    workers = [
        {"instance": "instance-1", "name": "instance-1 pid 10", "current": False, "published_at": 1.0},
        {"instance": "instance-1", "name": "instance-1 pid 11", "current": True, "published_at": 2.0},
        {"instance": "vm:8001 pid 12", "name": "vm:8001 pid 12", "current": False, "published_at": 3.0},
        {"instance": "vm:8001 pid 13", "name": "vm:8001 pid 13", "current": False, "published_at": 4.0},
    ]
    for worker in workers:
        worker["figures"], worker["series"] = ops.empty_figures(), []
    instances = ops.group_by_instance(workers, 5)
    assert [(i["name"], len(i["workers"]), i["current"]) for i in instances] == [
        ("instance-1", 2, True),
        ("vm:8001", 2, False),  # locally, without WEBSITE_INSTANCE_ID: host:port, without the pid
    ]
    assert instances[1]["published_at"] == 4.0


def site_requests() -> int:
    return ops.site_view()["figures"]["requests"]["total"]


def test_the_site_totals_never_go_back_when_a_worker_drops_off(redis_url, db, fresh_figures):
    a, b = ops.Publisher(), ops.Publisher()
    metrics.requests.record(200, 0.01)
    a.publish("instance-a")
    b.publish("instance-b")
    assert site_requests() == 2  # each publisher added this process's one request
    get_redis().delete(ops.ops_key(ops.worker_name("instance-b")))  # what the expiry does 30 s after it stops
    assert ops.site_view()["instances"] == 1
    assert site_requests() == 2, "The site's requests went back when an instance dropped off."


def test_each_publish_adds_only_what_grew_since_the_last(redis_url, db, fresh_figures):
    publisher = ops.Publisher()
    for _ in range(3):
        metrics.requests.record(500, 0.25)
        publisher.publish("instance-a")
    publisher.publish("instance-a")  # nothing new: nothing added
    figures = ops.site_view()["figures"]
    assert figures["requests"] == {"total": 3, "server_errors": 3, "seconds_total": pytest.approx(0.75)}


def test_a_restarted_process_adds_its_new_counts_to_the_totals_instead_of_lowering_them(redis_url, db, fresh_figures):
    publisher = ops.Publisher()
    for _ in range(5):
        metrics.requests.record(200, 0.01)
    publisher.publish("instance-a")
    metrics.requests.reset()  # the figures start again from zero, as in a new process
    metrics.requests.record(200, 0.01)
    publisher.publish("instance-a")
    assert site_requests() == 6


def test_a_failed_publish_keeps_its_growth_for_the_next(redis_url, db, fresh_figures, settings):
    publisher = ops.Publisher()
    metrics.requests.record(200, 0.01)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    redis_client.reset_client()
    assert publisher.publish("instance-a") is False
    settings.REDIS_URL = redis_url
    redis_client.reset_client()
    metrics.requests.record(200, 0.01)
    assert publisher.publish("instance-a") is True
    assert site_requests() == 2


def test_the_totals_keep_every_event_error_and_latency_bucket_as_counters():
    figures = ops.empty_figures()
    figures["events"]["save"] = 4
    figures["redis_errors"] = {"timeout": 2}
    figures["latency"] = {"save": {"count": 4, "sum": 0.02, "buckets": [1, 3] + [0] * 11}}
    figures["requests"] = {"total": 9, "server_errors": 1, "seconds_total": 0.5}
    figures["redis_round_trips"] = 12
    fields = ops.counter_fields(figures)
    back = ops.figures_from_totals({name: float(value) for name, value in fields.items()})
    for part in ("events", "redis_errors", "latency", "requests", "redis_round_trips"):
        assert back[part] == figures[part], part


def test_the_totals_hash_never_expires(redis_url, db, fresh_figures):
    metrics.requests.record(200, 0.01)
    ops.Publisher().publish("instance-a")
    assert get_redis().ttl(ops.totals_key()) == -1


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
        {"t": 100.0, "requests": 10, "hits": 5, "misses": 5, "creations": 1, "used_memory": 1},
        {"t": 105.0, "requests": 20, "hits": 9, "misses": 6, "creations": 6, "used_memory": 2},
        {"t": 110.0, "requests": 3, "hits": 1, "misses": 0, "creations": 0, "used_memory": 3},  # restarted
    ]
    [point] = ops.rate_series(history)
    assert point["requests_per_sec"] == 2.0 and point["hit_rate"] == 0.8 and point["used_memory"] == 2
    assert point["creations_per_sec"] == 1.0 and point["creations_refused_per_sec"] == 0


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
    assert {worker["instance"] for worker in ops.read_workers()} == {"instance-a", "instance-b"}
    assert ops.site_view()["figures"]["events"]["save"] >= 0
    sample = read_redis_info()
    assert "error" not in sample and sample["used_memory"] > 0
    assert sample["nodes"] == (3 if settings.REDIS_CLUSTER else 1)
