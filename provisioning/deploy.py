"""``--deploy``: zip the site, push it with Kudu zip deploy (Oryx installs requirements.txt), wait for ``/readyz``."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

from provisioning.errors import ProvisioningError
from provisioning.services.base import Context

# What App Service needs at the project's root. Oryx installs requirements.txt, the site's
# own requirements; requirements-provision.txt and requirements-dev.txt (and the root
# pyproject.toml, which holds tool settings) stay on the developer's machine, so nothing
# else is installed. gunicorn reads gunicorn.conf.py from the working directory.
SHIPPED_FILES = ("manage.py", "requirements.txt", "gunicorn.conf.py")
# Top-level folders of development tooling and tests: a site process imports none of them.
DEVELOPMENT_FOLDERS = {"tests", "devtools", "loadtest", "scripts"}
# Never shipped, at any depth: tests, caches, virtualenvs, VCS, runtime data and local state.
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
    ".hypothesis",
    "node_modules",
    "test-artifacts",
    "bench-results",
    "htmlcov",
}
EXCLUDED_SUFFIXES = {".pyc", ".pyo", ".sqlite3", ".log"}
EXCLUDED_FILES = {".env"}  # local secrets stay local; the site reads app settings


def shipped_folders(root: Path) -> list[Path]:
    """Every top-level Python package of the project (a folder with __init__.py, or an installable
    app with its own pyproject.toml, such as the session engine), but development tooling and tests."""
    return sorted(
        folder
        for folder in root.iterdir()
        if folder.is_dir()
        and not folder.name.startswith(".")
        and folder.name not in DEVELOPMENT_FOLDERS | EXCLUDED_DIRECTORIES
        and ((folder / "__init__.py").exists() or (folder / "pyproject.toml").exists())
    )


def included(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return (
        not any(part in EXCLUDED_DIRECTORIES for part in parts)
        and path.suffix not in EXCLUDED_SUFFIXES
        and path.name not in EXCLUDED_FILES
    )


def shipped_paths(root: Path) -> list[Path]:
    files = [root / name for name in SHIPPED_FILES if (root / name).is_file()]
    for folder in shipped_folders(root):
        files += [path for path in sorted(folder.rglob("*")) if path.is_file() and included(path, root)]
    return files


def package(root: Path) -> bytes:
    """The site as a zip, in memory: a few hundred kilobytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in shipped_paths(root):
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
