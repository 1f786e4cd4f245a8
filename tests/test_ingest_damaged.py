"""Mistyped packets, damaged cutouts and schema-3.3 packets beside good ones (issue 17,
items 2, 3 and 8): the night completes, the good alerts are stored, each bad packet is
quarantined with a reason naming its field, a damaged cutout is left out of its stored
alert, and the API answers a 404 JSON error for a cutout it cannot decode.
"""
import json
import math
import shutil

import pytest

from conftest import dump, make_config
from damaged import (candid, changed, flipped_stamp, mistyped, read, real_files, retype,
                     schema_33_without_candid, write)
from ingest.cli import EXIT_QUARANTINED, main as ingest_cli
from ingest.validate import problem
from store import open_store

VOLATILE = ("basic:duration_s", "basic:finished")


@pytest.fixture
def mixed_night(tmp_path):
    """8 good packets, then one of each fault (one real packet each)."""
    night = tmp_path / "night"
    night.mkdir()
    files = real_files(20)
    good = files[:8]
    for f in good:
        shutil.copy(f, night / f.name)
    bad = dict(zip(("jd_string", "ra_string", "prv_magpsf_string", "nan_jd", "inf_dec", "ra_360", "dec_low",
                    "no_candidate", "fid_none"), files[8:17]))
    mistyped(bad["jd_string"], night / "jd_string.avro", "jd")
    mistyped(bad["ra_string"], night / "ra_string.avro", "ra")
    mistyped(bad["prv_magpsf_string"], night / "prv_magpsf_string.avro", "diffmaglim", record="prv_candidates")
    changed(bad["nan_jd"], night / "nan_jd.avro", lambda r: r["candidate"].update(jd=float("nan")))
    changed(bad["inf_dec"], night / "inf_dec.avro", lambda r: r["candidate"].update(dec=float("inf")))
    changed(bad["ra_360"], night / "ra_360.avro", lambda r: r["candidate"].update(ra=360.0))
    changed(bad["dec_low"], night / "dec_low.avro", lambda r: r["candidate"].update(dec=-90.5))
    changed(bad["no_candidate"], night / "no_candidate.avro", lambda r: r.update(candidate=None))
    changed(bad["fid_none"], night / "fid_none.avro", lambda r: r["candidate"].update(fid=None))
    flipped_stamp(files[17], night / "flipped_stamp.avro")
    schema_33_without_candid(files[18], night / "schema33.avro")
    schema_33_without_candid(files[19], night / "schema33b.avro")
    stored = {candid(f) for f in good + files[17:20]}
    return night, stored, {candid(files[17])}


EXPECTED_REASONS = {
    "jd_string.avro": "candidate.jd is a str",
    "ra_string.avro": "candidate.ra is a str",
    "prv_magpsf_string.avro": ".diffmaglim is a str",
    "nan_jd.avro": "candidate.jd is nan",
    "inf_dec.avro": "candidate.dec is inf",
    "ra_360.avro": "candidate.ra 360.0 outside [0, 360)",
    "dec_low.avro": "candidate.dec -90.5 outside [-90, 90]",
    "no_candidate.avro": "missing candidate record",
    "fid_none.avro": "missing candidate.fid",
}


def _ingest(night, cfg, monkeypatch, capsys=None):
    monkeypatch.setenv("NOCTURNE_DATA_DIR", str(cfg.data_dir))
    return ingest_cli(["night", str(night), "--night", "20231018", "--no-progress", "--workers", "1"])


