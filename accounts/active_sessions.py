"""The active-sessions page's view of the session engine's per-user index.

Only the project's own engine keeps that index; with a stock engine the page
says so instead of pretending.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest

from sessiondemo.sessions import user_sessions


def supported() -> bool:
    return settings.SESSION_BACKEND == "redis"


def for_request(request: HttpRequest) -> list[user_sessions.ActiveSession] | None:
    if not supported():
        return None
    return user_sessions.list_user_sessions(request.user.pk, current_session_key=request.session.session_key)


def revoke_one(request: HttpRequest, digest: str) -> bool:
    return supported() and user_sessions.revoke_session(request.user.pk, digest)


def revoke_others(request: HttpRequest) -> int:
    if not supported():
        return 0
    return user_sessions.revoke_other_sessions(request.user.pk, request.session.session_key)


def revoke_all(request: HttpRequest) -> int:
    count = user_sessions.revoke_all_sessions(request.user.pk) if supported() else 0
    logout(request)
    return count
