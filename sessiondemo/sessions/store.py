"""The project's Redis session engine (SESSION_ENGINE = "sessiondemo.sessions.store").

One Redis hash per session: a field per session key (codec.py), a field per cart
counter (``c:<map>:<name>``) changed by atomic scripts, and meta fields (``m:*``).
A read-only request costs one round trip (load.lua, which also slides the idle
expiry); a request that changes the session costs one more (save.lua, which writes
only the changed fields). Redis errors become SessionStoreUnavailable, never an
empty session: an outage is not a logout.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, SessionBase, UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.utils.crypto import get_random_string
from redis.auth.err import RequestTokenErr, TokenRenewalErr
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sessiondemo.redis_client import REDIS_FAILURES, RedisClient, get_redis
from sessiondemo.sessions import codec, stats
from sessiondemo.sessions.exceptions import CounterLimitError, SessionStoreUnavailable, SessionTooLarge
from sessiondemo.sessions.keys import session_digest, session_hash_key, user_index_key
from sessiondemo.sessions.scripts import COUNTER, CREATE, LOAD, SAVE, Command, ScriptCall, Step, run_pipeline

logger = logging.getLogger("sessiondemo.sessions")
security_logger = logging.getLogger("django.security.SuspiciousSession")

DATA_PREFIX = "d:"
COUNTER_PREFIX = "c:"
META_PREFIX = "m:"
# The session key Django's auth keeps the user id under (django.contrib.auth.SESSION_KEY).
AUTH_USER_KEY = "_auth_user_id"


class ForeignData(Exception):
    """The session's Redis key holds something this engine did not write."""


def redis_error_kind(error: Exception) -> str:
    if isinstance(error, RedisTimeoutError):
        return "timeout"
    if isinstance(error, RedisConnectionError):
        return "connection"
    if isinstance(error, RedisClusterException):
        return "cluster"
    if isinstance(error, (RequestTokenErr, TokenRenewalErr)):
        return "credentials"
    return "response"


@contextmanager
def redis_errors(operation: str) -> Iterator[None]:
    """Turn a Redis failure into SessionStoreUnavailable (counted); WRONGTYPE into ForeignData."""
    try:
        yield
    except ResponseError as error:
        if str(error).startswith("WRONGTYPE"):
            raise ForeignData(str(error)) from error
        stats.record_redis_error("response")
        raise SessionStoreUnavailable(
            f"Redis answered the session {operation} with an error ({error}); try again in a few seconds.",
            kind="response",
        ) from error
    except (RedisClusterException, *REDIS_FAILURES) as error:
        kind = redis_error_kind(error)
        stats.record_redis_error(kind)
        raise SessionStoreUnavailable(
            f"The session store could not be reached for a {operation} ({kind}: {error}); "
            "the session is kept, try again in a few seconds.",
            kind=kind,
        ) from error


def fingerprint(value: bytes | None) -> str:
    """What save.lua compares with redis.sha1hex() of the current value ('' for none)."""
    return hashlib.sha1(value).hexdigest() if value is not None else ""


