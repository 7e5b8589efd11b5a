"""Telemetry: what a request and a session write produce, and how Azure Monitor is switched on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.trace import SpanKind

REPO = Path(__file__).resolve().parents[2]


def metric_points(reader) -> dict[str, list]:
    points: dict[str, list] = {}
    data = reader.get_metrics_data()
    for resource_metrics in data.resource_metrics if data else []:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                points.setdefault(metric.name, []).extend(metric.data.data_points)
    return points


def test_a_request_that_writes_the_session_is_one_server_span_with_redis_spans_inside(instrumented, api):
    spans, _ = instrumented
    response = api.send("POST", "/api/cart/items", {"sku": "TEA-001"})
    assert response.status_code == 200

    finished = spans.get_finished_spans()
    servers = [span for span in finished if span.kind == SpanKind.SERVER and span.name.startswith("POST")]
    assert len(servers) == 1, [span.name for span in finished]
    server = servers[0]
    assert server.attributes.get("http.route", "").endswith("cart/items")
    assert server.attributes.get("http.response.status_code", server.attributes.get("http.status_code")) == 200
    inside = [span for span in finished if span.parent and span.parent.span_id == server.context.span_id]
    assert inside, "the session load and write should be traced as Redis commands inside the request"
    assert all(span.attributes["db.system"] == "redis" and span.kind == SpanKind.CLIENT for span in inside)
    assert {span.name for span in inside} & {"EVALSHA", "EVAL", "HSET", "SET"}


def test_a_session_write_feeds_the_session_instruments(instrumented, api):
    _, reader = instrumented
    assert api.send("POST", "/api/cart/items", {"sku": "TEA-001"}).status_code == 200
    assert api.get("/api/cart").status_code == 200

    points = metric_points(reader)
    assert sum(point.value for point in points["sessiondemo.session.creations"]) >= 1
    assert sum(point.value for point in points["sessiondemo.session.loads"]) >= 1
    durations = {point.attributes["operation"]: point for point in points["sessiondemo.session.duration"]}
    assert durations["save"].count >= 1 and durations["load"].count >= 1
    assert list(durations["save"].explicit_bounds)[:3] == [0.0005, 0.001, 0.0025]
    assert sum(point.count for point in points["sessiondemo.session.size"]) >= 1
    request_durations = points.get("http.server.request.duration") or points.get("http.server.duration")
    assert request_durations and sum(point.count for point in request_durations) >= 2
    # Sampled from Redis itself at collection time.
    assert points["sessiondemo.redis.used_memory"][0].value > 0


def run_python(code: str, **environment: str) -> dict:
    """Run ``code`` in a fresh interpreter (telemetry is set up once per process) and read its JSON answer."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sessiondemo.settings",
        "SECRET_KEY": "tests-only-not-a-secret",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        # No traffic to Microsoft's control plane or statistics endpoints from a test.
        "APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED": "true",
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        "APPLICATIONINSIGHTS_SDKSTATS_DISABLED": "true",
        **environment,
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # Log lines are JSON on stdout too; the answer is the line that says so.
    answers = [line.removeprefix("ANSWER ") for line in result.stdout.splitlines() if line.startswith("ANSWER ")]
    assert answers, result.stdout + result.stderr
    return json.loads(answers[-1])


def test_without_a_connection_string_nothing_is_set_up_or_even_imported():
    answer = run_python(
        "import json, sys\n"
        "from observability.telemetry import configure_telemetry\n"
        "from opentelemetry import trace\n"
        "exporter = configure_telemetry()\n"
        "print('ANSWER', json.dumps({'exporter': exporter,\n"
        "    'provider': type(trace.get_tracer_provider()).__name__,\n"
        "    'distro_loaded': 'azure.monitor.opentelemetry' in sys.modules}))\n",
        APPLICATIONINSIGHTS_CONNECTION_STRING="",
    )
    assert answer == {"exporter": "none", "provider": "ProxyTracerProvider", "distro_loaded": False}


CONFIGURE_TWICE_AND_FORK = """
import json, os
import azure.monitor.opentelemetry as distro
calls = []
real = distro.configure_azure_monitor
def counting(**options):
    calls.append(sorted(options))
    return real(**options)
distro.configure_azure_monitor = counting

from opentelemetry import trace
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from observability.telemetry import configure_telemetry

options = dict(enable_live_metrics=False, disable_offline_storage=True)
first, second = configure_telemetry(**options), configure_telemetry(**options)
reader, writer = os.pipe()
child = os.fork()
if child == 0:  # a gunicorn worker: post_fork calls configure_telemetry again
    os.write(writer, json.dumps({"exporter": configure_telemetry(**options), "calls": len(calls)}).encode())
    os._exit(0)
os.waitpid(child, 0)
in_child = json.loads(os.read(reader, 1000))

import logging, django
django.setup()  # what wsgi.py does after post_fork: Django's logging set-up runs now
security_handlers = [type(h).__name__ for h in logging.getLogger("django.security").handlers]
exported = [h for h in logging.getLogger("sessiondemo").handlers if type(h).__name__ == "LoggingHandler"]
line = logging.LogRecord("sessiondemo.request", logging.INFO, "x.py", 1, "GET / 200", None, None)
failure = logging.LogRecord("sessiondemo.request", logging.WARNING, "x.py", 1, "GET / 503", None, None)
print("ANSWER", json.dumps({
    "first": first, "second": second, "calls": len(calls), "in_child": in_child,
    "provider": type(trace.get_tracer_provider()).__module__ + "." + type(trace.get_tracer_provider()).__name__,
    "django": DjangoInstrumentor().is_instrumented_by_opentelemetry,
    "redis": RedisInstrumentor().is_instrumented_by_opentelemetry,
    "connection_string": "connection_string" in calls[0],
    "security_exported": "LoggingHandler" in security_handlers,
    "request_lines_exported": [bool(exported[0].filter(line)), bool(exported[0].filter(failure))],
}))
"""


def test_a_connection_string_turns_azure_monitor_on_once_per_process_without_code_changes():
    answer = run_python(
        CONFIGURE_TWICE_AND_FORK,
        APPLICATIONINSIGHTS_CONNECTION_STRING=(
            "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:1/"
        ),
    )
    assert answer["first"] == answer["second"] == "azure_monitor"
    assert answer["calls"] == 1 and answer["connection_string"]
    assert answer["in_child"] == {"exporter": "azure_monitor", "calls": 1}
    assert answer["provider"] == "opentelemetry.sdk.trace.TracerProvider"
    assert answer["django"] and answer["redis"]
    assert answer["security_exported"]
    assert answer["request_lines_exported"] == [False, True]  # only 5xx lines, requests are recorded anyway


@pytest.mark.parametrize("entry_point", ["gunicorn.conf.py"])
def test_gunicorn_configures_telemetry_in_each_worker_after_the_fork(entry_point):
    source = (REPO / entry_point).read_text()
    assert "preload_app = False" in source
    assert "def post_fork(server, worker):" in source and "configure_telemetry()" in source
