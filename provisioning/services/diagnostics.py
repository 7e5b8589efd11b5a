"""Diagnostic settings that send Redis and web app logs and metrics to the workspace.

The categories per resource are plain data in provisioning/redis_products.py and plan.py.

azure-mgmt-monitor 7.0.0 has no diagnostic settings operations, so these go through the
generic resources client at API version 2021-05-01-preview, by id.
"""

from __future__ import annotations

from typing import Any

from provisioning.plan import DeploymentPlan, DiagnosticPlan, Region
from provisioning.services.base import Context, Desired, ensure, to_model

API_VERSION = "2021-05-01-preview"


def diagnostic_setting_id(plan: DeploymentPlan, diagnostic: DiagnosticPlan, region: Region | None = None) -> str:
    target = plan.diagnostic_target_id(diagnostic.target, (region or plan.primary).names)
    return f"{target}/providers/Microsoft.Insights/diagnosticSettings/{diagnostic.name}"


def desired_diagnostic(plan: DeploymentPlan, diagnostic: DiagnosticPlan, region: Region | None = None) -> Desired:
    names = (region or plan.primary).names
    # Only the categories the resource type offers (a Managed Redis cluster has metrics and
    # no logs, its database logs and no metrics): Azure refuses any other with a 400.
    properties: dict[str, Any] = {"workspaceId": plan.workspace_id()}
    if diagnostic.log_categories:
        properties["logs"] = [{"category": category, "enabled": True} for category in diagnostic.log_categories]
    if diagnostic.metric_categories:
        properties["metrics"] = [{"category": category, "enabled": True} for category in diagnostic.metric_categories]
    return Desired(
        title="Diagnostic setting",
        resource_type="Microsoft.Insights/diagnosticSettings",
        name=diagnostic.name,
        resource_id=diagnostic_setting_id(plan, diagnostic, region),
        api_version=API_VERSION,
        body={"properties": properties},
        depends_on=(plan.diagnostic_target_id(diagnostic.target, names), plan.workspace_id()),
    )


def provision_diagnostics(context: Context) -> None:
    from azure.mgmt.resource.resources.models import GenericResource

    resources = context.clients.resources.resources
    for region in context.plan.region_plans():
        for diagnostic in context.plan.diagnostics:
            want = desired_diagnostic(context.plan, diagnostic, region)
            ensure(
                context,
                want,
                read=lambda rid=want.resource_id: resources.get_by_id(rid, api_version=API_VERSION),
                write=lambda body, rid=want.resource_id: resources.begin_create_or_update_by_id(
                    rid, to_model(GenericResource, body), api_version=API_VERSION
                ),
            )
