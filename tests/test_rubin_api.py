"""The Rubin/LSST API (/lsst/api/v1, Fink's LSST routes) over the 107 real Rubin alerts of
../shared/data/rubin-fink-2026-03-10, in-process on each backend or over ``--url``: what each
route answers is checked against the alert packets themselves (tests/rubin_inputs.py)."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from conftest import API_URL, make_config, need, shared_data
from hbase_schema import get_schema
from rubin_inputs import parquet_files, records
from science.rubin_tags import TAGS

LSST = "/lsst/api/v1"
BIG = 313875416793743402      # 2 alerts, ~1000 previous sources and forced sources
NIGHT_MJD = 61109            # the night's alerts are at MJD 61109.1..61109.3


@pytest.fixture(scope="module")
def packets():
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    return records(parquet_files())


def post(client, route, **payload):
    r = client.post(f"{LSST}/{route}", json=payload)
    assert r.status_code == 200, r.data[:300]
    return r


def frame(client, route, **payload) -> pd.DataFrame:
    return pd.read_json(io.BytesIO(post(client, route, **payload).data))


def of_object(packets, oid):
    return [p for p in packets if p["diaSource"]["diaObjectId"] == oid]


def newest(packets, oid):
    return max(of_object(packets, oid), key=lambda p: (p["diaSource"]["midpointMjdTai"], p["diaSource"]["diaSourceId"]))


# -- objects ---------------------------------------------------------------------------------------

def test_objects_serve_the_newest_diaobject_with_every_column_in_schema_order(rubin_api, packets):
    df = frame(rubin_api, "objects", diaObjectId=str(BIG))
    assert len(df) == 1
    assert list(df.columns) == [c.name for c in get_schema("rubin").table("objects").columns()]
    obj = newest(packets, BIG)["diaObject"]
    row = df.iloc[0]
    assert row["r:diaObjectId"] == BIG
    assert row["r:nDiaSources"] == obj["nDiaSources"]
    assert row["r:ra"] == pytest.approx(obj["ra"], abs=1e-12)
    assert row["r:diaSourceId"] == newest(packets, BIG)["diaSource"]["diaSourceId"]


def test_objects_several_ids_columns_and_unknown_ids(rubin_api, packets):
    ids = list(dict.fromkeys(p["diaSource"]["diaObjectId"] for p in packets if p["diaSource"]["diaObjectId"]))[:3]
    df = frame(rubin_api, "objects", diaObjectId=",".join(map(str, ids)), columns="r:nDiaSources,r:diaObjectId")
    assert list(df.columns) == ["r:nDiaSources", "r:diaObjectId"]
    assert sorted(df["r:diaObjectId"]) == sorted(ids)
    r = post(rubin_api, "objects", diaObjectId="ldfksjflkdsjf")
    assert r.data == b"[]" and "ldfksjflkdsjf" in r.headers["Warning"]
    assert post(rubin_api, "objects", diaObjectId="1").data == b"[]"


# -- sources and forced photometry -----------------------------------------------------------------

def test_sources_are_every_diasource_once_newest_first(rubin_api, packets):
    df = frame(rubin_api, "sources", diaObjectId=str(BIG))
    expected = {p["diaSource"]["diaSourceId"] for p in of_object(packets, BIG)}
    expected |= {s["diaSourceId"] for p in of_object(packets, BIG) for s in p["prvDiaSources"] or ()}
    assert sorted(df["r:diaSourceId"]) == sorted(expected)
    mjd = df["r:midpointMjdTai"].to_numpy()
    assert np.all(np.diff(mjd) <= 0)
    assert list(df.columns) == [c.name for c in get_schema("rubin").table("sources").columns()]
    alerts = {p["diaSource"]["diaSourceId"] for p in of_object(packets, BIG)}
    is_alert = df["r:diaSourceId"].isin(alerts)
    assert df.loc[is_alert, "f:fink_broker_version"].notna().all()  # the alert's own copy has Fink's values
    assert df.loc[~is_alert, "f:fink_broker_version"].isna().all()
    assert isinstance(df["r:band"].to_numpy()[0], str) and df["r:psfFlux"].dtype == np.float64


def test_sources_at_one_time_and_column_selection(rubin_api, packets):
    alert = newest(packets, BIG)["diaSource"]
    df = frame(rubin_api, "sources", diaObjectId=str(BIG), midpointMjdTai=alert["midpointMjdTai"],
               columns="r:midpointMjdTai,r:psfFlux")
    assert list(df.columns) == ["r:midpointMjdTai", "r:psfFlux"] and len(df) == 1
    assert df["r:psfFlux"][0] == pytest.approx(alert["psfFlux"], rel=1e-6)


def test_fp_is_the_union_of_the_packets_forced_sources(rubin_api, packets):
    df = frame(rubin_api, "fp", diaObjectId=str(BIG))
    expected = {f["diaForcedSourceId"] for p in of_object(packets, BIG) for f in p["prvDiaForcedSources"] or ()}
    assert len(df) == len(expected) and set(df["r:diaForcedSourceId"]) == expected
    assert list(df.columns) == [c.name for c in get_schema("rubin").table("fp").columns()]


def test_formats_carry_the_same_rows(rubin_api):
    base = frame(rubin_api, "sources", diaObjectId=str(BIG), columns="r:midpointMjdTai,r:psfFlux")
    csv = pd.read_csv(io.BytesIO(post(rubin_api, "sources", diaObjectId=str(BIG), columns="r:midpointMjdTai,r:psfFlux",
                                      **{"output-format": "csv"}).data))
    parquet = pd.read_parquet(io.BytesIO(post(rubin_api, "sources", diaObjectId=str(BIG),
                                              columns="r:midpointMjdTai,r:psfFlux", **{"output-format": "parquet"}).data))
    from astropy.io import votable
    vt = votable.parse(io.BytesIO(post(rubin_api, "sources", diaObjectId=str(BIG), columns="r:midpointMjdTai,r:psfFlux",
                                       **{"output-format": "votable"}).data)).get_first_table().to_table().to_pandas()
    for other in (csv, parquet):
        assert np.allclose(other["r:midpointMjdTai"], base["r:midpointMjdTai"], rtol=0, atol=1e-9)
    assert np.allclose(vt["r_midpointMjdTai"], base["r:midpointMjdTai"], rtol=0, atol=1e-9)


# -- cone searches ---------------------------------------------------------------------------------

def test_conesearch_finds_the_object_nearest_first_within_the_radius(rubin_api, packets):
    src = newest(packets, BIG)["diaSource"]
    df = frame(rubin_api, "conesearch", ra=src["ra"], dec=src["dec"], radius=5)
    assert df["r:diaObjectId"].tolist()[0] == BIG
    assert (df["v:separation_degree"] <= 5 / 3600).all() and df["v:separation_degree"].is_monotonic_increasing
    assert df["r:diaObjectId"].is_unique
    assert df["r:midpointMjdTai"][0] == pytest.approx(src["midpointMjdTai"])  # its newest alert
    wide = frame(rubin_api, "conesearch", ra=src["ra"], dec=src["dec"], radius=3600, n=2)
    assert len(wide) == 2


def test_conesearch_columns_add_fink_mandatory_ones_and_read_other_columns_from_sources(rubin_api, packets):
    src = newest(packets, BIG)["diaSource"]
    df = frame(rubin_api, "conesearch", ra=src["ra"], dec=src["dec"], radius=5, columns="r:diaObjectId,r:apFlux")
    assert list(df.columns) == ["r:diaObjectId", "r:apFlux", "r:ra", "r:dec", "r:midpointMjdTai", "v:separation_degree"]
    assert df["r:apFlux"][0] == pytest.approx(src["apFlux"], rel=1e-6)


def test_conesearch_kind_within_and_across(rubin_api, packets):
    src = newest(packets, BIG)["diaSource"]
    cone = dict(ra=src["ra"], dec=src["dec"], radius=5, columns="r:diaObjectId")
    # first detected months before the night, alerts on the night: across the night, not within it
    across = frame(rubin_api, "conesearch", startdate=NIGHT_MJD, window=1, kind="across", **cone)
    within = post(rubin_api, "conesearch", startdate=NIGHT_MJD, window=1, kind="within", **cone)
    assert across["r:diaObjectId"].tolist() == [BIG] and within.data == b"[]"
    first = min(s["midpointMjdTai"] for p in of_object(packets, BIG) for s in p["prvDiaSources"])
    whole = frame(rubin_api, "conesearch", startdate=first - 1, stopdate=NIGHT_MJD + 1, **cone)
    assert whole["r:diaObjectId"].tolist() == [BIG]
    before = post(rubin_api, "conesearch", startdate=NIGHT_MJD - 30, window=10, kind="across", **cone)
    assert before.data == b"[]"


def test_conesearch_stopdate_is_included_as_in_fink(rubin_api, packets):
    # Fink's LSST documentation: objects "between startdate (included) and stopdate (included)"
    if not hasattr(rubin_api, "application"):
        pytest.skip("reads the query layer in-process")
    from api.access import rubin_store
    from api.queries.rubin.cone import conesearch
    src = newest(packets, BIG)["diaSource"]
    last = src["midpointMjdTai"]
    first = min(s["midpointMjdTai"] for p in of_object(packets, BIG) for s in p["prvDiaSources"])
    with rubin_api.application.app_context():
        store = rubin_store()

        def found(start, stop, kind):
            df = conesearch(store, src["ra"], src["dec"], 5, start, stop, kind, columns=["r:diaObjectId"])
            return df["r:diaObjectId"].tolist() if len(df) else []
        assert found(first - 1, last, "within") == [BIG]       # its newest alert at the stop: within
        assert found(last, last, "across") == [BIG]            # an alert at the stop: across
        assert found(first - 1, last - 1e-6, "within") == []   # the newest alert 0.09 s after the stop
        assert found(last + 1e-6, last + 1, "across") == []    # no alert from the start on


def test_conesearch_sexagesimal_and_empty_sky(rubin_api, packets):
    src = newest(packets, BIG)["diaSource"]
    from astropy.coordinates import SkyCoord
    c = SkyCoord(src["ra"], src["dec"], unit="deg")
    hms = c.ra.to_string(unit="hourangle", sep=":", precision=3)
    dms = c.dec.to_string(sep=":", precision=2, alwayssign=True)
    df = frame(rubin_api, "conesearch", ra=hms, dec=dms, radius=5, columns="r:diaObjectId")
    assert BIG in df["r:diaObjectId"].tolist()
    assert post(rubin_api, "conesearch", ra=0, dec=80, radius=1).data == b"[]"


# -- cutouts, solar system, tags, statistics, schema, resolver -----------------------------------

def test_cutouts_array_png_fits_of_the_newest_alert(rubin_api, packets):
    p = newest(packets, BIG)
    r = post(rubin_api, "cutouts", diaObjectId=str(BIG), kind="Science", **{"output-format": "array"})
    with fits.open(io.BytesIO(p["cutoutScience"])) as h:
        expected = np.asarray(h[0].data, dtype=float)
    assert np.allclose(np.array(r.get_json()["b:cutoutScience"], dtype=float), expected, equal_nan=True)
    allk = post(rubin_api, "cutouts", diaObjectId=str(BIG), kind="All", **{"output-format": "array"}).get_json()
    assert set(allk) == {"b:cutoutScience", "b:cutoutTemplate", "b:cutoutDifference"}
    png = post(rubin_api, "cutouts", diaObjectId=str(BIG), kind="Difference", **{"output-format": "PNG"})
    assert png.content_type == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    fit = post(rubin_api, "cutouts", diaObjectId=str(BIG), kind="Template", **{"output-format": "FITS"})
    assert fit.data[:6] == b"SIMPLE"
    older = min(of_object(packets, BIG), key=lambda q: q["diaSource"]["midpointMjdTai"])
    r = post(rubin_api, "cutouts", diaObjectId=str(BIG), diaSourceId=older["diaSource"]["diaSourceId"],
             **{"output-format": "array"})
    with fits.open(io.BytesIO(older["cutoutScience"])) as h:
        assert np.allclose(np.array(r.get_json()["b:cutoutScience"], dtype=float), np.asarray(h[0].data, float),
                           equal_nan=True)
    bad = rubin_api.post(f"{LSST}/cutouts", json={"diaObjectId": str(BIG), "kind": "All", "output-format": "PNG"})
    assert bad.status_code == 400 and "array" in bad.get_json()["text"]


def test_sso_by_designation_packed_name_and_ssobjectid(rubin_api, packets):
    sso = [p for p in packets if not p["diaSource"]["diaObjectId"]]
    name = sso[0]["ssSource"]["designation"] if sso[0].get("ssSource") and sso[0]["ssSource"].get("designation") \
        else None
    need(name is not None, "no designation in the real solar-system alerts")
    expected = [p for p in sso if (p.get("ssSource") or {}).get("designation") == name]
    df = frame(rubin_api, "sso", n_or_d=name)
    assert len(df) == len(expected) and (df["f:sso_name"] == name).all()
    assert set(df["r:diaSourceId"]) == {p["diaSource"]["diaSourceId"] for p in expected}
    ssid = str(df["r:ssObjectId"][0])
    assert len(frame(rubin_api, "sso", n_or_d=ssid)) == len(expected)
    packed = df["r:mpcDesignation"][0]
    assert len(frame(rubin_api, "sso", n_or_d=packed, columns="r:midpointMjdTai")) == len(expected)
    r = rubin_api.post(f"{LSST}/sso", json={"n_or_d": name, "withEphem": True})
    assert r.status_code == 400 and "Miriade" in r.get_json()["text"]


def test_tags_list_and_latest_alerts_of_a_tag(rubin_api, packets):
    assert rubin_api.get(f"{LSST}/tags").get_json() == TAGS
    df = frame(rubin_api, "tags", tag="cataloged", n=5, columns="r:diaSourceId,f:tags,r:midpointMjdTai")
    assert len(df) == 5 and all("cataloged" in t for t in df["f:tags"])
    assert df["r:midpointMjdTai"].is_monotonic_decreasing
    r = rubin_api.post(f"{LSST}/tags", json={"tag": "nosuchtag"})
    assert r.status_code == 400 and "cataloged" in r.get_json()["text"]


def test_statistics_and_its_schema(rubin_api):
    df = frame(rubin_api, "statistics", date="2026")
    assert df["f:night"].astype(str).tolist() == ["20260310"] and df["f:alerts"][0] == 107
    assert frame(rubin_api, "statistics", date="2025").empty
    schema = frame(rubin_api, "statistics", schema=True)
    assert "f:alerts" in schema["schema"].tolist()


def test_schema_lists_the_columns_each_route_serves(rubin_api):
    body = rubin_api.get(f"{LSST}/schema").get_json()  # default: sources
    assert body["Rubin original fields (r:)"]["psfFlux"]["type"] == "float32"
    assert "xm_simbad_otype" in body["Fink added values (f:)"]
    objects = rubin_api.post(f"{LSST}/schema", json={"endpoint": "/api/v1/objects"}).get_json()
    assert "nDiaSources" in objects["Rubin original fields (r:)"]
    assert "psfFlux" not in objects["Rubin original fields (r:)"]
    r = rubin_api.post(f"{LSST}/schema", json={"endpoint": "/api/v1/nosuch"})
    assert r.status_code == 400 and "/api/v1/sources" in r.get_json()["text"]


def test_resolver_ssodnet_both_ways_and_simbad_reverse(rubin_api, packets):
    sso = next(p for p in packets if not p["diaSource"]["diaObjectId"] and (p.get("ssSource") or {}).get("designation"))
    name = sso["ssSource"]["designation"]
    fwd = frame(rubin_api, "resolver", resolver="ssodnet", name_or_id=name)
    assert set(fwd.columns) >= {"r:ssObjectId", "r:mpcDesignation"}
    back = frame(rubin_api, "resolver", resolver="ssodnet", name_or_id=str(fwd["r:ssObjectId"][0]), reverse=True)
    assert back["r:designation"][0] == name
    simbad = frame(rubin_api, "resolver", resolver="simbad", name_or_id=str(BIG), reverse=True)
    assert simbad["r:diaObjectId"].tolist() == [BIG]
    r = rubin_api.post(f"{LSST}/resolver", json={"resolver": "simbad", "name_or_id": "M31"})
    assert r.status_code == 400 and "Sesame" in r.get_json()["text"]


# -- errors, unknown parameters ------------------------------------------------------------------

def test_errors_have_one_shape_and_unknown_parameters_are_ignored(rubin_api):
    r = rubin_api.post(f"{LSST}/objects", json={})
    assert r.status_code == 400 and r.get_json()["text"] == r.get_json()["message"]
    assert "diaObjectId" in r.get_json()["text"]
    r = rubin_api.post(f"{LSST}/objects", json={"diaObjectId": str(BIG), "colums": "r:ra"})
    assert r.status_code == 200 and "colums" in r.headers["Warning"] and "columns" in r.headers["Warning"]
    r = rubin_api.post(f"{LSST}/sources", json={"diaObjectId": str(BIG), "columns": "i:magpsf"})
    assert r.status_code == 400 and "i:magpsf" in r.get_json()["text"]
    r = rubin_api.post(f"{LSST}/conesearch", json={"ra": 1, "dec": 1, "radius": 36000})
    assert r.status_code == 400 and "18000" in r.get_json()["text"]
    assert rubin_api.get(f"{LSST}/nosuch").status_code == 404


# -- fits ----------------------------------------------------------------------------------------

def test_fits_take_rubin_fluxes_as_magnitudes_and_forced_photometry(rubin_api):
    sources = frame(rubin_api, "sources", diaObjectId=str(BIG), columns="r:midpointMjdTai,r:scienceFlux,r:scienceFluxErr")
    fp = frame(rubin_api, "fp", diaObjectId=str(BIG), columns="r:midpointMjdTai,r:scienceFlux,r:scienceFluxErr")
    usable = lambda d: d[(d["r:scienceFlux"] > 0) & (d["r:scienceFluxErr"] > 0)]  # noqa: E731
    seen = set(np.round(sources["r:midpointMjdTai"], 6))
    extra = usable(fp)[~np.round(usable(fp)["r:midpointMjdTai"], 6).isin(seen)]
    alone = rubin_api.get(f"{LSST}/fit/varstar", query_string={"diaObjectId": str(BIG)}).get_json()
    both = rubin_api.get(f"{LSST}/fit/varstar", query_string={"diaObjectId": str(BIG), "withfp": "true"}).get_json()
    assert alone["n_points"] == len(usable(sources))
    assert both["n_points"] == len(usable(sources)) + len(extra)
    sn = rubin_api.get(f"{LSST}/fit/supernova", query_string={"diaObjectId": str(BIG)})
    assert sn.status_code == 200 and sn.get_json()["bands"]
    missing = rubin_api.get(f"{LSST}/fit/mulens", query_string={"diaObjectId": "1"})
    assert missing.status_code == 404 and "diaObjectId 1" in missing.get_json()["text"]


# -- a server without Rubin tables ---------------------------------------------------------------

def test_without_rubin_tables_the_rubin_routes_name_the_command_and_ztf_answers(tmp_path):
    if API_URL:
        pytest.skip("in-process only: needs a store without Rubin tables")
    from api import create_api_app
    from store import open_store
    cfg = make_config("embedded", tmp_path)
    open_store(cfg, schema=get_schema(), create=True).close()
    client = create_api_app(cfg).test_client()
    r = client.post(f"{LSST}/objects", json={"diaObjectId": "1"})
    assert r.status_code == 503
    assert "python -m hbase_schema create --survey rubin" in r.get_json()["text"]
    assert client.post("/api/v1/objects", json={"objectId": "ZTF23abjexnw"}).status_code == 200


def test_openapi_and_the_docs_page_cover_every_rubin_route(rubin_api):
    from api import rubin_endpoints as R
    spec = json.loads(rubin_api.get("/api/v1/openapi.json").data)
    for ep in R.ALL:
        ops = spec["paths"][f"{LSST}/{ep.name}"]
        assert set(ops) == {"get", "post"}
        names = {p["name"] for p in ops["get"]["parameters"]}
        assert names == {p.name for p in ep.params} | {"output-format"}
    page = rubin_api.get("/api").data.decode()
    assert all(f"{LSST}/{ep.name}</h2>" in page for ep in R.ALL)


def test_rubin_mulens_fit_of_a_thousand_points_is_binned_and_returns_warnings(rubin_api):
    r = rubin_api.get(f"{LSST}/fit/mulens", query_string={"diaObjectId": str(BIG), "withfp": "true"})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    res = r.get_json()
    assert res["n_measured"] > 1000 and res["binned"] and res["n_points"] < 100
    assert res["time_unit"] == "JD" and "binned per band and night" in res["method"]
    # not a microlensing event: the fit says it cannot be trusted
    assert {w["code"] for w in res["warnings"]} & {"poor_fit", "parameter_at_bound", "degenerate_parameters"}
    sn = rubin_api.get(f"{LSST}/fit/supernova", query_string={"diaObjectId": str(BIG)}).get_json()
    assert isinstance(sn["warnings"], list) and sn["time_unit"] == "JD"
