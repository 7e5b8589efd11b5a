"""What provision_azure checks before it sends anything, what the default costs and why, and how it changes what exists."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from provisioning import catalogue
from provisioning.redis_products import REDIS_PRODUCTS
from tests.provisioning.conftest import SUBSCRIPTION_ID, run, writes

GROUP = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-sessiondemo-dev"
README = Path(__file__).resolve().parents[2] / "README.md"


def refusal(*args: str) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(CommandError) as failure:
        run("provision_azure", *args)
    return str(failure.value), time.monotonic() - started


# --- inputs --------------------------------------------------------------------------
def test_the_recipes_m10_is_refused_in_under_a_second_with_the_names_to_use(arm):
    message, took = refusal("--redis-sku", "M10", "--dry-run")

    assert message == (
        "'M10' is not a SKU name the Azure Managed Redis API (2025-07-01) accepts: use MemoryOptimized_M10 or, "
        "for a session store this size, Balanced_B0."
    )
    assert took < 1.0
    assert arm.requests == []


def test_an_environment_name_that_breaks_naming_rules_names_every_rule_broken(arm):
    message, took = refusal("--environment", "a--", "--dry-run", "--name-suffix", "abc123")

    assert message.startswith("Azure would refuse these names: ")
    assert "Azure Managed Redis name 'redis-sessiondemo-a---abc123' has consecutive hyphens" in message
    assert "Key Vault name 'kv-a---abc123' has consecutive hyphens" in message
    assert "(Key Vault names: 3-24 letters, digits and hyphens, no two hyphens in a row)" in message
    assert message.endswith("short enough for every name.")
    assert took < 1.0
    assert arm.requests == []


def test_a_name_suffix_too_long_for_the_vault_is_refused_before_anything_is_sent(arm):
    message, _ = refusal("--environment", "production12", "--name-suffix", "abcdefghij", "--dry-run")

    assert "Key Vault name 'kv-production12-abcdefghij' is 26 characters long, not 3-24" in message


def test_a_valid_but_unpriced_sku_is_refused_instead_of_priced_at_nothing(arm):
    message, _ = refusal("--redis-sku", "Balanced_B10", "--dry-run")

    assert message.startswith("Azure Managed Redis Balanced_B10 has no price in provisioning/catalogue.py")
    assert arm.requests == []


def test_a_sku_that_cannot_geo_replicate_is_refused_for_two_regions(arm):
    message, _ = refusal("--regions", "eastus,westeurope", "--redis-sku", "Balanced_B1", "--dry-run")

    assert message == (
        "Azure Managed Redis Balanced_B1 does not support active geo-replication, which --regions needs. "
        "Use Balanced_B3 or larger."
    )


def test_a_cache_sku_is_checked_against_the_cache_api(arm):
    message, _ = refusal("--redis-product", "cache", "--redis-sku", "Balanced_B0", "--dry-run")

    assert "Memory Optimized and Balanced SKUs are Azure Managed Redis: drop --redis-product cache." in message


def test_more_instances_than_the_web_sku_runs_are_refused(arm):
    message, _ = refusal("--instances", "4", "--dry-run")

    assert (
        message
        == "App Service Basic (B1) runs at most 3 instances, not 4. Choose --web-sku S1 (up to 10), or fewer --instances."
    )


def test_no_line_of_any_plan_is_priced_at_nothing(arm):
    for args in (
        (),
        ("--redis-product", "cache"),
        ("--regions", "eastus,westeurope"),
        ("--redis-sku", "MemoryOptimized_M10", "--web-sku", "S1"),
    ):
        output = run("provision_azure", "--dry-run", *args)
        table = output.split("Monthly cost estimate")[1]
        prices = [float(m) for m in re.findall(r"  (\d+\.\d\d)  +\d+\.\d\d\n", table)]
        assert prices and all(price > 0 for price in prices), args
    for product in REDIS_PRODUCTS.values():
        priced = catalogue.MANAGED_REDIS_SKUS if product.key == "managed" else catalogue.CACHE_FOR_REDIS_PRICES
        assert all(product.monthly_usd(sku) > 0 for sku in priced)


# --- the default, sized and priced ----------------------------------------------------------
def test_the_default_is_the_cheapest_sku_that_holds_the_planned_sessions(arm):
    output = run("provision_azure", "--dry-run")

    sizing = output.split("Redis size: ")[1].splitlines()[0]
    b0 = catalogue.MANAGED_REDIS_SKUS["Balanced_B0"]
    assert b0.sessions_held >= catalogue.PLANNED_LIVE_SESSIONS
    assert sizing.startswith(
        f"Balanced_B0 (0.5 GB) holds about {b0.sessions_held:,} sessions of {catalogue.SESSION_BYTES:,} bytes "
        "(manage.py bench_sessions"
    )
    assert "below 75% of its memory; the plan assumes 100,000 live sessions" in sizing
    assert "MemoryOptimized_M10" in sizing  # one option away
    assert re.search(r"Azure Managed Redis +Balanced_B0 +1 +23\.36 +23\.36", output)


def test_the_default_plan_costs_what_the_readme_says(arm):
    output = run("provision_azure", "--dry-run")

    total = re.search(r"Total \(estimate\) +(\d+\.\d\d)", output).group(1)
    assert 75 <= float(total) <= 100  # the recipe's range
    azure_sections = README.read_text().split("## Deploying to Azure", 1)[1]
    assert f"${total}" in azure_sections
    assert f"{catalogue.SESSION_BYTES:,} bytes" in azure_sections


# --- retirement of Azure Cache for Redis ------------------------------------------------------
def test_the_retirement_of_azure_cache_for_redis_is_said_in_the_plan_the_run_and_the_readme(arm):
    dry = run("provision_azure", "--dry-run", "--redis-product", "cache")
    real = run("provision_azure", "--redis-product", "cache")

    for output in (dry, real):
        assert "Azure Cache for Redis is being retired: Basic, Standard and Premium on 2028-09-30" in output
        assert "cannot create one" in output
    assert "retired" not in run("provision_azure", "--dry-run", "--environment", "other")
    assert "2028-09-30" in README.read_text().split("## Deploying to Azure", 1)[1]


# --- region checks -----------------------------------------------------------------------------
def test_a_region_without_managed_redis_fails_in_seconds_before_anything_is_made(arm):
    arm.withheld_locations["microsoft.cache/redisenterprise"] = {"westeurope"}

    message, took = refusal("--regions", "eastus,westeurope")

    assert message.startswith(
        "Azure would refuse this deployment: Azure Managed Redis (Microsoft.Cache/redisEnterprise) is not offered in "
        "westeurope. Nothing was created."
    )
    assert writes(arm) == []
    assert took < 5.0


def test_a_region_restricted_for_postgresql_says_azures_reason(arm):
    arm.restricted_postgres_locations.add("eastus")

    message, _ = refusal()

    assert (
        "PostgreSQL flexible server cannot be created in eastus: Provisioning is restricted in this region." in message
    )
    assert writes(arm) == []


# --- changes to what exists ---------------------------------------------------------------------
def test_a_changed_managed_redis_setting_is_sent_as_a_patch_never_a_put(arm):
    run("provision_azure", "--name-suffix", "abc123")
    arm.requests.clear()

    output = run("provision_azure", "--redis-sku", "Balanced_B1")

    redis_writes = [r for r in writes(arm) if r.resource_type.startswith("microsoft.cache/redisenterprise")]
    assert [(r.method, r.resource_type) for r in redis_writes] == [("PATCH", "microsoft.cache/redisenterprise")]
    assert redis_writes[0].body == {
        "sku": {"name": "Balanced_B1"},
        "tags": {"purpose": "session-demo", "environment": "dev"},
        "properties": {"minimumTlsVersion": "1.2", "publicNetworkAccess": "Disabled"},
    }
    assert arm.refused() == []
    assert "Azure Managed Redis" in output and "updated" in output


def test_a_clustering_policy_only_a_new_database_can_have_is_refused_without_a_write(arm):
    run("provision_azure", "--name-suffix", "abc123")
    arm.requests.clear()

    with pytest.raises(CommandError) as failure:
        run("provision_azure", "--clustering-policy", "OSSCluster")

    assert str(failure.value).startswith(
        "Azure Managed Redis database redis-sessiondemo-dev-abc123/default has clusteringPolicy 'EnterpriseCluster', "
        "which only a new database can change"
    )
    assert not [r for r in writes(arm) if r.resource_type.startswith("microsoft.cache/")]


def test_a_geo_replicated_database_switched_to_entra_keeps_its_create_only_group(arm):
    run("provision_azure", "--regions", "eastus,westeurope", "--name-suffix", "abc123")
    arm.requests.clear()

    run("provision_azure", "--redis-auth", "entra")

    databases = [r for r in writes(arm) if r.resource_type == "microsoft.cache/redisenterprise/databases"]
    assert [r.method for r in databases] == ["PATCH", "PATCH"]
    assert all("geoReplication" not in r.body["properties"] and "port" not in r.body["properties"] for r in databases)
    assert all(r.body["properties"]["accessKeysAuthentication"] == "Disabled" for r in databases)
    assert arm.refused() == []
