"""Azure Front Door Standard in front of every region's web app (global deployments only).

One profile and endpoint, one origin group that probes ``/healthz`` over HTTPS, one
origin per region, and a route that sends everything there over HTTPS only.
"""

from __future__ import annotations

from typing import Any

from provisioning.plan import DeploymentPlan, FrontDoorPlan, Region
from provisioning.services.base import Context, Desired, ensure

API_VERSION = "2026-10-01"


def _front_door(plan: DeploymentPlan) -> FrontDoorPlan:
    assert plan.front_door is not None, "Front Door is planned only for two or more regions"
    return plan.front_door


def profile_id(plan: DeploymentPlan) -> str:
    return plan.resource_id("Microsoft.Cdn/profiles", _front_door(plan).profile)


def origin_group_id(plan: DeploymentPlan) -> str:
    door = _front_door(plan)
    return plan.resource_id("Microsoft.Cdn/profiles/originGroups", door.profile, door.origin_group)


def desired_profile(plan: DeploymentPlan) -> Desired:
    door = _front_door(plan)
    return Desired(
        title="Front Door profile",
        resource_type="Microsoft.Cdn/profiles",
        name=door.profile,
        resource_id=profile_id(plan),
        api_version=API_VERSION,
        body={"location": "global", "tags": plan.tags, "sku": {"name": door.sku}},
    )


def desired_endpoint(plan: DeploymentPlan) -> Desired:
    door = _front_door(plan)
    return Desired(
        title="Front Door endpoint",
        resource_type="Microsoft.Cdn/profiles/afdEndpoints",
        name=f"{door.profile}/{door.endpoint}",
        resource_id=plan.resource_id("Microsoft.Cdn/profiles/afdEndpoints", door.profile, door.endpoint),
        api_version=API_VERSION,
        body={"location": "global", "tags": plan.tags, "properties": {"enabledState": "Enabled"}},
        depends_on=(profile_id(plan),),
    )


def desired_origin_group(plan: DeploymentPlan) -> Desired:
    door = _front_door(plan)
    return Desired(
        title="Front Door origin group",
        resource_type="Microsoft.Cdn/profiles/originGroups",
        name=f"{door.profile}/{door.origin_group}",
        resource_id=origin_group_id(plan),
        api_version=API_VERSION,
        body={
            "properties": {
                "loadBalancingSettings": {
                    "sampleSize": 4,
                    "successfulSamplesRequired": 3,
                    "additionalLatencyInMilliseconds": 50,
                },
                # /healthz is the liveness check: a region whose Redis is down still answers
                # it, and Front Door keeps the region while its app can serve the 503 page.
                "healthProbeSettings": {
                    "probePath": door.probe_path,
                    "probeRequestType": "GET",
                    "probeProtocol": "Https",
                    "probeIntervalInSeconds": 30,
                },
            }
        },
        depends_on=(profile_id(plan),),
    )


def desired_origin(plan: DeploymentPlan, region: Region, host: str) -> Desired:
    door = _front_door(plan)
    name = door.origin(region)
    return Desired(
        title="Front Door origin",
        resource_type="Microsoft.Cdn/profiles/originGroups/origins",
        name=f"{door.profile}/{door.origin_group}/{name}",
        resource_id=plan.resource_id(
            "Microsoft.Cdn/profiles/originGroups/origins", door.profile, door.origin_group, name
        ),
        api_version=API_VERSION,
        body={
            "properties": {
                "hostName": host,
                "originHostHeader": host,  # App Service routes by host name
                "httpPort": 80,
                "httpsPort": 443,
                "priority": 1,  # active-active: every region serves
                "weight": 1000,
                "enabledState": "Enabled",
                "enforceCertificateNameCheck": True,
            }
        },
        depends_on=(origin_group_id(plan), plan.web_app_id(region.names)),
    )


def desired_route(plan: DeploymentPlan) -> Desired:
    door = _front_door(plan)
    return Desired(
        title="Front Door route",
        resource_type="Microsoft.Cdn/profiles/afdEndpoints/routes",
        name=f"{door.profile}/{door.endpoint}/{door.route}",
        resource_id=plan.resource_id(
            "Microsoft.Cdn/profiles/afdEndpoints/routes", door.profile, door.endpoint, door.route
        ),
        api_version=API_VERSION,
        body={
            "properties": {
                "originGroup": {"id": origin_group_id(plan)},
                "supportedProtocols": ["Http", "Https"],
                "patternsToMatch": ["/*"],
                "forwardingProtocol": "HttpsOnly",
                "linkToDefaultDomain": "Enabled",
                "httpsRedirect": "Enabled",
                "enabledState": "Enabled",
            }
        },
        depends_on=(
            origin_group_id(plan),
            plan.resource_id("Microsoft.Cdn/profiles/afdEndpoints", door.profile, door.endpoint),
        ),
    )


def provision_front_door(context: Context, web_hosts: dict[str, str]) -> dict[str, Any]:
    """Everything of Front Door; ``web_hosts`` maps each region to its web app's host name."""
    cdn = context.clients.cdn
    plan = context.plan
    door = _front_door(plan)
    group = context.group
    ensure(
        context,
        desired_profile(plan),
        read=lambda: cdn.profiles.get(group, door.profile),
        write=lambda body: cdn.profiles.begin_create(group, door.profile, body),
    )
    endpoint = ensure(
        context,
        desired_endpoint(plan),
        read=lambda: cdn.afd_endpoints.get(group, door.profile, door.endpoint),
        write=lambda body: cdn.afd_endpoints.begin_create(group, door.profile, door.endpoint, body),
    )
    ensure(
        context,
        desired_origin_group(plan),
        read=lambda: cdn.afd_origin_groups.get(group, door.profile, door.origin_group),
        write=lambda body: cdn.afd_origin_groups.begin_create(group, door.profile, door.origin_group, body),
    )
    for region in plan.region_plans():
        origin = door.origin(region)
        ensure(
            context,
            desired_origin(plan, region, web_hosts[region.location]),
            read=lambda origin=origin: cdn.afd_origins.get(group, door.profile, door.origin_group, origin),
            write=lambda body, origin=origin: cdn.afd_origins.begin_create(
                group, door.profile, door.origin_group, origin, body
            ),
        )
    ensure(
        context,
        desired_route(plan),
        read=lambda: cdn.routes.get(group, door.profile, door.endpoint, door.route),
        write=lambda body: cdn.routes.begin_create(group, door.profile, door.endpoint, door.route, body),
    )
    context.facts["front_door_host"] = endpoint.get("properties", {}).get("hostName", "")
    return endpoint
