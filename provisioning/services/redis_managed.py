"""Azure Managed Redis (Microsoft.Cache/redisEnterprise): the cluster and its one database, per region.

With more than one region the databases join one active geo-replication group, which
is set when a database is created.
"""

from __future__ import annotations

from typing import Any

from provisioning.plan import DeploymentPlan, Region, access_policy_assignment_name
from provisioning.services.base import Context, Desired, ensure, to_model, wait

API_VERSION = "2025-07-01"


def desired_cluster(plan: DeploymentPlan, region: Region | None = None) -> Desired:
    region = region or plan.primary
    return Desired(
        title="Azure Managed Redis",
        resource_type="Microsoft.Cache/redisEnterprise",
        name=region.names.redis,
        resource_id=plan.redis_id(region.names),
        api_version=API_VERSION,
        body={
            "location": region.location,
            "tags": plan.tags,
            "sku": {"name": plan.redis.sku},
            "properties": {
                "minimumTlsVersion": plan.redis.minimum_tls_version,
                # Reached only through the private endpoint.
                "publicNetworkAccess": plan.redis.public_network_access,
            },
        },
    )


def desired_database(plan: DeploymentPlan, region: Region | None = None) -> Desired:
    region = region or plan.primary
    properties: dict[str, Any] = {
        "clientProtocol": plan.redis.client_protocol,
        # EnterpriseCluster looks like one Redis to clients, which the stock
        # Django clients need; OSSCluster only for cluster-aware clients.
        "clusteringPolicy": plan.redis.clustering_policy,
        "evictionPolicy": plan.redis.eviction_policy,
        "port": plan.redis.port,
        # Passwordless: only Microsoft Entra identities with an access policy assignment get in.
        "accessKeysAuthentication": "Disabled" if plan.redis.passwordless else "Enabled",
    }
    write_only: tuple[str, ...] = ()
    if plan.is_global:
        # Each database is created linked to itself and those made before it; Azure
        # then lists the whole group on every member, so the list is not compared.
        linked = [plan.redis_database_id(r.names) for r in plan.region_plans()[: region.index + 1]]
        properties["geoReplication"] = {
            "groupNickname": plan.geo_replication_group,
            "linkedDatabases": [{"id": database} for database in linked],
        }
        write_only = ("properties.geoReplication.linkedDatabases",)
    return Desired(
        title="Azure Managed Redis database",
        resource_type="Microsoft.Cache/redisEnterprise/databases",
        name=f"{region.names.redis}/{region.names.redis_database}",
        resource_id=plan.redis_database_id(region.names),
        api_version=API_VERSION,
        body={"properties": properties},
        write_only=write_only,
        depends_on=(
            plan.redis_id(region.names),
            *(plan.redis_database_id(r.names) for r in plan.region_plans()[: region.index]),
        ),
    )


def desired_access_policy_assignment(plan: DeploymentPlan, region: Region, principal_id: str) -> Desired:
    names = region.names
    name = access_policy_assignment_name(principal_id)
    return Desired(
        title="Redis access policy assignment",
        resource_type="Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments",
        name=f"{names.redis}/{names.redis_database}/{name}",
        resource_id=f"{plan.redis_database_id(names)}/accessPolicyAssignments/{name}",
        api_version=API_VERSION,
        # "default" is Managed Redis's one built-in access policy: every data command, on every key.
        body={"properties": {"accessPolicyName": "default", "user": {"objectId": principal_id}}},
        depends_on=(plan.redis_database_id(names), plan.web_app_id(names)),
    )


def provision_access_policy_assignment(context: Context, region: Region, principal_id: str) -> dict[str, Any]:
    """Let the web app's managed identity sign in to the database with a Microsoft Entra token."""
    from azure.mgmt.redisenterprise.models import AccessPolicyAssignment

    operations = context.clients.redis_enterprise.access_policy_assignment
    names = region.names
    want = desired_access_policy_assignment(context.plan, region, principal_id)
    name = access_policy_assignment_name(principal_id)
    return ensure(
        context,
        want,
        read=lambda: operations.get(context.group, names.redis, names.redis_database, name),
        write=lambda body: operations.begin_create_update(
            context.group, names.redis, names.redis_database, name, to_model(AccessPolicyAssignment, body)
        ),
    )


def provision_managed_redis(context: Context, region: Region | None = None) -> dict[str, Any]:
    from azure.mgmt.redisenterprise.models import Cluster, Database

    client = context.clients.redis_enterprise
    plan = context.plan
    region = region or plan.primary
    if region.primary:
        for tuning in plan.redis.unsupported_tunings():
            context.reporter.note(tuning)
    names = region.names
    cluster = desired_cluster(plan, region)
    current = ensure(
        context,
        cluster,
        read=lambda: client.redis_enterprise.get(context.group, names.redis),
        write=lambda body: client.redis_enterprise.begin_create(context.group, names.redis, to_model(Cluster, body)),
    )
    database = desired_database(plan, region)
    ensure(
        context,
        database,
        read=lambda: client.databases.get(context.group, names.redis, names.redis_database),
        write=lambda body: client.databases.begin_create(
            context.group, names.redis, names.redis_database, to_model(Database, body)
        ),
    )
    context.facts[f"redis_host:{region.location}"] = current.get("properties", {}).get("hostName", "")
    return current


def redis_access_key(context: Context, region: Region | None = None, which: str = "primary") -> str:
    names = (region or context.plan.primary).names
    keys = context.clients.redis_enterprise.databases.list_keys(context.group, names.redis, names.redis_database)
    return str(keys.primary_key if which == "primary" else keys.secondary_key)


def regenerate_access_key(context: Context, region: Region, which: str) -> None:
    """Make a new ``which`` ("primary" or "secondary") key; the old one stops working at once."""
    from azure.mgmt.redisenterprise.models import RegenerateKeyParameters

    names = region.names
    poller = context.clients.redis_enterprise.databases.begin_regenerate_key(
        context.group, names.redis, names.redis_database, RegenerateKeyParameters(key_type=which.capitalize())
    )
    wait(context, poller, f"the new {which} key of {names.redis}")
