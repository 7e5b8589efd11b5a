"""What the engine stores in Redis, defined once for Python (lua/_layout.lua is the Lua twin).

Key names
    ``<prefix>:{<digest>}``          a session hash (layout 1: ``<prefix>:s:{<digest>}``); the digest
                                    is of the cookie, so a dump, MONITOR or SCAN gives nobody a
                                    usable cookie, and it is the hash tag, so every key one script
                                    touches lives in one cluster slot.
    ``<prefix>:{<user>}:<digest>``   layout 3: a signed-in session's hash, tagged with its user, so
                                    that it shares a slot with the user's account record.
    ``<prefix>:a:u:{<user>}``        layout 3: the user's account record, a hash: the counter maps
                                    kept with the account (USER_COUNTERS, the cart), the session
                                    index (``s:<digest>`` -> sign-in time) and recent operation ids.
    ``<prefix>:u:{<user id>}``       layouts 1 and 2: a sorted set of a user's session digests,
                                    scored by sign-in ms (read, pruned and emptied by layout 3).
    ``<prefix>:r:{<address>}``       sessions created from one client address in the current window.

``<user>`` is the user's tag: the user id itself when it is short and made of letters,
digits, ``_`` and ``-`` (every integer id), else ``~`` and a digest of it.

The cookie says where its hash is, so a cookie always finds its hash in one lookup:
``<40 random characters>.<user tag>`` is a layout-3 signed-in session (the tagged key); a
40-character cookie (206 random bits) is any other layout-2 or 3 session; both have the
16-character base64url of the first 12 bytes of the cookie's SHA-256 as their digest (96
bits: the key fits a 32-byte allocation). Any other cookie (layout 1's 32 characters) has
the SHA-256 in hex.

Fields of a session hash
    ``d:<key>``           one per session key, the value as codec.py stores it; in layouts 2 and 3
                          Django's three auth keys have one-letter names (``u``, ``b``, ``h``),
                          and ``u`` holds the user id bare (a listpack integer when numeric)
    ``c:<map>:<name>``    one per counter (a guest's cart: sku -> quantity), changed by HINCRBY;
                          a layout-3 signed-in session keeps USER_COUNTERS' maps in the account
    layouts 2, 3: ``m``   ``<version>|<last seen>|<absolute expiry>``, seconds in base 36: the timing
                  ``a``   ``<address>|<device>``, only in signed-in sessions
    layout 1: ``m:created m:seen m:abs m:v m:ua m:ip m:inst m:uid`` (times in ms)
    all:      ``o``       the last counter operations' ids and answers (exactly-once changes)
    layout 3: ``e``       alone in a tombstone: the reason a signed-out session ended, kept for a
                          while under its own key so that only its cookie's holder is told

Layouts 2 and 3 keep every field name and value within Redis's default listpack limits
(64 bytes; 128 fields), so a session hash stays in the compact encoding.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache

# The layout this release writes unless told to write an earlier one (conf.LAYOUT).
VERSION = 3
VERSIONS = (1, 2, 3)

DATA_PREFIX = "d:"
COUNTER_PREFIX = "c:"
META = "m"
DEVICE = "a"
OPERATIONS = "o"
ENDED = "e"
# Layout 3's account record: one field per session of the user, "s:<digest>" -> sign-in seconds (base 36).
INDEX_PREFIX = "s:"
V1_SEEN, V1_ABSOLUTE = "m:seen", "m:abs"
V1_AGENT, V1_ADDRESS, V1_INSTANCE, V1_USER = "m:ua", "m:ip", "m:inst", "m:uid"
V1_META = ("m:created", V1_SEEN, V1_ABSOLUTE, "m:v", V1_AGENT, V1_ADDRESS, V1_INSTANCE, V1_USER)

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
# The arguments every script call starts with, in this order (lua/_layout.lua reads them): what may
# differ from call to call. What does not (timeouts, the layout written) is CONFIGURATION.
HEADER = ("now_ms", "cap_ms", "session_idle_ms")
# The settings (conf.Config attributes) written into each script's source when it is compiled
# (scripts.compile_source), in the order of lua/_layout.lua's configuration line.
CONFIGURATION = (
    "layout",
    "idle_ms",
    "anonymous_idle_ms",
    "absolute_ms",
    "grace_ms",
    "threshold_ms",
    "account_ms",
    "tombstone_ms",
)

V1_KEY_LENGTH = 32
V2_KEY_LENGTH = 40
V2_DIGEST_LENGTH = 16
TAG_SEPARATOR = "."
# A user id used as it is in key names and cookies; anything else is tagged by a digest, marked by "~"
# (a character no plain tag has, so a digest tag never equals another user's id).
_PLAIN_TAG = re.compile(r"[A-Za-z0-9_-]{1,32}")
_DIGEST_TAG = re.compile(r"~[A-Za-z0-9_-]{22}")


@lru_cache(maxsize=4096)
def user_tag(user_id: str | int) -> str:
    """The hash tag of a user's keys: the id itself when it is short and plain, else a digest of it."""
    text = str(user_id)
    if _PLAIN_TAG.fullmatch(text):
        return text
    return "~" + base64.urlsafe_b64encode(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())[:22].decode()


