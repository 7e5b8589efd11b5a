"""/metrics: Prometheus text with the session and Redis figures, for the token or a staff member only."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "a-scraper-token-for-tests"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def families(response) -> dict:
    assert response["Content-Type"].startswith("text/plain; version=")
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def sample_value(family, name: str, **labels) -> float:
    return next(
        s.value for s in family.samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_metrics_without_a_token_is_refused_with_401_and_a_bearer_challenge(client, redis_url, metrics_token, db):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"sessiondemo_" not in response.content


def test_metrics_with_a_wrong_token_is_refused_with_403(client, redis_url, metrics_token, db):
    for wrong in (TOKEN + "x", TOKEN[:-1], "Bearer", ""):
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {wrong}")
        assert response.status_code in (401, 403), wrong
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 403


def test_no_token_is_accepted_when_none_is_configured(client, redis_url, settings, db):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 403


def test_metrics_with_the_token_parse_as_prometheus_text_with_the_session_figures(
    client, api, metrics_token, fresh_figures
):
    assert api.send("POST", "/api/cart/items", {"sku": "TEA-001"}).status_code == 200
    assert api.get("/api/cart").status_code == 200

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    found = families(response)
    events = found["sessiondemo_session_events"]
    assert sample_value(events, "sessiondemo_session_events_total", event="create") == 1
    assert sample_value(events, "sessiondemo_session_events_total", event="hit") >= 1
    assert {s.labels["event"] for s in events.samples} >= {"load", "save", "delete", "miss", "expired", "conflict"}
    latency = found["sessiondemo_session_duration_seconds"]
    assert sample_value(latency, "sessiondemo_session_duration_seconds_count", operation="save") >= 1
    assert sample_value(latency, "sessiondemo_session_duration_seconds_bucket", operation="load", le="+Inf") >= 1
    assert found["sessiondemo_session_bytes"].samples[0].value >= 0
    assert found["sessiondemo_session_compression_ratio"].samples[0].value > 0
    assert found["sessiondemo_requests"].samples[0].value >= 2
    assert "sessiondemo_session_redis_errors" in found
    # Sampled from Redis INFO.
    assert found["sessiondemo_redis_up"].samples[0].value == 1
    assert found["sessiondemo_redis_used_memory_bytes"].samples[0].value > 0
    assert found["sessiondemo_redis_connected_clients"].samples[0].value >= 1
    assert 0 <= found["sessiondemo_redis_keyspace_hit_ratio"].samples[0].value <= 1
    for name in ("sessiondemo_redis_evicted_keys", "sessiondemo_redis_ops_per_second"):
        assert name in found


def test_a_staff_member_may_read_metrics_and_a_customer_may_not(client, redis_url, staff_member, customer):
    client.force_login(customer)
    assert client.get("/metrics").status_code == 403
    client.force_login(staff_member)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "sessiondemo_session_events" in families(response)


def test_metrics_say_so_when_redis_is_down_instead_of_failing(client, redis_url, metrics_token, settings, db):
    from observability import metrics

    metrics.redis_info.forget()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert families(response)["sessiondemo_redis_up"].samples[0].value == 0
    metrics.redis_info.forget()


def test_site_scope_reports_the_sites_cumulative_totals_and_counts_instances_and_workers(
    client, api, metrics_token, fresh_figures
):
    from observability import ops
    from sessiondemo.redis_client import get_redis

    assert api.send("POST", "/api/cart/items", {"sku": "TEA-001"}).status_code == 200
    for name in ("instance-a", "instance-b"):
        ops.Publisher().publish(name)  # two instances whose figures are this process's
    own = families(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))
    site = families(client.get("/metrics?scope=site", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))

    creations = lambda found: sample_value(  # noqa: E731
        found["sessiondemo_session_events"], "sessiondemo_session_events_total", event="create"
    )
    requests_total = lambda found: found["sessiondemo_requests"].samples[0].value  # noqa: E731
    assert site["sessiondemo_instances"].samples[0].value == 3  # a, b, and the test server that answered
    assert site["sessiondemo_workers"].samples[0].value == 3
    assert creations(site) >= 2 * creations(own) > 0
    assert site["sessiondemo_redis_used_memory_bytes"].samples[0].value > 0

    # instance-b stops; once its figures expire it is no longer counted, but what it counted stays.
    get_redis().delete(ops.ops_key(ops.worker_name("instance-b")))
    later = families(client.get("/metrics?scope=site", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))
    assert later["sessiondemo_instances"].samples[0].value == 2
    assert creations(later) >= creations(site)
    assert requests_total(later) >= requests_total(site)
