"""Turn what Azure and azure-core raise into one sentence a user can act on.

Commands wrap their work in ``azure_errors(step)``; whatever the SDK raises comes out as
a ``CommandError`` (printed by Django without a traceback) that names the step, what
Azure said, and what to do next.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from django.core.management.base import CommandError

RERUN = "Run the command again to finish the job; resources already made are kept and reused."


class ProvisioningError(CommandError):
    """An expected failure, already phrased for the user."""


def _azure_code(error: HttpResponseError) -> str:
    code = getattr(error.error, "code", None) if error.error is not None else None
    return str(code or "")


def _azure_message(error: HttpResponseError) -> str:
    message = getattr(error.error, "message", None) if error.error is not None else None
    text = str(message or error.message or error.reason or "no details").strip()
    return text.splitlines()[0].rstrip(".")


def _retry_after(error: HttpResponseError) -> str:
    response = error.response
    value = response.headers.get("Retry-After") if response is not None else None
    return f" Azure asked to wait {value} seconds before retrying." if value else ""


def explain(step: str, error: Exception) -> str:
    """One sentence for the user: what failed (``step``), why, and what to do."""
    if isinstance(error, ClientAuthenticationError) and error.response is None:
        # No HTTP answer: the credential chain itself found nothing to sign in with.
        return (
            f"No Azure credentials were found while {step}. "
            "Run `az login` (or set AZURE_ACCESS_TOKEN, or the AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET "
            "of a service principal) and run the command again."
        )
    if isinstance(error, ClientAuthenticationError):
        return (
            f"Azure refused the credentials while {step}: {_azure_message(error)}. "
            "Sign in with `az login` (or set AZURE_ACCESS_TOKEN to a valid token) and run the command again."
        )
    if isinstance(error, (ServiceRequestError, ServiceResponseError)):
        return (
            f"Azure Resource Manager could not be reached while {step}: {error}. "
            "Check the network and AZURE_ARM_ENDPOINT, then run the command again."
        )
    if not isinstance(error, HttpResponseError):
        return f"{step[0].upper()}{step[1:]} failed: {error}. {RERUN}"
    status = error.status_code
    code = _azure_code(error)
    message = _azure_message(error)
    if "quota" in code.lower() or "quota" in message.lower():
        return (
            f"Azure quota was exceeded while {step}: {message}. "
            "Request more quota for this region (Azure portal, Quotas) or choose another --location or SKU, then run again."
        )
    if isinstance(error, ResourceExistsError) or status == 409:
        return explain_conflict(step, code, message)
    if status == 403:
        return (
            f"Azure denied permission while {step}: {message}. "
            "Everything provision_azure makes needs the Contributor role on the subscription or resource group "
            "(Owner only to let Key Vault use Azure RBAC; without it the vault uses access policies). "
            "Ask for Contributor, then run the command again."
        )
    if status == 429:
        return f"Azure throttled the requests while {step}: {message}.{_retry_after(error)} Wait a minute and run the command again."
    if isinstance(error, ResourceNotFoundError) or status == 404:
        return f"Azure could not find a resource while {step}: {message}. {RERUN}"
    if status is None or status < 400:
        if "fail" in message.lower() or "fail" in code.lower():
            # A long-running operation that ended Failed: the poll itself answered 200.
            return f"Azure left a resource in the Failed state while {step}: {message}. {RERUN}"
        return f"Azure answered in a way this tool does not expect while {step}: {message}. {RERUN}"
    if status >= 500:
        return f"Azure had an internal error ({status}) while {step}: {message}. Wait a few minutes; {RERUN[0].lower()}{RERUN[1:]}"
    return f"Azure rejected the request ({status} {code}) while {step}: {message}. Fix the cause above and run the command again."


# Codes and words Azure answers a 409 with, by what they mean. Sources: Key Vault's
# VaultAlreadyExists and its ConflictError for a soft-deleted vault ("... already exists in
# deleted state ...": Azure/azure-powershell#15115, alan-turing-institute/data-safe-haven#2523);
# RoleAssignmentExists ("The role assignment already exists."); AnotherOperationInProgress and
# "is busy processing a previous update request" for an operation still running.
BUSY_CODES = {"anotheroperationinprogress", "operationinprogress", "resourcebusy", "serverbusy", "conflictingoperation"}
BUSY_WORDS = ("in progress", "busy", "another operation", "is updating", "is being")


def explain_conflict(step: str, code: str, message: str) -> str:
    """A 409 for what it is: a soft-deleted vault, a role already assigned, work in progress, or a name taken."""
    lowered = message.lower()
    if "deleted state" in lowered or "soft-deleted" in lowered or "soft deleted" in lowered:
        return (
            f"A soft-deleted Key Vault still holds the name while {step}: {message}. A deleted vault keeps its name "
            "until it is purged: run `manage.py teardown_azure` (it purges this environment's vaults) or "
            "`az keyvault purge --name <vault>`, or bring it back with `az keyvault recover --name <vault>`, "
            "then run the command again."
        )
    if code == "VaultAlreadyExists":
        return (
            f"The Key Vault name is already taken in Azure while {step}: {message}. Vault names are global; "
            "pick another --name-suffix and run the command again."
        )
    if code == "RoleAssignmentExists":
        return (
            f"The role is already assigned, under another assignment, while {step}: {message}. "
            "Nothing needs granting; delete the other assignment (az role assignment list --scope <vault id>) if you "
            "want provision_azure to own it, then run the command again."
        )
    if code.lower() in BUSY_CODES or any(words in lowered for words in BUSY_WORDS):
        return (
            f"Azure is still busy with an earlier operation while {step}: {message}. "
            "Wait a few minutes for it to finish (the portal shows it), then run the command again."
        )
    return (
        f"A name is already taken while {step}: {message}. "
        "Names of web apps, Redis, Key Vaults and PostgreSQL servers are global; pick another --name-suffix "
        "(or delete the other resource) and run the command again."
    )


@contextmanager
def azure_errors(step: str) -> Iterator[None]:
    """Re-raise anything from Azure inside the block as a ProvisioningError about ``step``."""
    try:
        yield
    except CommandError:
        raise
    except AzureError as error:
        # Every azure-core and azure-identity failure derives from AzureError; anything
        # else is a bug here and keeps its traceback.
        raise ProvisioningError(explain(step, error)) from error
