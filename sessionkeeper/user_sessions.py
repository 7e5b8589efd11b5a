"""A user's active sessions: list them, revoke one, all the others, or all.

Each user has a sorted set of session digests (layout.user_index_key), kept by the store
on login and logout, pruned and capped by index.lua. The set and the sessions live in
different cluster slots, so reads and revocations go through pipelines; entries whose
session is gone, over a limit, someone else's or foreign are pruned as they are met.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sessionkeeper import codec, layout, stats
from sessionkeeper.client import get_client
from sessionkeeper.conf import config
from sessionkeeper.scripts import INDEX, REVOKE, Command, ScriptCall, Step, run_pipeline
from sessionkeeper.store import SessionStore, redis_errors, warn_foreign

# What the listing reads of each session, in either layout.
META_FIELDS = (
    layout.META,
    layout.DEVICE,
    layout.USER_FIELD,
    layout.DATA_PREFIX + layout.AUTH_USER_KEY,
    *layout.V1_META,
)


@dataclass(frozen=True)
class ActiveSession:
    digest: str  # the session's hash id: safe to show and to put in a URL, unlike the cookie
    device: str
    ip: str
    created: datetime
    last_seen: datetime
    instance: str  # the instance that last served it: recorded by layout 1 only
    is_current: bool


def list_user_sessions(user_id: int | str, current_session_key: str | None = None) -> list[ActiveSession]:
    """The user's live sessions, most recently seen first; stale index entries are pruned."""
    user_id = str(user_id)
    client = get_client()
    entries = _index(user_id, "list")
    signed_in = dict(zip(entries[0::2], (int(float(score)) for score in entries[1::2]), strict=False))
    prefix = config().key_prefix
    steps: list[Step] = [Command(("HMGET", layout.session_hash_key(prefix, d), *META_FIELDS)) for d in signed_in]
    with redis_errors("listing"):
        metas = run_pipeline(client, steps, raise_on_error=False) if steps else []
    current = layout.session_digest(current_session_key) if current_session_key else None
    sessions, stale = [], []
    for (digest, created), meta in zip(signed_in.items(), metas, strict=False):
        if isinstance(meta, Exception):
            warn_foreign("A session listed in a user's index")
            stale.append(digest)
            continue
        session = _active_session(digest, user_id, dict(zip(META_FIELDS, meta, strict=False)), created, current)
        if session is None:
            stale.append(digest)
        else:
            sessions.append(session)
    if stale:
        _index(user_id, "remove", *stale)
    return sorted(sessions, key=lambda session: session.last_seen, reverse=True)


def revoke_session(user_id: int | str, digest: str) -> bool:
    """End one of the user's sessions; False when it was already gone or is not theirs."""
    if not layout.is_digest(digest):
        return False
    return _revoke(str(user_id), [digest]) == 1


def revoke_other_sessions(user_id: int | str, current_session_key: str) -> int:
    """End every session of the user but the current one (for example after a password change)."""
    current = layout.session_digest(current_session_key)
    return _revoke(str(user_id), [digest for digest in _indexed(str(user_id)) if digest != current])


def revoke_all_sessions(user_id: int | str) -> int:
    """End every session of the user, the current one included."""
    return _revoke(str(user_id), _indexed(str(user_id)))


def _header() -> list[object]:
    return SessionStore()._header()


def _index(user_id: str, operation: str, *digests: str) -> list[str]:
    options = config()
    key = layout.user_index_key(options.key_prefix, user_id)
    with redis_errors("listing"):
        reply = INDEX(get_client(), [key], [*_header(), operation, options.max_sessions_per_user, *digests])
    if reply[0] == b"foreign":
        warn_foreign("A user's session index")
    return [value.decode() for value in reply[1:]]


def _indexed(user_id: str) -> list[str]:
    return _index(user_id, "list")[0::2]


def _revoke(user_id: str, digests: list[str]) -> int:
    if not digests:
        return 0
    options = config()
    header = _header()
    steps: list[Step] = [
        ScriptCall(REVOKE, (layout.session_hash_key(options.key_prefix, digest),), (*header, user_id))
        for digest in digests
    ]
    index = layout.user_index_key(options.key_prefix, user_id)
    steps.append(ScriptCall(INDEX, (index,), (*header, "remove", options.max_sessions_per_user, *digests)))
    with redis_errors("revocation"):
        replies = run_pipeline(get_client(), steps)
    revoked = sum(1 for reply in replies[:-1] if int(reply) == 1)
    if any(int(reply) == -1 for reply in replies[:-1]):
        warn_foreign("A session listed in a user's index")
    if revoked:
        stats.record_event("delete", revoked)
    return revoked


def _owner(meta: dict[str, bytes | None]) -> str | None:
    if meta[layout.USER_FIELD]:
        return meta[layout.USER_FIELD].decode(errors="replace")
    if meta[layout.DATA_PREFIX + layout.AUTH_USER_KEY]:
        try:
            return str(codec.decode(meta[layout.DATA_PREFIX + layout.AUTH_USER_KEY], 1024))
        except codec.CorruptValue:
            return None
    uid = meta[layout.V1_USER]
    return uid.decode(errors="replace") if uid else None


def _active_session(
    digest: str, user_id: str, meta: dict[str, bytes | None], created_ms: int, current: str | None
) -> ActiveSession | None:
    """The session as shown, or None when it is gone, someone else's, or past a limit."""
    timing = layout.parse_meta({name.encode(): value for name, value in meta.items()})
    if timing is None or _owner(meta) != user_id:
        return None
    seen, absolute_expiry = timing
    now_ms = int((SessionStore.clock or time.time)() * 1000)
    if now_ms > seen + config().idle_ms or now_ms > absolute_expiry:
        return None  # its login is over, even if the hash waits out the grace period
    if meta[layout.DEVICE]:
        address, device = layout.parse_device(meta[layout.DEVICE].decode(errors="replace"))
        instance = ""
    else:
        address = (meta[layout.V1_ADDRESS] or b"").decode(errors="replace")
        device = config().device_name((meta[layout.V1_AGENT] or b"").decode(errors="replace"))
        instance = (meta[layout.V1_INSTANCE] or b"").decode(errors="replace")
    return ActiveSession(
        digest=digest,
        device=device or "Unknown device",
        ip=address,
        created=_datetime(created_ms // 1000 * 1000),  # whole seconds, as last_seen is kept
        last_seen=_datetime(seen),
        instance=instance,
        is_current=digest == current,
    )


def _datetime(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
