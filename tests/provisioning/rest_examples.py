"""Checks of request bodies and stored resources against Microsoft's published examples.

A body sent by the SDK passes when every property path in it appears in the example's
request or response bodies for that resource type (the responses show every property
a resource has), with the same JSON type. The examples' shapes are the repository's own
test data (azure_facts/examples.json, each with its file and commit in
Azure/azure-rest-api-specs); the few properties those examples do not show are listed in
``NOT_IN_EXAMPLES`` with where they are defined instead.
"""

from __future__ import annotations

from typing import Any

from tests.provisioning.azure_facts import fold, json_paths, load

# resource type (lower case) -> example files whose request and response bodies define its shape
EXAMPLES: dict[str, tuple[str, ...]] = {
    "microsoft.resources/resourcegroups": ("resources/2025-04-01/examples/CreateResourceGroup.json",),
    "microsoft.operationalinsights/workspaces": (
        "loganalytics/2025-07-01/examples/WorkspacesCreate.json",
        "loganalytics/2025-07-01/examples/WorkspacesGet.json",
    ),
    "microsoft.insights/components": (
        "applicationinsights/2020-02-02/examples/ComponentsCreate.json",
        "applicationinsights/2020-02-02/examples/ComponentsGet.json",
    ),
    "microsoft.network/virtualnetworks": (
        "network/2025-07-01/examples/VirtualNetworkCreate.json",
        "network/2025-09-01/examples/VirtualNetworkGet.json",
    ),
    "microsoft.network/virtualnetworks/subnets": (
        "network/2025-05-01/examples/SubnetCreate.json",
        "network/2025-09-01/examples/SubnetGet.json",
    ),
    "microsoft.network/privateendpoints": (
        "network/2025-07-01/examples/PrivateEndpointCreate.json",
        "network/2025-05-01/examples/PrivateEndpointGet.json",
    ),
    "microsoft.network/privateendpoints/privatednszonegroups": (
        "network/2025-07-01/examples/PrivateEndpointDnsZoneGroupCreate.json",
        "network/2025-07-01/examples/PrivateEndpointDnsZoneGroupGet.json",
    ),
    "microsoft.network/privatednszones": (
        "privatedns/2024-06-01/examples/PrivateZonePut.json",
        "privatedns/2024-06-01/examples/PrivateZoneGet.json",
    ),
    "microsoft.network/privatednszones/virtualnetworklinks": (
        "privatedns/2024-06-01/examples/VirtualNetworkLinkPut.json",
        "privatedns/2024-06-01/examples/VirtualNetworkLinkGet.json",
    ),
    "microsoft.cache/redis": (
        "redis/2024-11-01/examples/RedisCacheCreate.json",
        "redis/2024-11-01/examples/RedisCacheCreateDefaultVersion.json",
        "redis/2024-11-01/examples/RedisCacheGet.json",
    ),
    "microsoft.cache/redis/patchschedules": (
        "redis/2024-11-01/examples/RedisCachePatchSchedulesCreateOrUpdate.json",
        "redis/2024-11-01/examples/RedisCachePatchSchedulesGet.json",
    ),
    "microsoft.cache/redisenterprise": (
        "redisenterprise/2025-07-01/examples/RedisEnterpriseCreate.json",
        "redisenterprise/2025-07-01/examples/RedisEnterpriseGet.json",
    ),
    "microsoft.cache/redisenterprise/databases": (
        "redisenterprise/2025-07-01/examples/RedisEnterpriseDatabasesCreate.json",
        "redisenterprise/2025-07-01/examples/RedisEnterpriseDatabasesGet.json",
    ),
    "microsoft.dbforpostgresql/flexibleservers": (
        "postgresqlflexibleservers/2025-08-01/examples/ServersCreateInMicrosoftOwnedVirtualNetworkWithZoneRedundantHighAvailability.json",
        "postgresqlflexibleservers/2025-08-01/examples/ServersGet.json",
    ),
    "microsoft.dbforpostgresql/flexibleservers/databases": (
        "postgresqlflexibleservers/2025-08-01/examples/DatabasesCreate.json",
        "postgresqlflexibleservers/2025-08-01/examples/DatabasesGet.json",
    ),
    "microsoft.web/serverfarms": (
        "web/2025-05-01/examples/CreateOrUpdateAppServicePlan.json",
        "web/2025-05-01/examples/GetAppServicePlan.json",
    ),
    "microsoft.web/sites": (
        "web/2025-05-01/examples/CreateOrUpdateWebApp.json",
        "web/2025-05-01/examples/GetWebApp.json",
    ),
    "microsoft.web/sites/config/web": (
        "web/2025-05-01/examples/UpdateSiteConfig.json",
        "web/2025-05-01/examples/GetSiteConfig.json",
    ),
    "microsoft.web/sites/config/appsettings": (
        "web/2025-05-01/examples/UpdateAppSettings.json",
        "web/2025-05-01/examples/ListAppSettings.json",
    ),
    "microsoft.insights/actiongroups": (
        "monitor-actiongroups/2023-01-01/examples/createOrUpdateActionGroup.json",
        "monitor-actiongroups/2023-01-01/examples/getActionGroup.json",
    ),
    "microsoft.insights/metricalerts": (
        "monitor-metricalerts/2018-03-01/examples/createOrUpdateMetricAlertSingleResource.json",
        "monitor-metricalerts/2018-03-01/examples/getMetricAlertSingleResource.json",
    ),
    "microsoft.insights/diagnosticsettings": (
        "monitor-diagnosticsettings/2021-05-01-preview/examples/createOrUpdateDiagnosticSetting.json",
        "monitor-diagnosticsettings/2021-05-01-preview/examples/getDiagnosticSetting.json",
    ),
    "microsoft.cdn/profiles": (
        "cdn/2025-06-01/examples/Profiles_Create.json",
        "cdn/2025-06-01/examples/Profiles_Get.json",
    ),
    "microsoft.cdn/profiles/afdendpoints": (
        "cdn/2025-06-01/examples/AFDEndpoints_Create.json",
        "cdn/2025-06-01/examples/AFDEndpoints_Get.json",
    ),
    "microsoft.cdn/profiles/origingroups": (
        "cdn/2025-06-01/examples/AFDOriginGroups_Create.json",
        "cdn/2025-06-01/examples/AFDOriginGroups_Get.json",
    ),
    "microsoft.cdn/profiles/origingroups/origins": (
        "cdn/2025-06-01/examples/AFDOrigins_Create.json",
        "cdn/2025-06-01/examples/AFDOrigins_Get.json",
    ),
    "microsoft.cdn/profiles/afdendpoints/routes": (
        "cdn/2025-06-01/examples/Routes_Create.json",
        "cdn/2025-06-01/examples/Routes_Get.json",
    ),
    "microsoft.keyvault/vaults": (
        "keyvault/2026-02-01/examples/createVault.json",
        "keyvault/2026-02-01/examples/getVault.json",
    ),
    "microsoft.keyvault/deletedvaults": ("keyvault/2026-02-01/examples/getDeletedVault.json",),
    "microsoft.keyvault/vaults/secrets": (
        "keyvault/2026-02-01/examples/createSecret.json",
        "keyvault/2025-05-01/examples/getSecret.json",
    ),
    "microsoft.cache/redisenterprise/databases/accesspolicyassignments": (
        "redisenterprise/2025-07-01/examples/RedisEnterpriseAccessPolicyAssignmentCreateUpdate.json",
    ),
}

