"""Why a session is over (SessionStore.ending): limits found by load.lua, tombstones left by revocation
under the session's own key, and layout-3 cookies whose session is gone."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted

from sessionkeeper import endings
from sessionkeeper.client import get_client
from sessionkeeper.endings import Ending
from sessionkeeper.store import SessionStore
from sessionkeeper.tests.conftest import ABSOLUTE, IDLE
from sessionkeeper.tests.helpers import hash_key
from sessionkeeper.user_sessions import revoke_other_sessions, revoke_session


def ending_of(session_key: str) -> Ending | None:
    session = SessionStore(session_key)
    session.load()
    return session.ending


def sign_in(user_id: str = "7") -> str:
    session = SessionStore()
    session.cycle_key()
    session["_auth_user_id"] = user_id
    session.save()
    return session.session_key


def test_a_revoked_session_leaves_a_short_lived_tombstone_only_its_cookie_finds(store):
    from sessionkeeper.layout import session_digest

    key = sign_in()
    assert revoke_session(7, session_digest(key), reason="password")
    assert get_client().hgetall(hash_key(key)) == {b"e": b"password"}
    assert 0 < get_client().pttl(hash_key(key)) <= 24 * 3600 * 1000
    ended = SessionStore(key)
    assert dict(ended.items()) == {} and ended.session_key is None
    assert ended.ending == Ending("password", True, False, IDLE)
    assert not SessionStore().exists(key)


def test_a_tombstone_cannot_be_written_to_or_counted_on(store):
    key = sign_in()
    tab = SessionStore(key)
    assert tab["_auth_user_id"] == "7"  # loaded before the revocation
    revoke_other_sessions(7, sign_in())
    tab["theme"] = "dark"
    with pytest.raises(UpdateError):
        tab.save()
    with pytest.raises(SessionInterrupted):
        tab.counters("cart").add("tea", 1, 10)
    assert get_client().hgetall(hash_key(key)) == {b"e": b"revoked"}


def test_idle_and_absolute_endings_say_which_and_whether_the_cart_was_kept(store, clock):
    signed = sign_in()
    guest = SessionStore()
    guest.counters("cart").add("tea", 1, 10)
    clock.advance(IDLE + 1)
    assert ending_of(signed) == Ending(endings.IDLE, True, False, IDLE)
    assert ending_of(guest.session_key) == Ending(endings.IDLE, False, True, IDLE)
    key = sign_in()
    for _ in range(ABSOLUTE // (IDLE - 60) + 1):
        clock.advance(IDLE - 60)
        session = SessionStore(key)
        session.load()
        if session.ending is not None:
            break
    assert session.ending == Ending(endings.ABSOLUTE, True, False, IDLE)


def test_a_signed_in_cookie_whose_session_is_gone_ends_without_a_reason(store):
    key = sign_in()
    get_client().delete(hash_key(key))
    assert ending_of(key) == Ending(endings.ENDED, True, False, IDLE)
    assert ending_of("an-unknown-guest-cookie-0000000000000000") is None


def test_layout_2_deletes_a_revoked_session_outright_for_the_release_that_knows_no_tombstones(store, options):
    from sessionkeeper.layout import session_digest

    options(LAYOUT=2)
    key = sign_in()
    assert revoke_session(7, session_digest(key))
    assert not get_client().exists(hash_key(key))
