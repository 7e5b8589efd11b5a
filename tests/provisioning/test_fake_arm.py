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
    """What the provisioning tests compare against lives in azure_facts/, inside the repository."""
    from tests.provisioning.azure_facts import FACTS_DIR

    project = Path(__file__).resolve().parents[2]
    assert FACTS_DIR.is_relative_to(project)
    files = [
        *(project / "tests" / "provisioning").rglob("*.py"),
        *(project / "tests" / "fixtures" / "fake_arm").rglob("*.py"),
    ]
    outside = ('"shared"', "../shared", "parent.parent")
    readers = [p for p in files if p != Path(__file__).resolve() and any(o in p.read_text() for o in outside)]
    assert readers == []


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
