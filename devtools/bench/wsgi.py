"""The WSGI app gunicorn serves during the benchmark: the project's settings and middleware, the bench URLs."""

from __future__ import annotations

from django.conf import settings
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
# The handler reads ROOT_URLCONF on every request, so this takes effect for all of them.
settings.ROOT_URLCONF = "devtools.bench.urls"
