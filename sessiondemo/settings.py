"""The one settings module: every value comes from an environment variable.

Each variable is listed, with its default, in the README's table. Nothing else in
the project reads ``os.environ``; code reads ``django.conf.settings``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SESSIONDEMO_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {raw!r}.")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Production unless told otherwise: the WSGI app (gunicorn, waitress, App Service) runs
# with DEBUG=0 and refuses to start without SECRET_KEY and REDIS_URL. manage.py sets
# DEBUG=1 when the environment does not say, so commands typed in a plain shell
# (runserver, check, provision_azure, ...) run as development.
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random string in production, or set DEBUG=1 for local development."
        )
    # A fixed, obviously unsafe key for DEBUG only; production never gets here.
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Proxies in front of the site that append to X-Forwarded-For (App Service's front end,
# the local nginx): the client's address is read that many entries from the right.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1)

# App Service sets WEBSITE_INSTANCE_ID on each worker; locally the served-by value
# is host:port and pid, worked out per request.
INSTANCE_ID = os.environ.get("WEBSITE_INSTANCE_ID", "")

INSTALLED_APPS = [
    "sessiondemo",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "accounts",
    "cart",
    "provisioning",
    "observability",
]
if DEBUG:
    # The development tools (embedded Redis, runcluster, bench_sessions, loadtest); first,
    # so that their runserver (which starts the embedded Redis) wins. Production never
    # loads them.
    INSTALLED_APPS.insert(0, "devtools")

MIDDLEWARE = [
    # First: its latency and Redis round trips cover everything below, the session save included.
    "observability.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sessiondemo.middleware.ServedByMiddleware",
    "sessiondemo.middleware.ContentSecurityPolicyMiddleware",
    "sessionkeeper.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After both: why a session this browser came back with is over, in one line.
    "sessiondemo.middleware.SessionEndingMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sessiondemo.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "sessiondemo" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sessiondemo.context_processors.served_by",
                "cart.context_processors.cart_count",
            ],
        },
    },
]

WSGI_APPLICATION = "sessiondemo.wsgi.application"

# --- Database: users live in SQL ------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    # The local default: SQLite under var/, made on first use.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL Django understands: {error}") from None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Every door to a password (the site's login, the admin's, password change) goes through
# one throttle (accounts.throttle), whose counts live in the database: Redis evicting a key
# cannot lift a lockout. ModelBackend stays listed for sessions signed in before
# AccountBackend existed; AccountBackend ends every refused attempt, so it never checks one.
AUTHENTICATION_BACKENDS = ["accounts.backends.AccountBackend", "django.contrib.auth.backends.ModelBackend"]
# Failed logins allowed per username, and per client address, within the lockout window.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_ADDRESS_LIMIT = env_int("LOGIN_FAILURE_ADDRESS_LIMIT", 30, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60, minimum=1)
# Failed logins allowed from a browser that signed in to the account before (its device
# cookie): the username's lockout does not stop it, this limit does.
LOGIN_DEVICE_FAILURE_LIMIT = env_int("LOGIN_DEVICE_FAILURE_LIMIT", 5, minimum=1)
# Sign-ups (each costs a password hash) allowed from one client address within the window.
SIGNUP_ADDRESS_LIMIT = env_int("SIGNUP_ADDRESS_LIMIT", 20, minimum=1)
SIGNUP_WINDOW_SECONDS = env_int("SIGNUP_WINDOW_SECONDS", 60 * 60, minimum=1)
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "cart:catalog"
LOGOUT_REDIRECT_URL = "cart:catalog"

# --- Redis ----------------------------------------------------------------------
# Every instance must share one Redis, so production refuses to start without REDIS_URL.
# In development (DEBUG=1) no REDIS_URL means the embedded redis-server on a unix socket
# under var/redis/, which the development tools (devtools/) start on first use.
EMBEDDED_REDIS_DIR = VAR_DIR / "redis"
REDIS_URL = os.environ.get("REDIS_URL", "")
EMBEDDED_REDIS = DEBUG and not REDIS_URL
if EMBEDDED_REDIS:
    REDIS_URL = f"unix://{EMBEDDED_REDIS_DIR / 'redis.sock'}"
if not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL is not set. Set it to the Redis every instance shares (rediss://host:port/0); "
        "without it each instance would keep sessions of its own. For local development set DEBUG=1, "
        "which uses the embedded Redis."
    )
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"REDIS_URL must start with redis://, rediss:// or unix://, not {REDIS_URL.split(':')[0]!r}."
    )
REDIS_CLUSTER = env_bool("REDIS_CLUSTER", False)
# With rediss:// the server's certificate and host name are always verified: against
# this CA certificate (a PEM file) when set, else against the system's CAs.
REDIS_CA_CERT = os.environ.get("REDIS_CA_CERT", "")
# "password": credentials, if any, are in REDIS_URL. "entra": passwordless, with
# Microsoft Entra ID tokens from DefaultAzureCredential (the managed identity on Azure).
REDIS_AUTH = os.environ.get("REDIS_AUTH", "password")
# The Key Vault secret that REDIS_URL comes from (https://<vault>.vault.azure.net/secrets/<name>):
# when Redis refuses the password after a key rotation, the newest version is read and used.
REDIS_URL_SECRET_URI = os.environ.get("REDIS_URL_SECRET_URI", "")
if REDIS_AUTH not in {"password", "entra"}:
    raise ImproperlyConfigured(f"REDIS_AUTH must be password or entra, not {REDIS_AUTH!r}.")
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 0.5)
REDIS_CONNECT_TIMEOUT = env_float("REDIS_CONNECT_TIMEOUT", 0.5)
REDIS_RETRIES = env_int("REDIS_RETRIES", 2)
REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "sessiondemo")

# --- Sessions -------------------------------------------------------------------
# SESSION_BACKEND picks the engine: sessionkeeper ("redis", the engine this project
# grew, installed from ./sessionkeeper), or the stock ones kept for comparison
# ("django-redis", "db", "signed_cookies").
SESSION_BACKEND = os.environ.get("SESSION_BACKEND", "redis")
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 20 * 60, minimum=1)
SESSION_ANONYMOUS_IDLE_TIMEOUT = env_int("SESSION_ANONYMOUS_IDLE_TIMEOUT", 5 * 60, minimum=1)
SESSION_ABSOLUTE_TIMEOUT = env_int("SESSION_ABSOLUTE_TIMEOUT", 12 * 60 * 60, minimum=1)
SESSION_GRACE_PERIOD = env_int("SESSION_GRACE_PERIOD", 30 * 60)
SESSION_COMPRESS_THRESHOLD = env_int("SESSION_COMPRESS_THRESHOLD", 1024, minimum=1)
SESSION_MAX_BYTES = env_int("SESSION_MAX_BYTES", 64 * 1024, minimum=1024)
# The stored layout written: 3; 2 while instances of the previous release still serve the same Redis
# (a rolling deploy; sessionkeeper's README), 1 while instances older still do.
SESSION_LAYOUT = env_int("SESSION_LAYOUT", 3, minimum=1)
# New sessions one client address may start per minute; 0 turns the limit off.
SESSION_CREATION_RATE = env_int("SESSION_CREATION_RATE", 120)
# Sessions one user may keep at once (phones, laptops, browsers); a sign-in past it signs out the oldest.
SESSION_MAX_PER_USER = env_int("SESSION_MAX_PER_USER", 30, minimum=1)

# The engine, configured as any project would configure it (sessionkeeper's README).
SESSIONKEEPER = {
    "CLIENT_FACTORY": "sessiondemo.redis_client.get_redis",
    "UNAVAILABLE_RESPONSE": "sessiondemo.unavailable.session_store_unavailable_response",
    "TOO_LARGE_RESPONSE": "sessiondemo.unavailable.session_too_large_response",
    "CREATION_REFUSED_RESPONSE": "sessiondemo.unavailable.session_creation_refused_response",
    "INSTANCE_NAME": "sessiondemo.instance.instance_name",
    "CLIENT_ADDRESS": "sessiondemo.client_address.client_ip",
    "KEY_PREFIX": REDIS_KEY_PREFIX,
    "IDLE_TIMEOUT": SESSION_IDLE_TIMEOUT,
    "ANONYMOUS_IDLE_TIMEOUT": SESSION_ANONYMOUS_IDLE_TIMEOUT,
    "ABSOLUTE_TIMEOUT": SESSION_ABSOLUTE_TIMEOUT,
    "GRACE_PERIOD": SESSION_GRACE_PERIOD,
    # The cart makes an anonymous session worth keeping, and is carried over an idle expiry.
    "KEEP": ["cart"],
    # A signed-in shopper's cart is the account's: every device shares it, and a guest cart merges
    # into it at sign-in, a line stopping at the cart's limit.
    "USER_COUNTERS": {"cart": "cart.cart.MAX_QUANTITY"},
    "COMPRESS_THRESHOLD": SESSION_COMPRESS_THRESHOLD,
    "MAX_BYTES": SESSION_MAX_BYTES,
    "LAYOUT": SESSION_LAYOUT,
    "MAX_SESSIONS_PER_USER": SESSION_MAX_PER_USER,
    "CREATION_RATE": (SESSION_CREATION_RATE, 60) if SESSION_CREATION_RATE else None,
}

SESSION_COOKIE_NAME = os.environ.get("SESSION_COOKIE_NAME", "sessionid")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
if SESSION_BACKEND == "redis":
    SESSION_ENGINE = "sessionkeeper.store"
    # The cookie lives as long as the absolute lifetime; Redis enforces the idle timeout.
    SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT + SESSION_GRACE_PERIOD
elif SESSION_BACKEND == "django-redis":
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    SESSION_CACHE_ALIAS = "sessions"
    SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
    # The stock way to slide the idle timeout: re-save on every request.
    SESSION_SAVE_EVERY_REQUEST = env_bool("SESSION_SAVE_EVERY_REQUEST", True)
    CACHES["sessions"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX,
        "OPTIONS": {
            # django-redis defaults to a serializer that can run code when it loads (not JSON);
            # session data must be JSON at rest.
            "SERIALIZER": "django_redis.serializers.json.JSONSerializer",
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            "SOCKET_CONNECT_TIMEOUT": REDIS_CONNECT_TIMEOUT,
        },
    }
elif SESSION_BACKEND == "db":
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
    SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
    SESSION_SAVE_EVERY_REQUEST = True
    INSTALLED_APPS.append("django.contrib.sessions")
elif SESSION_BACKEND == "signed_cookies":
    SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
    SESSION_SAVE_EVERY_REQUEST = True
else:
    raise ImproperlyConfigured(
        f"SESSION_BACKEND must be redis, django-redis, db or signed_cookies, not {SESSION_BACKEND!r}."
    )
SESSION_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"

# --- Messages: kept in the session, so they follow the user across instances ----
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Security -------------------------------------------------------------------
CSRF_COOKIE_HTTPONLY = False  # the JSON API reads it for the X-CSRFToken header
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SAMESITE = "Lax"
# App Service (and the local nginx) terminate TLS and say so in this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Static files ---------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage",
    },
}
# Serve straight from the apps' static folders, so gunicorn needs no collectstatic
# step locally; App Service's Oryx build runs collectstatic anyway. Without it,
# STATIC_ROOT doesn't exist, which WhiteNoise would warn about in every process.
WHITENOISE_USE_FINDERS = True
warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
CSRF_FAILURE_VIEW = "sessiondemo.views.csrf_failure"

# --- Azure provisioning (manage.py provision_azure / azure_status / teardown_azure) ---
AZURE_SUBSCRIPTION_ID = os.environ.get("AZURE_SUBSCRIPTION_ID", "")
AZURE_ARM_ENDPOINT = os.environ.get("AZURE_ARM_ENDPOINT", "https://management.azure.com")
# A bearer token used as it is instead of DefaultAzureCredential (CI, offline tests).
AZURE_ACCESS_TOKEN = os.environ.get("AZURE_ACCESS_TOKEN", "")
AZURE_LOCATION = os.environ.get("AZURE_LOCATION", "eastus")
AZURE_STATE_DIR = Path(os.environ.get("AZURE_STATE_DIR", BASE_DIR / ".azure"))

# --- Observability --------------------------------------------------------------
# Set APPLICATIONINSIGHTS_CONNECTION_STRING to export traces and metrics to Azure Monitor
# (observability.telemetry); unset, nothing is exported and nothing is loaded.
APPLICATIONINSIGHTS_CONNECTION_STRING = os.environ.get("APPLICATIONINSIGHTS_CONNECTION_STRING", "")
# A bearer token for /metrics scrapers; empty, only a staff login can read /metrics.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# Seconds between two publications of an instance's figures to Redis for /ops/.
OPS_PUBLISH_INTERVAL = env_int("OPS_PUBLISH_INTERVAL", 5, minimum=1)
# Every log record, and one line per request, as JSON on stdout (App Service log streaming).
LOGGING["formatters"]["json"] = {"()": "observability.logging.JsonFormatter"}
LOGGING["handlers"]["console"].update(formatter="json", stream="ext://sys.stdout")
# The Azure SDK logs each telemetry upload at INFO: that would be a log line per export.
LOGGING["loggers"]["azure"] = {"level": "WARNING"}
# redis-py's token manager (REDIS_AUTH=entra) says "disposed" at INFO as each client goes away.
LOGGING["loggers"]["redis.auth"] = {"level": "WARNING"}
