"""Fink compatibility: requests shaped as Fink's own clients send them, checked as they parse them.

Each case is a call as written in Fink's route tests (astrolabsoftware/fink-object-api,
apps/routes/v1/*/test.py), its tutorials and bots: ``requests.post(url, json={...})`` or a
GET query string, the answer read with ``pandas.read_json(io.BytesIO(r.content))`` (or CSV,
Parquet, VOTable), and the checks are what that client's code needs: the status, the
columns it indexes, the dtypes it casts, the order it relies on (``[-1]`` is the first
alert), the shapes of nested cutouts. Only the ids, coordinates and dates are ours: those of
the real data in ../shared/data. Runs in-process on each backend, and against a deployed
server with ``./run_tests.sh --url URL``.
"""
import io

import numpy as np
import pandas as pd
import pytest
from astropy import units as u
from astropy.coordinates import Angle
from astropy.io import votable

from realdata import by_object

Q = "/api/v1/"
OID = "ZTF18adljlvp"  # four alerts over the real night, at (4.38, 53.69)
SSO_CLASS = "Solar System MPC"


def frame(r, fmt="json") -> pd.DataFrame:
    """The answer read as Fink's tests read it."""
    assert r.status_code == 200, (r.status_code, r.data[:300])
    if fmt == "json":
        return pd.read_json(io.BytesIO(r.data))
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(r.data))
    if fmt == "parquet":
        return pd.read_parquet(io.BytesIO(r.data))
    return votable.parse(io.BytesIO(r.data)).get_first_table().to_table().to_pandas()


def get_an_object(api, oid=OID, output_format="json", columns="*", withupperlim=False, withcutouts=False,
                  cutout_kind=None):
    """Fink's objects test helper, as written there (columns='*' and the booleans always sent)."""
    payload = {"objectId": oid, "columns": columns, "output-format": output_format,
               "withupperlim": withupperlim, "withcutouts": withcutouts}
    if cutout_kind is not None:
        payload["cutout-kind"] = cutout_kind
    return frame(api.post(Q + "objects", json=payload), output_format)


def conesearch(api, ra, dec, radius="5", startdate=None, window=None, columns=None, output_format="json"):
    """Fink's conesearch test helper."""
    payload = {"ra": ra, "dec": dec, "radius": radius, "output-format": output_format}
    if startdate is not None:
        payload.update({"startdate": startdate, "window": window})
    if columns is not None:
        payload["columns"] = columns
    return frame(api.post(Q + "conesearch", json=payload), output_format)


def position(oid):
    c = next(iter(by_object()[oid].values()))["candidate"]
    return c["ra"], c["dec"]


# --- objects ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "csv", "parquet", "votable"])
def test_fink_compat_objects_all_columns_in_every_format(api, fmt):
    """Every format, with the columns this raw ZTF object has no value for (null in
    every row: Fink's added values) and with upper limits."""
    pdf = get_an_object(api, output_format=fmt)
    assert len(pdf) == len(by_object()[OID])
    names = {c.replace(":", "_").replace("-", "_") if fmt == "votable" else c
             for c in ("i:objectId", "i:jd", "i:magpsf", "i:fid", "v:classification", "d:mag_rate", "v:rate")}
    assert names <= set(pdf.columns)
    assert len(get_an_object(api, output_format=fmt, withupperlim=True)) > len(pdf)


def test_fink_compat_objects_dtypes_fink_scripts_cast(api):
    pdf = get_an_object(api)
    assert isinstance(pdf["i:fid"].to_numpy()[0], np.int64)
    assert isinstance(pdf["i:magpsf"].to_numpy()[0], np.double)
    assert np.all(pdf["i:fid"].to_numpy() > 0) and np.all(pdf["i:magpsf"].to_numpy() > 6)


def test_fink_compat_objects_newest_first_so_last_row_is_first_detection(api):
    pdf = get_an_object(api, columns="i:jd,i:magpsf")
    assert list(pdf.columns) == ["i:jd", "i:magpsf"]
    jds = pdf["i:jd"].to_numpy()
    assert np.all(np.diff(jds) <= 0) and len(set(jds)) > 1
    assert pdf["i:jd"].iloc[-1] == min(a["candidate"]["jd"] for a in by_object()[OID].values())


