"""Key Vault: the vault (soft delete, no purge protection, private endpoint only), who may read it, its secrets.

Who may read it, in one of two modes (``KeyVaultPlan.auth``):

- ``rbac``: the web apps get the "Key Vault Secrets User" role on the vault. Assigning a
  role needs Microsoft.Authorization/roleAssignments/write: Owner, User Access
  Administrator or Role Based Access Control Administrator, not Contributor.
- ``access-policy``: the vault keeps the web apps in its own access policies
  (``get`` on secrets), which are part of the vault and Contributor may write.

``auto`` asks Azure, before the vault exists, whether the deployer may assign roles
(Microsoft.Authorization/permissions on the resource group), because a vault's permission
model can be changed later only by someone who may: "Changing permission model requires
unrestricted 'Microsoft.Authorization/roleAssignments/write' permission, which is part of
Owner and User Access Administrator roles" (Microsoft Learn, "Migrate to Azure role-based
access control", read 2026-12-02). If a role assignment is refused (403) anyway, the vault
is moved to access policies then, which the same permission allows. An existing vault keeps
its mode unless --key-vault-auth asks otherwise.

Secrets are written through Resource Manager (Microsoft.KeyVault/vaults/secrets), not the
vault's data plane: the vault takes no public traffic, and Resource Manager writes are not
subject to the vault's network rules (MicrosoftDocs/azure-docs#68668; the vaults/secrets
ARM resource is what ARM templates use for the same reason), so the deployer needs no
network path and no data-plane role. Resource Manager never returns a secret's value, so
each secret carries a keyed digest of its value as a tag: a second run compares digests and
writes no new version when nothing changed.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import uuid
from secrets import token_hex
from typing import Any

from azure.core.exceptions import HttpResponseError

from provisioning.errors import RERUN, ProvisioningError, azure_errors
from provisioning.plan import DeploymentPlan, KeyVaultMode
from provisioning.services import web
from provisioning.services.base import Context, Desired, ensure, read_or_none, to_model

API_VERSION = "2026-05-15"
ROLE_ASSIGNMENT_API_VERSION = "2022-04-01"
ASSIGN_ROLES = "Microsoft.Authorization/roleAssignments/write"
DIGEST_TAG = "value-hmac-sha256"


def desired_vault(plan: DeploymentPlan, tenant_id: str, mode: KeyVaultMode, readers: tuple[str, ...] = ()) -> Desired:
    """The vault; in access-policy mode ``readers`` (the web apps' principal ids) may get secrets."""
    vault = plan.key_vault
    policies = [
        {"tenantId": tenant_id, "objectId": reader, "permissions": {"secrets": list(vault.secret_permissions)}}
        for reader in readers
    ]
    return Desired(
        title="Key Vault",
        resource_type="Microsoft.KeyVault/vaults",
        name=plan.names.key_vault,
        resource_id=plan.key_vault_id(),
        api_version=API_VERSION,
        body={
            "location": plan.location,
            "tags": plan.tags,
            "properties": {
                "tenantId": tenant_id,
                "sku": {"family": "A", "name": vault.sku},
                "enableRbacAuthorization": mode == "rbac",
                "accessPolicies": policies if mode == "access-policy" else [],
                "enableSoftDelete": True,
                "softDeleteRetentionInDays": vault.soft_delete_retention_days,
                # enablePurgeProtection is left out on purpose: true can never be undone, and
                # false is not accepted; without it teardown_azure can purge the vault.
                # Reached only through its private endpoint, from the web apps' networks.
                "publicNetworkAccess": vault.public_network_access,
            },
        },
    )


def role_assignment_name(scope: str, principal_id: str, role: str) -> str:
    """A role assignment's name is a GUID; derived from what it grants, a second run finds the same one."""
    if principal_id.startswith("<"):
        return "<a GUID made from the vault, the principal and the role>"  # a plan, before the principal exists
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope.lower()}|{principal_id}|{role}"))


def desired_role_assignment(plan: DeploymentPlan, principal_id: str) -> Desired:
    """Key Vault Secrets User on the vault for one web app's identity."""
    scope = plan.key_vault_id()
    role = plan.key_vault.secrets_user_role
    name = role_assignment_name(scope, principal_id, role)
    return Desired(
        title="Key Vault role for the web app (Secrets User)",
        resource_type="Microsoft.Authorization/roleAssignments",
        name=name,
        resource_id=f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        api_version=ROLE_ASSIGNMENT_API_VERSION,
        body={
            "properties": {
                "roleDefinitionId": f"/subscriptions/{plan.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}",
                "principalId": principal_id,
                # Said up front: a new managed identity may not have replicated yet, and ARM
                # then cannot look its type up.
                "principalType": "ServicePrincipal",
            }
        },
        depends_on=(scope,),
    )


