"""``--export-template``: the same plan as an ARM template, for people who deploy with templates.

Bodies come from the same functions the SDK calls use, so the two cannot drift. Secrets
are template parameters (securestring) or ``listKeys`` expressions, never values; they go
into the Key Vault, and the app settings refer to them, as provision_azure does. Grants to
the web apps' identities name them with ``reference(..., 'full').identity.principalId``.
"""

from __future__ import annotations

from typing import Any

from provisioning.plan import DeploymentPlan, Names, Region
from provisioning.provision import desired_resources
from provisioning.services import key_vault, redis
from provisioning.services.base import Desired
from provisioning.services.frontdoor import API_VERSION as FRONT_DOOR_API_VERSION
from provisioning.services.key_vault import API_VERSION as KEY_VAULT_API_VERSION
from provisioning.services.postgres import API_VERSION as POSTGRES_API_VERSION
from provisioning.services.web import API_VERSION as WEB_API_VERSION

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def _template_resource(plan: DeploymentPlan, item: Desired) -> dict[str, Any]:
    resource: dict[str, Any] = {"type": item.resource_type, "apiVersion": item.api_version, "name": item.name}
    body = dict(item.body)
    if item.resource_type == "Microsoft.Insights/diagnosticSettings":
        resource["scope"] = item.resource_id.split("/providers/Microsoft.Insights/diagnosticSettings/")[0]
    if item.resource_type == "Microsoft.KeyVault/vaults":
        # The web apps' identities, named by reference(): in access-policy mode they are the readers.
        policies = [
            {**policy, "tenantId": "[subscription().tenantId]", "objectId": f"[{_principal(region.names)}]"}
            for policy, region in zip(body["properties"]["accessPolicies"], plan.region_plans(), strict=False)
        ]
        body["properties"] = {**body["properties"], "tenantId": "[subscription().tenantId]", "accessPolicies": policies}
        if policies:
            resource["dependsOn"] = [plan.web_app_id(region.names) for region in plan.region_plans()]
    if item.resource_type == "Microsoft.DBforPostgreSQL/flexibleServers":
        body["properties"] = {**body["properties"], "administratorLoginPassword": "[parameters('databasePassword')]"}
    resource.update(body)
    if item.depends_on:
        resource["dependsOn"] = [*resource.get("dependsOn", []), *item.depends_on]
    return resource


def _site(names: Names) -> str:
    return f"resourceId('Microsoft.Web/sites', '{names.web_app}')"


def _vault(plan: DeploymentPlan) -> str:
    return f"resourceId('Microsoft.KeyVault/vaults', '{plan.names.key_vault}')"


def _principal(names: Names) -> str:
    """The web app's system-assigned identity; 'full' because identity sits beside properties, not in them."""
    return f"reference({_site(names)}, '{WEB_API_VERSION}', 'full').identity.principalId"


def _vault_uri(plan: DeploymentPlan) -> str:
    return f"reference({_vault(plan)}, '{KEY_VAULT_API_VERSION}').vaultUri"  # ends in '/'


def _key_vault_reference(plan: DeploymentPlan, secret: str) -> str:
    """The same unversioned reference provision_azure sets, so App Service follows the latest version."""
    return f"[concat('@Microsoft.KeyVault(SecretUri=', {_vault_uri(plan)}, 'secrets/{secret}/)')]"


def _redis_host(plan: DeploymentPlan, names: Names) -> str:
    service = redis.for_plan(plan)
    return f"reference(resourceId('{service.RESOURCE_TYPE}', '{names.redis}'), '{service.API_VERSION}').hostName"


def _redis_url_with_key(plan: DeploymentPlan, names: Names) -> str:
    service = redis.for_plan(plan)
    keys = f"listKeys({service.template_keys_scope(names)}, '{service.API_VERSION}').primaryKey"
    return f"[concat('rediss://:', uriComponent({keys}), '@', {_redis_host(plan, names)}, ':{plan.redis.tls_port}/0')]"


def _database_url(plan: DeploymentPlan) -> str:
    postgres_host = (
        f"reference(resourceId('Microsoft.DBforPostgreSQL/flexibleServers', '{plan.names.postgres}'), "
        f"'{POSTGRES_API_VERSION}').fullyQualifiedDomainName"
    )
    return (
        f"[concat('postgres://{plan.postgres.administrator_login}:', uriComponent(parameters('databasePassword')), "
        f"'@', {postgres_host}, ':5432/{plan.names.postgres_database}?sslmode=require')]"
    )


