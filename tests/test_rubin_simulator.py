"""Tests of the Rubin alert simulator (``python -m ingest simulate --survey rubin``).

The simulated Parquet is compared field by field with the real Rubin alerts
Fink delivered (``../shared/data/rubin-fink-2026-03-10``; skipped when absent,
failed under CI=true); the Avro container and the wire-format messages are
read back with fastavro; the science (nJy zero point, forced photometry,
periodic light curves) is checked against the ground truth.
"""

from __future__ import annotations

import io
import json
import math
import struct
from pathlib import Path

import fastavro
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from conftest import shared_data
from ingest.simulator.cli import main

REAL = "rubin-fink-2026-03-10"
#: differences from the real files' schema that are documented (none: names, nesting and types match)
DOCUMENTED_DIFFERENCES: set[str] = set()
WINDOW = 365.0


def simulate(out: Path, *args: str) -> Path:
    assert main([str(out), "--quiet", "--survey", "rubin", *args]) == 0
    return out


def rows(root: Path) -> list[dict]:
    out = []
    for f in sorted((root / "parquet").glob("lsst_*.parquet")):
        out.extend(pq.read_table(f).to_pylist())
    return out


def truth(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / "truth.csv")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """Two nights, ~150 alerts a night, every output (cutouts, Avro, wire)."""
    return simulate(tmp_path_factory.mktemp("rubin") / "out", "--nights", "2", "--alerts-per-night", "150",
                    "--seed", "7", "--wire")


@pytest.fixture(scope="module")
def alerts(run) -> list[dict]:
    return rows(run)


def _kind(a: dict, tr: pd.DataFrame) -> str:
    if a["diaSource"]["ssObjectId"]:
        return "asteroid"
    return tr.set_index("diaObjectId").loc[a["diaSource"]["diaObjectId"], "type"]


# --------------------------------------------------------------------------- schema
def _differences(real: pa.DataType, sim: pa.DataType, where: str) -> list[str]:
    """Names, nesting and types of ``real`` missing or different in ``sim``."""
    if pa.types.is_struct(real):
        if not pa.types.is_struct(sim):
            return [f"{where}: {sim} is not a struct"]
        out = []
        for f in real:
            i = sim.get_field_index(f.name)
            out += [f"{where}.{f.name}: missing"] if i < 0 else _differences(f.type, sim.field(i).type,
                                                                              f"{where}.{f.name}")
        return out
    if pa.types.is_list(real):
        return _differences(real.value_type, sim.value_type, f"{where}[]") if pa.types.is_list(sim) \
            else [f"{where}: {sim} is not a list"]
    if pa.types.is_map(real):
        if not pa.types.is_map(sim):
            return [f"{where}: {sim} is not a map"]
        return _differences(real.key_type, sim.key_type, f"{where}{{key}}") + \
            _differences(real.item_type, sim.item_type, f"{where}{{value}}")
    return [] if real.equals(sim) else [f"{where}: {sim} instead of {real}"]


def test_parquet_has_the_real_alerts_fields_and_types(run):
    real_files = sorted((shared_data() / REAL).glob("*.parquet"))
    assert real_files
    sim = pq.read_schema(run / "parquet" / "lsst_20260310.parquet")
    for f in real_files[:5]:
        real = pq.read_schema(f)
        diffs = _differences(pa.struct(list(real)), pa.struct(list(sim)), "alert")
        assert set(diffs) <= DOCUMENTED_DIFFERENCES, diffs
        assert sim.names == real.names            # same order too, as Fink writes them


def _always_filled(table: pa.Table, column: str) -> set[str]:
    """Fields of a struct column that are never null in ``table``."""
    arr = table.column(column).combine_chunks()
    return {f.name for f in arr.type if arr.field(f.name).null_count == 0}


