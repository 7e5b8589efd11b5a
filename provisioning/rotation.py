"""``rotate_redis_key``: the two-key rotation, so the site never runs on a key that no longer works.

Redis keeps two access keys, both valid at once. Per region: (a) the Key Vault secret
gets the URL with the secondary key and the app is moved to it; (b) the primary key is
regenerated, which nothing uses now; (c) the secret gets the URL with the new primary and
the app moves back; (d) the secondary is regenerated, so the old one is dead too. Sessions
are data in Redis: regenerating a key changes who may connect, never what is stored.

The app is moved by changing its REDIS_URL app setting, which App Service answers with a
restart that resolves the Key Vault reference again. Waiting for App Service's own
refresh of references would take up to a day, so (a) pins the reference to the new
secret version and (c) sets it back to the unversioned reference, which now resolves to
the latest version: each is a changed setting, so each restarts the app at once, and the
app ends where provision_azure leaves it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from provisioning.clients import AzureClients
from provisioning.deploy import wait_until_ready
from provisioning.errors import ProvisioningError, azure_errors
from provisioning.plan import DeploymentPlan, Region
from provisioning.provision import plan_from_state, redis_url
from provisioning.reporting import Reporter
from provisioning.services import key_vault, redis, web
from provisioning.services.base import Context, rest_shape


def refuse_passwordless(plan: DeploymentPlan) -> None:
    if plan.redis.passwordless:
        raise ProvisioningError(
            f"Environment {plan.environment} signs in to Redis with Microsoft Entra ID (--redis-auth entra): its access "
            "keys are turned off, so there is no key to rotate. Entra tokens are renewed by the app itself."
        )


def describe_steps(plan: DeploymentPlan, region: Region) -> list[str]:
    """The four steps for one region, as sentences: what --dry-run prints and a real run announces."""
    secret = plan.key_vault.redis_secret(region)
    redis = f"{plan.redis.display_name} {region.names.redis}"
    app = region.names.web_app
    return [
        f"Store the secondary key's URL in Key Vault secret {secret} and move {app} to that version",
        f"Regenerate the primary key of {redis}",
        f"Store the new primary key's URL in {secret} and move {app} back to the latest version",
        f"Regenerate the secondary key of {redis}",
    ]


def steps_for(context: Context, region: Region) -> list[Callable[[], None]]:
    return [
        lambda: move_app(context, region, "secondary", pin=True),
        lambda: regenerate(context, region, "primary"),
        lambda: move_app(context, region, "primary", pin=False),
        lambda: regenerate(context, region, "secondary"),
    ]


def move_app(context: Context, region: Region, which: str, pin: bool) -> None:
    """Point the app's REDIS_URL at the secret holding ``which`` key, and wait until it serves again."""
    plan = context.plan
    secret = plan.key_vault.redis_secret(region)
    with azure_errors(f"reading the {which} key of Redis {region.names.redis}"):
        url = redis_url(context, region, which)
    version = key_vault.store_secret(context, secret, url)
    reference = key_vault.reference(context, secret, version if pin else "")
    web.provision_app_settings(context, {"REDIS_URL": reference}, region)
    wait_until_ready(context, f"{context.clients.azure.site_url(region.names.web_app)}/readyz")
    grace = context.clients.azure.rotation_grace_seconds
    if grace:
        # /readyz came from one instance; give the others time to finish their restart too.
        context.reporter.progress(f"  ... giving every instance {grace:.0f}s to restart on the {which} key")
        time.sleep(grace)


def regenerate(context: Context, region: Region, which: str) -> None:
    with azure_errors(f"regenerating the {which} key of Redis {region.names.redis}"):
        redis.for_plan(context.plan).regenerate_access_key(context, region, which)


def learn_facts(context: Context) -> None:
    """What provision_azure learnt on its way and the rotation needs: host names and the vault's URI."""
    plan = context.plan
    with azure_errors(f"reading Key Vault {plan.names.key_vault}"):
        vault = rest_shape(context.clients.key_vault.vaults.get(context.group, plan.names.key_vault))
    context.facts["key_vault_uri"] = str((vault.get("properties") or {}).get("vaultUri", "")).rstrip("/")
    for region in plan.region_plans():
        with azure_errors(f"reading Redis {region.names.redis}"):
            found = redis.for_plan(plan).read(context, region)
        context.facts[f"redis_host:{region.location}"] = (found.get("properties") or {}).get("hostName", "")


def rotate(reporter: Reporter, environment: str, dry_run: bool) -> str:
    from provisioning.runner import start

    azure = start(reporter)
    plan, state = plan_from_state(azure, environment)
    refuse_passwordless(plan)
    if dry_run:
        reporter.heading(f"Key rotation plan for environment {environment} (dry run: nothing is sent to Azure)")
        for region in plan.region_plans():
            for label, description in zip("abcd", describe_steps(plan, region), strict=False):
                reporter.line(f"  ({label}) {description}")
        return f"Dry run: {4 * len(plan.region_plans())} rotation steps planned; nothing was sent."
    context = Context(plan=plan, clients=AzureClients(azure), state=state, reporter=reporter)
    started = time.monotonic()
    reporter.heading(f"Rotating the Redis keys of environment {environment}:")
    learn_facts(context)
    for region in plan.region_plans():
        for label, description, step in zip(
            "abcd", describe_steps(plan, region), steps_for(context, region), strict=False
        ):
            reporter.line(f"  ({label}) {description} ...")
            step()
            reporter.line(f"  ({label}) done at {time.monotonic() - started:.1f}s")
    state.save()  # keeps the secrets' digest key, if this run made it
    return (
        f"Redis keys of environment {environment} rotated in {time.monotonic() - started:.1f}s: "
        "the site runs on the new primary key and both old keys are dead."
    )