# Types the extracted examples do not cover at all, and why; their bodies are checked by hand in the tests.
WITHOUT_EXAMPLES = {
    "microsoft.network/virtualnetworks/virtualnetworkpeerings": "no VirtualNetworkPeering example is among the extracted examples (azure_facts/examples.json)",
    "microsoft.authorization/roleassignments": "no Microsoft.Authorization example is among the extracted examples (azure_facts/examples.json)",
    "microsoft.cache/redis/accesspolicyassignments": "no Azure Cache for Redis access policy assignment example is among the extracted examples (azure_facts/examples.json)",
}

# Property paths the extracted examples do not show, each with where the API defines it.
NOT_IN_EXAMPLES: dict[str, dict[str, str]] = {
    "microsoft.resources/resourcegroups": {"tags": "ResourceGroup.tags (resources.json); a map"},
    "microsoft.operationalinsights/workspaces": {},
    "microsoft.insights/components": {
        "tags": "ComponentsResource.tags is a map of strings (components_API.json, kept in azure_facts/examples.json); the example shows an empty string",
    },
    "microsoft.network/virtualnetworks": {
        "tags": "Resource.tags (network.json); a map",
        "properties.subnets[].properties.delegations[].name": "Delegation.name (virtualNetwork.json); subnet delegation for App Service VNet integration and PostgreSQL",
        "properties.subnets[].properties.delegations[].properties.serviceName": "ServiceDelegationPropertiesFormat.serviceName (virtualNetwork.json)",
    },
    "microsoft.network/virtualnetworks/subnets": {
        "properties.delegations[].name": "Delegation.name (virtualNetwork.json)",
        "properties.delegations[].properties.serviceName": "ServiceDelegationPropertiesFormat.serviceName (virtualNetwork.json)",
    },
    "microsoft.network/privateendpoints": {
        "tags": "Resource.tags (network.json); a map",
        "properties.privateLinkServiceConnections[].name": "PrivateLinkServiceConnection.name (privateEndpoint.json); shown in PrivateEndpointGet's manualPrivateLinkServiceConnections",
    },
    "microsoft.network/privateendpoints/privatednszonegroups": {},
    "microsoft.network/privatednszones": {},
    "microsoft.network/privatednszones/virtualnetworklinks": {},
    "microsoft.cache/redis": {
        "properties.publicNetworkAccess": "RedisCommonProperties.publicNetworkAccess (redis.json); shown in RedisCacheGet",
        "properties.redisConfiguration.maxmemory-reserved": "RedisCommonPropertiesRedisConfiguration (redis.json); the recipe's tuning",
        "properties.redisConfiguration.maxfragmentationmemory-reserved": "RedisCommonPropertiesRedisConfiguration (redis.json); the recipe's tuning",
        "properties.redisConfiguration.aad-enabled": "RedisCommonPropertiesRedisConfiguration.aad-enabled (Redis/stable/2024-11-01/redis.json @ 140068549fe3, read in Azure/azure-rest-api-specs); Microsoft Entra authentication",
        "properties.disableAccessKeyAuthentication": "RedisCommonProperties.disableAccessKeyAuthentication (Redis/stable/2024-11-01/redis.json @ 140068549fe3, read in Azure/azure-rest-api-specs); a boolean",
    },
    "microsoft.cache/redis/patchschedules": {},
    "microsoft.cache/redisenterprise": {
        "properties.publicNetworkAccess": "ClusterProperties.publicNetworkAccess (redisenterprise.json 2025-07-01); shown in RedisEnterpriseGet",
    },
    "microsoft.cache/redisenterprise/databases": {
        "properties.geoReplication.groupNickname": "DatabaseProperties.geoReplication (RedisEnterprise/stable/2025-07-01/redisenterprise.json @ 15f38e5b507c, read in Azure/azure-rest-api-specs); active geo-replication",
        "properties.geoReplication.linkedDatabases[].id": "LinkedDatabase.id (RedisEnterprise/stable/2025-07-01/redisenterprise.json @ 15f38e5b507c, read in Azure/azure-rest-api-specs)",
        "properties.geoReplication.linkedDatabases[].state": "LinkedDatabase.state (RedisEnterprise/stable/2025-07-01/redisenterprise.json @ 15f38e5b507c, read in Azure/azure-rest-api-specs); read-only",
    },
    "microsoft.dbforpostgresql/flexibleservers": {
        "properties.network.delegatedSubnetResourceId": "Network.delegatedSubnetResourceId (FlexibleServers.json); VNet injection",
        "properties.network.privateDnsZoneArmResourceId": "Network.privateDnsZoneArmResourceId (FlexibleServers.json); VNet injection",
    },
    "microsoft.dbforpostgresql/flexibleservers/databases": {},
    "microsoft.web/serverfarms": {"tags": "Resource.tags (CommonDefinitions.json); a map"},
    "microsoft.web/sites": {
        "tags": "Resource.tags (CommonDefinitions.json); a map",
        "identity.type": "ManagedServiceIdentity.type (CommonDefinitions.json); system-assigned identity",
        "properties.virtualNetworkSubnetId": "SiteProperties.virtualNetworkSubnetId (WebApps.json); regional VNet integration",
        "properties.siteConfig.healthCheckPath": "SiteConfig.healthCheckPath (CommonDefinitions.json)",
    },
    "microsoft.web/sites/config/web": {
        "properties.healthCheckPath": "SiteConfig.healthCheckPath (CommonDefinitions.json)",
    },
    "microsoft.web/sites/config/appsettings": {},
    "microsoft.insights/actiongroups": {},
    "microsoft.insights/metricalerts": {
        "properties.criteria.allOf[].metricNamespace": "MetricCriteria.metricNamespace (metricAlert_API.json); tells the two Redis products' metrics apart",
    },
    "microsoft.keyvault/vaults": {
        "tags": "Vault tags (openapi.json, not stored); a map",
        "properties.enableRbacAuthorization": "VaultProperties.enableRbacAuthorization (openapi.json, not stored); Azure RBAC instead of access policies",
        "properties.enableSoftDelete": "VaultProperties.enableSoftDelete (openapi.json, not stored)",
        "properties.softDeleteRetentionInDays": "VaultProperties.softDeleteRetentionInDays (openapi.json, not stored); 7 to 90",
    },
    "microsoft.keyvault/deletedvaults": {},
    "microsoft.keyvault/vaults/secrets": {
        "tags": "SecretCreateOrUpdateParameters.tags (Azure/bicep-types-az generated/keyvault/microsoft.keyvault/2026-05-15/types.md @ 36a6dc79); a map: the value's keyed digest",
        "properties.contentType": "SecretProperties.contentType (Azure/bicep-types-az generated/keyvault/microsoft.keyvault/2026-05-15/types.md @ 36a6dc79)",
    },
    "microsoft.cache/redisenterprise/databases/accesspolicyassignments": {},
    "microsoft.insights/diagnosticsettings": {
        "properties.logs[].category": "LogSettings.category (diagnosticsSettings_API.json, kept in azure_facts/examples.json); the example uses categoryGroup",
    },
}

