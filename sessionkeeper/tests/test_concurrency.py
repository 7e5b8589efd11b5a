"""No lost updates: concurrent adds from threads and from processes give the exact total (item 2)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor

from sessionkeeper import client as engine_client
from sessionkeeper.store import SessionStore

ADDS = 200


def add_one(session_key: str, sku: str = "tea") -> int:
    """What one "add to cart" request does: load the session, add one atomically."""
    return SessionStore(session_key).counters("cart").add(sku, 1, 1_000_000)


def add_many_in_a_process(session_key: str, count: int, results) -> None:  # type: ignore[no-untyped-def]
    # A forked worker must not share the parent's sockets.
    engine_client.reset_default_client()
    for _ in range(count):
        add_one(session_key)
    results.put(count)


def new_session() -> str:
    session = SessionStore()
    session["theme"] = "dark"
    session.save()
    return session.session_key


def test_two_hundred_adds_from_threads_give_exactly_two_hundred(store):
    key = new_session()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: add_one(key), range(ADDS)))
    assert SessionStore(key).counters("cart").items() == {"tea": ADDS}


def test_two_hundred_adds_from_four_processes_give_exactly_two_hundred(store):
    key = new_session()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=add_many_in_a_process, args=(key, ADDS // 4, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert sum(results.get(timeout=5) for _ in workers) == ADDS
    assert SessionStore(key).counters("cart").items() == {"tea": ADDS}


def test_concurrent_writers_of_different_keys_and_counters_lose_nothing(store):
    key = new_session()

    def write(index: int) -> None:
        session = SessionStore(key)
        session[f"note-{index}"] = index
        session.save()
        session.counters("cart").add(f"sku-{index % 5}", 1, 1_000)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(40)))
    session = SessionStore(key)
    assert {name: session[name] for name in session.keys() if name.startswith("note-")} == {  # noqa: SIM118 - SessionBase has no __iter__
        f"note-{index}": index for index in range(40)
    }
    assert session.counters("cart").items() == {f"sku-{n}": 8 for n in range(5)}


def test_a_counter_over_its_maximum_is_refused_and_left_unchanged(store):
    import pytest

    from sessionkeeper.exceptions import CounterLimitError

    key = new_session()
    cart = SessionStore(key).counters("cart")
    assert cart.add("tea", 98, 99) == 98
    with pytest.raises(CounterLimitError, match="must stay between 0 and 99"):
        cart.add("tea", 2, 99)
    assert SessionStore(key).counters("cart").items() == {"tea": 98}


def test_counter_set_remove_and_clear_change_only_their_map(store):
    key = new_session()
    session = SessionStore(key)
    cart = session.counters("cart")
    cart.set("tea", 3)
    cart.set("coffee", 2)
    session.counters("wishlist").set("cake", 1)
    cart.remove("tea")
    assert SessionStore(key).counters("cart").items() == {"coffee": 2}
    cart.clear()
    reloaded = SessionStore(key)
    assert reloaded.counters("cart").items() == {}
    assert reloaded.counters("wishlist").items() == {"cake": 1}
    assert reloaded["theme"] == "dark"


def test_a_counter_change_after_logout_elsewhere_does_not_bring_the_session_back(store):
    import pytest
    from django.contrib.sessions.exceptions import SessionInterrupted

    key = new_session()
    tab = SessionStore(key)
    assert tab["theme"] == "dark"  # loaded before the logout
    SessionStore(key).delete()
    with pytest.raises(SessionInterrupted):
        tab.counters("cart").add("tea", 1, 10)
    assert not tab.exists(key)


def test_a_counter_change_on_a_new_session_creates_it_and_the_save_writes_nothing_more(store):
    from sessionkeeper.tests.helpers import round_trips

    session = SessionStore()
    session.counters("cart").add("tea", 1, 10)
    assert session.modified and session.session_key
    with round_trips() as trips:
        session.save()
    assert trips.round_trips == 0
    assert SessionStore(session.session_key).counters("cart").items() == {"tea": 1}


def test_counters_change_only_by_hincrby_so_geo_replicated_increments_add_up(single):
    from sessionkeeper.client import get_client

    key = new_session()
    cart = SessionStore(key).counters("cart")
    client = get_client()
    client.config_resetstat()
    cart.add("tea", 2, 10)
    cart.set("tea", 5)
    cart.add("tea", -5, 10)
    calls = client.info("commandstats")
    assert calls["cmdstat_hincrby"]["calls"] == 3
    assert SessionStore(key).counters("cart").items() == {}
