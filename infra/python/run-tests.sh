#!/usr/bin/env bash
# Runs the Python tests under models/tests with models/.venv (made by infra/setup.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
[ -x models/.venv/bin/python ] || { echo "models/.venv is missing: run bash infra/setup.sh" >&2; exit 1; }
PYTHONPATH=models exec models/.venv/bin/python -m pytest -q -p no:cacheprovider models/tests
