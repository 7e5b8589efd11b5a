"""Azure Managed Redis (Microsoft.Cache/redisEnterprise): the cluster and its one database, per region.

With more than one region the databases join one active geo-replication group, which
is set when a database is created.

An existing cluster or database is changed with PATCH (RedisEnterprise_Update,
Databases_Update), never with PUT: the 2025-07-01 specification describes PUT as
"overwrite/recreate, with potential downtime" (redisenterprise.json @ 15f38e5b, kept in
tests/provisioning/azure_facts/resource_rules.json). What only a create may set (port,
geoReplication, modules; clusteringPolicy unless it was NoCluster) is left out of a
PATCH, and a plan that changes one of them is refused with what to do instead.
"""

from __future__ import annotations

from typing import Any

from provisioning.errors import ProvisioningError
from provisioning.plan import DeploymentPlan, Names, Region, access_policy_assignment_name
from provisioning.redis_products import ManagedRedis
from provisioning.services.base import Context, Desired, differences, ensure, rest_shape, to_model, wait

# The product's data (provisioning/redis_products.py) says which type and API version it is.
API_VERSION = ManagedRedis.api_version
RESOURCE_TYPE = ManagedRedis.resource_type
ACCESS_POLICY_ASSIGNMENT_TYPE = f"{RESOURCE_TYPE}/databases/accessPolicyAssignments"
# DatabaseProperties marked read/create in the specification: a PATCH may not carry them.
CREATE_ONLY_DATABASE_PROPERTIES = ("port", "geoReplication", "modules")


def desired_cluster(plan: DeploymentPlan, region: Region | None = None) -> Desired:
    region = region or plan.primary
    return Desired(
        title="Azure Managed Redis",
        resource_type=RESOURCE_TYPE,
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


def desired(plan: DeploymentPlan) -> list[Desired]:
    """The cluster and database of every region, in the order they are made."""
    return [
        item
        for region in plan.region_plans()
        for item in (desired_cluster(plan, region), desired_database(plan, region))
    ]


def desired_access_policy_assignment(plan: DeploymentPlan, region: Region, principal_id: str) -> Desired:
    names = region.names
    name = access_policy_assignment_name(principal_id)
    return Desired(
        title="Redis access policy assignment",
        resource_type=ACCESS_POLICY_ASSIGNMENT_TYPE,
        name=f"{names.redis}/{names.redis_database}/{name}",
        resource_id=f"{plan.redis_database_id(names)}/accessPolicyAssignments/{name}",
        api_version=API_VERSION,
        # "default" is Managed Redis's one built-in access policy: every data command, on every key.
        body={"properties": {"accessPolicyName": "default", "user": {"objectId": principal_id}}},
        depends_on=(plan.redis_database_id(names), plan.web_app_id(names)),
    )


def provision_access_policy_assignment(context: Context, region: Region, principal_id: str) -> dict[str, Any]:
    """Let the web app's managed identity sign in to the database with a Microsoft Entra token.

    An access policy assignment is a Redis resource (Microsoft.Cache/redisEnterprise/
    databases/accessPolicyAssignments/write), which Contributor may write: no role to grant.
    """
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


def database_update(want: Desired, current: dict[str, Any], names: Names) -> dict[str, Any]:
    """The PATCH body for an existing database, refusing a change only a new database can make."""
    wanted = want.body["properties"]
    actual = current.get("properties") or {}
    changed = [
        key
        for key in (*CREATE_ONLY_DATABASE_PROPERTIES, "clusteringPolicy")
        if key in wanted and differences(without_linked(key, wanted[key]), actual.get(key))
    ]
    if "clusteringPolicy" in changed and actual.get("clusteringPolicy") == "NoCluster":
        changed.remove("clusteringPolicy")  # the one change the API allows
    if changed:
        raise ProvisioningError(
            f"Azure Managed Redis database {names.redis}/{names.redis_database} has "
            + ", ".join(f"{key} {actual.get(key)!r}" for key in changed)
            + ", which only a new database can change (the API would have to recreate it, losing every session). "
            "Keep the old setting (run again with the options of the last run), or run teardown_azure and "
            "provision the environment again."
        )
    kept = {key: value for key, value in wanted.items() if key not in CREATE_ONLY_DATABASE_PROPERTIES}
    if actual.get("clusteringPolicy") != "NoCluster":
        kept.pop("clusteringPolicy", None)
    return {"properties": kept}


def without_linked(key: str, value: Any) -> Any:
    """geoReplication compared by its group: Azure lists the whole group as linked databases."""
    if key == "geoReplication" and isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "linkedDatabases"}
    return value


