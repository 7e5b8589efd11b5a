"""A minimal Django project for running the engine's tests on their own (pytest from this folder).

In the sessiondemo repository the suite runs under the site's settings instead; either
way the fixtures in conftest.py set SESSIONKEEPER, SESSION_ENGINE and the middleware.
"""

SECRET_KEY = "sessionkeeper-tests-only"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
ROOT_URLCONF = "sessionkeeper.tests.urls"
SESSION_ENGINE = "sessionkeeper.store"
MIDDLEWARE = ["sessionkeeper.middleware.SessionMiddleware"]
USE_TZ = True
