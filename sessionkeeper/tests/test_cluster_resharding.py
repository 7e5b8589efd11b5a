"""A session whose hash slot moves to another master (resharding, scale-out) is still found.

The client's slot map is stale after the move: Redis answers MOVED, and the
engine's scripts and pipelines must follow it rather than report an outage.
"""

import pytest

from sessionkeeper import client as engine_client
from sessionkeeper.store import SessionStore
from sessionkeeper.tests.conftest import engine_options
from sessionkeeper.tests.helpers import hash_key
from sessionkeeper.tests.servers import Cluster


@pytest.fixture(scope="module")
def resharded_cluster(tmp_path_factory):
    """A cluster of this module's own: its tests move slots around."""
    cluster = Cluster(tmp_path_factory.mktemp("resharding")).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def own_cluster(resharded_cluster, settings):
    settings.SESSIONKEEPER = engine_options(resharded_cluster.url, cluster=True)
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
