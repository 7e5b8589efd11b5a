"""Failure drills on the running cluster: instances and Redis fail, the shopper's session and cart must not.

Each drill restores what it broke before it ends, so the drills share one cluster.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.devtools.scaleout.conftest import METRICS_TOKEN
from tests.fixtures.site_client import SiteClient, new_username

pytestmark = pytest.mark.slow

RESUME_WITHIN_SECONDS = 5.0


def signed_in_shopper_with_a_cart(make_shopper, items: int = 3) -> tuple[SiteClient, dict[str, int]]:
    shopper = make_shopper()
    shopper.sign_up(new_username("drill"))
    skus = shopper.skus()
    for index in range(items):
        assert shopper.add(skus[index % len(skus)]).status_code == 200
    return shopper, shopper.quantities()


def test_killing_an_instance_mid_session_loses_nothing(cluster, make_shopper):
    shopper, quantities = signed_in_shopper_with_a_cart(make_shopper)
    sku = next(iter(quantities))
    killed = 2
    cluster.kill_instance(killed)
    try:
        shopper.served_by.clear()
        more = 12
        for _ in range(more):
            response = shopper.add(sku)
            assert response.status_code == 200, response.text
        assert shopper.session()["username"] is not None
        assert shopper.quantities()[sku] == quantities[sku] + more
        assert cluster.instance_names[killed - 1] not in shopper.served_by
        assert len(shopper.served_by) == 2, f"The two live instances should share the work: {shopper.served_by}"
    finally:
        cluster.restart_instance(killed)
    # Back in the rotation once nginx's fail_timeout (2 s) has passed.
    deadline = time.monotonic() + 10
    while cluster.instance_names[killed - 1] not in shopper.served_by and time.monotonic() < deadline:
        shopper.session()
        time.sleep(0.1)
    assert cluster.instance_names[killed - 1] in shopper.served_by


def test_restarting_redis_keeps_sessions_and_carts(cluster, cluster_redis, make_shopper):
    shopper, quantities = signed_in_shopper_with_a_cart(make_shopper)
    username = shopper.session()["username"]
    time.sleep(1.1)  # appendfsync everysec; a clean shutdown flushes anyway
    cluster_redis.restart()
    state = shopper.session()
    assert state["authenticated"] and state["username"] == username
    assert shopper.quantities() == quantities


def test_stopping_redis_answers_503_keeps_the_cookie_and_resumes_within_5_seconds(cluster, cluster_redis, make_shopper):
    shopper, quantities = signed_in_shopper_with_a_cart(make_shopper)
    username = shopper.session()["username"]
    cookie_before = shopper.session_cookie
    cluster_redis.stop()
    try:
        page = shopper.request("GET", "/cart/")
        assert page.status_code == 503, page.text[:500]
        assert page.headers.get("Retry-After")
        assert "text/html" in page.headers.get("Content-Type", "")
        api = shopper.request("GET", "/api/cart")
        assert api.status_code == 503 and "error" in api.json()
        assert shopper.add(next(iter(quantities))).status_code == 503
        ready = shopper.request("GET", "/readyz")
        assert ready.status_code == 503 and "redis" in ready.json()["failed"]
        assert shopper.request("GET", "/healthz").status_code == 200
        assert shopper.session_cookie == cookie_before, "The session cookie was dropped or replaced during the outage."
    finally:
        cluster_redis.start()
    restarted = time.monotonic()
    while True:
        answer = shopper.request("GET", "/api/session")
        if answer.status_code == 200:
            break
        assert time.monotonic() - restarted < RESUME_WITHIN_SECONDS, (
            f"Still {answer.status_code} after Redis came back."
        )
        time.sleep(0.1)
    assert answer.json()["username"] == username
    assert shopper.quantities() == quantities
    assert time.monotonic() - restarted < RESUME_WITHIN_SECONDS
    assert shopper.session_cookie == cookie_before
    assert shopper.request("GET", "/readyz").status_code == 200


def reported_evictions(shopper: SiteClient, within_seconds: float = 5.0) -> float:
    """sessiondemo_redis_evicted_keys from /metrics, once it is above zero or the time is up (INFO is sampled)."""
    deadline = time.monotonic() + within_seconds
    while True:
        figures = shopper.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert figures.status_code == 200, figures.text[:300]
        values = [
            float(line.rsplit(" ", 1)[-1])
            for line in figures.text.splitlines()
            if line.startswith("sessiondemo_redis_evicted_keys")
        ]
        assert values, "/metrics has no sessiondemo_redis_evicted_keys figure."
        if max(values) > 0 or time.monotonic() > deadline:
            return max(values)
        time.sleep(0.5)


def test_redis_at_maxmemory_evicts_and_the_site_keeps_serving(cluster, cluster_redis, make_shopper):
    redis = cluster_redis.client()
    shoppers = [signed_in_shopper_with_a_cart(make_shopper, items=1)[0] for _ in range(4)]
    evicted_before = redis.info("stats")["evicted_keys"]
    used = redis.info("memory")["used_memory"]
    filler = b"x" * 8192
    redis.config_set("maxmemory-policy", "allkeys-lru")
    redis.config_set("maxmemory", str(used + 2 * 1024 * 1024))
    try:
        # Write three times the headroom, so the least recently used keys (the sessions) must go.
        for batch in range(24):
            with redis.pipeline(transaction=False) as pipe:
                for index in range(32):
                    pipe.set(f"scaleout-drill:filler:{batch}:{index}", filler)
                pipe.execute()
        evicted = redis.info("stats")["evicted_keys"] - evicted_before
        assert evicted > 0
        states = []
        for shopper in shoppers:
            answer = shopper.request("GET", "/api/session")
            assert answer.status_code == 200, answer.text
            states.append(answer.json()["authenticated"])
            assert shopper.request("GET", "/").status_code == 200
        assert not all(states), "No session was evicted, though Redis evicted keys."
        assert reported_evictions(shoppers[0]) > 0, "The site's /metrics do not show Redis's evictions."
    finally:
        redis.config_set("maxmemory", "0")
        for key in redis.scan_iter("scaleout-drill:filler:*", count=1000):
            redis.delete(key)
    fresh = make_shopper()
    fresh.sign_up(new_username("after-eviction"))
    assert fresh.add(fresh.skus()[0]).status_code == 200


def test_concurrent_adds_from_one_session_through_every_instance_are_exact(cluster, make_shopper):
    shopper = make_shopper()
    # A cart line holds at most 99, so the 200 adds are spread over four products.
    skus = shopper.skus()[:4]
    assert shopper.add(skus[0]).status_code == 200  # the session now exists
    headers = {
        "Cookie": shopper.cookie_header(),
        "X-CSRFToken": shopper.csrf_token,
        "Referer": f"{cluster.url}/",
        "Content-Type": "application/json",
    }
    adds = 200
    connections = threading.local()

    def add_one(number: int) -> tuple[int, str]:
        if not hasattr(connections, "http"):
            connections.http = requests.Session()
        response = connections.http.post(
            f"{cluster.url}/api/cart/items",
            json={"sku": skus[number % len(skus)], "quantity": 1},
            headers=headers,
            verify=str(cluster.certificate.authority),
            timeout=30,
        )
        return response.status_code, response.headers.get("X-Served-By", "")

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(add_one, range(adds), timeout=120))
    statuses = [status for status, _ in results]
    assert statuses.count(200) == adds, f"Not every add succeeded: {sorted(set(statuses))}"
    assert {served_by for _, served_by in results} == set(cluster.instance_names)
    expected = {sku: adds // len(skus) for sku in skus}
    expected[skus[0]] += 1
    assert shopper.quantities() == expected
