"""``azure_status``: the recipe's validation steps as checks, each passing or failing with a reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from provisioning.errors import explain
from provisioning.plan import DeploymentPlan, Region
from provisioning.services import key_vault, redis, web
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
    service = redis.for_plan(plan)
    found = service.status(service.read(context, region))
    state, host, port, keys_off = found["state"], found["host"], found["port"], found["keys_off"]
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
        geo = found["geo_replication"]
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


def _endpoint_state(context: Context, endpoint: str) -> str:
    """The connection state of a private endpoint: Approved when the resource accepted it."""
    try:
        found = _properties(context.clients.network.private_endpoints.get(context.group, endpoint))
    except ResourceNotFoundError:
        return "missing"
    connections = found.get("privateLinkServiceConnections") or []
    states = {
        str(((c.get("properties") or {}).get("privateLinkServiceConnectionState") or {}).get("status"))
        for c in connections
    }
    return ", ".join(sorted(states)) or "no connection"


def check_key_vault(context: Context) -> list[Check]:
    """The vault, who it lets in and how (and why), and that only its private endpoint reaches it."""
    plan = context.plan
    found = rest_shape(context.clients.key_vault.vaults.get(context.group, plan.names.key_vault))
    vault = found.get("properties") or {}
    mode = key_vault.vault_mode(found)
    reason = key_vault.kept_reason(context, mode)
    why = f" ({reason})" if reason else ""
    checks = [
        Check(
            "Key Vault",
            vault.get("provisioningState") == "Succeeded",
            f"{plan.names.key_vault}: {vault.get('provisioningState')}",
        ),
        Check("Key Vault mode", True, f"{key_vault.describe(mode)}{why}"),
    ]
    if mode == "access-policy":
        readers = {
            p.get("objectId")
            for p in vault.get("accessPolicies") or []
            if "get" in (p.get("permissions") or {}).get("secrets", [])
        }
        checks.append(
            Check(
                "Key Vault access policies",
                len(readers) >= len(plan.region_plans()),
                f"{len(readers)} identities may get secrets (planned {len(plan.region_plans())} web apps)",
            )
        )
    endpoint = _endpoint_state(context, plan.names.key_vault_private_endpoint)
    public = vault.get("publicNetworkAccess")
    checks.append(
        Check(
            "Key Vault network",
            public == "Disabled" and endpoint == "Approved",
            f"public network access {public}; private endpoint {plan.names.key_vault_private_endpoint}: {endpoint}",
        )
    )
    return checks


def check_postgres(context: Context) -> list[Check]:
    """The database server takes no public traffic: it lives in its delegated subnet."""
    server = _properties(context.clients.postgres.servers.get(context.group, context.plan.names.postgres))
    network = server.get("network") or {}
    private = network.get("publicNetworkAccess") == "Disabled" and bool(network.get("delegatedSubnetResourceId"))
    return [
        Check(
            "PostgreSQL network",
            private,
            f"public network access {network.get('publicNetworkAccess')}; "
            + (
                "in subnet " + str(network.get("delegatedSubnetResourceId")).rsplit("/", 1)[-1]
                if network.get("delegatedSubnetResourceId")
                else "no delegated subnet"
            ),
        )
    ]


def check_references(context: Context, region: Region) -> list[Check]:
    """App Service's own status of each Key Vault reference: what the running app got."""
    statuses = web.reference_statuses(context, region)
    return [
        Check(
            _in(region, context.plan, f"Key Vault reference {setting}"),
            status == "Resolved",
            status + (f" ({details})" if details and status != "Resolved" else ""),
        )
        for setting, (status, details) in sorted(statuses.items())
    ] or [Check(_in(region, context.plan, "Key Vault references"), False, "App Service lists none")]


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
            categories = {
                entry.get("category")
                for entry in (setting.get("logs") or []) + (setting.get("metrics") or [])
                if entry.get("enabled")
            }
            missing = set(diagnostic.log_categories + diagnostic.metric_categories) - categories
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
        *(
            (f"Key Vault references in {r.location}", lambda r=r: check_references(context, r))
            for r in plan.region_plans()
        ),
        ("PostgreSQL", lambda: check_postgres(context)),
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
