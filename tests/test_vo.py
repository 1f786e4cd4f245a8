"""The VO routes with clients nobody here wrote: pyvo's SCSService and SIAService against the
live server get the API's objects and cutouts, for both surveys, on real and simulated alerts;
astropy reads every VOTable with its checks on and warnings as errors."""
from __future__ import annotations

import io
import re
import warnings

import numpy as np
import pytest
import requests
from astropy.io import fits
from astropy.io.votable import parse

from tests.live_server import live  # noqa: F401  (the fixture)

import pyvo  # noqa: E402  (pinned in requirements.txt: a missing one is an error, never a skip)
PREFIX = {"ztf": "/api/v1/vo", "rubin": "/lsst/api/v1/vo"}
# SIA 1.0 answers carry its UCD1 words, which astropy's check of a VOTable 1.2+ flags (W06):
# there, the only warning allowed, and only for those words. Cone-search answers and errors are
# VOTable 1.1, where SCS 1.03's UCD1 words (ID_MAIN, POS_EQ_RA_MAIN) are valid: no warning at all.
SIA_UCD1 = re.compile(r"W06: Invalid UCD '(ID_MAIN|POS_EQ_RA_MAIN|POS_EQ_DEC_MAIN|INST_ID|VOX:[A-Za-z_]+)'")


