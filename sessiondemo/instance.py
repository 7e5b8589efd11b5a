"""Which instance served a request: App Service's WEBSITE_INSTANCE_ID, else host:port and pid."""

from __future__ import annotations

import os
import socket

from django.conf import settings
from django.http import HttpRequest

_HOSTNAME = socket.gethostname()


def instance_name(request: HttpRequest | None = None) -> str:
    if settings.INSTANCE_ID:
        return settings.INSTANCE_ID
    # gunicorn and runserver put the port they listen on in SERVER_PORT.
    port = request.META.get("SERVER_PORT", "") if request is not None else ""
    return f"{_HOSTNAME}:{port} pid {os.getpid()}" if port else f"{_HOSTNAME} pid {os.getpid()}"