def _lines(cfg):
    path = cfg.data_dir / "quarantine" / "20231018" / "quarantine.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_mistyped_and_damaged_packets_never_stop_the_night(mixed_night, tmp_path, monkeypatch, capsys):
    night, expected, flipped = mixed_night
    cfg = make_config("embedded", tmp_path)
    assert _ingest(night, cfg, monkeypatch) == EXIT_QUARANTINED
    assert "1 damaged cutout(s) left out" in capsys.readouterr().out
    with open_store(cfg) as s:
        main = s.table("main")
        rows = {c["i:candid"]: c for _, c in main.scan(columns=["i:candid", "i:schemavsn", "b"])}
        stats = s.table("statistics").row("ztf_20231018")
    assert set(rows) == expected  # the 8 good, the damaged-cutout one and both 3.3 packets
    assert {rows[c]["i:schemavsn"] for c in expected} == {"4.02", "3.3"}
    (damaged,) = flipped
    assert "b:cutoutScience_stampData" not in rows[damaged]  # stored as absent...
    assert {"b:cutoutTemplate_stampData", "b:cutoutDifference_stampData"} <= set(rows[damaged])  # ...the rest kept
    assert (stats["basic:sci"], stats["basic:quarantined"]) == (11, 9)

    lines = _lines(cfg)
    reasons = {x["source"].rsplit("/", 1)[1]: x["reason"] for x in lines}
    for name, text in EXPECTED_REASONS.items():
        assert text in reasons[name], (name, reasons[name])
    assert "expected a number" in reasons["jd_string.avro"] and "prv_candidates[" in reasons["prv_magpsf_string.avro"]
    cut = reasons["flipped_stamp.avro"]
    assert "cutoutScience" in cut and str(damaged) in cut and "gzip" in cut
    assert not any(name.startswith("schema33") for name in reasons)
    for entry in lines:  # every quarantined packet is kept beside its reason
        assert entry["saved_as"]


def test_a_rerun_answers_the_same(mixed_night, tmp_path, monkeypatch):
    night, _, _ = mixed_night
    cfg = make_config("embedded", tmp_path)
    assert _ingest(night, cfg, monkeypatch) == EXIT_QUARANTINED
    with open_store(cfg) as s:
        before = dump(s)
    assert _ingest(night, cfg, monkeypatch) == EXIT_QUARANTINED
    with open_store(cfg) as s:
        after = dump(s)
    for tables in (before, after):
        tables["statistics"] = [(k, {c: v for c, v in cells.items() if c not in VOLATILE})
                                for k, cells in tables["statistics"]]
    assert after == before


def test_a_union_typed_container_quarantines_only_its_bad_records(tmp_path, monkeypatch):
    """A writer schema declaring jd as double-or-string: each record is checked on its own."""
    files = real_files(6)
    schema, records = read(files[0])
    for f in files[1:]:
        records += read(f)[1]
    retype(schema, "candidate", "jd", ["double", "string", "null"])
    records[2]["candidate"]["jd"] = "2460236.7"
    night = tmp_path / "night"
    night.mkdir()
    write(night / "container.avro", schema, records)
    cfg = make_config("embedded", tmp_path)
    assert _ingest(night, cfg, monkeypatch) == EXIT_QUARANTINED
    with open_store(cfg) as s:
        stored = {c["i:candid"] for _, c in s.table("main").scan(columns=["i:candid"])}
    assert stored == {r["candid"] for i, r in enumerate(records) if i != 2}
    (line,) = _lines(cfg)
    assert line["index"] == 2 and "candidate.jd is a str ('2460236.7')" in line["reason"]


@pytest.mark.parametrize("record, reason", [
    ("not a record", "the packet is a str"),
    ({"schemavsn": "4.02", "objectId": "ZTF1", "candid": 1, "candidate": ["jd"]}, "candidate is a list"),
    ({"schemavsn": "4.02", "objectId": "ZTF1", "candid": "12", "candidate": {}}, "candid is a str"),
    ({"schemavsn": "4.02", "objectId": "ZTF1", "candid": 1, "candidate": {"jd": 2460236.7},
      "prv_candidates": [{"jd": 2460230.1}, 7]}, "prv_candidates[1] is an int, expected a record"),
    ({"schemavsn": "4.02", "objectId": "ZTF1", "candid": 1, "candidate": {"jd": 2460236.7},
      "prv_candidates": "x"}, "prv_candidates is a str"),
    ({"schemavsn": "4.02", "objectId": "ZTF1", "candid": 1, "candidate": {"jd": 2460236.7},
      "cutoutScience": {"stampData": "text"}}, "cutoutScience.stampData is a str"),
    ({"schemavsn": "4.02", "objectId": "ZTF1", "candid": 1, "candidate": {"jd": 2460236.7, "fid": True}},
     "candidate.fid is a bool"),
    ({"schemavsn": "3.3", "objectId": "ZTF1", "candidate": {"jd": 2460236.7}}, "missing candid"),
    ({"schemavsn": "4.02", "objectId": "ZTF1", "candid": 2, "candidate": {"candid": 3}}, "differs from candidate.candid"),
])
def test_validation_names_the_field_and_never_raises(record, reason):
    assert reason in problem(record)


