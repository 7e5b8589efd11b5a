"""Errors the session layer raises. A Redis failure and a missing session stay different."""

from __future__ import annotations


class SessionError(Exception):
    """Base class for the session engine's own errors."""


class SessionStoreUnavailable(SessionError):
    """Redis could not be reached or answered with an error: the session is unknown, not empty."""

    retry_after = 5

    def __init__(self, message: str = "", kind: str = "connection") -> None:
        super().__init__(message or "The session store (Redis) is unavailable; try again in a few seconds.")
        self.kind = kind


class SessionTooLarge(SessionError):
    """The session would exceed SESSION_MAX_BYTES once encoded."""


class CounterLimitError(SessionError, ValueError):
    """A counter change would take a value outside its allowed range; nothing was changed."""
