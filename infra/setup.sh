#!/usr/bin/env bash
# Installs everything this project needs on a fresh Debian 12 machine with Node 20.
# Safe to re-run: every step skips work that is already done.
#   1. Debian packages (infra/apt-packages.txt)
#   2. npm packages (npm ci, skipped while package-lock.json is unchanged)
#   3. the mediasoup worker, built from Debian's libraries and cached (infra/mediasoup/)
#   4. the Python environment for models/ (models/.venv, pinned in models/requirements.txt)
#   5. the browser client bundle (client/dist)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
step() { printf '\n== setup: %s\n' "$*"; }

step "Debian packages"
bash infra/install-apt-packages.sh

step "npm packages"
stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "npm: node_modules matches package-lock.json"
else
  # mediasoup's own postinstall would try to download a prebuilt worker from GitHub; the worker
  # is built by the next step instead, so tell the postinstall that a binary is provided.
  MEDIASOUP_WORKER_BIN=/dev/null npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi

step "mediasoup worker"
bash infra/mediasoup/install-worker.sh

step "Python environment for models/"
bash infra/python/setup-venv.sh

step "browser client"
npm run --silent build:client

printf '\n== setup: done. Start the server with: npm start\n'
