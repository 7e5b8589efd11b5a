"""``azure_status``: the recipe's validation steps as checks, each passing or failing with a reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from provisioning.errors import explain
from provisioning.plan import DeploymentPlan, Region
from provisioning.services.base import Context, rest_shape
from provisioning.services.diagnostics import API_VERSION as DIAGNOSTICS_API_VERSION
from provisioning.services.diagnostics import diagnostic_setting_id


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def _properties(model: Any) -> dict[str, Any]:
    return rest_shape(model).get("properties") or {}


def _in(region: Region, plan: DeploymentPlan, name: str) -> str:
    """A check's name, with the region when there is more than one."""
    return f"{name} ({region.location})" if plan.is_global else name


def check_redis(context: Context, region: Region) -> list[Check]:
    plan = context.plan
    names = region.names
    if plan.redis.product == "managed":
        client = context.clients.redis_enterprise
        cluster = _properties(client.redis_enterprise.get(context.group, names.redis))
        database = _properties(client.databases.get(context.group, names.redis, names.redis_database))
        state, host, port = cluster.get("provisioningState"), cluster.get("hostName"), database.get("port")
        state = (
            state
            if database.get("provisioningState") == "Succeeded"
            else f"{state} (database {database.get('provisioningState')})"
        )
        keys_off = database.get("accessKeysAuthentication") == "Disabled"
    else:
        cache = _properties(context.clients.redis_cache.redis.get(context.group, names.redis))
        state, host, port = cache.get("provisioningState"), cache.get("hostName"), cache.get("sslPort")
        keys_off = cache.get("disableAccessKeyAuthentication") is True
    checks = [
        Check(
            _in(region, plan, "Redis provisioning state"),
            state == "Succeeded",
            f"{plan.redis.display_name} {names.redis}: {state}",
        ),
        Check(_in(region, plan, "Redis host name"), bool(host), str(host or "none")),
        Check(
            _in(region, plan, "Redis TLS port"), port == plan.redis.tls_port, f"{port} (expected {plan.redis.tls_port})"
        ),
        Check(
            _in(region, plan, "Redis authentication"),
            keys_off == plan.redis.passwordless,
            ("Microsoft Entra ID only (access keys off)" if keys_off else "access keys")
            + f" (planned {'entra' if plan.redis.passwordless else 'password'})",
        ),
    ]
    if plan.is_global:
        geo = database.get("geoReplication") or {}
        linked = geo.get("linkedDatabases") or []
        joined = len(linked) == len(plan.regions)
        checks.append(
            Check(
                _in(region, plan, "Redis geo-replication"),
                joined,
                f"group {geo.get('groupNickname')}: {len(linked)} of {len(plan.regions)} databases linked",
            )
        )
    return checks


def check_key_vault(context: Context) -> list[Check]:
    vault = _properties(context.clients.key_vault.vaults.get(context.group, context.plan.names.key_vault))
    rbac = vault.get("enableRbacAuthorization") is True
    return [
        Check(
            "Key Vault",
            rbac and vault.get("provisioningState") == "Succeeded",
            f"{context.plan.names.key_vault}: {vault.get('provisioningState')}, "
            f"{'RBAC authorization' if rbac else 'access policies, not RBAC'}",
        )
    ]


def check_web_app(context: Context, region: Region) -> list[Check]:
    web = context.clients.web
    names = region.names
    site = _properties(web.web_apps.get(context.group, names.web_app))
    farm = rest_shape(web.app_service_plans.get(context.group, names.app_service_plan))
    workers = (farm.get("sku") or {}).get("capacity") or (farm.get("properties") or {}).get("numberOfWorkers")
    wanted = context.plan.web.instances
    plan = context.plan
    return [
        Check(
            _in(region, plan, "Web app state"), site.get("state") == "Running", f"{names.web_app}: {site.get('state')}"
        ),
        Check(
            _in(region, plan, "Web app URL"),
            bool(site.get("defaultHostName")),
            f"https://{site.get('defaultHostName')}",
        ),
        Check(_in(region, plan, "Web app workers"), workers == wanted, f"{workers} (planned {wanted})"),
    ]