def test_every_real_packet_passes_the_type_checks():
    from realdata import source_alerts
    records = source_alerts()
    assert [problem(r, typed=i < 592) for i, r in enumerate(records)] == [None] * len(records)
    assert not any(math.isnan(r["candidate"]["jd"]) for r in records)


@pytest.fixture
def damaged_store(tmp_path):
    """The real night's first 5 files ingested, then one stored stamp damaged, as in a store
    written before cutouts were verified at ingest."""
    from api import create_api_app
    night = tmp_path / "night"
    night.mkdir()
    for f in real_files(5):
        shutil.copy(f, night / f.name)
    cfg = make_config("embedded", tmp_path)
    from ingest.night import ingest
    ingest(night, cfg, show_progress=False)
    with open_store(cfg) as s:
        main = s.table("main")
        key, cells = next(main.scan(columns=["i:objectId", "i:candid", "b:cutoutScience_stampData"]))
        blob = bytearray(cells["b:cutoutScience_stampData"])
        for i in range(len(blob) // 2, len(blob) // 2 + 8):
            blob[i] ^= 0xFF
        main.put(key, {"b:cutoutScience_stampData": bytes(blob)})
    return create_api_app(cfg).test_client(), cells["i:objectId"], cells["i:candid"]


@pytest.mark.parametrize("fmt", ["PNG", "FITS", "array"])
def test_a_cutout_damaged_in_the_store_is_a_404_not_a_500(damaged_store, fmt):
    client, oid, cand = damaged_store
    r = client.get("/api/v1/cutouts", query_string={"objectId": oid, "candid": cand, "kind": "Science",
                                                    "output-format": fmt})
    assert r.status_code == 404 and r.content_type.startswith("application/json")
    body = r.get_json()
    assert body["status"] == "error" and "Science cutout" in body["message"] and "damaged" in body["message"]
    ok = client.get("/api/v1/cutouts", query_string={"objectId": oid, "candid": cand, "kind": "Template",
                                                     "output-format": fmt})
    assert ok.status_code == 200


def test_objects_withcutouts_gives_null_for_a_damaged_cutout(damaged_store):
    client, oid, cand = damaged_store
    r = client.get("/api/v1/objects", query_string={"objectId": oid, "withcutouts": "True", "cutout-kind": "All"})
    assert r.status_code == 200
    row = next(x for x in r.get_json() if x["i:candid"] == cand)
    assert row["b:cutoutScience_stampData"] is None
    assert len(row["b:cutoutTemplate_stampData"]) == 63 and len(row["b:cutoutDifference_stampData"]) == 63


def test_schema_33_packets_with_only_candidate_candid_are_stored(tmp_path, monkeypatch):
    """Item 8: 3.3 packets of some archives carry candidate.candid and no top-level candid."""
    night = tmp_path / "night"
    night.mkdir()
    files = real_files(4, start=30)
    for f in files:
        schema_33_without_candid(f, night / f.name)
    cfg = make_config("embedded", tmp_path)
    assert _ingest(night, cfg, monkeypatch) == 0
    with open_store(cfg) as s:
        cells = [c for _, c in s.table("main").scan(columns=["i:candid", "i:schemavsn"])]
    assert sorted(c["i:candid"] for c in cells) == sorted(candid(f) for f in files)
    assert {c["i:schemavsn"] for c in cells} == {"3.3"}
