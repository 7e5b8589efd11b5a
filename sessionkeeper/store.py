"""The session engine: ``SESSION_ENGINE = "sessionkeeper.store"``.

One Redis hash per session (layout.py): a field per session key (codec.py), a field per
cart counter changed by atomic scripts, and packed meta fields. A read-only request costs
one round trip (load.lua) and writes nothing unless the idle expiry needs sliding; a
request that changes the session costs one more (save.lua, only the changed fields).
Redis errors become SessionStoreUnavailable, never an empty session: an outage is not a
logout. Foreign data under any key the engine touches is logged on
``django.security.SuspiciousSession`` and handled, never a 500.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, SessionBase, UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.utils.crypto import get_random_string
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sessionkeeper import codec, layout, stats
from sessionkeeper.client import REDIS_FAILURES, RedisClient
from sessionkeeper.conf import Config, config
from sessionkeeper.exceptions import (
    CounterLimitError,
    ForeignData,
    SessionCreationRefused,
    SessionStoreUnavailable,
    SessionTooLarge,
)
from sessionkeeper.scripts import (
    COUNTER,
    CREATE,
    INDEX,
    LOAD,
    RATE,
    REVOKE,
    SAVE,
    Command,
    ScriptCall,
    Step,
    run_pipeline,
)

logger = logging.getLogger("sessionkeeper")
security_logger = logging.getLogger("django.security.SuspiciousSession")

AUTH_USER_KEY = layout.AUTH_USER_KEY


def redis_error_kind(error: BaseException) -> str:
    if isinstance(error, RedisTimeoutError):
        return "timeout"
    if isinstance(error, RedisConnectionError):
        return "connection"
    if isinstance(error, RedisClusterException):
        return "cluster"
    if type(error).__module__.startswith("redis.auth"):
        return "credentials"
    return "response"


class redis_errors:  # noqa: N801 - used as a context manager, named like contextlib's
    """Turn a Redis failure into SessionStoreUnavailable (counted); WRONGTYPE into ForeignData.

    Catch ForeignData *outside* the ``with``: the context manager raises it on exit.
    A class rather than @contextmanager: it runs twice on every request, and a generator
    per use costs more than the call it wraps.
    """

    __slots__ = ("operation",)

    def __init__(self, operation: str) -> None:
        self.operation = operation

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any) -> bool:
        if error is None:
            return False
        if isinstance(error, ResponseError):
            if str(error).startswith("WRONGTYPE"):
                raise ForeignData(str(error)) from error
            stats.record_redis_error("response")
            raise SessionStoreUnavailable(
                f"Redis answered the session {self.operation} with an error ({error}); try again in a few seconds.",
                kind="response",
            ) from error
        if isinstance(error, REDIS_FAILURES):
            failure = redis_error_kind(error)
            stats.record_redis_error(failure)
            raise SessionStoreUnavailable(
                f"The session store could not be reached for a {self.operation} ({failure}: {error}); "
                "the session is kept, try again in a few seconds.",
                kind=failure,
            ) from error
        return False


def warn_foreign(where: str) -> None:
    stats.record_event("corrupt")
    security_logger.warning("%s held data this session engine did not write; it was set aside.", where)


def fingerprint(value: bytes | None) -> str:
    """What save.lua compares with redis.sha1hex() of the current value ('' for none)."""
    return hashlib.sha1(value).hexdigest() if value is not None else ""


def operation_key(operation_id: str | None) -> str:
    """A short id for counter.lua: a caller's id (an Idempotency-Key) hashed, else a fresh random one."""
    if operation_id is None:
        return secrets.token_urlsafe(6)[:8]
    return base64.urlsafe_b64encode(hashlib.sha256(operation_id.encode()).digest()[:6]).decode()


