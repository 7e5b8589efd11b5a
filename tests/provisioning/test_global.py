"""Going global (issue 8): two regions behind Front Door, Managed Redis joined by active geo-replication."""

from __future__ import annotations

import re

import pytest
from django.core.management.base import CommandError

from tests.provisioning.conftest import SUBSCRIPTION_ID, body_type, run, writes
from tests.provisioning.rest_examples import mismatches, response_problems

REGIONS = "eastus,westeurope"
GROUP = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-sessiondemo-dev"


@pytest.fixture
def global_deployment(arm):
    run("provision_azure", "--regions", REGIONS, "--name-suffix", "abc123", "--alert-email", "ops@example.com")
    return arm


def bodies(arm, resource_type: str) -> list[dict]:
    return [r.body for r in writes(arm) if body_type(r) == resource_type and r.method == "PUT"]


def test_two_regions_send_bodies_shaped_like_microsofts_examples(global_deployment):
    problems = [p for r in writes(global_deployment) for p in mismatches(body_type(r), r.body)]

    assert problems == []
    kinds = {body_type(r) for r in writes(global_deployment)}
    assert {
        "microsoft.cdn/profiles",
        "microsoft.cdn/profiles/afdendpoints",
        "microsoft.cdn/profiles/origingroups",
        "microsoft.cdn/profiles/origingroups/origins",
        "microsoft.cdn/profiles/afdendpoints/routes",
    } <= kinds


def test_the_fake_answers_a_global_deployment_in_the_shapes_of_the_examples(global_deployment):
    assert response_problems(global_deployment.resources) == []


def test_peerings_without_a_stored_example_carry_only_the_properties_the_api_defines(global_deployment):
    for body in bodies(global_deployment, "microsoft.network/virtualnetworks/virtualnetworkpeerings"):
        assert set(body) == {"properties"}
        assert set(body["properties"]) == {
            "remoteVirtualNetwork",
            "allowVirtualNetworkAccess",
            "allowForwardedTraffic",
            "useRemoteGateways",
        }


def test_export_template_covers_every_region_and_the_front_door(arm, tmp_path):
    import json

    path = tmp_path / "global.json"
    run("provision_azure", "--dry-run", "--regions", REGIONS, "--export-template", str(path))

    template = json.loads(path.read_text())
    settings = [r for r in template["resources"] if r["name"].endswith("/appsettings")]
    assert [r["name"].split("/")[0].endswith("-westeurope") for r in settings] == [False, True]
    assert "afdEndpoints" in settings[1]["properties"]["ALLOWED_HOSTS"]
    assert "Microsoft.Cdn/profiles/afdEndpoints/routes" in [r["type"] for r in template["resources"]]


def test_each_region_gets_its_own_network_redis_and_web_app(global_deployment):
    clusters = bodies(global_deployment, "microsoft.cache/redisenterprise")
    assert [c["location"] for c in clusters] == ["eastus", "westeurope"]
    # The smallest priced SKU that holds the sessions and can geo-replicate (B0 and B1 cannot).
    assert {c["sku"]["name"] for c in clusters} == {"Balanced_B3"}
    networks = bodies(global_deployment, "microsoft.network/virtualnetworks")
    assert [n["properties"]["addressSpace"]["addressPrefixes"] for n in networks] == [["10.0.0.0/16"], ["10.1.0.0/16"]]
    sites = bodies(global_deployment, "microsoft.web/sites")
    assert [s["location"] for s in sites] == ["eastus", "westeurope"]
    assert sites[1]["properties"]["virtualNetworkSubnetId"].endswith(
        "/virtualNetworks/vnet-sessiondemo-dev-westeurope/subnets/snet-app"
    )
    # PostgreSQL stays in the primary region; the other network is peered to reach it.
    assert [s["location"] for s in bodies(global_deployment, "microsoft.dbforpostgresql/flexibleservers")] == ["eastus"]
    peerings = bodies(global_deployment, "microsoft.network/virtualnetworks/virtualnetworkpeerings")
    assert sorted(p["properties"]["remoteVirtualNetwork"]["id"].rsplit("/", 1)[1] for p in peerings) == [
        "vnet-sessiondemo-dev",
        "vnet-sessiondemo-dev-westeurope",
    ]


