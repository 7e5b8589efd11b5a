"""The session engines the benchmark compares, each described by the environment that selects it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Engine:
    name: str  # the key in the JSON and the row in the table
    label: str
    environment: dict[str, str] = field(default_factory=dict)
    uses_redis: bool = True


ENGINES = (
    Engine("redis", "this project (Redis hash + Lua)", {"SESSION_BACKEND": "redis"}),
    Engine(
        "django-redis-save-every-request",
        "cache engine on django-redis, SESSION_SAVE_EVERY_REQUEST",
        {"SESSION_BACKEND": "django-redis", "SESSION_SAVE_EVERY_REQUEST": "1"},
    ),
    Engine(
        "django-redis",
        "cache engine on django-redis",
        {"SESSION_BACKEND": "django-redis", "SESSION_SAVE_EVERY_REQUEST": "0"},
    ),
    Engine("db", "database engine (SQLite)", {"SESSION_BACKEND": "db"}, uses_redis=False),
    Engine("signed_cookies", "signed cookies", {"SESSION_BACKEND": "signed_cookies"}, uses_redis=False),
)
