"""The fake Resource Manager itself: it must answer as ARM and Microsoft's examples do, or the other tests prove little."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.core.management.base import OutputWrapper
from django.core.management.color import no_style

from provisioning.clients import AzureClients, AzureSettings
from provisioning.errors import ProvisioningError
from provisioning.plan import build_plan
from provisioning.reporting import Reporter
from provisioning.services import base, network, resource_group
from provisioning.state import DeploymentState
from tests.provisioning.conftest import SUBSCRIPTION_ID, run
from tests.provisioning.rest_examples import EXAMPLES, definition, example, response_problems

AUTH = {"Authorization": "Bearer fake-arm-test-token"}


def test_paths_are_case_insensitive_as_in_arm(provisioned, fake_arm_server):
    group = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-sessiondemo-dev"

    answer = requests.get(
        f"{fake_arm_server.url}{group.upper()}?api-version=2025-04-01", headers=AUTH, verify=fake_arm_server.ca_bundle
    )

    assert answer.status_code == 200
    assert answer.json()["id"] == f"/subscriptions/{SUBSCRIPTION_ID}/resourcegroups/rg-sessiondemo-dev"


def test_requests_without_a_bearer_token_are_refused(fake_arm_server, arm):
    answer = requests.get(
        f"{fake_arm_server.url}/subscriptions/{SUBSCRIPTION_ID}/resourcegroups/x", verify=fake_arm_server.ca_bundle
    )

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "AuthenticationFailed"


def test_the_sdk_only_trusts_the_fake_through_requests_ca_bundle(arm, monkeypatch, settings):
    settings.AZURE_RETRY_TOTAL = 0
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")

    with pytest.raises(ProvisioningError, match="could not be reached"):
        run("provision_azure")

    assert arm.requests == []  # the TLS handshake failed before any request


def test_every_resource_the_fake_holds_has_the_shape_of_the_examples(provisioned):
    problems = response_problems(provisioned.resources)

    assert problems == [], "\n".join(problems)


def test_long_running_operations_answer_with_azure_async_operation_and_location(arm, fake_arm_server):
    group = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg1"
    requests.put(
        f"{fake_arm_server.url}{group}?api-version=2025-04-01",
        json={"location": "eastus"},
        headers=AUTH,
        verify=fake_arm_server.ca_bundle,
    )

    answer = requests.put(
        f"{fake_arm_server.url}{group}/providers/Microsoft.Cache/redisEnterprise/c1?api-version=2025-07-01",
        json={
            "location": "eastus",
            "sku": {"name": "MemoryOptimized_M10"},
            "properties": {"publicNetworkAccess": "Disabled"},
        },
        headers=AUTH,
        verify=fake_arm_server.ca_bundle,
    )

    assert answer.status_code == 201
    assert answer.json()["properties"]["provisioningState"] == "Creating"
    status_url = answer.headers["Azure-AsyncOperation"]
    assert answer.headers["Location"] and answer.headers["Retry-After"] == "0"
    statuses = [
        requests.get(status_url, headers=AUTH, verify=fake_arm_server.ca_bundle).json()["status"] for _ in range(2)
    ]
    assert statuses == ["InProgress", "Succeeded"]
    assert (
        arm.get(f"{group}/providers/Microsoft.Cache/redisEnterprise/c1")["properties"]["provisioningState"]
        == "Succeeded"
    )


def test_each_example_named_by_the_checks_is_kept_with_its_source():
    for files in EXAMPLES.values():
        for relative in files:
            facts = example(relative)
            assert facts["repository"] == "Azure/azure-rest-api-specs", relative
            assert facts["path"].startswith("specification/") and facts["path"].endswith(relative.rsplit("/", 1)[1])
            assert re.fullmatch(r"[0-9a-f]{40}", facts["commit"]), relative


def test_properties_missing_from_examples_are_in_the_kept_definitions():
    """Where a definition file was read, the exceptions are checked against it, not only stated."""
    diagnostics = definition("monitor-diagnosticsettings/2021-05-01-preview/diagnosticsSettings_API.json")[
        "definitions"
    ]
    assert "category" in diagnostics["LogSettings"]["properties"]
    assert "workspaceId" in diagnostics["DiagnosticSettings"]["properties"]
    components = definition("applicationinsights/2020-02-02/components_API.json")["definitions"]
    tags = components["ComponentsResource"]["properties"]["tags"]
    assert tags["additionalProperties"]["type"] == "string"  # a map of strings
    assert example("applicationinsights/2020-02-02/examples/ComponentsCreate.json")["api_version"] == "2020-02-02"


def test_the_tests_read_nothing_outside_the_checkout():
    """What the provisioning tests compare against lives in azure_facts/, inside the repository.

    No Python file climbs above the checkout: every ``Path(__file__)`` walk up ends inside
    it, and no string literal begins with a step up to the folder above the checkout.
    """
    from tests.provisioning.azure_facts import FACTS_DIR

    project = Path(__file__).resolve().parents[2]
    assert FACTS_DIR.is_relative_to(project)
    walk_up = re.compile(r"Path\(__file__\)\.resolve\(\)((?:\.parent\b)+|\.parents\[(\d+)\])")
    upward = re.compile(r"""["']\.\./""")
    skipped = {".venv", "var", "build", "node_modules", ".git", "test-artifacts"}
    escapes = []
    for path in project.rglob("*.py"):
        if skipped & set(path.relative_to(project).parts):
            continue
        text = path.read_text(encoding="utf-8")
        for match in walk_up.finditer(text):
            levels = int(match[2]) + 1 if match[2] is not None else match[1].count(".parent")
            if not path.parents[levels - 1].is_relative_to(project):
                escapes.append(f"{path.relative_to(project)}: {match[0]}")
        escapes += [f"{path.relative_to(project)}: {line.strip()}" for line in text.splitlines() if upward.search(line)]
    assert escapes == []


