"""Start, stop or show the embedded development Redis under var/redis/."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools.embedded_redis import EmbeddedRedis, EmbeddedRedisError, ensure_embedded_redis, stop_embedded_redis


class Command(BaseCommand):
    help = "Start, stop or show the embedded Redis that local processes share when REDIS_URL is unset."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["start", "stop", "status"], help="What to do with the embedded Redis.")

    def handle(self, *args, action, **options):
        directory = settings.EMBEDDED_REDIS_DIR
        try:
            if action == "start":
                server = ensure_embedded_redis(directory, announce=False)
                self.stdout.write(self.style.SUCCESS(f"Embedded Redis runs on {server.url} (pid {server.pid()})."))
            elif action == "stop":
                if stop_embedded_redis(directory):
                    self.stdout.write(self.style.SUCCESS(f"Embedded Redis stopped; its data stays in {directory}."))
                else:
                    self.stdout.write("Embedded Redis was not running.")
            else:
                server = EmbeddedRedis(directory.resolve())
                if server.is_running():
                    self.stdout.write(self.style.SUCCESS(f"Embedded Redis runs on {server.url} (pid {server.pid()})."))
                else:
                    raise CommandError(f"Embedded Redis is not running (it would use {server.url}).")
        except EmbeddedRedisError as error:
            raise CommandError(str(error)) from None
