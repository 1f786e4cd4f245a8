/* Which plotly.js dcc.Graph loads (when it first mounts): /_nocturne/plotly.min.js, which the
 * server answers with plotly.js's cartesian bundle (1.5 MB: scatter, bar, heatmap, all the
 * portal draws; scripts/plotly.sh fetches it) or, when that is not installed, a redirect to
 * Dash's full bundle (4.8 MB). dcc.Graph reads the URL from window._dashPlotlyJSURL, which
 * Dash's renderer sets to the full bundle when it starts: that one assignment is ignored.
 * Dash is pinned (requirements.txt); tests/browser/test_portal_browser.py checks that the
 * cartesian bundle is the one fetched. Measured by bench/bench_portal.py --chromium. */
(function () {
  "use strict";
  var here = document.currentScript ? document.currentScript.src : location.origin + "/assets/plotly_js.js";
  var url = new URL("../_nocturne/plotly.min.js", here).href;
  try {
    Object.defineProperty(window, "_dashPlotlyJSURL", {
      configurable: true,
      get: function () { return url; },
      set: function () {}
    });
  } catch (e) { /* another definition exists: Dash's default stays */ }
})();
