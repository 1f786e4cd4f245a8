"""The Rubin ingest on the real alerts (../shared/data/rubin-fink-2026-03-10, schema 10.0 with
Fink's added values): nothing lost, each source and forced source once, the newest diaObject,
idempotent, the same tables from Parquet, Avro containers and Confluent wire messages, other
schema versions, bad packets quarantined, kill -9 then rerun."""
from __future__ import annotations

import json
import math
import shutil

import pytest

from conftest import make_config, need, shared_data
from hbase_schema import get_schema
from ingest.cli import EXIT_QUARANTINED, main as ingest_cli
from ingest.night import ingest
from ingest.surveys import detect
from rubin_inputs import (derived_schema, parquet_files, records, rubin_dir, stored_tables, write_containers,
                          write_wire)
from store import open_store

RUBIN = get_schema("rubin")
NIGHT = "20260310"


def _data():
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")


def _ingest(path, tmp, name, **kw):
    cfg = make_config("embedded", tmp / name)
    summary = ingest(path, cfg, workers=kw.pop("workers", 1), show_progress=False, **kw)
    return cfg, summary


def _expected(recs):
    """What the store must hold for ``recs``: every diaSource once (the alerts' own and their
    previous ones; solar-system ones apart), every forced source once, the newest diaObject."""
    sources, sso, forced, newest = set(), set(), set(), {}
    for r in recs:
        src = r["diaSource"]
        (sources if src["diaObjectId"] else sso).add(src["diaSourceId"])
        sources.update(p["diaSourceId"] for p in r["prvDiaSources"] or ())
        forced.update(p["diaForcedSourceId"] for p in r["prvDiaForcedSources"] or ())
        if src["diaObjectId"]:
            order = (src["midpointMjdTai"], src["diaSourceId"])
            if src["diaObjectId"] not in newest or order > newest[src["diaObjectId"]][0]:
                newest[src["diaObjectId"]] = (order, r["diaObject"])
    return sources, sso, forced, newest


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The 107 real alerts ingested once (two workers: the forked pool path)."""
    _data()
    tmp = tmp_path_factory.mktemp("rubin")
    cfg, summary = _ingest(rubin_dir(), tmp, "real", workers=2)
    return cfg, summary, records(parquet_files())


def test_the_survey_is_told_from_the_data():
    _data()
    assert detect(parquet_files(1)) == "rubin"
    assert detect(sorted((shared_data() / "ztf-night-2023-10-18").glob("*.avro"))[:1]) == "ztf"


def test_the_real_alerts_are_stored_whole_each_source_once(real):
    cfg, summary, recs = real
    sources, sso, forced, newest = _expected(recs)
    assert (summary.alerts, summary.quarantined, summary.cutouts_dropped) == (107, 0, 0)
    with open_store(cfg, schema=RUBIN) as s:
        stored = s.table("sources").read(ranges=[("0", "9")], columns=["r:diaSourceId"])
        ids = list(stored["r:diaSourceId"])
        assert len(stored) == len(sources) == len(set(ids))  # each once, none lost
        assert set(ids) == sources
        got = s.table("sso").read(ranges=[("0", "9")], columns=["r:diaSourceId"])
        assert sorted(list(got["r:diaSourceId"])) == sorted(sso)
        got = s.table("fp").records.read(ranges=[("0", "9")], columns=["r:diaForcedSourceId"])
        assert sorted(list(got["r:diaForcedSourceId"])) == sorted(forced)
        assert s.table("time").count() == s.table("pixel").count() == s.table("cutouts").count() == 107
        objects = dict(s.table("objects").scan())
        assert len(objects) == len(newest) == 72
        for oid, (order, obj) in newest.items():
            row = objects[s.table("objects").keys.build(oid)]
            assert (row["r:midpointMjdTai"], row["r:diaSourceId"]) == order
            assert row["r:nDiaSources"] == obj["nDiaSources"]
            assert row["r:validityStartMjdTai"] == obj["validityStartMjdTai"]
        stats = s.table("statistics").row(NIGHT)
        assert (stats["f:alerts"], stats["f:objects"], stats["f:raw"], stats["f:quarantined"]) == (107, 72, 107, 0)
        assert stats["f:is_sso"] == len(sso) == sum(1 for r in recs if r["pred"]["is_sso"])
        assert sum(stats[f"f:alerts_{b}"] for b in "ugrizy") == 107


def test_an_alert_source_carries_fink_values_and_light_columns_feed_the_indexes(real):
    cfg, _, recs = real
    r = next(x for x in recs if x["xm"]["simbad_otype"] == "QSO" and x["diaSource"]["diaObjectId"])
    src = r["diaSource"]
    with open_store(cfg, schema=RUBIN) as s:
        key = s.table("sources").keys.build(src["diaObjectId"], src["midpointMjdTai"], src["diaSourceId"])
        row = s.table("sources").row(key)
        assert row["f:xm_simbad_otype"] == "QSO" and row["f:clf_cats_class"] == r["clf"]["cats_class"]
        assert row["r:band"] == src["band"] and math.isclose(row["r:psfFlux"], src["psfFlux"], rel_tol=1e-6)
        assert row["r:observation_reason"] == r["observation_reason"]
        assert set(row["f:lc_features"]) == set(dict(r["lc_features"]))
        assert "in_simbad" in row["f:tags"] and "cataloged" in row["f:tags"]
        tagged = [k for k, _ in s.table("tag").scan(row_prefix=s.table("tag").keys.prefix("in_simbad"))]
        assert len(tagged) == sum(1 for x in recs if x["xm"]["simbad_otype"] not in (None, "Unknown"))
        names = {k.split("_")[0] for k, _ in s.table("ssoname").scan()}
        assert "2006 TK6" in names


def test_a_second_run_changes_nothing(tmp_path):
    _data()
    files = tmp_path / "in"
    files.mkdir()
    for f in parquet_files(6):
        shutil.copy(f, files / f.name)
    cfg, first = _ingest(files, tmp_path, "store")
    before = stored_tables(cfg)
    cfg, again = _ingest(files, tmp_path, "store")
    assert stored_tables(cfg) == before
    assert again.alerts == first.alerts and again.quarantined == 0


def test_avro_containers_and_wire_messages_give_the_parquet_tables(tmp_path):
    _data()
    files = parquet_files(6)
    recs = records(files)
    folder = tmp_path / "pq"
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder / f.name)
    expected = stored_tables(_ingest(folder, tmp_path, "parquet")[0])
    ocf = write_containers(tmp_path / "ocf", recs, per_file=4, codec="deflate")
    assert stored_tables(_ingest(ocf, tmp_path, "ocf")[0]) == expected
    wire = write_wire(tmp_path / "wire", recs, tmp_path / "schemas")
    cfg, summary = _ingest(wire, tmp_path, "wire", schema_path=tmp_path / "schemas")
    assert summary.quarantined == 0 and stored_tables(cfg) == expected
    # without the writer schema, each message is quarantined with a reason saying what to give
    cfg, summary = _ingest(wire, tmp_path, "noschema", survey="rubin")
    assert summary.quarantined == len(recs) and summary.alerts == 0
    line = json.loads((cfg.data_dir / "quarantine").glob("*/quarantine.jsonl").__next__().read_text().splitlines()[0])
    assert "--schema" in line["reason"]


def test_another_schema_version_with_an_added_and_a_removed_field(tmp_path):
    _data()
    recs = records(parquet_files(3))
    schema = derived_schema(add="futureField", remove=("diaSource", "glint_trail"))
    for r in recs:
        r["futureField"] = "x"
        r["lsst_schema_version"] = "lsst.v11_0"
    cfg, summary = _ingest(write_containers(tmp_path / "v11", recs, schema=schema), tmp_path, "v11")
    assert summary.alerts == len(recs) and summary.quarantined == 0
    with open_store(cfg, schema=RUBIN) as s:
        rows = [cells for _, cells in s.table("time").scan()]
        assert len(rows) == len(recs)
        assert all("r:glint_trail" not in c for c in rows) and all("r:band" in c for c in rows)


def test_bad_packets_and_damaged_cutouts_are_quarantined_with_reasons(tmp_path, monkeypatch):
    _data()
    recs = records(parquet_files(3))
    good, bad = recs[:-3], recs[-3:]
    bad[0]["lsst_schema_version"] = "lsst.v12_0"
    bad[1]["diaSource"]["ra"] = float("nan")
    bad[2]["cutoutScience"] = bad[2]["cutoutScience"][:500]  # a truncated FITS stamp
    folder = write_containers(tmp_path / "night", good + bad, per_file=50)
    data = (folder / "alerts-0000.avro").read_bytes()
    (folder / "truncated.avro").write_bytes(data[: len(data) // 3])
    cfg = make_config("embedded", tmp_path / "store")
    monkeypatch.setenv("NOCTURNE_DATA_DIR", str(cfg.data_dir))
    assert ingest_cli(["night", str(folder), "--no-progress", "--workers", "1"]) == EXIT_QUARANTINED
    lines = [json.loads(x) for x in (cfg.data_dir / "quarantine" / NIGHT / "quarantine.jsonl").read_text().splitlines()]
    reasons = " | ".join(x["reason"] for x in lines)
    assert "lsst.v12_0" in reasons and "diaSource.ra is nan" in reasons
    assert "cutoutScience" in reasons and "Avro" in reasons
    assert all(x["saved_as"] for x in lines)
    with open_store(cfg, schema=RUBIN) as s:
        assert s.table("time").count() == len(good) + 1  # the damaged cutout's alert is stored, without it
        src = bad[2]["diaSource"]
        cut = s.table("cutouts").row(s.table("cutouts").keys.build(src["diaObjectId"] or src["ssObjectId"],
                                                                   src["midpointMjdTai"], src["diaSourceId"]))
        assert "b:cutoutScience" not in cut and "b:cutoutTemplate" in cut


def test_the_objects_table_keeps_the_newest_diaobject_whatever_the_order(tmp_path):
    """Packets of one object in reverse order, one run per file: the same objects table."""
    _data()
    recs = records(parquet_files())
    by_object = {}
    for r in recs:
        if r["diaSource"]["diaObjectId"]:
            by_object.setdefault(r["diaSource"]["diaObjectId"], []).append(r)
    oid, packets = max(by_object.items(), key=lambda kv: len(kv[1]))
    assert len(packets) >= 2
    packets.sort(key=lambda r: r["diaSource"]["midpointMjdTai"])
    forward = write_containers(tmp_path / "fwd", packets, per_file=len(packets))
    cfg_a, _ = _ingest(forward, tmp_path, "a")
    cfg_b = make_config("embedded", tmp_path / "b")
    for i, r in enumerate(reversed(packets)):  # newest first, each a run of its own
        ingest(write_containers(tmp_path / f"rev{i}", [r]), cfg_b, workers=1, show_progress=False)
    a, b = stored_tables(cfg_a), stored_tables(cfg_b)
    assert a["objects"] == b["objects"] and a["sources"] == b["sources"] and a["fp"] == b["fp"]
    newest = packets[-1]
    (key, row), = a["objects"]
    assert row["r:diaSourceId"] == newest["diaSource"]["diaSourceId"]
    assert row["r:nDiaSources"] == newest["diaObject"]["nDiaSources"]


def test_the_newest_diaobject_rule_holds_when_the_writer_forgets(tmp_path, monkeypatch):
    """The writer keeps the newest (mjd, diaSourceId) of at most SEEN_LIMIT objects; when it
    forgets them, it does so before reading the stored ones, so an older packet met later in
    the run never replaces the stored newer diaObject (newest first, one alert a unit)."""
    _data()
    recs = [r for r in records(parquet_files()) if r["diaSource"]["diaObjectId"]]
    oid = max({r["diaSource"]["diaObjectId"] for r in recs},
              key=lambda o: sum(r["diaSource"]["diaObjectId"] == o for r in recs))
    packets = sorted((r for r in recs if r["diaSource"]["diaObjectId"] == oid),
                     key=lambda r: r["diaSource"]["midpointMjdTai"])
    forward = write_containers(tmp_path / "fwd", packets, per_file=1)
    cfg_a, _ = _ingest(forward, tmp_path, "a")
    monkeypatch.setattr("ingest.rubin.write.SEEN_LIMIT", 1)
    monkeypatch.setattr("ingest.plan.UNIT_FILES", 1)  # one packet a unit
    backward = write_containers(tmp_path / "back", list(reversed(packets)), per_file=1)
    cfg_b = make_config("embedded", tmp_path / "b")
    ingest(backward, cfg_b, workers=1, show_progress=False)
    (_, row), = stored_tables(cfg_b)["objects"]
    assert row["r:diaSourceId"] == packets[-1]["diaSource"]["diaSourceId"]
    assert stored_tables(cfg_b)["objects"] == stored_tables(cfg_a)["objects"]


@pytest.fixture(scope="module")
def kill_night(tmp_path_factory):
    """12 real Parquet files and the tables of their clean ingest, shared by the kill points."""
    _data()
    tmp = tmp_path_factory.mktemp("kill")
    night = tmp / "night"
    night.mkdir()
    for f in parquet_files(12):
        shutil.copy(f, night / f.name)
    return night, stored_tables(_ingest(night, tmp, "clean")[0])


@pytest.mark.parametrize("at", [0.05, 0.2, 0.35, 0.5, 0.65])
def test_kill_9_mid_night_then_rerun_equals_a_clean_run(kill_night, tmp_path, at):
    """kill -9 when the forced-photometry table holds ``at`` of a clean run's rows, then the
    same command again: every table equals the clean run's."""
    import os
    import sqlite3
    import subprocess
    import sys
    import time
    from conftest import ROOT

    night, clean = kill_night
    target = max(1, int(at * len(clean["fp"])))
    crashed = tmp_path / "crashed"
    cfg = make_config("embedded", crashed)
    env = dict(os.environ, NOCTURNE_DATA_DIR=str(cfg.data_dir), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "ingest", "night", str(night), "--no-progress", "--workers", "1",
                             "--batch-size", "50"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def rows() -> int:
        try:
            db = sqlite3.connect(f"file:{cfg.data_dir / 'nocturne.sqlite3'}?mode=ro", uri=True, timeout=1)
            try:
                return db.execute('SELECT count(*) FROM "rubin.fp"').fetchone()[0]
            finally:
                db.close()
        except sqlite3.Error:
            return 0

    deadline, killed = time.monotonic() + 120, None
    while proc.poll() is None and time.monotonic() < deadline:
        if rows() >= target:
            proc.kill()
            killed = rows()
            break
        time.sleep(0.005)
    proc.wait(timeout=60)
    assert killed is not None, "the ingest finished before the kill: nothing was tested"
    with open_store(cfg, schema=RUBIN) as s:
        assert not s.table("statistics").row(NIGHT), "a killed night must not look complete"
    summary = ingest(night, cfg, workers=1, show_progress=False)  # the same command again
    assert summary.quarantined == 0
    assert stored_tables(cfg) == clean, f"killed at {killed} forced-source rows, the rerun differs from a clean run"
    print(f"killed at {killed} of {len(clean['fp'])} forced-source rows: the rerun equals a clean run")
