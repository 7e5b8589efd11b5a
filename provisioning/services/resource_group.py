"""The resource group everything else lives in, tagged so people can tell what it is."""

from __future__ import annotations

from typing import Any

from provisioning.plan import DeploymentPlan
from provisioning.services.base import Context, Desired, ensure

API_VERSION = "2025-04-01"


def desired(plan: DeploymentPlan) -> Desired:
    return Desired(
        title="Resource group",
        resource_type="Microsoft.Resources/resourceGroups",
        name=plan.names.resource_group,
        resource_id=plan.group_id(),
        api_version=API_VERSION,
        body={"location": plan.location, "tags": plan.tags},
    )


def provision_resource_group(context: Context) -> dict[str, Any]:
    groups = context.clients.resources.resource_groups
    want = desired(context.plan)
    return ensure(
        context,
        want,
        read=lambda: groups.get(context.group),
        write=lambda body: groups.create_or_update(context.group, body),
    )
