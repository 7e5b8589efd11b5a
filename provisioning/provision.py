"""The provisioning run: every service's step, in the recipe's order, then a summary.

``desired_resources`` lists the same steps without calling Azure, for ``--dry-run`` and
``--export-template``.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from provisioning.clients import AzureSettings
from provisioning.errors import ProvisioningError, azure_errors
from provisioning.plan import DeploymentPlan, build_plan
from provisioning.services import alerts, diagnostics, monitoring, network, postgres, redis_cache, redis_managed, resource_group, web
from provisioning.services.base import Context, Desired
from provisioning.state import DeploymentState


def desired_resources(plan: DeploymentPlan) -> list[Desired]:
    """Everything the run would make, in order, as the request bodies it would send."""
    names = plan.names
    if plan.redis.product == "managed":
        redis = [redis_managed.desired_cluster(plan), redis_managed.desired_database(plan)]
    else:
        redis = [redis_cache.desired_cache(plan), redis_cache.desired_patch_schedule(plan)]
    return [
        resource_group.desired(plan),
        monitoring.desired_workspace(plan),
        monitoring.desired_app_insights(plan),
        network.desired_virtual_network(plan),
        *redis,
        network.desired_dns_zone(plan, names.redis_dns_zone),
        network.desired_dns_link(plan, names.redis_dns_zone),
        network.desired_private_endpoint(plan),
        network.desired_dns_zone_group(plan),
        network.desired_dns_zone(plan, names.postgres_dns_zone),
        network.desired_dns_link(plan, names.postgres_dns_zone),
        postgres.desired_server(plan),
        postgres.desired_database(plan),
        web.desired_plan(plan),
        web.desired_site(plan),
        web.desired_site_config(plan),
        alerts.desired_action_group(plan),
        *(alerts.desired_metric_alert(plan, rule) for rule in plan.alerts),
        *(diagnostics.desired_diagnostic(plan, diagnostic) for diagnostic in plan.diagnostics),
    ]


def redis_url(context: Context) -> str:
    plan = context.plan
    if plan.redis.product == "managed":
        key = redis_managed.redis_access_key(context)
    else:
        key = redis_cache.redis_access_key(context)
    host = context.facts.get("redis_host") or plan.names.redis
    return f"rediss://:{quote(key, safe='')}@{host}:{plan.redis.tls_port}/0"


def provision_everything(context: Context) -> None:
    plan = context.plan
    reporter = context.reporter
    started = time.monotonic()
    reporter.heading(f"Provisioning {plan.environment} in {plan.location} (resource group {plan.names.resource_group}):")
    resource_group.provision_resource_group(context)
    monitoring.provision_monitoring(context)
    network.provision_virtual_network(context)
    if plan.redis.product == "managed":
        redis_managed.provision_managed_redis(context)
    else:
        redis_cache.provision_redis_cache(context)
    network.provision_redis_private_endpoint(context)
    network.provision_private_dns_zone(context, plan.names.postgres_dns_zone)
    postgres.provision_postgres(context)
    web.provision_app_service_plan(context)
    web.provision_web_app(context)
    with azure_errors(f"reading the access key of Redis {plan.names.redis}"):
        url = redis_url(context)
    web.provision_app_settings(context, web.wanted_app_settings(context, url, postgres.database_url(context)))
    alerts.provision_alerts(context)
    diagnostics.provision_diagnostics(context)
    context.state.record("resource_group", plan.names.resource_group)
    context.state.record("redis_product", plan.redis.product)
    context.state.record("resource_ids", [resource_id for _, _, resource_id in context.outcomes])
    context.state.record("site_url", f"https://{context.facts.get('web_host', '')}")
    context.state.save()
    reporter.line(f"  ({time.monotonic() - started:.1f}s in all)")


def open_state(azure: AzureSettings, environment: str) -> DeploymentState:
    return DeploymentState.load(azure.state_dir, environment)


def plan_from_options(azure: AzureSettings, state: DeploymentState, options: dict[str, Any]) -> DeploymentPlan:
    """The plan for this run: options given now, else those kept from the last run, else defaults."""
    kept = dict(state.data.get("options") or {})
    chosen = {key: value for key, value in options.items() if value is not None}
    merged = {**PLAN_DEFAULTS, **kept, **chosen}
    state.record("options", merged)
    return build_plan(
        environment=state.data["environment"],
        subscription_id=azure.subscription_id or "<subscription-id>",
        location=merged["location"] or azure.location,
        suffix=state.name_suffix(options.get("name_suffix")),
        redis_product=merged["redis_product"],
        redis_sku=merged["redis_sku"],
        clustering_policy=merged["clustering_policy"],
        instances=int(merged["instances"]),
        alert_email=merged["alert_email"],
        resource_group=merged["resource_group"],
    )


PLAN_DEFAULTS: dict[str, Any] = {
    "location": None,
    "redis_product": "managed",
    "redis_sku": None,
    "clustering_policy": "EnterpriseCluster",
    "instances": 2,
    "alert_email": "",
    "resource_group": None,
}


def plan_from_state(azure: AzureSettings, environment: str) -> tuple[DeploymentPlan, DeploymentState]:
    """The plan the last provisioning ran, for azure_status and teardown_azure."""
    state = open_state(azure, environment)
    if not state.exists or "name_suffix" not in state.data:
        raise ProvisioningError(
            f"No deployment is recorded for environment {environment!r} ({state.path} does not exist). "
            f"Run `manage.py provision_azure --environment {environment}` first, or pass the right --environment."
        )
    return plan_from_options(azure, state, {}), state
