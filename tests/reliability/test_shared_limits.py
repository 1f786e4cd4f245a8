"""Limits hold per user and per client address across the workers of a real server: gunicorn
with 2 workers on a loopback port, bursts sent over 8 connections at once. The client
address is set with X-Forwarded-For (trusted from loopback, as from nginx)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from api import auth
from conftest import ROOT, make_config
from store import open_store

OBJ = "ZTF23abjexnw"
API_LIMIT, WRITES, SIGN_INS = 200, 60, 10  # WRITES and SIGN_INS: the defaults the README promises


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("shared-limits")
    cfg = make_config("embedded", work)
    with open_store(cfg, create=True) as store:
        main = store.table("main")
        main.put(main.keys.build(OBJ, 2460236.5, 1), {"i:objectId": OBJ, "i:jd": 2460236.5, "i:candid": 1})
        tokens = {}
        for user in ("alice", "bob"):
            auth.add_user(store, user)
            tokens[user] = auth.issue_token(store, user, ["annotate"])[0]
    port = free_port()
    env = dict(os.environ, NOCTURNE_DATA_DIR=str(cfg.data_dir), PYTHONPATH=str(ROOT),
               NOCTURNE_API_RATE_LIMIT=str(API_LIMIT), NOCTURNE_WRITES_PER_MINUTE=str(WRITES),
               NOCTURNE_SIGN_INS_PER_MINUTE=str(SIGN_INS))
    access, errors = work / "access.log", work / "error.log"
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
                             "--access-logfile", str(access), "--access-logformat", "%(p)s %(s)s %(m)s %(U)s",
                             "--error-logfile", str(errors), "index:server"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:  # until both workers answer (each loads the app on its own); not under /api/: not limited
            try:
                burst([(url + "/assets/nocturne.css",)] * 8)
                if len(workers_that_answered(access, "/assets/nocturne.css")) == 2:
                    break
            except OSError:
                time.sleep(0.3)
            assert proc.poll() is None and time.monotonic() < deadline, errors.read_text()[-2000:]
        yield {"url": url, "tokens": tokens, "access": access}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "Traceback" not in errors.read_text(), errors.read_text()[-3000:]


def send(url: str, method: str = "GET", body: dict | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def burst(calls: list) -> list[tuple[int, dict, bytes]]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda call: send(*call), calls))


def workers_that_answered(access: Path, path: str) -> set[str]:
    time.sleep(0.5)  # the access log is written after the response
    return {line.split()[0] for line in access.read_text().splitlines() if line.endswith(path)}


def test_one_token_gets_at_most_the_promised_writes_per_minute_from_two_workers(server):
    headers = {"Authorization": f"token {server['tokens']['alice']}", "X-Forwarded-For": "10.0.0.1"}
    sent = 150
    t0 = time.monotonic()
    answers = burst([(server["url"] + "/api/v1/annotations", "POST", {"objectId": OBJ, "text": f"burst {i}"}, headers)
                     for i in range(sent)])
    elapsed = time.monotonic() - t0
    codes = [a[0] for a in answers]
    accepted = codes.count(201)
    print(f"\nwrite burst: {accepted} of {sent} accepted in {elapsed:.2f} s by 2 workers (limit {WRITES}/min)")
    assert set(codes) == {201, 429}
    assert accepted <= WRITES
    if elapsed < 55:  # the whole burst inside one window: exactly the limit gets through
        assert accepted == WRITES
    refused = next(a for a in answers if a[0] == 429)
    assert int(refused[1]["Retry-After"]) >= 1 and "too many writes by alice" in json.loads(refused[2])["message"]
    assert len(workers_that_answered(server["access"], "/api/v1/annotations")) == 2
    # the same address is limited too, whoever writes from it
    other = send(server["url"] + "/api/v1/annotations", "POST", {"objectId": OBJ, "text": "bob"},
                 {"Authorization": f"token {server['tokens']['bob']}", "X-Forwarded-For": "10.0.0.1"})
    assert other[0] == 429 and "from this address" in json.loads(other[2])["message"]
    # bob from his own address may write
    own = send(server["url"] + "/api/v1/annotations", "POST", {"objectId": OBJ, "text": "bob"},
               {"Authorization": f"token {server['tokens']['bob']}", "X-Forwarded-For": "10.0.0.9"})
    assert own[0] == 201


def test_one_address_gets_at_most_the_api_limit_from_two_workers(server):
    sent = 260
    answers = burst([(server["url"] + "/api/v1/classes", "GET", None, {"X-Forwarded-For": "10.0.0.2"})
                     for _ in range(sent)])
    codes = [a[0] for a in answers]
    print(f"\nread burst: {codes.count(200)} of {sent} accepted by 2 workers (limit {API_LIMIT}/min)")
    assert set(codes) == {200, 429} and codes.count(200) <= API_LIMIT
    assert len(workers_that_answered(server["access"], "/api/v1/classes")) == 2
    assert send(server["url"] + "/api/v1/classes", headers={"X-Forwarded-For": "10.0.0.3"})[0] == 200


def sign_in_body(user: str, password: str) -> dict:
    outputs = [("ann-signin-box", "style"), ("ann-add-box", "style"), ("ann-who", "children"), ("ann-csrf", "data"),
               ("ann-signin-msg", "children"), ("ann-password", "value"), ("ann-token", "value")]
    return {"output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
            "outputs": [{"id": i, "property": p} for i, p in outputs],
            "inputs": [{"id": "ann-signin", "property": "n_clicks", "value": 1},
                       {"id": "ann-signout", "property": "n_clicks", "value": 0}],
            "state": [{"id": "ann-user", "property": "value", "value": user},
                      {"id": "ann-password", "property": "value", "value": password},
                      {"id": "ann-token", "property": "value", "value": ""}],
            "changedPropIds": ["ann-signin.n_clicks"]}


def tried(answers) -> int:
    """How many sign-in attempts were checked (not refused as too many)."""
    assert {a[0] for a in answers} == {200}
    return sum(b"Too many attempts" not in a[2] for a in answers)


def test_sign_in_attempts_are_limited_per_address_and_per_username_across_workers(server):
    url = server["url"] + "/_dash-update-component"
    sent = 30
    per_address = burst([(url, "POST", sign_in_body(f"guess{i}", "wrong password"), {"X-Forwarded-For": "10.0.1.1"})
                         for i in range(sent)])
    print(f"\nsign-ins from one address: {tried(per_address)} of {sent} tried by 2 workers (limit {SIGN_INS}/min)")
    assert tried(per_address) == SIGN_INS
    per_user = burst([(url, "POST", sign_in_body("alice", "wrong password"), {"X-Forwarded-For": f"10.0.2.{i}"})
                      for i in range(sent)])
    assert tried(per_user) == SIGN_INS
    assert len(workers_that_answered(server["access"], "/_dash-update-component")) == 2
