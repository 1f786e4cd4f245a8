#!/usr/bin/env bash
# Ingest last night's alerts: $NOCTURNE_INCOMING/<YYYYMMDD> (a folder or a .tar.gz).
#   deploy/nightly-ingest.sh [YYYYMMDD]     default: yesterday (UTC)
# Exit codes are the ingest's: 0 done, 3 done with quarantined packets, 75 another
# ingest holds the lock (the timer retries next time), 1 failed (rerun the same command).
set -euo pipefail
cd "$(dirname "$0")/.."
night="${1:-$(date -u -d yesterday +%Y%m%d)}"
incoming="${NOCTURNE_INCOMING:-/srv/nocturne/incoming}"
for candidate in "$incoming/$night" "$incoming/$night.tar.gz" "$incoming/ztf_public_$night.tar.gz"; do
  if [ -e "$candidate" ]; then
    exec .venv/bin/python -m ingest night "$candidate" --night "$night" --no-progress
  fi
done
echo "no alerts for night $night under $incoming (looked for $night, $night.tar.gz, ztf_public_$night.tar.gz)" >&2
exit 1
