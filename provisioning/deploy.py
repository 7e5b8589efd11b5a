"""``--deploy``: zip the project, push it with Kudu zip deploy (Oryx builds it), wait for ``/readyz``."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

from provisioning.errors import ProvisioningError
from provisioning.services.base import Context

# Never shipped: the local virtualenv, runtime data, tests, caches, VCS and local state.
EXCLUDED_DIRECTORIES = {
    ".venv",
    "venv",
    "var",
    "tests",
    ".git",
    ".azure",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "node_modules",
    "test-artifacts",
    "bench-results",
    "htmlcov",
}
EXCLUDED_SUFFIXES = {".pyc", ".pyo", ".sqlite3", ".log"}
EXCLUDED_FILES = {".env"}  # local secrets stay local; the site reads app settings


def included(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return (
        not any(part in EXCLUDED_DIRECTORIES for part in parts)
        and path.suffix not in EXCLUDED_SUFFIXES
        and path.name not in EXCLUDED_FILES
    )


def package(root: Path) -> bytes:
    """The project as a zip, in memory: a few hundred kilobytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file() and included(path, root):
                archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()


def deploy(context: Context, root: Path) -> None:
    """Deploy to every region's web app, then wait for each, and Front Door, to answer /readyz."""
    archive = package(root)
    regions = context.plan.region_plans()
    for region in regions:
        push(context, region.names.web_app, archive)
    for region in regions:
        wait_until_ready(context, f"{context.clients.azure.site_url(region.names.web_app)}/readyz")
    if context.facts.get("front_door_host"):
        wait_until_ready(context, f"{context.clients.azure.front_door_url(context.facts['front_door_host'])}/readyz")


def push(context: Context, app: str, archive: bytes) -> None:
    azure = context.clients.azure
    http = context.clients.http()
    context.reporter.line(f"  Deploying {len(archive) // 1024} KiB to {app} with Kudu zip deploy (Oryx build) ...")
    url = f"{azure.scm_url(app)}/api/zipdeploy"
    try:
        response = http.session.post(
            url,
            data=archive,
            headers={**http.bearer(), "Content-Type": "application/zip"},
            timeout=azure.readiness_timeout,
        )
    except OSError as error:
        raise ProvisioningError(
            f"The zip deploy to {url} could not be sent: {error}. Check the network and run again with --deploy."
        ) from error
    if response.status_code not in (200, 202):
        raise ProvisioningError(
            f"Kudu refused the zip deploy to {app} ({response.status_code}): {response.text[:200]}. "
            "Check the deployment log in the Azure portal (Deployment Center) and run again with --deploy."
        )


def wait_until_ready(context: Context, url: str) -> None:
    azure = context.clients.azure
    http = context.clients.http()
    started = time.monotonic()
    last = "no answer"
    while time.monotonic() - started < azure.readiness_timeout:
        try:
            response = http.session.get(url, timeout=10)
            if response.status_code == 200:
                context.reporter.line(f"  {url} answered 200 after {time.monotonic() - started:.0f}s")
                return
            last = str(response.status_code)
        except OSError as error:
            last = str(error)
        context.reporter.progress(f"  ... waiting for {url} ({last}, {time.monotonic() - started:.0f}s)")
        time.sleep(min(10.0, max(0.2, azure.readiness_timeout / 20)))
    raise ProvisioningError(
        f"The site did not become ready: {url} last answered {last} after {azure.readiness_timeout:.0f}s. "
        "Look at the log stream (az webapp log tail) and run `manage.py azure_status`."
    )
