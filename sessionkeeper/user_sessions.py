"""A user's active sessions: list them, revoke one, all the others, or all.

Layout 3 indexes a user's sessions in the user's account record, in the user's cluster slot
with the sessions themselves: listing them is one pipeline to one node, and signing them out
one script call (revoke.lua) that leaves each a tombstone naming the reason. Sessions of
layouts 1 and 2 are still found through their sorted set (layout.user_index_key) until they
end; they live in other slots, so they are read and revoked one call each, in one pipeline.
Entries whose session is gone, over a limit, someone else's or foreign are pruned as they are met.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sessionkeeper import codec, endings, layout, stats
from sessionkeeper.client import get_client
from sessionkeeper.conf import config
from sessionkeeper.scripts import REVOKE, Command, ScriptCall, Step, run_pipeline
from sessionkeeper.store import SessionStore, index_call, redis_errors, warn_foreign

# What the listing reads of each session, in any layout.
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
    is_current: bool


@dataclass(frozen=True)
class _Indexed:
    """A user's indexed sessions: layout 3's (in the account record) and older ones (the sorted set)."""

    tagged: dict[str, int]  # digest -> sign-in ms
    older: dict[str, int]

    def digests(self) -> list[str]:
        return [*self.tagged, *self.older]


def list_user_sessions(user_id: int | str, current_session_key: str | None = None) -> list[ActiveSession]:
    """The user's live sessions, most recently seen first; stale index entries are pruned."""
    user_id = str(user_id)
    indexed = _read_index(user_id)
    prefix, tag = config().key_prefix, layout.user_tag(user_id)
    keys = [layout.session_hash_key(prefix, d, tag) for d in indexed.tagged]
    keys += [layout.session_hash_key(prefix, d) for d in indexed.older]
    steps: list[Step] = [Command(("HMGET", key, *META_FIELDS)) for key in keys]
    with redis_errors("listing"):
        metas = run_pipeline(get_client(), steps, raise_on_error=False) if steps else []
    current = layout.session_digest(current_session_key) if current_session_key else None
    sessions, stale = [], set()
    entries = [*indexed.tagged.items(), *indexed.older.items()]
    for (digest, created), meta in zip(entries, metas, strict=False):
        if isinstance(meta, Exception):
            warn_foreign("A session listed in a user's index")
            stale.add(digest)
            continue
        session = _active_session(digest, user_id, dict(zip(META_FIELDS, meta, strict=False)), created, current)
        if session is None:
            stale.add(digest)
        else:
            sessions.append(session)
    if stale:
        _prune(user_id, indexed, stale)
    return sorted(sessions, key=lambda session: session.last_seen, reverse=True)


def revoke_session(user_id: int | str, digest: str, reason: str = endings.REVOKED) -> bool:
    """End one of the user's sessions; False when it was already gone or is not theirs."""
    if not layout.is_digest(digest):
        return False
    # Where it lives depends on its layout; revoke.lua checks whose it is wherever it looks.
    return _revoke(str(user_id), _Indexed({digest: 0}, {digest: 0}), reason) == 1


def revoke_other_sessions(user_id: int | str, current_session_key: str, reason: str = endings.REVOKED) -> int:
    """End every session of the user but the current one (for example after a password change)."""
    current = layout.session_digest(current_session_key)
    indexed = _read_index(str(user_id))
    indexed.tagged.pop(current, None)
    indexed.older.pop(current, None)
    return _revoke(str(user_id), indexed, reason)


def revoke_all_sessions(user_id: int | str, reason: str = endings.REVOKED) -> int:
    """End every session of the user, the current one included."""
    return _revoke(str(user_id), _read_index(str(user_id)), reason)


def _header() -> list[object]:
    return SessionStore()._header()


def _index_call(user_id: str, operation: str, *digests: str, tagged: bool) -> ScriptCall:
    return index_call(config(), _header(), user_id, operation, *digests, tagged=tagged)


def _read_index(user_id: str) -> _Indexed:
    steps: list[Step] = [_index_call(user_id, "list", tagged=True), _index_call(user_id, "list", tagged=False)]
    with redis_errors("listing"):
        replies = run_pipeline(get_client(), steps)
    found = []
    for reply in replies:
        if reply[0] == b"foreign":
            warn_foreign("A user's session index")
        values = [value.decode() for value in reply[1:]]
        found.append(dict(zip(values[0::2], (int(float(score)) for score in values[1::2]), strict=False)))
    return _Indexed(found[0], found[1])


def _prune(user_id: str, indexed: _Indexed, stale: set[str]) -> None:
    steps: list[Step] = []
    for tagged, entries in ((True, indexed.tagged), (False, indexed.older)):
        digests = [digest for digest in entries if digest in stale]
        if digests:
            steps.append(_index_call(user_id, "remove", *digests, tagged=tagged))
    with redis_errors("listing"):
        run_pipeline(get_client(), steps)


def _revoke(user_id: str, indexed: _Indexed, reason: str) -> int:
    """Sign the sessions out: layout 3's in one call in the user's slot, older ones one call each."""
    endings.check_reason(reason)
    if not indexed.tagged and not indexed.older:
        return 0
    options, header = config(), _header()
    prefix, tag = options.key_prefix, layout.user_tag(user_id)
    steps: list[Step] = []
    if indexed.tagged:
        keys = [layout.session_hash_key(prefix, digest, tag) for digest in indexed.tagged]
        account = layout.account_key(prefix, tag)
        steps.append(ScriptCall(REVOKE, (*keys, account), (*header, user_id, reason, "1")))
    for digest in indexed.older:
        key = layout.session_hash_key(prefix, digest)
        steps.append(ScriptCall(REVOKE, (key,), (*header, user_id, reason, "0")))
    if indexed.older:
        steps.append(_index_call(user_id, "remove", *indexed.older, tagged=False))
    with redis_errors("revocation"):
        replies = run_pipeline(get_client(), steps)
    revocations = replies[: len(steps) - bool(indexed.older)]
    revoked = sum(int(reply[0]) for reply in revocations)
    if any(int(reply[1]) for reply in revocations):
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
    else:
        address = (meta[layout.V1_ADDRESS] or b"").decode(errors="replace")
        device = config().device_name((meta[layout.V1_AGENT] or b"").decode(errors="replace"))
    return ActiveSession(
        digest=digest,
        device=device or "Unknown device",
        ip=address,
        created=_datetime(created_ms // 1000 * 1000),  # whole seconds, as last_seen is kept
        last_seen=_datetime(seen),
        is_current=digest == current,
    )


def _datetime(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