def test_values_look_like_the_real_ones(run, alerts):
    real = pa.concat_tables([pq.read_table(f) for f in sorted((shared_data() / REAL).glob("*.parquet"))])
    sim = pa.concat_tables([pq.read_table(f) for f in sorted((run / "parquet").glob("*.parquet"))])
    per_band = {f"{b}_{s}" for b in "ugrizy" for s in ("psfFluxMean", "psfFluxMeanErr", "psfFluxSigma", "psfFluxMin",
                                                         "psfFluxMax", "psfFluxMaxSlope", "psfFluxErrMean",
                                                         "scienceFluxMean", "scienceFluxMeanErr")}
    for column in ("diaSource", "clf", "xm", "pred", "misc"):
        # what every real alert fills, every simulated alert fills too
        assert _always_filled(real, column) <= _always_filled(sim, column), column
    keep = lambda t: t.filter(pc.equal(pc.struct_field(t.column("diaSource"), "ssObjectId"), 0))  # noqa: E731
    assert _always_filled(keep(real), "diaObject") - per_band <= _always_filled(keep(sim), "diaObject")
    for column in ("diaSourceId", "observation_reason", "target_name", "brokerIngestMjd", "lsst_schema_version",
                   "timestamp", "year", "month", "day", "tns_type_recomputed"):
        assert real.column(column).null_count == sim.column(column).null_count == 0, column
    a = next(x for x in alerts if x["diaObject"]["diaObjectId"] and x["prvDiaSources"])
    r = real.slice(0, 1).to_pylist()[0]
    assert a["lsst_schema_version"] == r["lsst_schema_version"] == "lsst.v10_0"
    assert a["publisher"] == r["publisher"] == "Fink"
    assert a["diaSource"]["band"] in "ugrizy"
    assert len(str(a["diaSource"]["visit"])) == len(str(r["diaSource"]["visit"])) == 13
    assert 1e17 < a["diaSourceId"] < 2 ** 63 and a["diaSourceId"] == a["diaSource"]["diaSourceId"]
    assert abs(a["diaSource"]["midpointMjdTai"] - 61109.5) < 2          # 2026-03-10, MJD
    for k in ("timestamp", "brokerStartProcessTimestamp", "brokerEndProcessTimestamp"):
        pd.Timestamp(a[k])
    assert (a["year"], a["month"], a["day"]) == tuple(int(x) for x in a["timestamp"][:10].split("-"))


# --------------------------------------------------------------------------- Avro, wire format
def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def test_avro_container_round_trips_with_fastavro(run):
    for night in ("20260310", "20260311"):
        with open(run / "avro" / f"lsst_{night}.avro", "rb") as fh:
            reader = fastavro.reader(fh)
            names = [f["name"] for f in reader.writer_schema["fields"]]
            recs = list(reader)
        table = pq.read_table(run / "parquet" / f"lsst_{night}.parquet")
        assert names == table.column_names
        expected = table.to_pylist()
        for r in expected:
            r["lc_features"] = dict(r["lc_features"]) if r["lc_features"] is not None else None
        assert len(recs) == len(expected) > 0
        assert all(_same(a, b) for a, b in zip(recs, expected))


def test_wire_messages_are_confluent_framed_lsst_alerts(run, alerts):
    schema = json.loads((run / "wire" / "schema" / "1000.avsc").read_text())
    parsed = fastavro.parse_schema(schema)
    assert "clf" not in {f["name"] for f in schema["fields"]}
    by_id = {a["diaSourceId"]: a for a in alerts}
    files = sorted((run / "wire").glob("2026*/*.msg"))
    assert len(files) == len(alerts)
    for p in files[:60]:
        b = p.read_bytes()
        magic, sid = struct.unpack(">bI", b[:5])
        assert (magic, sid) == (0, 1000)
        r = fastavro.schemaless_reader(io.BytesIO(b[5:]), parsed)
        a = by_id[r["diaSourceId"]]
        assert p.stem == str(r["diaSourceId"])
        assert _same(r["diaSource"], a["diaSource"]) and r["cutoutScience"] == a["cutoutScience"]
        if a["diaSource"]["ssObjectId"]:
            assert r["diaObject"] is None and r["ssSource"]["ssObjectId"] == a["diaSource"]["ssObjectId"]
        else:
            assert r["ssSource"] is None and r["mpc_orbits"] is None
            assert r["diaObject"]["nDiaSources"] == a["diaObject"]["nDiaSources"]