def provision(context: Context, region: Region) -> dict[str, Any]:
    from azure.mgmt.redisenterprise.models import Cluster, ClusterUpdate, Database, DatabaseUpdate

    client = context.clients.redis_enterprise
    plan = context.plan
    names = region.names
    cluster = desired_cluster(plan, region)

    def update_cluster(body: dict[str, Any]) -> Any:
        # ClusterUpdate: sku, tags and properties; location is fixed once made.
        changes = {key: body[key] for key in ("sku", "tags", "properties")}
        return client.redis_enterprise.begin_update(context.group, names.redis, to_model(ClusterUpdate, changes))

    current = ensure(
        context,
        cluster,
        read=lambda: client.redis_enterprise.get(context.group, names.redis),
        write=lambda body: client.redis_enterprise.begin_create(context.group, names.redis, to_model(Cluster, body)),
        update=update_cluster,
    )
    database = desired_database(plan, region)
    existing: dict[str, Any] = {}

    def read_database() -> Any:
        found = client.databases.get(context.group, names.redis, names.redis_database)
        existing.update(rest_shape(found))
        return found

    def update_database(body: dict[str, Any]) -> Any:
        changes = database_update(database, existing, names)
        return client.databases.begin_update(
            context.group, names.redis, names.redis_database, to_model(DatabaseUpdate, changes)
        )

    ensure(
        context,
        database,
        read=read_database,
        write=lambda body: client.databases.begin_create(
            context.group, names.redis, names.redis_database, to_model(Database, body)
        ),
        update=update_database,
    )
    context.facts[f"redis_host:{region.location}"] = current.get("properties", {}).get("hostName", "")
    return current


def read(context: Context, region: Region) -> dict[str, Any]:
    """The cluster as Azure reports it, with its database's properties under ``database``."""
    client = context.clients.redis_enterprise
    names = region.names
    cluster = rest_shape(client.redis_enterprise.get(context.group, names.redis))
    cluster["database"] = rest_shape(client.databases.get(context.group, names.redis, names.redis_database))
    return cluster


def access_key(context: Context, region: Region, which: str = "primary") -> str:
    names = region.names
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


# --- what azure_status and the template need ---------------------------------------
def status(cluster: dict[str, Any]) -> dict[str, Any]:
    """Provisioning state, host, TLS port and key mode, as azure_status checks them."""
    properties = cluster.get("properties") or {}
    database = (cluster.get("database") or {}).get("properties") or {}
    state = properties.get("provisioningState")
    if database.get("provisioningState") != "Succeeded":
        state = f"{state} (database {database.get('provisioningState')})"
    return {
        "state": state,
        "host": properties.get("hostName"),
        "port": database.get("port"),
        "keys_off": database.get("accessKeysAuthentication") == "Disabled",
        "geo_replication": database.get("geoReplication") or {},
    }


def keys_resource_id(plan: DeploymentPlan, names: Names) -> str:
    """Where the access keys live: the database."""
    return plan.redis_database_id(names)


def template_keys_scope(names: Names) -> str:
    """The template expression of the resource that has the keys and the access policy assignments."""
    return f"resourceId('Microsoft.Cache/redisEnterprise/databases', '{names.redis}', '{names.redis_database}')"


def access_policy_parent(names: Names) -> str:
    return f"{names.redis}/{names.redis_database}"
