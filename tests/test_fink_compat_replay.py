"""Fink compatibility: what a replay of real Fink client code found missing.

Each case is a request shaped as Fink's route tests or documentation send it (see the
other test_fink_compat_* files), with the check that code makes on the answer. They were
found by replaying that code, unchanged but for the base URL and the ids, against a server
over the real night.
"""
import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

Q = "/api/v1/"
OID = "ZTF18adljlvp"  # four alerts over the real night, with cutouts


def png(api, **payload):
    """A cutout as Fink's cutouts test reads it: a PIL image of the PNG answer."""
    r = api.post(Q + "cutouts", json={"objectId": OID, "kind": "Science", "colormap": "viridis",
                                      "output-format": "PNG", **payload})
    assert r.status_code == 200, r.data[:300]
    return Image.open(io.BytesIO(r.data))


# --- cutouts ---------------------------------------------------------------------------------

def test_fink_compat_cutouts_sigmoid_ignores_percentiles(api):
    """Fink's sigmoid works on the image's z-scores: pmin and pmax change nothing."""
    assert png(api).getextrema() == png(api, pmin=0.1, pmax=0.5).getextrema()


@pytest.mark.parametrize("stretch", ["linear", "sqrt", "power", "log"])
def test_fink_compat_cutouts_stretches_differ_from_sigmoid(api, stretch):
    """Fink's clients tell the stretches apart by the PNG's extrema: the sigmoid does not span
    the whole colour map, the percentile stretches do."""
    assert png(api, stretch="sigmoid").getextrema() != png(api, stretch=stretch).getextrema()


def test_fink_compat_cutouts_of_another_alert_differ(api):
    r = api.post(Q + "objects", json={"objectId": OID, "columns": "i:candid,i:jd"})
    first = r.get_json()[-1]["i:candid"]  # newest first: [-1] is the first alert
    assert png(api).getextrema() != png(api, candid=str(first)).getextrema()


@pytest.mark.parametrize("fmt", ["PNG", "FITS", "array"])
def test_fink_compat_cutouts_of_an_object_without_alerts_is_200(api, fmt):
    """Fink answers 200 (its issue #193) for an object it holds no alert of; we say why in Warning."""
    r = api.post(Q + "cutouts", json={"objectId": "ZTF18aahqavd", "kind": "Science", "output-format": fmt})
    assert r.status_code == 200, r.data[:300]
    assert "ZTF18aahqavd" in r.headers["Warning"]
    if fmt == "array":
        assert r.get_json() == {}
    else:
        assert r.data == b""


def test_fink_compat_cutouts_unknown_candid_is_still_404(api):
    r = api.post(Q + "cutouts", json={"objectId": OID, "candid": 123})
    assert r.status_code == 404 and "123" in r.get_json()["text"]


# --- skymap under Fink's documented name -----------------------------------------------------

@pytest.mark.parametrize("route", ["skymap", "bayestar"])
def test_fink_compat_bayestar_is_the_skymap_route(api, route):
    """Fink's GW tutorial posts to /api/v1/bayestar; the answer is the skymap route's."""
    r = api.post(Q + route, json={"event_name": "S230709bi", "credible_level": 0.2, "output-format": "json"})
    assert r.status_code == 400, r.data[:300]
    assert "GraceDB" in r.get_json()["text"]
    r = api.post(Q + route, json={"bayestar": "not a map", "credible_level": 0.1})
    assert r.status_code == 400 and "bayestar" in r.get_json()["text"]


def test_fink_compat_bayestar_in_the_openapi_spec(api):
    paths = api.get(Q + "openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/bayestar"])


# --- latests: the blazar label of Fink's own test --------------------------------------------

@pytest.mark.parametrize("trend", ["low_state", "new_low_state"])
def test_fink_compat_latests_blazar_low_state_label(api, trend):
    """Fink's test asks class '(CTA) Blazar low state' with the blazar trends: 200, and we hold
    no blazar state, so no alert."""
    r = api.post(Q + "latests", json={"class": "(CTA) Blazar low state", "n": 10, "trend": trend,
                                      "startdate": "2023-10-17", "stopdate": "2023-10-19"})
    assert r.status_code == 200, r.data[:300]
    assert r.get_json() == []


def test_fink_compat_latests_blazar_trend_on_another_class_is_refused(api):
    r = api.post(Q + "latests", json={"class": "SN candidate", "trend": "low_state"})
    assert r.status_code == 400 and "(CTA) Blazar" in r.get_json()["text"]


# --- conesearch and explorer dates ------------------------------------------------------------

CONE_OID = "ZTF18acvqmmq"  # alone within 60" of its position on the real night


def _cone_object():
    """Position and first detection (i:jdstarthist) of CONE_OID, from the alert files."""
    from realdata import by_object
    c = next(iter(by_object()[CONE_OID].values()))["candidate"]
    return c["ra"], c["dec"], c["jdstarthist"]


