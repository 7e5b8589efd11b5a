"""The one factory for Azure clients, and the one place provisioning reads settings.

Credentials: a static bearer token from ``AZURE_ACCESS_TOKEN`` when set (offline tests,
CI with a token minted elsewhere), else ``DefaultAzureCredential``. The Resource Manager
endpoint comes from ``AZURE_ARM_ENDPOINT``. The CA bundle in ``REQUESTS_CA_BUNDLE`` is
honoured by azure-core's requests transport itself (``trust_env``), so nothing here
touches TLS verification.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.pipeline.transport import RequestsTransport
from django.conf import settings

from provisioning.errors import ProvisioningError
from sessiondemo.azure_credentials import StaticTokenCredential, azure_credential

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
# Where the management SDKs are listed; the site's own requirements.txt has none of them.
PROVISION_REQUIREMENTS = "requirements-provision.txt"
# Each client provisioning builds: its module and class in the Azure management SDKs.
MANAGEMENT_CLIENTS: dict[str, tuple[str, str]] = {
    "resources": ("azure.mgmt.resource.resources", "ResourceManagementClient"),
    "log_analytics": ("azure.mgmt.loganalytics", "LogAnalyticsManagementClient"),
    "app_insights": ("azure.mgmt.applicationinsights", "ApplicationInsightsManagementClient"),
    "network": ("azure.mgmt.network", "NetworkManagementClient"),
    "private_dns": ("azure.mgmt.privatedns", "PrivateDnsManagementClient"),
    "redis_enterprise": ("azure.mgmt.redisenterprise", "RedisEnterpriseManagementClient"),
    "redis_cache": ("azure.mgmt.redis", "RedisManagementClient"),
    "postgres": ("azure.mgmt.postgresqlflexibleservers", "PostgreSQLManagementClient"),
    "web": ("azure.mgmt.web", "WebSiteManagementClient"),
    "monitor": ("azure.mgmt.monitor", "MonitorManagementClient"),
    "cdn": ("azure.mgmt.cdn", "CdnManagementClient"),
    "key_vault": ("azure.mgmt.keyvault", "KeyVaultManagementClient"),
    "authorization": ("azure.mgmt.authorization", "AuthorizationManagementClient"),
}


def require_management_sdks() -> None:
    """Refuse with a sentence, before anything is sent, when an Azure management SDK is missing.

    Only found, not imported: importing them all would cost seconds.
    """
    for module, _ in MANAGEMENT_CLIENTS.values():
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:  # a parent package is missing, or cannot be imported
            found = False
        if not found:
            raise ProvisioningError(
                f"The Azure management SDKs are not installed ({module} is missing): "
                f"run .venv/bin/pip install -r {PROVISION_REQUIREMENTS}, then run the command again."
            )


@dataclass(frozen=True)
class AzureSettings:
    """Everything provisioning takes from Django settings, read once."""

    subscription_id: str
    arm_endpoint: str
    access_token: str
    location: str
    state_dir: Path
    polling_interval: float
    retry_total: int
    retry_backoff_factor: float
    scm_url_template: str
    site_url_template: str
    front_door_url_template: str
    readiness_timeout: float
    project_dir: Path
    # How long to wait for App Service to resolve the app's Key Vault references.
    key_vault_reference_timeout: float = 300
    rotation_grace_seconds: float = 60

    @classmethod
    def from_django(cls) -> AzureSettings:
        return cls(
            subscription_id=settings.AZURE_SUBSCRIPTION_ID,
            arm_endpoint=(settings.AZURE_ARM_ENDPOINT or DEFAULT_ARM_ENDPOINT).rstrip("/"),
            access_token=settings.AZURE_ACCESS_TOKEN,
            location=settings.AZURE_LOCATION or "eastus",
            state_dir=Path(settings.AZURE_STATE_DIR),
            # Knobs with no environment variable: the tests set them to poll fast and reach the fake.
            polling_interval=float(getattr(settings, "AZURE_POLLING_INTERVAL", 15)),
            retry_total=int(getattr(settings, "AZURE_RETRY_TOTAL", 5)),
            retry_backoff_factor=float(getattr(settings, "AZURE_RETRY_BACKOFF_FACTOR", 0.8)),
            # Kudu and the site live on their own hosts; tests point both at the fake.
            scm_url_template=getattr(settings, "AZURE_SCM_URL_TEMPLATE", "") or "https://{app}.scm.azurewebsites.net",
            site_url_template=getattr(settings, "AZURE_SITE_URL_TEMPLATE", "") or "https://{app}.azurewebsites.net",
            front_door_url_template=getattr(settings, "AZURE_FRONTDOOR_URL_TEMPLATE", "") or "https://{host}",
            readiness_timeout=float(getattr(settings, "AZURE_READINESS_TIMEOUT", 600)),
            project_dir=Path(settings.BASE_DIR),
            key_vault_reference_timeout=float(getattr(settings, "AZURE_KEY_VAULT_REFERENCE_TIMEOUT", 300)),
            rotation_grace_seconds=float(getattr(settings, "AZURE_ROTATION_GRACE_SECONDS", 60)),
        )

    def scm_url(self, app: str) -> str:
        return self.scm_url_template.format(app=app).rstrip("/")

    def site_url(self, app: str) -> str:
        return self.site_url_template.format(app=app).rstrip("/")

    def front_door_url(self, host: str) -> str:
        return self.front_door_url_template.format(host=host).rstrip("/")


class AzureClients:
    """Builds each SDK client once, all sharing one credential, endpoint and HTTP session."""

    def __init__(self, azure: AzureSettings) -> None:
        if not azure.subscription_id:
            raise ProvisioningError(
                "No Azure subscription is set. Set AZURE_SUBSCRIPTION_ID to the subscription to deploy into "
                "(az account show --query id -o tsv prints yours)."
            )
        self.azure = azure
        self.subscription_id = azure.subscription_id
        self.credential = self._credential()
        self.transport = RequestsTransport()  # one connection pool for every client

    def _credential(self) -> TokenCredential:
        if self.azure.access_token:
            return StaticTokenCredential(self.azure.access_token)
        return azure_credential()

    def _options(self) -> dict[str, Any]:
        return {
            "base_url": self.azure.arm_endpoint,
            "credential_scopes": [f"{self.azure.arm_endpoint}/.default"],
            "polling_interval": self.azure.polling_interval,
            "retry_total": self.azure.retry_total,
            "retry_backoff_factor": self.azure.retry_backoff_factor,
            "transport": self.transport,
        }

    def _build(self, client_class: type, **extra: Any) -> Any:
        return client_class(self.credential, self.subscription_id, **self._options(), **extra)

    def _client(self, attribute: str) -> Any:
        module, name = MANAGEMENT_CLIENTS[attribute]
        return self._build(getattr(importlib.import_module(module), name))

    @cached_property
    def resources(self) -> Any:
        return self._client("resources")

    @cached_property
    def log_analytics(self) -> Any:
        return self._client("log_analytics")

    @cached_property
    def app_insights(self) -> Any:
        return self._client("app_insights")

    @cached_property
    def network(self) -> Any:
        return self._client("network")

    @cached_property
    def private_dns(self) -> Any:
        return self._client("private_dns")

    @cached_property
    def redis_enterprise(self) -> Any:
        return self._client("redis_enterprise")

    @cached_property
    def redis_cache(self) -> Any:
        return self._client("redis_cache")

    @cached_property
    def postgres(self) -> Any:
        return self._client("postgres")

    @cached_property
    def web(self) -> Any:
        return self._client("web")

    @cached_property
    def monitor(self) -> Any:
        return self._client("monitor")

    @cached_property
    def cdn(self) -> Any:
        return self._client("cdn")

    @cached_property
    def key_vault(self) -> Any:
        return self._client("key_vault")

    @cached_property
    def authorization(self) -> Any:
        return self._client("authorization")

    def http(self) -> HttpSession:
        return HttpSession(self.credential, self.azure)


class HttpSession:
    """Plain HTTPS for Kudu and the site's /readyz, with the same CA handling as the SDK."""

    def __init__(self, credential: TokenCredential, azure: AzureSettings) -> None:
        import requests

        self.session = requests.Session()  # trust_env: REQUESTS_CA_BUNDLE applies here too
        self.credential = credential
        self.azure = azure

    def bearer(self) -> dict[str, str]:
        token = self.credential.get_token(f"{self.azure.arm_endpoint}/.default").token
        return {"Authorization": f"Bearer {token}"}
