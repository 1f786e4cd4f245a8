"""The ingest under bad input and crashes: quarantine with reasons, kill -9 then rerun, lock."""
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import fastavro
import pytest

from conftest import ROOT, comparable, make_config, shared_data
from ingest.cli import EXIT_LOCKED, EXIT_QUARANTINED, main as ingest_cli
from ingest.lock import IngestLock, IngestLocked
from ingest.night import ingest
from store import open_store



def real_files(n):
    return sorted((shared_data() / "ztf-night-2023-10-18").glob("*.avro"))[:n]


def rewrite(src: Path, dst: Path, change) -> None:
    with open(src, "rb") as fh:
        reader = fastavro.reader(fh)
        schema, records = reader.writer_schema, list(reader)
    for r in records:
        change(r)
    with open(dst, "wb") as out:
        fastavro.writer(out, schema, records)


@pytest.fixture
def damaged_night(tmp_path):
    night = tmp_path / "night"
    night.mkdir()
    files = real_files(12)
    for f in files[:6]:
        shutil.copy(f, night / f.name)
    data = files[6].read_bytes()
    (night / "truncated.avro").write_bytes(data[: len(data) // 3])
    flipped = bytearray(files[7].read_bytes())
    for i in range(4, 40):
        flipped[i] ^= 0xFF
    (night / "flipped.avro").write_bytes(bytes(flipped))
    rewrite(files[8], night / "old_schema.avro", lambda r: r.update(schemavsn="2.1"))
    rewrite(files[9], night / "no_objectid.avro", lambda r: r.update(objectId=None))
    rewrite(files[10], night / "nan_ra.avro", lambda r: r["candidate"].update(ra=float("nan")))
    rewrite(files[11], night / "bad_dec.avro", lambda r: r["candidate"].update(dec=95.0))
    return night


def test_damaged_packets_are_quarantined_with_reasons_and_the_rest_ingested(damaged_night, tmp_path, monkeypatch):
    cfg = make_config("embedded", tmp_path)
    monkeypatch.setenv("NOCTURNE_DATA_DIR", str(cfg.data_dir))
    assert ingest_cli(["night", str(damaged_night), "--night", "20231018", "--no-progress"]) == EXIT_QUARANTINED
    lines = [json.loads(x) for x in (cfg.data_dir / "quarantine" / "20231018" / "quarantine.jsonl").read_text().splitlines()]
    reasons = {Path(x["source"]).name: x["reason"] for x in lines}
    assert set(reasons) == {"truncated.avro", "flipped.avro", "old_schema.avro", "no_objectid.avro",
                            "nan_ra.avro", "bad_dec.avro"}
    assert "Avro" in reasons["truncated.avro"] and "Avro" in reasons["flipped.avro"]
    assert "2.1" in reasons["old_schema.avro"] and "older than 3.3" in reasons["old_schema.avro"]
    assert "objectId" in reasons["no_objectid.avro"]
    assert "ra is nan" in reasons["nan_ra.avro"]
    assert "dec 95.0" in reasons["bad_dec.avro"]
    for entry in lines:  # every packet kept beside its reason
        assert entry["saved_as"] and Path(entry["saved_as"]).stat().st_size > 0
    candid = next(x for x in lines if x["source"].endswith("nan_ra.avro"))["candid"]
    assert isinstance(candid, int)
    with open_store(cfg) as s:
        assert s.table("main").count() == 6
        stats = s.table("statistics").row(f"ztf_20231018")
        assert (stats["basic:raw"], stats["basic:sci"], stats["basic:quarantined"]) == (12, 6, 6)


def test_an_unknown_future_schema_is_refused(tmp_path):
    night = tmp_path / "night"
    night.mkdir()
    rewrite(real_files(1)[0], night / "future.avro", lambda r: r.update(schemavsn="7.0"))
    summary = ingest(night, make_config("embedded", tmp_path), night="20231018", show_progress=False)
    assert summary.quarantined == 1 and summary.alerts == 0


def _run(data_dir: Path, night: Path, batch_size: int = 40) -> subprocess.Popen:
    env = dict(os.environ, NOCTURNE_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "ingest", "night", str(night), "--no-progress",
                             "--batch-size", str(batch_size)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)




def _main_rows(data_dir: Path) -> int:
    """Rows of the main table, read with a bare read-only SQLite query (cheap enough to poll)."""
    try:
        db = sqlite3.connect(f"file:{data_dir / 'nocturne.sqlite3'}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute('SELECT count(*) FROM "ztf"').fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:  # no file or no table yet
        return 0


def _kill_when(proc, data_dir: Path, target: int) -> int | None:
    """kill -9 ``proc`` as soon as the main table holds ``target`` rows: the count then,
    or None when the ingest finished first."""
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if _main_rows(data_dir) >= target:
            proc.kill()
            proc.wait(timeout=60)
            return _main_rows(data_dir)
        time.sleep(0.002)
    proc.wait(timeout=60)
    return None


def test_kill_9_at_random_points_then_rerun_equals_a_clean_run(tmp_path):
    """Six crashes at random points of the write phase, each followed by a rerun.

    A kill that comes too late (the ingest already done) does not count: that point is
    tried again, lower, in a fresh store, so that six kills land mid-write."""
    night = shared_data() / "ztf-night-2023-10-18"
    clean = tmp_path / "clean"
    assert _run(clean, night).wait(timeout=300) == 0
    with open_store(make_config("embedded", tmp_path).replace(data_dir=clean)) as store:
        expected = comparable(store)
    rng = random.Random(20231018)
    for attempt, target in enumerate(sorted(rng.sample(range(1, 520), 6))):
        for retry in range(4):
            crashed = tmp_path / f"crashed{attempt}-{retry}"
            n = _kill_when(_run(crashed, night, batch_size=10), crashed, max(1, target >> retry))
            if n is not None and n < 558:
                break
        else:
            raise AssertionError(f"no kill landed mid-write for point {attempt} (target {target} rows)")
        cfg = make_config("embedded", tmp_path).replace(data_dir=crashed)
        with open_store(cfg) as s:
            assert not s.table("statistics").row("ztf_20231018"), "a killed night must not look complete"
        assert _run(crashed, night).wait(timeout=300) == 0
        with open_store(cfg) as s:
            assert comparable(s) == expected, f"killed at {n} rows, the rerun differs from a clean run"
        print(f"kill -9 at {n} of 558 main rows: rerun equals the clean run on {len(expected)} tables, "
              f"{sum(len(rows) for rows in expected.values()):,} rows")


def test_two_ingests_never_run_at_once(tmp_path, monkeypatch):
    cfg = make_config("embedded", tmp_path)
    with IngestLock(cfg.data_dir / "ingest.lock"):
        with pytest.raises(IngestLocked, match="another ingest is running"):
            ingest(real_files(1)[0], cfg, show_progress=False)
        monkeypatch.setenv("NOCTURNE_DATA_DIR", str(cfg.data_dir))
        assert ingest_cli(["night", str(real_files(1)[0]), "--no-progress"]) == EXIT_LOCKED
    assert ingest(real_files(1)[0], cfg, show_progress=False).alerts == 1


def test_cli_refuses_a_bad_night_and_a_missing_path(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NOCTURNE_DATA_DIR", str(tmp_path / "store"))
    assert ingest_cli(["night", str(tmp_path), "--night", "2023-10-18"]) == 2
    assert ingest_cli(["night", str(tmp_path / "absent"), "--no-progress"]) == 1
    assert "absent" in capsys.readouterr().err
