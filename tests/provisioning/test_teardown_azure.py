"""teardown_azure: delete the group, purge soft-deleted leftovers, forget the state."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management.base import CommandError

from tests.provisioning.conftest import SUBSCRIPTION_ID, run


@pytest.fixture
def redis_product() -> str:
    return "managed"


def state_file(settings) -> Path:
    return Path(settings.AZURE_STATE_DIR) / "dev.json"


def test_teardown_leaves_nothing_and_removes_the_state_file(provisioned, settings):
    output = run("teardown_azure", "--yes")

    assert provisioned.resources == {}
    assert not state_file(settings).exists()
    assert "torn down" in output
    # It waited for the deletion and checked the group is gone.
    assert [r.method for r in provisioned.requests if r.path.lower().endswith("/resourcegroups/rg-sessiondemo-dev")][
        -1
    ] == "HEAD"


def test_teardown_deletes_the_workspace_for_good_so_its_name_is_free(provisioned, settings):
    run("teardown_azure", "--yes")

    [delete] = [r for r in provisioned.requests if r.method == "DELETE" and "workspaces" in r.path]
    assert delete.query["force"] == "true"


def test_teardown_purges_the_environments_soft_deleted_key_vaults(provisioned, settings):
    location_path = f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.KeyVault/locations/eastus/deletedVaults"
    for name, environment in (("kv-sessiondemo-dev", "dev"), ("kv-someone-else", "prod")):
        provisioned.put(
            f"{location_path}/{name}",
            {
                "type": "Microsoft.KeyVault/deletedVaults",
                "properties": {
                    "vaultId": "/x",
                    "location": "eastus",
                    "tags": {"purpose": "session-demo", "environment": environment},
                },
            },
        )

    output = run("teardown_azure", "--yes")

    assert "Soft-deleted Key Vault kv-sessiondemo-dev purged" in output
    assert list(provisioned.resources) == [f"{location_path}/kv-someone-else".lower()]


def test_teardown_asks_first_and_stops_unless_told_yes(provisioned, settings, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    with pytest.raises(CommandError, match="Teardown cancelled: nothing was deleted"):
        run("teardown_azure")

    assert provisioned.resources and state_file(settings).exists()


def test_teardown_no_wait_returns_once_the_deletion_has_started(provisioned, settings):
    output = run("teardown_azure", "--yes", "--no-wait")

    assert "started" in output
    paths = [r.path for r in provisioned.requests]
    group_delete = max(i for i, r in enumerate(provisioned.requests) if r.method == "DELETE")
    assert not [path for path in paths[group_delete:] if path.startswith("/_operations/")]
    assert not state_file(settings).exists()


def test_teardown_of_a_group_already_gone_only_forgets_the_state(provisioned, settings):
    group = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-sessiondemo-dev"
    for key in [k for k in provisioned.resources if k.startswith(group.lower())]:
        del provisioned.resources[key]

    output = run("teardown_azure", "--yes")

    assert "does not exist; nothing to delete" in output
    assert not state_file(settings).exists()


def test_provisioning_after_teardown_starts_afresh(provisioned, settings):
    run("teardown_azure", "--yes")
    provisioned.requests.clear()

    run("provision_azure")

    assert [r.method for r in provisioned.requests if r.resource_type == "microsoft.resources/resourcegroups"][:2] == [
        "GET",
        "PUT",
    ]


def test_teardown_without_permission_says_so_and_keeps_the_state(provisioned, settings):
    provisioned.inject(
        403,
        "AuthorizationFailed",
        "The client does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourceGroups/delete'.",
        method="DELETE",
        path_endswith="/resourcegroups/rg-sessiondemo-dev",
    )

    with pytest.raises(
        CommandError, match=r"^Azure denied permission while deleting resource group rg-sessiondemo-dev: .*Contributor"
    ):
        run("teardown_azure", "--yes")

    assert state_file(settings).exists()  # a later run can still find what to delete
