"""One JSON line per request: who served it, how long it took, how often it waited on Redis."""

from __future__ import annotations

import hashlib
import json
import logging

from django.conf import settings as django_settings

from observability.logging import JsonFormatter


def request_lines(caplog) -> list[dict]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records if record.name == "sessiondemo.request"]


def test_each_request_is_one_json_line_with_the_fields_log_analytics_needs(api, caplog):
    caplog.set_level(logging.INFO, logger="sessiondemo.request")
    response = api.send("POST", "/api/cart/items", {"sku": "TEA-001"})
    assert response.status_code == 200

    line = request_lines(caplog)[-1]
    assert set(line) >= {
        "time",
        "level",
        "instance",
        "request_id",
        "method",
        "path",
        "status",
        "latency_ms",
        "redis_round_trips",
        "user_id",
        "session_hash",
    }
    assert (line["method"], line["path"], line["status"], line["level"]) == ("POST", "/api/cart/items", 200, "INFO")
    assert line["instance"] == response["X-Served-By"]
    assert line["request_id"] == response["X-Request-ID"]
    assert line["redis_round_trips"] >= 1 and line["latency_ms"] > 0
    assert line["time"].endswith("+00:00")


def test_the_log_names_the_session_by_a_hash_prefix_never_by_its_key(api, caplog):
    caplog.set_level(logging.INFO, logger="sessiondemo.request")
    api.send("POST", "/api/cart/items", {"sku": "TEA-001"})
    session_key = api.client.cookies[django_settings.SESSION_COOKIE_NAME].value

    line = request_lines(caplog)[-1]
    assert line["session_hash"] == hashlib.sha256(session_key.encode()).hexdigest()[:12]
    assert session_key not in json.dumps(request_lines(caplog))


def test_a_callers_request_id_is_kept_and_a_hostile_one_replaced(client, redis_url, db, caplog):
    caplog.set_level(logging.INFO, logger="sessiondemo.request")
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID='"}\n{"forged": 1')["X-Request-ID"]
    assert len(replaced) == 32 and "forged" not in replaced
    assert [line["request_id"] for line in request_lines(caplog)] == ["abc-123", replaced]


def test_a_signed_in_users_id_is_logged_and_a_request_without_session_costs_no_round_trip(
    client, redis_url, customer, caplog
):
    caplog.set_level(logging.INFO, logger="sessiondemo.request")
    client.get("/healthz")
    client.force_login(customer)
    client.get("/api/cart")
    first, second = request_lines(caplog)
    assert first["redis_round_trips"] == 0 and first["session_hash"] is None and first["user_id"] is None
    assert second["user_id"] == str(customer.pk) and second["redis_round_trips"] >= 1


def test_server_errors_are_logged_at_warning(client, redis_url, db, settings, caplog):
    caplog.set_level(logging.INFO, logger="sessiondemo.request")
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # the session store is down
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    response = client.get("/cart/")
    assert response.status_code == 503
    assert request_lines(caplog)[-1]["level"] == "WARNING"


def test_the_json_formatter_keeps_extras_and_exceptions_on_one_line():
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x",
            logging.WARNING,
            __file__,
            1,
            "Redis failed: %s",
            ("timeout",),
            __import__("sys").exc_info(),
            extra={"kind": "timeout"},
        )
    text = JsonFormatter().format(record)
    assert "\n" not in text
    entry = json.loads(text)
    assert (entry["message"], entry["kind"], entry["level"]) == ("Redis failed: timeout", "timeout", "WARNING")
    assert "ValueError: broken" in entry["exception"]


def test_every_log_record_goes_to_stdout_as_json():
    console = django_settings.LOGGING["handlers"]["console"]
    assert console["stream"] == "ext://sys.stdout"
    assert django_settings.LOGGING["formatters"][console["formatter"]]["()"].endswith("JsonFormatter")
