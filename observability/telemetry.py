"""OpenTelemetry set-up: Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING is set,
nothing at all when it is not.

Call ``configure_telemetry()`` once in each serving process, after any fork and before
``get_wsgi_application()`` (the Django instrumentation adds its middleware then): gunicorn's
``post_fork`` hook in gunicorn.conf.py does it for gunicorn workers, and sessiondemo/wsgi.py
does it for every other server. A second call in the same process does nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger("observability")

# The distro instruments Django, psycopg, requests, urllib and the Azure SDK itself, but
# not Redis: opentelemetry-instrumentation-redis adds the Redis spans.
AZURE_MONITOR_OPTIONS = {
    "logger_name": "sessiondemo",
}
# Security events (suspicious session data, CSRF failures) go to Application Insights as well.
EXPORTED_SECURITY_LOGGER = "django.security"


class SkipRequestLines(logging.Filter):
    """Application Insights records every request already: only the request lines at warning
    (5xx answers) go there too, so the log export does not double the ingestion bill."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != "sessiondemo.request" or record.levelno >= logging.WARNING


@dataclass
class TelemetryState:
    """What ``configure_telemetry`` did in this process (pid guards against inherited state)."""

    pid: int | None = None
    exporter: str = "none"  # "none", "azure_monitor" or "custom"


_state = TelemetryState()
_lock = threading.Lock()


def configure_telemetry(*, span_exporter=None, metric_reader=None, **azure_options) -> str:
    """Set up tracing and metrics export for this process, once; return which exporter runs.

    With ``span_exporter`` or ``metric_reader`` (tests: the SDK's in-memory ones) they are
    used instead of Azure Monitor. ``azure_options`` go to ``configure_azure_monitor``.
    """
    with _lock:
        if _state.pid is not None:
            if _state.pid != os.getpid():
                # Configured before a fork (gunicorn --preload). OpenTelemetry's global providers
                # cannot be replaced; the SDK restarts its export threads in the child itself.
                logger.debug("Telemetry was configured in parent process %s; keeping it.", _state.pid)
            return _state.exporter
        if span_exporter is not None or metric_reader is not None:
            _configure_custom(span_exporter, metric_reader)
            exporter = "custom"
        elif settings.APPLICATIONINSIGHTS_CONNECTION_STRING:
            _configure_azure_monitor(**azure_options)
            exporter = "azure_monitor"
        else:
            # Nothing is installed: the OpenTelemetry API stays on its no-op providers.
            exporter = "none"
        _state.pid = os.getpid()
        _state.exporter = exporter
    connect_log_export()  # for a process whose Django is already set up
    return exporter


def _configure_azure_monitor(**azure_options) -> None:
    # Imported here: the distro is heavy, and a process without a connection string never needs it.
    from azure.monitor.opentelemetry import configure_azure_monitor

    options = {**AZURE_MONITOR_OPTIONS, **azure_options}
    configure_azure_monitor(connection_string=settings.APPLICATIONINSIGHTS_CONNECTION_STRING, **options)
    instrument(django=False)  # the distro has instrumented Django already
    for handler in _log_export_handlers():
        handler.addFilter(SkipRequestLines())
    logger.info("Azure Monitor export is on for process %s.", os.getpid())


def _log_export_handlers() -> list[logging.Handler]:
    exported = logging.getLogger(AZURE_MONITOR_OPTIONS["logger_name"])
    return [handler for handler in exported.handlers if type(handler).__name__ == "LoggingHandler"]


def connect_log_export() -> None:
    """Export the security loggers' records too, when Azure Monitor is on.

    Called from the app's ready(): Django's logging set-up, which runs after post_fork,
    replaces the handlers of the loggers named in LOGGING, django.security among them.
    """
    if _state.exporter != "azure_monitor" or _state.pid != os.getpid():
        return
    security = logging.getLogger(EXPORTED_SECURITY_LOGGER)
    for handler in _log_export_handlers():
        if handler not in security.handlers:
            security.addHandler(handler)


def _configure_custom(span_exporter, metric_reader) -> None:
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    tracer_provider = TracerProvider()
    if span_exporter is not None:
        tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    trace.set_tracer_provider(tracer_provider)
    meter_provider = MeterProvider(metric_readers=[metric_reader] if metric_reader is not None else [])
    metrics.set_meter_provider(meter_provider)
    instrument(django=True)


def instrument(*, django: bool) -> None:
    """Trace Redis commands (and Django requests when ``django``) with the global providers."""
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    if not RedisInstrumentor().is_instrumented_by_opentelemetry:
        RedisInstrumentor().instrument()
    if django:
        from opentelemetry.instrumentation.django import DjangoInstrumentor

        if not DjangoInstrumentor().is_instrumented_by_opentelemetry:
            DjangoInstrumentor().instrument()


def uninstrument() -> None:
    """Take the Django and Redis instrumentation out again (tests; the providers stay set)."""
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    for instrumentor in (DjangoInstrumentor(), RedisInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
