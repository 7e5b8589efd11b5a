"""Redis key names for sessions and users' session indexes.

A session's key is derived from the SHA-256 of its cookie value, so what Redis
holds (a dump, MONITOR, SCAN) gives nobody a usable cookie. The digest is also
the hash tag, so every key one script touches lives in one cluster slot.
"""

from __future__ import annotations

import hashlib

from django.conf import settings


def session_digest(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


def session_hash_key(digest: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:s:{{{digest}}}"


def user_index_key(user_id: str | int) -> str:
    """The sorted set of a user's session digests, scored by creation time in ms."""
    return f"{settings.REDIS_KEY_PREFIX}:u:{{{user_id}}}"


def is_digest(value: str) -> bool:
    return len(value) == 64 and all(character in "0123456789abcdef" for character in value)
