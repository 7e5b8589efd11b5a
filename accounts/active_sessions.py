"""Signing a user's sessions out, and the active-sessions page's view of them.

The authority is the user's sign-out cutoff in the database (accounts.models.SessionCutoff):
moving it to now signs out every session signed in before, whatever Redis still holds
or has evicted, because Django checks it on the request that loads the user. The
session engine's per-user index in Redis only lists sessions and deletes them at
once; it may have been evicted or trimmed, so what it lists is a lower bound, never
"these and no others". Only the project's own engine keeps that index; with a stock
engine the page says so, and the cutoff still signs sessions out.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout, update_session_auth_hash
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import audit
from accounts.models import SessionCutoff
from sessiondemo.client_address import client_ip
from sessionkeeper import user_sessions


def supported() -> bool:
    return settings.SESSION_BACKEND == "redis"


def cut_off(user) -> None:  # type: ignore[no-untyped-def]
    """Sign out every session of ``user`` signed in until now (one database write)."""
    cutoff, _ = SessionCutoff.objects.update_or_create(
        user_id=user.pk, defaults={"sessions_valid_after": timezone.now()}
    )
    # This request's user object hashes with the new cutoff from here on.
    user.session_cutoff = cutoff


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
    """Sign out every other session; keep this one. Returns how many the index listed and deleted."""
    cut_off(request.user)
    update_session_auth_hash(request, request.user)  # this session alone gets the new hash (and a new key)
    return delete_listed_others(request, "other sessions revoked")


def delete_listed_others(request: HttpRequest, event: str, reason: str = "revoked") -> int:
    """Delete at once the other sessions the index lists (after a cutoff or a password change); each
    keeps ``reason`` for its device's next page (sessiondemo.middleware.SessionEndingMiddleware)."""
    key = request.session.session_key
    count = user_sessions.revoke_other_sessions(request.user.pk, key, reason) if supported() else 0
    audit.warning("%s user=%s listed=%s ip=%s", event, request.user.pk, count, client_ip(request))
    return count


def revoke_all(request: HttpRequest) -> int:
    cut_off(request.user)
    count = user_sessions.revoke_all_sessions(request.user.pk) if supported() else 0
    audit.warning("all sessions revoked user=%s listed=%s ip=%s", request.user.pk, count, client_ip(request))
    logout(request)
    return count


def signed_out_sentence(listed: int) -> str:
    """What to tell the user: every other session is out, whatever the index knew of."""
    return f"Every other session is signed out{f' ({listed} listed here)' if listed else ''}."
