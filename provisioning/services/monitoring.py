"""Log Analytics workspace and the workspace-based Application Insights component."""

from __future__ import annotations

from typing import Any

from provisioning.plan import DeploymentPlan
from provisioning.services.base import Context, Desired, ensure, to_model

WORKSPACE_API_VERSION = "2025-07-01"
COMPONENTS_API_VERSION = "2020-02-02"


def desired_workspace(plan: DeploymentPlan) -> Desired:
    return Desired(
        title="Log Analytics workspace",
        resource_type="Microsoft.OperationalInsights/workspaces",
        name=plan.names.workspace,
        resource_id=plan.workspace_id(),
        api_version=WORKSPACE_API_VERSION,
        body={
            "location": plan.location,
            "tags": plan.tags,
            "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 30},
        },
    )


def desired_app_insights(plan: DeploymentPlan) -> Desired:
    return Desired(
        title="Application Insights",
        resource_type="Microsoft.Insights/components",
        name=plan.names.app_insights,
        resource_id=plan.resource_id("Microsoft.Insights/components", plan.names.app_insights),
        api_version=COMPONENTS_API_VERSION,
        body={
            "location": plan.location,
            "tags": plan.tags,
            "kind": "web",
            "properties": {
                "Application_Type": "web",
                "Flow_Type": "Bluefield",
                "Request_Source": "rest",
                # Workspace-based: classic (instrumentation-key only) resources are retired.
                "WorkspaceResourceId": plan.workspace_id(),
                "IngestionMode": "LogAnalytics",
            },
        },
        depends_on=(plan.workspace_id(),),
    )


def provision_monitoring(context: Context) -> dict[str, Any]:
    workspaces = context.clients.log_analytics.workspaces
    workspace = desired_workspace(context.plan)
    ensure(
        context,
        workspace,
        read=lambda: workspaces.get(context.group, workspace.name),
        write=lambda body: workspaces.begin_create_or_update(context.group, workspace.name, body),
    )
    components = context.clients.app_insights.components
    from azure.mgmt.applicationinsights.v2020_02_02.models import ApplicationInsightsComponent

    component = desired_app_insights(context.plan)
    current = ensure(
        context,
        component,
        read=lambda: components.get(context.group, component.name),
        write=lambda body: components.create_or_update(
            context.group, component.name, to_model(ApplicationInsightsComponent, body)
        ),
    )
    context.facts["app_insights_connection_string"] = current.get("properties", {}).get("ConnectionString", "")
    return current
