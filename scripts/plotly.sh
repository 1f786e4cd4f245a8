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

source "$(dirname "${BASH_SOURCE[0]}")/npm_asset.sh"

ensure_plotly_cartesian() {
  fetch_npm_asset plotly.js-cartesian-dist-min "$PLOTLY_JS_VERSION" "$PLOTLY_JS_SHA256" "$PLOTLY_JS_DIR" "the portal serves Dash's full plotly.js (4.8 MB)" plotly-cartesian.min.js LICENSE
}
