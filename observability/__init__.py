"""What the site shows about itself: traces and metrics (OpenTelemetry, Azure Monitor),
Prometheus text at /metrics, one JSON log line per request, and the /ops/ page."""
