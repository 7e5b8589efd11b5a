"""Azure Cache for Redis (Microsoft.Cache/redis) with the recipe's memory settings and patch schedule."""

from __future__ import annotations

from typing import Any

from provisioning.plan import DeploymentPlan
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


def redis_access_key(context: Context) -> str:
    keys = context.clients.redis_cache.redis.list_keys(context.group, context.plan.names.redis)
    return str(keys.primary_key)
