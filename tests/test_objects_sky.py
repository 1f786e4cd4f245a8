"""The object-level sky index (``objects_sky``): written only by a newer alert, whatever the
order; read by big cones with the same answer as the alert index; absent or unfilled in an
older store (the cone reads the alert index), filled by ``python -m ingest reindex-sky``."""
import math
import os
import sqlite3
import subprocess
import sys
import time
from itertools import permutations

import numpy as np
import pytest

import api.queries.cone as cone
from conftest import ROOT, backend_config, dump, make_config, shared_data
from hbase_schema import get_schema
from ingest.newest import sky_writer
from ingest.night import ingest
from ingest.reindex import reindex_sky
from ingest.rows import SKY, RowBuilder
from store import open_store
from store.filled import is_filled, mark_filled
from store.sky import pixels

BUILDER = RowBuilder(get_schema())
OID = "ZTF23aaaaaaa"


def _record(oid, jd, candid, ra, dec):
    candidate = {"candid": candid, "jd": jd, "fid": 1, "ra": ra, "dec": dec, "magpsf": 18.0, "sigmapsf": 0.1,
                 "jdstarthist": 2460200.5}
    return {"schemavsn": "4.02", "objectId": oid, "candid": candid, "candidate": candidate}


def _write(store, records):
    """Write ``records`` as one ingest run does: main and index rows, and the object-level rows
    offered to the run's rule. Returns the number of object-level rows sent."""
    order = store.schema.pixel_order
    sky = store.table(SKY)
    candidates = []
    for rec in records:
        rows = BUILDER.build(rec)
        pixel = int(pixels(rows.ra, rows.dec, order)[0])
        store.table("main").put(*rows.main)
        for table, (key, cells) in BUILDER.index_rows(rows, pixel).items():
            store.table(table).put(key, cells)
        key, rank, cells, full = BUILDER.sky_row(rows, pixel)
        candidates.append((key, rank, sky.encode(cells), full))
    with sky.batch(7) as batch:
        return sky_writer(store, {SKY: batch}).offer(candidates)


@pytest.fixture(autouse=True)
def every_radius_reads_objects_sky(monkeypatch):
    """Every cone here reads the object-level index (in service only from OBJECT_INDEX_ARCSEC)."""
    monkeypatch.setattr(cone, "OBJECT_INDEX_ARCSEC", 0.0)


def test_only_big_cones_without_a_date_window_read_objects_sky(monkeypatch, tmp_path):
    monkeypatch.setattr(cone, "OBJECT_INDEX_ARCSEC", 900.0)
    calls = []
    saved = cone.latest_in_cone
    monkeypatch.setattr(cone, "latest_in_cone", lambda *a: calls.append(a[3]) or saved(*a))
    with open_store(make_config("embedded", tmp_path), create=True) as s:
        _write(s, [_record(OID, 2460236.5, 1, 150.0, 30.0)])
        assert len(cone.conesearch(s, 150.0, 30.0, 60)) == 1 and calls == []
        assert len(cone.conesearch(s, 150.0, 30.0, 3600, start_jd=2460000.5)) == 1 and calls == []
        assert len(cone.conesearch(s, 150.0, 30.0, 900)) == 1 and calls == [0.25]


def _alert_index_answer(store, *args, **kw):
    """The conesearch answer read from the alert index (the code before objects_sky)."""
    saved = cone.latest_in_cone
    cone.latest_in_cone = lambda *a, **k: None
    try:
        return cone.conesearch(store, *args, **kw)
    finally:
        cone.latest_in_cone = saved


def _offset(ra, dec, arcsec, angle_deg):
    """The point ``arcsec`` from (ra, dec) towards position angle ``angle_deg`` (small angles)."""
    a = math.radians(angle_deg)
    return ra + arcsec / 3600 * math.sin(a) / math.cos(math.radians(dec)), dec + arcsec / 3600 * math.cos(a)


