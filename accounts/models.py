"""What the site keeps about accounts in the database, where Redis's eviction cannot reach it.

Users are Django's own auth.User; sessions live in Redis. Two security facts live
here instead of in Redis: the login throttle's counters (a lockout that an evicted
key would lift is no lockout) and each user's sign-out cutoff (a revocation that an
evicted session index would forget is no revocation).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.utils.crypto import salted_hmac


class ThrottleCount(models.Model):
    """Failed logins of one username, address or device cookie (or sign-ups from one address) in a window."""

    class Scope(models.TextChoices):
        USERNAME = "username"
        ADDRESS = "address"
        DEVICE = "device"
        SIGNUP = "signup"

    scope = models.CharField(max_length=8, choices=Scope.choices)
    # The SHA-256 of the username, address or device nonce: the table names nobody.
    key = models.CharField(max_length=64)
    count = models.PositiveIntegerField()
    # The window runs from the first event; later ones count inside it without extending it.
    window_ends = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="throttle_count_one_row_per_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key[:12]}: {self.count} until {self.window_ends:%Y-%m-%d %H:%M:%S}"


class SessionCutoff(models.Model):
    """Every session of this user signed in before ``sessions_valid_after`` is signed out."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="session_cutoff"
    )
    sessions_valid_after = models.DateTimeField()

    def __str__(self) -> str:
        return f"user {self.user_id}: sessions valid after {self.sessions_valid_after.isoformat()}"


CUTOFF_HASH_SALT = "accounts.models.SiteUser.get_session_auth_hash"


class SiteUser(User):
    """Django's User, whose session hash also covers the user's sign-out cutoff.

    Django checks a signed-in session's hash against the user's on every request that
    loads the user (django.contrib.auth.get_user), and ends the session when they
    differ; that is how a password change signs out every other session. Folding the
    cutoff into the hash gives "sign out everywhere" the same check, with the cutoff
    read in the same query as the user (accounts.backends.AccountBackend.get_user).
    Without a cutoff the hash is Django's own, so existing sessions stay valid.
    """

    class Meta:
        proxy = True

    @property
    def sessions_valid_after(self) -> datetime | None:
        try:
            return self.session_cutoff.sessions_valid_after
        except SessionCutoff.DoesNotExist:
            return None

    def get_session_auth_hash(self) -> str:
        if self.sessions_valid_after is None:
            return super().get_session_auth_hash()
        return self._hash_with_cutoff(settings.SECRET_KEY)

    def get_session_auth_fallback_hash(self):  # type: ignore[no-untyped-def]
        if self.sessions_valid_after is None:
            yield from super().get_session_auth_fallback_hash()
            return
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._hash_with_cutoff(secret)

    def _hash_with_cutoff(self, secret: str) -> str:
        value = f"{self.password}|{self.sessions_valid_after.isoformat()}"
        return salted_hmac(CUTOFF_HASH_SALT, value, secret=secret, algorithm="sha256").hexdigest()
