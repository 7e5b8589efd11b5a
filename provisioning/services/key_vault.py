"""Key Vault: the vault (RBAC, soft delete, no purge protection), who may read it, and its secrets.

The vault and role assignments go through Resource Manager; secrets through the vault's
own data plane (``SecretClient``), the API Microsoft supports for secret values: it can
read a value back, so a second run writes no new version when nothing changed, and the
version it returns is what ``rotate_redis_key`` pins the app to.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from provisioning.errors import ProvisioningError, azure_errors
from provisioning.plan import DeploymentPlan
from provisioning.services.base import Context, Desired, ensure, to_model

API_VERSION = "2026-05-15"
ROLE_ASSIGNMENT_API_VERSION = "2022-04-01"
# "Key Vault Secrets Officer": lets whoever runs provision_azure write the secrets. Owners and
# Contributors of the subscription manage the vault but cannot touch its secrets under RBAC.
SECRETS_OFFICER_ROLE = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"


def desired_vault(plan: DeploymentPlan, tenant_id: str) -> Desired:
    vault = plan.key_vault
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
                "enableRbacAuthorization": vault.rbac_authorization,
                "enableSoftDelete": True,
                "softDeleteRetentionInDays": vault.soft_delete_retention_days,
                # enablePurgeProtection is left out on purpose: true can never be undone, and
                # false is not accepted; without it teardown_azure can purge the vault.
                "publicNetworkAccess": "Enabled",
            },
        },
    )


def role_assignment_name(scope: str, principal_id: str, role: str) -> str:
    """A role assignment's name is a GUID; derived from what it grants, a second run finds the same one."""
    if principal_id.startswith("<"):
        return "<a GUID made from the vault, the principal and the role>"  # a plan, before the principal exists
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope.lower()}|{principal_id}|{role}"))


def desired_role_assignment(
    plan: DeploymentPlan, principal_id: str, role: str, principal_type: str, title: str
) -> Desired:
    scope = plan.key_vault_id()
    name = role_assignment_name(scope, principal_id, role)
    return Desired(
        title=title,
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
                "principalType": principal_type,
            }
        },
        depends_on=(scope,),
    )


def provision_vault(context: Context, tenant_id: str) -> dict[str, Any]:
    from azure.mgmt.keyvault.models import VaultCreateOrUpdateParameters

    vaults = context.clients.key_vault.vaults
    want = desired_vault(context.plan, tenant_id)
    current = ensure(
        context,
        want,
        read=lambda: vaults.get(context.group, want.name),
        write=lambda body: vaults.begin_create_or_update(
            context.group, want.name, to_model(VaultCreateOrUpdateParameters, body)
        ),
    )
    uri = (current.get("properties") or {}).get("vaultUri") or f"https://{want.name}.vault.azure.net/"
    context.facts["key_vault_uri"] = uri.rstrip("/")
    return current


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
        if isinstance(cause, HttpResponseError) and cause.status_code == 403:
            # Contributor, enough for everything else here, may not grant roles.
            raise ProvisioningError(
                f"Azure denied permission to grant a role on Key Vault {context.plan.names.key_vault} ({want.title}). "
                "Granting roles needs Owner, User Access Administrator or Role Based Access Control Administrator "
                f"on resource group {context.group} or above; ask for one of them, then run the command again."
            ) from cause
        raise


def deployer_identity(context: Context) -> tuple[str, str] | None:
    """The object id and principal type of whoever runs the command, from their token's claims.

    The token is only read, never verified: Azure verifies it. None when the token is not a
    JWT with an ``oid`` (a static test token, say).
    """
    token = context.clients.credential.get_token(f"{context.clients.azure.arm_endpoint}/.default").token
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    if not isinstance(claims, dict) or not claims.get("oid"):
        return None
    return str(claims["oid"]), "ServicePrincipal" if claims.get("idtyp") == "app" else "User"


def reference(context: Context, secret: str, version: str = "") -> str:
    """An App Service Key Vault reference; without a version App Service follows the latest one."""
    uri = context.facts.get("key_vault_uri") or f"https://{context.plan.names.key_vault}.vault.azure.net"
    return f"@Microsoft.KeyVault(SecretUri={uri}/secrets/{secret}/{version})"


def store_secret(context: Context, name: str, value: str) -> str:
    """Put ``value`` in secret ``name`` unless it already holds it; returns the version holding it.

    A role assignment made a moment ago can take minutes to reach the vault: until then it
    answers 403, which is waited out (up to ``role_propagation_timeout``).
    """
    vault = context.plan.names.key_vault
    client = context.clients.secrets(vault)
    started = time.monotonic()
    timeout = context.clients.azure.role_propagation_timeout
    while True:
        try:
            with azure_errors(f"writing secret {name} to Key Vault {vault}"):
                return _store_once(context, client, name, value)
        except ProvisioningError as failure:
            cause = failure.__cause__
            denied = isinstance(cause, HttpResponseError) and cause.status_code == 403
            if not denied:
                raise
            if time.monotonic() - started >= timeout:
                raise _vault_denied(vault, name, timeout, cause) from cause
            context.reporter.progress(
                f"  ... Key Vault {vault} does not let us in yet (role assignments take a few minutes), "
                f"{time.monotonic() - started:.0f}s"
            )
            time.sleep(min(10.0, max(0.1, timeout / 30)))


def _store_once(context: Context, client: Any, name: str, value: str) -> str:
    started = time.monotonic()
    resource_id = f"{context.plan.key_vault_id()}/secrets/{name}"
    try:
        current = client.get_secret(name)
    except ResourceNotFoundError:
        current = None
    if current is not None and current.value == value:
        context.reporter.step_done("Key Vault secret", "unchanged", resource_id, time.monotonic() - started)
        context.outcomes.append(("Key Vault secret", "unchanged", resource_id))
        return str(current.properties.version)
    stored = client.set_secret(name, value, content_type="text/plain")
    outcome = "created" if current is None else "updated"
    context.reporter.step_done("Key Vault secret", outcome, resource_id, time.monotonic() - started)
    context.outcomes.append(("Key Vault secret", outcome, resource_id))
    return str(stored.properties.version)


def _vault_denied(vault: str, secret: str, waited: float, error: HttpResponseError) -> ProvisioningError:
    said = str(getattr(error.error, "message", None) or error.message or "no details").splitlines()[0].rstrip(".")
    return ProvisioningError(
        f"Key Vault {vault} still refused to let us write secret {secret} after {waited:.0f}s ({said}). "
        'Writing secrets needs the "Key Vault Secrets Officer" role on the vault: '
        f'az role assignment create --role "Key Vault Secrets Officer" --assignee <your object id> --scope <the id of {vault}>, '
        "then run the command again."
    )
