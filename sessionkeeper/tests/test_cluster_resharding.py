"""A session whose hash slot moves to another master (resharding, scale-out) is still found.

The client's slot map is stale after the move: Redis answers MOVED, and the
engine's scripts and pipelines must follow it rather than report an outage. While
the slot moves, key by key, Redis answers ASK for a key already gone to the new
master and TRYAGAIN for a script whose keys are split between the two: the shopper
waits a moment, and is neither refused nor signed out (issue 15, item 10).
"""

import threading
import time

import pytest

from sessionkeeper import client as engine_client
from sessionkeeper.scripts import load_scripts_everywhere
from sessionkeeper.store import SessionStore
from sessionkeeper.tests.conftest import _configure as configure
from sessionkeeper.tests.helpers import account_key, hash_key
from sessionkeeper.tests.servers import Cluster


@pytest.fixture(scope="module")
def resharded_cluster(tmp_path_factory):
    """A cluster of this module's own: its tests move slots around."""
    cluster = Cluster(tmp_path_factory.mktemp("resharding")).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def own_cluster(resharded_cluster, settings):
    configure(settings, resharded_cluster.url, cluster=True)
    yield resharded_cluster
    engine_client.reset_default_client()


def text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def move_slot(cluster: Cluster, slot: int) -> None:
    """Migrate ``slot`` and its keys to another master, as redis-cli --cluster reshard does."""
    owner = next(n for n in cluster.nodes if n.client().execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) > 0)
    target = next(n for n in cluster.nodes if n is not owner)
    owner_id = text(owner.client().execute_command("CLUSTER", "MYID"))
    target_id = text(target.client().execute_command("CLUSTER", "MYID"))
    target.client().execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", owner_id)
    owner.client().execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
    keys = owner.client().execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000)
    owner.client().execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *keys)
    for node in cluster.nodes:
        node.client().execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)


@pytest.mark.django_db
@pytest.mark.parametrize("first_operation", ["load", "save", "counter", "login"])
def test_a_session_moved_to_another_master_is_followed_by_every_operation(own_cluster, first_operation):
    store = SessionStore()
    store["theme"] = "dark"
    store.save()
    store.counters("cart").add("TEA-001", 2, 99)
    key = store.session_key
    client = engine_client.get_client()
    client.hgetall(hash_key(key))  # the client now knows where the slot lives
    move_slot(own_cluster, client.keyslot(hash_key(key)))

    moved = SessionStore(key)
    if first_operation == "load":
        assert moved["theme"] == "dark"
        assert moved.counters("cart").items() == {"TEA-001": 2}
    elif first_operation == "save":
        moved["theme"] = "light"
        moved.save()
        assert SessionStore(key)["theme"] == "light"
    elif first_operation == "counter":
        assert moved.counters("cart").add("TEA-001", 1, 99) == 3
    else:
        moved["_auth_user_id"] = "5"
        moved.cycle_key()
        moved.save()
        again = SessionStore(moved.session_key)
        assert again["theme"] == "dark" and again["_auth_user_id"] == "5"
        assert again.counters("cart").items() == {"TEA-001": 2}


# --- a slot moved while a shopper uses it: ASK and TRYAGAIN mid-migration ------------------


def node_of(cluster: Cluster, slot: int):
    return next(n for n in cluster.nodes if n.client().execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) > 0)


def migrate_key_by_key(cluster: Cluster, slot: int, pause: float, first: list[str]) -> int:
    """Move ``slot`` one key at a time, ``first`` first, pausing between keys, as a slow reshard would;
    returns the keys moved."""
    owner = node_of(cluster, slot)
    target = next(n for n in cluster.nodes if n is not owner)
    owner_id = text(owner.client().execute_command("CLUSTER", "MYID"))
    target_id = text(target.client().execute_command("CLUSTER", "MYID"))
    target.client().execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", owner_id)
    owner.client().execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
    moved = 0
    for key in first:
        time.sleep(pause)
        owner.client().execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", key)
        moved += 1
    while keys := owner.client().execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1):
        time.sleep(pause)
        owner.client().execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *keys)
        moved += 1
    time.sleep(pause)
    for node in (target, owner, *(n for n in cluster.nodes if n not in (target, owner))):
        node.client().execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
    return moved


@pytest.mark.django_db(transaction=True)  # the shopper's thread reads the user from the database too
def test_a_shopper_keeps_reading_and_adding_while_their_slot_moves_key_by_key(own_cluster, settings):
    from django.test import Client

    settings.SESSIONKEEPER = {**settings.SESSIONKEEPER, "USER_COUNTERS": {"cart": 1_000_000}}
    load_scripts_everywhere(engine_client.get_client())
    shopper = Client()
    shopper.get("/api/cart/add?sku=tea")
    shopper.get("/login?username=mover")
    for _ in range(3):  # a second session of the same user: three keys in the slot
        Client().get("/login?username=mover")
    key = shopper.cookies["sessionid"].value
    user_id = shopper.get("/api/session").json()["user"]
    slot = engine_client.get_client().keyslot(hash_key(key))
    stop = threading.Event()
    answers: list[int] = []
    added = [1]

    def shop() -> None:
        while not stop.is_set():
            answers.append(shopper.get("/api/session").status_code)
            response = shopper.get("/api/cart/add?sku=tea")
            answers.append(response.status_code)
            if response.status_code == 200:
                added.append(1)
            if shopper.get("/api/session").json().get("user") is None:
                answers.append(401)

    worker = threading.Thread(target=shop)
    worker.start()
    try:
        # The shopper's session, then a pause longer than redis-py rides out, then the account record.
        moved = migrate_key_by_key(own_cluster, slot, pause=0.6, first=[hash_key(key), account_key(user_id)])
        time.sleep(0.3)
    finally:
        stop.set()
        worker.join(timeout=30)
    refused = sum(
        n.client().info("commandstats").get("cmdstat_evalsha", {}).get("rejected_calls", 0) for n in own_cluster.nodes
    )
    print(f"{moved} keys moved one by one; {len(answers)} answers; {refused} script calls refused with TRYAGAIN")
    assert refused > 0, "the shopper should have met the slot split between two masters"
    assert moved >= 3
    assert set(answers) == {200}, f"{answers.count(200)} answered 200, the others {sorted(set(answers) - {200})}"
    assert shopper.get("/api/cart").json() == {"tea": len(added)}
    assert shopper.cookies["sessionid"].value == key
