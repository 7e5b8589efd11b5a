"""What each SKU the command may deploy holds and costs, and how the default Redis is sized.

Every price is a monthly pay-as-you-go list price in USD (730 hours), an estimate to check
against https://azure.microsoft.com/pricing/calculator/, never a quote; each names where it
came from. A SKU without a price here cannot be chosen: the cost table would be wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioning.errors import ProvisioningError

HOURS_A_MONTH = 730

# --- sizing the session store -----------------------------------------------------------
# Bytes one session takes in Redis: `manage.py bench_sessions`, run 2026-12-02 15:32 UTC
# (README, Benchmark: "memory per session" 580 bytes at 1,000 stored sessions, 555 at 100,000,
# 546 at 1,000,000; the largest is kept). Each figure is a signed-in session with 2 cart lines
# and its user's account record, key overheads included, at Redis's default configuration.
SESSION_BYTES = 580
SESSION_BYTES_SOURCE = "manage.py bench_sessions, 2026-12-02 15:32 UTC (memory per session at 1,000 sessions)"
# The live sessions the default deployment is sized for: the benchmark's middle row, far above
# the 20 users the load test drives. Pass --redis-sku for more.
PLANNED_LIVE_SESSIONS = 100_000
# Azure's advice for Managed Redis is to scale up when Used Memory Percentage stays above 75 %
# ("Azure Managed Redis memory management best practices", learn.microsoft.com/azure/redis/
# best-practices-memory-management, read 2026-12-02): size so the planned load stays below it.
# The same page says a SKU's memory already allows for high-availability replication.
USABLE_MEMORY_FRACTION = 0.75


@dataclass(frozen=True)
class ManagedRedisSku:
    """An Azure Managed Redis SKU: its memory, its price per node-hour, whether it can geo-replicate."""

    name: str
    memory_gb: float
    usd_per_node_hour: float
    price_source: str
    geo_replication: bool = True
    # High availability (the default) runs two nodes, billed each.
    nodes: int = 2

    @property
    def monthly_usd(self) -> float:
        return round(self.usd_per_node_hour * HOURS_A_MONTH * self.nodes, 2)

    @property
    def sessions_held(self) -> int:
        """How many sessions of SESSION_BYTES fit below USABLE_MEMORY_FRACTION of its memory."""
        return int(self.memory_gb * 1e9 * USABLE_MEMORY_FRACTION / SESSION_BYTES)


# Sizes: "What is Azure Managed Redis?" (MicrosoftDocs/azure-docs articles/redis/overview.md
# @ 08e4e73e: Balanced 0.5-960 GB, Memory Optimized 12-1920 GB; "The Balanced B0 and B1 SKU
# options don't support active geo-replication"), each SKU's size as listed per SKU in
# lolodi/amr-migration-skill acr-to-amr/references/amr-sku-specs.md @ d77db35c (a third-party
# table that agrees with the overview's sizes).
_B_PRICES = (
    "Azure Retail Prices API, eastus2, per node-hour, fetched 2026-08-11 as quoted by a public research note "
    "the library could not attribute to a repository; B0 agrees with microsoft/simplechat#1438 "
    "(Balanced_B0 with high availability ~$23 a month in East US)"
)
MANAGED_REDIS_SKUS = {
    sku.name: sku
    for sku in (
        ManagedRedisSku("Balanced_B0", 0.5, 0.016, _B_PRICES, geo_replication=False),
        ManagedRedisSku("Balanced_B1", 1, 0.032, _B_PRICES, geo_replication=False),
        ManagedRedisSku("Balanced_B3", 3, 0.065, _B_PRICES),
        ManagedRedisSku("Balanced_B5", 6, 0.156, _B_PRICES),
        ManagedRedisSku(
            "MemoryOptimized_M10",
            12,
            0.308,
            "Azure Retail Prices API, westus2 (no East US figure found), per node-hour, as quoted by "
            "lolodi/amr-migration-skill references/pricing-tiers.md @ e5992e48 (February 2026)",
        ),
    )
}

# Azure Cache for Redis: monthly price of the whole cache (Standard is two nodes).
CACHE_FOR_REDIS_PRICES = {
    # microsoft/simplechat#1438 quotes ~$40 a month for Standard C0 with high availability in East US.
    "Standard_C0": (40.15, "previous price table; agrees with microsoft/simplechat#1438 (~$40 a month, East US)"),
    "Standard_C1": (100.74, "previous price table; its source was not recorded and the library has none to check it"),
}


@dataclass(frozen=True)
class AppServiceSku:
    name: str
    tier: str
    max_instances: int
    monthly_usd: float
    source: str


# Linux prices: "Increased Savings with App Service Offerings" (Azure/AppService blog,
# _posts/2021-03-08-increased-savings-with-app-service-offerings.md: Linux B1 ~$13.14, S1
# ~$69.35 a month, Central US, 2021-02-02). Maximum instances: Basic 3, Standard 10 (App
# Service limits, MicrosoftDocs/azure-docs includes/azure-websites-limits.md). Basic supports
# regional virtual network integration, which this deployment needs (microsoft/azure-skills,
# App Service networking reference).
APP_SERVICE_SKUS = {
    sku.name: sku
    for sku in (
        AppServiceSku("B1", "Basic", 3, 13.14, "Azure/AppService blog 2021-03-08, Linux, Central US"),
        AppServiceSku("S1", "Standard", 10, 69.35, "Azure/AppService blog 2021-03-08, Linux, Central US"),
    )
}

_PREVIOUS = "previous price table (East US); its source was not recorded and the library has none to check it"
# Other monthly prices: (USD, source).
PRICES = {
    "Standard_B1ms": (12.41, _PREVIOUS),
    "postgres_storage_gb": (0.115, _PREVIOUS),
    "private_endpoint": (7.30, _PREVIOUS),
    "private_dns_zone": (0.50, _PREVIOUS),
    "metric_alert": (0.10, _PREVIOUS),
    "log_analytics_gb": (2.76, _PREVIOUS),
    "front_door_standard": (35.00, _PREVIOUS),
    "global_peering_gb": (0.035, _PREVIOUS),
}
ASSUMED_LOG_GB_PER_MONTH = 2
ASSUMED_PEERING_GB_PER_MONTH = 10


def price(key: str) -> float:
    """The monthly price of ``key``; a missing one is refused, never taken as $0."""
    if key in PRICES:
        return PRICES[key][0]
    raise ProvisioningError(
        f"{key} has no price in provisioning/catalogue.py, so the cost estimate would be wrong. "
        "Add its price there, with where it comes from, or choose a priced option."
    )


def app_service_sku(name: str) -> AppServiceSku:
    if name not in APP_SERVICE_SKUS:
        raise ProvisioningError(
            f"App Service SKU {name!r} has no price in provisioning/catalogue.py. "
            f"Use one of {', '.join(APP_SERVICE_SKUS)}, or add its price there with its source."
        )
    return APP_SERVICE_SKUS[name]


def smallest_managed_redis(sessions: int, geo_replication: bool) -> ManagedRedisSku:
    """The cheapest priced Managed Redis SKU that holds ``sessions`` (and can geo-replicate if asked)."""
    fitting = [
        sku
        for sku in MANAGED_REDIS_SKUS.values()
        if sku.sessions_held >= sessions and (sku.geo_replication or not geo_replication)
    ]
    if not fitting:
        raise ProvisioningError(
            f"No priced Azure Managed Redis SKU holds {sessions:,} sessions of {SESSION_BYTES:,} bytes. "
            "Choose one with --redis-sku, and add its price to provisioning/catalogue.py."
        )
    return min(fitting, key=lambda sku: (sku.monthly_usd, sku.memory_gb))
