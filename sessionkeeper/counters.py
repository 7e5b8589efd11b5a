"""Named maps of integer counters kept in the session (the cart's sku -> quantity).

The engine keeps each counter as its own field in the session's Redis
hash and changes it with an atomic server-side script, so concurrent requests
never lose an increment. Stock engines get the same interface over a dict
stored in the session (and the lost updates that come with read-modify-write).
"""

from __future__ import annotations

from typing import Protocol

from sessionkeeper.exceptions import CounterLimitError


class CounterMap(Protocol):
    def items(self) -> dict[str, int]:
        """The counters' current values."""

    def add(self, field: str, amount: int, maximum: int, operation_id: str | None = None) -> int:
        """Add ``amount`` (negative to take away) to ``field`` and return the new value.

        Raise CounterLimitError, changing nothing, when the result would exceed ``maximum``
        or go below zero. A counter that reaches zero is removed. An ``operation_id`` seen
        again (a client retrying with its Idempotency-Key) changes nothing and gets the
        first answer.
        """

    def set(self, field: str, value: int, operation_id: str | None = None) -> None:
        """Set ``field`` to ``value``; zero or less removes it."""

    def remove(self, field: str, operation_id: str | None = None) -> None:
        """Remove ``field``; removing an absent field is not an error."""

    def clear(self, operation_id: str | None = None) -> None:
        """Remove every counter of this map."""


class SessionDictCounters:
    """The fallback for stock engines: a dict of counters under one session key."""

    def __init__(self, session, name: str) -> None:  # type: ignore[no-untyped-def]
        self.session = session
        self.name = name

    def items(self) -> dict[str, int]:
        return dict(self.session.get(self.name, {}))

    def _store(self, values: dict[str, int]) -> None:
        self.session[self.name] = values

    def add(self, field: str, amount: int, maximum: int, operation_id: str | None = None) -> int:
        values = self.items()
        current = values.get(field, 0)
        new_value = current + amount
        if new_value > maximum or new_value < 0:
            raise CounterLimitError(
                f"{field} cannot change by {amount}: it is {current}, and it must stay between 0 and {maximum}."
            )
        self.set(field, new_value)
        return new_value

    def set(self, field: str, value: int, operation_id: str | None = None) -> None:
        values = self.items()
        if value > 0:
            values[field] = value
        else:
            values.pop(field, None)
        self._store(values)

    def remove(self, field: str, operation_id: str | None = None) -> None:
        values = self.items()
        if values.pop(field, None) is not None:
            self._store(values)

    def clear(self, operation_id: str | None = None) -> None:
        if self.name in self.session:
            del self.session[self.name]


def counters_for(session, name: str) -> CounterMap:  # type: ignore[no-untyped-def]
    """The engine's atomic counters when it has them, else the dict fallback."""
    if hasattr(session, "counters"):
        return session.counters(name)
    return SessionDictCounters(session, name)
