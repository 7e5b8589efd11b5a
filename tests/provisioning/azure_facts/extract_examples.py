"""Rebuild examples.json from a copy of Microsoft's example files: run by hand, never by the tests.

    .venv/bin/python -m tests.provisioning.azure_facts.extract_examples --specs DIR

DIR holds the example files as ``<service>/<version>/examples/<file>.json`` and a README.md
whose table names, for each file, its folder in Azure/azure-rest-api-specs and the commit it
was read at. What is kept of each example is its shape (every property path with its JSON
type, in the request and in each response), a few literal values the tests compare with,
and where it came from; the examples themselves stay outside the repository.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from tests.provisioning.azure_facts import FACTS_DIR, json_paths

REPOSITORY = "Azure/azure-rest-api-specs"
# Literal values the tests compare a body with, by example file: kept because a shape says
# nothing about them.
LITERALS = {
    "keyvault/2026-02-01/examples/createVault.json": ["properties.sku"],
}
# Definitions (OpenAPI files) kept as the property names of the definitions the tests cite.
DEFINITIONS = {
    "monitor-diagnosticsettings/2021-05-01-preview/diagnosticsSettings_API.json": [
        "LogSettings",
        "MetricSettings",
        "DiagnosticSettings",
    ],
    "applicationinsights/2020-02-02/components_API.json": ["ComponentsResource"],
}


def readme_sources(readme: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """``(version, file name) -> (folder in the repository, commit)`` from the README's table."""
    sources: dict[tuple[str, str], tuple[str, str]] = {}
    for line in readme.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 7 or not cells[4].startswith("`specification/"):
            continue
        version, folder = cells[3], cells[4].strip("`")
        for name, commit in re.findall(r"`([^`]+\.json)` @ `([0-9a-f]{40})`", cells[5]):
            sources[(version, name)] = (folder, commit)
    return sources


def request_body(document: dict[str, Any]) -> dict[str, Any]:
    bodies = [value for value in document["parameters"].values() if isinstance(value, dict)]
    # The body parameter; PrivateEndpointCreate also carries an extendedLocation one.
    return next((b for b in bodies if "properties" in b or "location" in b), bodies[0] if bodies else {})


def literal(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        value = value[part]
    return value


def example_facts(specs: Path, relative: str, source: tuple[str, str]) -> dict[str, Any]:
    document = json.loads((specs / relative).read_text())
    body = request_body(document)
    folder, commit = source
    return {
        "repository": REPOSITORY,
        "path": f"{folder}/{Path(relative).name}",
        "commit": commit,
        "api_version": str(document["parameters"].get("api-version", "")),
        "request_paths": json_paths(body),
        "response_paths": {
            code: json_paths(response["body"])
            for code, response in document["responses"].items()
            if isinstance(response.get("body"), dict)
        },
        "literals": {dotted: literal(body, dotted) for dotted in LITERALS.get(relative, [])},
    }


def definition_facts(specs: Path, relative: str, source: tuple[str, str]) -> dict[str, Any]:
    document = json.loads((specs / relative).read_text())
    folder, commit = source
    return {
        "repository": REPOSITORY,
        "path": f"{folder}/{Path(relative).name}",
        "commit": commit,
        "definitions": {name: document["definitions"][name] for name in DEFINITIONS[relative]},
    }


def extract(specs: Path) -> dict[str, Any]:
    sources = readme_sources(specs / "README.md")
    examples = {}
    for path in sorted(specs.glob("*/*/examples/*.json")):
        relative = path.relative_to(specs).as_posix()
        version = relative.split("/")[1]
        examples[relative] = example_facts(specs, relative, sources[(version, path.name)])
    definitions = {}
    for relative in DEFINITIONS:
        version, name = relative.split("/")[1], Path(relative).name
        definitions[relative] = definition_facts(specs, relative, sources[(version, name)])
    return {
        "about": (
            "Shapes of Microsoft's published REST examples (every property path with its JSON type), "
            "extracted by tests/provisioning/azure_facts/extract_examples.py; each entry names the file "
            "in Azure/azure-rest-api-specs and the commit it was read at."
        ),
        "examples": examples,
        "definitions": definitions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", required=True, type=Path, help="Folder of example files with its README.md.")
    arguments = parser.parse_args()
    target = FACTS_DIR / "examples.json"
    target.write_text(json.dumps(extract(arguments.specs), indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