def test_long_waits_show_progress(arm, settings, monkeypatch):
    arm.polls_before_done = 6
    settings.AZURE_POLLING_INTERVAL = 0.05
    monkeypatch.setattr(base, "PROGRESS_EVERY_SECONDS", 0.05)
    out = StringIO()
    azure = AzureSettings.from_django()
    plan = build_plan(environment="dev", subscription_id=SUBSCRIPTION_ID, location="eastus", suffix="abc123")
    context = base.Context(
        plan=plan,
        clients=AzureClients(azure),
        state=DeploymentState.load(azure.state_dir, "dev"),
        reporter=Reporter(OutputWrapper(out), no_style(), verbosity=1),
    )

    resource_group.provision_resource_group(context)
    network.provision_virtual_network(context)

    assert "... still waiting for Virtual network vnet-sessiondemo-dev" in out.getvalue()


# --- the fake refuses what Azure refuses ----------------------------------------------
GROUP = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg1"
CLUSTER = f"{GROUP}/providers/Microsoft.Cache/redisEnterprise/c1"
CACHE = f"{GROUP}/providers/Microsoft.Cache/redis/c2"


def send(fake_arm_server, method: str, path: str, api_version: str, body: dict) -> requests.Response:
    return requests.request(
        method,
        f"{fake_arm_server.url}{path}?api-version={api_version}",
        json=body,
        headers=AUTH,
        verify=fake_arm_server.ca_bundle,
    )


@pytest.fixture
def group(arm, fake_arm_server):
    send(fake_arm_server, "PUT", GROUP, "2025-04-01", {"location": "eastus"})
    return fake_arm_server


def alert(scope: str, namespace: str, metric: str, aggregation: str) -> dict:
    criterion = {
        "criterionType": "StaticThresholdCriterion",
        "name": metric,
        "metricName": metric,
        "metricNamespace": namespace,
        "operator": "GreaterThan",
        "threshold": 10,
        "timeAggregation": aggregation,
    }
    return {
        "location": "global",
        "properties": {
            "severity": 2,
            "enabled": True,
            "scopes": [scope],
            "evaluationFrequency": "PT1M",
            "windowSize": "PT5M",
            "criteria": {
                "odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                "allOf": [criterion],
            },
        },
    }


@pytest.mark.parametrize(
    ("namespace", "metric", "aggregation", "refused"),
    [
        # The recipe's errors alert on Managed Redis: the metric is not published for the type.
        ("Microsoft.Cache/redisEnterprise", "errors", "Total", "Couldn't find a metric named errors."),
        # A metric the type has, in another product's namespace.
        ("Microsoft.Cache/redis", "cachemisses", "Total", "Couldn't find a metric named cachemisses."),
        # A rate a second has no Total.
        ("Microsoft.Cache/redisEnterprise", "cachemisses", "Total", "Aggregation 'Total' is not supported"),
        ("Microsoft.Cache/redisEnterprise", "cachemisses", "Average", None),
    ],
)
def test_a_metric_alert_names_a_metric_and_aggregation_the_type_publishes(
    group, namespace, metric, aggregation, refused
):
    answer = send(
        group,
        "PUT",
        f"{GROUP}/providers/Microsoft.Insights/metricAlerts/a1",
        "2018-03-01",
        alert(CLUSTER, namespace, metric, aggregation),
    )

    if refused is None:
        assert answer.status_code in (200, 201)
        return
    assert answer.status_code == 400
    assert set(answer.json()) == {"error"} and answer.json()["error"]["code"] == "BadRequest"
    assert answer.json()["error"]["message"].startswith(refused)


