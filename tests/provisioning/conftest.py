"""The fake Azure Resource Manager for the provisioning tests: one HTTPS server per run, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.fake_arm import FakeArm, FakeArmServer

SUBSCRIPTION_ID = "00000000-1111-2222-3333-444444444444"


@pytest.fixture(scope="session")
def fake_arm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeArmServer]:
    server = FakeArmServer(FakeArm(SUBSCRIPTION_ID), tmp_path_factory.mktemp("fake-arm")).start()
    yield server
    server.stop()


@pytest.fixture
def arm(fake_arm_server: FakeArmServer, settings, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[FakeArm]:
    """A clean fake, with the project's Azure settings pointed at it and the SDK trusting its CA."""
    fake = fake_arm_server.arm
    fake.reset()
    url = fake_arm_server.url
    # The SDK's requests transport reads the CA bundle from the environment, as in production.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_arm_server.ca_bundle))
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    settings.AZURE_SUBSCRIPTION_ID = SUBSCRIPTION_ID
    settings.AZURE_ARM_ENDPOINT = url
    settings.AZURE_ACCESS_TOKEN = "fake-arm-test-token"
    settings.AZURE_LOCATION = "eastus"
    settings.AZURE_STATE_DIR = str(tmp_path / ".azure")
    settings.AZURE_POLLING_INTERVAL = 0
    settings.AZURE_RETRY_TOTAL = 2
    settings.AZURE_RETRY_BACKOFF_FACTOR = 0.01
    settings.AZURE_SCM_URL_TEMPLATE = url + "/_kudu/{app}"
    settings.AZURE_SITE_URL_TEMPLATE = url + "/_site/{app}"
    settings.AZURE_FRONTDOOR_URL_TEMPLATE = url + "/_site/{host}"
    settings.AZURE_READINESS_TIMEOUT = 1.5
    settings.AZURE_KEY_VAULT_REFERENCE_TIMEOUT = 2
    settings.AZURE_ROTATION_GRACE_SECONDS = 0
    yield fake
    fake.reset()


def run(command: str, *args: str, **options) -> str:
    """Run a management command, returning what it printed."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def writes(fake: FakeArm) -> list:
    """The PUT, PATCH and DELETE requests the commands sent to Resource Manager."""
    return [r for r in fake.requests if r.method in ("PUT", "PATCH", "DELETE") and not r.path.startswith("/_")]


def puts(fake: FakeArm, resource_type: str) -> list:
    """The PUT requests for one resource type (lower case, as body_type gives it)."""
    return [r for r in writes(fake) if body_type(r) == resource_type and r.method == "PUT"]


def body_type(request) -> str:
    """The example key for a request: config resources are told apart by their name."""
    kind = request.resource_type
    if kind == "microsoft.web/sites/config":
        kind += "/" + request.path.rsplit("/", 1)[1].lower()
    return kind


@pytest.fixture(params=["managed", "cache"])
def redis_product(request) -> str:
    return request.param


@pytest.fixture
def provisioned(arm: FakeArm, redis_product: str) -> FakeArm:
    """A fake holding a whole deployment made by provision_azure, its requests cleared."""
    run("provision_azure", "--redis-product", redis_product, "--alert-email", "ops@example.com")
    arm.requests.clear()
    return arm
