"""Exactly-once counter changes: a paused Redis (SIGSTOP) makes redis-py time out and re-send;
every change carries an operation id, so the cart ends with exactly the acknowledged adds."""

from __future__ import annotations

import threading
import time

import pytest

from sessionkeeper import client as engine_client
from sessionkeeper.exceptions import SessionStoreUnavailable
from sessionkeeper.store import SessionStore, operation_key
from sessionkeeper.tests.conftest import engine_options
from sessionkeeper.tests.servers import Server

SHOPPERS = 8


@pytest.fixture
def pausable(tmp_path, settings, single):
    """A redis-server of this test's own (it is paused), with a short socket timeout and two retries."""
    server = Server(tmp_path).start()
    settings.SESSIONKEEPER = engine_options(server.url, SOCKET_TIMEOUT=0.2, RETRIES=2)
    yield server
    engine_client.reset_default_client()
    server.stop()


def shop(session_key: str, stop: threading.Event, acknowledged: list[int], retried: list[int]) -> None:
    """Add one at a time until told to stop; a change without an answer is retried with the same id."""
    while not stop.is_set():
        operation_id = operation_key(None)
        while True:
            try:
                SessionStore(session_key).counters("cart").add("tea", 1, 1_000_000, operation_id=operation_id)
                acknowledged.append(1)
                break
            except SessionStoreUnavailable:
                retried.append(1)  # unknown: applied or not; the same id makes the retry safe
                time.sleep(0.05)


@pytest.mark.slow
def test_adds_during_redis_pauses_are_applied_exactly_as_often_as_acknowledged(pausable):
    keys = []
    for _ in range(SHOPPERS):
        session = SessionStore()
        session["cart"] = {}
        session.save()
        keys.append(session.session_key)
    stop = threading.Event()
    acknowledged: list[list[int]] = [[] for _ in keys]
    retried: list[int] = []
    shoppers = [
        threading.Thread(target=shop, args=(key, stop, acknowledged[index], retried)) for index, key in enumerate(keys)
    ]
    for shopper in shoppers:
        shopper.start()
    try:
        for _ in range(4):
            time.sleep(0.3)
            with pausable.paused(0.45):  # longer than the 0.2 s socket timeout: redis-py re-sends
                pass
        time.sleep(0.3)
    finally:
        stop.set()
        for shopper in shoppers:
            shopper.join(timeout=30)
    kept = [SessionStore(key).counters("cart").items().get("tea", 0) for key in keys]
    print(f"acknowledged {[len(a) for a in acknowledged]}, kept {kept}, {len(retried)} answered 503 and retried")
    assert kept == [len(adds) for adds in acknowledged]
    assert sum(kept) > SHOPPERS
