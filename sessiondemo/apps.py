from django.apps import AppConfig
from django.core.signals import setting_changed


def _reset_redis_client(setting, **kwargs):
    if setting.startswith("REDIS_"):
        from sessiondemo.redis_client import reset_client

        reset_client()


class SessionDemoConfig(AppConfig):
    name = "sessiondemo"
    verbose_name = "Session demo"

    def ready(self):
        setting_changed.connect(_reset_redis_client, dispatch_uid="sessiondemo-reset-redis")
