"""The Azure deployment as plain data: what to create, named how, with which SKUs and settings.

Nothing here talks to Azure. ``build_plan`` turns the command's options and the state
file into a ``DeploymentPlan``, checking every name and SKU first; the modules in
``provisioning.services`` turn their part of it into request bodies and SDK calls,
``--dry-run`` prints it, and the cost table prices it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from provisioning import catalogue, naming
from provisioning.alerting import AlertRule, DiagnosticPlan
from provisioning.errors import ProvisioningError
from provisioning.redis_products import REDIS_PRODUCTS, CacheForRedis, ManagedRedis, RedisProduct

__all__ = ["AlertRule", "DiagnosticPlan", "RedisProduct"]

# The same words as the app's REDIS_AUTH setting.
RedisAuth = Literal["password", "entra"]
# How the web apps are let into Key Vault: Azure RBAC role assignments, or vault access
# policies (which Contributor may write); "auto" picks at run time (provisioning/services/key_vault.py).
KeyVaultMode = Literal["rbac", "access-policy"]
KeyVaultAuth = Literal["auto", "rbac", "access-policy"]

ENVIRONMENT_NAME = re.compile(r"[a-z][a-z0-9-]{0,11}")
PYTHON_VERSION = "3.11"
STARTUP_COMMAND = "gunicorn --bind=0.0.0.0 --timeout 60 --workers 2 sessiondemo.wsgi:application"
HEALTH_CHECK_PATH = "/readyz"


@dataclass(frozen=True)
class Names:
    resource_group: str
    workspace: str
    app_insights: str
    virtual_network: str
    app_subnet: str
    endpoint_subnet: str
    postgres_subnet: str
    redis: str
    redis_database: str
    redis_private_endpoint: str
    redis_dns_zone: str
    postgres: str
    postgres_database: str
    postgres_dns_zone: str
    app_service_plan: str
    web_app: str
    action_group: str
    key_vault: str = ""
    key_vault_private_endpoint: str = ""
    key_vault_dns_zone: str = "privatelink.vaultcore.azure.net"


@dataclass(frozen=True)
class Region:
    """One region's share of the deployment: its own network, Redis and web app.

    The first region keeps the plain names (a single-region deployment is region 0);
    the others add the region to each regional name.
    """

    location: str
    index: int
    names: Names
    address_space: str
    app_subnet_prefix: str
    endpoint_subnet_prefix: str
    postgres_subnet_prefix: str

    @property
    def primary(self) -> bool:
        return self.index == 0


@dataclass(frozen=True)
class FrontDoorPlan:
    """Azure Front Door Standard in front of every region's web app."""

    profile: str
    endpoint: str
    origin_group: str = "web-apps"
    route: str = "default"
    sku: str = "Standard_AzureFrontDoor"
    probe_path: str = "/healthz"

    def origin(self, region: Region) -> str:
        return f"app-{region.location}"


@dataclass(frozen=True)
class RedisPlan:
    """One of the two Redis products, with the recipe's tunings where the product has them."""

    product: RedisProduct
    sku: str
    # "password": clients sign in with an access key; "entra": with the web app's managed identity, keys off.
    auth: RedisAuth = "password"
    minimum_tls_version: str = "1.2"
    # Managed Redis
    clustering_policy: str = "EnterpriseCluster"
    eviction_policy: str = "AllKeysLRU"
    client_protocol: str = "Encrypted"
    public_network_access: str = "Disabled"
    port: int = 10000
    # Azure Cache for Redis
    redis_configuration: dict[str, str] = field(default_factory=dict)
    patch_day: str = "Sunday"
    patch_start_hour_utc: int = 2
    patch_window: str = "PT5H"

    @property
    def spec(self) -> ManagedRedis | CacheForRedis:
        """The product's own data: resource type, endpoints, SKUs, what is watched, what it lacks."""
        return REDIS_PRODUCTS[self.product]

    @property
    def resource_type(self) -> str:
        return self.spec.resource_type

    @property
    def private_link_group(self) -> str:
        return self.spec.private_link_group

    @property
    def display_name(self) -> str:
        return self.spec.display_name

    @property
    def tls_port(self) -> int:
        return self.spec.tls_port

    @property
    def passwordless(self) -> bool:
        return self.auth == "entra"

    @property
    def oss_cluster(self) -> bool:
        return self.clustering_policy == "OSSCluster" and isinstance(self.spec, ManagedRedis)

    def unsupported_tunings(self) -> list[str]:
        """What the recipe asks for that this product has no setting for, said plainly."""
        return self.spec.unsupported_tunings()


