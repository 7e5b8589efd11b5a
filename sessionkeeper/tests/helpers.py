"""Helpers for the engine's tests: key names as the engine derives them, and a round-trip counter."""

from __future__ import annotations

import contextlib
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from redis.connection import AbstractConnection

from sessionkeeper import layout
from sessionkeeper.client import get_client
from sessionkeeper.conf import config


def hash_key(session_key: str) -> str:
    return layout.hash_key_of(config().key_prefix, session_key)


def index_key(user_id: str | int) -> str:
    """Layouts 1 and 2's index of a user's sessions (a sorted set)."""
    return layout.user_index_key(config().key_prefix, user_id)


def account_key(user_id: str | int) -> str:
    return layout.account_key(config().key_prefix, layout.user_tag(user_id))


def indexed(user_id: str | int) -> list[str]:
    """The digests layout 3 indexes for a user, in their account record."""
    fields = get_client().hkeys(account_key(user_id))
    return sorted(field.decode()[2:] for field in fields if field.startswith(layout.INDEX_PREFIX.encode()))


def scan_all(client) -> list[bytes]:
    """Every key on every node (a cluster client's scan_iter visits them all)."""
    return list(client.scan_iter(match="*", count=1000))


def flush_scripts() -> None:
    client = get_client()
    if hasattr(client, "get_primaries"):
        for node in client.get_primaries():
            node.redis_connection.script_flush()
    else:
        client.script_flush()


@dataclass
class Sent:
    round_trips: int = 0


_counting: list[Sent] = []
_original_send = AbstractConnection.send_packed_command


def _counting_send(self, command, check_health=True):  # type: ignore[no-untyped-def]
    for sent in _counting:
        sent.round_trips += 1
    return _original_send(self, command, check_health)


@contextlib.contextmanager
def round_trips() -> Iterator[Sent]:
    """Count every send of every redis-py connection in the block: a pipeline or a script call is one."""
    AbstractConnection.send_packed_command = _counting_send  # type: ignore[method-assign]
    sent = Sent()
    _counting.append(sent)
    try:
        yield sent
    finally:
        _counting.remove(sent)
        if not _counting:
            AbstractConnection.send_packed_command = _original_send  # type: ignore[method-assign]


def extract(archive: tarfile.TarFile, destination: Path, members: Iterable[tarfile.TarInfo] | None = None) -> None:
    """Extract plain files and folders inside ``destination`` and nothing else.

    tarfile's "data" filter does this from Python 3.11.4; Debian 12's Python is 3.11.2, so
    without the filter each member is checked here first.
    """
    if hasattr(tarfile, "data_filter"):
        archive.extractall(destination, members=members, filter="data")
        return
    chosen = list(archive.getmembers() if members is None else members)
    inside = destination.resolve()
    for member in chosen:
        if not (member.isfile() or member.isdir()) or not (inside / member.name).resolve().is_relative_to(inside):
            raise ValueError(f"{member.name} in the archive is not a plain file or folder inside it; not extracted.")
    archive.extractall(destination, members=chosen)
