from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"
    label = "observability"
    verbose_name = "Observability"

    def ready(self):
        # Feed the session engine's figures into OpenTelemetry instruments. With no
        # SDK configured the instruments are no-ops, so this costs nothing.
        from observability import metrics, telemetry

        metrics.connect_session_figures()
        telemetry.connect_log_export()
