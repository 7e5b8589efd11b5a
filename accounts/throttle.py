"""Login throttling per username and per client address, kept in Redis so every instance shares it.

Each failed login adds one to two counters that live for LOGIN_LOCKOUT_SECONDS
from the first failure. At the limit, further attempts are refused before the
password is even checked, with a Retry-After; a successful login clears the
username's counter.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings

from sessiondemo.redis_client import get_redis

audit = logging.getLogger("sessiondemo.audit")


@dataclass(frozen=True)
class Lockout:
    reason: str
    retry_after: int

    @property
    def message(self) -> str:
        minutes = max(1, round(self.retry_after / 60))
        return f"Too many failed logins {self.reason}. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


def _username_key(username: str) -> str:
    # Hashed: the throttle's keys name nobody.
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    return f"{settings.REDIS_KEY_PREFIX}:throttle:user:{digest}"


def _address_key(address: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:throttle:ip:{address}"


@dataclass(frozen=True)
class ThrottleState:
    username_failures: int
    lockout: Lockout | None


def check(username: str, address: str) -> ThrottleState:
    """Recent failures for this username, and the lockout in force, if any (one round trip)."""
    client = get_redis()
    pipeline = client.pipeline(transaction=False)
    for key in (_username_key(username), _address_key(address)):
        pipeline.get(key)
        pipeline.ttl(key)
    user_count, user_ttl, address_count, address_ttl = pipeline.execute()
    user_failures = int(user_count or 0)
    lockout = None
    if user_failures >= settings.LOGIN_FAILURE_LIMIT:
        lockout = Lockout("for this account", max(int(user_ttl), 1))
    elif int(address_count or 0) >= settings.LOGIN_FAILURE_ADDRESS_LIMIT:
        lockout = Lockout("from your network address", max(int(address_ttl), 1))
    return ThrottleState(user_failures, lockout)


def record_failure(username: str, address: str) -> None:
    client = get_redis()
    pipeline = client.pipeline(transaction=False)
    for key in (_username_key(username), _address_key(address)):
        pipeline.incr(key)
        # NX: the window runs from the first failure; more failures don't extend it.
        pipeline.expire(key, settings.LOGIN_LOCKOUT_SECONDS, nx=True)
    pipeline.execute()


def record_success(username: str, state: ThrottleState) -> None:
    # Only when there is something to clear: the usual login costs no extra round trip.
    if state.username_failures:
        get_redis().delete(_username_key(username))
