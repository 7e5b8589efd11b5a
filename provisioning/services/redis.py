"""The one place a Redis product picks its module: everything else calls ``for_plan(plan)``.

Both modules (redis_managed for Azure Managed Redis, redis_cache for Azure Cache for
Redis) offer the functions of ``RedisService``, so the run, the rotation, azure_status and
the template never ask which product they deal with.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Protocol, cast

from provisioning.plan import DeploymentPlan, Names, Region
from provisioning.services import redis_cache, redis_managed
from provisioning.services.base import Context, Desired


class RedisService(Protocol):
    API_VERSION: str
    RESOURCE_TYPE: str
    ACCESS_POLICY_ASSIGNMENT_TYPE: str

    def desired(self, plan: DeploymentPlan) -> list[Desired]: ...

    def provision(self, context: Context, region: Region) -> dict[str, Any]: ...

    def desired_access_policy_assignment(self, plan: DeploymentPlan, region: Region, principal_id: str) -> Desired: ...

    def provision_access_policy_assignment(
        self, context: Context, region: Region, principal_id: str
    ) -> dict[str, Any]: ...

    def read(self, context: Context, region: Region) -> dict[str, Any]: ...

    def access_key(self, context: Context, region: Region, which: str = "primary") -> str: ...

    def regenerate_access_key(self, context: Context, region: Region, which: str) -> None: ...

    def status(self, resource: dict[str, Any]) -> dict[str, Any]: ...

    def keys_resource_id(self, plan: DeploymentPlan, names: Names) -> str: ...

    def template_keys_scope(self, names: Names) -> str: ...

    def access_policy_parent(self, names: Names) -> str: ...


SERVICES: dict[str, ModuleType] = {"managed": redis_managed, "cache": redis_cache}


def for_plan(plan: DeploymentPlan) -> RedisService:
    return cast(RedisService, SERVICES[plan.redis.product])
