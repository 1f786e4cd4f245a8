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
import struct

import fastavro
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from astropy.io import fits
from astropy.wcs import WCS

from conftest import shared_data
from rubin_sim import alerts, run, same, simulate  # noqa: F401  (fixtures)

REAL = "rubin-fink-2026-03-10"
#: differences from the real files' schema that are documented (none: names, nesting and types match)
DOCUMENTED_DIFFERENCES: set[str] = set()
WINDOW = 365.0


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
        assert all(same(a, b) for a, b in zip(recs, expected))


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
        assert same(r["diaSource"], a["diaSource"]) and r["cutoutScience"] == a["cutoutScience"]
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
    assert all(same(a, b) for a, b in zip(joined, whole.sort_by("diaSourceId").to_pylist()))
