"""The stored layout carries its version: layout 1 is written on request, read always, and moved
to layout 2 as sessions are used (the engine's side of a rolling deploy)."""

from __future__ import annotations

from sessionkeeper import layout
from sessionkeeper.client import get_client
from sessionkeeper.store import SessionStore
from sessionkeeper.tests.helpers import hash_key
from sessionkeeper.user_sessions import list_user_sessions


def signed_in_with_a_cart() -> str:
    session = SessionStore()
    session.bind_client(user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
    session.counters("cart").add("tea", 2, 99)
    session.cycle_key()
    session["_auth_user_id"] = "7"
    session["theme"] = "dark"
    session.save()
    return session.session_key


def test_layout_1_writes_what_the_previous_release_reads(store, options):
    options(LAYOUT=1)
    key = signed_in_with_a_cart()
    stored = get_client().hgetall(hash_key(key))
    assert len(key) == layout.V1_KEY_LENGTH
    assert hash_key(key).endswith("}") and ":s:{" in hash_key(key)
    assert {b"m:seen", b"m:abs", b"m:created", b"m:v", b"m:uid", b"m:ua"} <= set(stored)
    assert stored[b"d:_auth_user_id"] == b'j"7"' and stored[b"d:theme"] == b'j"dark"'
    assert stored[b"c:cart:tea"] == b"2"
    assert b"m" not in stored and b"u" not in stored


def test_a_layout_1_session_is_read_and_moved_to_layout_2_as_it_is_used(store, options, clock):
    options(LAYOUT=1)
    key = signed_in_with_a_cart()
    options(LAYOUT=2)
    session = SessionStore(key)
    assert session["_auth_user_id"] == "7" and session.counters("cart").items() == {"tea": 2}
    session["theme"] = "light"
    session.save()
    stored = get_client().hgetall(hash_key(key))
    assert stored[b"m"].startswith(b"2|") and b"m:seen" not in stored and b"m:uid" not in stored
    assert stored[b"u"] == b"7" and b"d:_auth_user_id" not in stored
    assert stored[b"d:theme"] == b"slight" and stored[b"c:cart:tea"] == b"2"
    assert [s.digest for s in list_user_sessions(7)] == [layout.session_digest(key)]
    clock.advance(30)
    again = SessionStore(key)
    assert again["theme"] == "light" and again.counters("cart").add("tea", 1, 99) == 3


def test_switching_back_to_layout_1_keeps_sessions_readable(store, options):
    key = signed_in_with_a_cart()
    options(LAYOUT=1)
    session = SessionStore(key)
    assert session["_auth_user_id"] == "7"
    session.counters("cart").add("tea", 1, 99)
    stored = get_client().hgetall(hash_key(key))
    assert b"m:seen" in stored and b"m" not in stored
    assert SessionStore(key).counters("cart").items() == {"tea": 3}
