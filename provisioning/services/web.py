"""The Linux App Service plan, the web app, its site configuration and its app settings, per region."""

from __future__ import annotations

import re
import time
from typing import Any

from provisioning.errors import RERUN, ProvisioningError, azure_errors
from provisioning.plan import DeploymentPlan, Region
from provisioning.services.base import Context, Desired, differences, ensure, read_or_none, rest_shape

API_VERSION = "2025-05-01"


def desired_plan(plan: DeploymentPlan, region: Region | None = None) -> Desired:
    region = region or plan.primary
    name = region.names.app_service_plan
    return Desired(
        title="App Service plan",
        resource_type="Microsoft.Web/serverfarms",
        name=name,
        resource_id=plan.resource_id("Microsoft.Web/serverfarms", name),
        api_version=API_VERSION,
        body={
            "location": region.location,
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


def desired_site(plan: DeploymentPlan, region: Region | None = None) -> Desired:
    region = region or plan.primary
    names = region.names
    return Desired(
        title="Web app",
        resource_type="Microsoft.Web/sites",
        name=names.web_app,
        resource_id=plan.web_app_id(names),
        api_version=API_VERSION,
        body={
            "location": region.location,
            "tags": plan.tags,
            "kind": "app,linux",
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "serverFarmId": plan.resource_id("Microsoft.Web/serverfarms", names.app_service_plan),
                "httpsOnly": True,
                # Sessions live in Redis, so no instance needs to stick to a user.
                "clientAffinityEnabled": False,
                "virtualNetworkSubnetId": plan.subnet_id(names.app_subnet, names),
                # All outbound traffic through the VNet, so Redis and PostgreSQL resolve privately.
                "outboundVnetRouting": {"allTraffic": True},
                "siteConfig": site_config(plan),
            },
        },
        # GET on a site returns a mostly-empty siteConfig; it is compared via config/web instead.
        write_only=("properties.siteConfig",),
        depends_on=(
            plan.resource_id("Microsoft.Web/serverfarms", names.app_service_plan),
            plan.virtual_network_id(names),
        ),
    )


def desired_site_config(plan: DeploymentPlan, region: Region | None = None) -> Desired:
    names = (region or plan.primary).names
    return Desired(
        title="Web app configuration",
        resource_type="Microsoft.Web/sites/config",
        name=f"{names.web_app}/web",
        resource_id=f"{plan.web_app_id(names)}/config/web",
        api_version=API_VERSION,
        body={"properties": site_config(plan)},
        depends_on=(plan.web_app_id(names),),
    )


def provision_app_service_plan(context: Context, region: Region | None = None) -> dict[str, Any]:
    farms = context.clients.web.app_service_plans
    want = desired_plan(context.plan, region)
    return ensure(
        context,
        want,
        read=lambda: farms.get(context.group, want.name),
        write=lambda body: farms.begin_create_or_update(context.group, want.name, body),
    )


def provision_web_app(context: Context, region: Region | None = None) -> dict[str, Any]:
    region = region or context.plan.primary
    sites = context.clients.web.web_apps
    name = region.names.web_app
    want = desired_site(context.plan, region)
    current = ensure(
        context,
        want,
        read=lambda: sites.get(context.group, name),
        write=lambda body: sites.begin_create_or_update(context.group, name, body),
    )
    config = desired_site_config(context.plan, region)
    ensure(
        context,
        config,
        read=lambda: sites.get_configuration(context.group, name),
        write=lambda body: sites.update_configuration(context.group, name, body),
    )
    host = current.get("properties", {}).get("defaultHostName") or f"{name}.azurewebsites.net"
    context.facts[f"web_host:{region.location}"] = host
    identity = current.get("identity") or {}
    # The system-assigned identity: what Key Vault and passwordless Redis let in.
    context.facts[f"web_principal:{region.location}"] = identity.get("principalId") or ""
    context.facts.setdefault("tenant_id", identity.get("tenantId") or "")
    return current


def web_principal(context: Context, region: Region) -> str:
    principal = context.facts.get(f"web_principal:{region.location}")
    if not principal:
        raise ProvisioningError(
            f"Web app {region.names.web_app} has no system-assigned identity yet, so nothing can be granted to it. "
            f"{RERUN}"
        )
    return str(principal)


def web_host(context: Context, region: Region) -> str:
    return context.facts.get(f"web_host:{region.location}") or f"{region.names.web_app}.azurewebsites.net"


def wanted_app_settings(
    context: Context, region: Region, redis_url: str, database_url: str, secret_key: str
) -> dict[str, str]:
    """``redis_url``, ``database_url`` and ``secret_key`` arrive as Key Vault references where they hold a secret."""
    plan = context.plan
    hosts = [web_host(context, region)]
    if context.facts.get("front_door_host"):
        hosts.insert(0, context.facts["front_door_host"])  # users arrive through Front Door
    return {
        "REDIS_URL": redis_url,
        # Where a running app re-reads REDIS_URL when Redis refuses its password (a key rotation).
        "REDIS_URL_SECRET_URI": secret_uri_behind(redis_url),
        # settings.py names the two modes password and entra; entra signs in with the managed identity.
        "REDIS_AUTH": "entra" if plan.redis.passwordless else "password",
        # The engine speaks Redis Cluster; only OSSCluster exposes the cluster to clients.
        "REDIS_CLUSTER": "1" if plan.redis.oss_cluster else "0",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key,
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "sessiondemo.settings",
        "ALLOWED_HOSTS": ",".join(hosts),
        "CSRF_TRUSTED_ORIGINS": ",".join(f"https://{host}" for host in hosts),
        "APPLICATIONINSIGHTS_CONNECTION_STRING": context.facts.get("app_insights_connection_string", ""),
        "SCM_DO_BUILD_DURING_DEPLOYMENT": "true",
    }


KEY_VAULT_REFERENCE = re.compile(r"@Microsoft\.KeyVault\(SecretUri=(https://[^)]+?/secrets/[^/)]+)[^)]*\)")


def secret_uri_behind(value: str) -> str:
    """The secret a Key Vault reference reads, without its version; '' for a plain value."""
    match = KEY_VAULT_REFERENCE.fullmatch(value)
    return match.group(1) if match else ""


def provision_app_settings(context: Context, wanted: dict[str, str], region: Region | None = None) -> None:
    """Merge ``wanted`` into the app's settings: ``update_application_settings`` replaces them all."""
    sites = context.clients.web.web_apps
    names = (region or context.plan.primary).names
    name = names.web_app
    resource_id = f"{context.plan.web_app_id(names)}/config/appsettings"
    started = time.monotonic()
    context.reporter.step_started("App settings", name)
    with azure_errors(f"reading the app settings of {name}"):
        current = dict(
            (read_or_none(lambda: sites.list_application_settings(context.group, name)) or {}).get("properties") or {}
        )
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


# What App Service reports for a Key Vault reference it could not resolve yet, and those it
# never will without a change (Microsoft.Web ResolveStatus, azure-mgmt-web 11.0.1).
PENDING_REFERENCE = {"Initialized", ""}


def reference_statuses(context: Context, region: Region) -> dict[str, tuple[str, str]]:
    """App Service's own view of each Key Vault reference of the app: setting -> (status, details).

    ``config/configreferences/appsettings``: what the app resolved when it last (re)started,
    which is what it runs with; the literal reference string where it failed.
    """
    sites = context.clients.web.web_apps
    name = region.names.web_app
    with azure_errors(f"reading the Key Vault reference status of {name}"):
        references = [rest_shape(item) for item in sites.get_app_settings_key_vault_references(context.group, name)]
    found = {}
    for reference in references:
        setting = str(reference.get("name") or reference.get("id", "")).rsplit("/", 1)[-1]
        properties = reference.get("properties") or {}
        found[setting] = (str(properties.get("status") or ""), str(properties.get("details") or ""))
    return found


def wait_for_references(context: Context, region: Region, wanted: dict[str, str]) -> None:
    """Wait until App Service resolves every Key Vault reference the app settings hold.

    A reference resolved before the web app's access reached the vault stays failed until
    the app restarts; it is restarted once for that, then waited for again.
    """
    expected = sorted(setting for setting, value in wanted.items() if secret_uri_behind(value))
    if not expected:
        return
    sites = context.clients.web.web_apps
    name = region.names.web_app
    timeout = context.clients.azure.key_vault_reference_timeout
    started = time.monotonic()
    context.reporter.step_started("Key Vault references", name)
    restarted = False
    while True:
        statuses = reference_statuses(context, region)
        unresolved = {s: statuses.get(s, ("missing", "")) for s in expected if statuses.get(s, ("",))[0] != "Resolved"}
        if not unresolved:
            resource_id = f"{context.plan.web_app_id(region.names)}/config/configreferences/appsettings"
            context.reporter.step_done("Key Vault references", "resolved", resource_id, time.monotonic() - started)
            return
        failed = {s: v for s, v in unresolved.items() if v[0] not in PENDING_REFERENCE}
        if failed and not restarted:
            context.reporter.progress(
                f"  ... {name} resolved {', '.join(sorted(failed))} before it could read them; restarting it once"
            )
            with azure_errors(f"restarting {name}"):
                sites.restart(context.group, name)
            restarted = True
            continue
        if time.monotonic() - started >= timeout:
            raise ProvisioningError(
                f"Web app {name} still cannot resolve its Key Vault references after {time.monotonic() - started:.0f}s: "
                + "; ".join(
                    f"{s} {status or 'not listed'}{f' ({details})' if details else ''}"
                    for s, (status, details) in sorted(unresolved.items())
                )
                + ". The app would read the literal @Microsoft.KeyVault(...) text. Check that its identity may read "
                "the vault (azure_status shows the Key Vault mode) and that the vault's private endpoint is approved, "
                "then run the command again."
            )
        context.reporter.progress(
            f"  ... waiting for {name} to resolve {', '.join(sorted(unresolved))} ({time.monotonic() - started:.0f}s)"
        )
        time.sleep(min(10.0, max(0.05, timeout / 30)))