@dataclass(frozen=True)
class KeyVaultPlan:
    """The vault that holds REDIS_URL (with its key), SECRET_KEY and DATABASE_URL for the web apps' Key Vault references."""

    sku: str = "standard"
    # RBAC role assignments or access policies for the web apps; see KeyVaultAuth.
    auth: KeyVaultAuth = "auto"
    # Reached only through its private endpoint, as Redis and PostgreSQL are. provision_azure
    # writes secrets through Resource Manager (Microsoft.KeyVault/vaults/secrets), which the
    # vault's network rules do not apply to, so the deployer needs no network path to it.
    public_network_access: str = "Disabled"
    private_link_group: str = "vault"
    # Soft delete cannot be turned off; 7 days is the shortest retention. Purge protection
    # is left off (once on, it can never be turned off) so teardown_azure can purge the vault
    # and the next provisioning can reuse its name.
    soft_delete_retention_days: int = 7
    secret_key_secret: str = "secret-key"
    # One for every region: PostgreSQL lives in the primary region only.
    database_url_secret: str = "database-url"
    # "Key Vault Secrets User": read secret contents, nothing else (a built-in role, same id in every tenant).
    secrets_user_role: str = "4633458b-17de-408a-b874-0445c86b69e6"
    # What an access policy gives each web app: read a secret, as Key Vault Secrets User does.
    secret_permissions: tuple[str, ...] = ("get",)

    def redis_secret(self, region: Region) -> str:
        return "redis-url" if region.primary else f"redis-url-{region.location}"


@dataclass(frozen=True)
class PostgresPlan:
    sku: str = "Standard_B1ms"
    tier: str = "Burstable"
    version: str = "16"
    storage_gb: int = 32
    administrator_login: str = "sessiondemo"
    backup_retention_days: int = 7


@dataclass(frozen=True)
class WebPlan:
    # Basic B1, the recipe's App Service plan: VNet integration, health check and always on,
    # up to 3 instances. --web-sku S1 for up to 10 (provisioning/catalogue.py).
    sku: str = "B1"
    instances: int = 2
    python_version: str = PYTHON_VERSION
    startup_command: str = STARTUP_COMMAND
    health_check_path: str = HEALTH_CHECK_PATH

    @property
    def tier(self) -> str:
        return catalogue.app_service_sku(self.sku).tier

    @property
    def linux_fx_version(self) -> str:
        return f"PYTHON|{self.python_version}"


@dataclass(frozen=True)
class CostLine:
    item: str
    sku: str
    quantity: int
    monthly_usd_each: float

    @property
    def monthly_usd(self) -> float:
        return round(self.quantity * self.monthly_usd_each, 2)