def _iso(jd: float) -> str:
    from astropy.time import Time
    return Time(jd, format="jd").iso[:19]


def test_fink_compat_conesearch_dates_select_the_first_detection(api):
    """Fink's test_conesearch_with_dates: a one-day window from before the object's first
    detection finds it; the same window two days earlier does not. (2458429.85 is
    2018-11-07 08:28 UTC: a replay that took it for 2018-11-10 asked the wrong days.)"""
    ra, dec, first = _cone_object()
    cone = {"ra": ra, "dec": dec, "radius": "5", "window": "1"}
    found = api.post(Q + "conesearch", json={**cone, "startdate": _iso(first - 0.3)})
    assert [row["i:objectId"] for row in found.get_json()] == [CONE_OID]
    assert api.post(Q + "conesearch", json={**cone, "startdate": _iso(first - 2.3)}).get_json() == []
    assert api.post(Q + "conesearch", json={**cone, "startdate": _iso(first + 0.01)}).get_json() == []


def test_fink_compat_explorer_cone_with_startdate_and_window_in_days(api):
    """Fink's documentation: explorer?ra=&dec=&radius=&startdate=&window=7 (days) is a cone
    search restricted to objects first detected in the window, as conesearch answers it."""
    ra, dec, first = _cone_object()
    for start, expected in ((first - 3, [CONE_OID]), (first + 0.01, [])):
        query = {"ra": ra, "dec": dec, "radius": 5, "startdate": _iso(start), "window": 7, "output-format": "json"}
        r = api.get(Q + "explorer", query_string=query)
        assert r.status_code == 200, r.data[:300]
        assert [row["i:objectId"] for row in r.get_json()] == expected
        cone = api.post(Q + "conesearch", json={k: v for k, v in query.items()})
        assert r.get_json() == cone.get_json()
    stop = api.post(Q + "explorer", json={"ra": ra, "dec": dec, "radius": 5, "startdate": _iso(first - 1),
                                          "stopdate": _iso(first + 1), "columns": "i:objectId"})
    assert [row["i:objectId"] for row in stop.get_json()] == [CONE_OID]


def test_fink_compat_explorer_date_group_keeps_minutes(api):
    """Without a cone, startdate + window is Fink's older time search: minutes, at most 180."""
    r = api.post(Q + "explorer", json={"startdate": "2023-10-18 05:00:00", "window": 200})
    assert r.status_code == 400 and "'window'" in r.get_json()["text"]
    r = api.post(Q + "explorer", json={"objectId": "ZTF18acvqmmq", "ra": 1, "dec": 1, "radius": 2})
    assert r.status_code == 400


# --- schema and objects agree, as Fink's schema test checks -----------------------------------

FAMILIES = ("i:", "d:", "b:", "v:")
STAMPS = {"cutoutScience_stampData", "cutoutTemplate_stampData", "cutoutDifference_stampData"}


def _families(schema: dict) -> dict:
    """Fink's get_fields_per_family: per family, the names of the category naming it."""
    return {f: list(schema[c]) for f in FAMILIES for c in schema if f in c}


def _disagreements(columns, schema: dict) -> list:
    """Listed but not answered (cutouts aside), or answered but not listed: per family."""
    out = []
    for family, listed in _families(schema).items():
        got = [c.split(family, 1)[1] for c in columns if c.startswith(family)]
        out += [("listed, absent", family, n) for n in listed if n not in got and n not in STAMPS]
        out += [("answered, unlisted", family, n) for n in got if n not in listed]
    return out


def test_fink_compat_schema_lists_what_objects_answers(api):
    """Fink's test_recent_object and test_old_object: every column listed in a family of
    /api/v1/schema is in objects' answer (columns=*, withupperlim), and every answered
    column is listed, for a recent object (a SN candidate) and for a raw ZTF one."""
    schema = api.get(Q + "schema").get_json()
    recent = api.post(Q + "latests", json={"class": "SN candidate", "n": 1, "columns": "i:objectId"})
    for oid, cutouts in ((recent.get_json()[0]["i:objectId"], False), (OID, True)):
        r = api.post(Q + "objects", json={"objectId": oid, "columns": "*", "output-format": "json",
                                          "withupperlim": True, "withcutouts": cutouts})
        assert r.status_code == 200
        columns = list(r.get_json()[0])
        assert _disagreements(columns, schema) == [], oid


def test_fink_compat_route_columns_are_documented_apart(api):
    """v:separation_degree (conesearch) is described, with its routes, outside the v: family."""
    schema = api.get(Q + "schema").get_json()
    assert "separation_degree" not in _families(schema)["v:"]
    apart = [group for name, group in schema.items() if not any(f in name for f in FAMILIES)]
    described = {name: spec for group in apart for name, spec in group.items()}
    assert "conesearch" in described["v:separation_degree"]["doc"]


