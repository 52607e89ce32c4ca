#!/usr/bin/env bash
# Installs the Debian packages listed in infra/apt-packages.txt that are not installed yet.
set -euo pipefail
LIST="$(dirname "$0")/apt-packages.txt"
mapfile -t wanted < <(grep -v '^\s*#' "$LIST" | grep -v '^\s*$')
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "apt: all ${#wanted[@]} packages present"; exit 0; fi
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "apt: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
