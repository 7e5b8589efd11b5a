"""No security decision rests on a key Redis may evict.

A real redis-server at a small maxmemory, under allkeys-lru (which evicts any key) and
noeviction (which refuses writes when full), takes a bounded flood: cookie-less cart adds
from many addresses, then filler keys until Redis evicts or refuses. Whatever it dropped
(every user's session index included), lockouts stay locked, and "sign out everywhere",
"sign out other sessions" and a password change still sign out a thief's session.
"""

from __future__ import annotations

import pytest
import redis
from django.contrib.auth.models import User
from django.test import Client

from sessiondemo import redis_client
from tests.fixtures.redis_servers import RedisServer, use_redis

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"
FLOOD_POSTS = 200
FILLER_VALUE = "x" * 1024


@pytest.fixture(params=["allkeys-lru", "noeviction"])
def small_redis(request, settings, tmp_path):
    server = RedisServer(tmp_path / "redis", extra_args=["--maxmemory-policy", request.param]).start()
    use_redis(settings, server.url)
    yield server, request.param
    redis_client.reset_client()
    server.stop()


@pytest.fixture
def people(db, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_LOCKOUT_SECONDS = 900
    for name in ("target", "owner", "other-owner", "changer"):
        User.objects.create_user(name, password=PASSWORD)


def signed_in(username: str, address: str) -> Client:
    client = Client(REMOTE_ADDR=address)
    assert client.post("/accounts/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def is_signed_in(client: Client) -> bool:
    response = client.get("/api/session")
    assert response.status_code == 200, response.content[:200]
    return response.json()["authenticated"]


def is_signed_in_while_full(client: Client, policy: str) -> bool | None:
    """None when a full noeviction Redis could not serve the read (a 503, never a 500)."""
    response = client.get("/api/session")
    if response.status_code == 503 and policy == "noeviction":
        return None
    assert response.status_code == 200, response.content[:200]
    return response.json()["authenticated"]


def fill(client: redis.Redis, batches: int) -> bool:
    """Write up to ``batches`` x 200 KiB of filler; False when Redis refused it (noeviction, full).

    The filler comes in as a cold cache would (RESTORE ... IDLETIME): Redis's LRU is
    approximate and ticks once a second, so keys written in the same second as the
    sessions people use would make which of them it evicts a coin toss.
    """
    client.set("filler:template", FILLER_VALUE)
    payload = client.dump("filler:template")
    for batch in range(batches):
        pipeline = client.pipeline(transaction=False)
        for number in range(200):
            pipeline.restore(f"filler:{batch}:{number}", 0, payload, idletime=3600)
        try:
            pipeline.execute()
        except redis.OutOfMemoryError:
            return False
        if client.info("stats")["evicted_keys"] > 500:
            return True
    return True


def flood(server: RedisServer, policy: str) -> None:
    """Fill Redis past maxmemory: cookie-less adds from many addresses, then filler keys."""
    client = server.client()
    client.config_set("maxmemory", int(client.info("memory")["used_memory"]) + 2 * 1024 * 1024)
    for number in range(FLOOD_POSTS):
        anonymous = Client(REMOTE_ADDR=f"10.{number // 250}.{number % 250}.1")
        anonymous.post("/api/cart/items", {"sku": "TEA-001", "quantity": 1}, content_type="application/json")
    took_everything = fill(client, 60)  # at most 12 MB; 2 MB over the usage fills it long before
    evicted = client.info("stats")["evicted_keys"]
    if policy == "allkeys-lru":
        assert took_everything and evicted > 0, "the flood should have made Redis evict"
    else:
        assert not took_everything and evicted == 0, "the flood should have made Redis refuse writes"


def drop_every_user_index(server: RedisServer) -> None:
    """Eviction picks keys by approximate LRU; drop whichever user index it spared, as it may."""
    client = server.client()
    keys = list(client.scan_iter(match="*:u:{*}", count=1000))
    if keys:
        client.delete(*keys)


def revoke_all(owner: Client):
    return owner.post("/accounts/sessions/revoke-all/")


def revoke_others(owner: Client):
    return owner.post("/accounts/sessions/revoke-others/")


def change_password(owner: Client):
    form = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    return owner.post("/accounts/password/", form)


def test_an_eviction_flood_leaves_every_lockout_and_revocation_intact(small_redis, people):
    server, policy = small_redis
    for number in range(5):
        Client(REMOTE_ADDR=f"198.51.100.{number}").post("/accounts/login/", {"username": "target", "password": "x"})
    cases = [
        (revoke_all, signed_in("owner", "192.0.2.1"), signed_in("owner", "198.51.100.66")),
        (revoke_others, signed_in("other-owner", "192.0.2.2"), signed_in("other-owner", "198.51.100.67")),
        (change_password, signed_in("changer", "192.0.2.3"), signed_in("changer", "198.51.100.68")),
    ]
    flood(server, policy)
    drop_every_user_index(server)
    if policy == "allkeys-lru":
        assert all(is_signed_in(thief) for _, _, thief in cases), "the flood should spare the sessions in use"

    # The lockout lives where eviction cannot reach it, and a full Redis does not lift it.
    response = Client(REMOTE_ADDR="203.0.113.200").post(
        "/accounts/login/", {"username": "target", "password": PASSWORD}
    )
    assert response.status_code == 429

    # Each sign-out either takes effect at once, or, when a full noeviction Redis refuses a write
    # it needs, answers a 503 (never a 500) that the owner retries once Redis has room.
    answers = [action(owner).status_code for action, owner, _ in cases]
    assert set(answers) <= ({302} if policy == "allkeys-lru" else {302, 503})
    for answer, (_, _, thief) in zip(answers, cases, strict=True):
        if answer == 302:
            assert not is_signed_in_while_full(thief, policy)

    server.client().config_set("maxmemory", 0)  # room again: nothing revoked comes back
    for answer, (action, owner, _) in zip(answers, cases, strict=True):
        if answer == 503:
            assert action(owner).status_code == 302
    assert not any(is_signed_in(thief) for _, _, thief in cases)
    response = Client(REMOTE_ADDR="203.0.113.201").post(
        "/accounts/login/", {"username": "target", "password": PASSWORD}
    )
    assert response.status_code == 429
