"""What every service module shares: the desired resource, the run context, and ``ensure``.

``ensure`` is the idempotency rule in one place: read the resource, and only when it is
missing, not ``Succeeded``, or different from the plan, write it and wait for Azure to
finish; otherwise report it unchanged and send nothing.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.core.polling import LROPoller

from provisioning.clients import AzureClients
from provisioning.errors import RERUN, ProvisioningError, azure_errors
from provisioning.plan import DeploymentPlan
from provisioning.reporting import Reporter
from provisioning.state import DeploymentState

PROGRESS_EVERY_SECONDS = 15.0


@dataclass(frozen=True)
class Desired:
    """One resource as the plan wants it: its id and the REST body that would be PUT."""

    title: str
    resource_type: str
    name: str
    resource_id: str
    api_version: str
    body: dict[str, Any]
    # Properties Azure accepts but never returns (passwords): not compared.
    write_only: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()


@dataclass
class Context:
    plan: DeploymentPlan
    clients: AzureClients
    state: DeploymentState
    reporter: Reporter
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)  # (title, outcome, id)
    facts: dict[str, Any] = field(default_factory=dict)  # host names, keys: never printed

    @property
    def group(self) -> str:
        return self.plan.names.resource_group


def to_model(model_class: type, body: dict[str, Any]) -> Any:
    """The SDK model for a REST-shaped body, so the SDK serializes it as it would its own."""
    if issubclass(model_class, MutableMapping):
        return model_class(body)
    return model_class.deserialize(body)


def rest_shape(model: Any) -> dict[str, Any]:
    """A model read back from Azure, as the REST JSON it came from."""
    if model is None:
        return {}
    if isinstance(model, MutableMapping):
        return model.as_dict() if hasattr(model, "as_dict") else dict(model)
    return model.serialize(keep_readonly=True)


def _same_scalar(wanted: Any, actual: Any) -> bool:
    if isinstance(wanted, str) and isinstance(actual, str):
        # ARM echoes ids, locations and enum values in its own casing and spacing.
        return wanted.replace(" ", "").lower() == actual.replace(" ", "").lower()
    if isinstance(wanted, (int, float)) and isinstance(actual, str):
        return str(wanted) == actual
    return wanted == actual


def differences(wanted: Any, actual: Any, path: str = "") -> list[str]:
    """Paths where ``actual`` does not hold what ``wanted`` asks for (extra keys in actual are fine)."""
    if isinstance(wanted, dict):
        if not isinstance(actual, dict):
            return [path or "."]
        found: list[str] = []
        for key, value in wanted.items():
            found += differences(value, actual.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(wanted, list):
        if not isinstance(actual, list) or len(wanted) != len(actual):
            return [path]
        return [d for w, a in zip(wanted, actual, strict=False) for d in differences(w, a, path + "[]")]
    return [] if _same_scalar(wanted, actual) else [path]


def without(body: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    """A copy of ``body`` without the dotted ``paths``; the body itself is left as it is."""
    trimmed = copy.deepcopy(body)
    for dotted in paths:
        parent: Any = trimmed
        *heads, last = dotted.split(".")
        for head in heads:
            parent = parent.get(head, {}) if isinstance(parent, dict) else {}
        if isinstance(parent, dict):
            parent.pop(last, None)
    return trimmed


def provisioning_state(current: dict[str, Any]) -> str:
    return str((current.get("properties") or {}).get("provisioningState") or current.get("provisioningState") or "")


def read_or_none(read: Callable[[], Any]) -> dict[str, Any] | None:
    try:
        return rest_shape(read())
    except ResourceNotFoundError:
        return None


def wait(context: Context, poller: Any, what: str) -> Any:
    """Wait for a long-running operation, saying so every so often."""
    if not isinstance(poller, LROPoller):
        return poller
    started = time.monotonic()
    while not poller.done():
        poller.wait(timeout=PROGRESS_EVERY_SECONDS)
        if not poller.done():
            context.reporter.progress(f"  ... still waiting for {what} ({time.monotonic() - started:.0f}s)")
    return poller.result()


def ensure(
    context: Context,
    desired: Desired,
    read: Callable[[], Any],
    write: Callable[[Any], Any],
    update: Callable[[Any], Any] | None = None,
) -> dict[str, Any]:
    """Make ``desired`` true in Azure, sending a write only when something differs.

    ``update`` is used instead of ``write`` for a resource that already exists, where the
    service wants a PATCH rather than a PUT.
    """
    started = time.monotonic()
    context.reporter.step_started(desired.title, desired.name)
    with azure_errors(f"reading {desired.title} {desired.name}"):
        current = read_or_none(read)
    compared = without(desired.body, desired.write_only)
    if current is not None and provisioning_state(current) in ("", "Succeeded") and not differences(compared, current):
        context.reporter.step_done(desired.title, "unchanged", desired.resource_id, time.monotonic() - started)
        context.outcomes.append((desired.title, "unchanged", desired.resource_id))
        return current
    outcome = "created" if current is None else ("repaired" if provisioning_state(current) == "Failed" else "updated")
    with azure_errors(f"creating {desired.title} {desired.name}"):
        writer = update if (update is not None and current is not None) else write
        result = rest_shape(wait(context, writer(desired.body), f"{desired.title} {desired.name}"))
    if provisioning_state(result) == "Failed":
        raise ProvisioningError(f"Azure left {desired.title} {desired.name} in the Failed state. {RERUN}")
    context.reporter.step_done(desired.title, outcome, desired.resource_id, time.monotonic() - started)
    context.outcomes.append((desired.title, outcome, desired.resource_id))
    return result
