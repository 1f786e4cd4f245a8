/* Start plotly.js (4.8 MB) at once on pages that draw a figure, instead of after the page's
 * layout has come back from the server (dcc.Graph asks for it only when it mounts): its
 * download and parse then overlap the layout's server time. dcc.Graph uses window.Plotly
 * when it is already there. Not on the home page: with a search, its main content is the
 * results table, which plotly's parse (seconds on a busy CPU) would hold back; nor on the
 * API docs. Measured by bench/bench_portal.py --chromium. */
(function () {
  "use strict";
  var path = location.pathname.replace(/\/+$/, "");
  var bare = path === "" || /\/api-docs$/.test(path);
  if (bare || window.Plotly) { return; }
  var here = document.currentScript ? document.currentScript.src : location.origin + "/assets/plotly_early.js";
  var s = document.createElement("script");
  s.src = new URL("../_dash-component-suites/plotly/package_data/plotly.min.js", here).href;
  s.async = true;
  document.head.appendChild(s);
})();
