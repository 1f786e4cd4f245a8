"""The fit denial-of-service replay (issue 17, item 1) against a real gunicorn on loopback:
heavy fits sent at once from several clients keep neither the workers nor the CPU: each
ends within its budget, extra ones are refused with Retry-After, and the health probe is
answered all along. Timings are printed (docs/reliability.md), asserted only as "not stuck".
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, make_config
from deploy.test_deploy import free_port, wait_http
from fitload import put_variable_star
from store import open_store

BUDGET_S = 2.0
CLIENT_TIMEOUT_S = 5.0


def _get(url: str, headers: dict | None = None, timeout: float = 60) -> tuple[int, float, dict, dict]:
    """(status, seconds, headers, body) of a GET."""
    t0 = time.monotonic()
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, time.monotonic() - t0, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, time.monotonic() - t0, dict(e.headers), json.loads(e.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("fitdos")
    cfg = make_config("embedded", work)
    with open_store(cfg, create=True) as store:
        put_variable_star(store, "ZTF25short", 11, 60, seed=1)
        put_variable_star(store, "ZTF25long", 300, 180, seed=2)
    port = free_port()
    env = dict(os.environ, NOCTURNE_DATA_DIR=str(cfg.data_dir), PYTHONPATH=str(ROOT), NOCTURNE_API_RATE_LIMIT="0",
               NOCTURNE_QUERY_TIME_BUDGET_S=str(BUDGET_S), NOCTURNE_COMPUTE_SLOTS="2",
               GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2",
               GUNICORN_ACCESS_LOG=str(work / "access.log"), GUNICORN_ERROR_LOG=str(work / "error.log"))
    env.pop("GUNICORN_THREADS", None)
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                             "index:server"], cwd=ROOT, env=env)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v1/health")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        errors = (work / "error.log").read_text() if (work / "error.log").exists() else ""
        assert "Traceback" not in errors and "WORKER TIMEOUT" not in errors, errors[-3000:]


def _storm(base: str, requests: list[tuple[str, dict]]) -> tuple[list, list]:
    """Send ``requests`` at once while probing health every 0.2 s; (results, probe latencies)."""
    results, probes, done = [None] * len(requests), [], threading.Event()

    def heavy(i, path, headers):
        results[i] = _get(base + path, headers)

    def probe():
        while not done.is_set():
            try:
                status, took, _, _ = _get(base + "/api/v1/health", timeout=CLIENT_TIMEOUT_S)
                probes.append((status, took))
            except OSError as exc:  # no answer within the client's timeout
                probes.append((repr(exc), CLIENT_TIMEOUT_S))
            time.sleep(0.2)

    prober = threading.Thread(target=probe)
    prober.start()
    threads = [threading.Thread(target=heavy, args=(i, p, h)) for i, (p, h) in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    time.sleep(0.5)
    done.set()
    prober.join(timeout=30)
    return results, probes


def _report(name: str, results: list, probes: list) -> None:
    codes = [r[0] for r in results]
    print(f"\n{name}: N={len(results)} requests, codes {codes}, durations "
          f"{', '.join(f'{r[1]:.2f}' for r in results)} s; {len(probes)} health probes, "
          f"max {max(p[1] for p in probes):.3f} s, median {sorted(p[1] for p in probes)[len(probes) // 2]:.3f} s; "
          f"machine {os.cpu_count()} CPUs")


def test_the_issues_four_heavy_varstar_fits_are_refused_and_health_answers(server):
    heavy = "/api/v1/fit/varstar?" + "&".join(f"{k}={v}" for k, v in
                                               {"objectId": "ZTF25short", "period_min": 0.01,
                                                "nterms_base": 5, "nterms_band": 0}.items())
    results, probes = _storm(server, [(f"{heavy}&period_max={pmax}", {}) for pmax in (1000, 999, 998, 997)])
    _report("issue's heavy varstar x4", results, probes)
    for status, took, _, body in results:
        assert status in (422, 429), body
        assert status == 429 or "12 model parameters" in body["message"], body  # refused before any search
        assert took < BUDGET_S + CLIENT_TIMEOUT_S
    assert probes and all(status == 200 for status, _ in probes), probes


def test_four_long_fits_from_four_clients_end_within_the_budget_while_health_answers(server):
    # 300 points with 3 shared terms: allowed, a few seconds each; the budget is 2 s.
    requests = [(f"/api/v1/fit/varstar?objectId=ZTF25long&nterms_base=3&nterms_band=1&period_max={pmax}",
                 {"X-Forwarded-For": f"192.0.2.{i}"}) for i, pmax in enumerate((1.2, 1.19, 1.18, 1.17), 1)]
    results, probes = _storm(server, requests)
    _report("long varstar x4, 4 clients, 2 slots", results, probes)
    codes = sorted(r[0] for r in results)
    assert codes.count(503) >= 2, codes  # two slots on the server: the others wait for no one
    for status, took, headers, body in results:
        assert status in (200, 422, 503), body
        assert took < BUDGET_S + CLIENT_TIMEOUT_S, f"a fit ran {took:.1f} s, its budget is {BUDGET_S} s"
        if status == 503:
            assert int(headers["Retry-After"]) >= 1
        if status == 422:
            assert "was stopped" in body["message"]
    assert probes and all(status == 200 for status, _ in probes), probes
    # the slots are free again: the default fit answers
    status, _, _, body = _get(server + "/api/v1/fit/varstar?objectId=ZTF25long")
    assert status == 200 and abs(body["period"] - 0.57) < 0.01
