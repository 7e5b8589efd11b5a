"""The virtual network, private DNS zones and the private endpoint that keep Redis and PostgreSQL off the internet."""

from __future__ import annotations

from typing import Any

from provisioning.plan import DeploymentPlan
from provisioning.services.base import Context, Desired, ensure

NETWORK_API_VERSION = "2026-03-01"
PRIVATE_DNS_API_VERSION = "2024-06-01"


def _subnet(name: str, prefix: str, delegation: str | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {"addressPrefix": prefix}
    if delegation:
        properties["delegations"] = [{"name": delegation.split("/")[-1], "properties": {"serviceName": delegation}}]
    return {"name": name, "properties": properties}


def desired_virtual_network(plan: DeploymentPlan) -> Desired:
    names = plan.names
    return Desired(
        title="Virtual network",
        resource_type="Microsoft.Network/virtualNetworks",
        name=names.virtual_network,
        resource_id=plan.resource_id("Microsoft.Network/virtualNetworks", names.virtual_network),
        api_version=NETWORK_API_VERSION,
        body={
            "location": plan.location,
            "tags": plan.tags,
            "properties": {
                "addressSpace": {"addressPrefixes": [plan.address_space]},
                "subnets": [
                    # App Service VNet integration needs a subnet delegated to server farms.
                    _subnet(names.app_subnet, plan.app_subnet_prefix, "Microsoft.Web/serverFarms"),
                    _subnet(names.endpoint_subnet, plan.endpoint_subnet_prefix),
                    _subnet(names.postgres_subnet, plan.postgres_subnet_prefix, "Microsoft.DBforPostgreSQL/flexibleServers"),
                ],
            },
        },
    )


def desired_dns_zone(plan: DeploymentPlan, zone: str) -> Desired:
    return Desired(
        title="Private DNS zone",
        resource_type="Microsoft.Network/privateDnsZones",
        name=zone,
        resource_id=plan.resource_id("Microsoft.Network/privateDnsZones", zone),
        api_version=PRIVATE_DNS_API_VERSION,
        body={"location": "global", "tags": plan.tags},
    )


def desired_dns_link(plan: DeploymentPlan, zone: str) -> Desired:
    link = f"link-{plan.names.virtual_network}"
    return Desired(
        title="Private DNS zone link",
        resource_type="Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        name=f"{zone}/{link}",
        resource_id=plan.resource_id("Microsoft.Network/privateDnsZones/virtualNetworkLinks", zone, link),
        api_version=PRIVATE_DNS_API_VERSION,
        body={
            "location": "global",
            "tags": plan.tags,
            "properties": {
                "virtualNetwork": {"id": plan.resource_id("Microsoft.Network/virtualNetworks", plan.names.virtual_network)},
                "registrationEnabled": False,
            },
        },
        depends_on=(plan.resource_id("Microsoft.Network/privateDnsZones", zone),),
    )


def desired_private_endpoint(plan: DeploymentPlan) -> Desired:
    name = plan.names.redis_private_endpoint
    return Desired(
        title="Redis private endpoint",
        resource_type="Microsoft.Network/privateEndpoints",
        name=name,
        resource_id=plan.resource_id("Microsoft.Network/privateEndpoints", name),
        api_version=NETWORK_API_VERSION,
        body={
            "location": plan.location,
            "tags": plan.tags,
            "properties": {
                "subnet": {"id": plan.subnet_id(plan.names.endpoint_subnet)},
                "privateLinkServiceConnections": [
                    {
                        "name": f"{name}-connection",
                        "properties": {
                            "privateLinkServiceId": plan.redis_id(),
                            "groupIds": [plan.redis.private_link_group],
                        },
                    }
                ],
            },
        },
        depends_on=(plan.redis_id(),),
    )


def desired_dns_zone_group(plan: DeploymentPlan) -> Desired:
    endpoint = plan.names.redis_private_endpoint
    zone = plan.names.redis_dns_zone
    return Desired(
        title="Redis private DNS zone group",
        resource_type="Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
        name=f"{endpoint}/default",
        resource_id=plan.resource_id("Microsoft.Network/privateEndpoints/privateDnsZoneGroups", endpoint, "default"),
        api_version=NETWORK_API_VERSION,
        body={
            "properties": {
                "privateDnsZoneConfigs": [
                    {"properties": {"privateDnsZoneId": plan.resource_id("Microsoft.Network/privateDnsZones", zone)}}
                ]
            }
        },
        depends_on=(plan.resource_id("Microsoft.Network/privateEndpoints", endpoint),),
    )


def provision_virtual_network(context: Context) -> None:
    networks = context.clients.network.virtual_networks
    want = desired_virtual_network(context.plan)
    ensure(
        context,
        want,
        read=lambda: networks.get(context.group, want.name),
        write=lambda body: networks.begin_create_or_update(context.group, want.name, body),
    )


def provision_private_dns_zone(context: Context, zone: str) -> None:
    dns = context.clients.private_dns
    want_zone = desired_dns_zone(context.plan, zone)
    ensure(
        context,
        want_zone,
        read=lambda: dns.private_zones.get(context.group, zone),
        write=lambda body: dns.private_zones.begin_create_or_update(context.group, zone, body),
    )
    want_link = desired_dns_link(context.plan, zone)
    link = want_link.name.split("/")[1]
    ensure(
        context,
        want_link,
        read=lambda: dns.virtual_network_links.get(context.group, zone, link),
        write=lambda body: dns.virtual_network_links.begin_create_or_update(context.group, zone, link, body),
    )


def provision_redis_private_endpoint(context: Context) -> None:
    provision_private_dns_zone(context, context.plan.names.redis_dns_zone)
    network = context.clients.network
    endpoint = desired_private_endpoint(context.plan)
    ensure(
        context,
        endpoint,
        read=lambda: network.private_endpoints.get(context.group, endpoint.name),
        write=lambda body: network.private_endpoints.begin_create_or_update(context.group, endpoint.name, body),
    )
    group = desired_dns_zone_group(context.plan)
    ensure(
        context,
        group,
        read=lambda: network.private_dns_zone_groups.get(context.group, endpoint.name, "default"),
        write=lambda body: network.private_dns_zone_groups.begin_create_or_update(context.group, endpoint.name, "default", body),
    )
