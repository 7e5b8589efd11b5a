"""The two Redis products as plain data: one interface, one implementation each.

Everything the plan needs to know about a product lives here: its resource type and
endpoints, the SKUs it may use and what they cost and hold, what the deployment watches on
it, and what the recipe asks for that it cannot do. Nothing here talks to Azure.
"""

from __future__ import annotations

import difflib
from typing import Literal

from provisioning import catalogue
from provisioning.alerting import AlertRule, DiagnosticPlan
from provisioning.errors import ProvisioningError

RedisProduct = Literal["managed", "cache"]

# The recipe's two alerts (HighCacheMissRate: "avg cachemisses > 100", RedisConnectionErrors:
# "total errors > 10", both over 5 minutes) and two of its own, per product, in the metric
# names and aggregations Azure Monitor lists for each resource type (kept with their source in
# tests/provisioning/azure_facts/metrics.json, which the fake checks them against).
RECIPE_MISSES = 100
RECIPE_WINDOW_SECONDS = 300


class ManagedRedis:
    key: RedisProduct = "managed"
    display_name = "Azure Managed Redis"
    resource_type = "Microsoft.Cache/redisEnterprise"
    private_link_group = "redisEnterprise"
    private_dns_zone = "privatelink.redis.azure.net"
    tls_port = 10000
    name_rule = "Azure Managed Redis"
    # The Python SDK's SkuName is generated from the 2025-07-01 specification the fake's facts come from.
    api_version = "2025-07-01"

    def accepted_skus(self) -> list[str]:
        from azure.mgmt.redisenterprise.models import SkuName

        return [sku.value for sku in SkuName]

    def default_sku(self, regions: int) -> str:
        return catalogue.smallest_managed_redis(catalogue.PLANNED_LIVE_SESSIONS, regions > 1).name

    def check_sku(self, sku: str, regions: int) -> None:
        accepted = self.accepted_skus()
        if sku not in accepted:
            suggestion = next((name for name in accepted if name.endswith(f"_{sku}")), None)
            close = suggestion or ", ".join(difflib.get_close_matches(sku, accepted, n=2)) or "MemoryOptimized_M10"
            raise ProvisioningError(
                f"{sku!r} is not a SKU name the Azure Managed Redis API ({self.api_version}) accepts: "
                f"use {close} or, for a session store this size, {self.default_sku(regions)}."
            )
        priced = catalogue.MANAGED_REDIS_SKUS.get(sku)
        if priced is None:
            raise ProvisioningError(
                f"Azure Managed Redis {sku} has no price in provisioning/catalogue.py, so the cost estimate would "
                f"be wrong. Use one of {', '.join(catalogue.MANAGED_REDIS_SKUS)}, or add its price there with its source."
            )
        if regions > 1 and not priced.geo_replication:
            raise ProvisioningError(
                f"Azure Managed Redis {sku} does not support active geo-replication, which --regions needs. "
                f"Use {self.default_sku(regions)} or larger."
            )

    def monthly_usd(self, sku: str) -> float:
        return catalogue.MANAGED_REDIS_SKUS[sku].monthly_usd

    def sizing(self, sku: str) -> str:
        chosen = catalogue.MANAGED_REDIS_SKUS[sku]
        text = (
            f"{sku} ({chosen.memory_gb:g} GB) holds about {chosen.sessions_held:,} sessions of "
            f"{catalogue.SESSION_BYTES:,} bytes ({catalogue.SESSION_BYTES_SOURCE}) below "
            f"{catalogue.USABLE_MEMORY_FRACTION:.0%} of its memory; the plan assumes "
            f"{catalogue.PLANNED_LIVE_SESSIONS:,} live sessions. ${chosen.monthly_usd:.2f} a month with high "
            f"availability (two nodes)."
        )
        larger = "MemoryOptimized_M10"
        if sku != larger:
            option = catalogue.MANAGED_REDIS_SKUS[larger]
            text += (
                f" {larger} ({option.memory_gb:g} GB, about {option.sessions_held:,} sessions) is --redis-sku {larger}."
            )
        return text

    def alerts(self) -> tuple[AlertRule, ...]:
        # Managed Redis reports misses as a rate a second (Average): the recipe's 100 in 5 minutes.
        rate = round(RECIPE_MISSES / RECIPE_WINDOW_SECONDS, 3)
        return (
            AlertRule(
                "HighCacheMissRate",
                f"More than {RECIPE_MISSES} cache misses in 5 minutes (above {rate} a second on average).",
                "cachemisses",
                "Average",
                rate,
            ),
            AlertRule(
                "HighServerLoad", "Redis server load above 80% at any moment in 5 minutes.", "serverLoad", "Maximum", 80
            ),
            AlertRule("HighMemoryUsage", "Redis memory more than 85% used.", "usedmemorypercentage", "Maximum", 85),
        )

    def missing_alerts(self) -> list[str]:
        return [
            "Azure Managed Redis publishes no errors metric (Azure Monitor, supported metrics for "
            "Microsoft.Cache/redisEnterprise, 2026), so the recipe's RedisConnectionErrors alert has no equivalent "
            "here; the site reports Redis failures itself, as 503s on /readyz and in Application Insights."
        ]

    def diagnostics(self, passwordless: bool) -> tuple[DiagnosticPlan, ...]:
        # Metrics on the cluster, logs on the database: what each offers, as Azure Verified
        # Modules' redis-enterprise module sets them.
        return (
            DiagnosticPlan("RedisClusterMetrics", "redis", metric_categories=("AllMetrics",)),
            DiagnosticPlan("RedisSessionDiagnostics", "redis_database", log_categories=("ConnectionEvents",)),
        )

    def unsupported_tunings(self) -> list[str]:
        return [
            "maxmemory-reserved and maxfragmentationmemory-reserved do not exist on Azure Managed Redis; "
            "memory reservation is managed by the service.",
            "Patch schedules do not exist on Azure Managed Redis; the service patches itself "
            "(deferUpgrade is its only control).",
        ]

    def notices(self) -> list[str]:
        return []


