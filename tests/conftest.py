"""Shared fixtures: a fresh store per backend, the real data of ../shared, CI rules.

A test that needs something absent (HBase, ../shared/data, Chromium) skips with one
clear line on a laptop, and fails in CI (CI=true), where everything must run.
"""
from __future__ import annotations

import contextlib
import os
import socket
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from settings import Config  # noqa: E402
from store import open_store  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["embedded", "hbase"]


def need(ok: bool, reason: str) -> None:
    """Skip (laptop) or fail (CI) when a real component the test needs is missing."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}: this test must run in CI", pytrace=False)
    pytest.skip(reason)


def shared_data() -> Path:
    """../shared/data (or NOCTURNE_SHARED_DATA), skipping/failing when it is absent."""
    path = Path(os.environ.get("NOCTURNE_SHARED_DATA") or ROOT.parent / "shared" / "data")
    need(path.is_dir(), f"real alert data not found at {path} (set NOCTURNE_SHARED_DATA)")
    return path


def hbase_address() -> tuple[str, int]:
    return os.environ.get("NOCTURNE_HBASE_HOST", "127.0.0.1"), int(os.environ.get("NOCTURNE_HBASE_PORT", "9090"))


def hbase_reachable() -> bool:
    host, port = hbase_address()
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def hbase_thrift2_port() -> int:
    """The Thrift 2 server beside the Thrift 1 one (0: none; run_tests.sh starts one with HBase)."""
    return int(os.environ.get("NOCTURNE_HBASE_THRIFT2_PORT", "0"))


def make_config(backend: str, tmp_path: Path, prefix: str = "ztf") -> Config:
    host, port = hbase_address()
    return Config().replace(backend=backend, data_dir=tmp_path / "store", table_prefix=prefix,
                            hbase_host=host, hbase_port=port, hbase_timeout_ms=10000,
                            hbase_thrift2_port=hbase_thrift2_port())


@pytest.fixture(scope="session")
def hbase_session_prefix():
    """A table prefix unique to this test session on the shared HBase."""
    return "t" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def _hbase_store(hbase_session_prefix, tmp_path_factory):
    """One HBase store per session (creating tables takes seconds); dropped at the end."""
    host, port = hbase_address()
    need(hbase_reachable(), f"no HBase Thrift server at {host}:{port} (start one with "
                            f"hbase_schema/local/hbase start, or set NOCTURNE_HBASE_HOST/PORT)")
    store = open_store(make_config("hbase", tmp_path_factory.mktemp("hb"), hbase_session_prefix), create=True)
    yield store
    store.drop_tables()
    store.close()


def _truncate(store) -> None:
    for logical in store.schema.tables:
        if logical == "meta":
            continue
        table = store.table(logical)
        with table.batch(batch_size=500) as b:
            for key, _ in table.scan(columns=list(table.layout.family_names)):
                b.delete(key)


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    """An empty store on each backend; test ids name it: [embedded], [hbase]."""
    if request.param == "embedded":
        s = open_store(make_config("embedded", tmp_path), create=True)
        yield s
        s.close()
    else:
        s = request.getfixturevalue("_hbase_store")
        _truncate(s)
        yield s


@contextlib.contextmanager
def backend_config(backend: str, tmp: Path):
    """A configuration for a fresh, empty store on ``backend``; HBase tables dropped after."""
    if backend == "hbase":
        host, port = hbase_address()
        need(hbase_reachable(), f"no HBase Thrift server at {host}:{port} (start one with "
                                f"hbase_schema/local/hbase start, or set NOCTURNE_HBASE_HOST/PORT)")
        cfg = make_config("hbase", tmp, "t" + uuid.uuid4().hex[:8])
    else:
        cfg = make_config("embedded", tmp)
    try:
        yield cfg
    finally:
        if backend == "hbase":
            from hbase_schema import get_schema
            with contextlib.suppress(Exception), open_store(cfg, schema=get_schema("rubin")) as s:
                s.drop_tables()  # a test that ingested a Rubin night made these too
            try:
                with open_store(cfg) as s:
                    s.drop_tables()
            except Exception:
                pass


@pytest.fixture(scope="module", params=BACKENDS)
def module_config(request, tmp_path_factory):
    """A configuration for a fresh, empty store on each backend, shared by a test module."""
    with backend_config(request.param, tmp_path_factory.mktemp(request.param)) as cfg:
        yield cfg


def dump(store, tables=None) -> dict:
    """Every row of every table (NaN made comparable), for before/after comparisons."""
    import math

    def clean(v):
        return "NaN" if isinstance(v, float) and math.isnan(v) else v

    out = {}
    for name in tables or store.schema.tables:
        t = store.table(name)
        out[name] = [(k, {c: clean(v) for c, v in cells.items()})
                     for k, cells in t.scan(columns=list(t.layout.family_names))]
    return out


TIMINGS = ("duration_s", "finished")  # statistics cells (any survey's family) that differ between equal runs


def raw_tables(data_dir: Path) -> dict:
    """Every table of the embedded store in ``data_dir`` as SQLite holds it, keys and blobs, in
    key order, but the statistics' and the meta table's (timing cells, the store's creation time)."""
    import sqlite3

    from store.sqlite_file import DB_FILE
    db = sqlite3.connect(Path(data_dir) / DB_FILE)
    try:
        names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                 if not n.endswith((".statistics", ".meta"))]
        return {n: db.execute(f'SELECT * FROM "{n}" ORDER BY k').fetchall() for n in names}
    finally:
        db.close()


