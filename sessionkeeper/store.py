"""The session engine: ``SESSION_ENGINE = "sessionkeeper.store"``.

One Redis hash per session (layout.py): a field per session key (codec.py), a field per
cart counter changed by atomic scripts, and packed meta fields. A signed-in session of
layout 3 keeps USER_COUNTERS' maps (the cart) in its user's account record, in the same
cluster slot, so every device of the user shares them. A read-only request costs one round
trip (load.lua, the account's counters included) and writes nothing unless the idle expiry
needs sliding; a request that changes the session costs one more (save.lua, only the
changed fields).
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
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, SessionBase, UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.http import HttpRequest
from django.utils.crypto import get_random_string
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ReadOnlyError, RedisClusterException, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sessionkeeper import codec, endings, layout, stats
from sessionkeeper.client import REDIS_FAILURES, RedisClient
from sessionkeeper.conf import Config, config
from sessionkeeper.endings import Ending
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
    RETIRE,
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
            kind = write_refusal(error) or "response"
            stats.record_redis_error(kind)
            raise SessionStoreUnavailable(
                f"Redis answered the session {self.operation} with an error ({error}); try again in a few seconds.",
                kind=kind,
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


def write_refusal(error: ResponseError) -> str | None:
    """The kind of refusal when Redis answers but will not write (exceptions.WRITE_REFUSALS), else None."""
    if isinstance(error, OutOfMemoryError):
        return "full"  # over maxmemory, and noeviction frees nothing
    if isinstance(error, ReadOnlyError):
        return "read_only"  # a replica, for example mid-failover
    if str(error).startswith(("MISCONF", "NOREPLICAS")):
        return "refusing_writes"  # it cannot persist, or has too few replicas to write
    return None


def warn_foreign(where: str) -> None:
    stats.record_event("corrupt")
    security_logger.warning("%s held data this session engine did not write; it was set aside.", where)


def fingerprint(value: bytes | None) -> bytes | str:
    """What save.lua compares the current value with: '' for none, the value itself (after '=')
    when it is no longer than a SHA-1, else the SHA-1 that redis.sha1hex() gives."""
    if value is None:
        return ""
    if len(value) < 40:
        return b"=" + value
    return hashlib.sha1(value).hexdigest()


def operation_key(operation_id: str | None) -> str:
    """A short id for counter.lua: a caller's id (an Idempotency-Key) hashed, else a fresh random one."""
    if operation_id is None:
        return secrets.token_urlsafe(6)[:8]
    return base64.urlsafe_b64encode(hashlib.sha256(operation_id.encode()).digest()[:6]).decode()


