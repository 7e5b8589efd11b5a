"""The Linux App Service plan, the web app, its site configuration and its app settings."""

from __future__ import annotations

import time
from typing import Any

from provisioning.plan import DeploymentPlan
from provisioning.services.base import Context, Desired, differences, ensure, read_or_none
from provisioning.errors import azure_errors

API_VERSION = "2025-05-01"


def desired_plan(plan: DeploymentPlan) -> Desired:
    return Desired(
        title="App Service plan",
        resource_type="Microsoft.Web/serverfarms",
        name=plan.names.app_service_plan,
        resource_id=plan.resource_id("Microsoft.Web/serverfarms", plan.names.app_service_plan),
        api_version=API_VERSION,
        body={
            "location": plan.location,
            "tags": plan.tags,
            "kind": "linux",
            "sku": {"name": plan.web.sku, "tier": plan.web.tier, "capacity": plan.web.instances},
            "properties": {"reserved": True},  # reserved = Linux
        },
    )


def site_config(plan: DeploymentPlan) -> dict[str, Any]:
    return {
        "linuxFxVersion": plan.web.linux_fx_version,
        "appCommandLine": plan.web.startup_command,
        "alwaysOn": True,
        "http20Enabled": True,
        "minTlsVersion": "1.2",
        "scmMinTlsVersion": "1.2",
        "ftpsState": "Disabled",
        "healthCheckPath": plan.web.health_check_path,
        "vnetRouteAllEnabled": True,
    }


def desired_site(plan: DeploymentPlan) -> Desired:
    names = plan.names
    return Desired(
        title="Web app",
        resource_type="Microsoft.Web/sites",
        name=names.web_app,
        resource_id=plan.web_app_id(),
        api_version=API_VERSION,
        body={
            "location": plan.location,
            "tags": plan.tags,
            "kind": "app,linux",
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "serverFarmId": plan.resource_id("Microsoft.Web/serverfarms", names.app_service_plan),
                "httpsOnly": True,
                # Sessions live in Redis, so no instance needs to stick to a user.
                "clientAffinityEnabled": False,
                "virtualNetworkSubnetId": plan.subnet_id(names.app_subnet),
                # All outbound traffic through the VNet, so Redis and PostgreSQL resolve privately.
                "outboundVnetRouting": {"allTraffic": True},
                "siteConfig": site_config(plan),
            },
        },
        # GET on a site returns a mostly-empty siteConfig; it is compared via config/web instead.
        write_only=("properties.siteConfig",),
        depends_on=(plan.resource_id("Microsoft.Web/serverfarms", names.app_service_plan),),
    )


def desired_site_config(plan: DeploymentPlan) -> Desired:
    return Desired(
        title="Web app configuration",
        resource_type="Microsoft.Web/sites/config",
        name=f"{plan.names.web_app}/web",
        resource_id=f"{plan.web_app_id()}/config/web",
        api_version=API_VERSION,
        body={"properties": site_config(plan)},
        depends_on=(plan.web_app_id(),),
    )


def provision_app_service_plan(context: Context) -> dict[str, Any]:
    farms = context.clients.web.app_service_plans
    want = desired_plan(context.plan)
    return ensure(
        context,
        want,
        read=lambda: farms.get(context.group, want.name),
        write=lambda body: farms.begin_create_or_update(context.group, want.name, body),
    )


def provision_web_app(context: Context) -> dict[str, Any]:
    sites = context.clients.web.web_apps
    name = context.plan.names.web_app
    want = desired_site(context.plan)
    current = ensure(
        context,
        want,
        read=lambda: sites.get(context.group, name),
        write=lambda body: sites.begin_create_or_update(context.group, name, body),
    )
    config = desired_site_config(context.plan)
    ensure(
        context,
        config,
        read=lambda: sites.get_configuration(context.group, name),
        write=lambda body: sites.update_configuration(context.group, name, body),
    )
    context.facts["web_host"] = current.get("properties", {}).get("defaultHostName") or f"{name}.azurewebsites.net"
    return current


def wanted_app_settings(context: Context, redis_url: str, database_url: str) -> dict[str, str]:
    plan = context.plan
    host = context.facts.get("web_host") or f"{plan.names.web_app}.azurewebsites.net"
    return {
        "REDIS_URL": redis_url,
        # The engine speaks Redis Cluster; only OSSCluster exposes the cluster to clients.
        "REDIS_CLUSTER": "1" if plan.redis.oss_cluster else "0",
        "DATABASE_URL": database_url,
        "SECRET_KEY": context.state.secret_key(),
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "sessiondemo.settings",
        "ALLOWED_HOSTS": host,
        "CSRF_TRUSTED_ORIGINS": f"https://{host}",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": context.facts.get("app_insights_connection_string", ""),
        "SCM_DO_BUILD_DURING_DEPLOYMENT": "true",
    }


def provision_app_settings(context: Context, wanted: dict[str, str]) -> None:
    """Merge ``wanted`` into the app's settings: ``update_application_settings`` replaces them all."""
    sites = context.clients.web.web_apps
    name = context.plan.names.web_app
    resource_id = f"{context.plan.web_app_id()}/config/appsettings"
    started = time.monotonic()
    context.reporter.step_started("App settings", name)
    with azure_errors(f"reading the app settings of {name}"):
        current = dict((read_or_none(lambda: sites.list_application_settings(context.group, name)) or {}).get("properties") or {})
    merged = {**current, **wanted}
    if not differences(merged, current) and set(merged) == set(current):
        context.reporter.step_done("App settings", "unchanged", resource_id, time.monotonic() - started)
        context.outcomes.append(("App settings", "unchanged", resource_id))
        return
    with azure_errors(f"updating the app settings of {name}"):
        sites.update_application_settings(context.group, name, {"properties": merged})
    changed = sorted(key for key in merged if current.get(key) != merged[key])
    # Names only: the values hold keys and passwords.
    context.reporter.line(f"    settings changed: {', '.join(changed)}", level=2)
    outcome = "updated" if set(wanted) & set(current) else "created"
    context.reporter.step_done("App settings", outcome, resource_id, time.monotonic() - started)
    context.outcomes.append(("App settings", outcome, resource_id))
