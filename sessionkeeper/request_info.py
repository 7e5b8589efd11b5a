"""Defaults for what the middleware records about a request: the serving instance, the client's address."""

from __future__ import annotations

import os
import socket

from django.http import HttpRequest

_HOSTNAME = socket.gethostname()


def instance_name(request: HttpRequest) -> str:
    return f"{_HOSTNAME} pid {os.getpid()}"


def remote_address(request: HttpRequest) -> str:
    """The socket's peer. Behind a proxy, hand the engine a CLIENT_ADDRESS that reads X-Forwarded-For."""
    return request.META.get("REMOTE_ADDR", "")
