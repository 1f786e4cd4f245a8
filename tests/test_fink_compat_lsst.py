"""Fink-LSST clients against /lsst: the request shapes of Fink's own LSST route tests
(astrolabsoftware/fink-object-api, apps/routes/v1/lsst/*/test.py: ``requests.post(json=...)``
then ``pd.read_json(io.BytesIO(r.content))``, CSV, Parquet, VOTable), with the ids and sky
positions of the real Rubin night; asserting the columns, dtypes, order and shapes such a
client parses."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import votable

from conftest import need, shared_data
from rubin_inputs import parquet_files, records

APIURL = "/lsst"  # a Fink script's base URL, https://api.lsst.fink-portal.org, becomes http://HOST/lsst


@pytest.fixture(scope="module")
def night():
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    recs = records(parquet_files())
    alerts = [r for r in recs if r["diaSource"]["diaObjectId"]]
    ids = list(dict.fromkeys(str(r["diaSource"]["diaObjectId"]) for r in alerts))
    return {"recs": recs, "ids": ids, "alert": alerts[0]["diaSource"]}


def read(r, output_format="json") -> pd.DataFrame:
    assert r.status_code == 200, r.data[:300]
    content = r.data
    if output_format == "json":
        return pd.read_json(io.BytesIO(content))
    if output_format == "csv":
        return pd.read_csv(io.BytesIO(content))
    if output_format == "parquet":
        return pd.read_parquet(io.BytesIO(content))
    return votable.parse(io.BytesIO(content)).get_first_table().to_table().to_pandas()


def get_an_object(client, route, oid, output_format="json", columns="*", **extra):
    payload = {"diaObjectId": oid, "columns": columns, "output-format": output_format, **extra}
    return read(client.post(f"{APIURL}/api/v1/{route}", json=payload), output_format)


def conesearch(client, ra, dec, radius=5.0, output_format="json", **extra):
    payload = {"ra": ra, "dec": dec, "radius": radius, "output-format": output_format, **extra}
    return read(client.post(f"{APIURL}/api/v1/conesearch", json=payload), output_format)


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_objects_single(rubin_api, night, fmt):
    pdf = get_an_object(rubin_api, "objects", night["ids"][0], fmt)
    assert len(pdf) == 1
    assert pdf.columns[0] == "r:diaObjectId" and str(pdf["r:diaObjectId"][0]) == night["ids"][0]
    # integers: int64, or nullable Int64 from Parquet where a column has gaps (Fink types its integers Int64)
    assert pd.api.types.is_integer_dtype(pdf["r:diaObjectId"]) and pdf["r:ra"].dtype == np.float64


def test_objects_column_selection_bad_id_and_several(rubin_api, night):
    pdf = get_an_object(rubin_api, "objects", night["ids"][0], columns="r:nDiaSources,r:firstDiaSourceMjdTai")
    assert list(pdf.columns) == ["r:nDiaSources", "r:firstDiaSourceMjdTai"]
    assert get_an_object(rubin_api, "objects", "ldfksjflkdsjf").empty
    oids = night["ids"][:3]
    pdf = get_an_object(rubin_api, "objects", ",".join(oids))
    assert len(np.unique(pdf.groupby("r:diaObjectId").count()["r:ra"])) >= 1
    assert pdf["r:diaObjectId"].nunique() == 3
    assert sum(len(get_an_object(rubin_api, "objects", o)) for o in oids) == len(pdf)


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_sources_single_and_formatting(rubin_api, night, fmt):
    pdf = get_an_object(rubin_api, "sources", night["ids"][0], fmt)
    assert not pdf.empty
    assert isinstance(pdf["r:band"].to_numpy()[0], str)
    assert isinstance(pdf["r:psfFlux"].to_numpy()[0], np.double)
    assert np.all(pdf["r:midpointMjdTai"].to_numpy() > 0)
    assert pd.api.types.is_integer_dtype(pdf["r:diaSourceId"]) and pdf["r:midpointMjdTai"].is_monotonic_decreasing


def test_sources_with_date_columns_bad_id_and_several(rubin_api, night):
    alert = night["alert"]
    pdf = get_an_object(rubin_api, "sources", str(alert["diaObjectId"]), midpointMjdTai=alert["midpointMjdTai"])
    assert len(pdf) == 1
    pdf = get_an_object(rubin_api, "sources", night["ids"][0], columns="r:midpointMjdTai,r:psfFlux")
    assert len(pdf.columns) == 2
    assert get_an_object(rubin_api, "sources", "ldfksjflkdsjf").empty
    oids = night["ids"][:2]
    pdf = get_an_object(rubin_api, "sources", ",".join(oids))
    assert "r:diaObjectId" in pdf.columns
    assert len(pdf.groupby("r:diaObjectId").count()["r:ra"]) == 2
    assert sum(len(get_an_object(rubin_api, "sources", o)) for o in oids) == len(pdf)


def test_fp_shapes(rubin_api, night):
    pdf = get_an_object(rubin_api, "fp", night["ids"][0])
    assert not pdf.empty and pdf["r:diaForcedSourceId"].dtype == np.int64
    assert isinstance(pdf["r:band"].to_numpy()[0], str) and pdf["r:psfFlux"].dtype == np.float64
    assert len(get_an_object(rubin_api, "fp", night["ids"][0], columns="r:midpointMjdTai,r:psfFlux").columns) == 2


def test_conesearch_simple_columns_and_empty(rubin_api, night):
    ra0, dec0, radius = night["alert"]["ra"], night["alert"]["dec"], 5
    pdf = conesearch(rubin_api, ra0, dec0, radius)
    assert not pdf.empty
    sep = SkyCoord(ra0, dec0, unit="deg").separation(
        SkyCoord(pdf["r:ra"].to_numpy()[0], pdf["r:dec"].to_numpy()[0], unit="deg")).degree * 3600
    assert sep <= radius
    pdf = conesearch(rubin_api, ra0, dec0, columns="r:diaObjectId")
    # specified fields, plus mandatory r:ra, r:dec, r:midpointMjdTai plus computed v:separation_degree
    assert len(pdf.columns) == 1 + 4
    assert conesearch(rubin_api, 0, 80, 1).empty


def test_conesearch_dates_and_coordinates(rubin_api, night):
    ra0, dec0 = night["alert"]["ra"], night["alert"]["dec"]
    c = SkyCoord(ra0, dec0, unit="deg")
    pdf0 = conesearch(rubin_api, ra0, dec0, columns="r:diaObjectId")
    for ra, dec in ([c.ra.to_string(unit="hourangle", precision=3), c.dec.to_string(precision=2)],
                    [c.ra.to_string(unit="hourangle", sep=" ", precision=3), c.dec.to_string(sep=" ", precision=2)],
                    [c.ra.to_string(unit="hourangle", sep=":", precision=3), c.dec.to_string(sep=":", precision=2)]):
        assert len(conesearch(rubin_api, ra, dec, columns="r:diaObjectId")) == len(pdf0)
    pdf3 = conesearch(rubin_api, ra0, dec0, radius=10, startdate="2026-03-09 10:00:00", window="2")
    pdf4 = conesearch(rubin_api, ra0, dec0, radius=10, startdate="2026-03-09 10:00:00", stopdate="2026-03-11 10:00:00")
    assert pdf3.equals(pdf4)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "votable"])
def test_conesearch_various_outputs(rubin_api, night, fmt):
    ra0, dec0 = night["alert"]["ra"], night["alert"]["dec"]
    pdf1 = conesearch(rubin_api, ra0, dec0)
    pdf2 = conesearch(rubin_api, ra0, dec0, output_format=fmt)
    cols2 = ["r:ra", "r:dec"] if fmt != "votable" else ["r_ra", "r_dec"]
    assert np.all(np.isclose(pdf1[["r:ra", "r:dec"]], pdf2[cols2]))


def test_bad_radius_and_bad_coordinates_answer_fink_text(rubin_api):
    r = rubin_api.post(f"{APIURL}/api/v1/conesearch", json={"ra": 1, "dec": 1, "radius": 36000})
    assert r.status_code == 400 and r.get_json()["status"] == "error" and "radius" in r.get_json()["text"]
    r = rubin_api.post(f"{APIURL}/api/v1/conesearch", json={"ra": "kfdlkj", "dec": "lkfdjf", "radius": 5})
    assert r.status_code == 400 and "kfdlkj" in r.get_json()["text"]


def test_cutouts_shapes(rubin_api, night):
    oid = night["ids"][0]
    r = rubin_api.post(f"{APIURL}/api/v1/cutouts", json={"diaObjectId": oid, "kind": "Science",
                                                          "output-format": "array"})
    data = np.array(r.get_json()["b:cutoutScience"])
    assert data.ndim == 2 and data.shape[0] > 10
    r = rubin_api.post(f"{APIURL}/api/v1/cutouts", json={"diaObjectId": oid, "kind": "Science"})
    assert r.status_code == 200 and r.content_type == "image/png"  # Fink's default: PNG


def test_tags_statistics_sso_shapes(rubin_api, night):
    tags = rubin_api.get(f"{APIURL}/api/v1/tags").get_json()
    assert isinstance(tags, dict) and "cataloged" in tags
    pdf = read(rubin_api.post(f"{APIURL}/api/v1/tags", json={"tag": "cataloged", "n": 3}))
    assert len(pdf) == 3 and "r:diaObjectId" in pdf.columns
    pdf = read(rubin_api.post(f"{APIURL}/api/v1/statistics", json={"date": "20260310"}))
    assert pdf["f:night"].astype(str).tolist() == ["20260310"] and pdf["f:alerts"].dtype == np.int64
    sso = next(r for r in night["recs"] if (r.get("ssSource") or {}).get("designation"))["ssSource"]["designation"]
    pdf = read(rubin_api.post(f"{APIURL}/api/v1/sso", json={"n_or_d": sso}))
    assert not pdf.empty and {"r:mpcDesignation", "f:sso_name", "r:midpointMjdTai"} <= set(pdf.columns)


def fields(schema: dict) -> set:
    """Fink's schema test: the categories holding r: and f:, each field named with its prefix."""
    return {prefix + k for prefix in ("r:", "f:") for cat, body in schema.items() if prefix in cat for k in body}


