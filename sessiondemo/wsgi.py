"""WSGI entry point, sessiondemo.wsgi:application, served by gunicorn (or waitress under IIS)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sessiondemo.settings")

application = get_wsgi_application()
