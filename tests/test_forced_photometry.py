"""ZTF forced photometry (fp_hists of 4.x packets): conversion, ingest, API.

The 15 real packets of ../shared/data/ztf-fp-hists are read here with fastavro (one record
each: the Ampel file's bytes after its first block are corrupt), and every expectation is
counted from them, not through the ingest's reader.
"""
import io
import math
import sqlite3

import fastavro
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from astropy.io.votable import parse_single_table

from conftest import dump, make_config, need, shared_data
from hbase_schema import get_schema
from ingest.night import ingest
from science.forced_photometry import UNUSABLE, convert, usable
from store import open_store

FP_DIR = "ztf-fp-hists"


def fp_packets() -> list[dict]:
    folder = shared_data() / FP_DIR
    need(folder.is_dir(), f"real packets with fp_hists not found at {folder}")
    out = []
    for path in sorted(folder.rglob("*.avro")):
        with open(path, "rb") as f:
            out.append(next(fastavro.reader(f)))
    return out


def usable_points(packets) -> set:
    """(objectId, jd, fid) of every measured forced point, the union over the packets."""
    return {(r["objectId"], p["jd"], p["fid"]) for r in packets for p in r["fp_hists"] or ()
            if p["forcediffimflux"] is not None and p["forcediffimflux"] != UNUSABLE}


# ---- science ----------------------------------------------------------------------------

def test_conversion_by_hand():
    d = convert([1000.0, 20.0, UNUSABLE, 500.0, -300.0], [10.0, 10.0, UNUSABLE, 10.0, 10.0],
                [25.9, 25.9, 25.9, None, 25.9])
    # 1000 DN at zero point 25.9: 10**(-0.4 * (25.9 - 23.9)) = 0.158489 uJy per DN
    assert d["flux"][0] == pytest.approx(158.4893, rel=1e-6)
    assert d["sigmaflux"][0] == pytest.approx(1.584893, rel=1e-6)
    assert d["mag"][0] == pytest.approx(25.9 - 7.5) and d["sigmamag"][0] == pytest.approx(1.0857 / 100, rel=1e-4)
    assert d["maglim"][0] == pytest.approx(25.9 - 2.5 * math.log10(50))
    # snr 2: an upper limit, with its flux kept
    assert math.isnan(d["mag"][1]) and math.isnan(d["sigmamag"][1]) and d["snr"][1] == 2.0
    assert d["flux"][1] == pytest.approx(3.169786, rel=1e-6) and np.isfinite(d["maglim"][1])
    # -99999 and a missing zero point: nothing derived
    for k in ("flux", "sigmaflux", "snr", "mag", "maglim"):
        assert math.isnan(d[k][2]) and math.isnan(d[k][3])
    # a significant negative difference keeps its sign in flux and has no magnitude
    assert d["flux"][4] < 0 and d["snr"][4] == -30.0 and math.isnan(d["mag"][4])
    assert usable([1.0, UNUSABLE, None, float("nan")]).tolist() == [True, False, False, False]


def test_forced_magnitudes_agree_with_the_detections_of_the_same_exposures():
    """Where a packet's detection (candidate or prv_candidates) and a forced point share an
    exposure, the forced flux has the detection's sign and, converted with magzpsci, its
    magnitude: forced PSF photometry and ZTF's PSF fit measure the same difference."""
    pairs = []
    for r in fp_packets():
        detections = {round(p["jd"], 5): p for p in (r["prv_candidates"] or []) if p.get("candid") and p.get("magpsf")}
        detections[round(r["candidate"]["jd"], 5)] = r["candidate"]
        for p in r["fp_hists"]:
            det = detections.get(round(p["jd"], 5))
            if det is not None and usable(p["forcediffimflux"]):
                d = convert([abs(p["forcediffimflux"])], [p["forcediffimfluxunc"]], [p["magzpsci"]])
                pairs.append((det["isdiffpos"] in ("t", "1"), p["forcediffimflux"] > 0, d["mag"][0], det["magpsf"]))
    assert len(pairs) >= 50
    assert all(positive == flux_positive for positive, flux_positive, _, _ in pairs)
    gaps = np.array([abs(m - magpsf) for _, _, m, magpsf in pairs])
    assert gaps.max() < 0.3 and np.median(gaps) < 0.1


# ---- ingest -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ingested(module_config):
    packets = fp_packets()
    summary = ingest(shared_data() / FP_DIR, module_config, show_progress=False)
    store = open_store(module_config)
    yield module_config, store, summary, packets
    store.close()


