"""Time to content of the portal's pages in Chromium, cold, on the demo store.

Used by ``bench/bench_portal.py --chromium``. Definitions:

- **cold**: each run starts a new gunicorn (2 workers, 4 threads, as ``./run.sh``) on the
  store, then opens each page once, each in a new headless Chromium with a fresh profile
  (empty HTTP cache): every page is the first visit of that page since the server started,
  and nothing of the portal (JS bundles, CSS, fonts) is in the browser's cache.
- **time to content**: from the navigation's start (``performance.timeOrigin``) until the
  page's main content element is in the document (a selector per page: the example chips,
  the results table's rows, the light curve's points), the Dash page container is filled,
  and no loading indicator is left (``data-dash-is-loading``, ``dcc.Loading``'s spinner).
  A script installed before the page's own (CDP ``Page.addScriptToEvaluateOnNewDocument``)
  checks this on every DOM change and every 10 ms, and records the first time it holds.

Beside it, per page: bytes received (HTTP transfer sizes of the document and every resource
until then), of which JavaScript, the number of Dash callback requests and their summed
duration, and whether Aladin Lite's bundle was fetched.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

SPINNERS = '[data-dash-is-loading="true"], .dash-spinner, .dash-default-spinner, ._dash-loading-callback'

WATCH = """
(function () {
  var content = %s;
  function ready() {
    var page = document.querySelector('#_pages_content');
    return !!page && page.children.length > 0 && !!document.querySelector(content) &&
           !document.querySelector(%s);
  }
  function check() {
    if (window.__ttc === undefined && document.documentElement && ready()) { window.__ttc = performance.now(); }
  }
  var timer = setInterval(function () { check(); if (window.__ttc !== undefined) { clearInterval(timer); } }, 10);
  document.addEventListener('DOMContentLoaded', function () {
    new MutationObserver(check).observe(document.documentElement, {childList: true, subtree: true, attributes: true});
  });
})();
"""

TRANSFERS = """
var entries = performance.getEntriesByType('resource').filter(function (e) { return e.startTime <= window.__ttc; });
var nav = performance.getEntriesByType('navigation')[0];
var js = 0, total = nav ? nav.transferSize : 0, dash = 0, dashMs = 0, aladin = false;
entries.forEach(function (e) {
  total += e.transferSize;
  if (/\\.js(\\?|$)/.test(e.name) || e.initiatorType === 'script') { js += e.transferSize; }
  if (e.name.indexOf('_dash-update-component') >= 0) { dash += 1; dashMs += e.duration; }
  if (e.name.indexOf('aladin') >= 0) { aladin = true; }
});
var everything = performance.getEntriesByType('resource');
return {ttc: window.__ttc, bytes: total, js: js, callbacks: dash, callbacks_ms: dashMs,
        aladin: aladin || everything.some(function (e) { return e.name.indexOf('aladin') >= 0; })};
"""


@dataclass
class Page:
    name: str
    path: str
    content: str  # CSS selector of the page's main content


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "NOCTURNE_DATA_DIR": str(data_dir), "NOCTURNE_BACKEND": "embedded"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    out = open(log, "a")
    proc = subprocess.Popen([str(gunicorn), "-b", f"127.0.0.1:{port}", "-w", "2", "--threads", "4",
                             "--timeout", "120", "index:server"], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/api/v1/health", timeout=1)
            return proc, url
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn did not start; see {log}") from None
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("gunicorn did not answer within 30 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=20)


def visit(url: str, page: Page, timeout: float = 60.0) -> dict:
    """One cold visit: a fresh Chromium profile, the page opened once; its figures."""
    import driver as D
    from selenium.webdriver.support.ui import WebDriverWait

    drv = D.start(width=1400, height=1000)
    try:
        drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                            {"source": WATCH % (json.dumps(page.content), json.dumps(SPINNERS))})
        drv.get(url + page.path)
        WebDriverWait(drv, timeout, poll_frequency=0.05).until(
            lambda d: d.execute_script("return window.__ttc !== undefined"))
        time.sleep(0.3)  # let a lazily loaded bundle that starts right after show up in the entries
        return drv.execute_script(TRANSFERS)
    finally:
        D.stop(drv)


def measure(data_dir: Path, pages: list[Page], runs: int, log: Path) -> dict[str, list[dict]]:
    """``runs`` cold runs (a new server each), every page once per run, in order."""
    out: dict[str, list[dict]] = {p.name: [] for p in pages}
    for _ in range(runs):
        proc, url = start_server(data_dir, log)
        try:
            for page in pages:
                out[page.name].append(visit(url, page))
        finally:
            stop_server(proc)
    return out
