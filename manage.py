#!/usr/bin/env python
"""Django's command-line utility, with development defaults.

Commands typed in a plain shell run as development (DEBUG=1: a development SECRET_KEY,
the embedded Redis, the development tools) unless the environment says DEBUG=0, as
App Service's settings do. The WSGI app (sessiondemo/wsgi.py) is production by default.
"""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sessiondemo.settings")
    os.environ.setdefault("DEBUG", "1")
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Are you sure it's installed and "
            "available on your PYTHONPATH environment variable? Did you "
            "forget to activate a virtual environment?"
        ) from exc
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
