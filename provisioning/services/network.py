"""The virtual network, private DNS zones and the private endpoints that keep Redis, Key Vault and PostgreSQL off the internet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provisioning.plan import DeploymentPlan, Region
from provisioning.services.base import Context, Desired, ensure

NETWORK_API_VERSION = "2026-03-01"
PRIVATE_DNS_API_VERSION = "2024-06-01"


def _subnet(name: str, prefix: str, delegation: str | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {"addressPrefix": prefix}
    if delegation:
        properties["delegations"] = [{"name": delegation.split("/")[-1], "properties": {"serviceName": delegation}}]
    return {"name": name, "properties": properties}


def desired_virtual_network(plan: DeploymentPlan, region: Region | None = None) -> Desired:
    region = region or plan.primary
    names = region.names
    subnets = [
        # App Service VNet integration needs a subnet delegated to server farms.
        _subnet(names.app_subnet, region.app_subnet_prefix, "Microsoft.Web/serverFarms"),
        _subnet(names.endpoint_subnet, region.endpoint_subnet_prefix),
    ]
    if region.primary:  # PostgreSQL lives in the primary region only
        subnets.append(
            _subnet(names.postgres_subnet, region.postgres_subnet_prefix, "Microsoft.DBforPostgreSQL/flexibleServers")
        )
    return Desired(
        title="Virtual network",
        resource_type="Microsoft.Network/virtualNetworks",
        name=names.virtual_network,
        resource_id=plan.virtual_network_id(names),
        api_version=NETWORK_API_VERSION,
        body={
            "location": region.location,
            "tags": plan.tags,
            "properties": {"addressSpace": {"addressPrefixes": [region.address_space]}, "subnets": subnets},
        },
    )


def desired_peering(plan: DeploymentPlan, source: Region, target: Region) -> Desired:
    """One direction of the global peering that lets other regions reach PostgreSQL privately."""
    name = f"peer-{target.names.virtual_network}"
    return Desired(
        title="Virtual network peering",
        resource_type="Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
        name=f"{source.names.virtual_network}/{name}",
        resource_id=plan.resource_id(
            "Microsoft.Network/virtualNetworks/virtualNetworkPeerings", source.names.virtual_network, name
        ),
        api_version=NETWORK_API_VERSION,
        body={
            "properties": {
                "remoteVirtualNetwork": {"id": plan.virtual_network_id(target.names)},
                "allowVirtualNetworkAccess": True,
                "allowForwardedTraffic": False,
                "useRemoteGateways": False,
            }
        },
        depends_on=(plan.virtual_network_id(source.names), plan.virtual_network_id(target.names)),
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


def desired_dns_link(plan: DeploymentPlan, zone: str, region: Region | None = None) -> Desired:
    """The zone's link to one region's network: one zone, linked to every region."""
    network = (region or plan.primary).names.virtual_network
    link = f"link-{network}"
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
                "virtualNetwork": {"id": plan.resource_id("Microsoft.Network/virtualNetworks", network)},
                "registrationEnabled": False,
            },
        },
        depends_on=(
            plan.resource_id("Microsoft.Network/privateDnsZones", zone),
            plan.resource_id("Microsoft.Network/virtualNetworks", network),
        ),
    )


@dataclass(frozen=True)
class PrivateLink:
    """What a private endpoint connects to: a resource, its private link group and its DNS zone."""

    title: str  # "Redis", "Key Vault"
    endpoint: str
    target_id: str
    group_id: str
    zone: str


def redis_link(plan: DeploymentPlan, region: Region | None = None) -> PrivateLink:
    names = (region or plan.primary).names
    return PrivateLink(
        "Redis",
        names.redis_private_endpoint,
        plan.redis_id(names),
        plan.redis.private_link_group,
        plan.names.redis_dns_zone,
    )


def key_vault_link(plan: DeploymentPlan) -> PrivateLink:
    """The vault's one endpoint, in the primary region; the zone is linked to every region's network."""
    names = plan.names
    return PrivateLink(
        "Key Vault",
        names.key_vault_private_endpoint,
        plan.key_vault_id(),
        plan.key_vault.private_link_group,
        names.key_vault_dns_zone,
    )


def desired_private_endpoint(plan: DeploymentPlan, link: PrivateLink, region: Region | None = None) -> Desired:
    region = region or plan.primary
    names = region.names
    return Desired(
        title=f"{link.title} private endpoint",
        resource_type="Microsoft.Network/privateEndpoints",
        name=link.endpoint,
        resource_id=plan.resource_id("Microsoft.Network/privateEndpoints", link.endpoint),
        api_version=NETWORK_API_VERSION,
        body={
            "location": region.location,
            "tags": plan.tags,
            "properties": {
                "subnet": {"id": plan.subnet_id(names.endpoint_subnet, names)},
                "privateLinkServiceConnections": [
                    {
                        "name": f"{link.endpoint}-connection",
                        "properties": {"privateLinkServiceId": link.target_id, "groupIds": [link.group_id]},
                    }
                ],
            },
        },
        depends_on=(link.target_id, plan.virtual_network_id(names)),
    )


def desired_dns_zone_group(plan: DeploymentPlan, link: PrivateLink) -> Desired:
    return Desired(
        title=f"{link.title} private DNS zone group",
        resource_type="Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
        name=f"{link.endpoint}/default",
        resource_id=plan.resource_id(
            "Microsoft.Network/privateEndpoints/privateDnsZoneGroups", link.endpoint, "default"
        ),
        api_version=NETWORK_API_VERSION,
        body={
            "properties": {
                "privateDnsZoneConfigs": [
                    {
                        "properties": {
                            "privateDnsZoneId": plan.resource_id("Microsoft.Network/privateDnsZones", link.zone)
                        }
                    }
                ]
            }
        },
        depends_on=(plan.resource_id("Microsoft.Network/privateEndpoints", link.endpoint),),
    )


def desired_zone_with_links(plan: DeploymentPlan, zone: str) -> list[Desired]:
    return [desired_dns_zone(plan, zone), *(desired_dns_link(plan, zone, region) for region in plan.region_plans())]


def desired_endpoint_with_zone_group(
    plan: DeploymentPlan, link: PrivateLink, region: Region | None = None
) -> list[Desired]:
    return [desired_private_endpoint(plan, link, region), desired_dns_zone_group(plan, link)]


def provision_virtual_network(context: Context, region: Region | None = None) -> None:
    networks = context.clients.network.virtual_networks
    want = desired_virtual_network(context.plan, region)
    ensure(
        context,
        want,
        read=lambda: networks.get(context.group, want.name),
        write=lambda body: networks.begin_create_or_update(context.group, want.name, body),
    )


def provision_peerings(context: Context) -> None:
    """Peer the primary network with each other region's, both ways."""
    peerings = context.clients.network.virtual_network_peerings
    primary, *others = context.plan.region_plans()
    for other in others:
        for source, target in ((primary, other), (other, primary)):
            want = desired_peering(context.plan, source, target)
            network, name = want.name.split("/")
            ensure(
                context,
                want,
                read=lambda network=network, name=name: peerings.get(context.group, network, name),
                write=lambda body, network=network, name=name: peerings.begin_create_or_update(
                    context.group, network, name, body
                ),
            )