# Objects whose keys are data, not property names.
MAPS = ("tags",)


def example(relative: str) -> dict[str, Any]:
    """The extracted facts of one example file: its source, request and response paths, literals."""
    return load("examples")["examples"][relative]


def definition(relative: str) -> dict[str, Any]:
    """The kept definitions of one OpenAPI file, with its source."""
    return load("examples")["definitions"][relative]


def paths(value: Any, maps: tuple[str, ...] = MAPS) -> dict[str, str]:
    """Every property path in a JSON value with its JSON type; lists as ``[]``, map contents skipped."""
    return fold(json_paths(value), maps)


def request_paths(relative: str, maps: tuple[str, ...] = MAPS) -> dict[str, str]:
    return fold(example(relative)["request_paths"], maps)


def response_paths(relative: str, status: str = "200", maps: tuple[str, ...] = MAPS) -> dict[str, str]:
    return fold(example(relative)["response_paths"][status], maps)


def vocabulary(resource_type: str, maps: tuple[str, ...]) -> dict[str, str]:
    known: dict[str, str] = {}
    for relative in EXAMPLES[resource_type]:
        facts = example(relative)
        known.update(fold(facts["request_paths"], maps))
        for shape in facts["response_paths"].values():
            known.update(fold(shape, maps))
    if resource_type == "microsoft.web/sites":
        # A site's siteConfig has the shape of the config/web resource's properties.
        for path, kind in vocabulary("microsoft.web/sites/config/web", maps).items():
            if path.startswith("properties."):
                known[f"properties.siteConfig.{path[len('properties.') :]}"] = kind
    return known


