"""Ingest of the real alerts of ../shared/data, checked against the source files.

Runs on both backends: the real ZTF night (561 raw alerts, 4.02) and both Fink-enriched
files (an Avro container and Parquet). Expectations are read straight from the files
with fastavro/pyarrow, not through the ingest's own reader.
"""
import pytest

from conftest import dump, shared_data
from realdata import source_alerts
from ingest.night import ingest
from ingest.nights import night_of
from science.classification import classify
from store import open_store
from store.sky import cone_ranges


@pytest.fixture(scope="module")
def ingested(module_config):
    data = shared_data()
    summaries = [ingest(data / "ztf-night-2023-10-18", module_config, show_progress=False),
                 ingest(data / "fink-enriched", module_config, show_progress=False)]
    store = open_store(module_config)
    yield module_config, store, summaries, list(source_alerts())
    store.close()


def test_every_candid_is_stored_once(ingested):
    _, store, summaries, records = ingested
    candids = {r["candid"] for r in records}
    assert len(records) == 561 + 31 + 72
    stored = [c["i:candid"] for _, c in store.table("main").scan(columns=["i:candid"])]
    assert sorted(stored) == sorted(candids)
    assert sum(s.alerts for s in summaries) == len(candids)  # "stored" counts distinct alerts (issue 17)
    assert sum(s.duplicates for s in summaries) == 3  # the same candid in several files, said apart
    assert sum(s.packets for s in summaries) == len(records)


def test_nothing_is_quarantined(ingested):
    cfg, _, summaries, _ = ingested
    assert [s.quarantined for s in summaries] == [0, 0]
    assert not (cfg.data_dir / "quarantine").exists() or not any((cfg.data_dir / "quarantine").rglob("*.jsonl"))


def test_every_alert_is_found_by_id_cone_time_and_class(ingested):
    _, store, _, records = ingested
    main, by_jd, by_pixel, by_class = (store.table(n) for n in ("main", "jd", "pixel", "class"))
    for r in records[::7]:  # a spread sample keeps the HBase run short
        cand, oid = r["candidate"], r["objectId"]
        own = {c["i:candid"] for _, c in main.scan(row_prefix=main.keys.prefix(oid), columns=["i:candid"])}
        assert r["candid"] in own, oid
        hits = set()
        for lo, hi in cone_ranges(cand["ra"], cand["dec"], 2 / 3600, store.schema.pixel_order):
            for _, c in by_pixel.scan(row_start=by_pixel.keys.prefix(lo), row_stop=by_pixel.keys.prefix(hi),
                                      columns=["i:candid"]):
                hits.add(c["i:candid"])
        assert r["candid"] in hits, f"{oid} not found by a 2-arcsec cone"
        window = [c["i:candid"] for _, c in by_jd.scan(row_start=by_jd.keys.prefix(cand["jd"] - 1e-4),
                                                        row_stop=by_jd.keys.prefix(cand["jd"] + 1e-4),
                                                        columns=["i:candid"])]
        assert r["candid"] in window
        label = classify(r, cand)
        in_class = [c["i:candid"] for _, c in by_class.scan(row_prefix=by_class.keys.prefix(label),
                                                             columns=["i:candid"])]
        assert r["candid"] in in_class, (oid, label)


def test_main_row_holds_candidate_fields_added_values_and_cutouts(ingested):
    _, store, _, records = ingested
    raw = records[0]
    cells = store.table("main").row(store.table("main").keys.build(raw["objectId"], raw["candidate"]["jd"],
                                                                    raw["candid"]))
    assert cells["i:ra"] == raw["candidate"]["ra"] and cells["i:dec"] == raw["candidate"]["dec"]
    assert cells["i:magpsf"] == pytest.approx(raw["candidate"]["magpsf"], rel=1e-6)
    assert cells["b:cutoutScience_stampData"] == raw["cutoutScience"]["stampData"]
    assert cells["d:cdsxmatch"] == "Unknown"  # a raw alert gets the documented default
    fink = records[561]
    cells = store.table("main").row(store.table("main").keys.build(fink["objectId"], fink["candidate"]["jd"],
                                                                    fink["candid"]))
    assert cells["d:snn_sn_vs_all"] == pytest.approx(fink["snn_sn_vs_all"])
    assert cells["d:lc_features_g"]["mean"] == pytest.approx(fink["lc_features_g"]["mean"])


def test_upper_limits_and_bad_quality_detections_are_stored_once(ingested):
    _, store, _, records = ingested
    upper, bad = store.table("upper"), store.table("uppervalid")
    expected_upper, expected_bad = set(), set()
    for r in records:
        for p in r.get("prv_candidates") or []:
            key = upper.keys.build(r["objectId"], p["jd"])
            (expected_upper if p.get("candid") is None else expected_bad).add(key)
    assert {k for k, _ in upper.scan(columns=["i:jd"])} == expected_upper
    assert {k for k, _ in bad.scan(columns=["i:jd"])} == expected_bad
    key = sorted(expected_upper)[0]
    assert set(upper.row(key)) >= {"i:objectId", "i:jd", "i:fid", "i:diffmaglim"}


def test_statistics_row_per_night(ingested):
    _, store, _, records = ingested
    stats = store.table("statistics")
    row = stats.row(stats.keys.build(store.prefix, "20231018"))
    # 561 packets, 3 of them repeating a candid: 558 distinct alerts stored (issue 17)
    assert row["basic:raw"] == 561 and row["basic:sci"] == 558 and row["basic:duplicates"] == 3
    assert row["basic:n_objects"] == 515 and row["basic:quarantined"] == 0
    assert row["basic:n_g"] + row["basic:n_r"] + row["basic:n_i"] == 558
    assert sum(v for k, v in row.items() if k.startswith("class:")) == 558
    nights = {night_of(r["candidate"]["jd"]) for r in records}
    assert {k.rsplit("_", 1)[1] for k, _ in stats.scan(columns=["basic:raw"])} == nights


def test_a_second_ingest_changes_nothing(ingested):
    cfg, store, _, _ = ingested
    before = dump(store)
    again = ingest(shared_data() / "ztf-night-2023-10-18", cfg, show_progress=False)
    assert again.alerts == 558 and again.duplicates == 3 and again.quarantined == 0
    assert dump(store) == before


def test_dry_run_validates_without_writing(tmp_path):
    from conftest import make_config
    cfg = make_config("embedded", tmp_path)
    summary = ingest(shared_data() / "fink-enriched", cfg, dry_run=True, show_progress=False)
    assert summary.alerts == 103 and summary.quarantined == 0
    assert not cfg.data_dir.exists()


def test_night_of_jd_is_the_utc_date():
    assert night_of(2460235.6) == "20231018"  # 2023-10-18 02:24 UTC, start of the real night
    assert night_of(2460236.2) == "20231018"  # 16:48 UTC, its last alerts
    assert night_of(2460236.5) == "20231019"  # midnight UTC starts the next date
