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
        return (
            f"A name is already taken while {step}: {message}. "
            "Names of web apps, Redis and PostgreSQL servers are global; pick another --name-suffix "
            "(or delete the other resource) and run the command again."
        )
    if status == 403:
        return (
            f"Azure denied permission while {step}: {message}. "
            "Ask for the Contributor role on the subscription or resource group, then run the command again."
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