def _secret(plan: DeploymentPlan, name: str, value: str, *depends_on: str) -> dict[str, Any]:
    """A secret written through Resource Manager: the template needs no data-plane role to write it."""
    return {
        "type": "Microsoft.KeyVault/vaults/secrets",
        "apiVersion": KEY_VAULT_API_VERSION,
        "name": f"{plan.names.key_vault}/{name}",
        "properties": {"value": value, "contentType": "text/plain"},
        "dependsOn": [plan.key_vault_id(), *depends_on],
    }


def _secrets(plan: DeploymentPlan) -> list[dict[str, Any]]:
    """The secrets provision_azure stores, with values from parameters and listKeys, never literals."""
    vault = plan.key_vault
    secrets = [
        _secret(plan, vault.secret_key_secret, "[parameters('secretKey')]"),
        _secret(
            plan,
            vault.database_url_secret,
            _database_url(plan),
            plan.postgres_id(),
        ),
    ]
    if not plan.redis.passwordless:
        for region in plan.region_plans():
            keys_of = redis.for_plan(plan).keys_resource_id(plan, region.names)
            secrets.append(_secret(plan, vault.redis_secret(region), _redis_url_with_key(plan, region.names), keys_of))
    return secrets


def _role_assignment_guid(plan: DeploymentPlan, names: Names) -> str:
    # guid() of what the assignment grants: a redeployment finds the same assignment.
    return f"guid({_vault(plan)}, {_site(names)}, '{plan.key_vault.secrets_user_role}')"


def _role_assignment_id(plan: DeploymentPlan, names: Names) -> str:
    return f"[extensionResourceId({_vault(plan)}, 'Microsoft.Authorization/roleAssignments', {_role_assignment_guid(plan, names)})]"


def _secrets_user_grant(plan: DeploymentPlan, region: Region) -> dict[str, Any]:
    """Key Vault Secrets User for the region's web app, on the vault: what its Key Vault references read with."""
    names = region.names
    grant = key_vault.desired_role_assignment(plan, f"[{_principal(names)}]")
    role = plan.key_vault.secrets_user_role
    return {
        "type": grant.resource_type,
        "apiVersion": grant.api_version,
        "scope": f"Microsoft.KeyVault/vaults/{plan.names.key_vault}",
        "name": f"[{_role_assignment_guid(plan, names)}]",
        "properties": {
            **grant.body["properties"],
            "roleDefinitionId": f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{role}')]",
        },
        "dependsOn": [plan.key_vault_id(), plan.web_app_id(names)],
    }


def _redis_access_grant(plan: DeploymentPlan, region: Region) -> dict[str, Any]:
    """Passwordless Redis: the region's web app identity gets the same access policy provision_azure assigns."""
    names = region.names
    principal = f"[{_principal(names)}]"
    service = redis.for_plan(plan)
    grant = service.desired_access_policy_assignment(plan, region, principal)
    parent = service.access_policy_parent(names)
    scope = service.template_keys_scope(names)
    # A name cannot wait for the principal id, and access policy assignment names are letters
    # and digits only: a guid() of Redis and the web app, without its hyphens.
    return {
        "type": grant.resource_type,
        "apiVersion": grant.api_version,
        "name": f"[concat('{parent}/webapp', replace(guid({scope}, {_site(names)}), '-', ''))]",
        **grant.body,
        "dependsOn": list(grant.depends_on),
    }


def _redis_access_grant_id(plan: DeploymentPlan, region: Region) -> str:
    names = region.names
    service = redis.for_plan(plan)
    scope = service.template_keys_scope(names)
    parents = "', '".join(service.access_policy_parent(names).split("/"))
    return (
        f"[resourceId('{service.ACCESS_POLICY_ASSIGNMENT_TYPE}', '{parents}', "
        f"concat('webapp', replace(guid({scope}, {_site(names)}), '-', '')))]"
    )


def _rbac(plan: DeploymentPlan) -> bool:
    """The template grants roles unless --key-vault-auth access-policy: who deploys it must then be allowed to."""
    return plan.key_vault.auth != "access-policy"


def _identity_grants(plan: DeploymentPlan) -> list[dict[str, Any]]:
    grants = []
    for region in plan.region_plans():
        if _rbac(plan):
            grants.append(_secrets_user_grant(plan, region))
        if plan.redis.passwordless:
            grants.append(_redis_access_grant(plan, region))
    return grants


