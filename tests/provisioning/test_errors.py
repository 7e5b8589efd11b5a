"""Each failure a user meets ends in a CommandError sentence: what failed and what to do. Never a traceback."""

from __future__ import annotations

import time

import pytest
from django.core.management.base import CommandError

from provisioning.errors import ProvisioningError
from tests.provisioning.conftest import SUBSCRIPTION_ID, body_type, run, writes


def failure_of(*args: str) -> str:
    with pytest.raises(ProvisioningError) as failure:
        run("provision_azure", *args)
    return str(failure.value)


def test_refused_credentials_say_to_sign_in_again(arm):
    arm.inject(401, "InvalidAuthenticationToken", "The access token is invalid.", times=100)

    message = failure_of()

    assert message.startswith(
        "Azure refused the credentials while reading where Microsoft.Cache offers redisEnterprise: "
    )
    assert "The access token is invalid" in message
    assert "az login" in message


def test_no_permission_says_which_role_to_ask_for(arm):
    arm.inject(
        403,
        "AuthorizationFailed",
        "The client does not have authorization to perform action 'Microsoft.Cache/redisEnterprise/write'.",
        method="PUT",
        path_contains="redisEnterprise",
    )

    message = failure_of()

    assert message.startswith("Azure denied permission while creating Azure Managed Redis redis-sessiondemo-dev-")
    assert "Contributor role" in message


def test_a_name_already_taken_says_to_pick_another_suffix(arm):
    arm.inject(
        409,
        "Conflict",
        "Website with given name app-sessiondemo-dev-abc123 already exists.",
        method="PUT",
        path_contains="/sites/",
    )

    message = failure_of("--name-suffix", "abc123")

    assert message.startswith(
        "A name is already taken while creating Web app app-sessiondemo-dev-abc123: Website with given name"
    )
    assert "--name-suffix" in message


def test_quota_exceeded_says_to_request_more_or_choose_another_region(arm):
    arm.inject(
        400,
        "QuotaExceeded",
        "Operation could not be completed as it results in exceeding approved Standard S1 cores quota.",
        method="PUT",
        path_contains="serverfarms",
    )

    message = failure_of()

    assert message.startswith("Azure quota was exceeded while creating App Service plan plan-sessiondemo-dev")
    assert "--location" in message


def test_throttling_with_retry_after_is_waited_out_and_the_run_completes(arm):
    arm.inject(
        429, "TooManyRequests", "Too many requests.", method="PUT", path_contains="virtualNetworks", retry_after=1
    )

    started = time.monotonic()
    output = run("provision_azure")

    assert time.monotonic() - started >= 1.0  # the SDK honoured Retry-After
    assert "is provisioned" in output
    network_puts = [r for r in writes(arm) if r.resource_type == "microsoft.network/virtualnetworks"]
    assert len(network_puts) == 2


def test_throttling_that_persists_says_how_long_azure_asked_to_wait(arm, settings):
    settings.AZURE_RETRY_TOTAL = 0
    arm.inject(
        429, "TooManyRequests", "Too many requests.", method="PUT", path_contains="virtualNetworks", retry_after=30
    )

    message = failure_of()

    assert message.startswith(
        "Azure throttled the requests while creating Virtual network vnet-sessiondemo-dev: Too many requests."
    )
    assert "Azure asked to wait 30 seconds" in message


def test_an_internal_error_says_to_wait_and_run_again(arm, settings):
    settings.AZURE_RETRY_TOTAL = 0
    arm.inject(500, "InternalServerError", "Something went wrong.", method="PUT", path_contains="flexibleServers")

    message = failure_of()

    assert message.startswith(
        "Azure had an internal error (500) while creating PostgreSQL flexible server psql-sessiondemo-dev-"
    )
    assert "Run the command again" in message or "run the command again" in message


def test_a_resource_left_failed_is_reported_and_a_rerun_repairs_it(arm, redis_product):
    kind = {"managed": "microsoft.cache/redisenterprise", "cache": "microsoft.cache/redis"}[redis_product]
    arm.fail_next_provisioning(kind)

    message = failure_of("--redis-product", redis_product)

    assert "Failed state" in message and "Run the command again to finish the job" in message
    arm.requests.clear()
    output = run("provision_azure")
    assert "repaired" in output and "is provisioned" in output
    rewritten = [body_type(r) for r in writes(arm)]
    assert rewritten[0] == kind  # nothing before Redis is sent again
    assert "microsoft.resources/resourcegroups" not in rewritten


def test_a_rerun_after_a_failure_half_way_finishes_without_remaking_anything(arm, settings):
    settings.AZURE_RETRY_TOTAL = 0
    arm.inject(500, "InternalServerError", "Something went wrong.", method="PUT", path_contains="/sites/")
    failure_of()
    made_before = {r.path.lower() for r in writes(arm) if r.resource_type != "microsoft.web/sites"}
    arm.requests.clear()

    run("provision_azure")

    remade = [body_type(r) for r in writes(arm)]
    assert remade[0] == "microsoft.web/sites"
    assert not made_before & {r.path.lower() for r in writes(arm)}
    assert "microsoft.insights/diagnosticsettings" in remade


