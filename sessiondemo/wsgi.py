"""WSGI entry point, sessiondemo.wsgi:application, served by gunicorn (or waitress under IIS)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sessiondemo.settings")

application = get_wsgi_application()

from sessiondemo.observability.telemetry import configure_telemetry  # noqa: E402 - needs Django set up first

# Under gunicorn, post_fork (gunicorn.conf.py) has done this already; waitress and others get it here.
configure_telemetry()

from sessiondemo.redis_client import report_redis_at_start_up  # noqa: E402

report_redis_at_start_up()
