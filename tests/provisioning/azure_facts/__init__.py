"""What Azure accepts and answers, kept in the repository as data with its sources.

The provisioning tests and the fake Resource Manager read these files and nothing outside
the checkout. Each file says where its facts come from: the repository, path and commit of
Microsoft's REST specifications and examples, or the Microsoft Learn page and the date it
was read.

- ``examples.json``: the shape of each published REST example (property paths and JSON
  types, request and responses), rebuilt by ``extract_examples.py``.
- ``metrics.json``: the platform metrics each resource type publishes, with their units and
  aggregations (Azure Monitor's supported-metrics reference).
- ``diagnostic_categories.json``: the log and metric categories a diagnostic setting may name,
  per resource type.
- ``resource_rules.json``: per resource type and API version, the SKU names accepted, the
  properties a PUT must carry, and those that can only be set at creation.
- ``roles.json``: the permissions of the Owner and Contributor roles, and what Key Vault
  asks of whoever changes a vault's permission model or reads its secrets.

The fake Resource Manager (tests/fixtures/fake_arm/refusals.py) refuses, with Azure's
error shape, whatever these facts say Azure refuses.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FACTS_DIR = Path(__file__).resolve().parent


@cache
def load(name: str) -> dict[str, Any]:
    """One facts file by its stem (``"metrics"`` reads metrics.json)."""
    return json.loads((FACTS_DIR / f"{name}.json").read_text())


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string"


def json_paths(value: Any, prefix: str = "") -> dict[str, str]:
    """Every property path in a JSON value with its JSON type; list items as ``[]``."""
    found: dict[str, str] = {}
    if prefix:
        found[prefix] = json_type(value)
    if isinstance(value, dict):
        for key, item in value.items():
            found.update(json_paths(item, f"{prefix}.{key}" if prefix else key))
    elif isinstance(value, list):
        for item in value:
            found.update(json_paths(item, prefix + "[]"))
    return found


def fold(paths: dict[str, str], maps: tuple[str, ...]) -> dict[str, str]:
    """``paths`` without what lies under ``maps``: objects whose keys are data (tags), not properties."""
    return {
        path: kind
        for path, kind in paths.items()
        if not any(path.startswith(f"{m}.") or path.startswith(f"{m}[]") for m in maps)
    }
