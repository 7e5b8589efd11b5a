from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from provisioning.reporting import Reporter
from provisioning.runner import teardown


class Command(BaseCommand):
    help = "Delete an environment's resource group, purge what would block the next run, and remove its state file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--environment", "-e", default="dev", help="Environment to delete (default dev).")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument(
            "--no-wait", action="store_true", help="Start the deletion and return without waiting for it."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        environment = options["environment"]
        if (
            not options["yes"]
            and input(f"Delete every Azure resource of environment {environment!r}? Type yes: ").strip() != "yes"
        ):
            raise CommandError("Teardown cancelled: nothing was deleted. Type yes at the prompt, or pass --yes.")
        reporter = Reporter(self.stdout, self.style, options["verbosity"])
        reporter.success(teardown(reporter, environment, options["no_wait"]))