def test_redis_databases_join_one_geo_replication_group_with_the_same_settings(global_deployment):
    databases = bodies(global_deployment, "microsoft.cache/redisenterprise/databases")

    assert {d["properties"]["geoReplication"]["groupNickname"] for d in databases} == {"sessiondemo-dev"}
    assert [len(d["properties"]["geoReplication"]["linkedDatabases"]) for d in databases] == [1, 2]
    assert {d["properties"]["clusteringPolicy"] for d in databases} == {"EnterpriseCluster"}
    # Geo-replication accepts only NoEviction; the run says what that means.
    assert {d["properties"]["evictionPolicy"] for d in databases} == {"NoEviction"}
    east = global_deployment.get(
        f"{GROUP}/providers/Microsoft.Cache/redisEnterprise/redis-sessiondemo-dev-abc123/databases/default"
    )
    assert len(east["properties"]["geoReplication"]["linkedDatabases"]) == 2


def test_each_web_app_reads_its_own_regions_redis_and_trusts_front_door(global_deployment):
    settings = {
        r.path.split("/sites/")[1].split("/")[0]: r.body["properties"]
        for r in writes(global_deployment)
        if body_type(r) == "microsoft.web/sites/config/appsettings"
    }

    east, west = settings["app-sessiondemo-dev-abc123"], settings["app-sessiondemo-dev-abc123-westeurope"]
    vault = "https://kv-dev-abc123.vault.azure.net"
    assert east["REDIS_URL"] == f"@Microsoft.KeyVault(SecretUri={vault}/secrets/redis-url/)"
    assert west["REDIS_URL"] == f"@Microsoft.KeyVault(SecretUri={vault}/secrets/redis-url-westeurope/)"
    assert "@redis-sessiondemo-dev-abc123.eastus.redis.azure.net:10000/" in global_deployment.secret_value(
        "kv-dev-abc123", "redis-url"
    )
    assert (
        "@redis-sessiondemo-dev-abc123-westeurope.westeurope.redis.azure.net:10000/"
        in global_deployment.secret_value("kv-dev-abc123", "redis-url-westeurope")
    )
    front_door = east["ALLOWED_HOSTS"].split(",")[0]
    assert front_door.endswith(".z01.azurefd.net")
    assert west["ALLOWED_HOSTS"] == f"{front_door},app-sessiondemo-dev-abc123-westeurope.azurewebsites.net"
    assert f"https://{front_door}" in west["CSRF_TRUSTED_ORIGINS"].split(",")
    assert east["SECRET_KEY"] == west["SECRET_KEY"]  # a session cookie signed in one region works in the other
    # One secret for every region: PostgreSQL is in the primary region only.
    assert (
        east["DATABASE_URL"] == west["DATABASE_URL"] == f"@Microsoft.KeyVault(SecretUri={vault}/secrets/database-url/)"
    )
    assert "@psql-sessiondemo-dev-abc123.postgres.database.azure.com:5432/" in global_deployment.secret_value(
        "kv-dev-abc123", "database-url"
    )
    assert sorted(global_deployment.vault_secrets["kv-dev-abc123"]) == [
        "database-url",
        "redis-url",
        "redis-url-westeurope",
        "secret-key",
    ]


def test_front_door_probes_healthz_over_https_and_redirects_to_https(global_deployment):
    [group] = bodies(global_deployment, "microsoft.cdn/profiles/origingroups")
    assert group["properties"]["healthProbeSettings"]["probePath"] == "/healthz"
    assert group["properties"]["healthProbeSettings"]["probeProtocol"] == "Https"
    origins = bodies(global_deployment, "microsoft.cdn/profiles/origingroups/origins")
    assert [o["properties"]["hostName"] for o in origins] == [
        "app-sessiondemo-dev-abc123.azurewebsites.net",
        "app-sessiondemo-dev-abc123-westeurope.azurewebsites.net",
    ]
    [route] = bodies(global_deployment, "microsoft.cdn/profiles/afdendpoints/routes")
    assert route["properties"]["httpsRedirect"] == "Enabled"
    assert route["properties"]["forwardingProtocol"] == "HttpsOnly"
    [profile] = bodies(global_deployment, "microsoft.cdn/profiles")
    assert profile["sku"] == {"name": "Standard_AzureFrontDoor"}


