"""The one place that decides how this project signs in to Azure.

A static bearer token from AZURE_ACCESS_TOKEN when set (CI, offline tests),
else DefaultAzureCredential: the managed identity on App Service, `az login` on
a laptop. Provisioning, Entra ID sign-in to Redis and Key Vault reads all use it.
"""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken, TokenCredential
from django.conf import settings


class StaticTokenCredential:
    """A TokenCredential that hands out one bearer token it was given."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        # The real expiry is unknown; an hour ahead keeps the SDK from asking again mid-run.
        return AccessToken(self._token, int(time.time()) + 3600)


def azure_credential() -> TokenCredential:
    if settings.AZURE_ACCESS_TOKEN:
        return StaticTokenCredential(settings.AZURE_ACCESS_TOKEN)
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()