# --------------------------------------------------------------------------- cutouts
def _stamp_shapes(alert: dict) -> list:
    """Per cutout: (HDU names, shapes, dtypes, bytes), plus the source's bboxSize."""
    out = []
    for name in ("cutoutDifference", "cutoutScience", "cutoutTemplate"):
        h = fits.open(io.BytesIO(alert[name]))
        out.append((tuple(x.name for x in h), tuple(x.data.shape for x in h), tuple(str(x.data.dtype) for x in h),
                    h[0].header["BUNIT"]))
    return out


def test_cutouts_are_fits_stamps_shaped_like_rubins(alerts):
    real = pq.read_table(sorted((shared_data() / REAL).glob("*.parquet"))[0]).to_pylist()
    # what holds in every real alert: plain FITS, 3 HDUs, a square image of max(bboxSize, 30) pixels
    for a in real + alerts[:40]:
        side = max(a["diaSource"]["bboxSize"], 30)
        for names, shapes, dtypes, unit in _stamp_shapes(a):
            assert names == ("PRIMARY", "UNCERT", "PSFIMAGE") and unit == "nJy"
            assert shapes[0] == shapes[1] == (side, side) and shapes[2][0] == shapes[2][1]
            assert dtypes == (">f4", ">f4", ">f8")
        assert all(a[k][:6] == b"SIMPLE" and len(a[k]) % 2880 == 0
                   for k in ("cutoutDifference", "cutoutScience", "cutoutTemplate"))
    assert [s[1][2] for s in _stamp_shapes(real[0])] == [s[1][2] for s in _stamp_shapes(alerts[0])]
    thirty = [a for a in alerts if a["diaSource"]["bboxSize"] <= 30]
    assert thirty and len(thirty[0]["cutoutScience"]) == 34560 == len(real[0]["cutoutScience"])
    assert len({a["diaSource"]["bboxSize"] for a in alerts}) > 3
    for a in alerts[:20]:
        for name in ("cutoutDifference", "cutoutScience", "cutoutTemplate"):
            h = fits.open(io.BytesIO(a[name]))
            assert {"CUTMINX", "CUTMINY", "ROTPA", "CRVAL1", "CRVAL2"} <= set(h[0].header)
            assert np.isfinite(h[0].data).all() and (h[1].data > 0).all()
        d = fits.open(io.BytesIO(a["cutoutDifference"]))[0]
        c = WCS(d.header).pixel_to_world(d.header["CRPIX1"] - 1, d.header["CRPIX2"] - 1)
        assert abs(c.ra.deg - a["diaSource"]["ra"]) < 1e-9 and abs(c.dec.deg - a["diaSource"]["dec"]) < 1e-9
        flux, err = a["diaSource"]["psfFlux"], a["diaSource"]["psfFluxErr"]
        side = d.data.shape[0]
        # the stamp's sum is the source's flux, within the noise of side^2 pixels
        assert abs(d.data.sum() - flux) < 5 * err * side / 2.5 + 0.1 * abs(flux)


def test_no_cutouts_leaves_them_null(tmp_path):
    out = simulate(tmp_path / "nc", "--nights", "1", "--alerts-per-night", "60", "--no-cutouts", "--no-avro")
    t = pq.read_table(out / "parquet" / "lsst_20260310.parquet")
    assert t.num_rows and t.column("cutoutScience").null_count == t.num_rows


