"""Device cookies: a browser that has signed in to an account is known to that account's lockout.

OWASP's "device cookies" pattern (Slow Down Online Guessing Attacks with Device
Cookies): each successful login gives the browser a signed cookie naming the
username and a fresh random nonce. The per-username lockout does not stop a browser
that shows a valid cookie for that username, so an attacker guessing from elsewhere
cannot lock the owner out; failures from the cookie are counted against its nonce
(accounts.throttle), so a stolen cookie buys only a few guesses. The cookie is
signed with SECRET_KEY, HttpOnly, Secure outside DEBUG, and remembers the last few
accounts used in this browser.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

COOKIE_NAME = "device"
SALT = "accounts.devices"
MAX_AGE_SECONDS = 180 * 24 * 60 * 60
# A shared family computer signs in to a few accounts; each keeps its own entry.
ACCOUNTS_PER_BROWSER = 4


def username_tag(username: str) -> str:
    """What the cookie stores for a (normalised) username: a digest, so the cookie does not spell it out."""
    return hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def nonce_for(request: HttpRequest, username: str) -> str | None:
    """The nonce of this browser's device cookie for ``username``, when it has a valid one."""
    tag = username_tag(username)
    return next((nonce for entry_tag, nonce in _entries(request) if hmac.compare_digest(entry_tag, tag)), None)


def remember(request: HttpRequest, response: HttpResponse, username: str) -> None:
    """After a successful login: a new nonce for this username, first in the cookie."""
    tag = username_tag(username)
    entries = [[tag, secrets.token_urlsafe(16)]]
    entries += [[entry_tag, nonce] for entry_tag, nonce in _entries(request) if entry_tag != tag]
    response.set_cookie(
        COOKIE_NAME,
        signing.dumps(entries[:ACCOUNTS_PER_BROWSER], salt=SALT, compress=False),
        max_age=MAX_AGE_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _entries(request: HttpRequest) -> list[tuple[str, str]]:
    raw = request.COOKIES.get(COOKIE_NAME)
    if not raw:
        return []
    try:
        value = signing.loads(raw, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:  # forged, tampered with, or older than MAX_AGE_SECONDS
        return []
    if not isinstance(value, list):
        return []
    return [
        (entry[0], entry[1])
        for entry in value
        if isinstance(entry, list) and len(entry) == 2 and all(isinstance(part, str) for part in entry)
    ]
