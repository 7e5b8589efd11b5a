"""Loaded by pytest before Django (pytest.ini: -p tests.environment).

Settings are read once at import; give them what production refuses to go without.
The Redis URL is a placeholder: fixtures point the project at real test servers.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:1/0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSIONDEMO_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))