# --------------------------------------------------------------------------- truth, ids
def test_truth_lists_every_object(run, alerts):
    tr = truth(run)
    objects = tr[tr.type != "asteroid"].set_index("diaObjectId")
    asteroids = tr[tr.type == "asteroid"].set_index("ssObjectId")
    counts: dict = {}
    for a in alerts:
        s = a["diaSource"]
        key = ("ss", s["ssObjectId"]) if s["ssObjectId"] else ("dia", s["diaObjectId"])
        counts[key] = counts.get(key, 0) + 1
        if s["ssObjectId"]:
            assert s["diaObjectId"] == 0 and s["ssObjectId"] in asteroids.index
            assert asteroids.loc[s["ssObjectId"], "designation"] == a["ssSource"]["designation"]
        else:
            assert s["diaObjectId"] in objects.index
    for (what, oid), n in counts.items():
        assert (asteroids if what == "ss" else objects).loc[oid, "n_alerts"] == n
    assert tr.n_alerts.sum() == len(alerts)
    assert {"sn_ia", "sn_ii", "rrlyrae", "periodic", "agn", "microlensing", "asteroid", "bogus"} <= \
        set(tr[tr.n_alerts > 0].type)
    need = {"sn_ia": ["z", "t0", "t_peak", "tau_rise", "mag_r"], "rrlyrae": ["period", "amp_g", "t0"],
            "microlensing": ["u0", "tE", "fs"], "agn": ["drw_tau", "drw_sf"], "asteroid": ["ss_rate"]}
    for kind, cols in need.items():
        assert tr.loc[tr.type == kind, cols].notna().all().all(), kind
    sn = tr[(tr.type == "sn_ia") & (tr.n_alerts > 0)]
    assert ((sn.t_peak > 61000) & (sn.t_peak < 61200)).all()                 # MJD, like the alerts


def test_ids_are_unique_64_bit_and_objects_named_by_their_first_source(alerts):
    seen = {}
    named = 0
    for a in alerts:
        srcs = [a["diaSource"]] + (a["prvDiaSources"] or [])
        for s in srcs:
            assert 0 < s["diaSourceId"] < 2 ** 63
            assert seen.setdefault(s["diaSourceId"], s["midpointMjdTai"]) == s["midpointMjdTai"]
        if a["diaSource"]["ssObjectId"]:
            continue
        first = min(srcs, key=lambda s: s["midpointMjdTai"])
        oid = a["diaSource"]["diaObjectId"]
        assert oid <= first["diaSourceId"]              # named by a source at or before the window's first
        if a["diaObject"]["nDiaSources"] == len(srcs):  # the whole history is in the window
            assert oid == first["diaSourceId"]
            named += 1
    assert named > 50
    ids = sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))
    assert [i for i, _ in ids] == sorted(seen), "ids grow with time"


# --------------------------------------------------------------------------- photometry
def test_fluxes_are_njy_at_the_truth_magnitudes(run, alerts):
    """m = 31.4 - 2.5 log10(f / nJy): a star's template flux is its reference magnitude."""
    tr = truth(run).set_index("diaObjectId")
    factor = {"u": 0.55, "g": 1.0, "r": 1.0, "i": 1.0, "z": 1.08, "y": 1.12}
    model = {"u": "g", "g": "g", "r": "r", "i": "i", "z": "i", "y": "i"}
    checked = 0
    for a in alerts:
        s = a["diaSource"]
        if s["ssObjectId"] or tr.loc[s["diaObjectId"], "type"] not in ("rrlyrae", "periodic", "microlensing"):
            continue
        b = s["band"]
        expected = tr.loc[s["diaObjectId"], f"magnr_{model[b]}"] - 2.5 * np.log10(factor[b])
        assert abs(31.4 - 2.5 * np.log10(s["templateFlux"]) - expected) < 0.02
        # science = template + difference (the template measured with 5 % of the visit's noise)
        assert abs(s["scienceFlux"] - s["templateFlux"] - s["psfFlux"]) < 0.3 * s["psfFluxErr"]
        checked += 1
    assert checked > 20


