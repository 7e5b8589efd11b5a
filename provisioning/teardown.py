"""``teardown_azure``: delete the resource group, purge what would block the next run, forget the state."""

from __future__ import annotations

import time

from azure.core.exceptions import ResourceNotFoundError

from provisioning.errors import ProvisioningError, azure_errors
from provisioning.services.base import Context, wait


def purge_workspace(context: Context) -> None:
    """A deleted workspace is kept 14 days and blocks its name elsewhere; force skips that."""
    workspaces = context.clients.log_analytics.workspaces
    name = context.plan.names.workspace
    with azure_errors(f"deleting Log Analytics workspace {name} permanently"):
        try:
            wait(context, workspaces.begin_delete(context.group, name, force=True), f"workspace {name}")
        except ResourceNotFoundError:
            return
    context.reporter.line(f"  Log Analytics workspace {name} deleted permanently (no soft-delete)")


def purge_deleted_vaults(context: Context) -> None:
    """Key Vaults stay soft-deleted for 90 days and keep their names; purge this environment's."""
    vaults = context.clients.key_vault.vaults
    with azure_errors("listing soft-deleted Key Vaults"):
        deleted = list(vaults.list_deleted())
    for vault in deleted:
        tags = (vault.properties.tags if vault.properties else None) or {}
        if tags.get("purpose") == "session-demo" and tags.get("environment") == context.plan.environment:
            with azure_errors(f"purging soft-deleted Key Vault {vault.name}"):
                wait(
                    context,
                    vaults.begin_purge_deleted(vault.name, vault.properties.location),
                    f"Key Vault {vault.name}",
                )
            context.reporter.line(f"  Soft-deleted Key Vault {vault.name} purged")


def delete_group(context: Context, no_wait: bool) -> bool:
    """Delete the group; True when it is verified gone, False when left deleting (--no-wait)."""
    groups = context.clients.resources.resource_groups
    with azure_errors(f"checking resource group {context.group}"):
        if not groups.check_existence(context.group):
            context.reporter.line(f"  Resource group {context.group} does not exist; nothing to delete.")
            # A run that failed after the deletion still has soft-deleted vaults to purge.
            purge_deleted_vaults(context)
            return True
    purge_workspace(context)
    started = time.monotonic()
    with azure_errors(f"deleting resource group {context.group}"):
        # polling=False: with --no-wait not even a background thread watches the deletion.
        poller = groups.begin_delete(context.group, polling=not no_wait)
        if no_wait:
            context.reporter.line(f"  Deletion of {context.group} started; not waiting (--no-wait).")
            return False
        wait(context, poller, f"deletion of resource group {context.group}")
        if groups.check_existence(context.group):
            raise ProvisioningError(
                f"Resource group {context.group} still exists after its deletion finished. "
                "Look for locks or resources in other states in the portal, then run teardown_azure again."
            )
    context.reporter.line(f"  Resource group {context.group} deleted ({time.monotonic() - started:.1f}s)")
    purge_deleted_vaults(context)
    return True
