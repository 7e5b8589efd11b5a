"""runserver that starts (or reuses) the embedded Redis first when REDIS_URL is unset."""

from django.conf import settings
from django.contrib.staticfiles.management.commands.runserver import Command as StaticfilesRunserverCommand
from django.core.management.base import CommandError

from devtools.embedded_redis import EmbeddedRedisError, ensure_embedded_redis


class Command(StaticfilesRunserverCommand):
    help = "Start the development server, with the embedded Redis when REDIS_URL is not set."

    def inner_run(self, *args, **options):
        if settings.EMBEDDED_REDIS:
            try:
                server = ensure_embedded_redis(settings.EMBEDDED_REDIS_DIR, announce=False)
            except EmbeddedRedisError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(
                f"Sessions in the embedded Redis on {server.url} (pid {server.pid()}); "
                f"stop it with: .venv/bin/python manage.py embedded_redis stop"
            )
        super().inner_run(*args, **options)