def strict_parse(data: bytes, allowed: re.Pattern | None = None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        votable = parse(io.BytesIO(data), verify="warn")
    assert [str(w.message) for w in caught if not (allowed and allowed.search(str(w.message)))] == []
    return votable


def position(live, survey, dataset):
    if survey == "ztf":
        r = live.app.test_client().post("/api/v1/objects", json={"objectId": live.ztf[dataset][0],
                                                                 "columns": "i:objectId,i:ra,i:dec,i:jd"})
        row = r.get_json()[0]
        return row["i:objectId"], row["i:ra"], row["i:dec"]
    r = live.app.test_client().post("/lsst/api/v1/objects", json={"diaObjectId": str(live.rubin[dataset][0])})
    row = r.get_json()[0]
    return str(row["r:diaObjectId"]), row["r:ra"], row["r:dec"]


CASES = [(s, d) for s in ("ztf", "rubin") for d in ("real", "sim")]


@pytest.mark.parametrize("survey,dataset", CASES)
def test_pyvo_cone_search_gets_the_apis_objects(live, survey, dataset):
    oid, ra, dec = position(live, survey, dataset)
    radius = 60.0
    result = pyvo.dal.SCSService(live.url + PREFIX[survey] + "/scs/objects").search((ra, dec), radius / 3600)
    api = live.app.test_client().post(("/api/v1" if survey == "ztf" else "/lsst/api/v1") + "/conesearch",
                                      json={"ra": ra, "dec": dec, "radius": radius}).get_json()
    key = "i:objectId" if survey == "ztf" else "r:diaObjectId"
    assert [str(r.id) for r in result] == [str(row[key]) for row in api]
    assert oid in {str(r.id) for r in result}
    first = result[0]
    assert first.pos.ra.deg == pytest.approx(api[0][key[:2] + "ra"])
    strict_parse(requests.get(result.queryurl if hasattr(result, "queryurl") else live.url + PREFIX[survey]
                              + "/scs/objects", params={"RA": ra, "DEC": dec, "SR": radius / 3600}).content)


@pytest.mark.parametrize("survey,dataset", CASES)
def test_pyvo_cone_search_over_the_alerts(live, survey, dataset):
    oid, ra, dec = position(live, survey, dataset)
    result = pyvo.dal.SCSService(live.url + PREFIX[survey] + "/scs/alerts").search((ra, dec), 1 / 3600, verbosity=3)
    table = result.to_table()
    ids = "i_objectId" if survey == "ztf" else "r_diaObjectId"
    assert oid in {str(x) for x in table[ids]}
    assert len(set(str(r.id) for r in result)) == len(result)  # ID_MAIN: one row per alert
    assert (table["v_separation_degree"] <= 1 / 3600).all()


@pytest.mark.parametrize("survey,dataset", CASES)
def test_pyvo_image_search_gets_the_apis_cutouts(live, survey, dataset):
    oid, ra, dec = position(live, survey, dataset)
    result = pyvo.dal.SIAService(live.url + PREFIX[survey] + "/sia").search((ra, dec), size=0.002,
                                                                            format="image/fits")
    mine = [r for r in result if r["object_id"] == oid and r["kind"] == "Science"]
    assert mine and all(r.format == "image/fits" for r in result)
    record = mine[0]
    assert record.naxes == 2 and len(record.naxis) == 2
    downloaded = requests.get(record.getdataurl()).content
    api = live.app.test_client().get(("/api/v1" if survey == "ztf" else "/lsst/api/v1") + "/cutouts", query_string={
        ("objectId" if survey == "ztf" else "diaObjectId"): oid,
        ("candid" if survey == "ztf" else "diaSourceId"): int(record["alert_id"]), "kind": "Science",
        "output-format": "fits"}).data
    assert downloaded == api and downloaded
    with fits.open(io.BytesIO(downloaded)) as hdul:
        assert list(hdul[0].data.shape[::-1]) == [int(n) for n in record.naxis.value]


@pytest.mark.parametrize("survey", ["ztf", "rubin"])
def test_errors_are_votables_pyvo_reports(live, survey):
    base = live.url + PREFIX[survey]
    with pytest.raises(pyvo.dal.DALQueryError, match="SR"):
        pyvo.dal.SCSService(base + "/scs/objects").search((10, 10), 99)
    for path, params in (("/scs/alerts", {"RA": 10}), ("/scs/objects", {"RA": "x", "DEC": 1, "SR": 1}),
                         ("/sia", {"POS": "1", "SIZE": 0.1}), ("/sia", {"POS": "1,2", "SIZE": 0.1, "FORMAT": "x"})):
        r = requests.get(base + path, params=params)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/x-votable+xml")
        votable = strict_parse(r.content)
        status = [i for i in votable.resources[0].infos if i.name == "QUERY_STATUS"]
        assert [i.value for i in status] == ["ERROR"] and status[0].content
        assert [i.name for i in votable.infos] == ["Error"]


@pytest.mark.parametrize("survey", ["ztf", "rubin"])
def test_every_votable_reads_strictly(live, survey):
    oid, ra, dec = position(live, survey, "real")
    base = live.url + PREFIX[survey]
    for path, params in (("/scs/alerts", {"RA": ra, "DEC": dec, "SR": 0.05, "VERB": v}) for v in (1, 2, 3)):
        strict_parse(requests.get(base + path, params=params).content)
    for params in ({"RA": ra, "DEC": dec, "SR": 0.05, "VERB": 3}, {"RA": 0, "DEC": -89, "SR": 0.001}):
        strict_parse(requests.get(base + "/scs/objects", params=params).content)
    for fmt in ("ALL", "METADATA", "image/png"):
        strict_parse(requests.get(base + "/sia", params={"POS": f"{ra},{dec}", "SIZE": 0.01, "FORMAT": fmt}).content,
                     SIA_UCD1)
    overflow = strict_parse(requests.get(base + "/scs/alerts", params={"RA": ra, "DEC": dec, "SR": 1,
                                                                       "MAXREC": 1}).content)
    assert [i.value for i in overflow.resources[0].infos if i.name == "QUERY_STATUS"] in (["OVERFLOW"], ["OK"])


@pytest.mark.parametrize("survey", ["ztf", "rubin"])
def test_vosi_documents(live, survey):
    from pyvo.io.vosi import parse_availability, parse_capabilities
    base = live.url + PREFIX[survey]
    caps = parse_capabilities(io.BytesIO(requests.get(base + "/capabilities").content))
    ids = [c.standardid for c in caps]
    assert ids.count("ivo://ivoa.net/std/ConeSearch") == 2 and "ivo://ivoa.net/std/SIA" in ids
    urls = [i.accessurls[0].content for c in caps for i in c.interfaces]
    assert base + "/scs/objects?" in urls and base + "/sia?" in urls
    assert parse_availability(io.BytesIO(requests.get(base + "/availability").content)).available is True
