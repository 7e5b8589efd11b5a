"""One throttle for every door to a login: the site's login, the admin's, password change and sign-up.

Failed logins are counted per username (normalised exactly as Django's login form
normalises it), per client address and per device cookie, in the database: every
instance shares the counts, and Redis evicting a key cannot lift a lockout. Each
count lives for LOGIN_LOCKOUT_SECONDS from its first failure. At a limit, attempts
are refused before the password is checked, with the time left to wait.

A browser that signed in to the account before (its device cookie, accounts.devices)
is not stopped by the username's lockout, so guessing from elsewhere cannot lock the
owner out; its own failures are counted against the cookie instead, so a stolen
cookie is no unlimited oracle (OWASP's "device cookies").
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UsernameField
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from accounts import devices
from accounts.models import ThrottleCount
from sessiondemo.client_address import client_ip

audit = logging.getLogger("sessiondemo.audit")
Scope = ThrottleCount.Scope


def normalize_username(raw: object) -> str:
    """The username as Django's login form hands it to authenticate(): stripped, NFKC, case kept.

    It is the form's own field doing it, so the throttle counts exactly the name that
    is checked: fullwidth or compatibility spellings of a name share its counter, and
    names that differ only in case (distinct users to the default User) do not.
    """
    user_model = get_user_model()
    max_length = user_model._meta.get_field(user_model.USERNAME_FIELD).max_length or 254
    return UsernameField(max_length=max_length).to_python(raw)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Lockout:
    what: str  # the first sentence without its full stop: "Too many failed logins for this account"
    retry_after: int

    @property
    def message(self) -> str:
        minutes = max(1, round(self.retry_after / 60))
        return f"{self.what}. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


@dataclass(frozen=True)
class Attempt:
    """Who is trying to sign in: the normalised username, the client's address, and its device cookie."""

    username: str
    address: str
    device: str | None = None  # the device cookie's nonce, when the cookie names this username

    @classmethod
    def of(cls, request: HttpRequest | None, username: object) -> Attempt:
        name = normalize_username(username)
        if request is None:
            return cls(name, "")
        return cls(name, client_ip(request), devices.nonce_for(request, name))

    def keys(self) -> dict[str, str]:
        keys = {Scope.USERNAME: digest(self.username), Scope.ADDRESS: digest(self.address)}
        if self.device is not None:
            keys[Scope.DEVICE] = digest(self.device)
        return keys


@dataclass(frozen=True)
class ThrottleState:
    """What the counters say about one attempt: the lockout in force, if any, and whom failures count against."""

    lockout: Lockout | None
    trusted_device: bool
    failures: dict[str, int] = field(default_factory=dict)


def check(attempt: Attempt) -> ThrottleState:
    """The lockout in force for this attempt, if any (one query)."""
    counts = _live_counts(attempt.keys())
    failures = {scope: count for scope, (count, _) in counts.items()}
    trusted = attempt.device is not None and failures.get(Scope.DEVICE, 0) < settings.LOGIN_DEVICE_FAILURE_LIMIT
    if trusted:
        return ThrottleState(None, True, failures)
    lockout = None
    if failures.get(Scope.USERNAME, 0) >= settings.LOGIN_FAILURE_LIMIT:
        lockout = Lockout("Too many failed logins for this account", _seconds_left(counts[Scope.USERNAME][1]))
    elif failures.get(Scope.ADDRESS, 0) >= settings.LOGIN_FAILURE_ADDRESS_LIMIT:
        lockout = Lockout("Too many failed logins from your network address", _seconds_left(counts[Scope.ADDRESS][1]))
    return ThrottleState(lockout, False, failures)


def record_failure(attempt: Attempt, state: ThrottleState) -> None:
    """Count a wrong password: against the device cookie when it is trusted, else the username and address."""
    keys = attempt.keys()
    scopes = [Scope.DEVICE] if state.trusted_device else [Scope.USERNAME, Scope.ADDRESS]
    _add_one([(scope, keys[scope]) for scope in scopes], settings.LOGIN_LOCKOUT_SECONDS)