def test_every_usable_forced_point_is_stored_once(ingested):
    _, store, summary, packets = ingested
    assert summary.alerts == 15
    expected = usable_points(packets)
    assert len(expected) == 131  # the data's README: 259 rows, 131 measured
    fp = store.table("fp")
    rows = list(fp.scan())
    stored = [(c["i:objectId"], c["i:jd"], c["i:fid"]) for _, c in rows]
    assert sorted(stored) == sorted(expected)
    assert len({k for k, _ in rows}) == len(rows)
    by_key = {(r["objectId"], p["jd"]): p for r in packets for p in r["fp_hists"]}
    for _, cells in rows:
        source = by_key[(cells["i:objectId"], cells["i:jd"])]
        assert cells["i:procstatus"] == source["procstatus"]
        assert cells["i:forcediffimflux"] == pytest.approx(source["forcediffimflux"], rel=1e-6)
        want = convert([source["forcediffimflux"]], [source["forcediffimfluxunc"]], [source["magzpsci"]])
        assert cells["d:flux"] == pytest.approx(want["flux"][0], rel=1e-6)
        assert ("d:mag" in cells) == (want["snr"][0] >= 3)


def test_a_second_ingest_changes_nothing(ingested):
    cfg, store, _, _ = ingested
    before = dump(store)
    again = ingest(shared_data() / FP_DIR, cfg, show_progress=False)
    assert again.alerts == 15
    assert dump(store) == before


def test_the_union_over_an_objects_packets_is_stored_once(tmp_path):
    """Two packets of one object whose fp_hists overlap: each exposure once, the union of both."""
    source = shared_data() / FP_DIR / "boom-astro-boom" / "3005140370015010009.avro"
    need(source.is_file(), f"{source} not found")
    with open(source, "rb") as f:
        reader = fastavro.reader(f)
        schema, first = reader.writer_schema, next(reader)
    second = {**first, "candid": first["candid"] + 1,
              "candidate": {**first["candidate"], "candid": first["candid"] + 1, "jd": first["candidate"]["jd"] + 1}}
    history = first["fp_hists"]
    first = {**first, "fp_hists": history[:10]}
    second = {**second, "fp_hists": history[5:]}
    night = tmp_path / "night"
    night.mkdir()
    for n, record in enumerate((first, second)):
        with open(night / f"{n}.avro", "wb") as f:
            fastavro.writer(f, schema, [record])
    cfg = make_config("embedded", tmp_path)
    assert ingest(night, cfg, show_progress=False).alerts == 2
    with open_store(cfg) as store:
        stored = [(c["i:jd"], c["i:fid"]) for _, c in store.table("fp").scan()]
    expected = {(p["jd"], p["fid"]) for p in history if usable(p["forcediffimflux"])}
    assert len(expected) == 14 and sorted(stored) == sorted(expected)


# ---- API --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(ingested):
    from api import create_api_app
    return create_api_app(ingested[0]).test_client()


def test_fp_route_answers_every_point_with_every_column(client, ingested):
    packets = ingested[3]
    oid = "ZTF18acullba"
    r = client.get("/api/v1/fp", query_string={"objectId": oid})
    assert r.status_code == 200
    rows = r.get_json()
    assert len(rows) == len([p for p in usable_points(packets) if p[0] == oid]) == 14
    assert list(rows[0]) == [c.name for c in get_schema().table("fp").columns()]
    jds = [row["i:jd"] for row in rows]
    assert jds == sorted(jds, reverse=True)
    assert {row["i:objectId"] for row in rows} == {oid}
    assert all(row["d:mag"] is None for row in rows if row["d:snr"] < 3)


def test_fp_route_columns_and_several_objects(client, ingested):
    packets = ingested[3]
    ids = ["ZTF18acullba", "ZTF21aapuacc", "ZTF99unknown"]
    r = client.post("/api/v1/fp", json={"objectId": ",".join(ids), "columns": "i:jd,d:flux,i:objectId"})
    assert r.status_code == 200
    rows = r.get_json()
    assert all(list(row) == ["i:jd", "d:flux", "i:objectId"] for row in rows)
    assert len(rows) == len([p for p in usable_points(packets) if p[0] in ids])
    bad = client.get("/api/v1/fp", query_string={"objectId": "ZTF18acullba", "columns": "i:magpsf"})
    assert bad.status_code == 400 and "i:magpsf" in bad.get_json()["message"]
    none = client.get("/api/v1/fp", query_string={"objectId": "ZTF99unknown"})
    assert none.status_code == 200 and none.get_json() == [] and "no forced photometry" in none.headers["Warning"]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "votable"])
