"""The ZTF simulator's fp_hists (``--with-fp-hists``): ZTF 4.02's fields, the ground truth's
photometry, ZTF's unusable points, and a simulated night with them ingested."""
import fastavro
import numpy as np
import pytest

from conftest import make_config, need, shared_data
from ingest.night import ingest
from ingest.simulator.cli import main
from science.forced_photometry import UNUSABLE, convert
from store import open_store

REAL = "ztf-fp-hists/boom-astro-boom/3005140370015010009.avro"


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    out = tmp_path_factory.mktemp("simfp") / "out"
    assert main([str(out), "--quiet", "--nights", "3", "--alerts-per-night", "150", "--seed", "5", "--no-cutouts",
                 "--with-fp-hists"]) == 0
    records = []
    for path in sorted(out.rglob("*.avro")):
        with open(path, "rb") as f:
            records.extend(fastavro.reader(f))
    return out, records


def _item_fields(schema: dict) -> list[tuple[str, str, bool]]:
    """(name, base type, nullable) of each field of the fp_hists items."""
    top = {f["name"]: f["type"] for f in schema["fields"]}
    array = next(t for t in (top["fp_hists"] if isinstance(top["fp_hists"], list) else [top["fp_hists"]])
                 if isinstance(t, dict))
    items = array["items"]
    record = next(t for t in (items if isinstance(items, list) else [items]) if isinstance(t, dict))
    out = []
    for f in record["fields"]:
        types = f["type"] if isinstance(f["type"], list) else [f["type"]]
        out.append((f["name"], next(t for t in types if t != "null"), "null" in types))
    return out


def test_fp_hists_have_the_fields_of_ztf_4_02(night):
    out, _ = night
    real = shared_data() / REAL
    need(real.is_file(), f"{real} not found")
    with open(real, "rb") as f:
        want = _item_fields(fastavro.reader(f).writer_schema)
    with open(sorted(out.rglob("*.avro"))[0], "rb") as f:
        schema = fastavro.reader(f).writer_schema
    assert _item_fields(schema) == want
    names = [f["name"] for f in schema["fields"]]
    assert names.index("fp_hists") == names.index("prv_candidates") + 1


def test_fp_hists_cover_the_30_days_before_each_alert_from_the_ground_truth(night):
    _, records = night
    points = [(r, p) for r in records for p in r["fp_hists"] or ()]
    assert len(points) > 200
    lags = np.array([p["jd"] - r["candidate"]["jd"] for r, p in points])
    assert lags.max() < 0 and lags.min() >= -30
    bad = [p for _, p in points if p["forcediffimflux"] == UNUSABLE]
    assert 0.02 < len(bad) / len(points) < 0.2
    assert all(p["forcediffimfluxunc"] == UNUSABLE and p["procstatus"] != "0" for p in bad)
    assert {p["procstatus"] for _, p in points if p["forcediffimflux"] != UNUSABLE} == {"0"}
    # where an earlier detection shares the exposure, the forced flux is the same measurement
    pairs = []
    for r, p in points:
        det = {round(q["jd"], 6): q for q in r["prv_candidates"] or () if q.get("candid")}.get(round(p["jd"], 6))
        if det is not None and p["forcediffimflux"] != UNUSABLE:
            d = convert([abs(p["forcediffimflux"])], [p["forcediffimfluxunc"]], [p["magzpsci"]])
            pairs.append((det["isdiffpos"] == "t", p["forcediffimflux"] > 0, d["mag"][0], det["magpsf"]))
    assert len(pairs) > 20
    assert all(a == b for a, b, _, _ in pairs)
    gaps = np.abs([m - magpsf for _, _, m, magpsf in pairs])
    assert np.median(gaps) < 0.1 and gaps.max() < 0.5


def test_a_simulated_night_with_fp_hists_is_ingested(night, tmp_path):
    out, records = night
    cfg = make_config("embedded", tmp_path)
    summary = ingest(out, cfg, show_progress=False)
    assert summary.alerts == len(records) and summary.quarantined == 0
    expected = {(r["objectId"], round(p["jd"], 6)) for r in records for p in r["fp_hists"] or ()
                if p["forcediffimflux"] != UNUSABLE}
    with open_store(cfg) as store:
        stored = [(c["i:objectId"], round(c["i:jd"], 6)) for _, c in store.table("fp").scan(columns=["i:objectId",
                                                                                                     "i:jd"])]
    assert len(stored) == len(set(stored)) and set(stored) == expected


def test_kill_9_mid_write_then_rerun_equals_a_clean_run(night, tmp_path):
    """The forced points are written as the other history rows: a crash mid-night and a
    rerun leave every table, fp included, as one clean run does."""
    from conftest import comparable
    from test_ingest_faults import _kill_when, _run
    out, records = night
    clean = tmp_path / "clean"
    assert _run(clean, out).wait(timeout=300) == 0
    cfg = make_config("embedded", tmp_path)
    with open_store(cfg.replace(data_dir=clean)) as store:
        expected = comparable(store)
    assert len(expected["fp"]) > 200
    for retry in range(4):
        crashed = tmp_path / f"crashed{retry}"
        n = _kill_when(_run(crashed, out, batch_size=10), crashed, max(1, (len(records) // 2) >> retry))
        if n is not None and n < len(records):
            break
    else:
        raise AssertionError("no kill landed mid-write")
    with open_store(cfg.replace(data_dir=crashed)) as store:
        assert comparable(store) != expected  # the crash did leave the night unfinished
    assert _run(crashed, out).wait(timeout=300) == 0
    with open_store(cfg.replace(data_dir=crashed)) as store:
        assert comparable(store) == expected, f"killed at {n} rows, the rerun differs from a clean run"
