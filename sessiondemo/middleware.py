"""Project-wide middleware."""

from __future__ import annotations

import base64
import hashlib
import html
import re

from django.conf import settings

from sessiondemo.instance import instance_name


class ServedByMiddleware:
    """Stamp every response with the instance that served it (X-Served-By)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.served_by = instance_name(request)
        response = self.get_response(request)
        response["X-Served-By"] = request.served_by
        return response


# No inline script or style anywhere in the site, so none is allowed: an injected
# <script> or style attribute does nothing.
POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def policy_text(policy: dict[str, list[str]]) -> str:
    return "; ".join(f"{directive} {' '.join(sources)}" for directive, sources in policy.items())


CONTENT_SECURITY_POLICY = policy_text(POLICY)

# Django's technical 404 and 500 pages (DEBUG only) carry this tag, and inline styles and scripts.
DJANGO_DEBUG_PAGE_MARK = b'<meta name="robots" content="NONE,NOARCHIVE">'
INLINE_BLOCK = re.compile(rb"<(style|script)\b[^>]*>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
INLINE_HANDLER = re.compile(rb'\son[a-z]+="([^"]*)"', re.IGNORECASE)


def source_hash(text: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode() + "'"


def debug_page_policy(body: bytes) -> str:
    """The site's policy plus the hashes of exactly the inline code this debug page carries.

    Hashes rather than 'unsafe-inline': only the blocks Django wrote run, and the policy the
    browser sees still names every exception. Event handlers need 'unsafe-hashes' as well.
    """
    policy = {directive: list(sources) for directive, sources in POLICY.items()}
    for tag, content in INLINE_BLOCK.findall(body):
        if content.strip():
            policy[f"{tag.decode().lower()}-src"].append(source_hash(content))
    handlers = {source_hash(html.unescape(value.decode()).encode()) for value in INLINE_HANDLER.findall(body)}
    if handlers:
        policy["script-src"] += ["'unsafe-hashes'", *sorted(handlers)]
    return policy_text({directive: list(dict.fromkeys(sources)) for directive, sources in policy.items()})


def is_django_debug_page(response) -> bool:
    return (
        not response.streaming
        and response.get("Content-Type", "").startswith("text/html")
        and DJANGO_DEBUG_PAGE_MARK in response.content[:2048]
    )


class ContentSecurityPolicyMiddleware:
    """Send the site's Content-Security-Policy (Django 5.2 has none built in).

    With DEBUG on, Django's own debug pages get their inline styles and scripts allowed by
    hash, so that a newcomer's first 404 is readable; production never relaxes anything.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and "Content-Security-Policy" not in response and is_django_debug_page(response):
            response["Content-Security-Policy"] = debug_page_policy(response.content)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