def test_fp_route_formats(client, fmt):
    r = client.get("/api/v1/fp", query_string={"objectId": "ZTF18acullba", "output-format": fmt})
    assert r.status_code == 200
    if fmt == "csv":
        df = pd.read_csv(io.StringIO(r.get_data(as_text=True)))
    elif fmt == "parquet":
        df = pq.read_table(io.BytesIO(r.data)).to_pandas()
    else:
        df = parse_single_table(io.BytesIO(r.data)).to_table().to_pandas()
        df.columns = [c.replace("_", ":", 1) for c in df.columns]  # VOTable names have no ':'
    assert len(df) == 14 and {"i:jd", "i:forcediffimflux", "d:flux", "d:maglim", "i:procstatus"} <= set(df.columns)


def test_objects_with_fp_adds_the_forced_points(client):
    plain = client.get("/api/v1/objects", query_string={"objectId": "ZTF18acullba"}).get_json()
    both = client.get("/api/v1/objects", query_string={"objectId": "ZTF18acullba", "withfp": "true"}).get_json()
    forced = [row for row in both if row["d:tag"] == "forcedphot"]
    assert len(both) == len(plain) + 14 and len(forced) == 14
    assert all(row["i:candid"] == -1 and row["d:flux"] is not None for row in forced)
    asked = client.get("/api/v1/objects", query_string={"objectId": "ZTF18acullba", "withfp": "true",
                                                         "columns": "i:jd,d:flux"}).get_json()
    assert all(set(row) == {"i:jd", "d:flux", "d:tag"} for row in asked)


def test_forced_points_of_the_query_layer(ingested):
    from api.queries import forced_points
    df = forced_points(ingested[1], "ZTF18acullba")
    assert list(df.columns) == ["objectId", "jd", "fid", "band", "flux", "flux_err", "snr", "mag", "magerr", "maglim",
                                "detected", "procstatus", "magzpsci", "forcediffimflux", "forcediffimfluxunc"]
    assert len(df) == 14 and df["jd"].is_monotonic_increasing
    assert set(df["band"]) <= {"g", "r", "i"} and (df["detected"] == (df["snr"] >= 3)).all()
    assert forced_points(ingested[1], "ZTF99unknown").empty


def test_a_store_without_the_fp_table_answers_503_naming_the_command(tmp_path):
    from api import create_api_app
    cfg = make_config("embedded", tmp_path)
    open_store(cfg, create=True).close()
    with sqlite3.connect(cfg.data_dir / "nocturne.sqlite3") as db:
        db.execute('DROP TABLE "ztf.fp"')
    client = create_api_app(cfg).test_client()
    for path, params in (("/api/v1/fp", {}), ("/api/v1/objects", {"withfp": "true"})):
        r = client.get(path, query_string={"objectId": "ZTF18acullba", **params})
        assert r.status_code == 503, path
        assert "python -m hbase_schema create" in r.get_json()["message"]
    assert client.get("/api/v1/objects", query_string={"objectId": "ZTF18acullba"}).status_code == 200


# ---- portal -----------------------------------------------------------------------------

def _forced_traces(fig) -> dict:
    return {t.name: t for t in fig.data if t.name and "forced" in t.name}


def test_light_curve_shows_forced_points_when_toggled(ingested):
    from api import queries as q
    from apps.components import lightcurve as LC
    store, oid = ingested[1], "ZTF18acullba"
    forced = q.forced_points(store, oid)
    phot = LC.photometry(q.objects(store, [oid]), q.objects(store, [oid], withupperlim=True), forced)
    assert not _forced_traces(LC.figure(phot, "diff"))
    in_mag = _forced_traces(LC.figure(phot, "diff", ("upperlim", LC.FORCED)))
    assert sum(len(t.x) for t in in_mag.values()) == int(forced["detected"].sum()) > 0
    assert all(t.marker.symbol == "diamond" for t in in_mag.values())
    in_flux = _forced_traces(LC.figure(phot, "dflux", (LC.FORCED,)))
    assert sum(len(t.x) for t in in_flux.values()) == len(forced) == 14
    drawn = sorted(y for t in in_flux.values() for y in t.y)
    assert drawn == pytest.approx(sorted(forced["flux"]))
    assert min(drawn) < 0 < max(drawn)  # fainter and brighter than the reference, both shown
    alerts = [t for t in LC.figure(phot, "dflux", (LC.FORCED,)).data if t.name in ("g", "r")]
    assert alerts and all(np.isfinite(y) for t in alerts for y in t.y)
    # a click on a forced point is answered (it has no packet of its own), like an upper limit's
    trace = next(iter(in_flux.values()))
    note = LC.pick_note({"customdata": list(trace.customdata[0]), "x": trace.x[0]})
    assert note and note.startswith("Forced photometry at JD")