@pytest.mark.parametrize(
    ("target", "properties", "refused"),
    [
        # The database offers logs and no metrics; the cluster metrics and no logs.
        (
            f"{CLUSTER}/databases/default",
            {"metrics": [{"category": "AllMetrics", "enabled": True}]},
            "Metric category 'AllMetrics' is not supported",
        ),
        (
            CLUSTER,
            {"logs": [{"category": "ConnectionEvents", "enabled": True}]},
            "Category 'ConnectionEvents' is not supported.",
        ),
        (
            CACHE,
            {"logs": [{"category": "ConnectionEvents", "enabled": True}]},
            "Category 'ConnectionEvents' is not supported.",
        ),
        (f"{CLUSTER}/databases/default", {"logs": [{"category": "ConnectionEvents", "enabled": True}]}, None),
    ],
)
def test_a_diagnostic_setting_names_only_categories_the_resource_offers(group, target, properties, refused):
    path = f"{target}/providers/Microsoft.Insights/diagnosticSettings/d1"
    answer = send(group, "PUT", path, "2021-05-01-preview", {"properties": {"workspaceId": "/x", **properties}})

    if refused is None:
        assert answer.status_code in (200, 201)
        return
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith(refused)


@pytest.mark.parametrize(
    ("path", "api_version", "body", "refused"),
    [
        # The recipe's own SKU name, which the API does not know.
        (
            CLUSTER,
            "2025-07-01",
            {"location": "eastus", "sku": {"name": "M10"}, "properties": {"publicNetworkAccess": "Disabled"}},
            "The SKU 'M10' is not valid",
        ),
        # ClusterCreateProperties requires publicNetworkAccess.
        (
            CLUSTER,
            "2025-07-01",
            {"location": "eastus", "sku": {"name": "Balanced_B0"}, "properties": {}},
            "Required property 'publicNetworkAccess' not found",
        ),
        (
            CACHE,
            "2024-11-01",
            {"location": "eastus", "properties": {"sku": {"name": "Standard", "family": "P", "capacity": 1}}},
            "The SKU Standard P1 is not valid",
        ),
        (
            f"{GROUP}/providers/Microsoft.KeyVault/vaults/kv1",
            "2026-05-15",
            {"location": "eastus", "properties": {"sku": {"family": "A", "name": "standard"}, "accessPolicies": []}},
            "Required property 'tenantId' not found",
        ),
    ],
)
def test_unknown_skus_and_bodies_missing_a_required_property_are_refused(group, path, api_version, body, refused):
    answer = send(group, "PUT", path, api_version, body)

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] in ("BadRequest", "InvalidRequestContent")
    assert refused in error["message"]


def test_a_create_only_database_property_cannot_be_patched(group):
    send(
        group,
        "PUT",
        CLUSTER,
        "2025-07-01",
        {"location": "eastus", "sku": {"name": "Balanced_B0"}, "properties": {"publicNetworkAccess": "Disabled"}},
    )
    database = f"{CLUSTER}/databases/default"
    assert send(group, "PUT", database, "2025-07-01", {"properties": {"port": 10000}}).status_code in (200, 201)

    answer = send(group, "PATCH", database, "2025-07-01", {"properties": {"port": 10001}})

    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Property properties.port can be set only when the resource is created."


def test_a_contributor_may_not_assign_roles_or_change_a_vaults_permission_model(arm, group):
    arm.caller_role = "Contributor"
    vault = f"{GROUP}/providers/Microsoft.KeyVault/vaults/kv1"
    body = {
        "location": "eastus",
        "properties": {
            "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [],
            "enableRbacAuthorization": False,
        },
    }
    assert send(group, "PUT", vault, "2026-05-15", body).status_code in (200, 201)
    body["properties"]["enableRbacAuthorization"] = True

    assert send(group, "PUT", vault, "2026-05-15", body).status_code == 403
    assignment = send(
        group, "PUT", f"{vault}/providers/Microsoft.Authorization/roleAssignments/r1", "2022-04-01", {"properties": {}}
    )
    assert assignment.status_code == 403
    assert assignment.json()["error"]["code"] == "AuthorizationFailed"
    permissions = requests.get(
        f"{group.url}{GROUP}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01",
        headers=AUTH,
        verify=group.ca_bundle,
    ).json()["value"]
    assert "Microsoft.Authorization/*/Write" in permissions[0]["notActions"]


def test_the_facts_each_name_their_source():
    from tests.provisioning.azure_facts import load

    for name in ("metrics", "diagnostic_categories"):
        for kind, facts in load(name)["resource_types"].items():
            sources = facts.get("sources") or [facts.get("source")]
            assert sources and all(s and ("url" in s or "repository" in s) and s.get("read") for s in sources), kind
    for kind, versions in load("resource_rules")["resource_types"].items():
        for version, rules in versions.items():
            assert rules["source"]["repository"] and re.fullmatch(r"[0-9a-f]{40}", rules["source"]["commit"]), (
                kind,
                version,
            )
    for role in load("roles")["roles"].values():
        assert role["source"]["url"].startswith("https://learn.microsoft.com/")
