"""Follow a Redis key rotation: re-read REDIS_URL from Key Vault when Redis refuses the password.

App Service resolves a Key Vault reference when the app starts, so a process that
outlives a key rotation still holds the old password. With REDIS_URL_SECRET_URI
set, a connection that Redis refuses reads the secret's newest version (with the
app's managed identity) and tries once more; every later connection uses it.
Reads are rate-limited, so a wrong password can't turn into a flood on Key Vault.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from azure.core.exceptions import AzureError
from django.conf import settings

from sessiondemo.azure_credentials import azure_credential

logger = logging.getLogger("sessiondemo.redis")

# At most one Key Vault read per this many seconds, per process.
MINIMUM_SECONDS_BETWEEN_READS = 10.0


@dataclass(frozen=True)
class RedisCredentials:
    username: str | None
    password: str | None


_lock = threading.Lock()
_rotated: RedisCredentials | None = None
_last_read = float("-inf")


def rotated_credentials() -> RedisCredentials | None:
    """The credentials read from Key Vault after a refusal, if any; they win over REDIS_URL's."""
    return _rotated


def refresh_after_refusal() -> bool:
    """Read the secret again; True when it holds credentials other than the ones refused."""
    global _rotated, _last_read
    if not settings.REDIS_URL_SECRET_URI:
        return False
    with _lock:
        if time.monotonic() - _last_read < MINIMUM_SECONDS_BETWEEN_READS:
            return _rotated is not None
        _last_read = time.monotonic()
        try:
            url = read_secret(settings.REDIS_URL_SECRET_URI)
        except (AzureError, ValueError) as error:
            logger.warning("Redis refused the password, and REDIS_URL_SECRET_URI could not be read: %s", error)
            return False
        parts = urlsplit(url)
        fresh = RedisCredentials(
            unquote(parts.username) if parts.username else None, unquote(parts.password) if parts.password else None
        )
        if fresh == _rotated:
            return False
        _rotated = fresh
        logger.warning("Redis refused the password; using the newest REDIS_URL from Key Vault.")
        return True


def read_secret(secret_uri: str) -> str:
    """The newest value of the Key Vault secret at https://<vault>/secrets/<name>."""
    from azure.keyvault.secrets import SecretClient

    vault_url, _, name = secret_uri.rstrip("/").partition("/secrets/")
    name = name.split("/")[0]  # a versioned URI still means "the newest version"
    host = urlsplit(vault_url).hostname or ""
    client = SecretClient(
        vault_url,
        azure_credential(),
        # Key Vault's challenge names the resource the token is for; check it on Azure's own hosts.
        verify_challenge_resource=host.endswith(".vault.azure.net"),
    )
    with client:
        return client.get_secret(name).value or ""


def forget() -> None:
    """Drop what was read (tests, and a process that is told its settings changed)."""
    global _rotated, _last_read
    with _lock:
        _rotated = None
        _last_read = float("-inf")