class SessionStore(SessionBase):
    """A Django session store on one Redis hash per session; see the module docstring."""

    # Tests set a callable returning seconds since the epoch; None means Redis's own clock,
    # so that every instance of the site agrees on when a session expired.
    clock: ClassVar[Callable[[], float] | None] = None

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self.options: Config = config()
        self.address = ""
        self.user_agent = ""
        self.instance = ""
        self._journal: list[tuple[str, int]] = []
        self._keyed: tuple[str | None, str] = (None, "")
        self._forget_stored()

    # --- what the request tells us about the client ---------------------------------

    def bind_client(self, user_agent: str = "", ip: str = "", instance: str = "") -> None:
        """Remember who is asking; stored with signed-in sessions. Costs no round trip."""
        self.user_agent = user_agent[:512]
        self.address = ip[:64]
        self.instance = instance

    # --- Django's SessionBase contract ------------------------------------------------

    def exists(self, session_key: str | None) -> bool:
        if not session_key:
            return False
        with redis_errors("lookup"):
            return bool(self.redis.exists(self._key(session_key)))

    def load(self) -> dict[str, Any]:
        """Read the session in one round trip; the script slides the idle expiry when that matters."""
        if self.session_key is None:
            return {}  # no key, nothing to read: and nothing is created (Django's contract)
        started = time.perf_counter()
        device = self._device_fields(signed_in=True)
        args = [*self._header(), len(device) // 2, *device, *self._kept_names()]
        try:
            with redis_errors("load"):
                reply = LOAD(self.redis, [self._key(self.session_key)], args)
        except ForeignData as error:
            return self._start_over_after_corruption(str(error))
        finally:
            stats.observe_latency("load", time.perf_counter() - started)
        stats.record_event("load")
        status = reply[0]
        if status == b"hit":
            stats.record_event("hit")
            if reply[1] == b"1":
                stats.record_event("slide")
            try:
                return self._adopt(_pairs(reply[2:]))
            except codec.CorruptValue as error:
                return self._start_over_after_corruption(str(error))
        if status == b"corrupt":
            return self._start_over_after_corruption("the session hash has no expiry fields")
        if status == b"foreign":
            return self._start_over_after_corruption("the session's key holds another Redis type")
        if status == b"grace":
            return self._recover_in_grace(_pairs(reply[1:]))
        stats.record_event("expired" if status == b"expired" else "miss")
        self._session_key = None
        return {}

    def create(self) -> None:
        """Store the current data under a new, unused key; one round trip."""
        self._create_with([], limit_rate=True)
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
        self._check_size(wanted, raw_size)
        started = time.perf_counter()
        save = ScriptCall(SAVE, (self._hash_key,), tuple(self._save_args(data, to_set, to_delete, user_id)))
        try:
            with redis_errors("save"):
                replies = run_pipeline(self.redis, [save, *self._index_steps(user_id)])
        except ForeignData as error:
            warn_foreign(f"A key of this session ({error})")
            raise UpdateError(str(error)) from error
        stats.observe_latency("save", time.perf_counter() - started)
        status = replies[0][0]
        if status == b"gone":
            raise UpdateError("The session was deleted before this request could save it.")
        if status in (b"foreign", b"corrupt"):
            warn_foreign("The session's hash")
            raise UpdateError("The session's data in Redis was not this engine's; it was not saved.")
        self._report_conflicts(replies[0][1:])
        self._after_index(user_id, replies[1:])
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
        steps: list[Step] = [Command(("DEL", self._key(session_key)))]
        if current and self._user_id:
            steps.append(self._index_call(self._user_id, "remove", layout.session_digest(session_key)))
        with redis_errors("delete"):
            replies = run_pipeline(self.redis, steps)
        if len(replies) > 1:
            self._after_index("", replies[1:])
        stats.record_event("delete")
        if current:
            self._forget_stored()

    def cycle_key(self) -> None:
        """A new key for the same data (login): create the new hash and delete the old in one pipeline."""
        data = self._session
        old_key, old_user_id = self.session_key, self._user_id
        cleanup: list[Step] = []
        if old_key:
            cleanup.append(Command(("DEL", self._key(old_key))))
            if old_user_id:
                cleanup.append(self._index_call(old_user_id, "remove", layout.session_digest(old_key)))
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

        Users' session indexes are pruned on every login and listing, capped, and carry a TTL.
        """

    def _get_new_session_key(self) -> str:
        # No EXISTS round trip: create.lua refuses an existing key, and we retry. The length
        # tells every reader which digest names the hash (layout.session_digest).
        return get_random_string(layout.new_key_length(self.options.layout), VALID_KEY_CHARS)

    # --- counters: the cart's atomic increments ---------------------------------------

    def counters(self, name: str) -> RedisCounterMap:
        """The counter map ``name`` of this session (for example the cart: sku -> quantity)."""
        if ":" in name:
            raise ValueError(f"A counter map name cannot contain ':', and {name!r} does.")
        return RedisCounterMap(self, name)

    def counter_values(self, name: str) -> dict[str, int]:
        self._get_session()
        return dict(self._counters.get(name, {}))

    def change_counter(
        self,
        name: str,
        operation: str,
        field: str = "",
        amount: int = 0,
        maximum: int = 0,
        operation_id: str | None = None,
    ) -> int:
        """Run one counter operation on the server (one round trip), exactly once per operation id."""
        self._get_session()
        if self.session_key is None:
            self.create()
        target = layout.counter_field(name, field if operation != "clear" else "")
        if operation in {"add", "set"} and target not in self._stored:
            self._check_size({**self._stored, target: b"0" * 20}, 0)
        idle = self._session_idle_ms(self._get_session(), counter_map=name)
        args = [*self._header(idle), operation, target, amount, maximum, operation_key(operation_id)]
        reply = self._run_counter(args)
        value = int(reply[1])
        if operation == "clear":
            self._counters.pop(name, None)
            removed = _pairs(reply[2:])
            self._journal += [(field.decode(), int(count)) for field, count in removed]
            self._stored = {f: v for f, v in self._stored.items() if not f.startswith(target)}
        else:
            self._journal.append((target, -int(reply[2])))
            self._mirror_counter(name, field, target, value)
        # The cookie must be set (a new session), but save() finds nothing left to write.
        self.modified = True
        stats.record_event("save")
        return value

    def _run_counter(self, args: list[Any]) -> list[Any]:
        try:
            with redis_errors("counter change"):
                reply = COUNTER(self.redis, [self._hash_key], args)
        except ForeignData as error:
            reply = [b"foreign", str(error)]
        status = reply[0]
        if status == b"gone":
            raise SessionInterrupted(
                "The session was deleted (perhaps a logout in another tab) before this change; sign in again."
            )
        if status == b"corrupt":
            warn_foreign("A counter or the meta of this session")
            raise SessionInterrupted("A counter in this session is not a number; it was left unchanged.")
        if status == b"foreign":
            warn_foreign("The session's key")
            raise SessionInterrupted("This session's data in Redis was not this engine's; it was left unchanged.")
        if status == b"limit":
            current = int(reply[1])
            name, _, field = args[len(layout.HEADER) + 1][len(layout.COUNTER_PREFIX) :].partition(":")
            self._mirror_counter(name, field, args[len(layout.HEADER) + 1], current)
            raise CounterLimitError(
                f"{field} cannot change by {args[len(layout.HEADER) + 2]}: it is {current}, "
                f"and it must stay between 0 and {args[len(layout.HEADER) + 3]}."
            )
        return reply

    def _undo_counters(self) -> None:
        """Take back this request's counter changes: a request refused for size applies none."""
        changes = [(field, change) for field, change in self._journal if change]
        self._journal = []
        if not changes or self.session_key is None:
            return
        pairs = [item for field, change in changes for item in (field, change)]
        with redis_errors("counter undo"):
            COUNTER(self.redis, [self._hash_key], [*self._header(), "undo", "", 0, 0, operation_key(None), *pairs])
        stats.record_event("undo")
        for field, change in changes:
            name, _, counter = field[len(layout.COUNTER_PREFIX) :].partition(":")
            current = self._counters.get(name, {}).get(counter, 0) + change
            self._mirror_counter(name, counter, field, current)

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
        return self.options.client_factory()

    def _key(self, session_key: str) -> str:
        # A load and a save of one request name the same key: hash the cookie once.
        if session_key != self._keyed[0]:
            self._keyed = (
                session_key,
                layout.session_hash_key(self.options.key_prefix, layout.session_digest(session_key)),
            )
        return self._keyed[1]

    @property
    def _hash_key(self) -> str:
        return self._key(self.session_key)

    def _forget_stored(self) -> None:
        # What Redis holds for this session as far as this request knows: field -> stored bytes.
        self._stored: dict[str, bytes] = {}
        # Loaded values: key -> (the object, its field, its stored bytes, its raw size).
        self._loaded: dict[str, tuple[Any, str, bytes, int]] = {}
        self._counters: dict[str, dict[str, int]] = {}
        self._user_id = ""
        self._cleared = False

    def _now_ms(self) -> int:
        return int((self.clock or time.time)() * 1000)

    def _header(self, session_idle_ms: int | None = None, cap_ms: int | None = None) -> list[Any]:
        """The arguments every script starts with (layout.HEADER, read by lua/_layout.lua)."""
        options = self.options
        return [
            str(self._now_ms()) if self.clock is not None else "",
            options.layout,
            options.idle_ms,
            options.anonymous_idle_ms,
            options.absolute_ms,
            options.grace_ms,
            options.threshold_ms,
            "" if cap_ms is None else cap_ms,
            "" if session_idle_ms is None else session_idle_ms,
        ]

    def _kept_names(self) -> list[str]:
        return _kept_names(self.options.keep)

    def _session_idle_ms(self, data: dict[str, Any], counter_map: str = "") -> int:
        """The signed-in idle timeout once the session holds a login or a kept key; stricter by set_expiry."""
        options = self.options
        kept = AUTH_USER_KEY in data or counter_map in options.keep
        kept = kept or any(name in data or self._counters.get(name) for name in options.keep)
        idle = options.idle_ms if kept else options.anonymous_idle_ms
        expiry = data.get(layout.EXPIRY_KEY)
        if isinstance(expiry, int) and expiry != 0:
            idle = min(idle, expiry * 1000)
        return idle

    @staticmethod
    def _cap_ms(data: dict[str, Any]) -> int | None:
        """set_expiry(datetime or timedelta) stores an ISO date: the session ends then at the latest."""
        expiry = data.get(layout.EXPIRY_KEY)
        if isinstance(expiry, str):
            try:
                return int(datetime.fromisoformat(expiry).timestamp() * 1000)
            except ValueError:
                return None
        return None

    def _device_fields(self, signed_in: bool) -> list[str]:
        if self.options.layout >= 2 and not signed_in:
            return []  # anonymous sessions store no device metadata
        if self.options.layout >= 2:
            device = self.options.device_name(self.user_agent) if self.user_agent else ""
            return layout.device_fields(2, self.address, device, "")
        return layout.device_fields(1, self.address, self.user_agent, self.instance)

    def _adopt(self, fields: list[tuple[bytes, bytes]]) -> dict[str, Any]:
        """Decode a loaded hash; remember what was stored so save() writes only changes."""
        data: dict[str, Any] = {}
        self._forget_stored()
        max_bytes = self.options.max_bytes
        for raw_field, value in fields:
            field = raw_field.decode()
            key = layout.data_key(field)
            if field == layout.USER_FIELD:
                data[AUTH_USER_KEY] = value.decode()
                self._stored[field] = value
                self._loaded[AUTH_USER_KEY] = (data[AUTH_USER_KEY], field, value, len(value) + 2)
            elif key is not None:
                data[key] = codec.decode(value, max_bytes)
                self._stored[field] = value
                self._loaded[key] = (data[key], field, value, codec.raw_size(value))
            elif field.startswith(layout.COUNTER_PREFIX):
                name, _, counter = field[len(layout.COUNTER_PREFIX) :].partition(":")
                try:
                    self._counters.setdefault(name, {})[counter] = int(value)
                except ValueError as error:
                    raise codec.CorruptValue(f"The counter {field!r} is not a whole number.") from error
                self._stored[field] = value
        self._user_id = str(data.get(AUTH_USER_KEY, ""))
        return data

    def _recover_in_grace(self, fields: list[tuple[bytes, bytes]]) -> dict[str, Any]:
        """Expired within the grace period: a fresh anonymous session that keeps the kept keys."""
        stats.record_event("expired")
        self._session_key = None
        try:
            data = self._adopt(fields)
        except codec.CorruptValue as error:
            return self._start_over_after_corruption(str(error))
        data.pop(AUTH_USER_KEY, None)  # never carried, whatever KEEP says
        # Nothing of this is in Redis yet: the next save creates the new session with all of it.
        self._stored = {}
        self._user_id = ""
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
        threshold, version = self.options.compress_threshold, self.options.layout
        loaded = self._loaded
        for key, value in data.items():
            known = loaded.get(key)
            if known is not None and known[0] is value and type(value) in _IMMUTABLE and self._same_form(key, known):
                wanted[known[1]], raw = known[2], known[3]  # as loaded: nothing to encode again
            elif key == AUTH_USER_KEY and version >= 2 and isinstance(value, str):
                wanted[layout.USER_FIELD], raw = value.encode(), len(value) + 2  # bare: layout.py
            else:
                stored, raw = codec.encode(value, threshold, version)
                wanted[layout.data_field(key, version)] = stored
            raw_size += raw
        for name, values in self._counters.items():
            for counter, value in values.items():
                wanted[layout.counter_field(name, counter)] = str(value).encode()
        return wanted, raw_size

    def _same_form(self, key: str, known: tuple[Any, str, bytes, int]) -> bool:
        """Whether a loaded value is stored as this layout would store it (else it is written anew)."""
        version = self.options.layout
        field = layout.USER_FIELD if key == AUTH_USER_KEY and version >= 2 else layout.data_field(key, version)
        return known[1] == field and (version >= 2 or known[2][:1] in (codec.PLAIN, codec.COMPRESSED))

    def _check_size(self, fields: dict[str, bytes], raw_size: int) -> None:
        """One rule: the stored bytes and the uncompressed JSON both within MAX_BYTES (codec.decode's bound)."""
        size = sum(len(field) + len(value) for field, value in fields.items())
        largest = max(size, raw_size)
        if largest > self.options.max_bytes:
            self._undo_counters()
            raise SessionTooLarge(
                f"This session would take {largest} bytes, more than the {self.options.max_bytes} allowed; "
                "nothing was saved, so remove something from it and try again."
            )

    def _user_fields(self, user_id: str) -> list[str]:
        """Unchecked field, value pairs for a change of user: device metadata and layout 1's m:uid."""
        if self.options.layout >= 2:
            return self._device_fields(signed_in=True) if user_id else [layout.DEVICE, ""]
        if user_id:
            return [*self._device_fields(signed_in=True), layout.V1_USER, user_id]
        return [layout.V1_USER, ""]

    def _save_args(
        self, data: dict[str, Any], to_set: dict[str, bytes], to_delete: list[str], user_id: str
    ) -> list[Any]:
        args: list[Any] = [
            *self._header(self._session_idle_ms(data), self._cap_ms(data)),
            len(to_set),
            len(to_delete),
            "1" if self._cleared else "0",
        ]
        for field, value in to_set.items():
            args += [field, value, fingerprint(self._stored.get(field))]
        for field in to_delete:
            args += [field, fingerprint(self._stored[field])]
        if user_id != self._user_id:
            args += self._user_fields(user_id)
        return args

    def _index_call(self, user_id: str, operation: str, *digests: str) -> ScriptCall:
        index = layout.user_index_key(self.options.key_prefix, user_id)
        args = (*self._header(), operation, self.options.max_sessions_per_user, *digests)
        return ScriptCall(INDEX, (index,), tuple(args))

    def _index_steps(self, user_id: str) -> list[Step]:
        """Keep users' session indexes in step when the session's user changes (login, logout)."""
        if user_id == self._user_id:
            return []
        digest = layout.session_digest(self.session_key)
        steps: list[Step] = []
        if self._user_id:
            steps.append(self._index_call(self._user_id, "remove", digest))
        if user_id:
            steps.append(self._index_call(user_id, "add", digest))
        return steps

    def _after_index(self, user_id: str, replies: Sequence[Any]) -> None:
        """Log a foreign index that the script replaced; sign out the sessions dropped over the cap."""
        dropped: list[str] = []
        for reply in replies:
            if isinstance(reply, list) and reply and reply[0] in (b"ok", b"foreign"):
                if reply[0] == b"foreign":
                    warn_foreign("A user's session index")
                dropped += [digest.decode() for digest in reply[1:]]
        if dropped and user_id:
            steps = [
                ScriptCall(REVOKE, (layout.session_hash_key(self.options.key_prefix, d),), (*self._header(), user_id))
                for d in dropped
            ]
            with redis_errors("revocation"):
                revoked = sum(max(int(reply), 0) for reply in run_pipeline(self.redis, steps))
            if revoked:
                stats.record_event("delete", revoked)

    def _create_with(self, extra_steps: Sequence[Step], limit_rate: bool = False) -> None:
        for _ in range(100):
            key = self._get_new_session_key()
            try:
                self._create_once(key, extra_steps, limit_rate)
            except CreateError:
                extra_steps = []  # they ran with the failed attempt
                continue
            return
        raise RuntimeError("Unable to create a new session key: 100 random keys were all taken.")

    def _create_once(self, session_key: str, extra_steps: Sequence[Step], limit_rate: bool = False) -> None:
        """Write the current data and counters under ``session_key``; CreateError when it exists."""
        data = self._get_session(no_load=True)
        wanted, raw_size = self._encode_all(data)
        self._check_size(wanted, raw_size)
        user_id = str(data.get(AUTH_USER_KEY, ""))
        digest = layout.session_digest(session_key)
        key = layout.session_hash_key(self.options.key_prefix, digest)
        args: list[Any] = [*self._header(self._session_idle_ms(data), self._cap_ms(data))]
        for field, value in wanted.items():
            args += [field, value]
        if user_id:
            args += self._user_fields(user_id)
        elif self.options.layout == 1:
            args += self._device_fields(signed_in=False)
        rate = self._rate_step() if limit_rate else None
        steps: list[Step] = [*([rate] if rate else []), ScriptCall(CREATE, (key,), tuple(args)), *extra_steps]
        if user_id:
            steps.append(self._index_call(user_id, "add", digest))
        started = time.perf_counter()
        try:
            with redis_errors("create"):
                replies = run_pipeline(self.redis, steps)
        except ForeignData as error:
            warn_foreign(f"A key this session uses ({error})")
            raise CreateError(str(error)) from error
        stats.observe_latency("save", time.perf_counter() - started)
        if rate:
            self._refuse_over_rate(replies.pop(0), key)
        status = replies[0][0]
        if status != b"ok":
            if status == b"foreign":
                warn_foreign("A new session's key")
            raise CreateError(f"A session hash for digest {digest[:12]}... already exists.")
        self._session_key = session_key
        self._stored = wanted
        self._user_id = user_id
        stats.record_event("create")
        stats.observe_size(sum(len(field) + len(value) for field, value in wanted.items()), raw_size)
        self._after_index(user_id, replies[1 + len(extra_steps) :])

    def _rate_step(self) -> ScriptCall | None:
        rate = self.options.creation_rate
        if rate is None or not self.address:
            return None
        key = layout.creation_key(self.options.key_prefix, self.address)
        return ScriptCall(RATE, (key,), (*self._header(), rate[1] * 1000))

    def _refuse_over_rate(self, reply: list[Any], created_key: str) -> None:
        count, left_ms = int(reply[0]), int(reply[1])
        if count <= self.options.creation_rate[0]:  # type: ignore[index]
            return
        with redis_errors("create"):
            self.redis.delete(created_key)
        stats.record_event("creation_refused")
        retry_after = max(1, -(-left_ms // 1000))
        raise SessionCreationRefused(
            f"Too many new sessions from your address; try again in {retry_after} seconds.", retry_after
        )

    def _report_conflicts(self, fields: list[bytes]) -> None:
        for field in fields:
            stats.record_event("conflict")
            logger.warning(
                "Session field %s was changed by another request after this one loaded it; "
                "this request's value was written over it.",
                field.decode(errors="replace"),
            )


class RedisCounterMap:
    """One named counter map of a SessionStore; every change is one atomic script call, applied once."""

    def __init__(self, store: SessionStore, name: str) -> None:
        self.store = store
        self.name = name

    def items(self) -> dict[str, int]:
        return self.store.counter_values(self.name)

    def add(self, field: str, amount: int, maximum: int, operation_id: str | None = None) -> int:
        return self.store.change_counter(self.name, "add", field, amount, maximum, operation_id)

    def set(self, field: str, value: int, operation_id: str | None = None) -> None:
        self.store.change_counter(self.name, "set", field, value, operation_id=operation_id)

    def remove(self, field: str, operation_id: str | None = None) -> None:
        self.store.change_counter(self.name, "remove", field, operation_id=operation_id)

    def clear(self, operation_id: str | None = None) -> None:
        self.store.change_counter(self.name, "clear", operation_id=operation_id)


# Values that cannot change without being replaced: if still the loaded object, still the loaded bytes.
_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


@lru_cache(maxsize=8)
def _kept_names(keep: tuple[str, ...]) -> list[str]:
    kept = []
    for name in keep:
        kept += [layout.data_field(name, 2), layout.counter_field(name)]
    return kept


def _pairs(flat: list[bytes]) -> list[tuple[bytes, bytes]]:
    return list(zip(flat[0::2], flat[1::2], strict=False))