def test_each_pixel_keeps_the_objects_latest_alert_in_any_order_and_a_rerun_writes_none(store):
    ra, dec = 150.0, 30.0
    far = _offset(ra, dec, 60, 90)  # another pixel
    alerts = [_record(OID, 2460236.5, 30, ra, dec), _record(OID, 2460237.5, 20, ra, dec),
              _record(OID, 2460237.5, 100, ra, dec),  # same jd: the alert index lists candid "100" before "20"
              _record(OID, 2460235.5, 40, ra, dec), _record(OID, 2460230.5, 50, *far)]
    finals = set()
    for n, order in enumerate(permutations(range(4))):
        if n % 6:  # 4 of the 24 orders, each written as two runs
            continue
        for key, _ in store.table(SKY).scan(columns=["i"]):
            store.table(SKY).delete(key)
        picked = [alerts[i] for i in order] + [alerts[4]]
        _write(store, picked[:2])
        _write(store, picked[2:])
        rows = dump(store, [SKY])[SKY]
        finals.add(repr(rows))
        assert _write(store, alerts) == 0, "a rerun writes no object-level row"
    assert len(finals) == 1
    rows = dict(dump(store, [SKY])[SKY])
    assert len(rows) == 2
    order = store.schema.pixel_order
    here = store.table(SKY).keys.build(int(pixels(ra, dec, order)[0]), OID)
    assert rows[here]["i:candid"] == 100 and rows[here]["i:jd"] == 2460237.5
    assert rows[store.table(SKY).keys.build(int(pixels(*far, order)[0]), OID)]["i:candid"] == 50


def test_a_row_replaced_by_an_alert_without_a_cell_keeps_none_of_the_older_alert(store):
    old = _record(OID, 2460236.5, 1, 150.0, 30.0)
    new = _record(OID, 2460237.5, 2, 150.0, 30.0)
    del new["candidate"]["jdstarthist"]
    _write(store, [old])
    _write(store, [new])
    (_, cells), = dump(store, [SKY])[SKY]
    assert cells["i:candid"] == 2 and "i:jdstarthist" not in cells


def _edge_store(store):
    """Around (150, 30), 60″: A's older alert just inside, its latest 1″ further out in the same
    pixel; B inside; C outside; D with two alerts at one jd inside."""
    ra, dec, order = 150.0, 30.0, store.schema.pixel_order
    for angle in range(0, 360, 7):
        inside, outside = _offset(ra, dec, 59.6, angle), _offset(ra, dec, 60.4, angle)
        if pixels(*inside, order)[0] == pixels(*outside, order)[0]:
            break
    _write(store, [_record("ZTF23aaaaaaa", 2460236.5, 11, *inside), _record("ZTF23aaaaaaa", 2460237.5, 12, *outside),
                   _record("ZTF23bbbbbbb", 2460236.7, 21, *_offset(ra, dec, 20, 45)),
                   _record("ZTF23ccccccc", 2460236.8, 31, *_offset(ra, dec, 70, 200)),
                   _record("ZTF23ddddddd", 2460236.9, 42, *_offset(ra, dec, 30, 300)),
                   _record("ZTF23ddddddd", 2460236.9, 41, *_offset(ra, dec, 30.5, 300))])
    return ra, dec


def test_the_cone_read_from_objects_sky_equals_the_alert_index_answer_at_the_edge(store):
    ra, dec = _edge_store(store)
    assert is_filled(store, SKY)
    found = cone.conesearch(store, ra, dec, 60)
    assert found.equals(_alert_index_answer(store, ra, dec, 60))
    assert dict(zip(found["i:objectId"], found["i:candid"])) == {"ZTF23aaaaaaa": 11, "ZTF23bbbbbbb": 21,
                                                                 "ZTF23ddddddd": 41}
    assert cone.conesearch(store, ra, dec, 61).set_index("i:objectId").loc["ZTF23aaaaaaa", "i:candid"] == 12
    empty = cone.conesearch(store, ra + 1, dec, 60)  # no object there: the alert index's empty answer
    assert empty.empty and empty.equals(_alert_index_answer(store, ra + 1, dec, 60))


def test_an_unfilled_objects_sky_is_not_read(store):
    """A store made before the table gets it empty and unmarked: the cone reads the alert index."""
    ra, dec = _edge_store(store)
    meta = store.table("meta")
    marker = meta.keys.build(f"filled:{SKY}")
    meta.delete(marker)
    store.__dict__.pop("_filled", None)
    try:
        for key, _ in store.table(SKY).scan(columns=["i"]):
            store.table(SKY).delete(key)
        assert not is_filled(store, SKY)
        found = cone.conesearch(store, ra, dec, 60)
        assert sorted(found["i:objectId"]) == ["ZTF23aaaaaaa", "ZTF23bbbbbbb", "ZTF23ddddddd"]
    finally:
        mark_filled(store, SKY)  # (the HBase store is shared by the session's tests)