def test_dia_object_summarises_the_sources(alerts):
    for a in alerts:
        if not a["prvDiaSources"]:
            continue
        srcs = [a["diaSource"]] + a["prvDiaSources"]
        o = a["diaObject"]
        assert o["nDiaSources"] >= len(srcs) and o["diaObjectId"] == a["diaSource"]["diaObjectId"]
        if o["nDiaSources"] != len(srcs):
            continue                                  # history older than the window
        for b in "ugrizy":
            f = np.array([s["psfFlux"] for s in srcs if s["band"] == b])
            assert o[f"{b}_psfFluxNdata"] == len(f)
            if len(f):
                tol = 1e-6 * np.abs(f).max()             # fluxes are float32 in the alert
                assert o[f"{b}_psfFluxMean"] == pytest.approx(f.mean(), rel=1e-5, abs=tol)
                assert o[f"{b}_psfFluxMax"] == pytest.approx(f.max(), rel=1e-6)
                assert dict(a["lc_features"])[b]["mean"] == pytest.approx(f.mean(), rel=1e-5, abs=tol)
            else:
                assert o[f"{b}_psfFluxMean"] is None


def test_forced_photometry_covers_the_months_before_each_alert(run, alerts):
    tr = truth(run).set_index("diaObjectId")
    reach = []
    for a in alerts:
        s = a["diaSource"]
        if s["ssObjectId"]:
            assert a["prvDiaForcedSources"] is None and a["prvDiaSources"] is None
            continue
        fs = a["prvDiaForcedSources"]
        t = s["midpointMjdTai"]
        times = np.array([f["midpointMjdTai"] for f in fs])
        assert (times < t).all() and (times >= t - WINDOW).all() and (np.diff(times) > 0).all()
        assert {f["diaObjectId"] for f in fs} == {s["diaObjectId"]}
        visits = {f["visit"] for f in fs}
        assert {p["visit"] for p in a["prvDiaSources"] or []} <= visits      # every detection was measured
        reach.append(t - times.min())
        if tr.loc[s["diaObjectId"], "type"] == "sn_ia":
            # before the explosion, forced photometry is consistent with no flux
            t0 = tr.loc[s["diaObjectId"], "t0"]
            early = [f for f in fs if f["midpointMjdTai"] < t0 - 30]
            if early:
                pulls = np.array([f["psfFlux"] / f["psfFluxErr"] for f in early])
                assert np.mean(np.abs(pulls) < 4) > 0.95
    assert np.median(reach) > 300         # about a year of visits (minus the season's gap)
    assert len(reach) > 100


def test_later_alerts_repeat_earlier_forced_photometry(alerts):
    by_obj: dict = {}
    for a in alerts:
        if a["prvDiaForcedSources"]:
            by_obj.setdefault(a["diaSource"]["diaObjectId"], []).append(a)
    pairs = 0
    for lst in by_obj.values():
        lst.sort(key=lambda a: a["diaSource"]["midpointMjdTai"])
        for early, late in zip(lst, lst[1:]):
            start = late["diaSource"]["midpointMjdTai"] - WINDOW      # the window slides
            e = {f["diaForcedSourceId"]: f for f in early["prvDiaForcedSources"] if f["midpointMjdTai"] >= start}
            lt = {f["diaForcedSourceId"]: f for f in late["prvDiaForcedSources"]}
            assert set(e) <= set(lt) and all(_same(e[k], lt[k]) for k in e)
            assert len(lt) > len(e)                                    # and adds the visits in between
            pairs += 1
    assert pairs > 20


def _roughness(t, m, period):
    order = np.argsort(np.mod(t / period, 1.0))
    return np.mean(np.abs(np.diff(m[order])))


