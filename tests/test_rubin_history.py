"""Rubin history rows already stored are skipped before encoding (``ingest.rubin.lists``), and a
big Parquet file is cut into units of rows (``ingest.rubin.readers.split_units``): the
store ends the same as when every row is sent, on the real alerts."""
from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq

from conftest import make_config, need, shared_data
from hbase_schema import get_schema
from ingest.night import ingest
from ingest.plan import plan
from ingest.rubin.readers import ParquetPart, split_units
from rubin_inputs import parquet_files, stored_tables
from store import open_store

RUBIN = get_schema("rubin")


def _data():
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")


def _ingest(path, cfg, **kw):
    return ingest(path, cfg, workers=kw.pop("workers", 1), show_progress=False, survey="rubin", **kw)


def _sent(summary) -> tuple[int, int]:
    return sum(c.sources for c in summary.nights.values()), sum(c.forced for c in summary.nights.values())


def _copy(files, folder):
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder / f.name)
    return folder


def test_a_later_night_sends_only_the_history_the_store_lacks(tmp_path):
    _data()
    files = parquet_files(12)
    clean = make_config("embedded", tmp_path / "clean")
    full = _ingest(_copy(files, tmp_path / "all"), clean)
    sources, forced = _sent(full)
    assert sources > 0 and forced > 0
    # a first night, then the whole sample (which repeats it): the store of one clean run
    cfg = make_config("embedded", tmp_path / "nights")
    _ingest(_copy(files[:5], tmp_path / "first"), cfg)
    later = _ingest(tmp_path / "all", cfg)
    assert stored_tables(cfg) == stored_tables(clean)
    later_sources, later_forced = _sent(later)
    assert later_forced < forced and later_sources < sources
    # the same files again: every history row is stored, none is sent, nothing changes
    again = _ingest(tmp_path / "all", cfg, workers=2)
    assert _sent(again) == (0, 0)
    assert stored_tables(cfg) == stored_tables(clean)
    # --rewrite-history sends them all again (the same cells)
    rewritten = _ingest(tmp_path / "all", cfg, rewrite_history=True)
    assert _sent(rewritten) == (sources, forced)
    assert stored_tables(cfg) == stored_tables(clean)


def test_a_stored_history_row_is_kept_unless_history_is_rewritten(tmp_path):
    _data()
    folder = _copy(parquet_files(4), tmp_path / "in")
    cfg = make_config("embedded", tmp_path / "store")
    _ingest(folder, cfg)
    with open_store(cfg, schema=RUBIN) as s:
        records = s.table("fp").records
        key, cells = records.read(ranges=[(None, None)]).rows()[0]
        # as if Rubin had delivered another value before: the forced source's cell in its block
        (block, payload, _), = records.blocks([(key, records.encoder.encode({**cells, "r:psfFlux": 12345.0}))])
        with s.table("fp").batch() as b:
            b.put_encoded(block, payload)
    _ingest(folder, cfg)
    assert _forced(cfg, key)["r:psfFlux"] == 12345.0
    _ingest(folder, cfg, rewrite_history=True)
    assert _forced(cfg, key)["r:psfFlux"] == cells["r:psfFlux"]


def _forced(cfg, key: str) -> dict:
    """The stored forced source of record key ``key``."""
    with open_store(cfg, schema=RUBIN) as s:
        records = s.table("fp").records
        parts = records.keys.parse(key)
        batch = records.read([(parts["diaObjectId"], parts["midpointMjdTai"])])
        return dict(batch.rows())[key]


def test_a_big_parquet_file_is_cut_into_units_of_rows(tmp_path, monkeypatch):
    _data()
    files = parquet_files(12)
    tables = [pq.read_table(f) for f in files]
    one = tmp_path / "one"
    one.mkdir()
    pq.write_table(pa.concat_tables(tables, promote_options="default"), one / "night.parquet", row_group_size=5)
    monkeypatch.setattr("ingest.rubin.readers.UNIT_ALERTS", 7)  # units of 7 rows across row groups of 5
    cut = plan(one, split=split_units)
    alerts = sum(t.num_rows for t in tables)
    assert [(u[0].start, u[0].stop) for u in cut.units] == [(s, min(alerts, s + 7)) for s in range(0, alerts, 7)]
    assert all(isinstance(u[0], ParquetPart) for u in cut.units) and cut.workers > 1
    cfg = make_config("embedded", tmp_path / "cut")
    summary = _ingest(one, cfg, workers=2)
    assert summary.alerts == alerts
    whole = make_config("embedded", tmp_path / "whole")
    _ingest(_copy(files, tmp_path / "files"), whole)
    assert stored_tables(cfg) == stored_tables(whole)
