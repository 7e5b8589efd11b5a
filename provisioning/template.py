"""``--export-template``: the same plan as an ARM template, for people who deploy with templates.

Bodies come from the same functions the SDK calls use, so the two cannot drift. Secrets
are template parameters (securestring) or ``listKeys`` expressions, never values.
"""

from __future__ import annotations

from typing import Any

from provisioning.plan import DeploymentPlan, Region
from provisioning.provision import desired_resources
from provisioning.services.base import Desired
from provisioning.services.frontdoor import API_VERSION as FRONT_DOOR_API_VERSION
from provisioning.services.postgres import API_VERSION as POSTGRES_API_VERSION
from provisioning.services.redis_cache import API_VERSION as REDIS_CACHE_API_VERSION
from provisioning.services.redis_managed import API_VERSION as REDIS_MANAGED_API_VERSION
from provisioning.services.web import API_VERSION as WEB_API_VERSION

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def _template_resource(item: Desired) -> dict[str, Any]:
    resource: dict[str, Any] = {"type": item.resource_type, "apiVersion": item.api_version, "name": item.name}
    body = dict(item.body)
    if item.resource_type == "Microsoft.Insights/diagnosticSettings":
        resource["scope"] = item.resource_id.split("/providers/Microsoft.Insights/diagnosticSettings/")[0]
    if item.resource_type == "Microsoft.KeyVault/vaults":
        body["properties"] = {**body["properties"], "tenantId": "[subscription().tenantId]"}
    if item.resource_type == "Microsoft.DBforPostgreSQL/flexibleServers":
        body["properties"] = {**body["properties"], "administratorLoginPassword": "[parameters('databasePassword')]"}
    resource.update(body)
    if item.depends_on:
        resource["dependsOn"] = list(item.depends_on)
    return resource


def _app_settings(plan: DeploymentPlan, region: Region) -> dict[str, Any]:
    names = region.names
    if plan.redis.product == "managed":
        keys = (
            f"listKeys(resourceId('Microsoft.Cache/redisEnterprise/databases', '{names.redis}', '{names.redis_database}'), "
            f"'{REDIS_MANAGED_API_VERSION}').primaryKey"
        )
        host = f"reference(resourceId('Microsoft.Cache/redisEnterprise', '{names.redis}'), '{REDIS_MANAGED_API_VERSION}').hostName"
    else:
        keys = f"listKeys(resourceId('Microsoft.Cache/redis', '{names.redis}'), '{REDIS_CACHE_API_VERSION}').primaryKey"
        host = f"reference(resourceId('Microsoft.Cache/redis', '{names.redis}'), '{REDIS_CACHE_API_VERSION}').hostName"
    postgres_host = (
        f"reference(resourceId('Microsoft.DBforPostgreSQL/flexibleServers', '{plan.names.postgres}'), "
        f"'{POSTGRES_API_VERSION}').fullyQualifiedDomainName"
    )
    hosts = f"'{names.web_app}.azurewebsites.net'"
    depends_on = [plan.web_app_id(names), plan.redis_id(names)]
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
            "REDIS_URL": f"[concat('rediss://:', uriComponent({keys}), '@', {host}, ':{plan.redis.tls_port}/0')]",
            "REDIS_CLUSTER": "1" if plan.redis.oss_cluster else "0",
            "DATABASE_URL": (
                f"[concat('postgres://{plan.postgres.administrator_login}:', uriComponent(parameters('databasePassword')), "
                f"'@', {postgres_host}, ':5432/{plan.names.postgres_database}?sslmode=require')]"
            ),
            "SECRET_KEY": "[parameters('secretKey')]",
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


# Grants to identities that exist only once the web app does; the template leaves them to
# provision_azure (or to the person deploying), as it leaves the secrets.
NOT_IN_TEMPLATE = {
    "Microsoft.Resources/resourceGroups",
    "Microsoft.Authorization/roleAssignments",
    "Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments",
    "Microsoft.Cache/redis/accessPolicyAssignments",
}


def arm_template(plan: DeploymentPlan) -> dict[str, Any]:
    """A resource-group-scoped template of everything after the group itself."""
    items = [item for item in desired_resources(plan) if item.resource_type not in NOT_IN_TEMPLATE]
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {
            "description": f"sessiondemo {plan.environment}: exported by manage.py provision_azure --export-template",
            "resourceGroup": plan.names.resource_group,
        },
        "parameters": {
            "databasePassword": {"type": "securestring", "metadata": {"description": "PostgreSQL administrator password."}},
            "secretKey": {"type": "securestring", "metadata": {"description": "Django SECRET_KEY for the site."}},
        },
        "resources": [
            *(_template_resource(item) for item in items),
            *(_app_settings(plan, region) for region in plan.region_plans()),
        ],
        "outputs": {"siteUrl": {"type": "string", "value": _site_url(plan)}},
    }
