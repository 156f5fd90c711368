#!/usr/bin/env bash
# Install (into .venv) and start the desktop app in embedded mode (no servers needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/tracktion "$@"