def test_rrlyrae_folds_at_the_true_period(tmp_path):
    out = simulate(tmp_path / "rr", "--nights", "2", "--alerts-per-night", "120", "--seed", "11",
                   "--no-cutouts", "--no-avro", "--mix", "rrlyrae=1")
    tr = truth(out).set_index("diaObjectId")
    best = max((a for a in rows(out) if a["prvDiaForcedSources"]), key=lambda a: len(a["prvDiaForcedSources"]))
    fs = best["prvDiaForcedSources"]
    band = max("ugrizy", key=lambda b: sum(f["band"] == b for f in fs))
    pts = np.array([(f["midpointMjdTai"], 31.4 - 2.5 * np.log10(f["scienceFlux"])) for f in fs if f["band"] == band])
    assert len(pts) >= 15
    row = tr.loc[best["diaSource"]["diaObjectId"]]
    assert row.type == "rrlyrae"
    t, m = pts.T
    good = _roughness(t, m, row.period)
    wrong = [_roughness(t, m, row.period * f) for f in (0.83, 0.91, 1.07, 1.19, 1.31)]
    assert good < 0.5 * min(wrong), (good, wrong)


# --------------------------------------------------------------------------- solar system
def test_solar_system_sources_are_consistent(alerts):
    n = 0
    for a in alerts:
        s, ss, mpc = a["diaSource"], a["ssSource"], a["mpc_orbits"]
        if not s["ssObjectId"]:
            assert ss["ssObjectId"] is None and mpc["designation"] is None
            continue
        n += 1
        packed = mpc["packed_primary_provisional_designation"]
        assert s["ssObjectId"] == ss["ssObjectId"] == int.from_bytes(packed.encode(), "big")
        assert ss["designation"] == mpc["designation"] == mpc["unpacked_primary_provisional_designation"]
        assert ss["diaSourceId"] == s["diaSourceId"] and a["pred"]["is_sso"]
        assert all(a["diaObject"][k] is None for k in a["diaObject"])
        helio = np.array([ss["helio_x"], ss["helio_y"], ss["helio_z"]])
        topo = np.array([ss["topo_x"], ss["topo_y"], ss["topo_z"]])
        assert np.linalg.norm(helio) == pytest.approx(ss["helioRange"], rel=1e-5)
        assert np.linalg.norm(topo) == pytest.approx(ss["topoRange"], rel=1e-5)
        assert mpc["q"] == pytest.approx(mpc["a"] * (1 - mpc["e"]))
        assert json.loads(mpc["mpc_orb_jsonb"])["designation_data"]["packed_primary_provisional_designation"] == packed
        assert ss["ephOffset"] < 1.0 and 0 <= ss["phaseAngle"] < 90 and ss["elongation"] > 60
    assert n > 10


def test_fink_values_follow_the_truth(run, alerts):
    tr = truth(run).set_index("diaObjectId")
    right = total = 0
    for a in alerts:
        kind = "asteroid" if a["diaSource"]["ssObjectId"] else tr.loc[a["diaSource"]["diaObjectId"], "type"]
        assert a["pred"]["is_sso"] == (kind == "asteroid")
        assert a["pred"]["main_label_classifier"] == a["clf"]["cats_class"]
        assert set(dict(a["lc_features"])) <= set("ugrizy") and a["diaSource"]["band"] in dict(a["lc_features"])
        if kind in ("sn_ia", "sn_ii", "rrlyrae", "periodic", "agn"):
            total += 1
            right += a["clf"]["cats_class"] == {"sn_ia": 11, "sn_ii": 11, "agn": 22}.get(kind, 21)
    assert right > 0.7 * total


# --------------------------------------------------------------------------- determinism, CLI
def _tree(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tmp_path):
    args = ["--nights", "2", "--alerts-per-night", "60", "--seed", "5", "--wire"]
    a = _tree(simulate(tmp_path / "a", *args))
    b = _tree(simulate(tmp_path / "b", *args, "--workers", "2"))
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)
    c = _tree(simulate(tmp_path / "c", *args[:5], "6"))
    assert a["parquet/lsst_20260310.parquet"] != c["parquet/lsst_20260310.parquet"]


