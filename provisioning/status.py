"""``azure_status``: the recipe's validation steps as checks, each passing or failing with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from provisioning.errors import explain
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


def check_redis(context: Context) -> list[Check]:
    plan = context.plan
    if plan.redis.product == "managed":
        client = context.clients.redis_enterprise
        cluster = _properties(client.redis_enterprise.get(context.group, plan.names.redis))
        database = _properties(client.databases.get(context.group, plan.names.redis, plan.names.redis_database))
        state, host, port = cluster.get("provisioningState"), cluster.get("hostName"), database.get("port")
        state = state if database.get("provisioningState") == "Succeeded" else f"{state} (database {database.get('provisioningState')})"
    else:
        cache = _properties(context.clients.redis_cache.redis.get(context.group, plan.names.redis))
        state, host, port = cache.get("provisioningState"), cache.get("hostName"), cache.get("sslPort")
    return [
        Check("Redis provisioning state", state == "Succeeded", f"{plan.redis.display_name} {plan.names.redis}: {state}"),
        Check("Redis host name", bool(host), str(host or "none")),
        Check("Redis TLS port", port == plan.redis.tls_port, f"{port} (expected {plan.redis.tls_port})"),
    ]


def check_web_app(context: Context) -> list[Check]:
    web = context.clients.web
    names = context.plan.names
    site = _properties(web.web_apps.get(context.group, names.web_app))
    farm = rest_shape(web.app_service_plans.get(context.group, names.app_service_plan))
    workers = (farm.get("sku") or {}).get("capacity") or (farm.get("properties") or {}).get("numberOfWorkers")
    wanted = context.plan.web.instances
    context.facts["web_host"] = site.get("defaultHostName", "")
    return [
        Check("Web app state", site.get("state") == "Running", f"{names.web_app}: {site.get('state')}"),
        Check("Web app URL", bool(site.get("defaultHostName")), f"https://{site.get('defaultHostName')}"),
        Check("Web app workers", workers == wanted, f"{workers} (planned {wanted})"),
    ]


def check_alerts(context: Context) -> list[Check]:
    alerts = [rest_shape(alert) for alert in context.clients.monitor.metric_alerts.list_by_resource_group(context.group)]
    # Named by the id's last segment: Microsoft's own example answers carry no "name".
    existing = {str(alert.get("id", "")).rsplit("/", 1)[-1].lower(): alert for alert in alerts}
    checks = []
    for rule in context.plan.alerts:
        alert = existing.get(rule.name.lower())
        enabled = bool(alert and (alert.get("properties") or {}).get("enabled"))
        checks.append(Check(f"Alert {rule.name}", enabled, "enabled" if enabled else ("disabled" if alert else "missing")))
    return checks


def check_diagnostics(context: Context) -> list[Check]:
    resources = context.clients.resources.resources
    checks = []
    for diagnostic in context.plan.diagnostics:
        try:
            setting = _properties(resources.get_by_id(diagnostic_setting_id(context.plan, diagnostic), api_version=DIAGNOSTICS_API_VERSION))
        except ResourceNotFoundError:
            checks.append(Check(f"Diagnostics {diagnostic.name}", False, "missing"))
            continue
        categories = {log.get("category") for log in setting.get("logs") or [] if log.get("enabled")}
        missing = set(diagnostic.log_categories) - categories
        passed = not missing and bool(setting.get("workspaceId"))
        detail = ", ".join(sorted(categories)) + (f"; missing {', '.join(sorted(missing))}" if missing else "")
        checks.append(Check(f"Diagnostics {diagnostic.name}", passed, detail))
    return checks


def check_readiness(context: Context) -> list[Check]:
    azure = context.clients.azure
    url = f"{azure.site_url(context.plan.names.web_app)}/readyz"
    try:
        response = context.clients.http().session.get(url, timeout=10)
    except OSError as error:
        return [Check("Site /readyz", False, f"{url}: {error}")]
    return [Check("Site /readyz", response.status_code == 200, f"{url}: {response.status_code}")]


def run_checks(context: Context) -> list[Check]:
    checks: list[Check] = []
    for group, check in (
        ("Redis", check_redis),
        ("Web app", check_web_app),
        ("Alerts", check_alerts),
        ("Diagnostics", check_diagnostics),
        ("Site", check_readiness),
    ):
        try:
            checks += check(context)
        except HttpResponseError as error:
            # One broken part must not hide the state of the others.
            checks.append(Check(group, False, explain(f"checking {group.lower()}", error)))
    return checks
