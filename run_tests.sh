#!/usr/bin/env bash
# Runs Nocturne's whole test suite: ./run_tests.sh [pytest arguments...]
#   ./run_tests.sh --url http://HOST:PORT [pytest arguments...]
#       runs only the API suite, over HTTP, against a deployed server that holds the
#       real alerts of ../shared/data (no store access needed)
#
# Sets up .venv if needed. Where Java and Maven are present (or NOCTURNE_HBASE_HOST
# names a running HBase Thrift server), the HBase tests run against a real HBase:
# this script starts the local standalone one (hbase_schema/local/hbase) and stops it
# afterwards. Without them those tests skip with one line; with CI=true they fail.
set -uo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv || exit 1
source scripts/aladin.sh
ensure_aladin || true  # the sky browser tests then skip (fail under CI=true)
source scripts/plotly.sh
ensure_plotly_cartesian || true  # else Dash's full plotly.js is served

if [ "${1:-}" = "--url" ]; then
  [ -n "${2:-}" ] || { echo "usage: ./run_tests.sh --url http://HOST:PORT [pytest args]" >&2; exit 2; }
  export NOCTURNE_API_URL="$2"
  shift 2
  echo "==> API tests against $NOCTURNE_API_URL"
  exec python -m pytest -ra tests/test_api_endpoints.py tests/test_api_errors.py "$@"
fi

started_hbase=""
hbase_dir=""
cleanup() {
  if [ -n "$started_hbase" ]; then
    echo "==> stopping the local HBase"
    hbase_schema/local/hbase stop >/dev/null 2>&1 || true
    # its data (~1 GB after a run) was this run's only; kept, every run left one behind
    [ -n "${hbase_dir:-}" ] && rm -rf "$hbase_dir"
  fi
}
trap cleanup EXIT INT TERM

if [ -n "${NOCTURNE_HBASE_HOST:-}" ]; then
  echo "==> HBase tests use the Thrift server at ${NOCTURNE_HBASE_HOST}:${NOCTURNE_HBASE_PORT:-9090}" \
       "(Thrift 2: ${NOCTURNE_HBASE_THRIFT2_PORT:-none, set NOCTURNE_HBASE_THRIFT2_PORT})"
elif [ "${NOCTURNE_SKIP_HBASE:-}" = "1" ]; then
  echo "==> NOCTURNE_SKIP_HBASE=1: HBase tests will skip"
elif command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
  if hbase_schema/local/hbase status >/dev/null 2>&1; then
    echo "==> HBase tests use the local HBase already running"
  else
    echo "==> starting a local standalone HBase for the HBase tests (first run downloads its jars)"
    hbase_dir="$(mktemp -d /tmp/nocturne-hbase-XXXXXX)"
    if hbase_schema/local/hbase start "$hbase_dir"; then
      started_hbase=1
    else
      echo "warning: the local HBase did not start; HBase tests will skip (and fail under CI=true)" >&2
    fi
  fi
  export NOCTURNE_HBASE_HOST=127.0.0.1 NOCTURNE_HBASE_PORT="${HBASE_THRIFT_PORT:-9090}"
  # the local HBase's Thrift 2 gateway: many-range reads go through it (store/hbase_multirange.py)
  export NOCTURNE_HBASE_THRIFT2_PORT="${NOCTURNE_HBASE_THRIFT2_PORT:-${HBASE_THRIFT2_PORT:-9091}}"
else
  echo "==> Java or Maven not found: HBase tests will skip (install openjdk-17-jdk-headless and maven to run them)"
fi

python -m pytest -ra --durations=25 "$@"