def test_fink_compat_objects_with_upper_limits_newest_first(api):
    pdf = get_an_object(api, oid="ZTF26aamcffm", withupperlim=True)
    assert set(pdf["d:tag"]) == {"valid", "upperlim", "badquality"}
    assert np.all(np.diff(pdf["i:jd"].to_numpy()) <= 0)


def test_fink_compat_objects_several_newest_first_across_objects(api):
    ids = ["ZTF18adljlvp", "ZTF23abkixhb", "ZTF18acaxelp"]
    pdf = get_an_object(api, oid=",".join(ids))
    assert set(pdf["i:objectId"]) == set(ids)
    assert len(pdf) == sum(len(get_an_object(api, oid=o)) for o in ids)
    assert np.all(np.diff(pdf["i:jd"].to_numpy()) <= 0)


def test_fink_compat_objects_withcutouts_alone_gives_the_three_stamps(api):
    pdf = get_an_object(api, withcutouts=True)
    for kind in ("Science", "Template", "Difference"):
        stamp = pdf[f"b:cutout{kind}_stampData"].to_numpy()[0]
        assert isinstance(stamp, list) and np.array(stamp, dtype=float).shape == (63, 63)


def test_fink_compat_objects_one_cutout_kind(api):
    pdf = get_an_object(api, withcutouts=True, cutout_kind="Science")
    cutout = pdf["b:cutoutScience_stampData"].to_numpy()[0]
    assert isinstance(cutout, list) and len(cutout) != 0
    assert "b:cutoutTemplate_stampData" not in pdf.columns


def test_fink_compat_unknown_object_is_an_empty_answer(api):
    r = api.post(Q + "objects", json={"objectId": "ldfksjflkdsjf", "columns": "*", "output-format": "json"})
    assert frame(r).empty
    assert "ldfksjflkdsjf" in r.headers.get("Warning", "")


def test_fink_compat_repeated_columns_are_given_once(api):
    ra, dec = position(OID)
    calls = [("objects", {"objectId": OID, "columns": "i:jd,i:magpsf,i:jd"}),
             ("latests", {"class": SSO_CLASS, "n": 3, "columns": "i:objectId,i:jd,i:objectId"}),
             ("conesearch", {"ra": ra, "dec": dec, "radius": 5, "columns": "i:objectId,i:objectId,i:jd"})]
    for path, payload in calls:
        pdf = frame(api.post(Q + path, json=payload))
        assert not pdf.empty and pdf.columns.is_unique, path
        assert "i:jd" in pdf.columns


# --- parameters Fink ignores -------------------------------------------------------------

IGNORED = [
    ("objects", {"objectId": OID, "startdate": "2023-10-18", "stopdate": "2023-10-19"}, "startdate"),
    ("objects", {"objectId": OID, "output_format": "json"}, "output_format"),
    ("objects", {"objectId": OID, "cols": "i:jd"}, "cols"),
    ("sso", {"n_or_d": "8467", "someFutureOption": "True"}, "someFutureOption"),
    ("conesearch", {"ra": 4.38, "dec": 53.69, "radius": 5, "output_format": "json"}, "output_format"),
    ("random", {"n": 2, "nosuch": 1}, "nosuch"),
]


@pytest.mark.parametrize("path,payload,name", IGNORED, ids=[f"{p}-{n}" for p, _, n in IGNORED])
def test_fink_compat_unknown_parameters_are_ignored_and_named(api, path, payload, name):
    for r in (api.post(Q + path, json=payload), api.get(Q + path, query_string=payload)):
        assert r.status_code == 200, (r.status_code, r.data[:300])
        warning = r.headers.get("Warning", "")
        assert warning.startswith('299 - "') and name in warning, warning


def test_fink_compat_a_typo_gets_a_suggestion_and_the_same_answer(api):
    plain = api.get(Q + "objects", query_string={"objectId": OID})
    typo = api.get(Q + "objects", query_string={"objectId": OID, "cols": "i:jd"})
    assert typo.status_code == 200 and typo.data == plain.data
    assert typo.headers["Warning"] == '299 - "ignored parameter(s): cols; did you mean columns?"'
    assert "Warning" not in plain.headers


# --- errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("path,payload", [("objects", {"output-format": "json"}),
                                          ("conesearch", {"ra": "kfdlkj", "dec": "lkfdjf", "radius": 5}),
                                          ("conesearch", {"ra": 4.38, "dec": 53.69, "radius": 36000}),
                                          ("objects", {"objectId": OID, "output-format": "xlsx"})])
