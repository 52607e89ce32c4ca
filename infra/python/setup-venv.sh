#!/usr/bin/env bash
# Creates models/.venv with the pinned packages of models/requirements.txt.
# Skipped while requirements.txt is unchanged since the last successful install.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REQ="$ROOT/models/requirements.txt"
VENV="$ROOT/models/.venv"
[ -f "$REQ" ] || { echo "python: no models/requirements.txt, nothing to install"; exit 0; }
. "$ROOT/infra/python/pip-env.sh"
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ -f "$VENV/.requirements.sha256" ] && [ "$(cat "$VENV/.requirements.sha256")" = "$want" ]; then
  echo "python: models/.venv matches models/requirements.txt"; exit 0
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
without_pip_location_warnings "$VENV/bin/pip" install -q -r "$REQ"
echo "$want" > "$VENV/.requirements.sha256"
echo "python: models/.venv ready"