class CacheForRedis:
    key: RedisProduct = "cache"
    display_name = "Azure Cache for Redis"
    resource_type = "Microsoft.Cache/redis"
    private_link_group = "redisCache"
    private_dns_zone = "privatelink.redis.cache.windows.net"
    tls_port = 6380
    name_rule = "Azure Cache for Redis"
    api_version = "2024-11-01"
    default = "Standard_C1"

    def accepted_skus(self) -> list[str]:
        from azure.mgmt.redis.models import SkuFamily, SkuName

        # Capacities: the specification's Sku.capacity (C 0-6, P 1-4); the SDK has no enum for them.
        capacities = {"C": range(7), "P": range(1, 5)}
        return [
            f"{name.value}_{family.value}{size}"
            for name in SkuName
            for family in SkuFamily
            if (family.value == "P") == (name.value == "Premium")
            for size in capacities[family.value]
        ]

    def default_sku(self, regions: int) -> str:
        return self.default

    def check_sku(self, sku: str, regions: int) -> None:
        accepted = self.accepted_skus()
        if sku not in accepted:
            close = ", ".join(difflib.get_close_matches(sku, accepted, n=2)) or self.default
            raise ProvisioningError(
                f"{sku!r} is not a SKU Azure Cache for Redis ({self.api_version}) accepts: it takes "
                f"Basic_C0-C6, Standard_C0-C6 and Premium_P1-P4 (try {close}). Memory Optimized and Balanced SKUs "
                "are Azure Managed Redis: drop --redis-product cache."
            )
        if sku not in catalogue.CACHE_FOR_REDIS_PRICES:
            raise ProvisioningError(
                f"Azure Cache for Redis {sku} has no price in provisioning/catalogue.py, so the cost estimate would "
                f"be wrong. Use one of {', '.join(catalogue.CACHE_FOR_REDIS_PRICES)}, or add its price there with its source."
            )

    def monthly_usd(self, sku: str) -> float:
        return catalogue.CACHE_FOR_REDIS_PRICES[sku][0]

    def sizing(self, sku: str) -> str:
        return f"{sku}: the recipe's Azure Cache for Redis size; ${self.monthly_usd(sku):.2f} a month (two nodes)."

    def alerts(self) -> tuple[AlertRule, ...]:
        return (
            AlertRule(
                "HighCacheMissRate",
                f"More than {RECIPE_MISSES} cache misses in 5 minutes.",
                "cachemisses",
                "Total",
                RECIPE_MISSES,
            ),
            # errors is a count a minute, published with the Maximum aggregation only.
            AlertRule(
                "RedisConnectionErrors",
                "More than 10 Redis errors (failover, data loss, unresponsive clients...) in one minute, within 5 minutes.",
                "errors",
                "Maximum",
                10,
            ),
            AlertRule(
                "HighServerLoad", "Redis server load above 80% at any moment in 5 minutes.", "serverLoad", "Maximum", 80
            ),
            AlertRule("HighMemoryUsage", "Redis memory more than 85% used.", "usedmemorypercentage", "Maximum", 85),
        )

    def missing_alerts(self) -> list[str]:
        return []

    def diagnostics(self, passwordless: bool) -> tuple[DiagnosticPlan, ...]:
        logs = ("ConnectedClientList", "MSEntraAuthenticationAuditLog") if passwordless else ("ConnectedClientList",)
        return (
            DiagnosticPlan("RedisSessionDiagnostics", "redis", log_categories=logs, metric_categories=("AllMetrics",)),
        )

    def unsupported_tunings(self) -> list[str]:
        return [
            "Clustering policy and client protocol are Azure Managed Redis settings; Azure Cache for Redis "
            "Standard is one primary and one replica, reached over TLS on port 6380.",
        ]

    def notices(self) -> list[str]:
        # "What's New in Azure Cache for Redis" (aka.ms/AzureCacheForRedisRetirement), as read
        # through the library 2026-12-02: retirement of every SKU announced October 2025.
        return [
            "Azure Cache for Redis is being retired: Basic, Standard and Premium on 2028-09-30 (Enterprise tiers "
            "2027-03-31). A tenant that had no Azure Cache for Redis before 2026-04-01 cannot create one. "
            "Use Azure Managed Redis (the default, --redis-product managed) for anything new."
        ]


REDIS_PRODUCTS: dict[str, ManagedRedis | CacheForRedis] = {"managed": ManagedRedis(), "cache": CacheForRedis()}