def comparable(store) -> dict:
    """:func:`dump` without the meta table and the statistics rows' timing cells: equal for
    equal ingests (a rerun, a resumed run, a clean run)."""
    tables = dump(store)
    tables["statistics"] = [(k, {c: v for c, v in cells.items() if c.partition(":")[2] not in TIMINGS})
                            for k, cells in tables["statistics"]]
    tables.pop("meta", None)
    return tables


class HttpResponse:
    """The bits of a Flask test response the API tests use, for a server over HTTP."""

    def __init__(self, status: int, headers, data: bytes):
        self.status_code, self.headers, self.data = status, headers, data
        self.content_type = headers.get("Content-Type", "")

    def get_json(self):
        import json
        return json.loads(self.data)


class HttpClient:
    """A deployed server (``./run_tests.sh --url URL``) behind the test client's verbs."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def open(self, path: str, method: str, query_string=None, json=None, data=None):
        import json as _json
        import urllib.error
        import urllib.parse
        import urllib.request
        url = self.base + path
        if query_string:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query_string)
        body, headers = None, {}
        if json is not None:
            body, headers = _json.dumps(json).encode(), {"Content-Type": "application/json"}
        elif data is not None:
            body = data if isinstance(data, bytes) else data.encode()
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return HttpResponse(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return HttpResponse(e.code, e.headers, e.read())

    def get(self, path, query_string=None):
        return self.open(path, "GET", query_string=query_string)

    def post(self, path, json=None, data=None, query_string=None):
        return self.open(path, "POST", query_string=query_string, json=json, data=data)

    def delete(self, path):
        return self.open(path, "DELETE")


API_URL = os.environ.get("NOCTURNE_API_URL")


@pytest.fixture(scope="module", params=["url"] if API_URL else BACKENDS)
def api(request, tmp_path_factory):
    """The API over the real data of ../shared/data: in-process on each backend, or a
    deployed server when NOCTURNE_API_URL is set (``./run_tests.sh --url URL``)."""
    data = shared_data()
    if request.param == "url":
        yield HttpClient(API_URL)
        return
    from api import create_api_app
    from ingest.night import ingest
    with backend_config(request.param, tmp_path_factory.mktemp("api-" + request.param)) as cfg:
        ingest(data / "ztf-night-2023-10-18", cfg, show_progress=False)
        ingest(data / "fink-enriched", cfg, show_progress=False)
        yield create_api_app(cfg).test_client()


RUBIN_NIGHT = "rubin-fink-2026-03-10"


@pytest.fixture(scope="session", params=["url"] if API_URL else BACKENDS)
def rubin_api(request, tmp_path_factory):
    """The API over the 107 real Rubin alerts of ../shared/data (Fink's LSST Parquet): in-process
    on each backend (ingested once per session), or a deployed server when NOCTURNE_API_URL is
    set. Its Rubin routes are under /lsst/api/v1."""
    data = shared_data() / RUBIN_NIGHT
    need(data.is_dir(), f"real Rubin alerts not found at {data}")
    if request.param == "url":
        yield HttpClient(API_URL)
        return
    from api import create_api_app
    from ingest.night import ingest
    with backend_config(request.param, tmp_path_factory.mktemp("rubin-api-" + request.param)) as cfg:
        ingest(data, cfg, show_progress=False)
        yield create_api_app(cfg.replace(api_rate_limit=0)).test_client()
