"""The test run's settings: the project's own (production unless a test says otherwise),
with the development tools installed, since their commands are under test too."""

from sessiondemo.settings import *  # noqa: F403
from sessiondemo.settings import INSTALLED_APPS

if "devtools" not in INSTALLED_APPS:
    INSTALLED_APPS = ["devtools", *INSTALLED_APPS]
