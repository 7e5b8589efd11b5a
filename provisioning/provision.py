"""The provisioning run as one list of steps, in the recipe's order.

Each ``Step`` says what it makes (``desired``: the request bodies, with placeholders for
what exists only at run time) and how (``run``). ``--dry-run`` prints the first,
``--export-template`` builds on it, and a real run calls the second: the order and the
resources are written once, here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from provisioning.clients import AzureSettings
from provisioning.errors import ProvisioningError, azure_errors
from provisioning.plan import DeploymentPlan, Region, build_plan
from provisioning.services import (
    alerts,
    diagnostics,
    frontdoor,
    key_vault,
    monitoring,
    network,
    postgres,
    redis,
    regions,
    resource_group,
    web,
)
from provisioning.services.base import Context, Desired
from provisioning.state import DeploymentState


@dataclass(frozen=True)
class Step:
    name: str
    desired: Callable[[DeploymentPlan], list[Desired]]
    run: Callable[[Context], None]


def _none(plan: DeploymentPlan) -> list[Desired]:
    return []


def _networks(plan: DeploymentPlan) -> list[Desired]:
    every = plan.region_plans()
    items = [network.desired_virtual_network(plan, region) for region in every]
    for region in every[1:]:
        items += [network.desired_peering(plan, every[0], region), network.desired_peering(plan, region, every[0])]
    return items


def _provision_networks(context: Context) -> None:
    for region in context.plan.region_plans():
        network.provision_virtual_network(context, region)
    if context.plan.is_global:
        network.provision_peerings(context)


def _provision_redis(context: Context) -> None:
    for region in context.plan.region_plans():
        redis.for_plan(context.plan).provision(context, region)


def _redis_endpoints(plan: DeploymentPlan) -> list[Desired]:
    items = network.desired_zone_with_links(plan, plan.names.redis_dns_zone)
    for region in plan.region_plans():
        items += network.desired_endpoint_with_zone_group(plan, network.redis_link(plan, region), region)
    return items


def _provision_redis_endpoints(context: Context) -> None:
    network.provision_private_dns_zone(context, context.plan.names.redis_dns_zone)
    for region in context.plan.region_plans():
        network.provision_private_endpoint(context, network.redis_link(context.plan, region), region)


def _postgres(plan: DeploymentPlan) -> list[Desired]:
    return [
        *network.desired_zone_with_links(plan, plan.names.postgres_dns_zone),
        postgres.desired_server(plan),
        postgres.desired_database(plan),
    ]


def _provision_postgres(context: Context) -> None:
    network.provision_private_dns_zone(context, context.plan.names.postgres_dns_zone)
    postgres.provision_postgres(context)


def _web_apps(plan: DeploymentPlan) -> list[Desired]:
    return [
        item
        for region in plan.region_plans()
        for item in (
            web.desired_plan(plan, region),
            web.desired_site(plan, region),
            web.desired_site_config(plan, region),
        )
    ]


def _provision_web_apps(context: Context) -> None:
    for region in context.plan.region_plans():
        web.provision_app_service_plan(context, region)
        web.provision_web_app(context, region)


def _key_vault(plan: DeploymentPlan) -> list[Desired]:
    link = network.key_vault_link(plan)
    return [
        *key_vault.planned_vault(plan),
        *network.desired_zone_with_links(plan, link.zone),
        *network.desired_endpoint_with_zone_group(plan, link),
    ]


def _provision_key_vault(context: Context) -> None:
    """The vault in the mode chosen, then its private endpoint: from here on only the networks reach it."""
    key_vault.provision_access(context)
    link = network.key_vault_link(context.plan)
    network.provision_private_dns_zone(context, link.zone)
    network.provision_private_endpoint(context, link)


def _front_door(plan: DeploymentPlan) -> list[Desired]:
    if plan.front_door is None:
        return []
    return [
        frontdoor.desired_profile(plan),
        frontdoor.desired_endpoint(plan),
        frontdoor.desired_origin_group(plan),
        *(frontdoor.desired_origin(plan, r, f"{r.names.web_app}.azurewebsites.net") for r in plan.region_plans()),
        frontdoor.desired_route(plan),
    ]


def _provision_front_door(context: Context) -> None:
    if context.plan.front_door is not None:
        hosts = {r.location: web.web_host(context, r) for r in context.plan.region_plans()}
        frontdoor.provision_front_door(context, hosts)


def _secrets_and_access(plan: DeploymentPlan) -> list[Desired]:
    """The secrets and passwordless Redis grants, their values and identities as placeholders: never values."""
    vault = plan.key_vault
    secrets = [
        (vault.secret_key_secret, "<SECRET_KEY, generated once and kept in the state file>"),
        (vault.database_url_secret, "<DATABASE_URL with the database password>"),
    ]
    if not plan.redis.passwordless:
        secrets += [
            (vault.redis_secret(region), f"<REDIS_URL with the primary access key of {region.names.redis}>")
            for region in plan.region_plans()
        ]
    items = [key_vault.desired_secret(plan, name, value, "<keyed digest of the value>") for name, value in secrets]
    if plan.redis.passwordless:
        service = redis.for_plan(plan)
        items += [
            service.desired_access_policy_assignment(plan, region, f"<principal id of {region.names.web_app}>")
            for region in plan.region_plans()
        ]
    return items


def _provision_secrets_and_settings(context: Context) -> None:
    plan = context.plan
    key_vault.store_secret(context, plan.key_vault.secret_key_secret, context.state.secret_key())
    key_vault.store_secret(context, plan.key_vault.database_url_secret, postgres.database_url(context))
    secret_key = key_vault.reference(context, plan.key_vault.secret_key_secret)
    database_url = key_vault.reference(context, plan.key_vault.database_url_secret)
    for region in plan.region_plans():
        url = provision_redis_access(context, region)
        wanted = web.wanted_app_settings(context, region, url, database_url, secret_key)
        web.provision_app_settings(context, wanted, region)
        web.wait_for_references(context, region, wanted)


def _alerts(plan: DeploymentPlan) -> list[Desired]:
    return [
        alerts.desired_action_group(plan),
        *(alerts.desired_metric_alert(plan, rule, region) for region in plan.region_plans() for rule in plan.alerts),
    ]


def _diagnostics(plan: DeploymentPlan) -> list[Desired]:
    return [diagnostics.desired_diagnostic(plan, d, region) for region in plan.region_plans() for d in plan.diagnostics]


STEPS = (
    # Nothing to make: a real run asks first whether the regions offer what the plan needs.
    Step("Region checks", _none, regions.check_regions),
    Step("Resource group", lambda plan: [resource_group.desired(plan)], resource_group.provision_resource_group),
    Step(
        "Monitoring",
        lambda plan: [monitoring.desired_workspace(plan), monitoring.desired_app_insights(plan)],
        monitoring.provision_monitoring,
    ),
    Step("Networks", _networks, _provision_networks),
    Step("Redis", lambda plan: redis.for_plan(plan).desired(plan), _provision_redis),
    Step("Redis private endpoints", _redis_endpoints, _provision_redis_endpoints),
    Step("PostgreSQL", _postgres, _provision_postgres),
    Step("Web apps", _web_apps, _provision_web_apps),
    Step("Front Door", _front_door, _provision_front_door),
    Step("Key Vault", _key_vault, _provision_key_vault),
    Step("Secrets, Redis access and app settings", _secrets_and_access, _provision_secrets_and_settings),
    Step("Alerts", _alerts, alerts.provision_alerts),
    Step("Diagnostics", _diagnostics, diagnostics.provision_diagnostics),
)


def desired_resources(plan: DeploymentPlan) -> list[Desired]:
    """Everything the run would make, in order, as the request bodies it would send."""
    return [item for step in STEPS for item in step.desired(plan)]


def redis_url(context: Context, region: Region, which: str = "primary") -> str:
    """The URL the app connects with: ``which`` access key in it, or none when passwordless."""
    plan = context.plan
    host = context.facts.get(f"redis_host:{region.location}") or region.names.redis
    if plan.redis.passwordless:
        return f"rediss://{host}:{plan.redis.tls_port}/0"
    key = redis.for_plan(plan).access_key(context, region, which)
    return f"rediss://:{quote(key, safe='')}@{host}:{plan.redis.tls_port}/0"


def provision_redis_access(context: Context, region: Region) -> str:
    """Let the region's web app into Redis; the REDIS_URL app setting that goes with it.

    With a key the URL is a secret: it goes to Key Vault and the app setting refers to it.
    Passwordless, the app's identity gets an access policy and the URL holds no secret.
    """
    plan = context.plan
    if plan.redis.passwordless:
        redis.for_plan(plan).provision_access_policy_assignment(context, region, web.web_principal(context, region))
        return redis_url(context, region)
    with azure_errors(f"reading the access key of Redis {region.names.redis}"):
        url = redis_url(context, region)
    key_vault.store_secret(context, plan.key_vault.redis_secret(region), url)
    return key_vault.reference(context, plan.key_vault.redis_secret(region))


def provision_everything(context: Context) -> None:
    plan = context.plan
    reporter = context.reporter
    started = time.monotonic()
    where = ", ".join(plan.regions) if plan.is_global else plan.location
    reporter.heading(f"Provisioning {plan.environment} in {where} (resource group {plan.names.resource_group}):")
    for note in plan.notes():
        reporter.note(note)
    for step in STEPS:
        step.run(context)
    record_run(context)
    reporter.line(f"  ({time.monotonic() - started:.1f}s in all)")


def record_run(context: Context) -> None:
    plan = context.plan
    state = context.state
    state.record("resource_group", plan.names.resource_group)
    state.record("redis_product", plan.redis.product)
    state.record("key_vault_uri", context.facts.get("key_vault_uri"))
    state.record("resource_ids", [resource_id for _, _, resource_id in context.outcomes])
    front_door = context.facts.get("front_door_host")
    site = front_door or web.web_host(context, plan.primary)
    state.record("site_url", f"https://{site}")
    state.save()


def open_state(azure: AzureSettings, environment: str) -> DeploymentState:
    return DeploymentState.load(azure.state_dir, environment)


PLAN_DEFAULTS: dict[str, Any] = {
    "location": None,
    "redis_product": "managed",
    "redis_auth": "password",
    "redis_sku": None,
    "clustering_policy": "EnterpriseCluster",
    "instances": 2,
    "alert_email": "",
    "resource_group": None,
    "regions": None,
    "key_vault_auth": "auto",
    "web_sku": "B1",
}


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
        redis_auth=merged["redis_auth"],
        redis_sku=merged["redis_sku"],
        clustering_policy=merged["clustering_policy"],
        instances=int(merged["instances"]),
        alert_email=merged["alert_email"],
        resource_group=merged["resource_group"],
        regions=tuple(merged["regions"] or ()),
        key_vault_auth=merged["key_vault_auth"],
        web_sku=merged["web_sku"],
    )


def plan_from_state(azure: AzureSettings, environment: str) -> tuple[DeploymentPlan, DeploymentState]:
    """The plan the last provisioning ran, for azure_status and teardown_azure."""
    state = open_state(azure, environment)
    if not state.exists or "name_suffix" not in state.data:
        raise ProvisioningError(
            f"No deployment is recorded for environment {environment!r} ({state.path} does not exist). "
            f"Run `manage.py provision_azure --environment {environment}` first, or pass the right --environment."
        )
    return plan_from_options(azure, state, {}), state
