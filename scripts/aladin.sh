# Sourced by run.sh and run_tests.sh: fetch Aladin Lite (the portal's sky view) once.
#
# The npm package aladin-lite, at a pinned version, through npm (`npm pack`), checked
# against its SHA-256, unpacked into assets/vendor/aladin-lite/ (gitignored; Dash serves
# it under /assets/ but does not load it on every page: portal.py ignores vendor/).
# Aladin Lite is GPL-3: it is fetched at install time, never committed to this repository.
# Without npm or the registry the portal still runs; its sky views say Aladin Lite is missing.
ALADIN_VERSION="3.8.2"
ALADIN_SHA256="9bc93390079568cde85b1d85dac738731dbdf1299ae875947817257a1abc12ad"
ALADIN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/assets/vendor/aladin-lite"

source "$(dirname "${BASH_SOURCE[0]}")/npm_asset.sh"

ensure_aladin() {
  fetch_npm_asset aladin-lite "$ALADIN_VERSION" "$ALADIN_SHA256" "$ALADIN_DIR" "the portal's sky view (Aladin Lite) stays off" dist/aladin.js COPYING README.md
}