@dataclass(frozen=True)
class DeploymentPlan:
    environment: str
    subscription_id: str
    location: str
    names: Names
    redis: RedisPlan
    postgres: PostgresPlan
    web: WebPlan
    alert_email: str
    alerts: tuple[AlertRule, ...]
    diagnostics: tuple[DiagnosticPlan, ...]
    # The regions the site runs in, the first one primary (PostgreSQL lives there).
    regions: tuple[str, ...] = ()
    front_door: FrontDoorPlan | None = None
    key_vault: KeyVaultPlan = field(default_factory=KeyVaultPlan)
    address_space: str = "10.0.0.0/16"
    app_subnet_prefix: str = "10.0.1.0/24"
    endpoint_subnet_prefix: str = "10.0.2.0/24"
    postgres_subnet_prefix: str = "10.0.3.0/24"

    @property
    def tags(self) -> dict[str, str]:
        return {"purpose": "session-demo", "environment": self.environment}

    @property
    def is_global(self) -> bool:
        return len(self.regions) > 1

    @property
    def geo_replication_group(self) -> str:
        return f"sessiondemo-{self.environment}"

    def region_plans(self) -> list[Region]:
        regions = []
        for index, location in enumerate(self.regions or (self.location,)):
            if index == 0:
                regions.append(
                    Region(
                        location,
                        0,
                        self.names,
                        self.address_space,
                        self.app_subnet_prefix,
                        self.endpoint_subnet_prefix,
                        self.postgres_subnet_prefix,
                    )
                )
                continue
            names = replace(
                self.names,
                virtual_network=f"{self.names.virtual_network}-{location}",
                redis=f"{self.names.redis}-{location}",
                redis_private_endpoint=f"{self.names.redis_private_endpoint}-{location}",
                app_service_plan=f"{self.names.app_service_plan}-{location}",
                web_app=f"{self.names.web_app}-{location}",
            )
            regions.append(
                Region(
                    location,
                    index,
                    names,
                    f"10.{index}.0.0/16",
                    f"10.{index}.1.0/24",
                    f"10.{index}.2.0/24",
                    f"10.{index}.3.0/24",
                )
            )
        return regions

    @property
    def primary(self) -> Region:
        return self.region_plans()[0]

    # --- resource ids, known before anything exists ------------------------------
    def group_id(self) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.names.resource_group}"

    def resource_id(self, resource_type: str, *names: str) -> str:
        """``resource_id("Microsoft.Web/sites", app)``; child types as ``"A/b/c", parent, child``."""
        namespace, *types = resource_type.split("/")
        path = "/".join(f"{kind}/{name}" for kind, name in zip(types, names, strict=True))
        return f"{self.group_id()}/providers/{namespace}/{path}"

    # Regional ids take the region's names; without them, the primary region's.
    def subnet_id(self, subnet: str, names: Names | None = None) -> str:
        return self.resource_id(
            "Microsoft.Network/virtualNetworks/subnets", (names or self.names).virtual_network, subnet
        )

    def virtual_network_id(self, names: Names | None = None) -> str:
        return self.resource_id("Microsoft.Network/virtualNetworks", (names or self.names).virtual_network)

    def redis_id(self, names: Names | None = None) -> str:
        return self.resource_id(self.redis.resource_type, (names or self.names).redis)

    def redis_database_id(self, names: Names | None = None) -> str:
        names = names or self.names
        return self.resource_id("Microsoft.Cache/redisEnterprise/databases", names.redis, names.redis_database)

    def key_vault_id(self) -> str:
        return self.resource_id("Microsoft.KeyVault/vaults", self.names.key_vault)

    def postgres_id(self) -> str:
        return self.resource_id("Microsoft.DBforPostgreSQL/flexibleServers", self.names.postgres)

    def workspace_id(self) -> str:
        return self.resource_id("Microsoft.OperationalInsights/workspaces", self.names.workspace)

    def web_app_id(self, names: Names | None = None) -> str:
        return self.resource_id("Microsoft.Web/sites", (names or self.names).web_app)

    def diagnostic_target_id(self, target: str, names: Names | None = None) -> str:
        ids = {"redis": self.redis_id, "redis_database": self.redis_database_id, "web_app": self.web_app_id}
        return ids[target](names)

    # --- money -------------------------------------------------------------------
    def costs(self) -> list[CostLine]:
        regions = len(self.regions or (self.location,))
        web = catalogue.app_service_sku(self.web.sku)
        price = catalogue.price
        lines = [
            CostLine(self.redis.display_name, self.redis.sku, regions, self.redis.spec.monthly_usd(self.redis.sku)),
            CostLine("App Service plan (Linux)", self.web.sku, self.web.instances * regions, web.monthly_usd),
            CostLine("PostgreSQL flexible server", self.postgres.sku, 1, price(self.postgres.sku)),
            CostLine("PostgreSQL storage (GB)", "P4", self.postgres.storage_gb, price("postgres_storage_gb")),
            # One for Redis in each region, one for the Key Vault.
            CostLine("Private endpoint", "Standard", regions + 1, price("private_endpoint")),
            # Redis, PostgreSQL and Key Vault.
            CostLine("Private DNS zone", "Standard", 3, price("private_dns_zone")),
            CostLine("Metric alert rule", "Standard", len(self.alerts) * regions, price("metric_alert")),
            CostLine(
                "Log Analytics ingestion (GB, assumed)",
                "PerGB2018",
                catalogue.ASSUMED_LOG_GB_PER_MONTH,
                price("log_analytics_gb"),
            ),
        ]
        if self.front_door is not None:
            lines += [
                CostLine("Front Door Standard (base fee)", self.front_door.sku, 1, price("front_door_standard")),
                CostLine(
                    "VNet peering traffic (GB, assumed)",
                    "Global",
                    catalogue.ASSUMED_PEERING_GB_PER_MONTH,
                    price("global_peering_gb"),
                ),
            ]
        return lines

    def global_notes(self) -> list[str]:
        """What going global changes, said plainly in the plan and the run."""
        if not self.is_global:
            return []
        return [
            "Active geo-replication allows only the NoEviction policy: when Redis memory is full, writes fail "
            "instead of evicting old sessions. Every session key carries a TTL (the idle timeout), so expiry frees "
            "memory; size the SKU for peak live sessions and watch the used-memory alert.",
            f"PostgreSQL stays in {self.regions[0]}; the other regions reach it through VNet peering, "
            "so sign-ins there pay the cross-region round trip.",
            "Geo-replication is set when a database is created: joining an existing single-region database "
            "needs Azure's force-link, which this command does not do. Tear down first, or start a new environment.",
        ]

    def notes(self) -> list[str]:
        """Everything the plan and the run say besides the resources: notices, gaps, what going global changes."""
        spec = self.redis.spec
        return [*spec.notices(), *self.redis.unsupported_tunings(), *spec.missing_alerts(), *self.global_notes()]

    def sizing(self) -> str:
        return self.redis.spec.sizing(self.redis.sku)

    def monthly_total(self) -> float:
        return round(sum(line.monthly_usd for line in self.costs()), 2)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = self.tags
        data["unsupported_tunings"] = self.redis.unsupported_tunings()
        data["notes"] = self.notes()
        data["global_notes"] = self.global_notes()
        data["redis_sizing"] = self.sizing()
        data["costs"] = [{**asdict(line), "monthly_usd": line.monthly_usd} for line in self.costs()]
        data["monthly_total_usd"] = self.monthly_total()
        return data


