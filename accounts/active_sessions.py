"""The active-sessions page's view of the session engine's per-user index.

Only the project's own engine keeps that index; with a stock engine the page
says so instead of pretending.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest

from accounts.audit import audit
from sessiondemo.client_address import client_ip
from sessionkeeper import user_sessions


def supported() -> bool:
    return settings.SESSION_BACKEND == "redis"


def for_request(request: HttpRequest) -> list[user_sessions.ActiveSession] | None:
    if not supported():
        return None
    return user_sessions.list_user_sessions(request.user.pk, current_session_key=request.session.session_key)


def revoke_one(request: HttpRequest, digest: str) -> bool:
    revoked = supported() and user_sessions.revoke_session(request.user.pk, digest)
    if revoked:
        audit.warning("session revoked user=%s session=%s ip=%s", request.user.pk, digest[:12], client_ip(request))
    return revoked


def revoke_others(request: HttpRequest) -> int:
    if not supported():
        return 0
    count = user_sessions.revoke_other_sessions(request.user.pk, request.session.session_key)
    audit.warning("other sessions revoked user=%s count=%s ip=%s", request.user.pk, count, client_ip(request))
    return count


def revoke_all(request: HttpRequest) -> int:
    count = user_sessions.revoke_all_sessions(request.user.pk) if supported() else 0
    audit.warning("all sessions revoked user=%s count=%s ip=%s", request.user.pk, count, client_ip(request))
    logout(request)
    return count
