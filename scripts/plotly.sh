# Sourced by run.sh and run_tests.sh: fetch plotly.js's cartesian bundle once.
#
# The portal draws scatter, bar and heatmap traces only: the npm package
# plotly.js-cartesian-dist-min (1.5 MB) has them all, where the full plotly.min.js that Dash
# ships is 4.8 MB, whose parse dominates an object page's time to content on a busy CPU
# (docs/benchmarks.md, portal-chromium). Its version is the plotly.js of the pinned plotly
# Python package (requirements.txt); it is checked against its SHA-256 and unpacked into
# assets/vendor/plotly/ (gitignored). Without it the portal serves Dash's full bundle.
PLOTLY_JS_VERSION="4.1.1"
PLOTLY_JS_SHA256="c5f9a84666b97e571a04de689e09319869e60900e265c89eac2f71d0b5a0de88"
PLOTLY_JS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/assets/vendor/plotly"

ensure_plotly_cartesian() {
  if [ -f "$PLOTLY_JS_DIR/plotly-cartesian.min.js" ] && [ "$(cat "$PLOTLY_JS_DIR/VERSION" 2>/dev/null)" = "$PLOTLY_JS_VERSION" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "warning: npm not found: the portal serves Dash's full plotly.js (4.8 MB)" >&2
    return 1
  fi
  echo "==> fetching plotly.js-cartesian-dist-min $PLOTLY_JS_VERSION (npm) into assets/vendor/plotly"
  local tmp; tmp="$(mktemp -d)"
  if ! (cd "$tmp" && npm pack --silent "plotly.js-cartesian-dist-min@$PLOTLY_JS_VERSION" >/dev/null 2>&1); then
    echo "warning: npm could not fetch plotly.js-cartesian-dist-min@$PLOTLY_JS_VERSION: the full bundle is served" >&2
    rm -rf "$tmp"; return 1
  fi
  local tgz="$tmp/plotly.js-cartesian-dist-min-$PLOTLY_JS_VERSION.tgz"
  if [ "$(sha256sum "$tgz" | cut -d' ' -f1)" != "$PLOTLY_JS_SHA256" ]; then
    echo "error: plotly.js-cartesian-dist-min-$PLOTLY_JS_VERSION.tgz does not match its pinned SHA-256; not installed" >&2
    rm -rf "$tmp"; return 1
  fi
  tar -xzf "$tgz" -C "$tmp" package/plotly-cartesian.min.js package/LICENSE &&
    mkdir -p "$PLOTLY_JS_DIR" &&
    mv "$tmp/package/plotly-cartesian.min.js" "$tmp/package/LICENSE" "$PLOTLY_JS_DIR/" &&
    echo "$PLOTLY_JS_VERSION" > "$PLOTLY_JS_DIR/VERSION"
  local rc=$?
  rm -rf "$tmp"
  return $rc
}
