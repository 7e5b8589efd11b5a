"""What Redis holds for a logged-in user with a cart: JSON and plain numbers, never pickle, never the cookie."""

import json

import pytest
import zstandard
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from sessiondemo.redis_client import get_redis
from sessionkeeper import codec, layout

pytestmark = pytest.mark.skipif(
    settings.SESSION_BACKEND not in {"redis", "django-redis"}, reason="only the Redis engines keep sessions in Redis"
)


def decode_stored_value(value: bytes):
    """The engine marks each data field (sessionkeeper.codec): JSON, zstd-compressed JSON, or a compact string."""
    if value[:1] in (codec.STRING, codec.HEX, codec.KNOWN):
        return codec.decode(value, 65536)
    if value[:1] == b"j":
        return json.loads(value[1:])
    if value[:1] == b"z":
        return json.loads(zstandard.ZstdDecompressor().decompress(value[1:]))
    raise AssertionError(f"Not a JSON field: {value[:20]!r}")


@pytest.mark.django_db
def test_the_raw_redis_value_of_a_session_is_json(site_redis):
    User.objects.create_user("carol", password="a long enough password")
    browser = Client()
    browser.post("/cart/add/TEA-009/", {"quantity": "2"})
    browser.post("/accounts/login/", {"username": "carol", "password": "a long enough password"})
    session_key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    client = get_redis()
    keys = list(client.scan_iter(count=1000))
    assert keys, "the session should be in Redis"
    counters: dict[bytes, bytes] = {}
    for key in keys:
        if settings.SESSION_BACKEND == "redis":
            # The project's engine names keys by the cookie's SHA-256: a SCAN gives no usable cookie.
            # (The stock cache engine puts the cookie in the key name.)
            assert session_key.encode() not in key
        kind = client.type(key)
        if kind == b"string":  # the stock engine: one JSON document
            raw = client.get(key)
            assert not raw.startswith(b"\x80"), "pickle protocol header"
            json.loads(raw)
        elif kind == b"hash" and b"{" in key:  # a session, or the user's account record (the cart, the index)
            fields = client.hgetall(key)
            data = {layout.data_key(field.decode()): value for field, value in fields.items()}
            data.pop(None, None)
            if data:  # a session's data fields
                assert data.pop("_auth_user_id").isdigit()  # the user id, bare
                for value in data.values():
                    decode_stored_value(value)
            counters.update({field: value for field, value in fields.items() if field.startswith(b"c:")})
            for value in fields.values():
                assert not value.startswith(b"\x80"), "pickle protocol header"
                assert session_key.encode() not in value
    digest = layout.session_digest(session_key).encode()
    if settings.SESSION_BACKEND == "redis":
        # The cart, in the session or (layout 3, signed in) in the account record: plain numbers.
        assert counters == {b"c:cart:TEA-009": b"2"}
        assert any(digest in key for key in keys)
