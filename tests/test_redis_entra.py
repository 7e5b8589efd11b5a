"""Passwordless Redis with Microsoft Entra ID: tokens as ACL passwords, renewed while requests run.

A local Redis plays Azure's part: its ACL user is the identity's object id, and its
password is whatever token the (fake) credential last handed out. Each token is
short-lived; once it expires the server stops accepting it, as Azure does.
"""

import threading
import time
import uuid

import jwt
import pytest
import redis
from azure.core.credentials import AccessToken

from sessiondemo import redis_client
from tests.fixtures.redis_servers import RedisServer, use_redis

TOKEN_LIFETIME = 2.0


class RotatingCredential:
    """An azure-core TokenCredential that mints a new JWT each call and teaches Redis to accept it."""

    def __init__(self, admin: redis.Redis, object_id: str) -> None:
        self.admin = admin
        self.object_id = object_id
        self.issued: list[tuple[str, float]] = []
        self.revoked: set[str] = set()
        self.scopes: list[tuple[str, ...]] = []
        self.lock = threading.Lock()

    def get_token(self, *scopes, **kwargs) -> AccessToken:
        with self.lock:
            self.scopes.append(scopes)
            expires = time.time() + TOKEN_LIFETIME
            token = jwt.encode(
                {"oid": self.object_id, "exp": int(expires) + 1, "iat": int(time.time()), "jti": uuid.uuid4().hex},
                "a-test-signing-key-of-at-least-32-bytes",
                algorithm="HS256",
            )
            self.admin.execute_command("ACL", "SETUSER", self.object_id, "on", f">{token}", "~*", "&*", "+@all")
            self.issued.append((token, expires))
            self.expire_old_tokens()
            return AccessToken(token, int(expires))

    def expire_old_tokens(self) -> None:
        now = time.time()
        for token, expires in self.issued:
            if expires + 0.5 < now and token not in self.revoked:
                self.admin.execute_command("ACL", "SETUSER", self.object_id, f"<{token}")
                self.revoked.add(token)


@pytest.fixture
def entra_redis(tmp_path):
    server = RedisServer(tmp_path, password="admin-password").start()
    admin = server.client()
    yield server, admin
    server.stop()


def test_tokens_are_renewed_before_they_expire_without_failing_a_request(entra_redis, settings):
    server, admin = entra_redis
    settings.REDIS_AUTH = "entra"
    credential = RotatingCredential(admin, object_id=str(uuid.uuid4()))
    client = redis_client.build_client(f"redis://127.0.0.1:{server.port}/0", cluster=False, credential=credential)
    failures, done = [], 0
    deadline = time.monotonic() + 3 * TOKEN_LIFETIME

    def keep_asking(worker: int) -> None:
        nonlocal done
        while time.monotonic() < deadline:
            try:
                client.incr(f"entra-test:{worker}")
                done += 1
            except redis.RedisError as error:
                failures.append(error)
            time.sleep(0.01)

    threads = [threading.Thread(target=keep_asking, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert done > 100
    assert len(credential.issued) >= 3, "the token should have been renewed while requests ran"
    assert all(scope == ("https://redis.azure.com/.default",) for scope in credential.scopes)
    # The server now refuses every expired token: a brand-new connection still gets in.
    with credential.lock:
        credential.expire_old_tokens()
    assert credential.revoked, "some tokens should have expired and been refused by the server"
    client.connection_pool.disconnect()
    assert client.ping() is True
    assert admin.execute_command("ACL", "WHOAMI") == b"default"
    client.close()


def test_without_any_azure_credential_readyz_says_what_to_do(entra_redis, settings, db):
    from django.test import Client

    server, _ = entra_redis
    settings.REDIS_AUTH = "entra"
    use_redis(settings, f"redis://127.0.0.1:{server.port}/0")
    response = Client().get("/readyz")
    assert response.status_code == 503
    error = response.json()["checks"]["redis"]["error"]
    assert "No Microsoft Entra ID token" in error and "managed identity" in error


def test_without_any_azure_credential_pages_answer_503_not_500(entra_redis, settings, db):
    from django.test import Client

    server, _ = entra_redis
    settings.REDIS_AUTH = "entra"
    use_redis(settings, f"redis://127.0.0.1:{server.port}/0")
    redis_client.reset_client()
    try:
        client = Client()
        client.cookies["sessionid"] = "a" * 32  # a session to load: the engine must reach Redis
        page = client.get("/cart/")
        api = client.get("/api/cart")
    finally:
        redis_client.reset_client()
    assert page.status_code == 503 and page["Retry-After"]
    assert api.status_code == 503 and "session store is unavailable" in api.json()["error"]