def access_policy_assignment_name(principal_id: str) -> str:
    """A Redis access policy assignment per identity, named after it so a second run finds the same one."""
    if principal_id.startswith("<"):
        return "webapp<principal id without hyphens>"  # a plan, before the principal exists
    return "webapp" + principal_id.replace("-", "")


def web_diagnostics() -> DiagnosticPlan:
    return DiagnosticPlan(
        "WebAppDiagnostics",
        "web_app",
        log_categories=("AppServiceHTTPLogs", "AppServiceConsoleLogs"),
        metric_categories=("AllMetrics",),
    )


def check_names(plan: DeploymentPlan) -> None:
    """Every name against its resource's rule, all at once: one sentence naming each rule broken."""
    names = plan.names
    pairs = [
        ("resource group", names.resource_group),
        ("Log Analytics workspace", names.workspace),
        ("PostgreSQL server", names.postgres),
        ("Key Vault", names.key_vault),
    ]
    for region in plan.region_plans():
        pairs += [
            ("virtual network", region.names.virtual_network),
            (plan.redis.spec.name_rule, region.names.redis),
            ("App Service plan", region.names.app_service_plan),
            ("web app", region.names.web_app),
        ]
    broken = naming.broken_rules(pairs)
    if broken:
        raise ProvisioningError(
            "Azure would refuse these names: "
            + "; ".join(broken)
            + ". Choose an --environment (and --name-suffix) of letters and digits with single hyphens, "
            "short enough for every name."
        )


