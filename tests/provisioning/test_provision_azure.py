"""provision_azure through the real Azure SDK clients against the fake Resource Manager."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from tests.provisioning.conftest import SUBSCRIPTION_ID, body_type, run, writes
from tests.provisioning.rest_examples import mismatches

# What the SDKs send (their default API versions), beside the versions of the examples in azure_facts/examples.json.
API_VERSIONS = {
    "microsoft.resources/resourcegroups": "2025-04-01",
    "microsoft.operationalinsights/workspaces": "2025-07-01",
    "microsoft.insights/components": "2020-02-02",
    "microsoft.network/virtualnetworks": "2026-03-01",
    "microsoft.network/privateendpoints": "2026-03-01",
    "microsoft.network/privateendpoints/privatednszonegroups": "2026-03-01",
    "microsoft.network/privatednszones": "2024-06-01",
    "microsoft.network/privatednszones/virtualnetworklinks": "2024-06-01",
    "microsoft.cache/redis": "2024-11-01",
    "microsoft.cache/redis/patchschedules": "2024-11-01",
    "microsoft.cache/redisenterprise": "2025-07-01",
    "microsoft.cache/redisenterprise/databases": "2025-07-01",
    "microsoft.dbforpostgresql/flexibleservers": "2026-10-01",
    "microsoft.dbforpostgresql/flexibleservers/databases": "2026-10-01",
    "microsoft.web/serverfarms": "2025-05-01",
    "microsoft.web/sites": "2025-05-01",
    "microsoft.web/sites/config": "2025-05-01",
    "microsoft.insights/actiongroups": "2023-01-01",
    "microsoft.insights/metricalerts": "2018-03-01",
    "microsoft.insights/diagnosticsettings": "2021-05-01-preview",
    "microsoft.network/virtualnetworks/virtualnetworkpeerings": "2026-03-01",
    "microsoft.cdn/profiles": "2026-10-01",
    "microsoft.cdn/profiles/afdendpoints": "2026-10-01",
    "microsoft.cdn/profiles/afdendpoints/routes": "2026-10-01",
    "microsoft.cdn/profiles/origingroups": "2026-10-01",
    "microsoft.cdn/profiles/origingroups/origins": "2026-10-01",
    "microsoft.keyvault/vaults": "2026-05-15",
    "microsoft.keyvault/vaults/secrets": "2026-05-15",
    # Reads before anything is made: the caller's permissions, where Redis is offered, what PostgreSQL offers.
    "microsoft.authorization/permissions": "2022-04-01",
    "microsoft.cache": "2025-04-01",
    "microsoft.dbforpostgresql/locations": "2026-10-01",
    "microsoft.authorization/roleassignments": "2022-04-01",
    "microsoft.cache/redisenterprise/databases/accesspolicyassignments": "2025-07-01",
    "microsoft.cache/redis/accesspolicyassignments": "2024-11-01",
}

MANAGED_ORDER = [
    "microsoft.resources/resourcegroups",
    "microsoft.operationalinsights/workspaces",
    "microsoft.insights/components",
    "microsoft.network/virtualnetworks",
    "microsoft.cache/redisenterprise",
    "microsoft.cache/redisenterprise/databases",
    # Redis's private DNS zone, its link to the network, the endpoint and its zone group
    "microsoft.network/privatednszones",
    "microsoft.network/privatednszones/virtualnetworklinks",
    "microsoft.network/privateendpoints",
    "microsoft.network/privateendpoints/privatednszonegroups",
    # PostgreSQL's private DNS zone and link, then the server
    "microsoft.network/privatednszones",
    "microsoft.network/privatednszones/virtualnetworklinks",
    "microsoft.dbforpostgresql/flexibleservers",
    "microsoft.dbforpostgresql/flexibleservers/databases",
    "microsoft.web/serverfarms",
    "microsoft.web/sites",
    "microsoft.keyvault/vaults",
    "microsoft.authorization/roleassignments",
    # Key Vault's private DNS zone, link, endpoint and zone group
    "microsoft.network/privatednszones",
    "microsoft.network/privatednszones/virtualnetworklinks",
    "microsoft.network/privateendpoints",
    "microsoft.network/privateendpoints/privatednszonegroups",
    "microsoft.keyvault/vaults/secrets",
    "microsoft.keyvault/vaults/secrets",
    "microsoft.keyvault/vaults/secrets",
    "microsoft.web/sites/config/appsettings",
    "microsoft.insights/actiongroups",
    "microsoft.insights/metricalerts",
    "microsoft.insights/metricalerts",
    "microsoft.insights/metricalerts",
    "microsoft.insights/diagnosticsettings",
    "microsoft.insights/diagnosticsettings",
    "microsoft.insights/diagnosticsettings",
]


def sent_bodies(arm, resource_type: str) -> list[dict]:
    return [r.body for r in writes(arm) if body_type(r) == resource_type and r.method in ("PUT", "PATCH")]


def test_provisioning_sends_bodies_shaped_like_microsofts_examples(arm, redis_product):
    run("provision_azure", "--redis-product", redis_product, "--alert-email", "ops@example.com")

    problems = [problem for r in writes(arm) for problem in mismatches(body_type(r), r.body)]

    assert problems == []
    checked = {body_type(r) for r in writes(arm)}
    assert len(checked) >= 17  # every kind of resource the run makes was checked


def test_every_request_uses_the_api_version_the_examples_are_filed_under(arm, redis_product):
    run("provision_azure", "--redis-product", redis_product)

    for request in arm.sent():
        assert request.query["api-version"] == API_VERSIONS[request.resource_type], request.path


def test_resources_are_made_in_the_recipes_order(arm):
    run("provision_azure")

    assert [body_type(r) for r in writes(arm)] == MANAGED_ORDER


def test_managed_redis_gets_enterprise_clustering_tls_and_no_public_access(arm):
    output = run("provision_azure")

    [cluster] = sent_bodies(arm, "microsoft.cache/redisenterprise")
    [database] = sent_bodies(arm, "microsoft.cache/redisenterprise/databases")
    assert cluster["sku"] == {"name": "Balanced_B0"}  # sized for the planned sessions (catalogue.py)
    assert cluster["properties"] == {"minimumTlsVersion": "1.2", "publicNetworkAccess": "Disabled"}
    assert database["properties"]["clusteringPolicy"] == "EnterpriseCluster"
    assert database["properties"]["evictionPolicy"] == "AllKeysLRU"
    assert database["properties"]["clientProtocol"] == "Encrypted"
    # The recipe's tunings that Managed Redis lacks are said, not pretended.
    assert "maxmemory-reserved and maxfragmentationmemory-reserved do not exist on Azure Managed Redis" in output
    assert "Patch schedules do not exist on Azure Managed Redis" in output
    groups = [
        endpoint["properties"]["privateLinkServiceConnections"][0]["properties"]["groupIds"]
        for endpoint in sent_bodies(arm, "microsoft.network/privateendpoints")
    ]
    assert groups == [["redisEnterprise"], ["vault"]]


def test_cache_for_redis_gets_the_recipes_memory_settings_and_patch_schedule(arm):
    run("provision_azure", "--redis-product", "cache")

    [cache] = sent_bodies(arm, "microsoft.cache/redis")
    assert cache["properties"]["sku"] == {"name": "Standard", "family": "C", "capacity": 1}
    assert cache["properties"]["enableNonSslPort"] is False
    assert cache["properties"]["minimumTlsVersion"] == "1.2"
    assert cache["properties"]["redisConfiguration"] == {
        "maxmemory-policy": "allkeys-lru",
        "maxmemory-reserved": "50",
        "maxfragmentationmemory-reserved": "50",
    }
    [schedule] = sent_bodies(arm, "microsoft.cache/redis/patchschedules")
    assert schedule["properties"]["scheduleEntries"] == [
        {"dayOfWeek": "Sunday", "startHourUtc": 2, "maintenanceWindow": "PT5H"}
    ]


def test_web_app_runs_python_under_gunicorn_behind_https_in_the_vnet(arm):
    run("provision_azure")

    [farm] = sent_bodies(arm, "microsoft.web/serverfarms")
    assert farm["sku"] == {"name": "B1", "tier": "Basic", "capacity": 2}
    assert farm["kind"] == "linux" and farm["properties"]["reserved"] is True
    [site] = sent_bodies(arm, "microsoft.web/sites")
    config = site["properties"]["siteConfig"]
    assert config["linuxFxVersion"] == "PYTHON|3.11"
    assert config["appCommandLine"].startswith("gunicorn --bind=0.0.0.0")
    assert "sessiondemo.wsgi:application" in config["appCommandLine"]
    assert config["minTlsVersion"] == "1.2" and config["ftpsState"] == "Disabled"
    assert config["alwaysOn"] is True and config["http20Enabled"] is True
    assert config["healthCheckPath"] == "/readyz" and config["vnetRouteAllEnabled"] is True
    assert site["properties"]["httpsOnly"] is True
    assert site["properties"]["virtualNetworkSubnetId"].endswith(
        "/virtualNetworks/vnet-sessiondemo-dev/subnets/snet-app"
    )
    assert site["identity"] == {"type": "SystemAssigned"}
    [network] = sent_bodies(arm, "microsoft.network/virtualnetworks")
    [app_subnet] = [s for s in network["properties"]["subnets"] if s["name"] == "snet-app"]
    assert app_subnet["properties"]["delegations"][0]["properties"]["serviceName"] == "Microsoft.Web/serverFarms"


def test_postgres_is_burstable_and_reachable_only_from_the_vnet(arm):
    run("provision_azure")

    [server] = sent_bodies(arm, "microsoft.dbforpostgresql/flexibleservers")
    assert server["sku"] == {"name": "Standard_B1ms", "tier": "Burstable"}
    assert server["properties"]["network"]["publicNetworkAccess"] == "Disabled"
    assert server["properties"]["network"]["delegatedSubnetResourceId"].endswith("/subnets/snet-postgres")


def test_app_settings_are_merged_and_secrets_are_never_printed(arm, settings):
    run("provision_azure", "--name-suffix", "abc123")
    site = f"/subscriptions/{SUBSCRIPTION_ID}/resourcegroups/rg-sessiondemo-dev/providers/microsoft.web/sites/app-sessiondemo-dev-abc123"
    arm.app_settings[site]["SOMEONE_ELSES_SETTING"] = "kept"
    arm.app_settings[site]["DEBUG"] = "1"  # drifted: put back

    output = run("provision_azure", "-v", "2")

    settings_now = arm.app_settings[site]
    assert settings_now["SOMEONE_ELSES_SETTING"] == "kept"
    assert settings_now["DEBUG"] == "0"
    assert (
        settings_now["REDIS_URL"]
        == "@Microsoft.KeyVault(SecretUri=https://kv-dev-abc123.vault.azure.net/secrets/redis-url/)"
    )
    redis_url = arm.secret_value("kv-dev-abc123", "redis-url")
    assert redis_url.startswith("rediss://:pk")
    assert redis_url.endswith("@redis-sessiondemo-dev-abc123.eastus.redis.azure.net:10000/0")
    assert settings_now["REDIS_CLUSTER"] == "0"
    assert (
        settings_now["DATABASE_URL"]
        == "@Microsoft.KeyVault(SecretUri=https://kv-dev-abc123.vault.azure.net/secrets/database-url/)"
    )
    database_url = arm.secret_value("kv-dev-abc123", "database-url")
    assert database_url.startswith("postgres://sessiondemo:")
    assert database_url.endswith(
        "@psql-sessiondemo-dev-abc123.postgres.database.azure.com:5432/sessiondemo?sslmode=require"
    )
    assert settings_now["ALLOWED_HOSTS"] == "app-sessiondemo-dev-abc123.azurewebsites.net"
    assert settings_now["CSRF_TRUSTED_ORIGINS"] == "https://app-sessiondemo-dev-abc123.azurewebsites.net"
    assert settings_now["APPLICATIONINSIGHTS_CONNECTION_STRING"].startswith("InstrumentationKey=")
    assert settings_now["SCM_DO_BUILD_DURING_DEPLOYMENT"] == "true"
    assert "APPINSIGHTS_INSTRUMENTATIONKEY" not in settings_now
    for secret in (arm.secret_value("kv-dev-abc123", "secret-key"), redis_url, database_url):
        assert secret not in output
    assert "settings changed: DEBUG" in output


def test_cache_for_redis_url_uses_the_tls_port(arm):
    run("provision_azure", "--redis-product", "cache", "--name-suffix", "abc123")

    assert arm.secret_value("kv-dev-abc123", "redis-url").endswith(
        "@redis-sessiondemo-dev-abc123.redis.cache.windows.net:6380/0"
    )


def test_oss_cluster_policy_tells_the_site_to_speak_cluster(arm):
    run("provision_azure", "--clustering-policy", "OSSCluster")

    [database] = sent_bodies(arm, "microsoft.cache/redisenterprise/databases")
    assert database["properties"]["clusteringPolicy"] == "OSSCluster"
    [update] = sent_bodies(arm, "microsoft.web/sites/config/appsettings")
    assert update["properties"]["REDIS_CLUSTER"] == "1"


# What each product's alerts watch: (aggregation, operator, threshold) per metric, in the
# metric names and aggregations Azure Monitor publishes for the resource type
# (azure_facts/metrics.json; the fake refuses any other).
ALERTS = {
    "managed": {
        # A rate a second on Managed Redis: the recipe's 100 misses in 5 minutes.
        "cachemisses": ("Average", "GreaterThan", 0.333),
        "serverLoad": ("Maximum", "GreaterThan", 80),
        "usedmemorypercentage": ("Maximum", "GreaterThan", 85),
    },
    "cache": {
        "cachemisses": ("Total", "GreaterThan", 100),
        "errors": ("Maximum", "GreaterThan", 10),
        "serverLoad": ("Maximum", "GreaterThan", 80),
        "usedmemorypercentage": ("Maximum", "GreaterThan", 85),
    },
}


def test_alerts_watch_each_products_own_metrics(arm, redis_product):
    run("provision_azure", "--redis-product", redis_product, "--alert-email", "ops@example.com")

    [group] = sent_bodies(arm, "microsoft.insights/actiongroups")
    assert group["properties"]["emailReceivers"][0]["emailAddress"] == "ops@example.com"
    namespace = {"managed": "Microsoft.Cache/redisEnterprise", "cache": "Microsoft.Cache/redis"}[redis_product]
    criteria = {
        body["properties"]["criteria"]["allOf"][0]["metricName"]: body["properties"]["criteria"]["allOf"][0]
        for body in sent_bodies(arm, "microsoft.insights/metricalerts")
    }
    assert {name: (c["timeAggregation"], c["operator"], c["threshold"]) for name, c in criteria.items()} == ALERTS[
        redis_product
    ]
    assert {c["metricNamespace"] for c in criteria.values()} == {namespace}
    assert arm.refused() == []
    for body in sent_bodies(arm, "microsoft.insights/metricalerts"):
        assert body["properties"]["windowSize"] == "PT5M"
        assert body["properties"]["description"]  # what firing means, in words
        assert body["properties"]["scopes"][0].endswith(
            f"/providers/{namespace}/redis-sessiondemo-dev-" + body["properties"]["scopes"][0][-6:]
        )


def test_managed_redis_alerts_say_what_they_mean_and_that_errors_has_no_equivalent(arm):
    output = run("provision_azure", "--dry-run")

    assert "HighCacheMissRate: More than 100 cache misses in 5 minutes (above 0.333 a second on average)." in output
    assert "RedisConnectionErrors" not in output.split("Alerts (")[1].split("Diagnostic settings")[0]
    assert "Azure Managed Redis publishes no errors metric" in output


def test_diagnostic_settings_send_what_each_resource_offers_to_the_workspace(arm, redis_product):
    run("provision_azure", "--redis-product", redis_product)

    settings_sent = {
        r.path.rsplit("/", 1)[1]: r for r in writes(arm) if r.resource_type == "microsoft.insights/diagnosticsettings"
    }
    redis = settings_sent["RedisSessionDiagnostics"]
    if redis_product == "managed":
        # Logs on the database, metrics on the cluster, as Azure Verified Modules' redis-enterprise sets them.
        assert "/databases/default/providers/" in redis.path
        assert redis.body["properties"] == {
            "workspaceId": redis.body["properties"]["workspaceId"],
            "logs": [{"category": "ConnectionEvents", "enabled": True}],
        }
        cluster = settings_sent["RedisClusterMetrics"]
        assert "/redisEnterprise/" in cluster.path and "/databases/" not in cluster.path
        assert cluster.body["properties"]["metrics"] == [{"category": "AllMetrics", "enabled": True}]
        assert "logs" not in cluster.body["properties"]
    else:
        assert "/Microsoft.Cache/redis/" in redis.path
        assert redis.body["properties"]["logs"] == [{"category": "ConnectedClientList", "enabled": True}]
        assert redis.body["properties"]["metrics"] == [{"category": "AllMetrics", "enabled": True}]
    web = settings_sent["WebAppDiagnostics"]
    assert [log["category"] for log in web.body["properties"]["logs"]] == [
        "AppServiceHTTPLogs",
        "AppServiceConsoleLogs",
    ]
    assert web.body["properties"]["workspaceId"].endswith(
        "/providers/Microsoft.OperationalInsights/workspaces/" + web.body["properties"]["workspaceId"].rsplit("/", 1)[1]
    )
    assert arm.refused() == []


def test_second_run_sends_no_create_and_reuses_the_names_in_the_state_file(provisioned, settings):
    state_before = json.loads(next(Path(settings.AZURE_STATE_DIR).glob("dev.json")).read_text())

    output = run("provision_azure")

    assert writes(provisioned) == []
    assert "0 changed" in output
    state_after = json.loads(next(Path(settings.AZURE_STATE_DIR).glob("dev.json")).read_text())
    assert state_after["name_suffix"] == state_before["name_suffix"]
    assert state_after["secret_key"] == state_before["secret_key"]


def test_state_file_is_private_to_its_owner(arm, settings):
    run("provision_azure")

    assert (Path(settings.AZURE_STATE_DIR) / "dev.json").stat().st_mode & 0o077 == 0


def test_scale_out_with_three_instances_sends_only_a_plan_update(provisioned):
    output = run("provision_azure", "--instances", "3")

    [update] = writes(provisioned)
    assert update.resource_type == "microsoft.web/serverfarms"
    assert update.body["sku"]["capacity"] == 3
    assert "App Service plan" in output and "updated" in output
    # The new count is kept: a later run without --instances does not scale back in.
    provisioned.requests.clear()
    run("provision_azure")
    assert writes(provisioned) == []


def test_dry_run_sends_no_request_and_prints_every_resource_and_the_cost_table(arm):
    output = run("provision_azure", "--dry-run", "--redis-product", "cache", "--instances", "3")

    assert arm.requests == []
    assert "Azure Cache for Redis: redis-sessiondemo-dev-" in output
    assert "properties.redisConfiguration.maxmemory-reserved = 50" in output
    assert "properties.siteConfig.linuxFxVersion = PYTHON|3.11" in output
    assert "sku.capacity = 3" in output
    assert "Monthly cost estimate" in output
    assert re.search(r"App Service plan \(Linux\) +B1 +3 +13\.14 +39\.42", output)
    assert "Total (estimate)" in output
    assert "nothing was sent" in output
    assert "<generated once, kept in the state file>" in output  # never a real password


def test_dry_run_changes_nothing_a_later_run_does(arm):
    run("provision_azure", "--dry-run", "--redis-product", "cache", "--web-sku", "S1", "--instances", "5")

    run("provision_azure")

    assert [r.body["sku"] for r in writes(arm) if r.resource_type == "microsoft.web/serverfarms"] == [
        {"name": "B1", "tier": "Basic", "capacity": 2}
    ]
    assert [r for r in writes(arm) if r.resource_type == "microsoft.cache/redis"] == []


def test_dry_run_json_output_is_one_document_for_scripts(arm):
    output = run("provision_azure", "--dry-run", "--output", "json")

    document = json.loads(output)
    assert arm.requests == []
    assert document["plan"]["redis"]["sku"] == "Balanced_B0"
    assert "holds about" in document["plan"]["redis_sizing"]
    assert document["plan"]["monthly_total_usd"] > 0
    assert [r["type"] for r in document["resources"]][0] == "Microsoft.Resources/resourceGroups"


def test_json_output_of_a_real_run_lists_each_step(arm):
    document = json.loads(run("provision_azure", "--output", "json"))

    outcomes = {step["title"]: step["outcome"] for step in document["steps"]}
    assert outcomes["Resource group"] == "created" and outcomes["App settings"] == "created"
    assert document["site_url"].startswith("https://app-sessiondemo-dev-")


def test_export_template_writes_an_arm_template_of_the_same_plan(arm, tmp_path):
    path = tmp_path / "sessiondemo.json"

    run("provision_azure", "--dry-run", "--export-template", str(path))

    template = json.loads(path.read_text())
    assert arm.requests == []
    types = [resource["type"] for resource in template["resources"]]
    assert "Microsoft.Cache/redisEnterprise" in types and "Microsoft.Web/sites" in types
    assert types[-1] == "Microsoft.Web/sites/config"
    assert template["parameters"]["databasePassword"]["type"] == "securestring"
    server = next(r for r in template["resources"] if r["type"] == "Microsoft.DBforPostgreSQL/flexibleServers")
    assert server["properties"]["administratorLoginPassword"] == "[parameters('databasePassword')]"
    diagnostics = [r for r in template["resources"] if r["type"] == "Microsoft.Insights/diagnosticSettings"]
    assert all("scope" in r for r in diagnostics)
    assert template["resources"][-1]["properties"]["REDIS_URL"].startswith("[concat('@Microsoft.KeyVault(SecretUri=")
    [redis_url] = [r for r in template["resources"] if r["name"].endswith("/redis-url")]
    assert "listKeys(" in redis_url["properties"]["value"]


def test_verbosity_zero_prints_only_the_final_line(arm):
    output = run("provision_azure", verbosity=0)

    assert output.strip().count("\n") == 0
    assert "is provisioned" in output


def test_deploy_zips_the_project_without_venv_tests_or_caches_and_waits_for_readyz(arm):
    import io
    import zipfile

    output = run("provision_azure", "--deploy", "--name-suffix", "abc123")

    names = zipfile.ZipFile(io.BytesIO(arm.deployments["app-sessiondemo-dev-abc123"])).namelist()
    assert "manage.py" in names and "provisioning/plan.py" in names
    assert not [
        n for n in names if n.startswith((".venv/", "tests/", "var/", ".git/", ".azure/")) or "__pycache__" in n
    ]
    assert ".env" not in names
    kudu = [r for r in arm.requests if r.path.endswith("/api/zipdeploy")]
    assert kudu[0].headers["authorization"].startswith("Bearer ")
    assert "/readyz answered 200" in output


def test_deploy_gives_up_with_a_sentence_when_the_site_never_gets_ready(arm):
    arm.unhealthy_sites.add("app-sessiondemo-dev-abc123")

    with pytest.raises(CommandError, match=r"The site did not become ready: .*/readyz last answered 503"):
        run("provision_azure", "--deploy", "--name-suffix", "abc123")


def test_a_drifted_cache_setting_is_put_back_with_a_patch(arm):
    run("provision_azure", "--redis-product", "cache", "--name-suffix", "abc123")
    cache = arm.get(
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-sessiondemo-dev/providers/Microsoft.Cache/redis/redis-sessiondemo-dev-abc123"
    )
    cache["properties"]["redisConfiguration"]["maxmemory-policy"] = "volatile-lru"
    arm.requests.clear()

    run("provision_azure")

    [patch] = writes(arm)
    assert patch.method == "PATCH" and patch.resource_type == "microsoft.cache/redis"
    assert patch.body["properties"]["redisConfiguration"]["maxmemory-policy"] == "allkeys-lru"
    assert mismatches("microsoft.cache/redis", patch.body) == []