def test_no_subscription_says_to_set_it(arm, settings):
    settings.AZURE_SUBSCRIPTION_ID = ""

    message = failure_of()

    assert message.startswith("No Azure subscription is set. Set AZURE_SUBSCRIPTION_ID")
    assert arm.requests == []


def test_no_credentials_say_to_sign_in(arm, settings, monkeypatch):
    settings.AZURE_ACCESS_TOKEN = ""
    # Only the environment credential, which finds nothing: no slow probes of the machine.
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")

    message = failure_of()

    assert message.startswith(
        "No Azure credentials were found while reading where Microsoft.Cache offers redisEnterprise."
    )
    assert "az login" in message
    assert arm.requests == []


def test_an_unreachable_resource_manager_says_to_check_the_endpoint(arm, settings):
    settings.AZURE_RETRY_TOTAL = 0
    settings.AZURE_ARM_ENDPOINT = "https://127.0.0.1:9"  # discard port: nothing listens

    message = failure_of()

    assert message.startswith("Azure Resource Manager could not be reached while reading where Microsoft.Cache offers")
    assert "AZURE_ARM_ENDPOINT" in message


def test_every_failure_is_a_command_error_so_django_prints_no_traceback():
    assert issubclass(ProvisioningError, CommandError)


def test_an_environment_name_azure_cannot_use_is_refused_before_anything_is_sent(arm):
    message = failure_of("--environment", "Prod_1", "--dry-run")

    assert message.startswith("The environment name 'Prod_1' cannot be part of Azure resource names.")
    assert arm.requests == []


def test_a_long_running_operation_that_fails_to_poll_is_a_sentence_too(arm, settings):
    settings.AZURE_RETRY_TOTAL = 0
    arm.inject(500, "InternalServerError", "Polling broke.", method="GET", path_contains="/_operations/")

    message = failure_of()

    assert message.startswith("Azure had an internal error (500) while creating Log Analytics workspace")


# --- every 409 for what it is ------------------------------------------------------------
def test_a_soft_deleted_vault_of_the_same_name_says_to_purge_or_recover_it(arm):
    arm.inject(
        409,
        "ConflictError",
        "A vault with the same name already exists in deleted state. You need to either recover or purge existing "
        "key vault.",
        method="PUT",
        path_contains="/vaults/kv-",
    )

    message = failure_of("--name-suffix", "abc123")

    assert message.startswith("A soft-deleted Key Vault still holds the name while creating Key Vault kv-dev-abc123")
    assert "manage.py teardown_azure" in message and "az keyvault purge" in message and "az keyvault recover" in message
    assert "--name-suffix" not in message


def test_a_vault_name_taken_elsewhere_says_to_pick_another_suffix(arm):
    arm.inject(
        409,
        "VaultAlreadyExists",
        "The vault name 'kv-dev-abc123' is already in use.",
        method="PUT",
        path_contains="/vaults/kv-",
    )

    message = failure_of("--name-suffix", "abc123")

    assert message.startswith("The Key Vault name is already taken in Azure while creating Key Vault kv-dev-abc123")
    assert "--name-suffix" in message


def test_a_role_already_assigned_under_another_name_is_taken_as_granted(arm):
    group = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-sessiondemo-dev"
    site = f"{group}/providers/Microsoft.Web/sites/app-sessiondemo-dev-abc123"
    vault = f"{group}/providers/Microsoft.KeyVault/vaults/kv-dev-abc123"
    secrets_user = "4633458b-17de-408a-b874-0445c86b69e6"
    # Granted by hand, under a name of its own: ARM answers the run's assignment 409 RoleAssignmentExists.
    arm.put(
        f"{vault}/providers/Microsoft.Authorization/roleAssignments/granted-by-hand",
        {
            "properties": {
                "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{secrets_user}",
                "principalId": arm.principal_of(site),
            }
        },
    )

    output = run("provision_azure", "--name-suffix", "abc123")

    grants = [
        r for r in arm.requests if r.resource_type == "microsoft.authorization/roleassignments" and r.method == "PUT"
    ]
    assert [r.status for r in grants] == [409]
    assert "Key Vault role for the web app (Secrets User) exists" in output
    assert "is provisioned" in output


def test_an_operation_still_running_says_to_wait(arm):
    arm.inject(
        409,
        "Conflict",
        "The resource is busy processing a previous update request or is undergoing system maintenance.",
        method="PUT",
        path_contains="/redisEnterprise/",
    )

    message = failure_of()

    assert message.startswith("Azure is still busy with an earlier operation while creating Azure Managed Redis")
    assert "Wait a few minutes" in message
