"""The address of the client behind the load balancer, as far as it can be trusted.

Each proxy appends the address it received the request from to X-Forwarded-For,
so everything left of what our own proxies added is whatever the client chose to
send. With TRUSTED_PROXY_COUNT proxies in front (1: App Service's front end, or
the local nginx), the client is the entry that many places from the right. Login
throttling keys on this address: reading the leftmost entry would let a guesser
pick a new address for every attempt.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
