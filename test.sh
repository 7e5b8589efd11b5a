#!/usr/bin/env bash
# Installs what the whole suite needs (the OS's redis-server, nginx and chromium when
# run as root; Python packages into .venv), checks the code with ruff (lint and format),
# and runs every test. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"

scripts/install-system-packages
scripts/bootstrap-python requirements-dev.txt
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
exec .venv/bin/python -m pytest "$@"
