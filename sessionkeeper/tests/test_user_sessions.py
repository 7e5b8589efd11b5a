"""A user's sessions: list, revoke one, the others, or all; stale entries pruned (item 7)."""

from __future__ import annotations

from sessionkeeper.client import get_client
from sessionkeeper.layout import session_digest
from sessionkeeper.store import SessionStore
from sessionkeeper.tests.helpers import account_key, hash_key, indexed
from sessionkeeper.user_sessions import (
    list_user_sessions,
    revoke_all_sessions,
    revoke_other_sessions,
    revoke_session,
)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


def sign_in(user_id: str, user_agent: str = FIREFOX, ip: str = "198.51.100.1") -> str:
    """What django.contrib.auth.login does to the session: cycle the key, then store the user."""
    session = SessionStore()
    session.bind_client(user_agent=user_agent, ip=ip, instance="web-1")
    session["cart"] = {"note": "anonymous"}
    session.cycle_key()
    session["_auth_user_id"] = user_id
    session.save()
    return session.session_key


def test_a_users_sessions_are_listed_with_device_address_and_times(store):
    laptop = sign_in("7", FIREFOX, "198.51.100.1")
    phone = sign_in("7", IPHONE, "198.51.100.2")
    sign_in("8")
    sessions = list_user_sessions(7, current_session_key=laptop)
    assert {session.digest for session in sessions} == {session_digest(laptop), session_digest(phone)}
    by_digest = {session.digest: session for session in sessions}
    assert by_digest[session_digest(laptop)].is_current
    assert "Firefox" in by_digest[session_digest(laptop)].device
    assert "iPhone" in by_digest[session_digest(phone)].device
    assert by_digest[session_digest(phone)].ip == "198.51.100.2"
    assert by_digest[session_digest(phone)].created <= by_digest[session_digest(phone)].last_seen


def test_revoking_one_session_signs_only_it_out(store):
    laptop, phone = sign_in("7"), sign_in("7", IPHONE)
    assert revoke_session(7, session_digest(phone))
    assert "_auth_user_id" not in SessionStore(phone)
    assert SessionStore(laptop)["_auth_user_id"] == "7"
    assert [session.digest for session in list_user_sessions(7)] == [session_digest(laptop)]


def test_nobody_can_revoke_another_users_session(store):
    theirs = sign_in("8")
    assert not revoke_session(7, session_digest(theirs))
    assert not revoke_session(7, "not-a-digest")
    assert SessionStore(theirs)["_auth_user_id"] == "8"


def test_revoking_the_others_keeps_the_current_session(store):
    current = sign_in("7")
    others = [sign_in("7", IPHONE) for _ in range(3)]
    assert revoke_other_sessions(7, current) == 3
    assert all("_auth_user_id" not in SessionStore(key) for key in others)
    assert [session.digest for session in list_user_sessions(7, current)] == [session_digest(current)]


def test_revoking_all_signs_every_session_out(store):
    keys = [sign_in("7") for _ in range(3)]
    assert revoke_all_sessions(7) == 3
    assert all("_auth_user_id" not in SessionStore(key) for key in keys)
    assert list_user_sessions(7) == []


def test_logout_takes_the_session_out_of_the_index(store):
    key = sign_in("7")
    session = SessionStore(key)
    session.flush()
    assert list_user_sessions(7) == []
    assert indexed("7") == []


def test_entries_of_vanished_or_idle_sessions_are_pruned_when_listed(store, clock):
    gone, _idle, live = sign_in("7"), sign_in("7"), sign_in("7")
    get_client().delete(hash_key(gone))
    clock.advance(1000)
    SessionStore(live).load()
    clock.advance(300)  # idle: 1300 s without a request, over the 1200 s timeout
    assert [session.digest for session in list_user_sessions(7)] == [session_digest(live)]
    assert indexed("7") == [session_digest(live)]


def test_entries_older_than_any_session_can_live_are_pruned_and_the_index_expires(store, clock):
    old = sign_in("7")
    clock.advance(43200 + 1800 + 1)
    sign_in("7")
    assert session_digest(old) not in indexed("7")
    assert 0 < get_client().pttl(account_key("7")) <= 30 * 24 * 3600 * 1000  # ACCOUNT_TIMEOUT


def test_clear_expired_is_a_no_op_because_redis_expires_sessions_itself(store):
    sign_in("7")
    SessionStore.clear_expired()
    assert len(list_user_sessions(7)) == 1


def test_the_index_is_capped_and_the_oldest_sessions_are_signed_out(store, options, clock):
    options(MAX_SESSIONS_PER_USER=3)
    keys = []
    for _ in range(5):
        clock.advance(1)
        keys.append(sign_in("7"))
    assert len(indexed("7")) == 3
    assert ["_auth_user_id" in SessionStore(key) for key in keys] == [False, False, True, True, True]
    assert {session.digest for session in list_user_sessions(7)} == {session_digest(k) for k in keys[2:]}


def test_a_thousand_logins_of_one_user_keep_the_listing_small_and_quick(single):
    import time

    for _ in range(1000):
        sign_in("7")
    started = time.perf_counter()
    sessions = list_user_sessions(7)
    elapsed_ms = (time.perf_counter() - started) * 1000
    print(f"Listing a user's sessions after 1,000 logins: {len(sessions)} sessions in {elapsed_ms:.1f} ms")
    assert len(sessions) == 100 == len(indexed("7"))
    assert elapsed_ms < 200  # generous: about 5 ms on the development machine
