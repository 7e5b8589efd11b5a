from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from provisioning.reporting import Reporter
from provisioning.runner import status


class Command(BaseCommand):
    help = "Check a provisioned environment as the recipe validates it; exits non-zero when any check fails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--environment", "-e", default="dev", help="Environment to check (default dev).")
        parser.add_argument(
            "--output", choices=["text", "json"], default="text", help="text (a table, default) or json."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        reporter = Reporter(self.stdout, self.style, options["verbosity"], json_output=options["output"] == "json")
        reporter.success(status(reporter, options["environment"]))
