#!/usr/bin/env bash
# Sets everything up on a fresh machine (virtualenv, packages, database) and runs the
# site on http://127.0.0.1:8000 with the embedded Redis. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

scripts/bootstrap-python requirements-dev.txt
.venv/bin/python manage.py migrate --noinput
exec .venv/bin/python manage.py runserver "${SITE_ADDRESS:-127.0.0.1:8000}"
