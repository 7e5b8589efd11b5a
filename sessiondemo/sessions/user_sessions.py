"""A user's active sessions: list them, revoke one, all the others, or all.

Each user has a sorted set of session digests (keys.user_index_key), kept by the
store on login and logout. The set and the sessions live in different cluster
slots, so reads and revocations go through pipelines; entries whose session is
gone, idle-expired or too old are pruned as they are met.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from user_agents import parse as parse_user_agent

from sessiondemo.redis_client import get_redis
from sessiondemo.sessions import stats
from sessiondemo.sessions.keys import is_digest, session_digest, session_hash_key, user_index_key
from sessiondemo.sessions.scripts import REVOKE, Command, ScriptCall, Step, run_pipeline
from sessiondemo.sessions.store import SessionStore, redis_errors

META_FIELDS = ("m:uid", "m:created", "m:seen", "m:abs", "m:ua", "m:ip", "m:inst")


@dataclass(frozen=True)
class ActiveSession:
    digest: str  # the session's hash id: safe to show and to put in a URL, unlike the cookie
    device: str
    ip: str
    created: datetime
    last_seen: datetime
    instance: str
    is_current: bool


def list_user_sessions(user_id: int | str, current_session_key: str | None = None) -> list[ActiveSession]:
    """The user's live sessions, most recently seen first; stale index entries are pruned."""
    user_id = str(user_id)
    client = get_redis()
    index = user_index_key(user_id)
    now_ms = _now_ms()
    lifetime_ms = (settings.SESSION_ABSOLUTE_TIMEOUT + settings.SESSION_GRACE_PERIOD) * 1000
    with redis_errors("listing"):
        _, digests = run_pipeline(
            client,
            [
                Command(("ZREMRANGEBYSCORE", index, "-inf", now_ms - lifetime_ms)),
                Command(("ZRANGE", index, 0, -1)),
            ],
        )
        digests = [digest.decode() for digest in digests]
        metas = run_pipeline(client, [Command(("HMGET", session_hash_key(d), *META_FIELDS)) for d in digests])
    current = session_digest(current_session_key) if current_session_key else None
    sessions, stale = [], []
    for digest, meta in zip(digests, metas, strict=False):
        session = _active_session(
            digest, user_id, dict(zip(META_FIELDS, meta, strict=False)), now_ms, digest == current
        )
        if session is None:
            stale.append(digest)
        else:
            sessions.append(session)
    if stale:
        with redis_errors("pruning"):
            client.zrem(index, *stale)
    return sorted(sessions, key=lambda session: session.last_seen, reverse=True)


def revoke_session(user_id: int | str, digest: str) -> bool:
    """End one of the user's sessions; False when it was already gone or is not theirs."""
    if not is_digest(digest):
        return False
    return _revoke(str(user_id), [digest]) == 1


def revoke_other_sessions(user_id: int | str, current_session_key: str) -> int:
    """End every session of the user but the current one (for example after a password change)."""
    current = session_digest(current_session_key)
    return _revoke(str(user_id), [digest for digest in _indexed(str(user_id)) if digest != current])


def revoke_all_sessions(user_id: int | str) -> int:
    """End every session of the user, the current one included."""
    return _revoke(str(user_id), _indexed(str(user_id)))


def _indexed(user_id: str) -> list[str]:
    with redis_errors("listing"):
        return [digest.decode() for digest in get_redis().zrange(user_index_key(user_id), 0, -1)]


def _revoke(user_id: str, digests: list[str]) -> int:
    if not digests:
        return 0
    steps: list[Step] = [ScriptCall(REVOKE, (session_hash_key(digest),), (user_id,)) for digest in digests]
    steps.append(Command(("ZREM", user_index_key(user_id), *digests)))
    with redis_errors("revocation"):
        replies = run_pipeline(get_redis(), steps)
    revoked = sum(int(reply) for reply in replies[:-1])
    if revoked:
        stats.record_event("delete", revoked)
    return revoked


def _active_session(
    digest: str, user_id: str, meta: dict[str, bytes | None], now_ms: int, is_current: bool
) -> ActiveSession | None:
    """The session as shown, or None when it is gone, someone else's, or past a limit."""
    if meta["m:uid"] is None or meta["m:uid"].decode() != user_id or meta["m:seen"] is None:
        return None
    seen = int(meta["m:seen"])
    absolute_expiry = int(meta["m:abs"] or 0)
    if now_ms > seen + settings.SESSION_IDLE_TIMEOUT * 1000 or now_ms > absolute_expiry:
        return None  # its login is over, even if the hash waits out the grace period
    user_agent = (meta["m:ua"] or b"").decode(errors="replace")
    return ActiveSession(
        digest=digest,
        device=str(parse_user_agent(user_agent)) if user_agent else "Unknown device",
        ip=(meta["m:ip"] or b"").decode(errors="replace"),
        created=_datetime(int(meta["m:created"] or seen)),
        last_seen=_datetime(seen),
        instance=(meta["m:inst"] or b"").decode(errors="replace"),
        is_current=is_current,
    )


def _datetime(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def _now_ms() -> int:
    return int((SessionStore.clock or time.time)() * 1000)