def provision_private_dns_zone(context: Context, zone: str) -> None:
    """The zone, linked to every region's network."""
    dns = context.clients.private_dns
    want_zone = desired_dns_zone(context.plan, zone)
    ensure(
        context,
        want_zone,
        read=lambda: dns.private_zones.get(context.group, zone),
        write=lambda body: dns.private_zones.begin_create_or_update(context.group, zone, body),
    )
    for region in context.plan.region_plans():
        want_link = desired_dns_link(context.plan, zone, region)
        link = want_link.name.split("/")[1]
        ensure(
            context,
            want_link,
            read=lambda link=link: dns.virtual_network_links.get(context.group, zone, link),
            write=lambda body, link=link: dns.virtual_network_links.begin_create_or_update(
                context.group, zone, link, body
            ),
        )


def provision_private_endpoint(context: Context, link: PrivateLink, region: Region | None = None) -> None:
    """The endpoint in the region's endpoint subnet, and its record in the link's private DNS zone."""
    network = context.clients.network
    endpoint = desired_private_endpoint(context.plan, link, region)
    ensure(
        context,
        endpoint,
        read=lambda: network.private_endpoints.get(context.group, endpoint.name),
        write=lambda body: network.private_endpoints.begin_create_or_update(context.group, endpoint.name, body),
    )
    group = desired_dns_zone_group(context.plan, link)
    ensure(
        context,
        group,
        read=lambda: network.private_dns_zone_groups.get(context.group, endpoint.name, "default"),
        write=lambda body: network.private_dns_zone_groups.begin_create_or_update(
            context.group, endpoint.name, "default", body
        ),
    )