def build_plan(
    *,
    environment: str,
    subscription_id: str,
    location: str,
    suffix: str,
    redis_product: RedisProduct = "managed",
    redis_auth: RedisAuth = "password",
    redis_sku: str | None = None,
    clustering_policy: str = "EnterpriseCluster",
    instances: int = 2,
    alert_email: str = "",
    resource_group: str | None = None,
    regions: tuple[str, ...] = (),
    key_vault_auth: KeyVaultAuth = "auto",
    web_sku: str = "B1",
) -> DeploymentPlan:
    """The whole plan from the command's options; ``suffix`` keeps global names unique and stable.

    Two or more ``regions`` make a global deployment: the first is primary and sets the
    location; Front Door goes in front, and the regions' Managed Redis databases join
    one active geo-replication group. Every name and SKU is checked here, before anything
    is sent, so a plan that Azure would refuse never reaches Azure.
    """
    if not ENVIRONMENT_NAME.fullmatch(environment):
        raise ProvisioningError(
            f"The environment name {environment!r} cannot be part of Azure resource names. "
            "Use 1 to 12 lower-case letters, digits or hyphens, starting with a letter (for example dev or prod)."
        )
    regions = tuple(dict.fromkeys(regions)) or (location,)
    location = regions[0]
    if len(regions) > 1 and redis_product != "managed":
        raise ProvisioningError(
            "Sessions shared across regions need Azure Managed Redis active geo-replication; "
            "drop --redis-product cache, or deploy to one region."
        )
    spec = REDIS_PRODUCTS[redis_product]
    sku = redis_sku or spec.default_sku(len(regions))
    spec.check_sku(sku, len(regions))
    web = catalogue.app_service_sku(web_sku)
    if instances > web.max_instances:
        raise ProvisioningError(
            f"App Service {web.tier} ({web.name}) runs at most {web.max_instances} instances, not {instances}. "
            "Choose --web-sku S1 (up to 10), or fewer --instances."
        )
    stem = f"sessiondemo-{environment}"
    redis_name = f"redis-{stem}-{suffix}"
    postgres_name = f"psql-{stem}-{suffix}"
    key_vault = f"kv-{environment}-{suffix}"
    names = Names(
        resource_group=resource_group or f"rg-{stem}",
        workspace=f"log-{stem}-{suffix}",
        app_insights=f"appi-{stem}-{suffix}",
        virtual_network=f"vnet-{stem}",
        app_subnet="snet-app",
        endpoint_subnet="snet-private-endpoints",
        postgres_subnet="snet-postgres",
        redis=redis_name,
        redis_database="default",
        redis_private_endpoint=f"pe-{redis_name}",
        redis_dns_zone=spec.private_dns_zone,
        postgres=postgres_name,
        postgres_database="sessiondemo",
        postgres_dns_zone=f"{postgres_name}.private.postgres.database.azure.com",
        app_service_plan=f"plan-{stem}",
        web_app=f"app-{stem}-{suffix}",
        action_group=f"ag-{stem}",
        # Vault names are global and at most 24 characters: kv-<12>-<6> fits.
        key_vault=key_vault,
        key_vault_private_endpoint=f"pe-{key_vault}",
    )
    if isinstance(spec, ManagedRedis):
        redis = RedisPlan(
            product="managed",
            sku=sku,
            auth=redis_auth,
            clustering_policy=clustering_policy,
            # Active geo-replication accepts no other eviction policy.
            eviction_policy="NoEviction" if len(regions) > 1 else "AllKeysLRU",
        )
    else:
        redis = RedisPlan(
            product="cache",
            sku=sku,
            auth=redis_auth,
            redis_configuration={
                "maxmemory-policy": "allkeys-lru",
                "maxmemory-reserved": "50",
                "maxfragmentationmemory-reserved": "50",
                # Microsoft Entra authentication on Azure Cache for Redis is a redis configuration switch.
                **({"aad-enabled": "true"} if redis_auth == "entra" else {}),
            },
        )
    plan = DeploymentPlan(
        environment=environment,
        subscription_id=subscription_id,
        location=location,
        names=names,
        redis=redis,
        postgres=PostgresPlan(),
        web=WebPlan(sku=web_sku, instances=instances),
        alert_email=alert_email,
        alerts=spec.alerts(),
        diagnostics=(*spec.diagnostics(redis.passwordless), web_diagnostics()),
        regions=regions,
        front_door=FrontDoorPlan(profile=f"afd-{stem}-{suffix}", endpoint=f"{stem}-{suffix}")
        if len(regions) > 1
        else None,
        key_vault=KeyVaultPlan(auth=key_vault_auth),
    )
    check_names(plan)
    return plan
