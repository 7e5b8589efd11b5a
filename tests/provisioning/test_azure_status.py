"""azure_status: the recipe's validation steps against a deployment in the fake Resource Manager."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management.base import CommandError

from tests.provisioning.conftest import run, writes


def table_rows(output: str) -> dict[str, tuple[str, str]]:
    """``{check: (result, detail)}`` from the status table."""
    rows = {}
    for line in output.splitlines()[2:]:
        parts = re.split(r"\s{2,}", line.strip(), maxsplit=2)
        if len(parts) == 3:
            rows[parts[0]] = (parts[1], parts[2])
    return rows


ALL_ALERTS = ("HighCacheMissRate", "RedisConnectionErrors", "HighServerLoad", "HighMemoryUsage")


def test_a_healthy_deployment_passes_every_recipe_check(provisioned, redis_product):
    output = run("azure_status")

    rows = table_rows(output)
    assert {result for result, _ in rows.values()} == {"ok"}
    assert rows["Redis provisioning state"][1].endswith(": Succeeded")
    assert rows["Redis TLS port"][1].startswith({"managed": "10000", "cache": "6380"}[redis_product])
    assert rows["Redis host name"][1].endswith(
        {"managed": ".eastus.redis.azure.net", "cache": ".redis.cache.windows.net"}[redis_product]
    )
    assert rows["Web app state"][1].endswith(": Running")
    assert rows["Web app URL"][1].startswith("https://app-sessiondemo-dev-")
    assert rows["Web app workers"][1] == "2 (planned 2)"
    alerts = {"managed": ("HighCacheMissRate", "HighServerLoad", "HighMemoryUsage"), "cache": ALL_ALERTS}
    for alert in alerts[redis_product]:
        assert rows[f"Alert {alert}"] == ("ok", "enabled")
    assert (
        rows["Diagnostics RedisSessionDiagnostics"][1]
        == {"managed": "ConnectionEvents", "cache": "AllMetrics, ConnectedClientList"}[redis_product]
    )
    if redis_product == "managed":
        assert rows["Diagnostics RedisClusterMetrics"][1] == "AllMetrics"
    assert rows["Diagnostics WebAppDiagnostics"][1] == "AllMetrics, AppServiceConsoleLogs, AppServiceHTTPLogs"
    assert rows["Site /readyz"][1].endswith("/readyz: 200")
    assert rows["Redis authentication"][1] == "access keys (planned password)"
    assert rows["Key Vault"][1].endswith(": Succeeded")
    assert rows["Key Vault mode"][1].startswith("Azure RBAC (Key Vault Secrets User) (you may assign roles")
    assert rows["Key Vault network"][1].startswith("public network access Disabled; private endpoint pe-kv-dev-")
    assert rows["Key Vault network"][1].endswith(": Approved")
    assert rows["PostgreSQL network"][1] == "public network access Disabled; in subnet snet-postgres"
    for setting in ("REDIS_URL", "SECRET_KEY", "DATABASE_URL"):
        assert rows[f"Key Vault reference {setting}"] == ("ok", "Resolved")
    assert "All 21 checks passed" in output
    assert writes(provisioned) == []  # checking changes nothing


def test_a_broken_deployment_fails_with_a_sentence_naming_the_failed_checks(provisioned):
    site = next(i for i in provisioned.ids() if i.endswith("/providers/Microsoft.Web/sites/" + i.rsplit("/", 1)[1]))
    provisioned.unhealthy_sites.add(site.rsplit("/", 1)[1])
    alert = next(i for i in provisioned.ids() if i.endswith("/metricAlerts/HighServerLoad"))
    provisioned.delete(alert)

    with pytest.raises(CommandError) as failure:
        run("azure_status")

    message = str(failure.value)
    assert message.startswith("2 of 21 checks failed for environment dev (Alert HighServerLoad, Site /readyz).")
    assert "provision_azure --environment dev" in message


def test_a_redis_left_failed_fails_the_provisioning_state_check(provisioned, redis_product):
    redis = next(i for i in provisioned.ids() if i.rsplit("/", 2)[-2] in ("redisEnterprise", "redis"))
    provisioned.get(redis)["properties"]["provisioningState"] = "Failed"

    with pytest.raises(CommandError, match="Redis provisioning state"):
        run("azure_status")


def test_json_output_lists_each_check(provisioned):
    document = json.loads(run("azure_status", "--output", "json"))

    assert document["healthy"] is True
    assert {check["check"] for check in document["checks"]} >= {"Redis TLS port", "Web app URL", "Site /readyz"}


def test_status_without_a_deployment_says_to_provision_first(arm):
    with pytest.raises(
        CommandError,
        match=r"No deployment is recorded for environment 'staging'.*provision_azure --environment staging",
    ):
        run("azure_status", "--environment", "staging")
    assert arm.requests == []
