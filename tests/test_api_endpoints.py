"""Every endpoint of the REST API, every format, against the real alerts of ../shared/data.

Runs in-process on each backend, or against a deployed server with
``./run_tests.sh --url URL`` (expectations come from the source files, not the store).
"""
import gzip
import io
import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from astropy.io import fits
from astropy.io.votable import parse_single_table
from PIL import Image

from realdata import by_object, source_alerts

OBJ = "ZTF18acaxelp"  # two alerts in the real night, with upper limits and bad-quality points


def rows(resp):
    assert resp.status_code == 200, resp.data[:300]
    return resp.get_json()


def test_objects_returns_every_alert_newest_first(api):
    expected = by_object()[OBJ]
    got = rows(api.get("/api/v1/objects", query_string={"objectId": OBJ}))
    assert sorted(r["i:candid"] for r in got) == sorted(expected)
    assert [r["i:jd"] for r in got] == sorted((r["i:jd"] for r in got), reverse=True)  # as Fink answers
    first = got[0]
    assert {"i:objectId", "i:ra", "i:magpsf", "d:cdsxmatch", "v:classification", "v:lastdate"} <= set(first)
    src = expected[first["i:candid"]]["candidate"]
    assert first["i:magpsf"] == pytest.approx(src["magpsf"], rel=1e-6)
    assert first["i:ra"] == src["ra"]


def test_objects_column_selection_and_multi_object(api):
    ids = ["ZTF18acaxelp", "ZTF23abjexnw", "ZTF18acaxelp"]
    got = rows(api.get("/api/v1/objects", query_string={"objectId": ",".join(ids), "columns": "i:objectId,i:jd"}))
    assert all(set(r) == {"i:objectId", "i:jd"} for r in got)
    assert [r["i:jd"] for r in got] == sorted((r["i:jd"] for r in got), reverse=True)  # Fink: newest first
    assert len(got) == len(by_object()["ZTF18acaxelp"]) + len(by_object()["ZTF23abjexnw"])


def test_objects_with_upper_limits_tags_every_row(api):
    got = rows(api.get("/api/v1/objects", query_string={"objectId": "ZTF26aamcffm", "withupperlim": "true"}))
    tags = {r["d:tag"] for r in got}
    assert tags == {"valid", "upperlim", "badquality"}
    for r in got:
        if r["d:tag"] == "upperlim":
            assert r["i:candid"] == -1 and r["i:diffmaglim"] > 0
    valid = [r for r in got if r["d:tag"] == "valid"]
    bad = [r for r in got if r["d:tag"] == "badquality"]
    assert not [r for r in bad if round(r["i:jd"], 6) in {round(v["i:jd"], 6) for v in valid}]
    assert not [r for r in bad if r["i:candid"] in {v["i:candid"] for v in valid}]
    assert all(isinstance(r["i:candid"], int) for r in got)  # 19-digit ids keep every digit


def test_objects_with_cutouts_gives_63x63_arrays(api):
    got = rows(api.get("/api/v1/objects", query_string={"objectId": OBJ, "withcutouts": "True",
                                                        "cutout-kind": "All", "columns": "i:candid,b:cutoutScience_stampData,b:cutoutDifference_stampData"}))
    for r in got:
        assert np.array(r["b:cutoutScience_stampData"], dtype=float).shape == (63, 63)
        assert np.array(r["b:cutoutDifference_stampData"], dtype=float).shape == (63, 63)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "votable"])
def test_every_format_parses_back(api, fmt):
    resp = api.get("/api/v1/objects", query_string={"objectId": OBJ, "output-format": fmt,
                                                    "columns": "i:objectId,i:jd,i:magpsf,i:fid"})
    assert resp.status_code == 200
    if fmt == "csv":
        assert resp.content_type.startswith("text/csv")
        df = pd.read_csv(io.BytesIO(resp.data))
        cols = ["i:objectId", "i:jd", "i:magpsf", "i:fid"]
    elif fmt == "parquet":
        assert resp.content_type.startswith("application/vnd.apache.parquet")
        df = pq.read_table(io.BytesIO(resp.data)).to_pandas()
        cols = ["i:objectId", "i:jd", "i:magpsf", "i:fid"]
    else:
        assert "votable" in resp.content_type
        df = parse_single_table(io.BytesIO(resp.data)).to_table().to_pandas()
        cols = ["i_objectId", "i_jd", "i_magpsf", "i_fid"]
    assert list(df.columns) == cols
    assert len(df) == len(by_object()[OBJ])
    assert set(df[cols[0]].astype(str)) == {OBJ}


