"""Before anything is made: does each region offer what the plan needs?

Azure offers two checks that need no resource yet:

- where a resource provider offers a type (``GET /subscriptions/{id}/providers/
  Microsoft.Cache``, its ``resourceTypes[].locations``), for Redis in every region;
- what Azure Database for PostgreSQL flexible server offers in a location for this
  subscription (``GET .../providers/Microsoft.DBforPostgreSQL/locations/{location}/
  capabilities``, shaped like CapabilitiesByLocationList.json, 2025-08-01): its status and
  reason, the OfferRestricted feature, the editions with their SKUs, and the versions.

Azure Managed Redis has no per-region SKU list before a cluster exists (listSkusForScaling
needs one), so for Redis only the type's regions are checked; a SKU a region lacks is
still refused when the cluster is created.
"""

from __future__ import annotations

from typing import Any

from provisioning.errors import ProvisioningError, azure_errors
from provisioning.services.base import Context, rest_shape


def _normal(location: str) -> str:
    return location.replace(" ", "").lower()


def redis_problems(context: Context) -> list[str]:
    plan = context.plan
    namespace, kind = plan.redis.resource_type.split("/", 1)
    with azure_errors(f"reading where {namespace} offers {kind}"):
        provider = rest_shape(context.clients.resources.providers.get(namespace))
    offered = {
        _normal(location)
        for resource_type in provider.get("resourceTypes") or []
        if str(resource_type.get("resourceType", "")).lower() == kind.lower()
        for location in resource_type.get("locations") or []
    }
    return [
        f"{plan.redis.display_name} ({plan.redis.resource_type}) is not offered in {location}"
        for location in plan.regions or (plan.location,)
        if _normal(location) not in offered
    ]


def postgres_problems(context: Context) -> list[str]:
    plan = context.plan
    wanted = plan.postgres
    with azure_errors(f"reading what PostgreSQL flexible server offers in {plan.location}"):
        capabilities = [rest_shape(c) for c in context.clients.postgres.capabilities_by_location.list(plan.location)]
    if not capabilities:
        return [f"PostgreSQL flexible server offers nothing in {plan.location} to this subscription"]
    problems = []
    for capability in capabilities:
        features = {f.get("name"): f.get("status") for f in capability.get("supportedFeatures") or []}
        if capability.get("status") == "Disabled" or features.get("OfferRestricted") == "Enabled":
            said = str(capability.get("reason") or "provisioning is restricted for this subscription").rstrip(".")
            problems.append(f"PostgreSQL flexible server cannot be created in {plan.location}: {said}")
            continue
        editions: dict[str, Any] = {e.get("name"): e for e in capability.get("supportedServerEditions") or []}
        skus = {s.get("name") for s in (editions.get(wanted.tier) or {}).get("supportedServerSkus") or []}
        versions = {v.get("name") for v in capability.get("supportedServerVersions") or []}
        if wanted.sku not in skus:
            problems.append(f"PostgreSQL flexible server {wanted.tier} {wanted.sku} is not offered in {plan.location}")
        if versions and wanted.version not in versions:
            problems.append(f"PostgreSQL {wanted.version} is not offered in {plan.location}")
    return problems


def check_regions(context: Context) -> None:
    """Refuse in seconds, with every reason at once, a plan a region cannot hold."""
    problems = redis_problems(context) + postgres_problems(context)
    if problems:
        raise ProvisioningError(
            "Azure would refuse this deployment: "
            + "; ".join(problems)
            + ". Nothing was created. Choose another --location (or --regions); `az account list-locations -o table` "
            "lists them."
        )
    where = ", ".join(context.plan.regions or (context.plan.location,))
    context.reporter.line(
        f"  Regions checked: {where} offer {context.plan.redis.display_name} and PostgreSQL {context.plan.postgres.tier} {context.plan.postgres.sku}",
        level=2,
    )
