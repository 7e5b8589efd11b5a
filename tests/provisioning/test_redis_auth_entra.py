"""provision_azure --redis-auth entra: the web app's identity signs in to Redis, and access keys are off."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from tests.provisioning.conftest import SUBSCRIPTION_ID, puts, run, writes
from tests.provisioning.rest_examples import mismatches, paths, request_paths

GROUP = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-sessiondemo-dev"
SITE_ID = f"{GROUP}/providers/Microsoft.Web/sites/app-sessiondemo-dev-abc123"
MANAGED_ASSIGNMENT = "microsoft.cache/redisenterprise/databases/accesspolicyassignments"
CACHE_ASSIGNMENT = "microsoft.cache/redis/accesspolicyassignments"


def principal(arm) -> str:
    return arm.get(SITE_ID)["identity"]["principalId"]


def test_managed_redis_gives_the_web_apps_identity_the_default_access_policy(arm):
    run("provision_azure", "--redis-auth", "entra", "--name-suffix", "abc123")

    [assignment] = puts(arm, MANAGED_ASSIGNMENT)
    assert assignment.path.lower().startswith(
        f"{GROUP}/providers/Microsoft.Cache/redisEnterprise/redis-sessiondemo-dev-abc123/databases/default/accessPolicyAssignments/".lower()
    )
    assert assignment.query["api-version"] == "2025-07-01"
    assert assignment.body == {"properties": {"accessPolicyName": "default", "user": {"objectId": principal(arm)}}}
    # The very shape of RedisEnterpriseAccessPolicyAssignmentCreateUpdate.json's request.
    assert paths(assignment.body) == request_paths(
        "redisenterprise/2025-07-01/examples/RedisEnterpriseAccessPolicyAssignmentCreateUpdate.json"
    )
    assert mismatches(MANAGED_ASSIGNMENT, assignment.body) == []


def test_managed_redis_turns_access_keys_off_and_the_app_gets_a_url_without_a_password(arm):
    run("provision_azure", "--redis-auth", "entra", "--name-suffix", "abc123")

    [database] = puts(arm, "microsoft.cache/redisenterprise/databases")
    assert database.body["properties"]["accessKeysAuthentication"] == "Disabled"
    settings_now = arm.app_settings[SITE_ID.lower()]
    assert settings_now["REDIS_URL"] == "rediss://redis-sessiondemo-dev-abc123.eastus.redis.azure.net:10000/0"
    assert settings_now["REDIS_AUTH"] == "entra"
    assert settings_now["SECRET_KEY"].startswith("@Microsoft.KeyVault(SecretUri=")
    assert settings_now["DATABASE_URL"].startswith(
        "@Microsoft.KeyVault(SecretUri="
    )  # the database still has a password
    assert not [r for r in arm.requests if r.path.lower().endswith("/listkeys")]  # no key is read at all
    assert arm.secret_value("kv-dev-abc123", "redis-url") is None


def test_cache_for_redis_turns_on_entra_turns_off_keys_and_assigns_data_contributor(arm):
    run("provision_azure", "--redis-product", "cache", "--redis-auth", "entra", "--name-suffix", "abc123")

    [cache] = puts(arm, "microsoft.cache/redis")
    assert cache.body["properties"]["redisConfiguration"]["aad-enabled"] == "true"
    assert cache.body["properties"]["disableAccessKeyAuthentication"] is True
    assert mismatches("microsoft.cache/redis", cache.body) == []
    [assignment] = puts(arm, CACHE_ASSIGNMENT)
    assert assignment.query["api-version"] == "2024-11-01"
    assert assignment.body == {
        "properties": {
            "objectId": principal(arm),
            "objectIdAlias": "app-sessiondemo-dev-abc123",
            "accessPolicyName": "Data Contributor",
        }
    }
    settings_now = arm.app_settings[SITE_ID.lower()]
    assert settings_now["REDIS_URL"] == "rediss://redis-sessiondemo-dev-abc123.redis.cache.windows.net:6380/0"
    assert settings_now["REDIS_AUTH"] == "entra"


def test_a_second_passwordless_run_sends_no_writes(arm, redis_product):
    run("provision_azure", "--redis-product", redis_product, "--redis-auth", "entra", "--name-suffix", "abc123")
    arm.requests.clear()

    output = run("provision_azure")  # the auth mode is kept in the state file like every option

    assert writes(arm) == []
    assert "is provisioned: 0 changed" in output


def test_switching_an_environment_from_keys_to_entra_updates_it_in_place(arm):
    run("provision_azure", "--name-suffix", "abc123")
    arm.requests.clear()

    run("provision_azure", "--redis-auth", "entra")

    # Databases_Update (PATCH), never the create-only PUT: no port, no geoReplication, no clusteringPolicy.
    [database] = [r for r in writes(arm) if r.resource_type == "microsoft.cache/redisenterprise/databases"]
    assert database.method == "PATCH"
    assert database.body == {
        "properties": {
            "clientProtocol": "Encrypted",
            "evictionPolicy": "AllKeysLRU",
            "accessKeysAuthentication": "Disabled",
        }
    }
    assert not [r for r in writes(arm) if r.resource_type == "microsoft.cache/redisenterprise"]
    assert arm.refused() == []
    assert len(puts(arm, MANAGED_ASSIGNMENT)) == 1
    assert arm.app_settings[SITE_ID.lower()]["REDIS_URL"].startswith("rediss://redis-")


def test_dry_run_shows_the_access_policy_and_keys_off_and_sends_nothing(arm):
    output = run("provision_azure", "--redis-auth", "entra", "--dry-run", "--name-suffix", "abc123")

    assert arm.requests == []
    assert "properties.accessKeysAuthentication = Disabled" in output
    assert "Redis access policy assignment:" in output
    assert "properties.accessPolicyName = default" in output
    assert "properties.user.objectId = <principal id of app-sessiondemo-dev-abc123>" in output
    assert "REDIS_URL holds no password, REDIS_AUTH=entra" in output
    assert "Key Vault secret: kv-dev-abc123/secret-key" in output
    assert "Key Vault secret: kv-dev-abc123/database-url" in output
    assert "Key Vault secret: kv-dev-abc123/redis-url" not in output  # the URL holds no secret


def test_azure_status_reports_the_auth_mode(arm, redis_product):
    run("provision_azure", "--redis-product", redis_product, "--redis-auth", "entra")

    output = run("azure_status")

    assert "Microsoft Entra ID only (access keys off) (planned entra)" in output


def test_azure_status_fails_when_keys_were_turned_back_on(arm):
    run("provision_azure", "--redis-auth", "entra")
    database = next(i for i in arm.ids() if i.endswith("/databases/default"))
    arm.get(database)["properties"]["accessKeysAuthentication"] = "Enabled"

    with pytest.raises(CommandError, match=r"1 of 20 checks failed .*\(Redis authentication\)"):
        run("azure_status")
