"""Reads that write nothing: within the slide threshold a read-only request changes nothing in Redis."""

from __future__ import annotations

from sessionkeeper import stats
from sessionkeeper.client import get_client
from sessionkeeper.store import SessionStore
from sessionkeeper.tests.conftest import IDLE


def signed_in() -> str:
    session = SessionStore()
    session.cycle_key()
    session["_auth_user_id"] = "7"
    session["theme"] = "dark"
    session.save()
    return session.session_key


def changes() -> int:
    return int(get_client().info("persistence")["rdb_changes_since_last_save"])


def test_a_read_a_second_writes_below_one_in_twenty_at_a_twenty_minute_idle_timeout(single, clock):
    key = signed_in()
    before, reads = changes(), 600
    for _ in range(reads):
        clock.advance(1)
        assert SessionStore(key)["theme"] == "dark"
    slides = stats.snapshot()["events"]["slide"]
    print(f"{slides} of {reads} reads slid the expiry ({slides / reads:.3f} writes per read)")
    assert slides / reads < 0.05
    assert 0 < changes() - before <= slides * 3  # the slides' HSET and PEXPIREAT, nothing else


def test_a_read_within_the_threshold_changes_nothing_in_redis(single, clock):
    key = signed_in()
    clock.advance(30)
    before = changes()
    SessionStore(key).load()
    assert changes() == before


def test_the_idle_timeout_stays_exact_to_within_the_threshold(store, clock):
    key = signed_in()
    clock.advance(59)
    SessionStore(key).load()  # within the 60 s threshold: not recorded
    clock.advance(IDLE - 59 + 1)
    assert "_auth_user_id" not in SessionStore(key)  # idle counted from the last recorded activity


def test_a_read_past_the_threshold_slides_the_expiry(store, clock):
    key = signed_in()
    clock.advance(61)
    SessionStore(key).load()
    clock.advance(IDLE - 1)
    assert SessionStore(key)["_auth_user_id"] == "7"