def check_alerts(context: Context) -> list[Check]:
    alerts = [
        rest_shape(alert) for alert in context.clients.monitor.metric_alerts.list_by_resource_group(context.group)
    ]
    # Named by the id's last segment: Microsoft's own example answers carry no "name".
    existing = {str(alert.get("id", "")).rsplit("/", 1)[-1].lower(): alert for alert in alerts}
    checks = []
    for region in context.plan.region_plans():
        for rule in context.plan.alerts:
            name = rule.name_in(region)
            alert = existing.get(name.lower())
            enabled = bool(alert and (alert.get("properties") or {}).get("enabled"))
            checks.append(
                Check(f"Alert {name}", enabled, "enabled" if enabled else ("disabled" if alert else "missing"))
            )
    return checks


def check_diagnostics(context: Context) -> list[Check]:
    resources = context.clients.resources.resources
    checks = []
    for region in context.plan.region_plans():
        for diagnostic in context.plan.diagnostics:
            label = _in(region, context.plan, f"Diagnostics {diagnostic.name}")
            try:
                setting_id = diagnostic_setting_id(context.plan, diagnostic, region)
                setting = _properties(resources.get_by_id(setting_id, api_version=DIAGNOSTICS_API_VERSION))
            except ResourceNotFoundError:
                checks.append(Check(label, False, "missing"))
                continue
            categories = {log.get("category") for log in setting.get("logs") or [] if log.get("enabled")}
            missing = set(diagnostic.log_categories) - categories
            passed = not missing and bool(setting.get("workspaceId"))
            detail = ", ".join(sorted(categories)) + (f"; missing {', '.join(sorted(missing))}" if missing else "")
            checks.append(Check(label, passed, detail))
    return checks


def check_front_door(context: Context) -> list[Check]:
    door = context.plan.front_door
    if door is None:
        return []
    cdn = context.clients.cdn
    endpoint = _properties(cdn.afd_endpoints.get(context.group, door.profile, door.endpoint))
    origins = [
        _properties(o) for o in cdn.afd_origins.list_by_origin_group(context.group, door.profile, door.origin_group)
    ]
    enabled = [o for o in origins if o.get("enabledState") == "Enabled"]
    context.facts["front_door_host"] = endpoint.get("hostName", "")
    return [
        Check(
            "Front Door endpoint",
            endpoint.get("provisioningState") == "Succeeded" and bool(endpoint.get("hostName")),
            f"https://{endpoint.get('hostName')}: {endpoint.get('provisioningState')}",
        ),
        Check(
            "Front Door origins",
            len(enabled) == len(context.plan.regions),
            f"{len(enabled)} of {len(context.plan.regions)} regions enabled",
        ),
    ]


def check_readiness(context: Context, region: Region | None = None) -> list[Check]:
    """The live /readyz: through Front Door when there is one, and of each region's app."""
    azure = context.clients.azure
    if region is None:
        url = f"{azure.front_door_url(context.facts.get('front_door_host', ''))}/readyz"
        label = "Front Door /readyz"
    else:
        url = f"{azure.site_url(region.names.web_app)}/readyz"
        label = _in(region, context.plan, "Site /readyz")
    try:
        response = context.clients.http().session.get(url, timeout=10)
    except OSError as error:
        return [Check(label, False, f"{url}: {error}")]
    return [Check(label, response.status_code == 200, f"{url}: {response.status_code}")]


def run_checks(context: Context) -> list[Check]:
    plan = context.plan
    groups: list[tuple[str, Callable[[], list[Check]]]] = []
    for region in plan.region_plans():
        groups += [
            (f"Redis in {region.location}", lambda region=region: check_redis(context, region)),
            (f"Web app in {region.location}", lambda region=region: check_web_app(context, region)),
        ]
    groups += [
        ("Key Vault", lambda: check_key_vault(context)),
        ("Alerts", lambda: check_alerts(context)),
        ("Diagnostics", lambda: check_diagnostics(context)),
    ]
    if plan.front_door is not None:
        groups.append(("Front Door", lambda: check_front_door(context)))
    groups += [(f"Site in {r.location}", lambda r=r: check_readiness(context, r)) for r in plan.region_plans()]
    if plan.front_door is not None:
        groups.append(("Front Door", lambda: check_readiness(context)))
    checks: list[Check] = []
    for group, check in groups:
        try:
            checks += check()
        except HttpResponseError as error:
            # One broken part must not hide the state of the others.
            checks.append(Check(group, False, explain(f"checking {group[0].lower()}{group[1:]}", error)))
    return checks
