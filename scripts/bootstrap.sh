#!/usr/bin/env bash
# Create .venv in the repository and install Tracktion from the lock files. Usage: bootstrap.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh "${1:-}"
PY=${PYTHON:-python3}
$PY -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Tracktion needs Python 3.11 or newer")'
[ -x .venv/bin/python ] || $PY -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel
.venv/bin/python -m pip install -q -r requirements.lock
[ "${1:-}" = "--test" ] && .venv/bin/python -m pip install -q -r requirements-dev.lock
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
