#!/usr/bin/env bash
# Fetch the JavaScript the browser tests inject: axe-core (accessibility checks), from the npm
# registry through `npm pack` (no CDN), checked against the sha512 integrity pinned in
# tools/web/axe-core.lock, and unpacked to <cache>/axe-core-<version>/axe.min.js.
#
# Idempotent: a version already unpacked is reused without touching the network.
#
# Usage: bash tools/web/fetch_assets.sh [--if-possible]
#   --if-possible  exit 0 with a warning when npm is missing or the fetch fails
#                  (the accessibility tests then skip, saying why)
#
# Environment:
#   LANTAI_WEB_ASSETS  cache folder (default ~/.cache/lantai/web)
#   PYTHON             interpreter used to check the integrity (default: python3)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${LANTAI_WEB_ASSETS:-$HOME/.cache/lantai/web}
python=${PYTHON:-python3}
if_possible=false
for arg in "$@"; do
  case $arg in
    --if-possible) if_possible=true ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch_assets.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

log() { echo "fetch_assets.sh: $*" >&2; }
fail() {
  if $if_possible; then log "warning: $*; the accessibility (axe) browser tests will skip"; exit 0; fi
  log "$*"; exit 1
}

version=$(sed -n 's/^version=//p' "$here/axe-core.lock")
integrity=$(sed -n 's/^integrity=//p' "$here/axe-core.lock")
target="$cache/axe-core-$version"
if [[ -f $target/axe.min.js ]]; then
  log "axe-core $version already present: $target/axe.min.js"
  exit 0
fi
command -v npm >/dev/null 2>&1 || fail "npm is not installed, so axe-core $version cannot be fetched"

mkdir -p "$cache"
download=$(mktemp -d "$cache/.download.XXXXXX")
trap 'rm -rf "$download"' EXIT
log "fetching axe-core@$version with npm pack"
if ! (cd "$download" && npm pack --silent "axe-core@$version" >npm.log 2>&1); then
  fail "npm pack axe-core@$version failed ($(tail -n1 "$download/npm.log"))"
fi
tarball="$download/axe-core-$version.tgz"
actual=$("$python" - "$tarball" <<'PY'
import base64, hashlib, sys
with open(sys.argv[1], "rb") as f:
    print("sha512-" + base64.b64encode(hashlib.sha512(f.read()).digest()).decode())
PY
)
if [[ $actual != "$integrity" ]]; then
  # Never fall back on a tarball that differs from the pinned one, --if-possible or not.
  log "axe-core $version integrity mismatch: expected $integrity, got $actual"
  exit 1
fi
mkdir -p "$download/unpacked"
tar -xzf "$tarball" -C "$download/unpacked" package/axe.min.js package/LICENSE
# Move into place only when complete, so an interrupted fetch never looks installed.
rm -rf "$target"
mv "$download/unpacked/package" "$target"
log "axe-core $version ready: $target/axe.min.js"
