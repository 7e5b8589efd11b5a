from django.core.management.base import BaseCommand, CommandError

from devtools.scaleout import Cluster, ClusterError, NginxNotInstalled
from devtools.scaleout.local import cluster_redis, cluster_settings, planned_redis_url


class Command(BaseCommand):
    help = "Run N gunicorn instances of the site on one Redis and one database behind nginx on https, until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--instances", type=int, default=3, help="How many gunicorn instances to run (default 3).")
        parser.add_argument("--port", type=int, default=8443, help="The https port nginx listens on (default 8443).")
        parser.add_argument(
            "--base-port",
            type=int,
            default=8001,
            help="The first instance's port; the others follow it (default 8001).",
        )
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance (default 2).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print the commands and nginx's configuration that would be used, and start nothing.",
        )

    def handle(self, *args, **options):
        say = self.stdout.write if options["verbosity"] > 0 else (lambda message: None)
        sizes = (options["instances"], options["port"], options["base_port"], options["workers"])
        try:
            if options["dry_run"]:
                self.stdout.write(Cluster(cluster_settings(planned_redis_url(), *sizes, dry_run=True)).plan())
                return
            with cluster_redis(announce=say) as redis_url:
                cluster = Cluster(cluster_settings(redis_url, *sizes))
                cluster.start(announce=say)
                try:
                    self.stdout.write(
                        self.style.SUCCESS(
                            f"{options['instances']} instance(s) behind nginx at {cluster.url}/ "
                            f"(certificate authority: {cluster.certificate.authority}). Ctrl-C stops them all."
                        )
                    )
                    cluster.serve_until_stopped(on_exit=say)
                finally:
                    say("Stopping nginx and the instances ...")
                    cluster.stop()
        except (NginxNotInstalled, ClusterError) as error:
            raise CommandError(str(error)) from None
        except KeyboardInterrupt:
            # Ctrl-C before the cluster was up: start() has already stopped what it started.
            raise CommandError("Interrupted while starting; everything started so far is stopped.") from None
        self.stdout.write(self.style.SUCCESS("Stopped; no instance or proxy is left running."))
