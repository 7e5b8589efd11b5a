from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from provisioning.reporting import Reporter
from provisioning.rotation import rotate


class Command(BaseCommand):
    help = "Rotate an environment's Redis access keys, one at a time, without the site losing Redis or a session."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--environment", "-e", default="dev", help="Environment whose keys to rotate (default dev)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the four steps per region; send nothing to Azure."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        reporter = Reporter(self.stdout, self.style, options["verbosity"])
        reporter.success(rotate(reporter, options["environment"], options["dry_run"]))