def test_a_second_global_run_sends_nothing(global_deployment):
    global_deployment.requests.clear()

    output = run("provision_azure")

    assert writes(global_deployment) == []
    assert "0 changed" in output


def test_status_covers_every_region_and_the_front_door(global_deployment):
    output = run("azure_status")

    for check in (
        "Redis TLS port (westeurope)",
        "Redis geo-replication (eastus)",
        "Web app workers (westeurope)",
        "Alert HighCacheMissRate-westeurope",
        "Front Door endpoint",
        "Front Door origins",
        "Front Door /readyz",
    ):
        assert check in output
    assert "FAIL" not in output


def test_status_fails_when_a_region_drops_out_of_front_door(global_deployment):
    origin = f"{GROUP}/providers/Microsoft.Cdn/profiles/afd-sessiondemo-dev-abc123/originGroups/web-apps/origins/app-westeurope"
    global_deployment.get(origin)["properties"]["enabledState"] = "Disabled"

    with pytest.raises(CommandError, match=r"Front Door origins"):
        run("azure_status")


def test_teardown_removes_every_region_and_the_front_door(global_deployment):
    run("teardown_azure", "--yes")

    assert global_deployment.resources == {}


def test_dry_run_prints_the_global_plan_and_its_cost(arm):
    output = run("provision_azure", "--dry-run", "--regions", REGIONS)

    assert arm.requests == []
    assert "in eastus, westeurope" in output
    assert "Front Door profile: afd-sessiondemo-dev-" in output
    assert "properties.geoReplication.groupNickname = sessiondemo-dev" in output
    assert "only the NoEviction policy" in output
    assert "Front Door Standard (base fee)" in output
    secrets = re.findall(r"Key Vault secret: kv-dev-\w+/([\w-]+)", output)
    assert secrets == ["secret-key", "database-url", "redis-url", "redis-url-westeurope"]  # one database-url for all
    assert "Redis size: Balanced_B3 (3 GB)" in output


def test_cache_for_redis_cannot_go_global(arm):
    with pytest.raises(CommandError, match="need Azure Managed Redis active geo-replication"):
        run("provision_azure", "--regions", REGIONS, "--redis-product", "cache")


def test_deploy_pushes_to_every_region_and_waits_for_front_door(arm):
    output = run("provision_azure", "--regions", REGIONS, "--name-suffix", "abc123", "--deploy")

    assert set(arm.deployments) == {"app-sessiondemo-dev-abc123", "app-sessiondemo-dev-abc123-westeurope"}
    assert output.count("/readyz answered 200") == 3
    assert ".z01.azurefd.net/readyz answered 200" in output


def test_key_rotation_runs_region_by_region_on_each_regions_own_secret(global_deployment):
    before = {
        region: global_deployment.secret_value("kv-dev-abc123", secret)
        for region, secret in (("eastus", "redis-url"), ("westeurope", "redis-url-westeurope"))
    }

    output = run("rotate_redis_key")

    assert output.count("(a) done at") == 2 and output.count("(d) done at") == 2
    for region, secret in (("eastus", "redis-url"), ("westeurope", "redis-url-westeurope")):
        after = global_deployment.secret_value("kv-dev-abc123", secret)
        assert after != before[region] and after.split("@")[1] == before[region].split("@")[1]  # same host, new key


@pytest.mark.parametrize(
    "regions,words", [("eastus", "two or more regions"), ("eastus,eastus", "names a region twice")]
)
def test_a_regions_list_that_is_not_two_distinct_regions_is_refused_with_a_sentence(regions, words):
    with pytest.raises(CommandError, match=words):
        run("provision_azure", "--regions", regions, "--dry-run")
