"""Serving an app with gunicorn and timing queries against it, for the benchmarks.

One client on a keep-alive connection; the first requests warm each worker and are not
counted; p50 and p95 in milliseconds."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class QueryFailed(RuntimeError):
    """A timed query did not answer 200 (or the connection failed)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def quantiles(times: list[float]) -> tuple[float, float]:
    """(p50, p95) in ms of durations in seconds."""
    q = statistics.quantiles(times, n=20, method="inclusive") if len(times) > 1 else times * 19
    return statistics.median(times) * 1000, q[18] * 1000


def serve(app: str, env: dict, log_file: Path | None = None, workers: int = 4,
          timeout_s: int = 3600) -> tuple[subprocess.Popen, int]:
    """gunicorn serving ``app`` on a free loopback port, once /api/v1/health answers 200;
    rate limit off and a time budget of ``timeout_s``."""
    port = free_port()
    env = dict(os.environ, NOCTURNE_API_RATE_LIMIT="0", NOCTURNE_QUERY_TIME_BUDGET_S=str(timeout_s), **env)
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    if not gunicorn.exists():
        gunicorn = Path(shutil.which("gunicorn") or "gunicorn")
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL
    try:
        proc = subprocess.Popen([str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout",
                                 str(timeout_s), app], cwd=ROOT, env=env, stdout=out, stderr=out,
                                start_new_session=True)
    finally:
        if log_file:
            out.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", "/api/v1/health")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"gunicorn {app} did not answer /api/v1/health" + (f"; see {log_file}" if log_file else ""))


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def time_request(port: int, method: str, path: str, params: dict, repeats: int, warm: int = 4) -> dict:
    """``{"p50", "p95", "rows", "bytes", "n"}`` of ``repeats`` requests after ``warm`` ones;
    rows = the length of a JSON list answer, else 1. Raises QueryFailed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    times = []
    try:
        for i in range(repeats + warm):
            t0 = time.perf_counter()
            if method == "GET":
                conn.request("GET", path + "?" + urllib.parse.urlencode(params))
            else:
                conn.request("POST", path, body=json.dumps(params), headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            body = resp.read()
            elapsed = time.perf_counter() - t0
            if resp.status != 200:
                raise QueryFailed(f"{path} answered HTTP {resp.status}: {body[:200]!r}")
            if i >= warm:
                times.append(elapsed)
    except (OSError, http.client.HTTPException) as exc:
        raise QueryFailed(f"{path}: {type(exc).__name__}: {exc}") from None
    finally:
        conn.close()
    is_list = resp.getheader("Content-Type", "").startswith("application/json") and body[:1] == b"["
    p50, p95 = quantiles(times)
    return {"p50": p50, "p95": p95, "rows": len(json.loads(body)) if is_list else 1, "bytes": len(body),
            "n": len(times)}
