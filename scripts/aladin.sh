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

ensure_aladin() {
  if [ -f "$ALADIN_DIR/aladin.js" ] && [ "$(cat "$ALADIN_DIR/VERSION" 2>/dev/null)" = "$ALADIN_VERSION" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "warning: npm not found: the portal's sky view (Aladin Lite) stays off (apt-get install npm, then rerun)" >&2
    return 1
  fi
  echo "==> fetching Aladin Lite $ALADIN_VERSION (npm package aladin-lite) into assets/vendor/aladin-lite"
  local tmp; tmp="$(mktemp -d)"
  if ! (cd "$tmp" && npm pack --silent "aladin-lite@$ALADIN_VERSION" >/dev/null 2>&1); then
    echo "warning: npm could not fetch aladin-lite@$ALADIN_VERSION: the sky view stays off" >&2
    rm -rf "$tmp"; return 1
  fi
  local tgz="$tmp/aladin-lite-$ALADIN_VERSION.tgz"
  if [ "$(sha256sum "$tgz" | cut -d' ' -f1)" != "$ALADIN_SHA256" ]; then
    echo "error: aladin-lite-$ALADIN_VERSION.tgz does not match its pinned SHA-256; not installed" >&2
    rm -rf "$tmp"; return 1
  fi
  tar -xzf "$tgz" -C "$tmp" package/dist/aladin.js package/COPYING package/README.md &&
    mkdir -p "$ALADIN_DIR" &&
    mv "$tmp/package/dist/aladin.js" "$tmp/package/COPYING" "$tmp/package/README.md" "$ALADIN_DIR/" &&
    echo "$ALADIN_VERSION" > "$ALADIN_DIR/VERSION"
  local rc=$?
  rm -rf "$tmp"
  return $rc
}