def index_call(
    options: Config, header: Sequence[Any], user_id: str, operation: str, *digests: str, tagged: bool
) -> ScriptCall:
    """A call of index.lua: on the user's account record (layout-3 sessions) or on layouts 1-2's sorted set."""
    prefix = options.key_prefix
    if tagged:
        key, kind = layout.account_key(prefix, layout.user_tag(user_id)), "account"
    else:
        key, kind = layout.user_index_key(prefix, user_id), "zset"
    return ScriptCall(INDEX, (key,), (*header, operation, options.max_sessions_per_user, kind, *digests))


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
        # Why the session this request's cookie named is over, when it is (endings.py); set by the load.
        self.ending: Ending | None = None
        # This request's counter changes, (field, change, kept with the account), to take back if refused.
        self._journal: list[tuple[str, int, bool]] = []
        self._keyed: tuple[str | None, str, str | None] = (None, "", None)
        self._request: weakref.ref[HttpRequest] | None = None
        # A hash past its limit whose kept keys this request carries over (load.lua leaves it until then).
        self._expired_hash: str | None = None
        # Redis's clock as the load read it, in ms, and when (time.monotonic()): see _now_arg.
        self._redis_clock: tuple[int, float] | None = None
        self._login_checked = False
        self._forget_stored()

    # --- what the request tells us about the client ---------------------------------

    def bind_client(
        self, user_agent: str = "", ip: str = "", instance: str = "", request: HttpRequest | None = None
    ) -> None:
        """Remember who is asking; stored with signed-in sessions. Costs no round trip.

        With ``request``, a session's login is checked by Django (``request.user``) before its
        account's counters are read or changed: a session whose auth hash no longer matches (a
        password change, a sign-out cutoff) is flushed then, and never reaches the account.
        """
        self.user_agent = user_agent[:512]
        self.address = ip[:64]
        self.instance = instance
        self._request = weakref.ref(request) if request is not None else None

    # --- Django's SessionBase contract ------------------------------------------------

    def exists(self, session_key: str | None) -> bool:
        if not session_key:
            return False
        try:
            with redis_errors("lookup"):
                ended, meta, meta_v1 = self.redis.hmget(
                    self._key(session_key), layout.ENDED, layout.META, layout.V1_SEEN
                )
        except ForeignData:
            return True  # another type under the key: the key is taken all the same
        return ended is None and (meta is not None or meta_v1 is not None)

    def load(self) -> dict[str, Any]:
        """Read the session (and its account's counters) in one round trip; slide the idle expiry when that matters."""
        if self.session_key is None:
            return {}  # no key, nothing to read: and nothing is created (Django's contract)
        started = time.perf_counter()
        try:
            with redis_errors("load"):
                reply = LOAD(self.redis, self._load_keys(), self._load_args())
        except ForeignData as error:
            return self._start_over_after_corruption(str(error))
        finally:
            stats.observe_latency("load", time.perf_counter() - started)
        stats.record_event("load")
        status = reply[0]
        if status == b"hit":
            return self._hit(reply)
        if status == b"corrupt":
            return self._start_over_after_corruption("the session hash has no expiry fields")
        if status == b"foreign":
            return self._start_over_after_corruption("the session's key holds another Redis type")
        if status == b"grace":
            return self._recover_in_grace(reply)
        return self._over(reply)

    def create(self) -> None:
        """Store the current data under a new, unused key; one round trip."""
        self._create_with(self._leaving_steps(), limit_rate=True)
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        """Write the fields this request changed; UpdateError when the session was deleted meanwhile.

        A session that has just signed in moves, in layout 3, to a key tagged with its user (a new
        cookie), and its guest counters merge into the account's: the login's one write.
        """
        if must_create and self.session_key is not None:
            return self._create_once(self.session_key, [])
        data = self._get_session()  # a load that finds nothing unsets the key
        if self.session_key is None:
            return self.create()
        if self._needs_move(data):
            return self._move()
        user_id = str(data.get(AUTH_USER_KEY, ""))
        wanted, raw_size = self._encode_all(data)
        to_set = {field: value for field, value in wanted.items() if self._stored.get(field) != value}
        to_delete = [field for field in self._stored if field not in wanted]
        if not to_set and not to_delete and user_id == self._user_id and not self._cleared:
            return  # nothing changed since the load or the last counter operation: no round trip
        size = self._check_size(wanted, raw_size)
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
        self._after_index(user_id, replies[1:], tagged=self._tag is not None)
        self._stored = wanted
        self._user_id = user_id
        self._cleared = False
        stats.record_event("save")
        stats.observe_size(size, raw_size)

    def delete(self, session_key: str | None = None) -> None:
        """Delete a session (logout, flush); the user's index entry goes in the same round trip."""
        current = session_key is None or session_key == self.session_key
        session_key = session_key or self.session_key
        if session_key is None:
            return
        steps: list[Step] = [Command(("DEL", self._key(session_key)))]
        if current and self._user_id:
            tagged = layout.cookie_tag(session_key) is not None
            steps.append(self._index_call(self._user_id, "remove", layout.session_digest(session_key), tagged=tagged))
        with redis_errors("delete"):
            replies = run_pipeline(self.redis, steps)
        if len(replies) > 1:
            self._after_index("", replies[1:], tagged=False)
        stats.record_event("delete")
        if current:
            self._forget_stored()

    def cycle_key(self) -> None:
        """A new key for the same data (login): create the new hash and delete the old in one pipeline."""
        data = self._session
        self._create_with(self._leaving_steps())
        self._session_cache = data
        self.modified = True

    def clear(self) -> None:
        super().clear()
        self._counters = {}
        self._account_maps = frozenset()
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

    def _new_key_for(self, user_id: str) -> str:
        """A new cookie: in layout 3 a signed-in session's carries its user's tag (layout.tagged_cookie)."""
        if user_id and self.options.layout >= 3:
            return layout.tagged_cookie(get_random_string(layout.V2_KEY_LENGTH, VALID_KEY_CHARS), user_id)
        return self._get_new_session_key()

    # --- counters: the cart's atomic increments ---------------------------------------

    def counters(self, name: str) -> RedisCounterMap:
        """The counter map ``name`` of this session (for example the cart: sku -> quantity)."""
        if ":" in name:
            raise ValueError(f"A counter map name cannot contain ':', and {name!r} does.")
        return RedisCounterMap(self, name)

    def counter_values(self, name: str) -> dict[str, int]:
        self._get_session()
        if name in self._account_maps:
            self._check_login()
        return dict(self._counters.get(name, {}))

    def _check_login(self) -> None:
        """Let Django check this session's login before its account is reached (see bind_client)."""
        if self._login_checked or self._request is None:
            return
        self._login_checked = True
        request = self._request()
        user = getattr(request, "user", None)
        if user is not None:
            user.is_authenticated  # noqa: B018 - resolving it runs django.contrib.auth.get_user

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
        data = self._get_session()
        if name in self._account_maps:
            self._check_login()
            data = self._get_session()
        if self.session_key is None or self._needs_move(data):
            self.save()  # a new session, or one that must first move to its user's key
        account = name in self._account_maps
        target = layout.counter_field(name, field if operation != "clear" else "")
        if operation in {"add", "set"} and target not in self._stored:
            self._check_size({**self._stored, **self._account_fields(), target: b"0" * 20}, 0)
        idle = self._session_idle_ms(self._get_session(), counter_map=name)
        user = self._user_id if account else ""
        args = [*self._header(idle), operation, target, amount, maximum, operation_key(operation_id), user]
        reply = self._run_counter(args, account)
        value = int(reply[1])
        if operation == "clear":
            self._counters.pop(name, None)
            if account:
                self._counters[name] = {}
            self._journal += [(field.decode(), int(count), account) for field, count in _pairs(reply[2:])]
            self._stored = {f: v for f, v in self._stored.items() if not f.startswith(target)}
        else:
            self._journal.append((target, -int(reply[2]), account))
            self._mirror_counter(name, field, target, value)
        # The cookie must be set (a new session), but save() finds nothing left to write.
        self.modified = True
        stats.record_event("save")
        return value

    def _run_counter(self, args: list[Any], account: bool) -> list[Any]:
        keys = [self._hash_key, self._account_key] if account else [self._hash_key]
        try:
            with redis_errors("counter change"):
                reply = COUNTER(self.redis, keys, args)
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
            warn_foreign("The session's key or its account record")
            raise SessionInterrupted("This session's data in Redis was not this engine's; it was left unchanged.")
        if status == b"limit":
            current = int(reply[1])
            target = args[len(layout.HEADER) + 1]
            name, _, field = target[len(layout.COUNTER_PREFIX) :].partition(":")
            self._mirror_counter(name, field, target, current)
            raise CounterLimitError(
                f"{field} cannot change by {args[len(layout.HEADER) + 2]}: it is {current}, "
                f"and it must stay between 0 and {args[len(layout.HEADER) + 3]}."
            )
        return reply

    def _undo_counters(self) -> None:
        """Take back this request's counter changes: a request refused for size applies none."""
        changes = [(field, change, account) for field, change, account in self._journal if change]
        self._journal = []
        if not changes or self.session_key is None:
            return
        for account in (False, True):
            pairs = [item for field, change, held in changes if held is account for item in (field, change)]
            if not pairs:
                continue
            keys = [self._hash_key, self._account_key] if account else [self._hash_key]
            user = self._user_id if account else ""
            args = [*self._header(), "undo", "", 0, 0, operation_key(None), user, *pairs]
            with redis_errors("counter undo"):
                COUNTER(self.redis, keys, args)
        stats.record_event("undo")
        for field, change, _ in changes:
            name, _, counter = field[len(layout.COUNTER_PREFIX) :].partition(":")
            current = self._counters.get(name, {}).get(counter, 0) + change
            self._mirror_counter(name, counter, field, current)

    def _mirror_counter(self, name: str, field: str, target: str, value: int) -> None:
        values = self._counters.setdefault(name, {})
        account = name in self._account_maps
        if value > 0:
            values[field] = value
            if not account:
                self._stored[target] = str(value).encode()
        else:
            values.pop(field, None)
            if not account:
                self._stored.pop(target, None)

    def _account_fields(self) -> dict[str, bytes]:
        """The account's counters as stored, for the one size rule: they are this session's data too."""
        return {
            layout.counter_field(name, counter): str(value).encode()
            for name in self._account_maps
            for counter, value in self._counters.get(name, {}).items()
        }

    # --- internals -----------------------------------------------------------------------

    @property
    def redis(self) -> RedisClient:
        return self.options.client_factory()

    def _key(self, session_key: str) -> str:
        # A load and a save of one request name the same key: hash the cookie once.
        if session_key is not self._keyed[0] and session_key != self._keyed[0]:
            tag = layout.cookie_tag(session_key)
            digest = layout.session_digest(session_key)
            self._keyed = (session_key, layout.session_hash_key(self.options.key_prefix, digest, tag), tag)
        return self._keyed[1]

    @property
    def _hash_key(self) -> str:
        return self._key(self.session_key)

    @property
    def _tag(self) -> str | None:
        """The user tag of this session's cookie (layout 3, signed in), or None."""
        session_key = self.session_key
        if session_key is None:
            return None
        if session_key is not self._keyed[0]:
            self._key(session_key)
        return self._keyed[2]

    @property
    def _account_key(self) -> str:
        return layout.account_key(self.options.key_prefix, self._tag or layout.user_tag(self._user_id))

    def _forget_stored(self) -> None:
        # What Redis holds for this session as far as this request knows: field -> stored bytes.
        self._stored: dict[str, bytes] = {}
        # Loaded values: key -> (the object, its field, its stored bytes, its raw size).
        self._loaded: dict[str, tuple[Any, str, bytes, int]] = {}
        self._counters: dict[str, dict[str, int]] = {}
        # The counter maps this session reads from and changes in its account record (layout 3).
        self._account_maps: frozenset[str] = frozenset()
        # The cookie of the session the counters were loaded from: their merge into an account happens once.
        self._origin = ""
        self._user_id = ""
        self._cleared = False

    def _now_ms(self) -> int:
        return int((self.clock or time.time)() * 1000)

    def _header(self, session_idle_ms: int | None = None, cap_ms: int | None = None) -> list[Any]:
        """The arguments every script call starts with (layout.HEADER, read by lua/_layout.lua)."""
        return [
            self._now_arg(),
            "" if cap_ms is None else cap_ms,
            "" if session_idle_ms is None else session_idle_ms,
        ]

    def _now_arg(self) -> str:
        """The time a script is to use: the test clock, else Redis's clock as this request's load read it,
        moved on by the time since (so a write after a load spares its script the TIME call), else ''
        (the script asks Redis). Every instance thus keeps to Redis's clock, whatever its own says."""
        if self.clock is not None:
            return str(self._now_ms())
        if self._redis_clock is None:
            return ""
        read_ms, read_at = self._redis_clock
        return str(read_ms + int((time.monotonic() - read_at) * 1000))

    def _load_keys(self) -> list[str]:
        key = self._hash_key
        if self._tag is not None and self.options.user_counters:
            return [key, self._account_key]
        return [key]

    def _load_args(self) -> list[Any]:
        device = self._device_fields(signed_in=True)
        now = str(self._now_ms()) if self.clock is not None else ""  # a load reads Redis's clock afresh
        return [now, "", "", len(device) // 2, *device]

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

    # --- what a load found ------------------------------------------------------------

    def _hit(self, reply: list[Any]) -> dict[str, Any]:
        stats.record_event("hit")
        if reply[1] == b"1":
            stats.record_event("slide")
        self._redis_clock = (int(reply[4]), time.monotonic())
        try:
            data = self._adopt(_pairs(reply[2]))
        except codec.CorruptValue as error:
            return self._start_over_after_corruption(str(error))
        tag = self._tag
        if tag is not None and self._user_id and tag != layout.user_tag(self._user_id):
            return self._start_over_after_corruption("a signed-in session's key names another user")
        self._origin = self.session_key
        if tag is not None and self._user_id:
            self._adopt_account(reply[3])
        if self._needs_move(data):
            self.modified = True  # a layout-2 signed-in session: moved to its user's key when saved
        return data

    def _adopt_account(self, counters: list[bytes] | bytes) -> None:
        """The account's counters: the maps this session shares with every device of its user."""
        if counters == b"none":
            return  # no map is kept with the account (USER_COUNTERS)
        self._account_maps = self.options.user_counter_names
        for name in self._account_maps:
            self._counters[name] = {}
        if counters == b"foreign":
            warn_foreign("A user's account record")
            return
        for field, value in _pairs(counters):
            name, _, counter = field.decode()[len(layout.COUNTER_PREFIX) :].partition(":")
            try:
                self._counters[name][counter] = int(value)
            except (ValueError, KeyError):
                warn_foreign("A counter of a user's account record")

    def _needs_move(self, data: dict[str, Any]) -> bool:
        """A signed-in session not yet under its user's key (a login, or a layout-2 session) in layout 3."""
        user_id = data.get(AUTH_USER_KEY)
        return bool(user_id) and self.options.layout >= 3 and self._tag != layout.user_tag(str(user_id))

    def _over(self, reply: list[Any]) -> dict[str, Any]:
        """Nothing to load: expired past its grace, buried (a tombstone), or never there."""
        status = reply[0]
        idle_seconds = self.options.idle_ms // 1000
        if status == b"expired":
            self.ending = Ending(reply[1].decode(), reply[3] == b"1", False, int(reply[2]) // 1000)
        elif status == b"ended":
            self.ending = Ending(reply[1].decode(errors="replace"), True, False, idle_seconds)
        elif self._tag is not None:
            self.ending = Ending(endings.ENDED, True, False, idle_seconds)
        stats.record_event("expired" if status == b"expired" else "miss")
        self._session_key = None
        return {}

    def _adopt(self, fields: list[tuple[bytes, bytes]]) -> dict[str, Any]:
        """Decode a loaded hash; remember what was stored so save() writes only changes."""
        data: dict[str, Any] = {}
        self._forget_stored()
        max_bytes = self.options.max_bytes
        stored, loaded = self._stored, self._loaded
        for raw_field, value in fields:
            field = raw_field.decode()
            if field == layout.USER_FIELD:
                data[AUTH_USER_KEY] = value.decode()
                stored[field] = value
                loaded[AUTH_USER_KEY] = (data[AUTH_USER_KEY], field, value, len(value) + 2)
            elif (key := layout.data_key(field)) is not None:
                data[key] = codec.decode(value, max_bytes)
                stored[field] = value
                loaded[key] = (data[key], field, value, codec.raw_size(value))
            elif field.startswith(layout.COUNTER_PREFIX):
                name, _, counter = field[len(layout.COUNTER_PREFIX) :].partition(":")
                try:
                    self._counters.setdefault(name, {})[counter] = int(value)
                except ValueError as error:
                    raise codec.CorruptValue(f"The counter {field!r} is not a whole number.") from error
                self._stored[field] = value
        self._user_id = str(data.get(AUTH_USER_KEY, ""))
        return data

    def _recover_in_grace(self, reply: list[Any]) -> dict[str, Any]:
        """Expired within the grace period: a fresh anonymous session that keeps the kept keys."""
        stats.record_event("expired")
        reason, idle_seconds, signed_in = reply[1].decode(), int(reply[2]) // 1000, reply[3] == b"1"
        # load.lua left the hash: it goes when the session that carries its keys is written.
        self._expired_hash = self._hash_key
        self._session_key = None
        try:
            data = self._adopt(_pairs(reply[4:]))
        except codec.CorruptValue as error:
            return self._start_over_after_corruption(str(error))
        data.pop(AUTH_USER_KEY, None)  # never carried, whatever KEEP says
        # Nothing of this is in Redis yet: the next save creates the new session with all of it.
        self._stored = {}
        self._user_id = ""
        kept = bool(data or any(self._counters.values()))
        if kept:
            stats.record_event("grace_recovery")
            self.modified = True
        self.ending = Ending(reason, signed_in, kept, idle_seconds)
        return data

    def _start_over_after_corruption(self, reason: str) -> dict[str, Any]:
        stats.record_event("corrupt")
        security_logger.warning("Session data in Redis could not be read (%s); starting an empty session.", reason)
        self._forget_stored()
        self._session_key = None
        return {}

    # --- what a write sends -----------------------------------------------------------

    def _encode_all(
        self, data: dict[str, Any], leave_out: frozenset[str] | None = None
    ) -> tuple[dict[str, bytes], int]:
        """The session's fields as stored; the counters of the maps in ``leave_out`` (by default those
        its account keeps) are not the session hash's."""
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
        leave_out = self._account_maps if leave_out is None else leave_out
        for name, values in self._counters.items():
            if name not in leave_out:
                for counter, value in values.items():
                    wanted[layout.counter_field(name, counter)] = str(value).encode()
        return wanted, raw_size

    def _same_form(self, key: str, known: tuple[Any, str, bytes, int]) -> bool:
        """Whether a loaded value is stored as this layout would store it (else it is written anew)."""
        version = self.options.layout
        field = layout.USER_FIELD if key == AUTH_USER_KEY and version >= 2 else layout.data_field(key, version)
        return known[1] == field and (version >= 2 or known[2][:1] in (codec.PLAIN, codec.COMPRESSED))

    def _check_size(self, fields: dict[str, bytes], raw_size: int) -> int:
        """One rule: the stored bytes and the uncompressed JSON both within MAX_BYTES (codec.decode's bound).
        Returns the stored bytes."""
        size = sum(len(field) + len(value) for field, value in fields.items())
        largest = max(size, raw_size)
        if largest > self.options.max_bytes:
            self._undo_counters()
            raise SessionTooLarge(
                f"This session would take {largest} bytes, more than the {self.options.max_bytes} allowed; "
                "nothing was saved, so remove something from it and try again."
            )
        return size

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

    # --- users' indexes ---------------------------------------------------------------

    def _index_call(self, user_id: str, operation: str, *digests: str, tagged: bool) -> ScriptCall:
        return index_call(self.options, self._header(), user_id, operation, *digests, tagged=tagged)

    def _index_steps(self, user_id: str) -> list[Step]:
        """Keep users' session indexes in step when the session's user changes (a login in layouts 1-2, a logout)."""
        if user_id == self._user_id:
            return []
        digest = layout.session_digest(self.session_key)
        tagged = self._tag is not None
        steps: list[Step] = []
        if self._user_id:
            steps.append(self._index_call(self._user_id, "remove", digest, tagged=tagged))
        if user_id:
            steps.append(self._index_call(user_id, "add", digest, tagged=tagged))
        return steps

    def _after_index(self, user_id: str, replies: Sequence[Any], tagged: bool) -> None:
        """Log a foreign index that the script replaced; sign out the sessions dropped over the cap."""
        dropped: list[str] = []
        for reply in replies:
            if isinstance(reply, list) and reply and reply[0] in (b"ok", b"foreign"):
                if reply[0] == b"foreign":
                    warn_foreign("A user's session index")
                dropped += [digest.decode() for digest in reply[1:]]
        if dropped and user_id:
            self._sign_out_dropped(user_id, dropped, tagged)

    def _sign_out_dropped(self, user_id: str, digests: list[str], tagged: bool) -> None:
        """Sessions dropped from a full index end too: one call in the user's slot (layout 3), or one per session."""
        prefix, header = self.options.key_prefix, self._header()
        if tagged:
            tag = layout.user_tag(user_id)
            keys = tuple(layout.session_hash_key(prefix, digest, tag) for digest in digests)
            steps: list[Step] = [ScriptCall(REVOKE, keys, (*header, user_id, endings.LIMIT, "0"))]
        else:
            steps = [
                ScriptCall(REVOKE, (layout.session_hash_key(prefix, digest),), (*header, user_id, "", "0"))
                for digest in digests
            ]
        with redis_errors("revocation"):
            revoked = sum(int(reply[0]) for reply in run_pipeline(self.redis, steps))
        if revoked:
            stats.record_event("delete", revoked)

    # --- creating a session -----------------------------------------------------------

    def _leaving_steps(self) -> list[Step]:
        """What a new key leaves behind: the old hash (or one past its limit whose kept keys this
        request carries over), and its entry in its user's index."""
        steps: list[Step] = []
        if self._expired_hash:
            steps.append(self._retire_call(self._expired_hash))
            self._expired_hash = None
        old_key = self.session_key
        if not old_key:
            return steps
        steps.append(self._retire_call(self._key(old_key)))
        if self._user_id:
            digest = layout.session_digest(old_key)
            steps.append(self._index_call(self._user_id, "remove", digest, tagged=self._tag is not None))
        stats.record_event("delete")
        return steps

    def _retire_call(self, key: str) -> ScriptCall:
        """Delete a replaced session, but never when Redis refused its replacement (retire.lua)."""
        return ScriptCall(RETIRE, (key,), tuple(self._header()))

    def _move(self) -> None:
        """A signed-in session moves to a key tagged with its user (layout 3): a login, or an older session."""
        self._create_with(self._leaving_steps())
        self.modified = True

    def _create_with(self, extra_steps: Sequence[Step], limit_rate: bool = False) -> None:
        user_id = str(self._get_session(no_load=True).get(AUTH_USER_KEY, ""))
        for _ in range(100):
            key = self._new_key_for(user_id)
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
        user_id = str(data.get(AUTH_USER_KEY, ""))
        tag = layout.cookie_tag(session_key) if user_id else None
        merging = self._merging() if tag is not None else {}
        # A tagged session's account keeps USER_COUNTERS' maps; an untagged one keeps every counter itself.
        wanted, raw_size = self._encode_all(data, self.options.user_counter_names if tag else frozenset())
        self._check_size({**wanted, **self._account_fields()}, raw_size)
        digest = layout.session_digest(session_key)
        key = layout.session_hash_key(self.options.key_prefix, digest, tag)
        create = self._create_call(key, data, wanted, user_id, tag, merging)
        rate = self._rate_step() if limit_rate else None
        steps: list[Step] = [*([rate] if rate else []), create, *extra_steps]
        if user_id and tag is None:
            steps.append(self._index_call(user_id, "add", digest, tagged=False))
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
        self._created(session_key, wanted, user_id, tag, replies[0])
        stats.record_event("create")
        stats.observe_size(sum(len(field) + len(value) for field, value in wanted.items()), raw_size)
        self._after_index(user_id, replies[1 + len(extra_steps) :], tagged=False)

    def _create_call(
        self,
        key: str,
        data: dict[str, Any],
        wanted: dict[str, bytes],
        user_id: str,
        tag: str | None,
        merging: dict[str, dict[str, int]],
    ) -> ScriptCall:
        fields: list[Any] = [item for field, value in wanted.items() for item in (field, value)]
        if user_id:
            fields += self._user_fields(user_id)
        elif self.options.layout == 1:
            fields += self._device_fields(signed_in=False)
        args: list[Any] = [*self._header(self._session_idle_ms(data), self._cap_ms(data)), len(fields), *fields]
        if tag is None:
            return ScriptCall(CREATE, (key,), tuple(args))
        maximum = dict(self.options.user_counters)
        args += [self.options.max_sessions_per_user, operation_key(f"merge {layout.session_digest(self._origin)}")]
        for name, values in merging.items():
            for counter, amount in values.items():
                args += [layout.counter_field(name, counter), amount, maximum[name]]
        account = layout.account_key(self.options.key_prefix, tag)
        return ScriptCall(CREATE, (key, account), tuple(args))

    def _merging(self) -> dict[str, dict[str, int]]:
        """The guest's counters of the maps an account keeps: merged into the account's at sign-in."""
        return {
            name: dict(values)
            for name, values in self._counters.items()
            if name in self.options.user_counter_names and name not in self._account_maps and values
        }

    def _created(self, session_key: str, wanted: dict[str, bytes], user_id: str, tag: str | None, reply: list) -> None:
        """What this request now knows of the session it created (and of its account's counters)."""
        self._session_key = session_key
        self._stored = wanted
        self._user_id = user_id
        self._origin = self._origin or session_key
        if tag is None:
            self._account_maps = frozenset()
            return
        count = int(reply[1])
        dropped = [digest.decode() for digest in reply[2 : 2 + count]]
        account = reply[2 + count :]
        if len(account) % 2 == 1 and account[-1] == b"foreign":  # the record held another type: replaced
            warn_foreign("A user's account record")
            account = account[:-1]
        self._adopt_account(account)
        if dropped:
            self._sign_out_dropped(user_id, dropped, tagged=True)

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


def _pairs(flat: list[bytes]) -> list[tuple[bytes, bytes]]:
    return list(zip(flat[0::2], flat[1::2], strict=False))
