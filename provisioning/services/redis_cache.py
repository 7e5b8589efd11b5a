"""Azure Cache for Redis (Microsoft.Cache/redis) with the recipe's memory settings and patch schedule.

One region only (build_plan refuses more): the ``region`` every function takes is the
primary one, taken for the same interface as Azure Managed Redis's module.
"""

from __future__ import annotations

from typing import Any

from provisioning.plan import DeploymentPlan, Names, Region, access_policy_assignment_name
from provisioning.redis_products import CacheForRedis
from provisioning.services.base import Context, Desired, ensure, rest_shape, to_model

# The product's data (provisioning/redis_products.py) says which type and API version it is.
API_VERSION = CacheForRedis.api_version
RESOURCE_TYPE = CacheForRedis.resource_type
ACCESS_POLICY_ASSIGNMENT_TYPE = f"{RESOURCE_TYPE}/accessPolicyAssignments"


def _sku(name: str) -> dict[str, Any]:
    tier, size = name.split("_", 1)  # "Standard_C1" -> Standard, C, 1
    return {"name": tier, "family": size[0], "capacity": int(size[1:])}


def desired_cache(plan: DeploymentPlan) -> Desired:
    return Desired(
        title="Azure Cache for Redis",
        resource_type=RESOURCE_TYPE,
        name=plan.names.redis,
        resource_id=plan.redis_id(),
        api_version=API_VERSION,
        body={
            "location": plan.location,
            "tags": plan.tags,
            "properties": {
                "sku": _sku(plan.redis.sku),
                "enableNonSslPort": False,
                "minimumTlsVersion": plan.redis.minimum_tls_version,
                "publicNetworkAccess": "Disabled",
                "redisConfiguration": dict(plan.redis.redis_configuration),
                # Passwordless: access keys off, Microsoft Entra tokens only.
                "disableAccessKeyAuthentication": plan.redis.passwordless,
            },
        },
    )


def desired_patch_schedule(plan: DeploymentPlan) -> Desired:
    return Desired(
        title="Redis patch schedule",
        resource_type="Microsoft.Cache/redis/patchSchedules",
        name=f"{plan.names.redis}/default",
        resource_id=plan.resource_id("Microsoft.Cache/redis/patchSchedules", plan.names.redis, "default"),
        api_version=API_VERSION,
        body={
            "properties": {
                "scheduleEntries": [
                    {
                        "dayOfWeek": plan.redis.patch_day,
                        "startHourUtc": plan.redis.patch_start_hour_utc,
                        "maintenanceWindow": plan.redis.patch_window,
                    }
                ]
            }
        },
        depends_on=(plan.redis_id(),),
    )


def desired(plan: DeploymentPlan) -> list[Desired]:
    return [desired_cache(plan), desired_patch_schedule(plan)]


# Built-in access policy for applications: every data command on every key, without the
# @dangerous ones (FLUSHALL, CONFIG, DEBUG...). Access policies belong to the cache itself.
APP_ACCESS_POLICY = "Data Contributor"


def desired_access_policy_assignment(plan: DeploymentPlan, region: Region, principal_id: str) -> Desired:
    name = access_policy_assignment_name(principal_id)
    alias = region.names.web_app
    return Desired(
        title="Redis access policy assignment",
        resource_type=ACCESS_POLICY_ASSIGNMENT_TYPE,
        name=f"{plan.names.redis}/{name}",
        resource_id=f"{plan.redis_id()}/accessPolicyAssignments/{name}",
        api_version=API_VERSION,
        body={"properties": {"objectId": principal_id, "objectIdAlias": alias, "accessPolicyName": APP_ACCESS_POLICY}},
        depends_on=(plan.redis_id(), plan.web_app_id()),
    )


def provision_access_policy_assignment(context: Context, region: Region, principal_id: str) -> dict[str, Any]:
    """Let the web app's managed identity sign in with a Microsoft Entra token (its object id is the user name).

    Access policy assignments are Redis resources (Microsoft.Cache/redis/accessPolicyAssignments/
    write), which Contributor may write: no role to grant.
    """
    from azure.mgmt.redis.models import RedisCacheAccessPolicyAssignment

    operations = context.clients.redis_cache.access_policy_assignment
    name = access_policy_assignment_name(principal_id)
    want = desired_access_policy_assignment(context.plan, region, principal_id)
    return ensure(
        context,
        want,
        read=lambda: operations.get(context.group, context.plan.names.redis, name),
        write=lambda body: operations.begin_create_update(
            context.group, context.plan.names.redis, name, to_model(RedisCacheAccessPolicyAssignment, body)
        ),
    )


def provision(context: Context, region: Region) -> dict[str, Any]:
    from azure.mgmt.redis.models import RedisCreateParameters, RedisPatchSchedule, RedisUpdateParameters

    redis = context.clients.redis_cache
    plan = context.plan
    cache = desired_cache(plan)

    def update(body: dict[str, Any]) -> Any:
        # An existing cache is changed with PATCH: a PUT may not change some of these.
        changes = {"tags": body["tags"], "properties": body["properties"]}
        return redis.redis.begin_update(context.group, cache.name, to_model(RedisUpdateParameters, changes))

    current = ensure(
        context,
        cache,
        read=lambda: redis.redis.get(context.group, cache.name),
        write=lambda body: redis.redis.begin_create(context.group, cache.name, to_model(RedisCreateParameters, body)),
        update=update,
    )
    schedule = desired_patch_schedule(plan)
    ensure(
        context,
        schedule,
        read=lambda: redis.patch_schedules.get(context.group, cache.name, "default"),
        write=lambda body: redis.patch_schedules.create_or_update(
            context.group, cache.name, "default", to_model(RedisPatchSchedule, body)
        ),
    )
    context.facts[f"redis_host:{region.location}"] = current.get("properties", {}).get("hostName", "")
    return current


def read(context: Context, region: Region) -> dict[str, Any]:
    return rest_shape(context.clients.redis_cache.redis.get(context.group, region.names.redis))


def access_key(context: Context, region: Region, which: str = "primary") -> str:
    keys = context.clients.redis_cache.redis.list_keys(context.group, region.names.redis)
    return str(keys.primary_key if which == "primary" else keys.secondary_key)


def regenerate_access_key(context: Context, region: Region, which: str) -> None:
    """Make a new ``which`` ("primary" or "secondary") key; the old one stops working at once."""
    from azure.mgmt.redis.models import RedisRegenerateKeyParameters

    context.clients.redis_cache.redis.regenerate_key(
        context.group, region.names.redis, RedisRegenerateKeyParameters(key_type=which.capitalize())
    )


# --- what azure_status and the template need ---------------------------------------
def status(cache: dict[str, Any]) -> dict[str, Any]:
    properties = cache.get("properties") or {}
    return {
        "state": properties.get("provisioningState"),
        "host": properties.get("hostName"),
        "port": properties.get("sslPort"),
        "keys_off": properties.get("disableAccessKeyAuthentication") is True,
        "geo_replication": {},
    }


def keys_resource_id(plan: DeploymentPlan, names: Names) -> str:
    """Where the access keys live: the cache itself."""
    return plan.redis_id(names)


def template_keys_scope(names: Names) -> str:
    return f"resourceId('Microsoft.Cache/redis', '{names.redis}')"


def access_policy_parent(names: Names) -> str:
    return names.redis
