"""WSGI entry point, sessiondemo.wsgi:application, served by gunicorn (or waitress under IIS)."""

import logging
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sessiondemo.settings")

application = get_wsgi_application()

from observability.telemetry import configure_telemetry  # noqa: E402 - needs Django set up first

# Under gunicorn, post_fork (gunicorn.conf.py) has done this already; waitress and others get it here.
configure_telemetry()

from sessiondemo.redis_client import REDIS_FAILURES, get_redis, report_redis_at_start_up  # noqa: E402
from sessionkeeper.scripts import load_scripts_everywhere  # noqa: E402

if report_redis_at_start_up() is None:
    # Load the session scripts now, so the first requests don't pay the NOSCRIPT fallback.
    try:
        load_scripts_everywhere(get_redis())
    except REDIS_FAILURES as error:
        # Not fatal: each script call falls back to loading it on NOSCRIPT.
        logging.getLogger("sessiondemo.redis").warning("Could not preload the session scripts: %s", error)
