"""The active-sessions page's view of the session engine's per-user index.

Only the project's own engine keeps that index; with a stock engine the page
says so instead of pretending.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest


def supported() -> bool:
    return settings.SESSION_BACKEND == "redis"


def for_request(request: HttpRequest) -> list | None:
    if not supported():
        return None
    from sessiondemo.sessions.user_sessions import list_user_sessions

    return list_user_sessions(request.user.pk, current_session_key=request.session.session_key)


def revoke_one(request: HttpRequest, digest: str) -> bool:
    if not supported():
        return False
    from sessiondemo.sessions.user_sessions import revoke_session

    return revoke_session(request.user.pk, digest)


def revoke_others(request: HttpRequest) -> int:
    if not supported():
        return 0
    from sessiondemo.sessions.user_sessions import revoke_other_sessions

    return revoke_other_sessions(request.user.pk, request.session.session_key)


def revoke_all(request: HttpRequest) -> int:
    count = 0
    if supported():
        from sessiondemo.sessions.user_sessions import revoke_all_sessions

        count = revoke_all_sessions(request.user.pk)
    logout(request)
    return count
