"""rotate_redis_key against the fake: the four steps in order, keys that really change, a site that never runs on a dead key.

The fake's /readyz resolves the app's REDIS_URL through its Key Vault reference, as App
Service does, and answers 503 when that password is not one of Redis's keys any more.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.core.management.base import CommandError

from tests.provisioning.conftest import SUBSCRIPTION_ID, run

GROUP = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-sessiondemo-dev"
SITE = f"{GROUP}/providers/Microsoft.Web/sites/app-sessiondemo-dev-abc123".lower()
VAULT = "https://kv-dev-abc123.vault.azure.net"


def keys_resource(redis_product: str) -> str:
    if redis_product == "managed":
        return f"{GROUP}/providers/Microsoft.Cache/redisEnterprise/redis-sessiondemo-dev-abc123/databases/default"
    return f"{GROUP}/providers/Microsoft.Cache/redis/redis-sessiondemo-dev-abc123"


@pytest.fixture
def deployed(arm, redis_product):
    run("provision_azure", "--redis-product", redis_product, "--name-suffix", "abc123")
    arm.requests.clear()
    return arm


def events(arm) -> list[str]:
    """What the rotation did that matters, in order."""
    found = []
    for request in arm.requests:
        path = request.path.lower()
        if request.method == "PUT" and request.resource_type == "microsoft.keyvault/vaults/secrets":
            found.append("secret")  # through Resource Manager: the vault takes no public traffic
        elif request.method == "PUT" and path.endswith("/config/appsettings"):
            found.append("app settings")
        elif path.endswith("/readyz"):
            found.append("readyz")
        elif path.endswith("/regeneratekey"):
            found.append(f"regenerate {request.body['keyType'].lower()}")
    # Several /readyz polls in a row count as one wait.
    return [event for index, event in enumerate(found) if index == 0 or event != found[index - 1] or event != "readyz"]


def test_rotation_runs_the_four_steps_in_order(deployed):
    output = run("rotate_redis_key")

    assert events(deployed) == [
        "secret",
        "app settings",
        "readyz",
        "regenerate primary",
        "secret",
        "app settings",
        "readyz",
        "regenerate secondary",
    ]
    for label in "abcd":
        assert re.search(rf"\({label}\) done at \d+\.\ds", output)
    assert "both old keys are dead" in output


def test_both_keys_change_and_the_secret_ends_on_the_new_primary(deployed, redis_product):
    before = deployed.keys_of(keys_resource(redis_product))

    run("rotate_redis_key")

    after = deployed.keys_of(keys_resource(redis_product))
    assert after["primaryKey"] != before["primaryKey"] and after["secondaryKey"] != before["secondaryKey"]
    assert f":{quote(after['primaryKey'], safe='')}@" in deployed.secret_value("kv-dev-abc123", "redis-url")


def test_the_app_is_pinned_to_the_secondary_version_then_back_on_the_latest(deployed):
    run("rotate_redis_key")

    first, second = [
        r.body["properties"]["REDIS_URL"]
        for r in deployed.requests
        if r.method == "PUT" and r.path.lower().endswith("/config/appsettings")
    ]
    assert re.fullmatch(
        rf"@Microsoft\.KeyVault\(SecretUri={re.escape(VAULT)}/secrets/redis-url/[0-9a-f]{{32}}\)", first
    )
    assert second == f"@Microsoft.KeyVault(SecretUri={VAULT}/secrets/redis-url/)"
    assert deployed.app_settings[SITE]["REDIS_URL"] == second  # where provision_azure leaves it


def test_the_site_is_ready_afterwards_and_a_second_provisioning_changes_nothing(deployed):
    run("rotate_redis_key")
    deployed.requests.clear()

    run("azure_status")
    output = run("provision_azure")

    assert "is provisioned: 0 changed" in output
    assert deployed.vault_writes() == []


def test_the_fakes_readiness_fails_when_a_key_is_regenerated_under_the_app(deployed, redis_product):
    # The control for the tests above: without the rotation's moves, the site goes down.
    from provisioning.clients import AzureClients, AzureSettings

    clients = AzureClients(AzureSettings.from_django())
    if redis_product == "managed":
        from azure.mgmt.redisenterprise.models import RegenerateKeyParameters

        clients.redis_enterprise.databases.begin_regenerate_key(
            "rg-sessiondemo-dev", "redis-sessiondemo-dev-abc123", "default", RegenerateKeyParameters(key_type="Primary")
        ).result()
    else:
        from azure.mgmt.redis.models import RedisRegenerateKeyParameters

        clients.redis_cache.redis.regenerate_key(
            "rg-sessiondemo-dev", "redis-sessiondemo-dev-abc123", RedisRegenerateKeyParameters(key_type="Primary")
        )

    with pytest.raises(CommandError, match=r"Site /readyz"):
        run("azure_status")


def test_dry_run_lists_the_steps_and_sends_nothing(deployed):
    output = run("rotate_redis_key", "--dry-run")

    assert deployed.requests == []
    assert (
        "(a) Store the secondary key's URL in Key Vault secret redis-url and move app-sessiondemo-dev-abc123 to that version"
        in output
    )
    assert "(d) Regenerate the secondary key of" in output
    assert "Dry run: 4 rotation steps planned; nothing was sent." in output


def test_a_failed_regeneration_is_a_sentence_and_a_second_run_finishes_the_job(deployed, redis_product):
    deployed.inject(
        500, "InternalServerError", "Something went wrong.", method="POST", path_endswith="/regenerateKey", times=3
    )

    with pytest.raises(
        CommandError,
        match=r"^Azure had an internal error \(500\) while regenerating the primary key of Redis redis-sessiondemo-dev-abc123",
    ):
        run("rotate_redis_key")
    run("azure_status")  # the app still runs, on the secondary key

    run("rotate_redis_key")

    assert f":{quote(deployed.keys_of(keys_resource(redis_product))['primaryKey'], safe='')}@" in deployed.secret_value(
        "kv-dev-abc123", "redis-url"
    )


def test_a_site_that_does_not_come_back_stops_the_rotation_before_any_key_is_regenerated(deployed):
    deployed.unhealthy_sites.add("app-sessiondemo-dev-abc123")

    with pytest.raises(CommandError, match=r"^The site did not become ready: .*/readyz last answered 503"):
        run("rotate_redis_key")

    assert not [r for r in deployed.requests if r.path.lower().endswith("/regeneratekey")]


def test_a_passwordless_environment_has_no_key_to_rotate(arm):
    run("provision_azure", "--redis-auth", "entra")

    with pytest.raises(CommandError, match=r"signs in to Redis with Microsoft Entra ID .* there is no key to rotate"):
        run("rotate_redis_key")


def test_rotating_an_environment_never_provisioned_says_to_provision_first(arm):
    with pytest.raises(CommandError, match=r"No deployment is recorded for environment 'dev'"):
        run("rotate_redis_key")


def test_managed_redis_regeneration_is_waited_for_as_a_long_running_operation(arm):
    run("provision_azure", "--name-suffix", "abc123")
    arm.requests.clear()

    run("rotate_redis_key")

    paths = [r.path for r in arm.requests]
    regenerations = [i for i, path in enumerate(paths) if path.lower().endswith("/regeneratekey")]
    assert len(regenerations) == 2
    assert all(any(p.startswith("/_operations/") for p in paths[i + 1 : i + 4]) for i in regenerations)