class SessionStore(SessionBase):
    """A Django session store on one Redis hash per session; see the module docstring."""

    # Tests set a callable returning seconds since the epoch; None means Redis's own clock,
    # so that every instance of the site agrees on when a session expired.
    clock: ClassVar[Callable[[], float] | None] = None

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self.idle_ms = settings.SESSION_IDLE_TIMEOUT * 1000
        self.absolute_ms = settings.SESSION_ABSOLUTE_TIMEOUT * 1000
        self.grace_ms = settings.SESSION_GRACE_PERIOD * 1000
        self.compress_threshold = settings.SESSION_COMPRESS_THRESHOLD
        self.max_bytes = settings.SESSION_MAX_BYTES
        self.grace_keep = list(settings.SESSION_GRACE_KEEP)
        self.user_agent = ""
        self.ip = ""
        self.instance = ""
        self._forget_stored()

    # --- what the request tells us about the client ---------------------------------

    def bind_client(self, user_agent: str = "", ip: str = "", instance: str = "") -> None:
        """Remember who is asking; shown on the "Active sessions" page. Costs no round trip."""
        self.user_agent = user_agent[:256]
        self.ip = ip[:64]
        self.instance = instance[:128]

    # --- Django's SessionBase contract ------------------------------------------------

    def exists(self, session_key: str) -> bool:
        with redis_errors("lookup"):
            return bool(self.redis.exists(session_hash_key(session_digest(session_key))))

    def load(self) -> dict[str, Any]:
        """Read the session in one round trip; the script slides the idle expiry as it reads."""
        started = time.perf_counter()
        digest = session_digest(self.session_key)
        args = [
            self._now_arg(),
            self.idle_ms,
            self.absolute_ms,
            self.grace_ms,
            self.instance,
            self.ip,
            self.user_agent,
            *self._carried_fields(),
        ]
        try:
            with redis_errors("load"):
                reply = LOAD(self.redis, [session_hash_key(digest)], args)
        except ForeignData as error:
            return self._start_over_after_corruption(str(error))
        finally:
            stats.observe_latency("load", time.perf_counter() - started)
        stats.record_event("load")
        status, fields = reply[0], _pairs(reply[1:])
        if status == b"hit":
            stats.record_event("hit")
            try:
                return self._adopt(fields)
            except codec.CorruptValue as error:
                return self._start_over_after_corruption(str(error))
        if status == b"corrupt":
            return self._start_over_after_corruption("the session hash has no expiry fields")
        if status == b"grace":
            return self._recover_in_grace(fields)
        stats.record_event("expired" if status == b"expired" else "miss")
        self._session_key = None
        return {}

    def create(self) -> None:
        """Store the current data under a new, unused key; one round trip."""
        self._create_with([])
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        """Write the fields this request changed; UpdateError when the session was deleted meanwhile."""
        if must_create and self.session_key is not None:
            return self._create_once(self.session_key, [])
        data = self._get_session()  # a load that finds nothing unsets the key
        if self.session_key is None:
            return self.create()
        wanted, raw_size = self._encode_all(data)
        to_set = {field: value for field, value in wanted.items() if self._stored.get(field) != value}
        to_delete = [field for field in self._stored if field not in wanted]
        user_id = str(data.get(AUTH_USER_KEY, ""))
        if not to_set and not to_delete and user_id == self._user_id and not self._cleared:
            return  # nothing changed since the load or the last counter operation: no round trip
        self._check_size(wanted)
        started = time.perf_counter()
        steps: list[Step] = [ScriptCall(SAVE, (self._hash_key,), tuple(self._save_args(to_set, to_delete, user_id)))]
        steps += self._index_steps(user_id)
        with redis_errors("save"):
            try:
                replies = run_pipeline(self.redis, steps)
            except ForeignData as error:
                raise UpdateError(str(error)) from error
        stats.observe_latency("save", time.perf_counter() - started)
        if replies[0][0] == b"gone":
            raise UpdateError("The session was deleted before this request could save it.")
        self._report_conflicts(replies[0][1:])
        self._stored = wanted
        self._user_id = user_id
        self._cleared = False
        stats.record_event("save")
        stats.observe_size(sum(len(field) + len(value) for field, value in wanted.items()), raw_size)

    def delete(self, session_key: str | None = None) -> None:
        """Delete a session (logout, flush); the user's index entry goes in the same round trip."""
        current = session_key is None or session_key == self.session_key
        session_key = session_key or self.session_key
        if session_key is None:
            return
        digest = session_digest(session_key)
        steps: list[Step] = [Command(("DEL", session_hash_key(digest)))]
        if current and self._user_id:
            steps.append(Command(("ZREM", user_index_key(self._user_id), digest)))
        with redis_errors("delete"):
            run_pipeline(self.redis, steps)
        stats.record_event("delete")
        if current:
            self._forget_stored()

    def cycle_key(self) -> None:
        """A new key for the same data (login): create the new hash and delete the old in one pipeline."""
        data = self._session
        old_key, old_user_id = self.session_key, self._user_id
        cleanup: list[Step] = []
        if old_key:
            old_digest = session_digest(old_key)
            cleanup.append(Command(("DEL", session_hash_key(old_digest))))
            if old_user_id:
                cleanup.append(Command(("ZREM", user_index_key(old_user_id), old_digest)))
        self._create_with(cleanup)
        self._session_cache = data
        self.modified = True
        if old_key:
            stats.record_event("delete")

    def clear(self) -> None:
        super().clear()
        self._counters = {}
        # Django clears without loading, so this request may not know which fields to delete.
        self._cleared = True

    def is_empty(self) -> bool:
        # A session holding only counters (a cart carried over an expiry) is not empty.
        return super().is_empty() and not any(self._counters.values())

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: every session hash carries a Redis TTL (PEXPIREAT) and expires by itself.

        Users' session indexes are pruned as they are read (user_sessions.py) and
        carry a TTL of their own, so neither grows without bound.
        """

    def _get_new_session_key(self) -> str:
        # No EXISTS round trip: create.lua refuses an existing key, and we retry.
        return get_random_string(32, VALID_KEY_CHARS)

    # --- counters: the cart's atomic increments ---------------------------------------

    def counters(self, name: str) -> RedisCounterMap:
        """The counter map ``name`` of this session (for example the cart: sku -> quantity)."""
        if ":" in name:
            raise ValueError(f"A counter map name cannot contain ':', and {name!r} does.")
        return RedisCounterMap(self, name)

    def counter_values(self, name: str) -> dict[str, int]:
        self._get_session()
        return dict(self._counters.get(name, {}))

    def change_counter(self, name: str, operation: str, field: str = "", amount: int = 0, maximum: int = 0) -> int:
        """Run one counter operation on the server (one round trip) and mirror it locally."""
        self._get_session()
        if self.session_key is None:
            self.create()
        target = f"{COUNTER_PREFIX}{name}:{field}" if operation != "clear" else f"{COUNTER_PREFIX}{name}:"
        if operation in {"add", "set"} and target not in self._stored:
            self._check_size({**self._stored, target: b"0" * 20})
        args = [self._now_arg(), self.idle_ms, self.absolute_ms, self.grace_ms, operation, target, amount, maximum]
        with redis_errors("counter change"):
            try:
                reply = COUNTER(self.redis, [self._hash_key], args)
            except ForeignData as error:
                raise SessionInterrupted(str(error)) from error
        status = reply[0]
        if status == b"gone":
            raise SessionInterrupted(
                "The session was deleted (perhaps a logout in another tab) before this change; sign in again."
            )
        if status == b"corrupt":
            raise SessionInterrupted(f"The counter {field!r} in this session is not a number; it was left unchanged.")
        if status == b"limit":
            current = int(reply[1])
            self._mirror_counter(name, field, target, current)
            raise CounterLimitError(
                f"{field} cannot change by {amount}: it is {current}, and it must stay between 0 and {maximum}."
            )
        value = int(reply[1])
        if operation == "clear":
            self._counters.pop(name, None)
            self._stored = {f: v for f, v in self._stored.items() if not f.startswith(target)}
        else:
            self._mirror_counter(name, field, target, value)
        # The cookie must be set (a new session), but save() finds nothing left to write.
        self.modified = True
        stats.record_event("save")
        return value

    def _mirror_counter(self, name: str, field: str, target: str, value: int) -> None:
        values = self._counters.setdefault(name, {})
        if value > 0:
            values[field] = value
            self._stored[target] = str(value).encode()
        else:
            values.pop(field, None)
            self._stored.pop(target, None)

    # --- internals -----------------------------------------------------------------------

    @property
    def redis(self) -> RedisClient:
        return get_redis()

    @property
    def _hash_key(self) -> str:
        return session_hash_key(session_digest(self.session_key))

    def _forget_stored(self) -> None:
        # What Redis holds for this session as far as this request knows: field -> stored bytes.
        self._stored: dict[str, bytes] = {}
        self._counters: dict[str, dict[str, int]] = {}
        self._user_id = ""
        self._cleared = False

    def _now_ms(self) -> int:
        return int((self.clock or time.time)() * 1000)

    def _now_arg(self) -> str:
        return str(self._now_ms()) if self.clock is not None else ""

    def _carried_fields(self) -> list[str]:
        carried = []
        for name in self.grace_keep:
            carried += [f"{DATA_PREFIX}{name}", f"{COUNTER_PREFIX}{name}:"]
        return carried

    def _adopt(self, fields: list[tuple[bytes, bytes]]) -> dict[str, Any]:
        """Decode a loaded hash; remember what was stored so save() writes only changes."""
        data: dict[str, Any] = {}
        self._forget_stored()
        for raw_field, value in fields:
            field = raw_field.decode()
            if field.startswith(DATA_PREFIX):
                data[field[len(DATA_PREFIX) :]] = codec.decode(value, self.max_bytes)
                self._stored[field] = value
            elif field.startswith(COUNTER_PREFIX):
                name, _, counter = field[len(COUNTER_PREFIX) :].partition(":")
                try:
                    self._counters.setdefault(name, {})[counter] = int(value)
                except ValueError as error:
                    raise codec.CorruptValue(f"The counter {field!r} is not a whole number.") from error
                self._stored[field] = value
            elif field == "m:uid":
                self._user_id = value.decode()
        return data

    def _recover_in_grace(self, fields: list[tuple[bytes, bytes]]) -> dict[str, Any]:
        """Idle-expired within the grace period: a fresh anonymous session that keeps the cart."""
        stats.record_event("expired")
        self._session_key = None
        try:
            data = self._adopt(fields)
        except codec.CorruptValue as error:
            return self._start_over_after_corruption(str(error))
        # Nothing of this is in Redis yet: the next save creates the new session with all of it.
        self._stored = {}
        if data or self._counters:
            stats.record_event("grace_recovery")
            self.modified = True
        return data

    def _start_over_after_corruption(self, reason: str) -> dict[str, Any]:
        stats.record_event("corrupt")
        security_logger.warning("Session data in Redis could not be read (%s); starting an empty session.", reason)
        self._forget_stored()
        self._session_key = None
        return {}

    def _encode_all(self, data: dict[str, Any]) -> tuple[dict[str, bytes], int]:
        wanted: dict[str, bytes] = {}
        raw_size = 0
        for key, value in data.items():
            stored, raw = codec.encode(value, self.compress_threshold)
            wanted[f"{DATA_PREFIX}{key}"] = stored
            raw_size += raw
        for name, values in self._counters.items():
            for counter, value in values.items():
                wanted[f"{COUNTER_PREFIX}{name}:{counter}"] = str(value).encode()
        return wanted, raw_size

    def _check_size(self, fields: dict[str, bytes]) -> None:
        size = sum(len(field) + len(value) for field, value in fields.items())
        if size > self.max_bytes:
            raise SessionTooLarge(
                f"This session would take {size} bytes, more than the {self.max_bytes} allowed; "
                "nothing was saved, so remove something from it and try again."
            )

    def _meta(self, user_id: str) -> list[str]:
        meta = ["m:ua", self.user_agent, "m:ip", self.ip, "m:inst", self.instance]
        if user_id:
            meta += ["m:uid", user_id]
        return meta

    def _save_args(self, to_set: dict[str, bytes], to_delete: list[str], user_id: str) -> list[Any]:
        args: list[Any] = [
            self._now_arg(),
            self.idle_ms,
            self.absolute_ms,
            self.grace_ms,
            len(to_set),
            len(to_delete),
            "1" if self._cleared else "0",
        ]
        for field, value in to_set.items():
            args += [field, value, fingerprint(self._stored.get(field))]
        for field in to_delete:
            args += [field, fingerprint(self._stored[field])]
        if user_id != self._user_id:
            args += self._meta(user_id) if user_id else ["m:uid", ""]
        return args

    def _index_steps(self, user_id: str) -> list[Step]:
        """Keep users' session indexes in step when the session's user changes (login, logout)."""
        if user_id == self._user_id:
            return []
        digest = session_digest(self.session_key)
        steps: list[Step] = []
        if self._user_id:
            steps.append(Command(("ZREM", user_index_key(self._user_id), digest)))
        if user_id:
            steps += self._index_add_steps(user_id, digest)
        return steps

    def _index_add_steps(self, user_id: str, digest: str) -> list[Step]:
        now = self._now_ms()
        index = user_index_key(user_id)
        lifetime = self.absolute_ms + self.grace_ms
        return [
            Command(("ZADD", index, now, digest)),
            # Entries older than any session can live are pruned on every login.
            Command(("ZREMRANGEBYSCORE", index, "-inf", now - lifetime)),
            Command(("PEXPIRE", index, lifetime)),
        ]

    def _create_with(self, extra_steps: Sequence[Step]) -> None:
        for _ in range(100):
            key = self._get_new_session_key()
            try:
                self._create_once(key, extra_steps)
            except CreateError:
                extra_steps = []  # they ran with the failed attempt
                continue
            return
        raise RuntimeError("Unable to create a new session key: 100 random keys were all taken.")

    def _create_once(self, session_key: str, extra_steps: Sequence[Step]) -> None:
        """Write the current data and counters under ``session_key``; CreateError when it exists."""
        data = self._get_session(no_load=True)
        wanted, raw_size = self._encode_all(data)
        self._check_size(wanted)
        user_id = str(data.get(AUTH_USER_KEY, ""))
        digest = session_digest(session_key)
        args: list[Any] = [self._now_arg(), self.idle_ms, self.absolute_ms, self.grace_ms]
        for field, value in wanted.items():
            args += [field, value]
        args += self._meta(user_id)
        steps: list[Step] = [ScriptCall(CREATE, (session_hash_key(digest),), tuple(args)), *extra_steps]
        if user_id:
            steps += self._index_add_steps(user_id, digest)
        started = time.perf_counter()
        with redis_errors("create"):
            try:
                replies = run_pipeline(self.redis, steps)
            except ForeignData as error:
                raise CreateError(str(error)) from error
        stats.observe_latency("save", time.perf_counter() - started)
        if replies[0] == 0:
            raise CreateError(f"A session hash for digest {digest[:12]}... already exists.")
        self._session_key = session_key
        self._stored = wanted
        self._user_id = user_id
        stats.record_event("create")
        stats.observe_size(sum(len(field) + len(value) for field, value in wanted.items()), raw_size)

    def _report_conflicts(self, fields: list[bytes]) -> None:
        for field in fields:
            stats.record_event("conflict")
            logger.warning(
                "Session field %s was changed by another request after this one loaded it; "
                "this request's value was written over it.",
                field.decode(errors="replace"),
            )


class RedisCounterMap:
    """One named counter map of a SessionStore; every change is one atomic script call."""

    def __init__(self, store: SessionStore, name: str) -> None:
        self.store = store
        self.name = name

    def items(self) -> dict[str, int]:
        return self.store.counter_values(self.name)

    def add(self, field: str, amount: int, maximum: int) -> int:
        return self.store.change_counter(self.name, "add", field, amount, maximum)

    def set(self, field: str, value: int) -> None:
        self.store.change_counter(self.name, "set", field, value)

    def remove(self, field: str) -> None:
        self.store.change_counter(self.name, "remove", field)

    def clear(self) -> None:
        self.store.change_counter(self.name, "clear")


def _pairs(flat: list[bytes]) -> list[tuple[bytes, bytes]]:
    return list(zip(flat[0::2], flat[1::2], strict=False))