def _cones(store, n, seed):
    b = store.table("pixel").read(ranges=[(None, None)], columns=["i:ra", "i:dec"])
    ra, dec = np.asarray(b["i:ra"]), np.asarray(b["i:dec"])
    rng = np.random.default_rng(seed)
    for k in range(n):
        i, r = rng.integers(len(ra)), (60, 120, 300, 900, 3600, 18000)[k % 6]
        yield (float((ra[i] + rng.normal(0, r / 7200)) % 360), float(np.clip(dec[i] + rng.normal(0, r / 7200), -90, 90)),
               r)


@pytest.fixture(scope="module", params=["embedded", "hbase"])
def real_config(request, tmp_path_factory):
    with backend_config(request.param, tmp_path_factory.mktemp("sky-" + request.param)) as cfg:
        ingest(shared_data() / "ztf-night-2023-10-18", cfg, show_progress=False)
        ingest(shared_data() / "fink-enriched", cfg, show_progress=False)
        yield cfg


def test_cones_on_the_real_night_answer_as_the_alert_index_does(real_config):
    with open_store(real_config) as s:
        assert is_filled(s, SKY)
        for ra, dec, r in _cones(s, 36, 18):
            assert cone.conesearch(s, ra, dec, r, n=5000).equals(_alert_index_answer(s, ra, dec, r, n=5000)), (ra, dec, r)
        ra, dec, _ = next(_cones(s, 1, 3))
        assert cone.conesearch(s, ra, dec, 3600, n=2).equals(_alert_index_answer(s, ra, dec, 3600, n=2))


def test_cones_on_a_simulated_store_answer_as_the_alert_index_does(tmp_path):
    """Four nights over 0.3 deg²: objects seen night after night, several alerts a pixel."""
    from ingest.simulator.cli import main as simulate
    sim = tmp_path / "sim"
    assert simulate([str(sim), "--quiet", "--nights", "4", "--alerts-per-night", "400", "--seed", "5", "--no-cutouts",
                     "--center", "150,30", "--area", "0.3"]) == 0
    cfg = make_config("embedded", tmp_path)
    ingest(sim, cfg, show_progress=False, workers=1)
    with open_store(cfg) as s:
        assert s.table(SKY).count() < s.table("pixel").count()  # objects come back: fewer rows
        for ra, dec, r in _cones(s, 30, 5):
            assert cone.conesearch(s, ra, dec, r, n=5000).equals(_alert_index_answer(s, ra, dec, r, n=5000)), (ra, dec, r)


@pytest.mark.parametrize("backend", ["embedded", "hbase"])
def test_reindex_sky_fills_an_older_store_as_the_ingest_would(backend, tmp_path):
    with backend_config(backend, tmp_path) as cfg:
        ingest(shared_data() / "ztf-night-2023-10-18", cfg, show_progress=False)
        with open_store(cfg) as s:
            expected = dump(s, [SKY])
            ra, dec, _ = next(_cones(s, 1, 7))
            answer = cone.conesearch(s, ra, dec, 3600)
            for key, _ in s.table(SKY).scan(columns=["i"]):  # the state `hbase_schema create` leaves
                s.table(SKY).delete(key)
            s.table("meta").delete(s.table("meta").keys.build(f"filled:{SKY}"))
        with open_store(cfg) as s:
            assert not is_filled(s, SKY)
            assert cone.conesearch(s, ra, dec, 3600).equals(answer)  # from the alert index
        done = reindex_sky(cfg, page=100)
        assert done.alerts == 558 and done.written == len(expected[SKY])
        with open_store(cfg) as s:
            assert is_filled(s, SKY) and dump(s, [SKY]) == expected
            assert cone.conesearch(s, ra, dec, 3600).equals(answer)
        assert reindex_sky(cfg).written == 0, "a second run writes nothing"


