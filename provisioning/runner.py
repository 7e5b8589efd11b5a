"""What the three commands do, as functions the thin ``handle()`` methods call."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from provisioning.clients import AzureClients, AzureSettings, require_management_sdks
from provisioning.deploy import deploy
from provisioning.errors import ProvisioningError
from provisioning.plan import DeploymentPlan
from provisioning.provision import (
    desired_resources,
    open_state,
    plan_from_options,
    plan_from_state,
    provision_everything,
)
from provisioning.reporting import Reporter, table
from provisioning.services.base import Context
from provisioning.status import run_checks
from provisioning.teardown import delete_group
from provisioning.template import arm_template

PLAN_OPTIONS = (
    "location",
    "regions",
    "redis_product",
    "redis_auth",
    "redis_sku",
    "clustering_policy",
    "instances",
    "alert_email",
    "resource_group",
    "name_suffix",
    "key_vault_auth",
    "web_sku",
)


def quiet_sdk_logging(verbosity: int) -> None:
    """The SDK logs every request at INFO; show that only at --verbosity 3."""
    logging.getLogger("azure").setLevel(logging.INFO if verbosity >= 3 else logging.WARNING)
    # The credential chain's own warning repeats what our error sentence says.
    logging.getLogger("azure.identity").setLevel(logging.INFO if verbosity >= 3 else logging.ERROR)


def start(reporter: Reporter) -> AzureSettings:
    """What every command does first: its logging, its SDKs checked, its settings read."""
    quiet_sdk_logging(reporter.verbosity)
    require_management_sdks()
    return AzureSettings.from_django()


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _flatten(item, f"{prefix}.{key}" if prefix else key)]
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        return [pair for index, item in enumerate(value) for pair in _flatten(item, f"{prefix}[{index}]")]
    return [(prefix, json.dumps(value) if not isinstance(value, str) else value)]


def describe_plan(plan: DeploymentPlan, reporter: Reporter) -> None:
    """The whole plan, line by line, and what it costs: nothing is sent."""
    where = ", ".join(plan.regions) if plan.is_global else plan.location
    reporter.heading(f"Plan for environment {plan.environment} in {where} (dry run: nothing is sent to Azure)")
    for note in plan.redis.spec.notices():
        reporter.note(note)
    for number, item in enumerate(desired_resources(plan), start=1):
        reporter.line(f"{number:>3}. {item.title}: {item.name}  [{item.resource_type} @ {item.api_version}]")
        reporter.line(f"       id: {item.resource_id}")
        for key, value in _flatten(item.body):
            reporter.line(f"       {key} = {value}")
    vault = plan.names.key_vault
    references = "SECRET_KEY and DATABASE_URL" if plan.redis.passwordless else "REDIS_URL, SECRET_KEY and DATABASE_URL"
    if plan.redis.passwordless:
        reporter.line(
            "  Redis access keys are off: REDIS_URL holds no password, REDIS_AUTH=entra, and the web app's identity signs in to Redis."
        )
    reporter.line(f"  The web app's app settings are merged ({references} as Key Vault references, REDIS_AUTH,")
    reporter.line("  REDIS_CLUSTER, DEBUG, DJANGO_SETTINGS_MODULE, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS,")
    reporter.line(
        "  APPLICATIONINSIGHTS_CONNECTION_STRING, SCM_DO_BUILD_DURING_DEPLOYMENT); existing settings are kept. Then the run"
    )
    reporter.line(
        "  waits until App Service reports every Key Vault reference Resolved, restarting the app once if needed."
    )
    reporter.line("")
    reporter.line("Who may read the Key Vault:")
    reporter.line(f"  {_key_vault_mode(plan)}")
    reporter.line(
        f"  Secrets are written through Resource Manager; Key Vault {vault} takes no public traffic (private endpoint only)."
    )
    reporter.note(
        f"Key Vault {vault} keeps deleted secrets and itself for {plan.key_vault.soft_delete_retention_days} days (soft delete); "
        "purge protection stays off so teardown_azure can purge it and the name can be used again."
    )
    reporter.line("")
    reporter.line("Alerts (each region's Redis; in Azure Monitor's metric names for the product):")
    for rule in plan.alerts:
        reporter.line(f"  {rule.name}: {rule.meaning} [{rule.metric}, {rule.aggregation} > {rule.threshold:g}]")
    reporter.line("Diagnostic settings (to the Log Analytics workspace):")
    for diagnostic in plan.diagnostics:
        categories = ", ".join((*diagnostic.log_categories, *diagnostic.metric_categories))
        reporter.line(f"  {diagnostic.name} on the {diagnostic.target.replace('_', ' ')}: {categories}")
    for note in plan.notes():
        if note not in plan.redis.spec.notices():
            reporter.note(note)
    reporter.line("")
    reporter.line(f"Redis size: {plan.sizing()}")
    rows = [
        (line.item, line.sku, str(line.quantity), f"{line.monthly_usd_each:.2f}", f"{line.monthly_usd:.2f}")
        for line in plan.costs()
    ]
    rows.append(("Total (estimate)", "", "", "", f"{plan.monthly_total():.2f}"))
    reporter.line("")
    reporter.line(
        "Monthly cost estimate (USD, pay-as-you-go list prices; sources in provisioning/catalogue.py; "
        "check the Azure pricing calculator):"
    )
    reporter.line(table(rows, ("Item", "SKU", "Qty", "Each", "Monthly")))


def _key_vault_mode(plan: DeploymentPlan) -> str:
    asked = plan.key_vault.auth
    if asked == "rbac":
        return "Azure RBAC (--key-vault-auth rbac): the web apps get Key Vault Secrets User; you need Owner or User Access Administrator."
    if asked == "access-policy":
        return "Access policies (--key-vault-auth access-policy): the web apps may get secrets; Contributor is enough."
    return (
        "Decided at run time (--key-vault-auth auto): Azure RBAC if Azure says you may assign roles "
        "(Microsoft.Authorization/roleAssignments/write), else access policies, which Contributor may write. "
        "The plan above shows RBAC."
    )


def plan_document(plan: DeploymentPlan) -> dict[str, Any]:
    return {
        "plan": plan.as_dict(),
        "resources": [
            {
                "title": d.title,
                "type": d.resource_type,
                "name": d.name,
                "id": d.resource_id,
                "apiVersion": d.api_version,
                "body": d.body,
            }
            for d in desired_resources(plan)
        ],
    }


def provision(reporter: Reporter, environment: str, options: dict[str, Any]) -> str:
    azure = start(reporter)
    state = open_state(azure, environment)
    kept_options = state.data.get("options")
    plan = plan_from_options(azure, state, {key: options.get(key) for key in PLAN_OPTIONS})
    if options.get("export_template"):
        path = Path(options["export_template"])
        path.write_text(json.dumps(arm_template(plan), indent=2) + "\n")
        reporter.line(f"ARM template written to {path}")
    if options.get("dry_run"):
        # Keep the name suffix, so the real run uses the names shown, but not the options:
        # a dry run must not change what the next real run does.
        state.data["options"] = kept_options
        if kept_options is None:
            del state.data["options"]
        state.save()
        if reporter.json_output:
            reporter.document(plan_document(plan))
        else:
            describe_plan(plan, reporter)
        return f"Dry run: {len(desired_resources(plan))} resources planned, about ${plan.monthly_total():.2f} a month; nothing was sent."
    context = Context(plan=plan, clients=AzureClients(azure), state=state, reporter=reporter)
    state.save()  # before any call: a run that fails half-way reuses these names and secrets
    provision_everything(context)
    if options.get("deploy"):
        deploy(context, azure.project_dir)
    changed = sum(1 for _, outcome, _ in context.outcomes if outcome != "unchanged")
    if reporter.json_output:
        reporter.document(
            {
                "environment": plan.environment,
                "resource_group": plan.names.resource_group,
                "site_url": state.data.get("site_url"),
                "steps": [{"title": t, "outcome": o, "id": i} for t, o, i in context.outcomes],
            }
        )
    return (
        f"Environment {plan.environment} is provisioned: {changed} changed, "
        f"{len(context.outcomes) - changed} already right. Site: {state.data.get('site_url')}"
    )


def status(reporter: Reporter, environment: str) -> str:
    azure = start(reporter)
    plan, state = plan_from_state(azure, environment)
    context = Context(plan=plan, clients=AzureClients(azure), state=state, reporter=reporter)
    checks = run_checks(context)
    failed = [check for check in checks if not check.passed]
    if reporter.json_output:
        reporter.document(
            {
                "environment": environment,
                "healthy": not failed,
                "checks": [{"check": c.name, "passed": c.passed, "detail": c.detail} for c in checks],
            }
        )
    else:
        rows = [(c.name, "ok" if c.passed else "FAIL", c.detail) for c in checks]
        reporter.line(table(rows, ("Check", "Result", "Detail")), level=0)
    if failed:
        raise ProvisioningError(
            f"{len(failed)} of {len(checks)} checks failed for environment {environment} "
            f"({', '.join(c.name for c in failed)}). Run `manage.py provision_azure --environment {environment}` to repair, "
            "or look at the failing resources in the portal."
        )
    return f"All {len(checks)} checks passed for environment {environment}."


def teardown(reporter: Reporter, environment: str, no_wait: bool) -> str:
    azure = start(reporter)
    plan, state = plan_from_state(azure, environment)
    context = Context(plan=plan, clients=AzureClients(azure), state=state, reporter=reporter)
    gone = delete_group(context, no_wait=no_wait)
    state.remove()
    if not gone:
        return f"Deletion of resource group {plan.names.resource_group} started; the local state file was removed."
    return f"Environment {environment} is torn down: resource group {plan.names.resource_group} is gone and the state file removed."
