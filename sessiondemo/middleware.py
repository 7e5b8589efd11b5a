"""Project-wide middleware."""

from __future__ import annotations

import base64
import hashlib
import html
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.middleware import get_user
from django.utils.functional import SimpleLazyObject

from sessiondemo.instance import instance_name


class ServedByMiddleware:
    """Stamp every response with the instance that served it (X-Served-By)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-Served-By"] = instance_name(request)
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


# --- why a session ended, said on the next page -----------------------------------------

SIGNED_OUT_ELSEWHERE = "You were signed out on another device."
ENDED_BY = {
    "revoked": "You were signed out from another device.",
    "password": "You were signed out because your password was changed on another device.",
    "limit": "You were signed out here because your account is signed in on more devices than it may keep, "
    "and this one was the oldest.",
    "ended": "Your sign-in has ended; sign in again to see your cart.",
}


def ending_sentence(ending) -> str | None:  # type: ignore[no-untyped-def]
    """One line about a session's end (sessionkeeper.endings.Ending), or None when nothing worth saying was lost."""
    if ending.reason in ("idle", "absolute"):
        if not ending.signed_in and not ending.kept:
            return None  # a guest session that held nothing worth keeping
        if ending.reason == "idle":
            minutes = max(1, round(ending.idle_seconds / 60))
            when = f"after {minutes} minute{'s' if minutes != 1 else ''} of inactivity"
        else:
            when = f"after its limit of {settings.SESSION_ABSOLUTE_TIMEOUT // 3600} hours"
        what = "Your sign-in ended" if ending.signed_in else "Your session expired"
        if ending.kept:
            return f"{what} {when}; your cart is still here."
        return f"{what} {when}; your cart is kept with your account, so sign in to see it."
    return ENDED_BY.get(ending.reason, ENDED_BY["revoked"])


class SessionEndingMiddleware:
    """Say in one line why the session a browser came back with is over: signed out elsewhere, idle,
    past its lifetime (the engine's ``session.ending``), or ended by Django when its login no longer
    holds (a password change or "sign out everywhere" elsewhere changed the session auth hash, and
    ``django.contrib.auth.get_user`` flushed it). Only the cookie's holder learns anything, and only
    about that cookie's session.

    The line is a message: on a page, the header resolves the user before the messages are shown,
    so it appears on that very page; after a request that shows none (the JSON API), on the next one.
    Goes after AuthenticationMiddleware and MessageMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user = SimpleLazyObject(lambda: self.user(request))
        response = self.get_response(request)
        if getattr(request, "session", None) is not None and request.session.accessed:
            self.say(request, signed_out=False)
        return response

    def user(self, request):
        had_login = SESSION_KEY in request.session  # loads the session: finding the user needs it anyway
        user = get_user(request)  # Django's, cached on the request; flushes a session whose hash changed
        self.say(request, signed_out=had_login and not user.is_authenticated)
        return user

    @staticmethod
    def say(request, signed_out: bool) -> None:
        if getattr(request, "_session_ending_said", False):
            return
        ending = getattr(request.session, "ending", None)
        sentence = ending_sentence(ending) if ending is not None else (SIGNED_OUT_ELSEWHERE if signed_out else None)
        if sentence:
            request._session_ending_said = True
            messages.info(request, sentence)
