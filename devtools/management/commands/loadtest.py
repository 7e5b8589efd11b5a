import datetime
import platform

from django.core.management.base import BaseCommand, CommandError

from devtools.scaleout import ClusterError, NginxNotInstalled
from devtools.scaleout.loadtest import MARKDOWN_HEADER, compare_instance_counts
from devtools.scaleout.local import cluster_directory, cluster_redis, cluster_settings


class Command(BaseCommand):
    help = (
        "Run the locust shopper journey headless against local clusters of each size given, and print a Markdown table."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--instances",
            type=int,
            nargs="+",
            default=[1, 3],
            help="The cluster sizes to measure, one run each (default: 1 3).",
        )
        parser.add_argument("--users", type=int, default=20, help="Simulated shoppers (default 20).")
        parser.add_argument("--spawn-rate", type=float, default=10, help="Shoppers started per second (default 10).")
        parser.add_argument("--run-time", default="30s", help="How long each run lasts, e.g. 30s or 2m (default 30s).")
        parser.add_argument("--port", type=int, default=8443, help="The https port nginx listens on (default 8443).")
        parser.add_argument("--base-port", type=int, default=8001, help="The first instance's port (default 8001).")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance (default 2).")

    def handle(self, *args, **options):
        say = self.stdout.write if options["verbosity"] > 0 else (lambda message: None)
        directory = cluster_directory("loadtest")

        def settings_for(instances):
            # Its own database and key prefix: the load test's shoppers stay out of the development data.
            return cluster_settings(
                redis_url,
                instances,
                options["port"],
                options["base_port"],
                options["workers"],
                directory=directory,
                database_url=f"sqlite:///{directory / 'db.sqlite3'}",
                # Every simulated shopper comes from the one local address, which the sign-up limit
                # (20 an hour) and the session-creation rate (120 a minute) exist to stop: lift both
                # for the load test's own cluster.
                extra_environment={
                    "REDIS_KEY_PREFIX": "sessiondemo-loadtest",
                    "SIGNUP_ADDRESS_LIMIT": "1000000",
                    "SESSION_CREATION_RATE": "0",
                },
            )

        try:
            with cluster_redis(announce=say) as redis_url:
                results = compare_instance_counts(
                    settings_for,
                    options["instances"],
                    options["users"],
                    options["spawn_rate"],
                    options["run_time"],
                    directory / "results",
                    announce=say,
                )
        except (NginxNotInstalled, ClusterError) as error:
            raise CommandError(str(error)) from None
        machine = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
        self.stdout.write(f"\nLoad test on {datetime.date.today().isoformat()}, {machine}:\n")
        self.stdout.write(MARKDOWN_HEADER)
        for result in results:
            self.stdout.write(result.markdown_row())
        self.stdout.write(self.style.SUCCESS(f"\nlocust's CSV files are in {directory / 'results'}."))
