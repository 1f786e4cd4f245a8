"""Fixtures of the browser tests: Debian's Chromium headless against gunicorn serving the real night
(ZTF's, and the real Rubin alerts in the same store).

Skipped with one line when Chromium or chromedriver is absent; in CI (CI=true) they fail
instead (apt-get install chromium chromium-driver).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import driver as D  # noqa: E402
from conftest import ROOT, need  # noqa: E402
from portal_helpers import ingest_real, ingest_rubin  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The port the browser tests' analysis service listens on: the only one the server's allowlist
# (analysis_allowlist) admits. Not a fixture, so that the modules importing portal_url need nothing more.
ANALYSIS_SERVICE_PORT = _free_port()
# The store each server serves, by its URL. A module importing these fixtures gets its own
# copy of them (pytest registers imported fixtures per module), hence its own server and
# browser: they are module-scoped so that each module's are stopped when it ends (as session
# fixtures they all lived until the last test of the run, one Chromium page busy all along).
DATA_DIRS: dict[str, Path] = {}


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory):
    browser, chromedriver = D.chromium_paths()
    need(bool(browser and chromedriver), "Chromium or chromedriver not installed (apt-get install chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        need(False, "Python package selenium not installed")
    cfg = ingest_rubin(ingest_real(tmp_path_factory.mktemp("browser")))  # ZTF's night and Rubin's alerts
    port = _free_port()
    env = {**os.environ, "NOCTURNE_DATA_DIR": str(cfg.data_dir), "NOCTURNE_BACKEND": "embedded",
           "NOCTURNE_TABLE_PREFIX": cfg.table_prefix, "NOCTURNE_API_URL": f"http://127.0.0.1:{port}",
           "NOCTURNE_ANALYSIS_ALLOWLIST": f"http://127.0.0.1:{ANALYSIS_SERVICE_PORT}/"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = open(cfg.data_dir.parent / "gunicorn.log", "w+")
    proc = subprocess.Popen([str(gunicorn), "-b", f"127.0.0.1:{port}", "-w", "2", "index:server"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(url + "/api/v1/health", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"gunicorn did not start: {log.read()[-2000:]}")
            time.sleep(0.2)
    DATA_DIRS[url] = cfg.data_dir
    yield url
    proc.terminate()
    proc.wait(timeout=40)  # gunicorn gives its workers graceful_timeout (30 s); a loaded machine needs more than 10
    log.seek(0)
    errors = log.read()
    log.close()
    assert "Traceback" not in errors, f"the server logged an error:\n{errors[-3000:]}"


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(portal_url, downloads):
    drv = D.start(downloads)
    yield drv
    D.stop(drv)


@pytest.fixture
def page(browser, portal_url):
    """Open a path and wait for Dash; at the end, the console must hold no error."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get_log("browser")  # drop what earlier tests left

    def open_(path: str):
        browser.get(portal_url + path)
        WebDriverWait(browser, 20).until(lambda d: d.execute_script(
            "const content = document.querySelector('#_pages_content'); "
            "return !!content && content.children.length > 0 && "
            "!document.querySelector('[data-dash-is-loading=\"true\"]')"))  # the page's layout has arrived
        return browser

    yield open_
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    browser.get("about:blank")  # nothing left polling or drawing between tests
    errors = [m for m in errors if not sky_image_network_error(m)]
    assert not errors, f"console errors: {errors}"


def sky_image_network_error(message: str) -> bool:
    """A failed request to the sky images' host (setting sky_images): offline, the sky views'
    check of the HiPS server fails so, by design (ARCHITECTURE.md, "Sky views")."""
    from urllib.parse import urlsplit

    from settings import Config
    host = urlsplit(Config.sky_images).netloc
    return bool(host) and host in message and ("net::ERR_" in message or "Failed to load resource" in message)
