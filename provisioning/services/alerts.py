"""Azure Monitor: the action group that emails, and metric alerts on Redis in the product's own metric names.

Which metrics and aggregations each product gets is plain data in
provisioning/redis_products.py: only what Azure Monitor publishes for that resource type.
"""

from __future__ import annotations

from provisioning.plan import AlertRule, DeploymentPlan, Region
from provisioning.services.base import Context, Desired, ensure, to_model

ACTION_GROUPS_API_VERSION = "2023-01-01"
METRIC_ALERTS_API_VERSION = "2018-03-01"
SHORT_NAME = "SessAlert"  # at most 12 characters, shown in SMS and email


def action_group_id(plan: DeploymentPlan) -> str:
    return plan.resource_id("Microsoft.Insights/actionGroups", plan.names.action_group)


def desired_action_group(plan: DeploymentPlan) -> Desired:
    receivers = (
        [{"name": "session-demo-email", "emailAddress": plan.alert_email, "useCommonAlertSchema": True}]
        if plan.alert_email
        else []
    )
    return Desired(
        title="Action group",
        resource_type="Microsoft.Insights/actionGroups",
        name=plan.names.action_group,
        resource_id=action_group_id(plan),
        api_version=ACTION_GROUPS_API_VERSION,
        body={
            "location": "Global",
            "tags": plan.tags,
            "properties": {"groupShortName": SHORT_NAME, "enabled": True, "emailReceivers": receivers},
        },
    )


def desired_metric_alert(plan: DeploymentPlan, rule: AlertRule, region: Region | None = None) -> Desired:
    region = region or plan.primary
    name = rule.name_in(region)
    return Desired(
        title="Metric alert",
        resource_type="Microsoft.Insights/metricAlerts",
        name=name,
        resource_id=plan.resource_id("Microsoft.Insights/metricAlerts", name),
        api_version=METRIC_ALERTS_API_VERSION,
        body={
            "location": "global",
            "tags": plan.tags,
            "properties": {
                "description": rule.meaning,
                "severity": rule.severity,
                "enabled": True,
                "scopes": [plan.redis_id(region.names)],
                "evaluationFrequency": rule.frequency,
                "windowSize": rule.window,
                "criteria": {
                    "odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                    "allOf": [
                        {
                            "criterionType": "StaticThresholdCriterion",
                            "name": rule.metric,
                            "metricName": rule.metric,
                            # Same metric names, different namespaces per product.
                            "metricNamespace": plan.redis.resource_type,
                            "operator": rule.operator,
                            "threshold": rule.threshold,
                            "timeAggregation": rule.aggregation,
                        }
                    ],
                },
                "autoMitigate": True,
                "actions": [{"actionGroupId": action_group_id(plan)}],
            },
        },
        depends_on=(plan.redis_id(region.names), action_group_id(plan)),
    )


def provision_alerts(context: Context) -> None:
    from azure.mgmt.monitor.models import ActionGroupResource, MetricAlertResource

    monitor = context.clients.monitor
    if not context.plan.alert_email:
        context.reporter.note(
            "no --alert-email given: the action group is made without receivers; alerts only show in the portal."
        )
    group = desired_action_group(context.plan)
    ensure(
        context,
        group,
        read=lambda: monitor.action_groups.get(context.group, group.name),
        write=lambda body: monitor.action_groups.create_or_update(
            context.group, group.name, to_model(ActionGroupResource, body)
        ),
    )
    for region in context.plan.region_plans():
        for rule in context.plan.alerts:
            alert = desired_metric_alert(context.plan, rule, region)
            ensure(
                context,
                alert,
                read=lambda name=alert.name: monitor.metric_alerts.get(context.group, name),
                write=lambda body, name=alert.name: monitor.metric_alerts.create_or_update(
                    context.group, name, to_model(MetricAlertResource, body)
                ),
            )
