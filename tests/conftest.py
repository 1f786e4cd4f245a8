"""Shared fixtures: a fresh store per backend, the real data of ../shared, CI rules.

A test that needs something absent (HBase, ../shared/data, Chromium) skips with one
clear line on a laptop, and fails in CI (CI=true), where everything must run.
"""
from __future__ import annotations

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


def make_config(backend: str, tmp_path: Path, prefix: str = "ztf") -> Config:
    host, port = hbase_address()
    return Config().replace(backend=backend, data_dir=tmp_path / "store", table_prefix=prefix,
                            hbase_host=host, hbase_port=port, hbase_timeout_ms=10000)


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


@pytest.fixture(scope="module", params=BACKENDS)
def module_config(request, tmp_path_factory):
    """A configuration for a fresh, empty store on each backend, shared by a test module."""
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "hbase":
        host, port = hbase_address()
        need(hbase_reachable(), f"no HBase Thrift server at {host}:{port} (start one with "
                                f"hbase_schema/local/hbase start, or set NOCTURNE_HBASE_HOST/PORT)")
        cfg = make_config("hbase", tmp, "t" + uuid.uuid4().hex[:8])
    else:
        cfg = make_config("embedded", tmp)
    yield cfg
    if request.param == "hbase":
        with open_store(cfg) as s:
            s.drop_tables()


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
