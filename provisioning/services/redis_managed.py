"""Azure Managed Redis (Microsoft.Cache/redisEnterprise): the cluster and its one database."""

from __future__ import annotations

from typing import Any

from provisioning.plan import DeploymentPlan
from provisioning.services.base import Context, Desired, ensure, to_model

API_VERSION = "2025-07-01"


def desired_cluster(plan: DeploymentPlan) -> Desired:
    return Desired(
        title="Azure Managed Redis",
        resource_type="Microsoft.Cache/redisEnterprise",
        name=plan.names.redis,
        resource_id=plan.redis_id(),
        api_version=API_VERSION,
        body={
            "location": plan.location,
            "tags": plan.tags,
            "sku": {"name": plan.redis.sku},
            "properties": {
                "minimumTlsVersion": plan.redis.minimum_tls_version,
                # Reached only through the private endpoint.
                "publicNetworkAccess": plan.redis.public_network_access,
            },
        },
    )


def desired_database(plan: DeploymentPlan) -> Desired:
    return Desired(
        title="Azure Managed Redis database",
        resource_type="Microsoft.Cache/redisEnterprise/databases",
        name=f"{plan.names.redis}/{plan.names.redis_database}",
        resource_id=plan.redis_database_id(),
        api_version=API_VERSION,
        body={
            "properties": {
                "clientProtocol": plan.redis.client_protocol,
                # EnterpriseCluster looks like one Redis to clients, which the stock
                # Django clients need; OSSCluster only for cluster-aware clients.
                "clusteringPolicy": plan.redis.clustering_policy,
                "evictionPolicy": plan.redis.eviction_policy,
                "port": plan.redis.port,
                "accessKeysAuthentication": "Enabled",
            }
        },
        depends_on=(plan.redis_id(),),
    )


def provision_managed_redis(context: Context) -> dict[str, Any]:
    from azure.mgmt.redisenterprise.models import Cluster, Database

    client = context.clients.redis_enterprise
    plan = context.plan
    for tuning in plan.redis.unsupported_tunings():
        context.reporter.note(tuning)
    cluster = desired_cluster(plan)
    current = ensure(
        context,
        cluster,
        read=lambda: client.redis_enterprise.get(context.group, cluster.name),
        write=lambda body: client.redis_enterprise.begin_create(context.group, cluster.name, to_model(Cluster, body)),
    )
    database = desired_database(plan)
    ensure(
        context,
        database,
        read=lambda: client.databases.get(context.group, plan.names.redis, plan.names.redis_database),
        write=lambda body: client.databases.begin_create(
            context.group, plan.names.redis, plan.names.redis_database, to_model(Database, body)
        ),
    )
    context.facts["redis_host"] = current.get("properties", {}).get("hostName", "")
    return current


def redis_access_key(context: Context) -> str:
    plan = context.plan
    keys = context.clients.redis_enterprise.databases.list_keys(context.group, plan.names.redis, plan.names.redis_database)
    return str(keys.primary_key)
