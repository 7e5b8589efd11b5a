"""Fixtures for the observability tests: in-memory OpenTelemetry exporters, a staff member,
and this process's figures started from zero."""

from __future__ import annotations

import pytest

from observability import metrics, ops, telemetry
from sessionkeeper import stats


@pytest.fixture(scope="session")
def otel_exporters():
    """The SDK's in-memory span exporter and metric reader, installed once for the run.

    OpenTelemetry's global providers can be set once per process; the instrumentation
    itself is switched on and off per test by ``instrumented``.
    """
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    assert telemetry.configure_telemetry(span_exporter=spans, metric_reader=reader) == "custom"
    telemetry.uninstrument()  # on only inside tests that ask for it
    return spans, reader


@pytest.fixture
def instrumented(otel_exporters, redis_url):
    spans, reader = otel_exporters
    telemetry.instrument(django=True)
    reader.get_metrics_data()  # collected once, so the test's own figures are easy to tell apart
    spans.clear()
    yield spans, reader
    telemetry.uninstrument()
    spans.clear()


@pytest.fixture
def fresh_figures(settings):
    """This process's session, request and ops figures from zero; publishing on every request."""
    stats.reset()
    metrics.requests.reset()
    metrics.redis_info.forget()
    ops.publisher.reset()
    yield
    ops.publisher.reset()


@pytest.fixture
def staff_member(db, django_user_model):
    return django_user_model.objects.create_user("operator", "operator@example.com", "a long passphrase", is_staff=True)


@pytest.fixture
def customer(db, django_user_model):
    return django_user_model.objects.create_user("customer", "customer@example.com", "a long passphrase")
