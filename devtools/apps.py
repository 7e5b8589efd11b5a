from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    name = "devtools"
    verbose_name = "Development tools"

    def ready(self):
        from devtools.embedded_redis import start_when_configured
        from sessiondemo import redis_client

        # The site's Redis factory builds clients for REDIS_URL; with no REDIS_URL in
        # development, that URL is the embedded Redis, started here on first use.
        redis_client.before_first_client(start_when_configured)
