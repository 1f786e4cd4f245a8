"""Deployment end to end: gunicorn (4 workers, deploy/gunicorn.conf.py) on the embedded
store holding the real alerts, behind nginx (deploy/nginx/nocturne.conf) on a loopback
port. Through nginx: the API suite (./run_tests.sh --url), a browser smoke test, and
32 readers served without a single error while the ingest writes a new night.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, make_config, need, shared_data

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def nginx_conf(workdir: Path, listen: int, upstream: int, api_rate: str) -> Path:
    """The shipped site, on loopback ports, with logs and pid in ``workdir``."""
    site = (ROOT / "deploy" / "nginx" / "nocturne.conf").read_text()
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    site = site.replace("server 127.0.0.1:24000;", f"server 127.0.0.1:{upstream};")
    site = re.sub(r"rate=\d+r/s", f"rate={api_rate}", site)
    (workdir / "site.conf").write_text(site)
    conf = workdir / "nginx.conf"
    conf.write_text(f"""
user root;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log {workdir}/access.log;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    include {workdir}/site.conf;
}}
""")
    return conf


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    need(Path(NGINX).exists(), "nginx is not installed (apt-get install nginx)")
    data = shared_data()
    work = tmp_path_factory.mktemp("deploy")
    cfg = make_config("embedded", work)
    env = dict(os.environ, NOCTURNE_DATA_DIR=str(cfg.data_dir), PYTHONPATH=str(ROOT), NOCTURNE_API_RATE_LIMIT="0")
    for part in ("ztf-night-2023-10-18", "fink-enriched"):
        subprocess.run([sys.executable, "-m", "ingest", "night", str(data / part), "--no-progress"], cwd=ROOT,
                       env=env, check=True, capture_output=True)
    app_port, web_port = free_port(), free_port()
    gunicorn = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                                 "index:server"], cwd=ROOT,
                                env=dict(env, GUNICORN_BIND=f"127.0.0.1:{app_port}", GUNICORN_WORKERS="4",
                                         GUNICORN_ACCESS_LOG=str(work / "gunicorn-access.log"),
                                         GUNICORN_ERROR_LOG=str(work / "gunicorn-error.log")))
    conf = nginx_conf(work, web_port, app_port, "500r/s")
    nginx = None
    try:
        wait_http(f"http://127.0.0.1:{app_port}/api/v1/health")
        nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(work), "-g", "daemon off;"],
                                 stderr=subprocess.PIPE)
        wait_http(f"http://127.0.0.1:{web_port}/api/v1/health", 20)
        yield {"url": f"http://127.0.0.1:{web_port}", "env": env, "cfg": cfg, "work": work}
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=20)
        gunicorn.terminate()
        gunicorn.wait(timeout=60)
        errors = (work / "gunicorn-error.log").read_text() if (work / "gunicorn-error.log").exists() else ""
        assert "Traceback" not in errors, errors[-3000:]


def test_api_suite_passes_through_nginx(deployed):
    r = subprocess.run([str(ROOT / "run_tests.sh"), "--url", deployed["url"], "-q", "-p", "no:cacheprovider"],
                       cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, "\n".join(l for l in r.stdout.splitlines() if l.startswith(("E ", "FAILED")))[-6000:]
    assert re.search(r"\d+ passed", r.stdout) and " failed" not in r.stdout


def test_headers_compression_and_json_errors_from_nginx(deployed):
    req = urllib.request.Request(deployed["url"] + "/api/v1/schema", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req) as r:
        assert r.headers["Content-Encoding"] == "gzip"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    big = b'{"catalog": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    req = urllib.request.Request(deployed["url"] + "/api/v1/xmatch", data=big, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req)
        raise AssertionError("a 17 MB body was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 413 and json.loads(e.read())["status"] == "error"


def test_browser_smoke_through_nginx(deployed):
    from browser.driver import chromium_paths, start, stop
    browser, driver_path = chromium_paths()
    need(bool(browser and driver_path), "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    driver = start()
    try:
        from selenium.common.exceptions import TimeoutException
        for path, text in (("/", "Nocturne"), ("/ZTF23abjexnw", "ZTF23abjexnw"), ("/statistics", "2023-10-18")):
            driver.get(deployed["url"] + path)
            try:
                WebDriverWait(driver, 30).until(EC.text_to_be_present_in_element((By.TAG_NAME, "body"), text))
            except TimeoutException:
                raise AssertionError(f"{path}: no {text!r} in {driver.find_element(By.TAG_NAME, 'body').text[:500]!r}")
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == []
    finally:
        stop(driver)


def test_readers_are_served_while_the_ingest_writes_a_new_night(deployed, tmp_path):
    sim = tmp_path / "sim"
    subprocess.run([sys.executable, "-m", "ingest", "simulate", "--nights", "1", "--alerts-per-night", "3000",
                    "--seed", "99", "--start-date", "2026-06-01", "--quiet", str(sim)], cwd=ROOT, check=True)
    night = "20260601"
    url = deployed["url"]
    paths = ["/api/v1/objects?objectId=ZTF23abjexnw", "/api/v1/conesearch?ra=3.38&dec=52.69&radius=60",
             "/api/v1/latests?class=Solar%20System%20MPC&n=20", f"/api/v1/statistics?date={night}",
             "/api/v1/classes", "/ZTF23abjexnw"]
    codes, failures, stop = [], [], threading.Event()
    clients = 32

    def read(i: int):
        while not stop.is_set():
            path = paths[i % len(paths)]
            i += 1
            try:
                with urllib.request.urlopen(url + path, timeout=30) as r:
                    body = r.read()
                    codes.append(r.status)
                    if b"database is locked" in body:
                        failures.append((path, "locked"))
            except urllib.error.HTTPError as e:
                codes.append(e.code)
                failures.append((path, e.code, e.read()[:200]))
            except OSError as e:
                failures.append((path, repr(e)))

    readers = [threading.Thread(target=read, args=(k,)) for k in range(clients)]
    for t in readers:
        t.start()
    try:
        ingest = subprocess.run([sys.executable, "-m", "ingest", "night", str(sim), "--no-progress"], cwd=ROOT,
                                env=deployed["env"], capture_output=True, text=True, timeout=600)
    finally:
        stop.set()
        for t in readers:
            t.join(timeout=60)
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    assert failures == [], failures[:5]
    assert len(codes) > 2 * clients and set(codes) == {200}
    print(f"{clients} clients during the ingest: {len(codes)} responses, all 200")
    with urllib.request.urlopen(f"{url}/api/v1/statistics?date={night}") as r:
        stats = json.loads(r.read())
    assert len(stats) == 1 and stats[0]["basic:sci"] > 2000
    import pandas as pd
    truth = pd.read_csv(sim / "truth.csv")
    oid = truth[truth["n_alerts"] > 0]["objectId"].iloc[0]
    with urllib.request.urlopen(f"{url}/api/v1/objects?objectId={oid}&columns=i:objectId") as r:
        assert json.loads(r.read())[0]["i:objectId"] == oid
