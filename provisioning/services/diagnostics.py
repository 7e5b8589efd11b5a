"""Diagnostic settings that send Redis and web app logs and metrics to the workspace.

azure-mgmt-monitor 7.0.0 has no diagnostic settings operations, so these go through the
generic resources client at API version 2021-05-01-preview, by id.
"""

from __future__ import annotations

from provisioning.plan import DeploymentPlan, DiagnosticPlan, Region
from provisioning.services.base import Context, Desired, ensure, to_model

API_VERSION = "2021-05-01-preview"


def diagnostic_setting_id(plan: DeploymentPlan, diagnostic: DiagnosticPlan, region: Region | None = None) -> str:
    target = plan.diagnostic_target_id(diagnostic.target, (region or plan.primary).names)
    return f"{target}/providers/Microsoft.Insights/diagnosticSettings/{diagnostic.name}"


def desired_diagnostic(plan: DeploymentPlan, diagnostic: DiagnosticPlan, region: Region | None = None) -> Desired:
    names = (region or plan.primary).names
    return Desired(
        title="Diagnostic setting",
        resource_type="Microsoft.Insights/diagnosticSettings",
        name=diagnostic.name,
        resource_id=diagnostic_setting_id(plan, diagnostic, region),
        api_version=API_VERSION,
        body={
            "properties": {
                "workspaceId": plan.workspace_id(),
                "logs": [{"category": category, "enabled": True} for category in diagnostic.log_categories],
                "metrics": [{"category": "AllMetrics", "enabled": True}],
            }
        },
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