def test_post_json_body_equals_get(api):
    params = {"objectId": OBJ, "columns": "i:candid,i:jd"}
    assert rows(api.post("/api/v1/objects", json=params)) == rows(api.get("/api/v1/objects", query_string=params))


def _position(oid):
    c = next(iter(by_object()[oid].values()))["candidate"]
    return c["ra"], c["dec"]


def test_conesearch_in_degrees_and_sexagesimal(api):
    oid = "ZTF23abjexnw"
    ra, dec = _position(oid)
    deg = rows(api.get("/api/v1/conesearch", query_string={"ra": ra, "dec": dec, "radius": 2,
                                                           "columns": "i:objectId,v:separation_degree"}))
    assert oid in {r["i:objectId"] for r in deg}
    seps = [r["v:separation_degree"] for r in deg]
    assert seps == sorted(seps) and max(seps) <= 2 / 3600
    h = ra / 15
    hh, mm = int(h), int((h - int(h)) * 60)
    ss = ((h - hh) * 60 - mm) * 60
    sign, d = ("-" if dec < 0 else "+"), abs(dec)
    dd, dm = int(d), int((d - int(d)) * 60)
    ds = ((d - dd) * 60 - dm) * 60
    for ra_text, dec_text in [(f"{hh}:{mm}:{ss:.4f}", f"{sign}{dd}:{dm}:{ds:.4f}"),
                              (f"{hh} {mm} {ss:.4f}", f"{sign}{dd} {dm} {ds:.4f}"),
                              (f"{hh}h{mm}m{ss:.4f}s", f"{sign}{dd}d{dm}m{ds:.4f}s")]:
        sexa = rows(api.get("/api/v1/conesearch", query_string={"ra": ra_text, "dec": dec_text, "radius": 2,
                                                                 "columns": "i:objectId,v:separation_degree"}))
        assert {r["i:objectId"] for r in sexa} == {r["i:objectId"] for r in deg}


def test_conesearch_gives_the_latest_alert_of_each_object_once(api):
    ra, dec = _position("ZTF18acaxelp")
    got = rows(api.get("/api/v1/conesearch", query_string={"ra": ra, "dec": dec, "radius": 3600,
                                                           "columns": "i:objectId,i:jd"}))
    ids = [r["i:objectId"] for r in got]
    assert len(ids) == len(set(ids)) > 1
    from api.queries import angular_distance
    latest = {}
    for a in source_alerts():  # the newest alert of each object among those inside the cone
        c = a["candidate"]
        if angular_distance(ra, dec, c["ra"], c["dec"]) <= 1.0:
            latest[a["objectId"]] = max(latest.get(a["objectId"], 0), c["jd"])
    assert set(ids) == set(latest)
    for r in got:
        assert r["i:jd"] == pytest.approx(latest[r["i:objectId"]], abs=1e-6)
    assert len(rows(api.get("/api/v1/conesearch", query_string={"ra": ra, "dec": dec, "radius": 3600, "n": 3}))) == 3


