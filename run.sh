#!/usr/bin/env bash
# Nocturne: ./run.sh [command]
#
#   ./run.sh            set up .venv, fill the embedded store with demo data, serve the
#                       portal on http://127.0.0.1:24000 (Ctrl-C stops it)
#   ./run.sh setup      only create .venv and install the dependencies
#   ./run.sh serve      serve the portal on the configured store (config.yml / NOCTURNE_*)
#   ./run.sh create     create the configured store's tables (python -m hbase_schema create)
#   ./run.sh demo-data  only (re)build the demo store
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv

cmd="${1:-demo}"
shift || true

serve() {
  local host port
  host="$(python -c 'from settings import get_config as g; print(g().server_host)')"
  port="$(python -c 'from settings import get_config as g; print(g().server_port)')"
  echo "==> Nocturne on http://$host:$port  (Ctrl-C to stop)"
  exec gunicorn --bind "$host:$port" --workers 2 --timeout 120 --access-logfile - index:server
}

demo_data() {
  export NOCTURNE_DATA_DIR="${NOCTURNE_DATA_DIR:-$PWD/demo/store}"
  python -m hbase_schema create
  if [ -f ingest/demo.py ]; then
    python -m ingest.demo
  fi
}

case "$cmd" in
  setup) echo "==> environment ready in .venv" ;;
  serve) serve ;;
  create) python -m hbase_schema create "$@" ;;
  demo-data) demo_data ;;
  demo) demo_data; serve ;;
  *) echo "unknown command: $cmd (see the top of run.sh)" >&2; exit 2 ;;
esac
