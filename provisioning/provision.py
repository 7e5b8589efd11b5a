"""The provisioning run: every service's step, in the recipe's order, then a summary.

``desired_resources`` lists the same steps without calling Azure, for ``--dry-run`` and
``--export-template``.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from provisioning.clients import AzureSettings
from provisioning.errors import RERUN, ProvisioningError, azure_errors
from provisioning.plan import DeploymentPlan, Region, build_plan
from provisioning.services import (
    alerts,
    diagnostics,
    frontdoor,
    key_vault,
    monitoring,
    network,
    postgres,
    redis_cache,
    redis_managed,
    resource_group,
    web,
)
from provisioning.services.base import Context, Desired
from provisioning.state import DeploymentState


def desired_resources(plan: DeploymentPlan) -> list[Desired]:
    """Everything the run would make, in order, as the request bodies it would send."""
    names = plan.names
    regions = plan.region_plans()
    items = [resource_group.desired(plan), monitoring.desired_workspace(plan), monitoring.desired_app_insights(plan)]
    items += [network.desired_virtual_network(plan, region) for region in regions]
    for region in regions[1:]:
        items += [network.desired_peering(plan, regions[0], region), network.desired_peering(plan, region, regions[0])]
    if plan.redis.product == "managed":
        for region in regions:
            items += [redis_managed.desired_cluster(plan, region), redis_managed.desired_database(plan, region)]
    else:
        items += [redis_cache.desired_cache(plan), redis_cache.desired_patch_schedule(plan)]
    for zone in (names.redis_dns_zone,):
        items += [
            network.desired_dns_zone(plan, zone),
            *(network.desired_dns_link(plan, zone, region) for region in regions),
        ]
    for region in regions:
        items += [network.desired_private_endpoint(plan, region), network.desired_dns_zone_group(plan, region)]
    zone = names.postgres_dns_zone
    items += [
        network.desired_dns_zone(plan, zone),
        *(network.desired_dns_link(plan, zone, region) for region in regions),
    ]
    items += [postgres.desired_server(plan), postgres.desired_database(plan)]
    for region in regions:
        items += [web.desired_plan(plan, region), web.desired_site(plan, region), web.desired_site_config(plan, region)]
    items += desired_secret_store(plan)
    if plan.front_door is not None:
        items += [
            frontdoor.desired_profile(plan),
            frontdoor.desired_endpoint(plan),
            frontdoor.desired_origin_group(plan),
        ]
        items += [
            frontdoor.desired_origin(plan, region, f"{region.names.web_app}.azurewebsites.net") for region in regions
        ]
        items.append(frontdoor.desired_route(plan))
    items.append(alerts.desired_action_group(plan))
    items += [alerts.desired_metric_alert(plan, rule, region) for region in regions for rule in plan.alerts]
    items += [diagnostics.desired_diagnostic(plan, d, region) for region in regions for d in plan.diagnostics]
    return items


def desired_secret_store(plan: DeploymentPlan) -> list[Desired]:
    """The vault, who may read it, and passwordless Redis's access policies; identities as placeholders.

    Their real values (tenant, the web apps' principal ids) exist only once the web apps do.
    """
    items = [key_vault.desired_vault(plan, "<tenant id of the web app's identity>")]
    items.append(
        key_vault.desired_role_assignment(
            plan, "<your object id>", key_vault.SECRETS_OFFICER_ROLE, "User", "Key Vault role for you (Secrets Officer)"
        )
    )
    for region in plan.region_plans():
        principal = f"<principal id of {region.names.web_app}>"
        items.append(
            key_vault.desired_role_assignment(
                plan,
                principal,
                plan.key_vault.secrets_user_role,
                "ServicePrincipal",
                "Key Vault role for the web app (Secrets User)",
            )
        )
        if plan.redis.passwordless and plan.redis.product == "managed":
            items.append(redis_managed.desired_access_policy_assignment(plan, region, principal))
        elif plan.redis.passwordless:
            items.append(redis_cache.desired_access_policy_assignment(plan, principal, region.names.web_app))
    return items


def redis_url(context: Context, region: Region, which: str = "primary") -> str:
    """The URL the app connects with: ``which`` access key in it, or none when passwordless."""
    plan = context.plan
    host = context.facts.get(f"redis_host:{region.location}") or region.names.redis
    if plan.redis.passwordless:
        return f"rediss://{host}:{plan.redis.tls_port}/0"
    if plan.redis.product == "managed":
        key = redis_managed.redis_access_key(context, region, which)
    else:
        key = redis_cache.redis_access_key(context, which)
    return f"rediss://:{quote(key, safe='')}@{host}:{plan.redis.tls_port}/0"


def provision_key_vault(context: Context) -> None:
    """The vault, its readers, and SECRET_KEY and DATABASE_URL (with the database password) in it."""
    plan = context.plan
    tenant = context.facts.get("tenant_id")
    if not tenant:
        raise ProvisioningError(
            f"Web app {plan.names.web_app} reported no tenant for its identity, so the Key Vault cannot be made. {RERUN}"
        )
    key_vault.provision_vault(context, tenant)
    deployer = key_vault.deployer_identity(context)
    if deployer is not None:
        object_id, principal_type = deployer
        key_vault.provision_role_assignment(
            context,
            key_vault.desired_role_assignment(
                plan,
                object_id,
                key_vault.SECRETS_OFFICER_ROLE,
                principal_type,
                "Key Vault role for you (Secrets Officer)",
            ),
        )
    else:
        context.reporter.note(
            'The Azure token carries no object id, so you were not granted "Key Vault Secrets Officer" on the vault; '
            "writing its secrets needs that role."
        )
    for region in plan.region_plans():
        key_vault.provision_role_assignment(
            context,
            key_vault.desired_role_assignment(
                plan,
                web.web_principal(context, region),
                plan.key_vault.secrets_user_role,
                "ServicePrincipal",
                "Key Vault role for the web app (Secrets User)",
            ),
        )
    key_vault.store_secret(context, plan.key_vault.secret_key_secret, context.state.secret_key())
    key_vault.store_secret(context, plan.key_vault.database_url_secret, postgres.database_url(context))


def provision_redis_access(context: Context, region: Region) -> str:
    """Let the region's web app into Redis; the REDIS_URL app setting that goes with it.

    With a key the URL is a secret: it goes to Key Vault and the app setting refers to it.
    Passwordless, the app's identity gets an access policy and the URL holds no secret.
    """
    plan = context.plan
    if plan.redis.passwordless:
        principal = web.web_principal(context, region)
        if plan.redis.product == "managed":
            redis_managed.provision_access_policy_assignment(context, region, principal)
        else:
            redis_cache.provision_access_policy_assignment(context, principal, region.names.web_app)
        return redis_url(context, region)
    with azure_errors(f"reading the access key of Redis {region.names.redis}"):
        url = redis_url(context, region)
    key_vault.store_secret(context, plan.key_vault.redis_secret(region), url)
    return key_vault.reference(context, plan.key_vault.redis_secret(region))


def provision_everything(context: Context) -> None:
    plan = context.plan
    reporter = context.reporter
    regions = plan.region_plans()
    started = time.monotonic()
    where = ", ".join(plan.regions) if plan.is_global else plan.location
    reporter.heading(f"Provisioning {plan.environment} in {where} (resource group {plan.names.resource_group}):")
    for note in plan.global_notes():
        reporter.note(note)
    resource_group.provision_resource_group(context)
    monitoring.provision_monitoring(context)
    for region in regions:
        network.provision_virtual_network(context, region)
    if plan.is_global:
        network.provision_peerings(context)
    for region in regions:
        if plan.redis.product == "managed":
            redis_managed.provision_managed_redis(context, region)
        else:
            redis_cache.provision_redis_cache(context)
    network.provision_private_dns_zone(context, plan.names.redis_dns_zone)
    for region in regions:
        network.provision_redis_private_endpoint(context, region)
    network.provision_private_dns_zone(context, plan.names.postgres_dns_zone)
    postgres.provision_postgres(context)
    for region in regions:
        web.provision_app_service_plan(context, region)
        web.provision_web_app(context, region)
    if plan.front_door is not None:
        frontdoor.provision_front_door(context, {r.location: web.web_host(context, r) for r in regions})
    provision_key_vault(context)
    secret_key = key_vault.reference(context, plan.key_vault.secret_key_secret)
    database_url = key_vault.reference(context, plan.key_vault.database_url_secret)
    for region in regions:
        url = provision_redis_access(context, region)
        wanted = web.wanted_app_settings(context, region, url, database_url, secret_key)
        web.provision_app_settings(context, wanted, region)
    alerts.provision_alerts(context)
    diagnostics.provision_diagnostics(context)
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
    )


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
