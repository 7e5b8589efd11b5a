"""Azure Cache for Redis (Microsoft.Cache/redis) with the recipe's memory settings and patch schedule."""

from __future__ import annotations

from typing import Any

from provisioning.plan import DeploymentPlan, access_policy_assignment_name
from provisioning.services.base import Context, Desired, ensure, to_model

API_VERSION = "2024-11-01"


def _sku(name: str) -> dict[str, Any]:
    tier, size = name.split("_", 1)  # "Standard_C1" -> Standard, C, 1
    return {"name": tier, "family": size[0], "capacity": int(size[1:])}


def desired_cache(plan: DeploymentPlan) -> Desired:
    return Desired(
        title="Azure Cache for Redis",
        resource_type="Microsoft.Cache/redis",
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


# Built-in access policy for applications: every data command on every key, without the
# @dangerous ones (FLUSHALL, CONFIG, DEBUG...). Access policies belong to the cache itself.
APP_ACCESS_POLICY = "Data Contributor"


def desired_access_policy_assignment(plan: DeploymentPlan, principal_id: str, alias: str) -> Desired:
    name = access_policy_assignment_name(principal_id)
    return Desired(
        title="Redis access policy assignment",
        resource_type="Microsoft.Cache/redis/accessPolicyAssignments",
        name=f"{plan.names.redis}/{name}",
        resource_id=f"{plan.redis_id()}/accessPolicyAssignments/{name}",
        api_version=API_VERSION,
        body={"properties": {"objectId": principal_id, "objectIdAlias": alias, "accessPolicyName": APP_ACCESS_POLICY}},
        depends_on=(plan.redis_id(), plan.web_app_id()),
    )


def provision_access_policy_assignment(context: Context, principal_id: str, alias: str) -> dict[str, Any]:
    """Let the web app's managed identity sign in with a Microsoft Entra token (its object id is the user name)."""
    from azure.mgmt.redis.models import RedisCacheAccessPolicyAssignment

    operations = context.clients.redis_cache.access_policy_assignment
    name = access_policy_assignment_name(principal_id)
    want = desired_access_policy_assignment(context.plan, principal_id, alias)
    return ensure(
        context,
        want,
        read=lambda: operations.get(context.group, context.plan.names.redis, name),
        write=lambda body: operations.begin_create_update(
            context.group, context.plan.names.redis, name, to_model(RedisCacheAccessPolicyAssignment, body)
        ),
    )


def provision_redis_cache(context: Context) -> dict[str, Any]:
    from azure.mgmt.redis.models import RedisCreateParameters, RedisPatchSchedule, RedisUpdateParameters

    redis = context.clients.redis_cache
    plan = context.plan
    for tuning in plan.redis.unsupported_tunings():
        context.reporter.note(tuning)
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
    context.facts[f"redis_host:{plan.primary.location}"] = current.get("properties", {}).get("hostName", "")
    return current


def redis_access_key(context: Context, which: str = "primary") -> str:
    keys = context.clients.redis_cache.redis.list_keys(context.group, context.plan.names.redis)
    return str(keys.primary_key if which == "primary" else keys.secondary_key)


def regenerate_access_key(context: Context, which: str) -> None:
    """Make a new ``which`` ("primary" or "secondary") key; the old one stops working at once."""
    from azure.mgmt.redis.models import RedisRegenerateKeyParameters

    context.clients.redis_cache.redis.regenerate_key(
        context.group, context.plan.names.redis, RedisRegenerateKeyParameters(key_type=which.capitalize())
    )
