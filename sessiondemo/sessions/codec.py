"""How one session value is stored in its Redis hash field: JSON, zstd-compressed when large.

The first byte says which: ``j`` for plain JSON, ``z`` for a zstd frame holding JSON.
Never a serializer that can run code on load: a value read from Redis can only ever
become JSON types.
"""

from __future__ import annotations

import json
from typing import Any

import zstandard

PLAIN = b"j"
COMPRESSED = b"z"
# Level 3 is zstd's default: most of the gain for a fraction of the CPU of higher levels.
_compressor = zstandard.ZstdCompressor(level=3)
_decompressor = zstandard.ZstdDecompressor()


class CorruptValue(ValueError):
    """A stored value could not be decoded (foreign, truncated or tampered data)."""


def dump_json(value: Any) -> bytes:
    # sort_keys: equal values encode to equal bytes, so unchanged fields are not rewritten.
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def encode(value: Any, compress_threshold: int) -> tuple[bytes, int]:
    """Return the stored bytes for ``value`` and the size of its JSON before compression."""
    raw = dump_json(value)
    if len(raw) > compress_threshold:
        packed = _compressor.compress(raw)
        if len(packed) + 1 < len(raw):
            return COMPRESSED + packed, len(raw)
    return PLAIN + raw, len(raw)


def decode(stored: bytes, max_bytes: int) -> Any:
    """Return the value stored as ``stored``; CorruptValue when it is not ours."""
    marker, body = stored[:1], stored[1:]
    try:
        if marker == COMPRESSED:
            size = zstandard.frame_content_size(body)
            # A frame that claims more than a session may hold is not one we wrote.
            if size < 0 or size > max_bytes * 64:
                raise CorruptValue("A compressed session value has no plausible size.")
            body = _decompressor.decompress(body)
        elif marker != PLAIN:
            raise CorruptValue(f"A session value starts with the unknown marker {marker!r}.")
        return json.loads(body)
    except (zstandard.ZstdError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CorruptValue(f"A session value could not be decoded: {error}") from error