def record_success(attempt: Attempt, state: ThrottleState) -> None:
    """A right password clears the failures it was counted with (no query when there are none).

    The owner signing in from a known device clears that device's count only: guesses
    from elsewhere stay counted, so the owner's login gives an attacker no fresh start.
    """
    scope = Scope.DEVICE if state.trusted_device else Scope.USERNAME
    if state.failures.get(scope):
        ThrottleCount.objects.filter(scope=scope, key=attempt.keys()[scope]).delete()


def signup_lockout(address: str) -> Lockout | None:
    """Refuse a sign-up from an address past its sign-up rate, or locked out for failed logins."""
    counts = _live_counts({Scope.SIGNUP: digest(address), Scope.ADDRESS: digest(address)})
    signups, signups_end = counts.get(Scope.SIGNUP, (0, None))
    if signups >= settings.SIGNUP_ADDRESS_LIMIT and signups_end is not None:
        return Lockout("Too many sign-ups from your network address", _seconds_left(signups_end))
    failures, failures_end = counts.get(Scope.ADDRESS, (0, None))
    if failures >= settings.LOGIN_FAILURE_ADDRESS_LIMIT and failures_end is not None:
        return Lockout("Too many failed logins from your network address", _seconds_left(failures_end))
    return None


def record_signup(address: str) -> None:
    _add_one([(Scope.SIGNUP, digest(address))], settings.SIGNUP_WINDOW_SECONDS)


# --- the counters ------------------------------------------------------------------------


def _matching(keys: list[tuple[str, str]]) -> Q:
    return reduce(or_, (Q(scope=scope, key=key) for scope, key in keys))


def _live_counts(keys: dict[str, str]) -> dict[str, tuple[int, datetime]]:
    rows = ThrottleCount.objects.filter(_matching(list(keys.items())), window_ends__gt=timezone.now())
    return {scope: (count, ends) for scope, count, ends in rows.values_list("scope", "count", "window_ends")}


def _add_one(keys: list[tuple[str, str]], window_seconds: int) -> None:
    """Add one to each counter, starting a window for those with none running: one statement.

    An upsert (INSERT ... ON CONFLICT DO UPDATE, the same in PostgreSQL and SQLite) locks
    each row before it reads the count, so failures counted at once on several instances
    all add up, whether or not the row existed. (An UPDATE followed by an INSERT for the
    keys it missed loses a count when another instance inserts the row in between.)
    """
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(ThrottleCount._meta.db_table)
    scope, key, count, ends = (connection.ops.quote_name(name) for name in ("scope", "key", "count", "window_ends"))
    running = f"{table}.{ends} > %s"
    returning = f" RETURNING {count}" if connection.features.can_return_rows_from_bulk_insert else ""
    statement = (
        f"INSERT INTO {table} ({scope}, {key}, {count}, {ends}) VALUES {', '.join(['(%s, %s, 1, %s)'] * len(keys))} "
        f"ON CONFLICT ({scope}, {key}) DO UPDATE SET "
        f"{count} = CASE WHEN {running} THEN {table}.{count} + 1 ELSE 1 END, "
        f"{ends} = CASE WHEN {running} THEN {table}.{ends} ELSE excluded.{ends} END{returning}"
    )
    window_ends = adapt(now + timedelta(seconds=window_seconds))
    # str(): a Scope member is a str subclass, which a database driver may render by its name.
    parameters = [value for name, hashed in keys for value in (str(name), hashed, window_ends)] + [adapt(now)] * 2
    with connection.cursor() as cursor:
        cursor.execute(statement, parameters)
        started = not returning or any(row[0] == 1 for row in cursor.fetchall())
    if started:
        # Rows whose window is over count for nothing; dropping them as new windows start keeps the table small.
        ThrottleCount.objects.filter(window_ends__lte=now).delete()


def _seconds_left(window_ends: datetime) -> int:
    return max(1, math.ceil((window_ends - timezone.now()).total_seconds()))
