"""The Key Vault provision_azure makes: RBAC, who may read it, its secrets, and the app's references to them."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management.base import CommandError

from tests.provisioning.conftest import SUBSCRIPTION_ID, puts, run, writes
from tests.provisioning.rest_examples import example, mismatches, paths, response_paths

GROUP = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-sessiondemo-dev"
VAULT_ID = f"{GROUP}/providers/Microsoft.KeyVault/vaults/kv-dev-abc123"
SITE_ID = f"{GROUP}/providers/Microsoft.Web/sites/app-sessiondemo-dev-abc123"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"


def unsigned_token(claims: dict) -> str:
    """A token shaped like Entra's (header.claims.signature); the fake checks only that one is sent."""
    encode = lambda part: base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")  # noqa: E731
    return f"{encode({'alg': 'none'})}.{encode(claims)}.signature"


def test_the_vault_uses_rbac_and_soft_delete_without_purge_protection(arm):
    run("provision_azure", "--name-suffix", "abc123")

    [vault] = puts(arm, "microsoft.keyvault/vaults")
    assert vault.path.lower() == VAULT_ID.lower()
    assert mismatches("microsoft.keyvault/vaults", vault.body) == []
    properties = vault.body["properties"]
    assert properties["enableRbacAuthorization"] is True
    assert properties["enableSoftDelete"] is True and properties["softDeleteRetentionInDays"] == 7
    assert "enablePurgeProtection" not in properties  # so teardown_azure can purge it
    assert "accessPolicies" not in properties
    # Same sku and tenant shape as createVault.json; the tenant is the web app identity's.
    assert properties["sku"] == example("keyvault/2026-02-01/examples/createVault.json")["literals"]["properties.sku"]
    assert properties["tenantId"] == arm.get(SITE_ID)["identity"]["tenantId"]
    assert vault.body["tags"] == {"purpose": "session-demo", "environment": "dev"}


def test_the_web_app_alone_is_granted_key_vault_secrets_user_on_the_vault(arm):
    run("provision_azure", "--name-suffix", "abc123")

    [grant] = puts(arm, "microsoft.authorization/roleassignments")
    assert grant.path.lower().startswith(f"{VAULT_ID}/providers/Microsoft.Authorization/roleAssignments/".lower())
    assert grant.query["api-version"] == "2022-04-01"
    assert grant.body == {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_USER}",
            "principalId": arm.get(SITE_ID)["identity"]["principalId"],
            "principalType": "ServicePrincipal",
        }
    }


def test_whoever_runs_it_is_granted_secrets_officer_when_their_token_names_them(arm, settings):
    settings.AZURE_ACCESS_TOKEN = unsigned_token({"oid": "11111111-2222-3333-4444-555555555555", "idtyp": "user"})

    run("provision_azure", "--name-suffix", "abc123")

    grants = [r.body["properties"] for r in puts(arm, "microsoft.authorization/roleassignments")]
    assert [(g["roleDefinitionId"].rsplit("/", 1)[1], g["principalType"]) for g in grants] == [
        (SECRETS_OFFICER, "User"),
        (SECRETS_USER, "ServicePrincipal"),
    ]
    assert grants[0]["principalId"] == "11111111-2222-3333-4444-555555555555"


def test_secrets_go_through_the_vaults_data_plane_after_its_401_challenge(arm, settings):
    # The SDK remembers a host's challenge for the whole process; the fake keeps one port
    # for the session, so forget it to see the first meeting again.
    from azure.keyvault.secrets._shared import HttpChallengeCache

    HttpChallengeCache.clear()

    run("provision_azure", "--name-suffix", "abc123")

    vault_requests = [r for r in arm.requests if r.path.startswith("/_vault/kv-dev-abc123/")]
    assert "authorization" not in vault_requests[0].headers  # the SDK's first try, answered with the challenge
    assert arm.vault_challenges >= 1
    assert {r.headers["authorization"] for r in arm.vault_writes()} == {"Bearer fake-arm-test-token"}
    assert sorted(r.path.rsplit("/", 1)[1] for r in arm.vault_writes()) == ["database-url", "redis-url", "secret-key"]
    state = json.loads((Path(settings.AZURE_STATE_DIR) / "dev.json").read_text())
    assert arm.secret_value("kv-dev-abc123", "secret-key") == state["secret_key"]
    assert arm.secret_value("kv-dev-abc123", "database-url") == (
        f"postgres://sessiondemo:{quote(state['database_password'], safe='')}"
        "@psql-sessiondemo-dev-abc123.postgres.database.azure.com:5432/sessiondemo?sslmode=require"
    )
    keys = arm.keys_of(
        f"{GROUP}/providers/Microsoft.Cache/redisEnterprise/redis-sessiondemo-dev-abc123/databases/default"
    )
    assert arm.secret_value("kv-dev-abc123", "redis-url").startswith(
        f"rediss://:{keys['primaryKey'].replace('=', '%3D')}@"
    )


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
    password = json.loads((Path(settings.AZURE_STATE_DIR) / "dev.json").read_text())["database_password"]
    assert not [name for name, value in settings_now.items() if password in value or quote(password, safe="") in value]
    assert not [name for name, value in settings_now.items() if value.startswith("postgres")]