def test_schema_has_no_holes(rubin_api, night):
    """Fink's check_schema_endpoint: every field a route answers is in /api/v1/schema for it."""
    oid = night["ids"][0]
    alert = night["alert"]
    sso = next(r for r in night["recs"] if (r.get("ssSource") or {}).get("designation"))["ssSource"]["designation"]
    endpoints = {"/api/v1/sources": {"diaObjectId": oid}, "/api/v1/objects": {"diaObjectId": oid},
                 "/api/v1/conesearch": {"ra": alert["ra"], "dec": alert["dec"], "radius": "5"},
                 "/api/v1/tags": {"tag": "cataloged"}, "/api/v1/statistics": {"date": "20260310"},
                 "/api/v1/fp": {"diaObjectId": oid}, "/api/v1/sso": {"n_or_d": sso}}
    for endpoint, payload in endpoints.items():
        r_schema = rubin_api.post(f"{APIURL}/api/v1/schema", json={"endpoint": endpoint})
        r_data = rubin_api.post(f"{APIURL}{endpoint}", json=payload)
        assert r_schema.status_code == 200 and r_data.status_code == 200, endpoint
        data_fields = list(r_data.get_json()[0].keys())
        not_in_schema = [f for f in data_fields if f not in fields(r_schema.get_json())]
        assert set(not_in_schema) <= {"v:separation_degree"}, (endpoint, not_in_schema)