def test_a_store_without_the_table_answers_cones_and_create_then_reindex_adds_it(tmp_path, monkeypatch):
    from store.admin import main as admin
    cfg = make_config("embedded", tmp_path)
    ingest(shared_data() / "ztf-night-2023-10-18", cfg, show_progress=False)
    with open_store(cfg) as s:
        expected = dump(s, [SKY])
        ra, dec, _ = next(_cones(s, 1, 9))
        answer = cone.conesearch(s, ra, dec, 3600)
        s.table("meta").delete(s.table("meta").keys.build(f"filled:{SKY}"))
    db = sqlite3.connect(cfg.data_dir / "nocturne.sqlite3")
    db.execute(f'DROP TABLE "ztf.{SKY}"')
    db.commit()
    db.close()
    with open_store(cfg) as s:
        assert SKY not in s.existing_tables()
        assert cone.conesearch(s, ra, dec, 3600).equals(answer)
    monkeypatch.setenv("NOCTURNE_DATA_DIR", str(cfg.data_dir))
    monkeypatch.setenv("NOCTURNE_BACKEND", "embedded")
    assert admin(["create", "--survey", "ztf"]) == 0
    with open_store(cfg) as s:
        assert SKY in s.existing_tables() and not is_filled(s, SKY)
    from ingest.cli import main as ingest_cli
    assert ingest_cli(["reindex-sky"]) == 0
    with open_store(cfg) as s:
        assert is_filled(s, SKY) and dump(s, [SKY]) == expected
        assert cone.conesearch(s, ra, dec, 3600).equals(answer)


def _sky_rows(data_dir) -> int:
    try:
        db = sqlite3.connect(f"file:{data_dir / 'nocturne.sqlite3'}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute(f'SELECT count(*) FROM "ztf.{SKY}"').fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def test_reindex_sky_killed_9_then_rerun_equals_a_clean_fill(tmp_path):
    cfg = make_config("embedded", tmp_path)
    ingest(shared_data() / "ztf-night-2023-10-18", cfg, show_progress=False)
    with open_store(cfg) as s:
        expected = dump(s, [SKY])
    env = dict(os.environ, NOCTURNE_DATA_DIR=str(cfg.data_dir), NOCTURNE_BACKEND="embedded", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "ingest", "reindex-sky", "--page", "3"]
    for target in (40, 250):
        with open_store(cfg) as s:  # back to an older store's state
            for key, _ in s.table(SKY).scan(columns=["i"]):
                s.table(SKY).delete(key)
            s.table("meta").delete(s.table("meta").keys.build(f"filled:{SKY}"))
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while proc.poll() is None and _sky_rows(cfg.data_dir) < target and time.monotonic() < deadline:
            time.sleep(0.002)
        proc.kill()
        proc.wait(timeout=60)
        killed_at = _sky_rows(cfg.data_dir)
        assert killed_at < len(expected[SKY]), "the kill must land mid-fill"
        with open_store(cfg) as s:
            assert not is_filled(s, SKY), "a killed fill is not marked complete"
        assert subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True).returncode == 0
        with open_store(cfg) as s:
            assert is_filled(s, SKY) and dump(s, [SKY]) == expected, f"killed at {killed_at} rows"


def test_a_night_ingested_in_two_parts_in_either_order_ends_with_the_same_objects_sky(tmp_path):
    files = sorted((shared_data() / "ztf-night-2023-10-18").glob("*.avro"))
    parts = []
    for n, chunk in enumerate((files[::2], files[1::2])):  # each object's alerts fall in both parts
        folder = tmp_path / f"part{n}"
        folder.mkdir()
        for f in chunk:
            (folder / f.name).symlink_to(f)
        parts.append(folder)
    ends = []
    for name, order in (("ab", parts), ("ba", parts[::-1])):
        cfg = make_config("embedded", tmp_path / name)
        for part in order:
            ingest(part, cfg, night="20231018", show_progress=False, workers=1)
        with open_store(cfg) as s:
            ends.append(dump(s, [SKY]))
    whole = make_config("embedded", tmp_path / "whole")
    ingest(shared_data() / "ztf-night-2023-10-18", whole, night="20231018", show_progress=False, workers=1)
    with open_store(whole) as s:
        assert ends[0] == ends[1] == dump(s, [SKY])
        assert len(ends[0][SKY]) < s.table("pixel").count()  # an object's alerts in one pixel: one row
