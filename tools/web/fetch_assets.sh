#!/usr/bin/env bash
# Fetch the third-party JavaScript Lantai serves or tests with, from the npm registry through
# `npm pack` (never a CDN), each tarball checked against the sha512 integrity pinned in its lock
# file and unpacked to <cache>/<package>-<version>/:
#   lantai/search_app/vendor/openseadragon.lock  the zoomable page viewer of the record page
#   tools/web/axe-core.lock                      accessibility checks of the browser tests
#
# Idempotent: a version already unpacked is reused without touching the network.
#
# Usage: bash tools/web/fetch_assets.sh [--if-possible]
#   --if-possible  exit 0 with a warning when npm is missing or a fetch fails (the record
#                  page then shows page images without zoom; the axe tests skip, saying why)
#
# Environment:
#   LANTAI_WEB_ASSETS  cache folder (default ~/.cache/lantai/web; the web app reads it too)
#   PYTHON             interpreter used to check the integrity (default: python3)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${LANTAI_WEB_ASSETS:-$HOME/.cache/lantai/web}
python=${PYTHON:-python3}
if_possible=false
for arg in "$@"; do
  case $arg in
    --if-possible) if_possible=true ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch_assets.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

log() { echo "fetch_assets.sh: $*" >&2; }
failed=0
fail() {
  if $if_possible; then log "warning: $*"; failed=1; return 0; fi
  log "$*"; exit 1
}

fetch() {  # fetch <lock file>
  local lock=$1 package version integrity files target download tarball actual
  package=$(sed -n 's/^package=//p' "$lock")
  version=$(sed -n 's/^version=//p' "$lock")
  integrity=$(sed -n 's/^integrity=//p' "$lock")
  files=$(sed -n 's/^files=//p' "$lock")
  target="$cache/$package-$version"
  local complete=true
  for f in $files; do [[ -f $target/$f ]] || complete=false; done
  if $complete; then
    log "$package $version already present: $target"
    return 0
  fi
  command -v npm >/dev/null 2>&1 || { fail "npm is not installed, so $package $version cannot be fetched"; return 0; }
  mkdir -p "$cache"
  download=$(mktemp -d "$cache/.download.XXXXXX")
  log "fetching $package@$version with npm pack"
  if ! (cd "$download" && npm pack --silent "$package@$version" >npm.log 2>&1); then
    fail "npm pack $package@$version failed ($(tail -n1 "$download/npm.log"))"
    rm -rf "$download"; return 0
  fi
  tarball="$download/$package-$version.tgz"
  actual=$("$python" - "$tarball" <<'PY'
import base64, hashlib, sys
with open(sys.argv[1], "rb") as f:
    print("sha512-" + base64.b64encode(hashlib.sha512(f.read()).digest()).decode())
PY
)
  if [[ $actual != "$integrity" ]]; then
    # Never fall back on a tarball that differs from the pinned one, --if-possible or not.
    log "$package $version integrity mismatch: expected $integrity, got $actual"
    rm -rf "$download"; exit 1
  fi
  mkdir -p "$download/unpacked"
  local members=()
  for f in $files; do members+=("package/$f"); done
  tar -xzf "$tarball" -C "$download/unpacked" "${members[@]}"
  # Move into place only when complete, so an interrupted fetch never looks installed.
  rm -rf "$target"
  mv "$download/unpacked/package" "$target"
  rm -rf "$download"
  log "$package $version ready: $target"
}

fetch "$root/lantai/search_app/vendor/openseadragon.lock"
fetch "$here/axe-core.lock"
if [[ $failed == 1 ]]; then
  log "warning: the record page shows page images without zoom, and the axe browser tests skip"
fi