def test_a_second_run_writes_no_resource_and_no_new_secret_version(arm):
    run("provision_azure", "--name-suffix", "abc123")
    arm.requests.clear()

    output = run("provision_azure", "-v", "1")

    assert writes(arm) == []
    assert arm.vault_writes() == []
    for secret in ("secret-key", "database-url", "redis-url"):
        assert f"{VAULT_ID}/secrets/{secret}" in output  # read back, found unchanged
    assert "is provisioned: 0 changed" in output


def test_an_environment_with_the_database_password_in_its_app_settings_moves_it_to_key_vault(arm):
    run("provision_azure", "--name-suffix", "abc123")
    database_url = arm.secret_value("kv-dev-abc123", "database-url")
    # As provision_azure left an environment before DATABASE_URL became a Key Vault reference.
    del arm.vault_secrets["kv-dev-abc123"]["database-url"]
    arm.app_settings[SITE_ID.lower()]["DATABASE_URL"] = database_url
    arm.requests.clear()

    run("provision_azure")

    assert [r.path.rsplit("/", 1)[1] for r in arm.vault_writes()] == ["database-url"]
    assert arm.secret_value("kv-dev-abc123", "database-url") == database_url
    assert arm.app_settings[SITE_ID.lower()]["DATABASE_URL"] == (
        "@Microsoft.KeyVault(SecretUri=https://kv-dev-abc123.vault.azure.net/secrets/database-url/)"
    )


def test_a_vault_that_refuses_at_first_is_waited_out_while_the_role_assignment_spreads(arm):
    arm.inject(
        403, "Forbidden", "Caller is not authorized to perform action on resource.", path_contains="/_vault/", times=2
    )

    output = run("provision_azure", "--name-suffix", "abc123")

    assert "does not let us in yet" in output
    assert arm.secret_value("kv-dev-abc123", "secret-key")


def test_a_vault_that_keeps_refusing_says_which_role_is_missing(arm):
    arm.inject(
        403,
        "Forbidden",
        "Caller is not authorized to perform action on resource.",
        path_contains="/_vault/",
        times=10_000,
    )

    with pytest.raises(
        CommandError,
        match=r'^Key Vault kv-dev-abc123 still refused to let us write secret secret-key after 2s \(Caller is not authorized to perform action on resource\)\. Writing secrets needs the "Key Vault Secrets Officer" role on the vault',
    ):
        run("provision_azure", "--name-suffix", "abc123")


def test_dry_run_shows_the_vault_and_its_grants_and_sends_nothing(arm):
    output = run("provision_azure", "--dry-run", "--name-suffix", "abc123")

    assert arm.requests == []
    assert "Key Vault: kv-dev-abc123  [Microsoft.KeyVault/vaults @ 2026-05-15]" in output
    assert "properties.enableRbacAuthorization = true" in output
    assert "Key Vault role for the web app (Secrets User)" in output
    assert "Key Vault kv-dev-abc123 gets secrets secret-key, database-url, redis-url" in output
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


def test_a_contributor_who_may_not_grant_roles_is_told_which_role_can(arm):
    arm.inject(
        403,
        "AuthorizationFailed",
        "The client does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write'.",
        method="PUT",
        path_contains="/roleAssignments/",
    )

    with pytest.raises(
        CommandError,
        match=r"^Azure denied permission to grant a role on Key Vault kv-dev-abc123 "
        r"\(Key Vault role for the web app \(Secrets User\)\)\. Granting roles needs Owner, User Access Administrator",
    ):
        run("provision_azure", "--name-suffix", "abc123")

    run("provision_azure")  # once allowed, a second run finishes the job
    assert arm.app_settings[SITE_ID.lower()]["SECRET_KEY"].startswith("@Microsoft.KeyVault(")
