from __future__ import annotations

from argparse import ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from provisioning.catalogue import APP_SERVICE_SKUS
from provisioning.reporting import Reporter
from provisioning.runner import provision


def positive_count(value: str) -> int:
    count = int(value)
    if count < 1:
        raise ArgumentTypeError(f"--instances must be 1 or more, not {count}.")
    return count


def region_list(value: str) -> list[str]:
    regions = [region.strip() for region in value.split(",") if region.strip()]
    if len(regions) < 2:
        raise ArgumentTypeError(
            f"--regions takes two or more regions, like eastus,westeurope, not {value!r}; for one region use --location."
        )
    if len(set(regions)) != len(regions):
        raise ArgumentTypeError(f"--regions names a region twice: {value!r}.")
    return regions


class Command(BaseCommand):
    help = (
        "Create or update the whole Azure deployment (Redis, PostgreSQL, App Service, monitoring); safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--environment",
            "-e",
            default="dev",
            help="Environment name: part of every resource name and of the state file .azure/<environment>.json (default dev).",
        )
        parser.add_argument(
            "--location", help="Azure region, for example eastus (default AZURE_LOCATION, else eastus)."
        )
        parser.add_argument(
            "--regions",
            type=region_list,
            help="Two or more regions, comma-separated (eastus,westeurope): a web app and Managed Redis in each, "
            "Redis joined by active geo-replication, Azure Front Door in front. The first region is primary.",
        )
        parser.add_argument("--resource-group", help="Resource group name (default rg-sessiondemo-<environment>).")
        parser.add_argument(
            "--name-suffix",
            help="Suffix that makes global names unique (default: random, then kept in the state file).",
        )
        parser.add_argument(
            "--redis-product",
            choices=["managed", "cache"],
            help="managed = Azure Managed Redis (default); cache = Azure Cache for Redis, which Microsoft retires "
            "(Basic/Standard/Premium on 2028-09-30) and which tenants without one before 2026-04-01 cannot create.",
        )
        parser.add_argument(
            "--redis-auth",
            choices=["password", "entra"],
            help="password = the app signs in to Redis with an access key kept in Key Vault (default); entra = passwordless: "
            "the web app's managed identity gets an access policy and access keys are turned off.",
        )
        parser.add_argument(
            "--redis-sku",
            help="Redis SKU. Default for managed: the cheapest Balanced SKU that holds the planned sessions "
            "and, with --regions, can geo-replicate (--dry-run shows the SKU and why); MemoryOptimized_M10 for more. "
            "Default for cache: Standard_C1.",
        )
        parser.add_argument(
            "--key-vault-auth",
            choices=["auto", "rbac", "access-policy"],
            help="How the web apps are let into Key Vault: rbac = role assignments (needs Owner or User Access "
            "Administrator); access-policy = the vault's access policies (Contributor is enough); auto (default) = "
            "rbac if Azure says you may assign roles, else access-policy.",
        )
        parser.add_argument(
            "--web-sku",
            choices=list(APP_SERVICE_SKUS),
            help="App Service plan SKU (default B1): "
            + ", ".join(f"{sku.name} up to {sku.max_instances} instances" for sku in APP_SERVICE_SKUS.values())
            + ".",
        )
        parser.add_argument(
            "--clustering-policy",
            choices=["EnterpriseCluster", "OSSCluster"],
            help="Managed Redis clustering policy (default EnterpriseCluster; OSSCluster sets REDIS_CLUSTER=1).",
        )
        parser.add_argument(
            "--instances", type=positive_count, help="App Service workers (default 2); run again with 3 to scale out."
        )
        parser.add_argument("--alert-email", help="Email address the alert action group notifies.")
        parser.add_argument(
            "--deploy",
            action="store_true",
            help="Also zip-deploy the project with Kudu and wait until /readyz answers 200.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the plan and a monthly cost estimate; send nothing to Azure."
        )
        parser.add_argument(
            "--output", choices=["text", "json"], default="text", help="text (default) or json for scripts."
        )
        parser.add_argument(
            "--export-template", metavar="PATH", help="Also write the plan as an ARM template (JSON) to PATH."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        reporter = Reporter(self.stdout, self.style, options["verbosity"], json_output=options["output"] == "json")
        message = provision(reporter, options["environment"], options)
        reporter.success(message)
