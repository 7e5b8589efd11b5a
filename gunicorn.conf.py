"""gunicorn settings read from the working directory: telemetry is set up in each worker.

OpenTelemetry's exporters run background threads, and threads do not survive a fork, so
Azure Monitor is configured after the fork, in every worker, never in the master.
"""

import os

# The app is loaded in each worker, after post_fork: nothing heavy runs in the master.
preload_app = False


def post_fork(server, worker):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sessiondemo.settings")
    from observability.telemetry import configure_telemetry

    exporter = configure_telemetry()
    server.log.info("Worker %s: telemetry export %s.", worker.pid, exporter)
