"""``--export-template``: the ARM template makes what provision_azure makes, grants and Key Vault references included."""

from __future__ import annotations

import json
import re

import pytest

from tests.provisioning.conftest import SUBSCRIPTION_ID, body_type, run, writes

GROUP = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-sessiondemo-dev"
VAULT_ID = f"{GROUP}/providers/Microsoft.KeyVault/vaults/kv-dev-abc123"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
WEB_APPS = ["app-sessiondemo-dev-abc123", "app-sessiondemo-dev-abc123-westeurope"]
ACCESS_POLICY_TYPES = {
    "managed": ("Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments", "2025-07-01"),
    "cache": ("Microsoft.Cache/redis/accessPolicyAssignments", "2024-11-01"),
}


def export(tmp_path, *options: str) -> dict:
    path = tmp_path / "template.json"
    run("provision_azure", "--dry-run", "--name-suffix", "abc123", "--export-template", str(path), *options)
    return json.loads(path.read_text())


def of_type(template: dict, resource_type: str) -> list[dict]:
    return [r for r in template["resources"] if r["type"] == resource_type]


def app_settings(template: dict) -> list[dict]:
    return [r for r in of_type(template, "Microsoft.Web/sites/config") if r["name"].endswith("/appsettings")]


def principal_of(app: str) -> str:
    return f"[reference(resourceId('Microsoft.Web/sites', '{app}'), '2025-05-01', 'full').identity.principalId]"


def expressions(value) -> list[str]:
    if isinstance(value, dict):
        return [e for item in value.values() for e in expressions(item)]
    if isinstance(value, list):
        return [e for item in value for e in expressions(item)]
    return [value] if isinstance(value, str) and value.startswith("[") else []


def balanced(expression: str) -> bool:
    """Parentheses balance outside the single-quoted literals (where '' is a quote)."""
    depth = 0
    for part in re.sub(r"'(?:[^']|'')*'", "''", expression[1:-1]):
        depth += {"(": 1, ")": -1}.get(part, 0)
        if depth < 0:
            return False
    return depth == 0 and expression.endswith("]")


def test_the_template_grants_each_web_app_key_vault_secrets_user_by_its_identity(arm, tmp_path):
    template = export(tmp_path, "--regions", "eastus,westeurope")

    grants = of_type(template, "Microsoft.Authorization/roleAssignments")
    assert [g["properties"]["principalId"] for g in grants] == [principal_of(app) for app in WEB_APPS]
    for grant, app in zip(grants, WEB_APPS, strict=True):
        assert grant["apiVersion"] == "2022-04-01"
        assert grant["scope"] == "Microsoft.KeyVault/vaults/kv-dev-abc123"
        assert grant["name"] == (
            f"[guid(resourceId('Microsoft.KeyVault/vaults', 'kv-dev-abc123'), "
            f"resourceId('Microsoft.Web/sites', '{app}'), '{SECRETS_USER}')]"
        )
        assert grant["properties"]["roleDefinitionId"] == (
            f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{SECRETS_USER}')]"
        )
        assert grant["properties"]["principalType"] == "ServicePrincipal"
        assert set(grant["dependsOn"]) == {VAULT_ID, f"{GROUP}/providers/Microsoft.Web/sites/{app}"}


def test_the_role_assignment_is_the_one_provision_azure_makes_but_for_the_identity_expression(arm, tmp_path):
    run("provision_azure", "--name-suffix", "abc123")
    [made] = [r.body for r in writes(arm) if body_type(r) == "microsoft.authorization/roleassignments"]

    [grant] = of_type(export(tmp_path), "Microsoft.Authorization/roleAssignments")

    assert grant["properties"].keys() == made["properties"].keys()
    assert grant["properties"]["principalType"] == made["properties"]["principalType"]
    assert made["properties"]["roleDefinitionId"].endswith(f"/roleDefinitions/{SECRETS_USER}")


def test_passwordless_templates_assign_each_web_app_the_access_policy_provision_azure_assigns(
    arm, tmp_path, redis_product
):
    run("provision_azure", "--redis-product", redis_product, "--redis-auth", "entra", "--name-suffix", "abc123")
    resource_type, api_version = ACCESS_POLICY_TYPES[redis_product]
    [made] = [r for r in writes(arm) if r.resource_type == resource_type.lower() and r.method == "PUT"]

    template = export(tmp_path)

    [assignment] = of_type(template, resource_type)
    assert assignment["apiVersion"] == api_version == made.query["api-version"]
    principal = principal_of(WEB_APPS[0])
    expected = json.loads(
        json.dumps(made.body).replace(
            json.dumps(arm.get(f"{GROUP}/providers/Microsoft.Web/sites/{WEB_APPS[0]}")["identity"]["principalId"]),
            json.dumps(principal),
        )
    )
    assert {"properties": assignment["properties"]} == expected
    parent = "redis-sessiondemo-dev-abc123/default" if redis_product == "managed" else "redis-sessiondemo-dev-abc123"
    assert assignment["name"].startswith(f"[concat('{parent}/webapp', replace(guid(")
    assert f"{GROUP}/providers/Microsoft.Web/sites/{WEB_APPS[0]}" in assignment["dependsOn"]
    [settings] = app_settings(template)
    assert settings["properties"]["REDIS_AUTH"] == "entra"
    assert "listKeys(" not in json.dumps(template)  # access keys are off: nothing may read them
    assert [d for d in settings["dependsOn"] if "accessPolicyAssignments" in d]


