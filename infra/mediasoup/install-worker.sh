#!/usr/bin/env bash
# Puts a mediasoup-worker built from Debian's libraries into node_modules/mediasoup.
#
# The worker takes ~5 minutes to build on 2 cores, so the binary is cached under
#   $CACHE_DIR/mediasoup-worker/<key>/mediasoup-worker
# where <key> hashes what goes into the binary: the mediasoup version, the meson options,
# the shim subprojects, the patches, the meson wrapper and the installed versions of the
# Debian libraries it links. Change any of those and it rebuilds (editing this script alone
# does not); `rm -rf $CACHE_DIR/mediasoup-worker` forces a rebuild.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/infra/mediasoup"
. "$ROOT/infra/python/pip-env.sh"  # worker:build pip-installs `invoke`, so pip must reach an index
CACHE_DIR=${AVATAR_CACHE_DIR:-$HOME/.cache/avatar-call}
PKG="$ROOT/node_modules/mediasoup"
TARGET="$PKG/worker/out/Release/mediasoup-worker"

MESON_BUILD_ARGS="-Dms_disable_liburing=true"  # Debian's liburing 2.3 is too old; io_uring is only a speed-up
version=$(node -p "require('$PKG/package.json').version")
libs=$(dpkg-query -W -f='${Package}=${Version}\n' libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev libflatbuffers-dev | sort)
key=$( { echo "$version"; echo "$MESON_BUILD_ARGS"; echo "$libs";
         (cd "$HERE" && find meson subprojects patches -type f | sort | xargs sha256sum); } | sha256sum | cut -c1-16)
cached="$CACHE_DIR/mediasoup-worker/$key/mediasoup-worker"

if [ -x "$cached" ]; then
  echo "mediasoup-worker $version: cached build $key"
else
  echo "mediasoup-worker $version: building from Debian libraries (key $key, ~5 min on 2 cores)"
  venv="$CACHE_DIR/meson-venv"
  if [ ! -x "$venv/bin/meson" ]; then
    python3 -m venv "$venv"
    without_pip_location_warnings "$venv/bin/pip" install -q meson==1.12.1
  fi
  # Fixes for mediasoup bugs that only show against Debian's libraries (see each patch).
  for p in "$HERE"/patches/*.patch; do
    if patch -d "$PKG" -p1 -R --dry-run -s < "$p" >/dev/null 2>&1; then continue; fi  # already applied
    patch -d "$PKG" -p1 --forward -s < "$p"
  done
  (cd "$PKG" && MEDIASOUP_MESON_VENV="$venv" MESON="$HERE/meson" MESON_ARGS="$MESON_BUILD_ARGS" \
     PYTHONDONTWRITEBYTECODE=1 without_pip_location_warnings node npm-scripts.mjs worker:build)
  mkdir -p "$(dirname "$cached")"
  cp "$TARGET" "$cached.tmp" && mv "$cached.tmp" "$cached"
  # The build tree (~1 GB) is not needed once the binary is cached.
  rm -rf "$PKG/worker/out/Release/build" "$PKG/worker/out/pip_invoke" 2>/dev/null || true
fi
mkdir -p "$(dirname "$TARGET")"
cp "$cached" "$TARGET"
"$TARGET" --version >/dev/null 2>&1 || true
echo "mediasoup-worker ready: $TARGET"
