"""The Key Vault provision_azure makes: who may read it and how, its secrets, its network, and the app's view of it."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.secrets import SecretClient
from django.core.management.base import CommandError

from sessiondemo.azure_credentials import azure_credential
from tests.provisioning.conftest import SUBSCRIPTION_ID, puts, run, writes
from tests.provisioning.rest_examples import example, mismatches, paths, response_paths

GROUP = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-sessiondemo-dev"
VAULT_ID = f"{GROUP}/providers/Microsoft.KeyVault/vaults/kv-dev-abc123"
SITE_ID = f"{GROUP}/providers/Microsoft.Web/sites/app-sessiondemo-dev-abc123"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def principal(arm) -> str:
    return arm.get(SITE_ID)["identity"]["principalId"]


def state(settings) -> dict:
    return json.loads((Path(settings.AZURE_STATE_DIR) / "dev.json").read_text())


def test_the_vault_uses_rbac_soft_delete_and_no_public_network_access(arm):
    run("provision_azure", "--name-suffix", "abc123")

    [vault] = puts(arm, "microsoft.keyvault/vaults")
    assert vault.path.lower() == VAULT_ID.lower()
    assert mismatches("microsoft.keyvault/vaults", vault.body) == []
    properties = vault.body["properties"]
    assert properties["enableRbacAuthorization"] is True
    assert properties["accessPolicies"] == []  # required by the API; ignored under RBAC
    assert properties["enableSoftDelete"] is True and properties["softDeleteRetentionInDays"] == 7
    assert "enablePurgeProtection" not in properties  # so teardown_azure can purge it
    assert properties["publicNetworkAccess"] == "Disabled"
    # Same sku and tenant shape as createVault.json; the tenant is the web app identity's.
    assert properties["sku"] == example("keyvault/2026-02-01/examples/createVault.json")["literals"]["properties.sku"]
    assert properties["tenantId"] == arm.get(SITE_ID)["identity"]["tenantId"]
    assert vault.body["tags"] == {"purpose": "session-demo", "environment": "dev"}


def test_the_vault_is_reached_through_a_private_endpoint_from_every_network(arm):
    run("provision_azure", "--name-suffix", "abc123")

    endpoint = arm.get(f"{GROUP}/providers/Microsoft.Network/privateEndpoints/pe-kv-dev-abc123")
    [connection] = endpoint["properties"]["privateLinkServiceConnections"]
    assert connection["properties"]["privateLinkServiceId"].lower() == VAULT_ID.lower()
    assert connection["properties"]["groupIds"] == ["vault"]
    zone = f"{GROUP}/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net"
    assert arm.get(f"{zone}/virtualNetworkLinks/link-vnet-sessiondemo-dev")
    group = arm.get(
        f"{GROUP}/providers/Microsoft.Network/privateEndpoints/pe-kv-dev-abc123/privateDnsZoneGroups/default"
    )
    assert group["properties"]["privateDnsZoneConfigs"][0]["properties"]["privateDnsZoneId"].lower() == zone.lower()


def test_the_web_app_alone_is_granted_key_vault_secrets_user_and_nobody_needs_a_data_plane_role(arm):
    run("provision_azure", "--name-suffix", "abc123")

    [grant] = puts(arm, "microsoft.authorization/roleassignments")
    assert grant.path.lower().startswith(f"{VAULT_ID}/providers/Microsoft.Authorization/roleAssignments/".lower())
    assert grant.query["api-version"] == "2022-04-01"
    assert grant.body == {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_USER}",
            "principalId": principal(arm),
            "principalType": "ServicePrincipal",
        }
    }


def test_secrets_are_written_through_resource_manager_never_the_vaults_data_plane(arm, settings):
    run("provision_azure", "--name-suffix", "abc123")

    assert not [r for r in arm.requests if r.path.startswith("/_vault/")]
    written = arm.secret_writes()
    assert sorted(r.path.rsplit("/", 1)[1] for r in written) == ["database-url", "redis-url", "secret-key"]
    for request in written:
        assert request.query["api-version"] == "2026-05-15"
        assert mismatches("microsoft.keyvault/vaults/secrets", request.body) == []
        assert request.body["properties"]["contentType"] == "text/plain"
        # A keyed digest of the value stands for it: Resource Manager never returns a value.
        assert list(request.body["tags"]) == ["value-hmac-sha256"]
        assert request.body["properties"]["value"] not in json.dumps(request.body["tags"])
    # Read back through Resource Manager, a secret shows no value, as getSecret.json shows none.
    secret = arm.get(f"{VAULT_ID}/secrets/secret-key")
    assert "value" not in secret["properties"]
    assert paths(secret, maps=("tags",)).keys() <= response_paths(
        "keyvault/2025-05-01/examples/getSecret.json"
    ).keys() | {"tags", "properties.contentType"}
    kept = state(settings)
    assert arm.secret_value("kv-dev-abc123", "secret-key") == kept["secret_key"]
    assert arm.secret_value("kv-dev-abc123", "database-url") == (
        f"postgres://sessiondemo:{quote(kept['database_password'], safe='')}"
        "@psql-sessiondemo-dev-abc123.postgres.database.azure.com:5432/sessiondemo?sslmode=require"
    )
    keys = arm.keys_of(
        f"{GROUP}/providers/Microsoft.Cache/redisEnterprise/redis-sessiondemo-dev-abc123/databases/default"
    )
    assert arm.secret_value("kv-dev-abc123", "redis-url").startswith(
        f"rediss://:{keys['primaryKey'].replace('=', '%3D')}@"
    )


def test_the_vaults_data_plane_refuses_whoever_is_outside_its_private_endpoint(arm, fake_arm_server):
    run("provision_azure", "--name-suffix", "abc123")
    client = SecretClient(
        f"{fake_arm_server.url}/_vault/kv-dev-abc123", azure_credential(), verify_challenge_resource=False
    )

    with pytest.raises(HttpResponseError) as refused:
        client.get_secret("secret-key")

    assert refused.value.status_code == 403
    assert "Public network access is disabled" in str(refused.value.message)
    client.close()


def test_the_app_settings_refer_to_key_vault_and_hold_no_redis_key_secret_key_or_database_password(arm, settings):
    run("provision_azure", "--name-suffix", "abc123")

    settings_now = arm.app_settings[SITE_ID.lower()]
    vault = "https://kv-dev-abc123.vault.azure.net"
    assert settings_now["REDIS_URL"] == f"@Microsoft.KeyVault(SecretUri={vault}/secrets/redis-url/)"
    assert settings_now["SECRET_KEY"] == f"@Microsoft.KeyVault(SecretUri={vault}/secrets/secret-key/)"
    assert settings_now["DATABASE_URL"] == f"@Microsoft.KeyVault(SecretUri={vault}/secrets/database-url/)"
    assert settings_now["REDIS_AUTH"] == "password"
    # Where the running app re-reads REDIS_URL when Redis refuses its password after a rotation.
    assert settings_now["REDIS_URL_SECRET_URI"] == f"{vault}/secrets/redis-url"
    for secret in (
        arm.secret_value("kv-dev-abc123", "secret-key"),
        *arm.keys_of(
            f"{GROUP}/providers/Microsoft.Cache/redisEnterprise/redis-sessiondemo-dev-abc123/databases/default"
        ).values(),
    ):
        assert not [name for name, value in settings_now.items() if secret.rstrip("=") in value]
    password = state(settings)["database_password"]
    assert not [name for name, value in settings_now.items() if password in value or quote(password, safe="") in value]
    assert not [name for name, value in settings_now.items() if value.startswith("postgres")]


def test_the_run_waits_until_app_service_resolves_every_reference(arm):
    output = run("provision_azure", "--name-suffix", "abc123")

    reads = [r for r in arm.requests if r.path.lower().endswith("/config/configreferences/appsettings")]
    assert reads and all(r.method == "GET" for r in reads)
    assert arm.reference_status[SITE_ID.lower()] == dict.fromkeys(
        ("REDIS_URL", "DATABASE_URL", "SECRET_KEY"), ("Resolved", "")
    )
    assert "Key Vault references" in output and "resolved" in output
    assert arm.restarts == {}  # nothing to restart for


def test_references_resolved_before_access_arrived_get_one_restart(arm):
    # App Service resolved the references before the new grant reached the vault.
    arm.grant_delay_resolutions = 1

    output = run("provision_azure", "--name-suffix", "abc123")

    assert arm.restarts == {SITE_ID.lower(): 1}
    assert "restarting it once" in output
    assert {status for status, _ in arm.reference_status[SITE_ID.lower()].values()} == {"Resolved"}


def test_references_that_never_resolve_stop_the_run_with_each_status(arm):
    arm.grant_delay_resolutions = 100

    with pytest.raises(
        CommandError,
        match=r"^Web app app-sessiondemo-dev-abc123 still cannot resolve its Key Vault references after \d+s: "
        r"DATABASE_URL AccessToKeyVaultDenied \(The app's identity may not get secrets from this vault\.\); ",
    ) as failure:
        run("provision_azure", "--name-suffix", "abc123")

    assert "literal @Microsoft.KeyVault(...) text" in str(failure.value)
    assert arm.restarts == {SITE_ID.lower(): 1}  # once, not in a loop


def test_a_second_run_writes_no_resource_and_no_new_secret_version(arm):
    run("provision_azure", "--name-suffix", "abc123")
    arm.requests.clear()

    output = run("provision_azure", "-v", "1")

    assert writes(arm) == []
    for secret in ("secret-key", "database-url", "redis-url"):
        assert f"{VAULT_ID}/secrets/{secret}" in output  # read back, its digest found unchanged
    assert "is provisioned: 0 changed" in output


def test_an_environment_with_the_database_password_in_its_app_settings_moves_it_to_key_vault(arm):
    run("provision_azure", "--name-suffix", "abc123")
    database_url = arm.secret_value("kv-dev-abc123", "database-url")
    # As provision_azure left an environment before DATABASE_URL became a Key Vault reference.
    del arm.vault_secrets["kv-dev-abc123"]["database-url"]
    arm.delete(f"{VAULT_ID}/secrets/database-url")
    arm.app_settings[SITE_ID.lower()]["DATABASE_URL"] = database_url
    arm.requests.clear()

    run("provision_azure")

    assert [r.path.rsplit("/", 1)[1] for r in arm.secret_writes()] == ["database-url"]
    assert arm.secret_value("kv-dev-abc123", "database-url") == database_url
    assert arm.app_settings[SITE_ID.lower()]["DATABASE_URL"] == (
        "@Microsoft.KeyVault(SecretUri=https://kv-dev-abc123.vault.azure.net/secrets/database-url/)"
    )


def test_dry_run_shows_the_vault_its_network_and_its_grants_and_sends_nothing(arm):
    output = run("provision_azure", "--dry-run", "--name-suffix", "abc123")

    assert arm.requests == []
    assert "Key Vault: kv-dev-abc123  [Microsoft.KeyVault/vaults @ 2026-05-15]" in output
    assert "properties.enableRbacAuthorization = true" in output
    assert "properties.publicNetworkAccess = Disabled" in output
    assert "Key Vault private endpoint: pe-kv-dev-abc123" in output
    assert "Key Vault role for the web app (Secrets User)" in output
    assert "Decided at run time (--key-vault-auth auto)" in output
    assert "properties.value = <SECRET_KEY, generated once and kept in the state file>" in output
    assert "(REDIS_URL, SECRET_KEY and DATABASE_URL as Key Vault references" in output
    assert "purge protection stays off so teardown_azure can purge it" in output


def test_teardown_purges_the_vault_it_soft_deleted(arm):
    run("provision_azure", "--name-suffix", "abc123")
    arm.inject(
        500,
        "InternalError",
        "Purge failed.",
        method="POST",
        path_endswith="/deletedVaults/kv-dev-abc123/purge",
        times=3,
    )  # outlasts the SDK's retries

    with pytest.raises(CommandError, match="purging soft-deleted Key Vault kv-dev-abc123"):
        run("teardown_azure", "--yes")

    # The group is gone and the vault waits, soft-deleted, as getDeletedVault.json shows one.
    [deleted] = [r for key, r in arm.resources.items() if "/deletedvaults/" in key]
    assert (
        paths(deleted, maps=("tags", "properties.tags")).keys()
        <= response_paths("keyvault/2026-02-01/examples/getDeletedVault.json", maps=("tags", "properties.tags")).keys()
    )
    assert deleted["properties"]["tags"]["environment"] == "dev"

    output = run("teardown_azure", "--yes")  # run again: finishes the job

    assert "Soft-deleted Key Vault kv-dev-abc123 purged" in output
    assert arm.resources == {}


# --- Contributor is enough -------------------------------------------------------------
def test_a_contributor_gets_a_vault_with_access_policies_and_a_working_site(arm):
    arm.caller_role = "Contributor"  # may not write Microsoft.Authorization/roleAssignments

    output = run("provision_azure", "--name-suffix", "abc123", "--deploy")

    assert puts(arm, "microsoft.authorization/roleassignments") == []  # never even tried
    assert arm.refused() == []
    [vault] = puts(arm, "microsoft.keyvault/vaults")
    assert vault.body["properties"]["enableRbacAuthorization"] is False
    assert vault.body["properties"]["accessPolicies"] == [
        {
            "tenantId": arm.get(SITE_ID)["identity"]["tenantId"],
            "objectId": principal(arm),
            "permissions": {"secrets": ["get"]},
        }
    ]
    assert mismatches("microsoft.keyvault/vaults", vault.body) == []
    assert "lets the web apps in with access policies (get secrets): you may not assign roles" in output
    assert {status for status, _ in arm.reference_status[SITE_ID.lower()].values()} == {"Resolved"}
    assert "/readyz answered 200" in output

    status = run("azure_status")

    assert "Key Vault mode" in status and "access policies (get secrets) (you may not assign roles" in status
    assert "All " in status and "checks passed" in status


def test_a_contributor_who_asks_for_rbac_is_told_what_to_do(arm):
    arm.caller_role = "Contributor"

    with pytest.raises(
        CommandError,
        match=r"^Azure denied permission to grant the web apps a role on Key Vault kv-dev-abc123\. Granting roles needs "
        r"Microsoft\.Authorization/roleAssignments/write .* or run again with --key-vault-auth access-policy",
    ):
        run("provision_azure", "--name-suffix", "abc123", "--key-vault-auth", "rbac")

    [refused] = arm.refused()
    assert (refused.status, refused.resource_type) == (403, "microsoft.authorization/roleassignments")


def test_a_role_assignment_refused_despite_the_permissions_moves_the_vault_to_access_policies(arm, settings):
    arm.inject(
        403,
        "AuthorizationFailed",
        "The client does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write'.",
        method="PUT",
        path_contains="/roleAssignments/",
    )

    output = run("provision_azure", "--name-suffix", "abc123")

    first, second = puts(arm, "microsoft.keyvault/vaults")
    assert first.body["properties"]["enableRbacAuthorization"] is True
    assert second.body["properties"]["enableRbacAuthorization"] is False
    assert "Azure refused the first role assignment (403), so the vault moved to access policies" in output
    assert state(settings)["key_vault_auth"]["mode"] == "access-policy"
    assert {status for status, _ in arm.reference_status[SITE_ID.lower()].values()} == {"Resolved"}

    arm.requests.clear()
    run("provision_azure")  # the vault keeps its mode: nothing to change
    assert writes(arm) == []


def test_an_explicit_access_policy_mode_sends_no_role_assignment(arm):
    run("provision_azure", "--name-suffix", "abc123", "--key-vault-auth", "access-policy")

    assert puts(arm, "microsoft.authorization/roleassignments") == []
    assert not [r for r in arm.requests if r.path.lower().endswith("/microsoft.authorization/permissions")]
    [vault] = puts(arm, "microsoft.keyvault/vaults")
    assert vault.body["properties"]["enableRbacAuthorization"] is False


def test_passwordless_redis_needs_no_owner_either(arm, redis_product):
    arm.caller_role = "Contributor"

    run("provision_azure", "--redis-product", redis_product, "--redis-auth", "entra", "--name-suffix", "abc123")

    assignment_type = {
        "managed": "microsoft.cache/redisenterprise/databases/accesspolicyassignments",
        "cache": "microsoft.cache/redis/accesspolicyassignments",
    }[redis_product]
    assert len(puts(arm, assignment_type)) == 1  # a Redis resource: Contributor may write it
    assert arm.refused() == []
    assert arm.app_settings[SITE_ID.lower()]["REDIS_AUTH"] == "entra"