def desired_secret(plan: DeploymentPlan, name: str, value: str, digest: str) -> Desired:
    return Desired(
        title="Key Vault secret",
        resource_type="Microsoft.KeyVault/vaults/secrets",
        name=f"{plan.names.key_vault}/{name}",
        resource_id=f"{plan.key_vault_id()}/secrets/{name}",
        api_version=API_VERSION,
        body={"tags": {DIGEST_TAG: digest}, "properties": {"value": value, "contentType": "text/plain"}},
        # Resource Manager never returns the value: the digest tag stands for it.
        write_only=("properties.value",),
        depends_on=(plan.key_vault_id(),),
    )


def planned_vault(plan: DeploymentPlan) -> list[Desired]:
    """The vault and its readers as the dry run shows them: identities as placeholders."""
    mode: KeyVaultMode = "access-policy" if plan.key_vault.auth == "access-policy" else "rbac"
    principals = tuple(f"<principal id of {region.names.web_app}>" for region in plan.region_plans())
    items = [desired_vault(plan, "<tenant id of the web app's identity>", mode, principals)]
    if mode == "rbac":
        items += [desired_role_assignment(plan, principal) for principal in principals]
    return items


# --- the mode --------------------------------------------------------------------------
def _matches(action: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def may_assign_roles(context: Context) -> bool:
    """Whether the deployer's permissions on the resource group include roleAssignments/write."""
    with azure_errors(f"reading your permissions on resource group {context.group}"):
        permissions = list(context.clients.authorization.permissions.list_for_resource_group(context.group))
    return any(
        _matches(ASSIGN_ROLES, list(p.actions or [])) and not _matches(ASSIGN_ROLES, list(p.not_actions or []))
        for p in permissions
    )


def vault_mode(vault: dict[str, Any]) -> KeyVaultMode:
    """The mode an existing vault lets readers in with, as Azure reports it."""
    return "rbac" if (vault.get("properties") or {}).get("enableRbacAuthorization") is True else "access-policy"


def kept_reason(context: Context, mode: KeyVaultMode) -> str | None:
    """Why the last run chose ``mode``, as the state file keeps it; None if it chose another."""
    kept = context.state.data.get("key_vault_auth") or {}
    return kept.get("reason") if kept.get("mode") == mode else None


def choose_mode(context: Context, existing: KeyVaultMode | None) -> tuple[KeyVaultMode, str]:
    """The mode this run uses, and why, in words azure_status and the plan repeat."""
    asked = context.plan.key_vault.auth
    if asked != "auto":
        return asked, f"--key-vault-auth {asked}"
    if existing is not None:
        already = "Azure RBAC" if existing == "rbac" else "access policies"
        return existing, kept_reason(context, existing) or f"the vault already uses {already}"
    if may_assign_roles(context):
        return "rbac", f"you may assign roles on resource group {context.group} ({ASSIGN_ROLES})"
    return (
        "access-policy",
        f"you may not assign roles on resource group {context.group} (no {ASSIGN_ROLES}, as with Contributor), "
        "so the web apps are let in by the vault's access policies",
    )


def provision_vault(context: Context, mode: KeyVaultMode) -> dict[str, Any]:
    from azure.mgmt.keyvault.models import VaultCreateOrUpdateParameters

    plan = context.plan
    vaults = context.clients.key_vault.vaults
    tenant = context.facts.get("tenant_id")
    if not tenant:
        raise ProvisioningError(
            f"Web app {plan.names.web_app} reported no tenant for its identity, so the Key Vault cannot be made. {RERUN}"
        )
    readers = tuple(context.facts[f"web_principal:{region.location}"] for region in plan.region_plans())
    want = desired_vault(plan, tenant, mode, readers)
    try:
        current = ensure(
            context,
            want,
            read=lambda: vaults.get(context.group, want.name),
            write=lambda body: vaults.begin_create_or_update(
                context.group, want.name, to_model(VaultCreateOrUpdateParameters, body)
            ),
        )
    except ProvisioningError as failure:
        if _denied(failure) and context.facts.get("key_vault_existing_mode") not in (None, mode):
            raise ProvisioningError(
                f"Azure refused to move Key Vault {plan.names.key_vault} to "
                f"{'Azure RBAC' if mode == 'rbac' else 'access policies'}: changing a vault's permission model needs "
                f"{ASSIGN_ROLES} (Owner or User Access Administrator). Run again without --key-vault-auth to keep "
                "its mode, or ask for one of those roles."
            ) from failure.__cause__
        raise
    uri = (current.get("properties") or {}).get("vaultUri") or f"https://{want.name}.vault.azure.net/"
    context.facts["key_vault_uri"] = uri.rstrip("/")
    return current


def _denied(failure: ProvisioningError) -> bool:
    cause = failure.__cause__
    return isinstance(cause, HttpResponseError) and cause.status_code == 403


def provision_role_assignment(context: Context, want: Desired) -> dict[str, Any]:
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    assignments = context.clients.authorization.role_assignments
    scope = context.plan.key_vault_id()
    try:
        return ensure(
            context,
            want,
            read=lambda: assignments.get(scope, want.name),
            write=lambda body: assignments.create(scope, want.name, to_model(RoleAssignmentCreateParameters, body)),
        )
    except ProvisioningError as failure:
        cause = failure.__cause__
        if isinstance(cause, HttpResponseError) and cause.status_code == 409 and _code(cause) == "RoleAssignmentExists":
            # The same role for the same identity, assigned under another name (by hand, say): it is granted.
            context.reporter.step_done(want.title, "exists", want.resource_id, 0.0)
            context.outcomes.append((want.title, "unchanged", want.resource_id))
            return want.body
        raise


def _code(error: HttpResponseError) -> str:
    return str(getattr(error.error, "code", "") or "") if error.error is not None else ""


def provision_access(context: Context) -> KeyVaultMode:
    """The vault, in the mode chosen, and its readers; the mode and why are kept in the state file."""
    plan = context.plan
    with azure_errors(f"reading Key Vault {plan.names.key_vault}"):
        existing = read_or_none(lambda: context.clients.key_vault.vaults.get(context.group, plan.names.key_vault))
    existing_mode = vault_mode(existing) if existing is not None else None
    context.facts["key_vault_existing_mode"] = existing_mode
    mode, reason = choose_mode(context, existing_mode)
    context.reporter.note(f"Key Vault {plan.names.key_vault} lets the web apps in with {describe(mode)}: {reason}.")
    provision_vault(context, mode)
    if mode == "rbac":
        try:
            for region in plan.region_plans():
                provision_role_assignment(context, desired_role_assignment(plan, web.web_principal(context, region)))
        except ProvisioningError as failure:
            if not _denied(failure):
                raise
            if plan.key_vault.auth == "rbac":
                raise ProvisioningError(
                    f"Azure denied permission to grant the web apps a role on Key Vault {plan.names.key_vault}. "
                    f"Granting roles needs {ASSIGN_ROLES} (Owner, User Access Administrator or Role Based Access "
                    f"Control Administrator) on resource group {context.group}; ask for one of them, or run again "
                    "with --key-vault-auth access-policy, which Contributor is enough for."
                ) from failure.__cause__
            mode = "access-policy"
            reason = "Azure refused the first role assignment (403), so the vault moved to access policies"
            context.reporter.note(f"Key Vault {plan.names.key_vault}: {reason}.")
            provision_vault(context, mode)
    context.state.record("key_vault_auth", {"mode": mode, "reason": reason})
    return mode


def describe(mode: str) -> str:
    return "Azure RBAC (Key Vault Secrets User)" if mode == "rbac" else "access policies (get secrets)"


# --- secrets -------------------------------------------------------------------------
def reference(context: Context, secret: str, version: str = "") -> str:
    """An App Service Key Vault reference; without a version App Service follows the latest one."""
    uri = context.facts.get("key_vault_uri") or f"https://{context.plan.names.key_vault}.vault.azure.net"
    return f"@Microsoft.KeyVault(SecretUri={uri}/secrets/{secret}/{version})"


def digest(context: Context, value: str) -> str:
    """A keyed digest of a secret's value: its tag tells a changed value without revealing it.

    The key is random, made once per environment and kept in the (owner-only) state file.
    """
    key = context.state.remembered("secret_digest_key", lambda: token_hex(32))
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def store_secret(context: Context, name: str, value: str) -> str:
    """Put ``value`` in secret ``name`` unless it already holds it; returns the version holding it."""
    from azure.mgmt.keyvault.models import SecretCreateOrUpdateParameters

    plan = context.plan
    secrets = context.clients.key_vault.secrets
    want = desired_secret(plan, name, value, digest(context, value))
    stored = ensure(
        context,
        want,
        read=lambda: secrets.get(context.group, plan.names.key_vault, name),
        write=lambda body: secrets.create_or_update(
            context.group, plan.names.key_vault, name, to_model(SecretCreateOrUpdateParameters, body)
        ),
    )
    versioned = str((stored.get("properties") or {}).get("secretUriWithVersion") or "")
    return versioned.rstrip("/").rsplit("/", 1)[-1]
