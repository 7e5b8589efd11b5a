"""What the engine stores in Redis, defined once for Python (lua/_layout.lua is the Lua twin).

Key names
    ``<prefix>:{<digest>}``    one hash per session (layout 1: ``<prefix>:s:{<digest>}``); the
                              digest is of the cookie, so a dump, MONITOR or SCAN gives nobody a
                              usable cookie, and it is the hash tag, so every key one script
                              touches lives in one cluster slot.
    ``<prefix>:u:{<user id>}`` a sorted set of a user's session digests, scored by sign-in ms.
    ``<prefix>:r:{<address>}`` sessions created from one client address in the current window.

The digest depends on the cookie's form, so a cookie always finds its hash in one lookup:
a 40-character cookie (what layout 2 issues, 206 random bits) has the 16-character
base64url of the first 12 bytes of its SHA-256 (96 bits: the key fits a 32-byte
allocation); any other cookie (layout 1's 32 characters) has the SHA-256 in hex.

Fields of a session hash
    ``d:<key>``           one per session key, the value as codec.py stores it; in layout 2
                          Django's three auth keys have one-letter names (``u``, ``b``, ``h``),
                          and ``u`` holds the user id bare (a listpack integer when numeric)
    ``c:<map>:<name>``    one per counter (the cart's sku -> quantity), changed by HINCRBY
    layout 2: ``m``       ``<version>|<last seen>|<absolute expiry>``, seconds in base 36: the timing
              ``a``       ``<address>|<device>``, only in signed-in sessions
    layout 1: ``m:created m:seen m:abs m:v m:ua m:ip m:inst m:uid`` (times in ms)
    both:     ``o``       the last counter operations' ids and answers (exactly-once changes)

Layout 2 keeps every field name and value within Redis's default listpack limits
(64 bytes; 128 fields), so a session hash stays in the compact encoding.
"""

from __future__ import annotations

import base64
import hashlib

# The layout this release writes unless told to write the previous one (conf.LAYOUT).
VERSION = 2
VERSIONS = (1, 2)

DATA_PREFIX = "d:"
COUNTER_PREFIX = "c:"
META = "m"
DEVICE = "a"
OPERATIONS = "o"
V1_AGENT, V1_ADDRESS, V1_INSTANCE, V1_USER = "m:ua", "m:ip", "m:inst", "m:uid"
V1_META = ("m:created", "m:seen", "m:abs", "m:v", V1_AGENT, V1_ADDRESS, V1_INSTANCE, V1_USER)

# Django's auth session keys (django.contrib.auth's SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY).
AUTH_USER_KEY = "_auth_user_id"
# Layout 2's short names for the keys every signed-in session has.
ALIASES = {AUTH_USER_KEY: "u", "_auth_user_backend": "b", "_auth_user_hash": "h"}
UNALIASED = {alias: key for key, alias in ALIASES.items()}
USER_FIELD = ALIASES[AUTH_USER_KEY]
# The session key set_expiry() keeps (django.contrib.sessions.backends.base).
EXPIRY_KEY = "_session_expiry"

# Listpack limits of a default Redis (hash-max-listpack-value); layout 2's packed fields stay within.
FIELD_LIMIT = 64
# The script argument header every script starts with, in this order (lua/_layout.lua reads it).
HEADER = (
    "now_ms",
    "layout",
    "idle_ms",
    "anonymous_idle_ms",
    "absolute_ms",
    "grace_ms",
    "threshold_ms",
    "cap_ms",
    "session_idle_ms",
)

V1_KEY_LENGTH = 32
V2_KEY_LENGTH = 40


V2_DIGEST_LENGTH = 16


def session_digest(session_key: str) -> str:
    digest = hashlib.sha256(session_key.encode())
    if len(session_key) == V2_KEY_LENGTH:
        return base64.urlsafe_b64encode(digest.digest()[:12]).decode()
    return digest.hexdigest()


def is_digest(value: str) -> bool:
    if len(value) == 64:
        return all(character in "0123456789abcdef" for character in value)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return len(value) == V2_DIGEST_LENGTH and all(character in alphabet for character in value)


def session_hash_key(prefix: str, digest: str) -> str:
    if len(digest) == V2_DIGEST_LENGTH:
        return f"{prefix}:{{{digest}}}"
    return f"{prefix}:s:{{{digest}}}"


def user_index_key(prefix: str, user_id: str | int) -> str:
    return f"{prefix}:u:{{{user_id}}}"


def creation_key(prefix: str, address: str) -> str:
    return f"{prefix}:r:{{{address}}}"


def new_key_length(layout: int) -> int:
    """The length of the cookies a layout issues; it tells readers which digest to use."""
    return V2_KEY_LENGTH if layout >= 2 else V1_KEY_LENGTH


def data_field(key: str, layout: int) -> str:
    if layout >= 2 and key in ALIASES:
        return ALIASES[key]
    return DATA_PREFIX + key


def data_key(field: str) -> str | None:
    """The session key a field holds, or None for counters and meta."""
    if field.startswith(DATA_PREFIX):
        return field[len(DATA_PREFIX) :]
    return UNALIASED.get(field)


def counter_field(name: str, counter: str = "") -> str:
    return f"{COUNTER_PREFIX}{name}:{counter}"


def is_data_or_counter(field: str) -> bool:
    return field.startswith((DATA_PREFIX, COUNTER_PREFIX)) or field in UNALIASED


def device_fields(layout: int, address: str, device: str, instance: str) -> list[str]:
    """Field, value pairs describing who asks. Layout 2 packs address and device into one field of
    at most 64 bytes, and leaves out the serving instance (under round-robin, a random one)."""
    if layout >= 2:
        packed = f"{address[:45]}|{device}".encode()[:FIELD_LIMIT]
        return [DEVICE, packed.decode(errors="ignore")]
    return [V1_AGENT, device[:256], V1_ADDRESS, address[:64], V1_INSTANCE, instance[:128]]


def parse_device(value: str) -> tuple[str, str]:
    address, _, device = value.partition("|")
    return address, device


def parse_meta(fields: dict[bytes, bytes | None]) -> tuple[int, int] | None:
    """(last seen ms, absolute expiry ms) from either layout's meta, or None when there is none."""
    packed = fields.get(META.encode())
    try:
        if packed:
            _, seen, absolute = packed.decode().split("|")[:3]
            return int(seen, 36) * 1000, int(absolute, 36) * 1000
        seen_v1, absolute_v1 = fields.get(b"m:seen"), fields.get(b"m:abs")
        if seen_v1 and absolute_v1:
            return int(seen_v1), int(absolute_v1)
    except (ValueError, UnicodeDecodeError):
        return None
    return None