def cookie_tag(session_key: str) -> str | None:
    """The user tag a layout-3 cookie carries, or None for any other cookie."""
    random_part, separator, tag = session_key.rpartition(TAG_SEPARATOR)
    if separator and len(random_part) == V2_KEY_LENGTH and (_PLAIN_TAG.fullmatch(tag) or _DIGEST_TAG.fullmatch(tag)):
        return tag
    return None


def session_digest(session_key: str) -> str:
    digest = hashlib.sha256(session_key.encode())
    if len(session_key) == V2_KEY_LENGTH or cookie_tag(session_key) is not None:
        return base64.urlsafe_b64encode(digest.digest()[:12]).decode()
    return digest.hexdigest()


def is_digest(value: str) -> bool:
    if len(value) == 64:
        return all(character in "0123456789abcdef" for character in value)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return len(value) == V2_DIGEST_LENGTH and all(character in alphabet for character in value)


def session_hash_key(prefix: str, digest: str, tag: str | None = None) -> str:
    if tag is not None:
        return f"{prefix}:{{{tag}}}:{digest}"
    if len(digest) == V2_DIGEST_LENGTH:
        return f"{prefix}:{{{digest}}}"
    return f"{prefix}:s:{{{digest}}}"


def hash_key_of(prefix: str, session_key: str) -> str:
    """The key of the hash a cookie names."""
    return session_hash_key(prefix, session_digest(session_key), cookie_tag(session_key))


def account_key(prefix: str, tag: str) -> str:
    return f"{prefix}:a:u:{{{tag}}}"


def user_index_key(prefix: str, user_id: str | int) -> str:
    """Layouts 1 and 2's index of a user's sessions (a sorted set)."""
    return f"{prefix}:u:{{{user_id}}}"


def creation_key(prefix: str, address: str) -> str:
    return f"{prefix}:r:{{{address}}}"


def new_key_length(layout: int) -> int:
    """The length of the anonymous cookies a layout issues; it tells readers which digest to use."""
    return V2_KEY_LENGTH if layout >= 2 else V1_KEY_LENGTH


def tagged_cookie(random_part: str, user_id: str | int) -> str:
    """A layout-3 signed-in session's cookie: its random part and its user's tag."""
    return f"{random_part}{TAG_SEPARATOR}{user_tag(user_id)}"


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


def device_fields(layout: int, address: str, device: str, instance: str) -> list[str]:
    """Field, value pairs describing who asks. Layouts 2 and 3 pack address and device into one field of
    at most 64 bytes, and leave out the serving instance (under round-robin, a random one)."""
    if layout >= 2:
        packed = f"{address[:45]}|{device}".encode()[:FIELD_LIMIT]
        return [DEVICE, packed.decode(errors="ignore")]
    return [V1_AGENT, device[:256], V1_ADDRESS, address[:64], V1_INSTANCE, instance[:128]]


def parse_device(value: str) -> tuple[str, str]:
    address, _, device = value.partition("|")
    return address, device


def parse_meta(fields: dict[bytes, bytes | None]) -> tuple[int, int] | None:
    """(last seen ms, absolute expiry ms) from any layout's meta, or None when there is none."""
    packed = fields.get(META.encode())
    try:
        if packed:
            _, seen, absolute = packed.decode().split("|")[:3]
            return int(seen, 36) * 1000, int(absolute, 36) * 1000
        seen_v1, absolute_v1 = fields.get(V1_SEEN.encode()), fields.get(V1_ABSOLUTE.encode())
        if seen_v1 and absolute_v1:
            return int(seen_v1), int(absolute_v1)
    except (ValueError, UnicodeDecodeError):
        return None
    return None