def _allowed(path: str, allowed: dict[str, str]) -> bool:
    return any(name == path or name.startswith(path + ".") or name.startswith(path + "[]") for name in allowed)


def mismatches(resource_type: str, body: dict[str, Any]) -> list[str]:
    """What in ``body`` the examples do not account for: unknown paths and type differences."""
    if resource_type in WITHOUT_EXAMPLES:
        return []
    maps: tuple[str, ...] = MAPS
    if resource_type == "microsoft.web/sites/config/appsettings":
        maps = ("tags", "properties")
    known = vocabulary(resource_type, maps)
    allowed = NOT_IN_EXAMPLES.get(resource_type, {})
    problems = []
    for path, kind in paths(body, maps).items():
        if _allowed(path, allowed):
            continue
        if path not in known:
            problems.append(f"{resource_type}: {path} is not in the examples")
        elif known[path] != kind and "null" not in (known[path], kind):
            problems.append(f"{resource_type}: {path} is {kind}, the examples have {known[path]}")
    return problems


def example_api_version(resource_type: str) -> str:
    return str(example(EXAMPLES[resource_type][0])["api_version"])


def response_problems(resources: dict[str, dict[str, Any]]) -> list[str]:
    """Property paths in the fake's stored resources (what it answers) that the examples do not show."""
    from tests.fixtures.fake_arm.server import resource_type_of

    problems = []
    for key, resource in resources.items():
        resource_type = resource_type_of(key)
        if key.endswith("/config/web"):
            resource_type = "microsoft.web/sites/config/web"
        if resource_type in WITHOUT_EXAMPLES:
            continue
        known = vocabulary(resource_type, MAPS)
        allowed = NOT_IN_EXAMPLES.get(resource_type, {})
        for path in paths(resource):
            if path not in known and not _allowed(path, allowed):
                problems.append(f"{resource_type}: {path}")
    # What a site's identity gains from ARM (principalId, tenantId) is the one addition.
    return [p for p in problems if not p.startswith("microsoft.web/sites: identity.")]
