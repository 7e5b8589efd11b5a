"""How one session value is stored in its Redis hash field: the first byte says how.

``j`` JSON; ``z`` a zstd frame holding JSON (values over COMPRESS_THRESHOLD). Layout 2
adds compact forms for the strings every session has, so that each value stays within
Redis's 64-byte listpack limit: ``s`` a plain string, ``x`` a lowercase hex string kept
as its bytes (Django's 64-character _auth_user_hash takes 33 bytes), ``k`` a well-known
string by its number. Never a serializer that can run code on load: a value read from
Redis can only ever become JSON types.
"""

from __future__ import annotations

import json
from typing import Any

import zstandard

PLAIN = b"j"
COMPRESSED = b"z"
STRING = b"s"
HEX = b"x"
KNOWN = b"k"
# Append only: a stored value names its string by position.
KNOWN_STRINGS = ("django.contrib.auth.backends.ModelBackend",)
_KNOWN_NUMBERS = {text: str(number).encode() for number, text in enumerate(KNOWN_STRINGS)}
_HEX_DIGITS = frozenset("0123456789abcdef")
# Level 3 is zstd's default: most of the gain for a fraction of the CPU of higher levels.
_compressor = zstandard.ZstdCompressor(level=3)
_decompressor = zstandard.ZstdDecompressor()


class CorruptValue(ValueError):
    """A stored value could not be decoded (foreign, truncated or tampered data)."""


def dump_json(value: Any) -> bytes:
    # sort_keys: equal values encode to equal bytes, so unchanged fields are not rewritten.
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:  # lone surrogates: keep them as \u escapes
        return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def encode(value: Any, compress_threshold: int, layout: int = 2) -> tuple[bytes, int]:
    """The stored bytes for ``value``, and its size as JSON before compression."""
    if layout >= 2 and type(value) is str:
        raw_size = len(value) + 2
        if value in _KNOWN_NUMBERS:
            return KNOWN + _KNOWN_NUMBERS[value], raw_size
        if len(value) >= 32 and len(value) % 2 == 0 and _HEX_DIGITS.issuperset(value):
            return HEX + bytes.fromhex(value), raw_size
        if len(value) <= compress_threshold:
            try:
                body = value.encode()
            except UnicodeEncodeError:  # a lone surrogate: JSON's \u escapes can carry it
                body = b""
            else:
                return STRING + body, len(body) + 2
    # An int is its own JSON (and its bytes are short): no encoder needed. bool is not int here.
    raw = str(value).encode() if type(value) is int else dump_json(value)
    if len(raw) > compress_threshold:
        packed = _compressor.compress(raw)
        if len(packed) + 1 < len(raw):
            return COMPRESSED + packed, len(raw)
    return PLAIN + raw, len(raw)


def raw_size(stored: bytes) -> int:
    """The JSON size of a stored value without decoding it: what MAX_BYTES bounds when reading."""
    marker, body = stored[:1], stored[1:]
    if marker == COMPRESSED:
        size = zstandard.frame_content_size(body)
        return size if size >= 0 else 1 << 62
    if marker == HEX:
        return 2 * len(body) + 2
    if marker == KNOWN:
        return len(KNOWN_STRINGS[int(body)]) + 2 if body.isdigit() and int(body) < len(KNOWN_STRINGS) else 0
    return len(body) + (2 if marker == STRING else 0)


def decode(stored: bytes, max_bytes: int) -> Any:
    """The value stored as ``stored``; CorruptValue when it is not ours or larger than ``max_bytes``."""
    marker, body = stored[:1], stored[1:]
    try:
        if marker == STRING:
            return body.decode()
        if marker == HEX:
            return body.hex()
        if marker == KNOWN:
            return KNOWN_STRINGS[int(body)]
        if marker == COMPRESSED:
            # The same bound the writer checks: nothing it stores is refused here.
            if raw_size(stored) > max_bytes:
                raise CorruptValue("A compressed session value is larger than MAX_BYTES allows.")
            body = _decompressor.decompress(body)
        elif marker != PLAIN:
            raise CorruptValue(f"A session value starts with the unknown marker {marker!r}.")
        if len(body) > max_bytes:
            raise CorruptValue("A session value is larger than MAX_BYTES allows.")
        return json.loads(body)
    except CorruptValue:
        raise
    # ValueError covers UnicodeDecodeError and json.JSONDecodeError; IndexError an unknown 'k' number.
    except (zstandard.ZstdError, ValueError, IndexError) as error:
        raise CorruptValue(f"A session value could not be decoded: {error}") from error
