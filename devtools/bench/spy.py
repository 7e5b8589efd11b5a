"""Count what every redis-py connection sends, whoever built it (our client or django-redis's).

The project's counter (redis_client.count_round_trips) only sees clients from get_redis();
the benchmark must count the stock engines' clients the same way, so it counts below them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from redis.connection import AbstractConnection


@dataclass
class Sent:
    round_trips: int = 0
    commands: int = 0


_active: list[Sent] = []
_installed = False


def count_commands(packed: bytes | list | tuple) -> int:
    """The number of RESP commands in a packed send (a pipeline packs several)."""
    data = b"".join(bytes(chunk) for chunk in packed) if isinstance(packed, (list, tuple)) else bytes(packed)
    commands, position = 0, 0
    while position < len(data) and data[position : position + 1] == b"*":
        end = data.index(b"\r\n", position)
        arguments = int(data[position + 1 : end])
        position = end + 2
        for _ in range(arguments):
            end = data.index(b"\r\n", position)
            length = int(data[position + 1 : end])
            position = end + 2 + length + 2
        commands += 1
    return commands


def install() -> None:
    global _installed
    if _installed:
        return
    original = AbstractConnection.send_packed_command

    def send_packed_command(self, command, check_health=True):  # type: ignore[no-untyped-def]
        if _active:
            commands = count_commands(command)
            for sent in _active:
                sent.round_trips += 1
                sent.commands += commands
        return original(self, command, check_health)

    AbstractConnection.send_packed_command = send_packed_command  # type: ignore[method-assign]
    _installed = True


@contextlib.contextmanager
def counting() -> Iterator[Sent]:
    sent = Sent()
    _active.append(sent)
    try:
        yield sent
    finally:
        _active.remove(sent)
