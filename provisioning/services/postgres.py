"""Azure Database for PostgreSQL flexible server for the accounts, reachable only from the virtual network."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from provisioning.plan import DeploymentPlan
from provisioning.services.base import Context, Desired, ensure

API_VERSION = "2026-10-01"
PASSWORD_PLACEHOLDER = "<generated once, kept in the state file>"


def desired_server(plan: DeploymentPlan, password: str = PASSWORD_PLACEHOLDER) -> Desired:
    names = plan.names
    return Desired(
        title="PostgreSQL flexible server",
        resource_type="Microsoft.DBforPostgreSQL/flexibleServers",
        name=names.postgres,
        resource_id=plan.postgres_id(),
        api_version=API_VERSION,
        body={
            "location": plan.location,
            "tags": plan.tags,
            "sku": {"name": plan.postgres.sku, "tier": plan.postgres.tier},
            "properties": {
                "administratorLogin": plan.postgres.administrator_login,
                "administratorLoginPassword": password,
                "version": plan.postgres.version,
                "createMode": "Create",
                "storage": {"storageSizeGB": plan.postgres.storage_gb, "autoGrow": "Disabled"},
                "backup": {
                    "backupRetentionDays": plan.postgres.backup_retention_days,
                    "geoRedundantBackup": "Disabled",
                },
                "highAvailability": {"mode": "Disabled"},
                # VNet-injected: a delegated subnet and a private DNS zone, no public access.
                "network": {
                    "delegatedSubnetResourceId": plan.subnet_id(names.postgres_subnet),
                    "privateDnsZoneArmResourceId": plan.resource_id(
                        "Microsoft.Network/privateDnsZones", names.postgres_dns_zone
                    ),
                    "publicNetworkAccess": "Disabled",
                },
            },
        },
        # Azure never returns the password, and createMode only matters on creation.
        write_only=("properties.administratorLoginPassword", "properties.createMode"),
        depends_on=(
            plan.resource_id("Microsoft.Network/virtualNetworks", names.virtual_network),
            plan.resource_id(
                "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
                names.postgres_dns_zone,
                f"link-{names.virtual_network}",
            ),
        ),
    )


def desired_database(plan: DeploymentPlan) -> Desired:
    names = plan.names
    return Desired(
        title="PostgreSQL database",
        resource_type="Microsoft.DBforPostgreSQL/flexibleServers/databases",
        name=f"{names.postgres}/{names.postgres_database}",
        resource_id=plan.resource_id(
            "Microsoft.DBforPostgreSQL/flexibleServers/databases", names.postgres, names.postgres_database
        ),
        api_version=API_VERSION,
        body={"properties": {"charset": "UTF8", "collation": "en_US.utf8"}},
        depends_on=(plan.postgres_id(),),
    )


def provision_postgres(context: Context) -> dict[str, Any]:
    client = context.clients.postgres
    names = context.plan.names
    server = desired_server(context.plan, context.state.database_password())
    current = ensure(
        context,
        server,
        read=lambda: client.servers.get(context.group, names.postgres),
        write=lambda body: client.servers.begin_create_or_update(context.group, names.postgres, body),
    )
    database = desired_database(context.plan)
    ensure(
        context,
        database,
        read=lambda: client.databases.get(context.group, names.postgres, names.postgres_database),
        write=lambda body: client.databases.begin_create(context.group, names.postgres, names.postgres_database, body),
    )
    context.facts["postgres_host"] = current.get("properties", {}).get("fullyQualifiedDomainName", "")
    return current


def database_url(context: Context) -> str:
    plan = context.plan
    password = quote(context.state.database_password(), safe="")
    host = context.facts.get("postgres_host") or f"{plan.names.postgres}.postgres.database.azure.com"
    return (
        f"postgres://{plan.postgres.administrator_login}:{password}@{host}:5432/"
        f"{plan.names.postgres_database}?sslmode=require"
    )
