"""The local cluster's settings, worked out from the project's settings (the one place this package reads them)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from django.conf import settings

from devtools.embedded_redis import EmbeddedRedis, ensure_embedded_redis, stop_embedded_redis
from devtools.scaleout.cluster import ClusterSettings, local_secret_key

# Django's own prefix for a key nobody should deploy (see its security check W009).
INSECURE_KEY_PREFIX = "django-insecure"


def planned_redis_url() -> str:
    """The Redis URL the instances would get, without starting the embedded Redis."""
    return settings.REDIS_URL


def cluster_directory(name: str = "cluster") -> Path:
    return Path(settings.VAR_DIR) / name


def cluster_settings(
    redis_url: str,
    instances: int,
    https_port: int,
    base_port: int,
    workers: int,
    directory: Path | None = None,
    database_url: str | None = None,
    extra_environment: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> ClusterSettings:
    """A ClusterSettings on this project's database (unless told another) and var/ directory, with a real SECRET_KEY."""
    directory = directory or cluster_directory()
    secret_key = settings.SECRET_KEY
    if secret_key.startswith(INSECURE_KEY_PREFIX):
        # The instances run with DEBUG=0, which refuses the development key.
        secret_key = "(generated at start)" if dry_run else local_secret_key(directory)
    return ClusterSettings(
        directory=directory,
        redis_url=redis_url,
        secret_key=secret_key,
        # The children get the caller's environment, as a shell would pass it on.
        environment={**os.environ, **(extra_environment or {})},
        instances=instances,
        https_port=https_port,
        base_port=base_port,
        workers=workers,
        database_url=database_url or settings.DATABASE_URL,
        var_directory=Path(settings.VAR_DIR),
    )


@contextlib.contextmanager
def cluster_redis(announce=print) -> Iterator[str]:
    """The Redis URL the instances share: REDIS_URL's, or the embedded Redis (stopped after if started here)."""
    if not settings.EMBEDDED_REDIS:
        yield settings.REDIS_URL
        return
    directory = Path(settings.EMBEDDED_REDIS_DIR)
    already_running = EmbeddedRedis(directory.resolve()).is_running()
    server = ensure_embedded_redis(directory, announce=False)
    if not already_running:
        announce(f"Started the embedded Redis on {server.url}.")
    try:
        yield server.url
    finally:
        if not already_running:
            stop_embedded_redis(directory)
            announce("Stopped the embedded Redis (it saved its data first).")