def test_fink_compat_errors_are_400_with_fink_keys(api, path, payload):
    r = api.post(Q + path, json=payload)
    assert r.status_code == 400
    body = r.get_json()
    assert body["status"] == "error" and body["text"] and body["text"] == body["message"]


def test_fink_compat_nan_in_a_json_body_is_refused(api):
    r = api.post(Q + "conesearch", data='{"ra": NaN, "dec": 53.69, "radius": 5}')
    assert r.status_code == 400 and "NaN" in r.get_json()["text"]


# --- conesearch --------------------------------------------------------------------------

def test_fink_compat_conesearch_coordinate_forms_agree(api):
    ra, dec = position("ZTF23abkpnol")
    ra_h, ra_d, dec_d = Angle(ra, u.deg).hourangle, Angle(ra, u.deg), Angle(dec, u.deg)
    forms = [(ra, dec),
             (ra_d.to_string(unit=u.deg, sep="dms", precision=3), dec_d.to_string(unit=u.deg, sep="dms", precision=2)),
             (Angle(ra_h, u.hourangle).to_string(unit=u.hourangle, sep="hms", precision=3),
              dec_d.to_string(unit=u.deg, sep="dms", precision=2, alwayssign=True)),
             (Angle(ra_h, u.hourangle).to_string(unit=u.hourangle, sep=" ", precision=3),
              dec_d.to_string(unit=u.deg, sep=" ", precision=2, alwayssign=True)),
             (Angle(ra_h, u.hourangle).to_string(unit=u.hourangle, sep=":", precision=3),
              dec_d.to_string(unit=u.deg, sep=":", precision=2))]
    assert "d" in forms[1][0] and "h" in forms[2][0]
    found = [conesearch(api, r, d) for r, d in forms]
    assert "ZTF23abkpnol" in set(found[0]["i:objectId"])
    for pdf in found[1:]:
        assert np.array_equal(pdf["i:magpsf"].to_numpy(), found[0]["i:magpsf"].to_numpy())


def test_fink_compat_conesearch_columns_keep_position_and_separation(api):
    ra, dec = position(OID)
    pdf = conesearch(api, ra, dec, columns="i:objectId")
    assert not pdf.empty
    assert set(pdf.columns) == {"i:objectId", "i:ra", "i:dec", "v:separation_degree"}
    assert np.all(pdf["v:separation_degree"].to_numpy() * 3600 <= 5)


def test_fink_compat_conesearch_date_window_in_days_on_first_detection(api):
    ra, dec = position(OID)  # first detected on 2023-10-18
    assert OID in set(conesearch(api, ra, dec, startdate="2023-10-18 00:00:00", window="1")["i:objectId"])
    later = conesearch(api, ra, dec, startdate="2023-10-19 00:00:00", window="1")
    assert later.empty or OID not in set(later["i:objectId"])


def test_fink_compat_dates_as_iso_jd_or_mjd(api):
    base = {"class": SSO_CLASS, "n": 5, "columns": "i:objectId,i:jd"}
    answers = [frame(api.post(Q + "latests", json={**base, "startdate": start, "stopdate": stop}))
               for start, stop in [("2023-10-18 00:00:00", "2023-10-19 00:00:00"), (2460235.5, 2460236.5),
                                   ("60235", "60236")]]
    assert not answers[0].empty and (answers[0]["i:jd"] < 2460236.5).all()
    for pdf in answers[1:]:
        assert pdf.equals(answers[0])


@pytest.mark.parametrize("path,payload", [
    ("conesearch", {"ra": 4.38, "dec": 53.69, "radius": 5, "startdate": "2023-10-19", "stopdate": "2023-10-18"}),
    ("conesearch", {"ra": 4.38, "dec": 53.69, "radius": 5, "startdate": "2023-10-18", "window": 0}),
    ("latests", {"class": SSO_CLASS, "startdate": "2023-10-19", "stopdate": "2023-10-18"}),
    ("latests", {"class": SSO_CLASS, "startdate": "2023-10-18 05:00:00", "stopdate": "2023-10-18 05:00:00"}),
])
def test_fink_compat_empty_or_inverted_dates_answer_empty(api, path, payload):
    r = api.post(Q + path, json=payload)
    assert frame(r).empty
    assert "date range" in r.headers.get("Warning", "")