def test_survey_specific_options_are_refused_elsewhere(tmp_path, capsys):
    assert main([str(tmp_path / "x"), "--quiet", "--survey", "rubin", "--tar"]) == 2
    assert "--tar does not apply to --survey rubin" in capsys.readouterr().err
    assert main([str(tmp_path / "y"), "--quiet", "--wire"]) == 2
    assert "--wire does not apply to --survey ztf" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_raw_run_has_no_fink_values(tmp_path):
    out = simulate(tmp_path / "raw", "--nights", "1", "--alerts-per-night", "60", "--raw", "--no-cutouts")
    names = pq.read_schema(out / "parquet" / "lsst_20260310.parquet").names
    assert names[-1] == "cutoutTemplate" and "clf" not in names
    summary = json.loads((out / "simulation.json").read_text())
    assert summary["survey"] == "rubin" and summary["fink_values"] is False


def test_column_wise_avro_encoder_writes_fastavros_bytes():
    """The encoder behind the containers and wire messages, on whole and sliced tables."""
    from ingest.simulator.rubin import avro, schema
    from ingest.simulator.rubin.assemble import build
    from ingest.simulator.rubin.observe import Config, make_plan

    plan = make_plan(Config(nights=2, alerts_per_night=80, seed=2, cutouts=False))
    table = build(plan, 0).table
    parsed = fastavro.parse_schema(schema.avro_schema(table.schema))
    for lo, n in ((0, table.num_rows), (7, 25), (table.num_rows - 10, 10)):
        part = table.slice(lo, n)
        expected = []
        for r in part.to_pylist():
            r["lc_features"] = dict(r["lc_features"]) if r["lc_features"] is not None else None
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, parsed, r)
            expected.append(buf.getvalue())
        assert avro.encode(part) == expected


def test_a_large_footprint_is_observed_within_each_night():
    """Thousands of fields still fit between dusk and dawn: each visit on its night's UTC date."""
    import datetime as dt
    from ingest.simulator.plan import seed_rng
    from ingest.simulator.rubin import visits
    from ingest.simulator.rubin.observe import around

    fields = visits.Fields.tile(around(30.0, -30.0, 12000.0))
    assert len(fields) > 1000                      # more than 40 s visits would cover in a night
    v = visits.schedule(fields, dt.date(2026, 3, 10), 2, 10.0, 1.0, seed_rng(1, 13))
    run = v.night >= 0
    frac = v.jd[run] - 0.5 - np.floor(v.jd[run] - 0.5)               # UTC day fraction
    assert (frac >= visits.NIGHT_START - 1e-9).all() and (frac <= visits.NIGHT_END + 1e-9).all()
    assert np.array_equal(np.floor(v.jd[run] - 0.5) - np.floor(v.jd[run][0] - 0.5), v.night[run])
    assert len(np.unique(v.visit)) == len(v.visit)
    assert np.all(np.diff(v.jd) > 0)


def test_parquet_rolls_over_to_numbered_files(tmp_path, monkeypatch):
    """Past FILE_MAX_ALERTS a night continues in lsst_YYYYMMDD.1.parquet...: same alerts, bounded memory."""
    from ingest.simulator.rubin import writer

    args = ["--nights", "1", "--alerts-per-night", "700", "--seed", "4", "--no-cutouts", "--no-avro"]
    whole = pq.read_table(simulate(tmp_path / "whole", *args) / "parquet" / "lsst_20260310.parquet")
    monkeypatch.setattr(writer, "ROW_GROUP_ALERTS", 20)
    monkeypatch.setattr(writer, "FILE_MAX_ALERTS", 50)
    out = simulate(tmp_path / "parts", *args)
    files = sorted((out / "parquet").glob("lsst_20260310*.parquet"))
    assert len(files) >= 3 and (out / "parquet" / "lsst_20260310.1.parquet").exists()
    parts = [pq.read_table(f) for f in files]
    assert all(pq.ParquetFile(f).metadata.num_rows <= 50 + 400 for f in files)     # a file ends after a unit
    joined = pa.concat_tables(parts).sort_by("diaSourceId").to_pylist()
    assert len(joined) == whole.num_rows
    assert all(_same(a, b) for a, b in zip(joined, whole.sort_by("diaSourceId").to_pylist()))