def test_object_page_offers_the_forced_photometry_toggle_and_downloads(ingested):
    from apps.components import object_info as O
    links = O.downloads("ZTF18acullba", "http://x", forced=True).to_plotly_json()
    text = str(links)
    assert "/api/v1/fp?objectId=ZTF18acullba&output-format=csv" in text
    assert "/api/v1/fp?objectId=ZTF18acullba&output-format=parquet" in text
    assert "/api/v1/fp" not in str(O.downloads("ZTF18acullba", "http://x").to_plotly_json())


def test_the_object_page_renders_the_toggle_and_redraws_with_forced_points(ingested):
    import json
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
    from index import create_app
    from portal_helpers import call, render_page
    client = create_app(ingested[0]).test_client()
    page = render_page(client, "/ZTF18acullba")
    assert "forced photometry (14)" in page and "/api/v1/fp?objectId=ZTF18acullba" in page
    phot = json.loads(page)["response"]["_pages_content"]["children"]
    phot = _find_store(phot, "object-phot")
    out = call(client, {"id": "lc-graph", "property": "figure"},
               [{"id": "lc-unit", "property": "value", "value": "dflux"},
                {"id": "lc-show", "property": "value", "value": ["forcedphot"]},
                {"id": "object-candid", "property": "data", "value": "3005140370015010009"}],
               [{"id": "object-phot", "property": "data", "value": phot}])
    names = [t.get("name") for t in out["response"]["lc-graph"]["figure"]["data"]]
    assert any(n and n.endswith("forced photometry") for n in names)


def _find_store(node, store_id):
    """The data of the dcc.Store ``store_id`` in a rendered layout."""
    if isinstance(node, dict):
        props = node.get("props", {})
        if props.get("id") == store_id:
            return props["data"]
        children = props.get("children", node.get("children"))
        return _find_store(children, store_id) if children is not None else None
    if isinstance(node, list):
        for child in node:
            found = _find_store(child, store_id)
            if found is not None:
                return found
    return None


# ---- fits -------------------------------------------------------------------------------------

def test_fits_use_the_stored_forced_points_unless_told_not_to(client, ingested):
    """The fits' light curve takes every stored forced point of status 0 (a diamond in the
    tabs: kind 'forced'); withfp=false leaves them out."""
    from api.queries import fits
    _, store, _, packets = ingested
    oid = "ZTF18acullba"
    frame = fits.stored_forced(store, oid)
    usable = [p for p in usable_points(packets) if p[0] == oid]
    assert frame is not None and len(frame) == len(usable) == 14
    from science.gather import forced_points as gathered
    status_ok = int((frame["procstatus"].astype(str).str.strip() == "0").sum())
    lc = fits.lightcurve(store, oid, forced=frame)
    alone = fits.lightcurve(store, oid)
    ref = {b: m for b, m in zip(alone["band"], alone["magnr"]) if np.isfinite(m)}
    part = gathered(frame, ref)
    seen = {(round(float(t), 5), str(b)) for t, b in zip(alone["jd"], alone["band"])}
    # a magnitude (a star behind, or >= 3 sigma) at a visit without a detection (a detection is taken first)
    new = sum(1 for t, b, m in zip(part["jd"], part["band"], part["mag"])
              if np.isfinite(m) and (round(float(t), 5), str(b)) not in seen)
    assert int((lc["kind"] == "forced").sum()) == new > 0 and new <= status_ok
    assert int((alone["kind"] == "forced").sum()) == 0
    assert fits.stored_forced(store, "ZTF99unknown") is None
    answers = {}
    for withfp in ("true", "false"):
        r = client.get("/api/v1/fit/supernova", query_string={"objectId": oid, "withfp": withfp})
        assert r.status_code in (200, 422), r.get_data(as_text=True)[:300]
        answers[withfp] = r
    if answers["true"].status_code == 200 and answers["false"].status_code == 200:
        assert answers["true"].get_json()["dof"] > answers["false"].get_json()["dof"]  # more points, same model
    else:  # too few points without them: the forced points are what makes the fit possible
        assert answers["false"].status_code == 422
