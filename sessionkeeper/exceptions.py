"""Errors the engine raises. A Redis failure and a missing session stay different."""

from __future__ import annotations


class SessionError(Exception):
    """Base class for the session engine's own errors."""


# What a shopper is told when Redis answers but refuses to write, by the kind of refusal.
WRITE_REFUSALS = {
    "full": "The session store is full and refuses changes, so nothing was changed; "
    "pages that only show things still work. Try again later.",
    "read_only": "The session store is read-only for a moment (a failover), so nothing was changed; "
    "pages that only show things still work. Try again shortly.",
    "refusing_writes": "The session store refuses changes (it cannot save them to disk), so nothing was changed; "
    "pages that only show things still work. Try again later.",
}
UNREACHABLE = "The session store is unavailable for a moment; your session is kept. Try again shortly."


class SessionStoreUnavailable(SessionError):
    """Redis could not be reached or answered with an error: the session is unknown, not empty.

    ``kind`` names the failure: connection, timeout, cluster, credentials, response, or a refusal
    to write (full, read_only, refusing_writes) from a Redis that still answers reads.
    """

    retry_after = 5

    def __init__(self, message: str = "", kind: str = "connection") -> None:
        super().__init__(message or "The session store (Redis) is unavailable; try again in a few seconds.")
        self.kind = kind

    @property
    def refuses_writes(self) -> bool:
        return self.kind in WRITE_REFUSALS

    @property
    def sentence(self) -> str:
        """What to tell the user: the refusal's cause, or that the store is out of reach."""
        return WRITE_REFUSALS.get(self.kind, UNREACHABLE)


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
