#!/usr/bin/env bash
# Install (into .venv) and run the whole test suite: lint, format check, type check, tests.
# Needs PostgreSQL, Redis and RabbitMQ on 127.0.0.1 (see README); .ci/run starts them when they are down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --test
. .venv/bin/activate
export QT_QPA_PLATFORM=offscreen
echo "== ruff"; ruff check . && ruff format --check .
echo "== mypy"; mypy backend && mypy tracktion_gui
echo "== pytest"; pytest "$@"