def test_fink_compat_conesearch_votable(api):
    ra, dec = position(OID)
    pdf = conesearch(api, ra, dec, output_format="votable")
    assert np.allclose(pdf[["i_ra", "i_dec"]], conesearch(api, ra, dec)[["i:ra", "i:dec"]])


# --- latests, random, statistics, explorer -------------------------------------------------

def test_fink_compat_latests_with_all_columns_by_get(api):
    pdf = frame(api.get(Q + "latests", query_string={"class": SSO_CLASS, "n": "5", "columns": "*"}))
    assert len(pdf) == 5 and {"i:objectId", "i:jd", "v:classification"} <= set(pdf.columns)
    assert np.all(np.diff(pdf["i:jd"].to_numpy()) <= 0)


def test_fink_compat_statistics_all_columns(api):
    star = frame(api.post(Q + "statistics", json={"date": "2023", "columns": "*"}))
    plain = frame(api.post(Q + "statistics", json={"date": "2023"}))
    assert not star.empty and list(star.columns) == list(plain.columns)
    assert {"basic:sci", "basic:raw"} <= set(star.columns)


def test_fink_compat_random_differs_between_calls_and_clamps_n(api):
    draws = [frozenset(frame(api.post(Q + "random", json={"n": 1, "columns": "i:candid"}))["i:candid"])
             for _ in range(12)]
    assert len(set(draws)) >= 3, draws  # one alert of ~800 each time: the same one 12 times is a bug
    assert {"i:objectId", "i:jd"} <= set(frame(api.post(Q + "random", json={"n": 2, "columns": "*"})).columns)
    r = api.post(Q + "random", json={"n": 20, "columns": "i:candid"})
    assert len(frame(r)) == 16 and "16" in r.headers["Warning"]  # Fink gives at most 16


def test_fink_compat_explorer_units(api):
    jd = min(a["candidate"]["jd"] for a in by_object()[OID].values())
    minutes = frame(api.post(Q + "explorer", json={"startdate": jd - 1 / 1440, "window": 2}))
    assert OID in set(minutes["i:objectId"]) and minutes["i:jd"].between(jd - 1 / 1440, jd + 1 / 1440).all()
    assert api.post(Q + "explorer", json={"startdate": jd, "window": 181}).status_code == 400  # Fink: at most 180 minutes
    ra, dec = position(OID)
    days = frame(api.post(Q + "explorer", json={"ra": ra, "dec": dec, "radius": 5,
                                                 "startdate_conesearch": jd - 0.5, "window_days_conesearch": 1}))
    assert OID in set(days["i:objectId"]) and (days["i:jd"] < jd + 0.5).all()
    before = api.post(Q + "explorer", json={"ra": ra, "dec": dec, "radius": 5,
                                             "startdate_conesearch": jd - 3, "window_days_conesearch": 1})
    assert frame(before).empty


def test_fink_compat_star_means_every_column_on_every_route(api):
    ra, dec = position(OID)
    sso = next(r["candidate"]["ssnamenr"] for r in by_object_alerts() if r["candidate"].get("ssnamenr") not in (None, "null"))
    calls = [("objects", {"objectId": OID}), ("latests", {"class": SSO_CLASS, "n": 3}),
             ("conesearch", {"ra": ra, "dec": dec, "radius": 5}), ("sso", {"n_or_d": sso}),
             ("explorer", {"objectId": OID}),
             ("xmatch", {"catalog": f"RA,Dec,ID\n{ra},{dec},a", "header": "RA,Dec,ID", "radius": 1.5})]
    for path, payload in calls:
        star = frame(api.post(Q + path, json={**payload, "columns": "*"}))
        plain = frame(api.post(Q + path, json=payload))
        assert not star.empty and list(star.columns) == list(plain.columns), path
        assert path == "xmatch" or len(star.columns) > 50, path  # xmatch: the index's columns


def test_fink_compat_columns_keep_what_the_flags_add(api):
    pdf = get_an_object(api, columns="i:jd,i:fid", withcutouts=True, withupperlim=True)
    assert {"i:jd", "i:fid", "d:tag", "b:cutoutScience_stampData", "b:cutoutTemplate_stampData",
            "b:cutoutDifference_stampData"} == set(pdf.columns)


def by_object_alerts():
    return [a for alerts in by_object().values() for a in alerts.values()]