def test_with_access_keys_the_template_has_no_access_policy_assignment(arm, tmp_path):
    template = export(tmp_path)

    assert not [r for r in template["resources"] if r["type"].endswith("/accessPolicyAssignments")]


def test_the_app_settings_are_provision_azures_with_secrets_as_key_vault_references(arm, tmp_path):
    run("provision_azure", "--name-suffix", "abc123")
    made = arm.app_settings[f"{GROUP}/providers/Microsoft.Web/sites/{WEB_APPS[0]}".lower()]

    template = export(tmp_path)

    [settings] = app_settings(template)
    assert settings["properties"].keys() == made.keys()
    vault_uri = "reference(resourceId('Microsoft.KeyVault/vaults', 'kv-dev-abc123'), '2026-05-15').vaultUri"
    for name, value in made.items():
        secret = re.fullmatch(r"@Microsoft\.KeyVault\(SecretUri=https://[^/]+/secrets/([^/]+)/\)", value)
        if secret:
            assert settings["properties"][name] == (
                f"[concat('@Microsoft.KeyVault(SecretUri=', {vault_uri}, 'secrets/{secret.group(1)}/)')]"
            )
    assert settings["properties"]["REDIS_URL_SECRET_URI"] == f"[concat({vault_uri}, 'secrets/redis-url')]"
    for secret in ("secret-key", "database-url", "redis-url"):
        assert f"{VAULT_ID}/secrets/{secret}" in settings["dependsOn"]
    assert [d for d in settings["dependsOn"] if d.startswith("[extensionResourceId(") and "roleAssignments" in d]


def test_the_secrets_behind_the_references_are_in_the_template_as_parameters_and_list_keys(arm, tmp_path):
    run("provision_azure", "--name-suffix", "abc123")
    stored = sorted(arm.vault_secrets["kv-dev-abc123"])

    secrets = of_type(export(tmp_path), "Microsoft.KeyVault/vaults/secrets")

    assert sorted(s["name"].split("/")[1] for s in secrets) == stored == ["database-url", "redis-url", "secret-key"]
    assert {s["apiVersion"] for s in secrets} == {"2026-05-15"}
    values = {s["name"].split("/")[1]: s["properties"]["value"] for s in secrets}
    assert values["secret-key"] == "[parameters('secretKey')]"
    assert "uriComponent(parameters('databasePassword'))" in values["database-url"]
    assert "listKeys(resourceId('Microsoft.Cache/redisEnterprise/databases'" in values["redis-url"]
    assert all(VAULT_ID in s["dependsOn"] for s in secrets)


@pytest.mark.parametrize(
    "options",
    [
        (),
        ("--redis-auth", "entra"),
        ("--redis-product", "cache", "--redis-auth", "entra"),
        ("--regions", "eastus,westeurope"),
    ],
)
def test_the_template_parses_and_every_expression_and_dependency_holds_together(arm, tmp_path, options):
    template = export(tmp_path, *options)

    assert template["$schema"].endswith("/deploymentTemplate.json#")
    assert all(balanced(e) for e in expressions(template)), [e for e in expressions(template) if not balanced(e)]
    names = " ".join(r["name"] for r in template["resources"])
    for resource in template["resources"]:
        for dependency in resource.get("dependsOn", []):
            # A grant is depended on by the guid() its name is made of.
            for guid in re.findall(r"guid\((?:[^()]|\([^()]*\))*\)", dependency):
                assert guid in names


def test_an_access_policy_template_lets_each_web_app_in_by_the_vaults_policies_and_grants_no_role(arm, tmp_path):
    template = export(tmp_path, "--regions", "eastus,westeurope", "--key-vault-auth", "access-policy")

    assert of_type(template, "Microsoft.Authorization/roleAssignments") == []
    [vault] = of_type(template, "Microsoft.KeyVault/vaults")
    assert vault["properties"]["enableRbacAuthorization"] is False
    assert vault["properties"]["publicNetworkAccess"] == "Disabled"
    assert [p["objectId"] for p in vault["properties"]["accessPolicies"]] == [principal_of(app) for app in WEB_APPS]
    assert {p["tenantId"] for p in vault["properties"]["accessPolicies"]} == {"[subscription().tenantId]"}
    assert all(p["permissions"] == {"secrets": ["get"]} for p in vault["properties"]["accessPolicies"])
    assert set(vault["dependsOn"]) >= {f"{GROUP}/providers/Microsoft.Web/sites/{app}" for app in WEB_APPS}
    assert all(balanced(e) for e in expressions(template))
    # The secrets still come from parameters and listKeys, written through Resource Manager.
    assert {r["name"].split("/", 1)[1] for r in of_type(template, "Microsoft.KeyVault/vaults/secrets")} == {
        "secret-key",
        "database-url",
        "redis-url",
        "redis-url-westeurope",
    }
