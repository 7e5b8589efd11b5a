"""Errors the engine raises. A Redis failure and a missing session stay different."""

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
    """The session would exceed MAX_BYTES (stored or uncompressed); none of the request's changes were kept."""


class SessionCreationRefused(SessionError):
    """This client address created more sessions than CREATION_RATE allows; try again after ``retry_after``."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CounterLimitError(SessionError, ValueError):
    """A counter change would take a value outside its allowed range; nothing was changed."""


class ForeignData(SessionError):
    """A key the engine uses holds something this engine did not write."""
