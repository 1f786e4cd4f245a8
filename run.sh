#!/usr/bin/env bash
# Nocturne: ./run.sh [command]
#
#   ./run.sh            set up .venv, fill the embedded store with demo data, serve the
#                       portal on http://127.0.0.1:24000 (Ctrl-C stops it)
#   ./run.sh setup      only create .venv and install the dependencies
#   ./run.sh serve      serve the portal on the configured store (config.yml / NOCTURNE_*)
#   ./run.sh create     create the configured store's tables (python -m hbase_schema create)
#   ./run.sh demo-data [--rebuild]  only build the demo store (demo/store)
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv
source scripts/aladin.sh
ensure_aladin || true  # the sky view says so when it is missing
source scripts/plotly.sh
ensure_plotly_cartesian || true  # else Dash's full plotly.js is served

cmd="${1:-demo}"
shift || true

serve() {
  local host port
  host="$(python -c 'from settings import get_config as g; print(g().server_host)')"
  port="$(python -c 'from settings import get_config as g; print(g().server_port)')"
  echo "==> Nocturne on http://$host:$port  (Ctrl-C to stop)"
  exec gunicorn --bind "$host:$port" --workers 2 --threads 4 --timeout 120 --access-logfile - index:server
}

DEMO_STORE="$PWD/demo/store"

demo_data() {
  # The demo always lives in demo/store, whatever NOCTURNE_DATA_DIR says: a rebuild
  # never touches a real store.
  export NOCTURNE_BACKEND=embedded NOCTURNE_DATA_DIR="$DEMO_STORE"
  if [ -f "$NOCTURNE_DATA_DIR/nocturne.sqlite3" ] && [ "${1:-}" != "--rebuild" ]; then
    if python -c 'from hbase_schema import get_schema; from store import open_store
for survey in ("ztf", "rubin"): open_store(schema=get_schema(survey)).close()' 2>/dev/null; then
      echo "==> demo store already in $NOCTURNE_DATA_DIR (./run.sh demo-data --rebuild makes it anew)"
      return 0
    fi
    echo "==> the demo store in $NOCTURNE_DATA_DIR has another schema version than this Nocturne's; making it anew"
  fi
  rm -rf demo/alerts demo/rubin "$NOCTURNE_DATA_DIR"
  echo "==> simulating demo nights (supernovae, variable stars, microlensing, asteroids) into demo/alerts"
  python -m ingest simulate --demo --quiet demo/alerts
  echo "==> simulating Rubin/LSST demo nights (ugrizy, nJy, forced photometry) into demo/rubin"
  python -m ingest simulate --survey rubin --demo --no-avro --quiet demo/rubin
  echo "==> simulating an asteroid over a season (phase curve) into demo/sso"
  python -m ingest.simulator.sso_track demo/sso
  echo "==> ingesting them into the embedded store in $NOCTURNE_DATA_DIR"
  local rc=0 src
  for src in demo/alerts demo/sso/alerts demo/rubin/parquet; do
    rc=0
    python -m ingest night "$src" || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
      echo "error: the demo ingest of $src failed (exit $rc)" >&2
      return "$rc"
    fi
  done
  # the asteroid's distances and phase angles: what an ephemeris service would give (offline file)
  cp demo/sso/ephemerides.parquet "$NOCTURNE_DATA_DIR/sso_ephemerides.parquet"
}

case "$cmd" in
  setup) echo "==> environment ready in .venv" ;;
  serve) serve ;;
  create) python -m hbase_schema create "$@" ;;
  demo-data) demo_data "$@" ;;
  demo) demo_data; serve ;;
  *) echo "unknown command: $cmd (see the top of run.sh)" >&2; exit 2 ;;
esac