def _app_settings(plan: DeploymentPlan, region: Region) -> dict[str, Any]:
    """The settings web.wanted_app_settings makes, secrets as Key Vault references.

    Unlike provision_azure, which merges, deploying this replaces the app's settings.
    """
    names = region.names
    vault = plan.key_vault
    hosts = f"'{names.web_app}.azurewebsites.net'"
    depends_on = [
        plan.web_app_id(names),
        plan.redis_id(names),
        *([_role_assignment_id(plan, names)] if _rbac(plan) else [plan.key_vault_id()]),
        f"{plan.key_vault_id()}/secrets/{vault.secret_key_secret}",
        f"{plan.key_vault_id()}/secrets/{vault.database_url_secret}",
    ]
    if plan.redis.passwordless:
        redis_url = f"[concat('rediss://', {_redis_host(plan, names)}, ':{plan.redis.tls_port}/0')]"
        redis_url_secret_uri = ""
        depends_on.append(_redis_access_grant_id(plan, region))
    else:
        redis_url = _key_vault_reference(plan, vault.redis_secret(region))
        redis_url_secret_uri = f"[concat({_vault_uri(plan)}, 'secrets/{vault.redis_secret(region)}')]"
        depends_on.append(f"{plan.key_vault_id()}/secrets/{vault.redis_secret(region)}")
    if plan.front_door is not None:
        door = plan.front_door
        endpoint = f"resourceId('Microsoft.Cdn/profiles/afdEndpoints', '{door.profile}', '{door.endpoint}')"
        front_door_host = f"reference({endpoint}, '{FRONT_DOOR_API_VERSION}').hostName"
        allowed_hosts = f"[concat({front_door_host}, ',', {hosts})]"
        origins = f"[concat('https://', {front_door_host}, ',https://', {hosts})]"
        depends_on.append(plan.resource_id("Microsoft.Cdn/profiles/afdEndpoints", door.profile, door.endpoint))
    else:
        allowed_hosts = f"{names.web_app}.azurewebsites.net"
        origins = f"https://{names.web_app}.azurewebsites.net"
    return {
        "type": "Microsoft.Web/sites/config",
        "apiVersion": WEB_API_VERSION,
        "name": f"{names.web_app}/appsettings",
        "dependsOn": depends_on,
        "properties": {
            "REDIS_URL": redis_url,
            "REDIS_URL_SECRET_URI": redis_url_secret_uri,
            "REDIS_AUTH": "entra" if plan.redis.passwordless else "password",
            "REDIS_CLUSTER": "1" if plan.redis.oss_cluster else "0",
            "DATABASE_URL": _key_vault_reference(plan, vault.database_url_secret),
            "SECRET_KEY": _key_vault_reference(plan, vault.secret_key_secret),
            "DEBUG": "0",
            "DJANGO_SETTINGS_MODULE": "sessiondemo.settings",
            "ALLOWED_HOSTS": allowed_hosts,
            "CSRF_TRUSTED_ORIGINS": origins,
            "APPLICATIONINSIGHTS_CONNECTION_STRING": (
                f"[reference(resourceId('Microsoft.Insights/components', '{plan.names.app_insights}'), '2020-02-02').ConnectionString]"
            ),
            "SCM_DO_BUILD_DURING_DEPLOYMENT": "true",
        },
    }


def _site_url(plan: DeploymentPlan) -> str:
    if plan.front_door is None:
        return f"https://{plan.names.web_app}.azurewebsites.net"
    door = plan.front_door
    return (
        f"[concat('https://', reference(resourceId('Microsoft.Cdn/profiles/afdEndpoints', '{door.profile}', "
        f"'{door.endpoint}'), '{FRONT_DOOR_API_VERSION}').hostName)]"
    )


# The group is where the template is deployed. The plan's grants and secrets hold
# placeholders; the template makes the web apps' grants from reference(...) and the secrets
# from parameters and listKeys instead, written through Resource Manager as provision_azure does.
NOT_FROM_PLAN = {
    "Microsoft.Resources/resourceGroups",
    "Microsoft.KeyVault/vaults/secrets",
    "Microsoft.Authorization/roleAssignments",
    "Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments",
    "Microsoft.Cache/redis/accessPolicyAssignments",
}


def arm_template(plan: DeploymentPlan) -> dict[str, Any]:
    """A resource-group-scoped template of everything after the group itself."""
    items = [item for item in desired_resources(plan) if item.resource_type not in NOT_FROM_PLAN]
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {
            "description": f"sessiondemo {plan.environment}: exported by manage.py provision_azure --export-template",
            "resourceGroup": plan.names.resource_group,
        },
        "parameters": {
            "databasePassword": {
                "type": "securestring",
                "metadata": {"description": "PostgreSQL administrator password."},
            },
            "secretKey": {"type": "securestring", "metadata": {"description": "Django SECRET_KEY for the site."}},
        },
        "resources": [
            *(_template_resource(plan, item) for item in items),
            *_secrets(plan),
            *_identity_grants(plan),
            *(_app_settings(plan, region) for region in plan.region_plans()),
        ],
        "outputs": {"siteUrl": {"type": "string", "value": _site_url(plan)}},
    }