def test_conesearch_dates_filter_on_the_first_detection(api):
    ra, dec = _position("ZTF18acaxelp")
    base = {"ra": ra, "dec": dec, "radius": 3600, "columns": "i:objectId,i:jdstarthist"}
    everything = rows(api.get("/api/v1/conesearch", query_string=base))
    starts = sorted(r["i:jdstarthist"] for r in everything)
    cut = starts[len(starts) // 2]
    late = rows(api.get("/api/v1/conesearch", query_string={**base, "startdate": cut}))
    assert late and all(r["i:jdstarthist"] >= cut for r in late)
    early = rows(api.get("/api/v1/conesearch", query_string={**base, "startdate": starts[0] - 1, "window": cut - starts[0] + 1}))
    assert all(r["i:jdstarthist"] < cut for r in early)
    assert len(late) + len(early) == len(everything)


def test_explorer_groups(api):
    by_id = rows(api.get("/api/v1/explorer", query_string={"objectId": OBJ, "columns": "i:candid"}))
    assert sorted(r["i:candid"] for r in by_id) == sorted(by_object()[OBJ])
    ra, dec = _position(OBJ)
    cone = rows(api.get("/api/v1/explorer", query_string={"ra": ra, "dec": dec, "radius": 2, "columns": "i:objectId"}))
    assert OBJ in {r["i:objectId"] for r in cone}
    jd = next(iter(by_object()[OBJ].values()))["candidate"]["jd"]
    window = rows(api.get("/api/v1/explorer", query_string={"startdate": jd - 1 / 1440, "window": 2,
                                                            "columns": "i:objectId,i:jd"}))
    assert OBJ in {r["i:objectId"] for r in window}
    assert all(jd - 1 / 1440 <= r["i:jd"] < jd + 1 / 1440 for r in window)


def test_explorer_date_group_takes_a_stopdate_of_any_length(api):
    """Nocturne's addition (the portal's date search): [startdate, stopdate) instead of a
    window in minutes, beyond the 180 minutes a window may span; n bounds the answer."""
    everything = rows(api.get("/api/v1/explorer", query_string={"startdate": "2023-10-18", "stopdate": "2023-10-19",
                                                                "n": 10000, "columns": "i:candid,i:jd,i:objectId"}))
    night = {r["candid"] for r in source_alerts() if 2460235.5 <= r["candidate"]["jd"] < 2460236.5}
    assert {r["i:candid"] for r in everything} == night and len(night) > 100
    first = rows(api.get("/api/v1/explorer", query_string={"startdate": "2023-10-18", "stopdate": "2023-10-19",
                                                           "n": 50, "columns": "i:candid,i:jd"}))
    oldest = sorted(everything, key=lambda r: (r["i:jd"], r["i:objectId"], r["i:candid"]))[:50]  # the index's order
    assert sorted(r["i:candid"] for r in first) == sorted(r["i:candid"] for r in oldest)
    refused = api.get("/api/v1/explorer", query_string={"startdate": "2023-10-18", "window": 1440})
    assert refused.status_code == 400 and "at most 180" in refused.get_json()["message"]


def test_latests_newest_first_for_a_class(api):
    got = rows(api.get("/api/v1/latests", query_string={"class": "Solar System MPC", "n": 5,
                                                        "columns": "i:objectId,i:jd,v:classification"}))
    assert len(got) == 5
    assert [r["i:jd"] for r in got] == sorted((r["i:jd"] for r in got), reverse=True)
    assert {r["v:classification"] for r in got} == {"Solar System MPC"}
    sn = rows(api.get("/api/v1/latests", query_string={"class": "SN candidate", "n": 100, "startdate": "2019-11-01"}))
    assert sn and {r["v:classification"] for r in sn} == {"SN candidate"}


def test_sso_by_number(api):
    with_sso = [r for r in source_alerts() if r["candidate"].get("ssnamenr") not in (None, "null")]
    name = with_sso[0]["candidate"]["ssnamenr"]
    expected = {r["candid"] for r in with_sso if r["candidate"]["ssnamenr"] == name}
    got = rows(api.get("/api/v1/sso", query_string={"n_or_d": name, "columns": "i:candid,i:ssnamenr"}))
    assert {r["i:candid"] for r in got} == expected


def test_cutouts_png_fits_and_array(api):
    alert = max(by_object()[OBJ].values(), key=lambda r: r["candidate"]["jd"])
    png = api.get("/api/v1/cutouts", query_string={"objectId": OBJ, "kind": "Difference", "stretch": "log",
                                                   "colormap": "viridis"})
    assert png.status_code == 200 and png.content_type == "image/png"
    assert Image.open(io.BytesIO(png.data)).size == (63, 63)
    fit = api.get("/api/v1/cutouts", query_string={"objectId": OBJ, "candid": alert["candid"], "output-format": "FITS"})
    assert fit.status_code == 200
    expected = fits.getdata(io.BytesIO(gzip.decompress(alert["cutoutScience"]["stampData"])))
    assert np.array_equal(fits.getdata(io.BytesIO(fit.data)), expected, equal_nan=True)
    arrays = rows(api.get("/api/v1/cutouts", query_string={"objectId": OBJ, "kind": "All", "output-format": "array"}))
    assert set(arrays) == {"b:cutoutScience_stampData", "b:cutoutTemplate_stampData", "b:cutoutDifference_stampData"}
    assert np.array(arrays["b:cutoutTemplate_stampData"], dtype=float).shape == (63, 63)


def test_xmatch_finds_each_source(api):
    picks = ["ZTF18acaxelp", "ZTF23abjexnw"]
    lines = ["RA,Dec,ID"] + [f"{_position(o)[0]},{_position(o)[1]},{o}" for o in picks] + ["10.0,-20.0,nothing"]
    got = rows(api.post("/api/v1/xmatch", json={"catalog": "\n".join(lines), "header": "RA,Dec,ID", "radius": 1.5,
                                                "columns": "i:objectId"}))
    matched = {(r["ID"], r["i:objectId"]) for r in got}
    for o in picks:
        assert (o, o) in matched
    assert not [r for r in got if r["ID"] == "nothing"]
    assert all({"RA", "Dec", "ID", "i:objectId", "v:separation_degree"} <= set(r) for r in got)


def test_classes_schema_statistics_random_health(api):
    classes = rows(api.get("/api/v1/classes"))
    assert "SN candidate" in classes["Fink classifiers"]
    schema = rows(api.get("/api/v1/schema"))
    fields = schema["ZTF original fields (i:)"]
    assert fields["magpsf"]["type"] == "float32" and fields["magpsf"]["doc"]
    assert schema["Fink on-the-fly added values (v:)"]["classification"]["description"]
    old = rows(api.get("/api/v1/columns"))["fields"]  # the older portal's shape
    assert old["Fink added values (v:)"] == schema["Fink on-the-fly added values (v:)"]
    assert old["ZTF original fields (i:)"] == fields
    stats = rows(api.get("/api/v1/statistics", query_string={"date": "20231018"}))
    assert len(stats) == 1 and stats[0]["basic:sci"] == 558  # distinct alerts (561 packets, 3 repeats)
    assert stats[0]["basic:raw"] == 561 and stats[0]["basic:duplicates"] == 3
    assert len(rows(api.get("/api/v1/statistics", query_string={"date": "2024"}))) == 12
    assert len(rows(api.get("/api/v1/statistics"))) == 14
    a = rows(api.get("/api/v1/random", query_string={"n": 4, "seed": 7, "columns": "i:candid"}))
    b = rows(api.get("/api/v1/random", query_string={"n": 4, "seed": 7, "columns": "i:candid"}))
    assert a == b and len({r["i:candid"] for r in a}) == 4
    health = rows(api.get("/api/v1/health"))
    assert health["status"] == "ok" and health["schema_version"] == 1


def test_openapi_lists_every_endpoint_with_get_and_post(api):
    spec = rows(api.get("/api/v1/openapi.json"))
    assert spec["openapi"].startswith("3.")
    for name in ["objects", "conesearch", "explorer", "latests", "sso", "cutouts", "xmatch", "classes", "schema",
                 "columns", "statistics", "random", "health"]:
        assert {"get", "post"} <= set(spec["paths"][f"/api/v1/{name}"]), name
    docs = api.get("/api")
    assert docs.status_code == 200 and b"/api/v1/conesearch" in docs.data


def test_float32_values_print_as_published(api):
    got = rows(api.get("/api/v1/objects", query_string={"objectId": OBJ, "columns": "i:magpsf"}))
    for r in got:
        assert len(repr(r["i:magpsf"])) <= 10 and not math.isnan(r["i:magpsf"])


@pytest.mark.parametrize("kind", ["varstar", "mulens", "supernova"])
def test_fits_refuse_a_two_point_light_curve_with_422(api, kind):
    resp = api.get(f"/api/v1/fit/{kind}", query_string={"objectId": OBJ})
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["status"] == "error" and "cannot fit" in body["message"]
    assert api.get(f"/api/v1/fit/{kind}", query_string={"objectId": "ZTF00nothing"}).status_code == 404


HISTORY_OBJ = "ZTF26aaaldio"  # one alert in the Fink sample, ~50 earlier detections in its history


@pytest.mark.parametrize("kind", ["mulens", "supernova"])
def test_fits_use_the_history_and_return_warnings(api, kind):
    path = f"/api/v1/fit/{kind}"
    alone = api.get(path, query_string={"objectId": HISTORY_OBJ, "history": "none"})
    assert alone.status_code == 422  # one alert cannot be fitted
    good = api.get(path, query_string={"objectId": HISTORY_OBJ})  # default: good earlier detections
    every = api.get(path, query_string={"objectId": HISTORY_OBJ, "history": "all"})
    assert good.status_code == every.status_code == 200, good.get_data(as_text=True)[:300]
    g, a = good.get_json(), every.get_json()
    points = (lambda r: r["n_measured"]) if kind == "mulens" else (
        lambda r: sum(b["n_points"] for b in r["bands"].values()))
    assert 10 <= points(g) < points(a)
    for res in (g, a):
        assert res["time_unit"] == "JD" and isinstance(res["warnings"], list)
        assert all(set(w) == {"code", "message"} and w["code"] and w["message"] for w in res["warnings"])
    bad = api.get(path, query_string={"objectId": HISTORY_OBJ, "history": "best"})
    assert bad.status_code == 400 and "history" in bad.get_json()["message"]
