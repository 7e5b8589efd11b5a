"""The running site follows a Redis key rotation: refused, it reads REDIS_URL anew from Key Vault.

A real Redis whose password is changed under the site, and the fake Key Vault's
data plane holding the secret REDIS_URL comes from.
"""

import pytest
from azure.keyvault.secrets import SecretClient
from django.contrib.auth.models import User
from django.test import Client

from sessiondemo import redis_client
from sessiondemo.azure_credentials import azure_credential
from tests.fixtures.redis_servers import RedisServer, use_redis

VAULT = "kv-rotation-test"


@pytest.fixture
def vault(arm, fake_arm_server, settings):
    arm.put(
        f"/subscriptions/{arm.subscription_id}/resourceGroups/rg-test/providers/Microsoft.KeyVault/vaults/{VAULT}",
        {"type": "Microsoft.KeyVault/vaults", "location": "eastus", "properties": {"enableRbacAuthorization": True}},
    )
    url = f"{fake_arm_server.url}/_vault/{VAULT}"
    client = SecretClient(url, azure_credential(), verify_challenge_resource=False)
    yield url, client
    client.close()


@pytest.fixture
def rotating_redis(tmp_path, settings):
    server = RedisServer(tmp_path, password="old-key").start()
    use_redis(settings, f"redis://:old-key@127.0.0.1:{server.port}/0")
    yield server
    redis_client.reset_client()
    server.stop()


def rotate(server: RedisServer) -> None:
    """What a key regeneration does to a client: the old password stops working, connections drop."""
    admin = server.client()
    admin.config_set("requirepass", "new-key")
    admin.execute_command("CLIENT", "KILL", "TYPE", "normal")


@pytest.mark.django_db
def test_after_a_rotation_the_site_reads_the_new_url_from_key_vault_and_keeps_the_session(
    arm, vault, rotating_redis, settings
):
    vault_url, secrets = vault
    port = rotating_redis.port
    secrets.set_secret("redis-url", f"redis://:old-key@127.0.0.1:{port}/0")
    settings.REDIS_URL_SECRET_URI = f"{vault_url}/secrets/redis-url"
    User.objects.create_user("grace", password="a long pass phrase")
    shopper = Client()
    shopper.post("/accounts/login/", {"username": "grace", "password": "a long pass phrase"})
    shopper.post("/cart/add/TEA-008/", {"quantity": "3"})

    secrets.set_secret("redis-url", f"redis://:new-key@127.0.0.1:{port}/0")
    rotate(rotating_redis)
    reads_before = len([r for r in arm.requests if r.path.startswith("/_vault/") and r.method == "GET"])

    session = shopper.get("/api/session")
    assert session.status_code == 200
    assert session.json()["authenticated"] is True
    assert shopper.get("/api/cart").json()["count"] == 3
    reads = [r for r in arm.requests if r.path.startswith("/_vault/") and r.method == "GET"]
    assert len(reads) > reads_before, "the new URL should have come from Key Vault"


@pytest.mark.django_db
def test_without_the_secret_uri_a_refused_password_is_a_503_that_says_so(rotating_redis, settings):
    settings.REDIS_URL_SECRET_URI = ""
    shopper = Client()
    shopper.post("/cart/add/TEA-008/", {"quantity": "1"})
    rotate(rotating_redis)
    assert shopper.get("/api/cart").status_code == 503
    ready = shopper.get("/readyz").json()
    assert "refused the user name or password" in ready["checks"]["redis"]["error"]