def test_fink_compat_objects_rates_as_fink(api):
    """objects gives Fink's v:rate: the magnitude change per day since the previous alert
    of the object in the same band (from the alert files)."""
    from realdata import by_object
    alerts = sorted((a["candidate"] for a in by_object()[OID].values()), key=lambda c: c["jd"])
    r = api.post(Q + "objects", json={"objectId": OID, "columns": "*"})
    rate = {row["i:candid"]: row["v:rate"] for row in r.get_json()}
    checked = 0
    for band in (1, 2):
        same = [c for c in alerts if c["fid"] == band]
        assert rate[same[0]["candid"]] is None if same else True
        for before, c in zip(same, same[1:]):
            assert rate[c["candid"]] == pytest.approx((c["magpsf"] - before["magpsf"]) / (c["jd"] - before["jd"]),
                                                      rel=1e-3)  # magnitudes are float32
            checked += 1
    assert checked


def test_fink_compat_old_columns_route_has_the_fields_wrapper(api):
    """The science portal's test reads /api/v1/columns as {"fields": {...}}, its v: group
    named 'Fink added values (v:)'; /api/v1/schema answers the groups themselves."""
    old = api.get(Q + "columns").get_json()
    assert set(old) == {"fields"}
    assert "Fink added values (v:)" in old["fields"] and "ZTF original fields (i:)" in old["fields"]
    schema = api.get(Q + "schema").get_json()
    assert "fields" not in schema
    assert old["fields"]["Fink added values (v:)"] == schema["Fink on-the-fly added values (v:)"]


# --- statistics with columns ------------------------------------------------------------------

def test_fink_compat_statistics_columns_keep_the_row_key_and_time(api):
    """Fink's test_cols asks two columns and counts 2 + 2: its rows always carry key:key and
    key:time (the row's write time, ms since 1970). We have no basic:exposures (ZTF's
    exposure count is not in the alert packets), so that one is absent."""
    r = api.post(Q + "statistics", json={"date": "2023", "columns": "basic:exposures,class:Solar System MPC",
                                         "output-format": "json"})
    assert r.status_code == 200
    rows = r.get_json()
    assert rows and [set(row) for row in rows] == [{"key:key", "key:time", "class:Solar System MPC"}] * len(rows)
    full = {row["key:key"]: row for row in api.post(Q + "statistics", json={"date": "2023"}).get_json()}
    for row in rows:
        finished = pd.Timestamp(full[row["key:key"]]["basic:finished"])
        assert row["key:time"] == int(finished.timestamp() * 1000) == full[row["key:key"]]["key:time"]
    names = {x["schema"] for x in api.post(Q + "statistics", json={"schema": True}).get_json()}
    assert {"key:key", "key:time"} <= names


# --- light-curve features as Fink serves them -------------------------------------------------

def _features_in_files() -> dict:
    """candid -> (lc_features_g, lc_features_r) of the alerts that carry them, from the files."""
    from realdata import source_alerts
    return {r["candid"]: (r["lc_features_g"], r["lc_features_r"]) for r in source_alerts()
            if isinstance(r.get("lc_features_g"), dict)}


@pytest.mark.parametrize("route,payload", [("anomaly", {"n": 10}),
                                           ("latests", {"class": "SN candidate", "n": 10})])
def test_fink_compat_lc_features_are_json_array_text(api, route, payload):
    """Fink's test_feature_array: d:lc_features_g/r are strings that json.loads makes into
    lists: the values in Fink's feature order (linear_trend 10th), null where not finite."""
    import json
    import math

    from science.lc_features import LC_FEATURES
    files = _features_in_files()
    rows = api.post(Q + route, json={**payload, "output-format": "json"}).get_json()
    checked = 0
    for row in rows:
        for i, name in enumerate(("d:lc_features_g", "d:lc_features_r")):
            text = row[name]
            assert isinstance(text, str), (name, type(text))
            values = json.loads(text)
            assert isinstance(values, list)
            source = files.get(row["i:candid"], (None, None))[i]
            if source is None:
                assert values == []
                continue
            expected = [None if source.get(f) is None or not math.isfinite(source[f]) else source[f]
                        for f in LC_FEATURES]
            assert values == pytest.approx(expected)
            assert values[9] == expected[LC_FEATURES.index("linear_trend")]
            checked += 1
    assert checked


def test_fink_compat_objects_lc_features_same_text_in_every_route(api):
    """objects serves the same text for the same alert as anomaly does."""
    anomalous = api.post(Q + "anomaly", json={"n": 3}).get_json()
    for row in anomalous:
        same = api.post(Q + "objects", json={"objectId": row["i:objectId"], "columns": "*"}).get_json()
        match = [r for r in same if r["i:candid"] == row["i:candid"]]
        assert match and match[0]["d:lc_features_g"] == row["d:lc_features_g"]
        assert all(isinstance(r["d:lc_features_r"], str) for r in same)
