"""Fink compatibility: what the answers contain (issue #16).

Each case sends a request as a Fink client sends it (Fink's own route tests, its
tutorials, a mobile client: ``requests.post(url, json={...})`` then
``pd.read_json(io.BytesIO(r.content))`` or ``r.json()[key]``) and checks what that client's
parsing needs: status, top-level keys, labels, columns, dtypes, order. Expectations come
from the real alert files of ../shared/data, never from the store. Runs in-process on each
backend, or against a deployed server with ``./run_tests.sh --url URL``.
"""
import io
import math

import numpy as np
import pandas as pd
import pytest
from astropy.time import Time

from api.queries.trends import COLOUR_COLUMNS, add_rates_and_colour, linear_trend
from realdata import by_object, source_alerts

Q = "/api/v1/"
SCHEMA_KEYS = ("ZTF original fields (i:)", "ZTF original cutouts (b:)", "Fink science module outputs (d:)",
               "Fink on-the-fly added values (v:)")
CLASS_KEYS = ("Fink classifiers", "Cross-match with TNS",
              "Cross-match with SIMBAD (see http://simbad.u-strasbg.fr/simbad/sim-display?data=otypes)")


def frame(resp) -> pd.DataFrame:
    """What Fink's tutorials do with an answer."""
    assert resp.status_code == 200, resp.data[:300]
    return pd.read_json(io.BytesIO(resp.data))


def latest_alerts(select) -> dict:
    """objectId -> its newest alert (from the files), for objects whose alerts pass ``select``."""
    out = {}
    for oid, alerts in by_object().items():
        newest = max(alerts.values(), key=lambda r: r["candidate"]["jd"])
        if select(newest):
            out[oid] = newest
    return out


def fink_error(resp, status: int) -> str:
    assert resp.status_code == status, resp.data[:300]
    body = resp.get_json()
    assert body["status"] == "error"
    return body["message"]


# -- schema ---------------------------------------------------------------------------

def test_fink_compat_schema_families_as_fink_schema_test_reads_them(api):
    """Fink's schema test: for each family prefix, the category whose name contains it;
    the fields listed there are bare names that, prefixed, are the columns objects gives."""
    for path, key in (("schema", None), ("columns", "fields")):  # columns: the older portal's {"fields": ...}
        r = api.get(Q + path)
        assert r.status_code == 200
        schema = r.get_json() if key is None else r.get_json()[key]
        assert set(SCHEMA_KEYS if key is None else SCHEMA_KEYS[:3]) <= set(schema)
        per_family = {p: list(schema[c]) for p in ("i:", "d:", "b:", "v:") for c in schema if p in c}
        assert set(per_family) == {"i:", "d:", "b:", "v:"}
        assert not [f for fields in per_family.values() for f in fields if ":" in f]
        spec = schema["ZTF original fields (i:)"]["magpsf"]
        assert spec["type"] and spec["doc"]  # Fink's {"type", "doc"} per field
    oid = "ZTF18acaxelp"
    pdf = frame(api.post(Q + "objects", json={"objectId": oid, "output-format": "json", "withupperlim": True}))
    for family, defined in per_family.items():
        obtained = [c.split(family)[1] for c in pdf.columns if c.startswith(family)]
        assert not [c for c in obtained if c not in defined], (family, oid)
        assert obtained or family == "b:", family  # cutouts come only with withcutouts


# -- classes --------------------------------------------------------------------------

def test_fink_compat_classes_keys_and_labels(api):
    r = api.get(Q + "classes")
    assert r.status_code == 200
    classes = r.get_json()
    assert set(classes) == set(CLASS_KEYS)
    assert all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in classes.values())
    assert {"SN candidate", "Early SN Ia candidate", "Solar System MPC"} <= set(classes["Fink classifiers"])
    tns, simbad = classes[CLASS_KEYS[1]], classes[CLASS_KEYS[2]]
    assert {"(TNS) SN Ia", "(TNS) SN II", "(TNS) TDE"} <= set(tns)
    assert simbad and all(label.startswith("(SIMBAD) ") for label in simbad)
    # every SIMBAD type of the files' alerts with a counterpart (and no other class) is listed
    seen = {str(r.get("cdsxmatch")).replace("(SIMBAD) ", "") for r in source_alerts()}
    assert "(SIMBAD) LINER" in simbad and "LINER" in seen


def test_fink_compat_a_simbad_label_from_classes_works_in_latests(api):
    label = "(SIMBAD) LINER"
    pdf = frame(api.post(Q + "latests", json={"class": label, "n": 5}))
    assert len(pdf) >= 1
    assert set(pdf["d:cdsxmatch"].map(lambda x: x.replace("(SIMBAD) ", ""))) == {"LINER"}


# -- TNS classes ----------------------------------------------------------------------

def _tns(record) -> str:
    return str(record.get("tnsclass") or "Unknown")


def test_fink_compat_latests_tns_class_latest_alert_of_each_object(api):
    expected = latest_alerts(lambda r: _tns(r) == "(TNS) SN Ia")
    assert len(expected) >= 3
    pdf = frame(api.post(Q + "latests", json={"class": "(TNS) SN Ia", "n": 100}))
    assert sorted(pdf["i:objectId"]) == sorted(expected)  # one row per object
    assert {int(c) for c in pdf["i:candid"]} == {r["candid"] for r in expected.values()}
    assert list(pdf["i:jd"]) == sorted(pdf["i:jd"], reverse=True)  # newest first, as Fink
    assert set(pdf["d:tnsclass"]) == {"(TNS) SN Ia"}
    two = frame(api.post(Q + "latests", json={"class": "(TNS) SN Ia", "n": 2, "columns": "i:objectId,i:jd"}))
    assert list(two["i:objectId"]) == list(pdf["i:objectId"][:2])
    none = api.post(Q + "latests", json={"class": "(TNS) TDE", "n": 10})
    assert none.status_code == 200 and none.get_json() == []


# -- statistics schema ----------------------------------------------------------------

def test_fink_compat_statistics_schema_true(api):
    r = api.post(Q + "statistics", json={"date": "", "schema": True})
    pdf = frame(r)
    assert list(pdf.columns) == ["schema"]
    names = set(pdf["schema"])
    assert {"basic:raw", "basic:sci", "basic:date"} <= names
    rows = frame(api.post(Q + "statistics", json={"date": "2024"}))
    assert set(rows.columns) <= names  # every column a row can carry is in the schema
    assert any(n.startswith("class:") for n in names)


# -- latests color and trend ----------------------------------------------------------

def test_fink_compat_latests_color_adds_fink_colour_columns(api):
    pdf = frame(api.post(Q + "latests", json={"class": "SN candidate", "n": 10, "color": True}))
    assert len(pdf) == 10
    for name in COLOUR_COLUMNS:
        assert name in pdf.columns and pdf[name].dtype.kind == "f", name
    plain = frame(api.post(Q + "latests", json={"class": "SN candidate", "n": 10}))
    assert "v:rate" not in plain.columns and list(plain["i:candid"]) == list(pdf["i:candid"])


def test_fink_compat_colour_and_rates_values():
    """Two g and two r alerts of one object, a g/r pair 0.1 day apart twice: the colour,
    its rate and the per-band rates, with errors, as Fink defines them."""
    df = pd.DataFrame({"i:objectId": ["A"] * 5 + ["B"],
                       "i:jd": [10.0, 10.1, 12.0, 12.1, 20.0, 10.0],
                       "i:fid": [1, 2, 1, 2, 1, 1],
                       "i:magpsf": [18.0, 17.5, 17.0, 16.7, 19.0, 15.0],
                       "i:sigmapsf": [0.1, 0.1, 0.1, 0.1, 0.2, 0.1]})
    out = add_rates_and_colour(df)
    assert list(out["i:jd"]) == list(df["i:jd"])  # order kept
    g_r = out["v:g-r"].to_numpy()
    assert g_r[:4] == pytest.approx([0.5, 0.5, 0.3, 0.3])
    assert math.isnan(g_r[4]) and math.isnan(g_r[5])  # no r within 0.3 day; B has no r at all
    assert out["v:sigma(g-r)"][0] == pytest.approx(math.hypot(0.1, 0.1))
    assert out["v:rate(g-r)"][2] == pytest.approx((0.3 - 0.5) / 2.0)
    assert math.isnan(out["v:rate(g-r)"][0])
    assert out["v:rate"][2] == pytest.approx((17.0 - 18.0) / 2.0)  # g: since the previous g alert
    assert out["v:rate"][3] == pytest.approx((16.7 - 17.5) / 2.0)
    assert out["v:rate"][4] == pytest.approx((19.0 - 17.0) / 8.0)
    assert out["v:sigma(rate)"][4] == pytest.approx(math.hypot(0.2, 0.1) / 8.0)
    assert math.isnan(out["v:rate"][0]) and math.isnan(out["v:rate"][5])


def test_fink_compat_linear_trend_reads_every_feature_form():
    assert linear_trend({"linear_trend": -0.2, "mean": 18}) == -0.2
    assert linear_trend([0, 1, 2, 3, 4, 5, 6, 7, 8, 0.7, 10]) == 0.7
    assert linear_trend("{0, 1, 2, 3, 4, 5, 6, 7, 8, -1.5, 10}") == -1.5
    assert math.isnan(linear_trend({})) and math.isnan(linear_trend(None)) and math.isnan(linear_trend("[]"))


def _trend(record) -> float:
    band = "lc_features_g" if record["candidate"]["fid"] == 1 else "lc_features_r"
    return linear_trend(record.get(band))


@pytest.mark.parametrize("trend,sign", [("rising", -1), ("fading", 1)])
def test_fink_compat_latests_trend(api, trend, sign):
    """Fink's latests keeps, of the alerts it read, those whose d:mag_rate has the trend's
    sign (its current rule: the magnitude rate alone, whatever the light-curve slope)."""
    def passes(r):
        rate = r.get("mag_rate")
        return _tns(r) == "(TNS) SN Ia" and rate is not None and np.isfinite(rate) and np.sign(rate) == sign
    expected = latest_alerts(passes)
    assert expected  # the files hold both
    pdf = frame(api.post(Q + "latests", json={"class": "(TNS) SN Ia", "n": 100, "trend": trend}))
    assert sorted(pdf["i:objectId"]) == sorted(expected)
    assert (np.sign(pdf["d:mag_rate"]) == sign).all()


def test_fink_compat_latests_trends_split_the_n_alerts(api):
    """Fink's test_general_trends: of the n newest SN candidates, the rising ones and the
    fading ones are those with a negative, resp. positive d:mag_rate; with the rate known
    for each alert, every alert is one or the other."""
    night = {"startdate": "2026-03-22", "stopdate": "2026-03-23"}
    for n in (3, 10):
        alerts = frame(api.post(Q + "latests", json={"class": "SN candidate", "n": n, **night}))
        rising = frame(api.post(Q + "latests", json={"class": "SN candidate", "n": n, "trend": "rising", **night}))
        fading = frame(api.post(Q + "latests", json={"class": "SN candidate", "n": n, "trend": "fading", **night}))
        rate = alerts["d:mag_rate"]
        assert set(_candids(rising)) == set(alerts["i:candid"][rate < 0])
        assert set(_candids(fading)) == set(alerts["i:candid"][rate > 0])
        assert len(rising) + len(fading) == rate.notna().sum() > 0


def _candids(pdf: pd.DataFrame) -> list:
    return list(pdf["i:candid"]) if len(pdf) else []


def test_fink_compat_latests_trend_errors_as_fink(api):
    message = fink_error(api.post(Q + "latests", json={"class": "SN candidate", "trend": "brightening"}), 400)
    assert "rising" in message and "fading" in message
    message = fink_error(api.post(Q + "latests", json={"class": "SN candidate", "trend": "low_state"}), 400)
    assert "(CTA) Blazar" in message
    r = api.post(Q + "latests", json={"class": "(CTA) Blazar", "trend": "low_state"})
    assert r.status_code == 200 and r.get_json() == []


# -- xmatch ---------------------------------------------------------------------------

def _position(oid):
    alert = next(iter(by_object()[oid].values()))["candidate"]
    return alert["ra"], alert["dec"], alert["jd"]


def alone(count: int) -> list[str]:
    """Objects of the real night with no other object's alert within 10 arcsec (several
    objects of the files share one position)."""
    night = {oid: alerts for oid, alerts in by_object().items() if oid.startswith(("ZTF18", "ZTF23"))}
    ra = np.array([a["candidate"]["ra"] for alerts in night.values() for a in alerts.values()])
    dec = np.array([a["candidate"]["dec"] for alerts in night.values() for a in alerts.values()])
    owner = [oid for oid, alerts in night.items() for _ in alerts]
    picked = []
    for oid in sorted(night):
        r, d, _ = _position(oid)
        near = np.hypot((ra - r) * np.cos(np.radians(d)), dec - d) < 10 / 3600
        if {owner[i] for i in np.flatnonzero(near)} == {oid}:
            picked.append(oid)
        if len(picked) == count:
            break
    assert len(picked) == count
    return picked


def test_fink_compat_xmatch_keeps_user_columns_and_reads_iso_times(api):
    picks = alone(2)
    rows = []
    for i, oid in enumerate(picks):
        ra, dec, jd = _position(oid)
        rows.append({"RA": ra, "Dec": dec, "ID": f"src{i}", "Time": Time(jd, format="jd").isot, "mag": 15.5 + i})
    rows.append({"RA": 10.0, "Dec": -20.0, "ID": "nothing", "Time": "2023-10-18T05:00:00", "mag": 9.0})
    catalog = pd.DataFrame(rows).to_csv(index=False)
    r = api.post(Q + "xmatch", json={"catalog": catalog, "header": "RA,Dec,ID,Time", "radius": 1.5, "window": 2})
    pdf = frame(r)
    assert list(pdf.columns[:5]) == ["RA", "Dec", "ID", "Time", "mag"]  # the user's columns, first, as sent
    assert {"i:objectId", "i:ra", "i:dec", "i:jd", "v:separation_degree"} <= set(pdf.columns)
    assert sorted(zip(pdf["ID"], pdf["i:objectId"])) == [("src0", picks[0]), ("src1", picks[1])]
    assert list(pdf.sort_values("ID")["mag"]) == [15.5, 16.5]
    assert (pdf["v:separation_degree"] < 1.5 / 3600).all()
    # an ISO time far from the alerts and a short window: nothing matches
    far = catalog.replace(rows[0]["Time"], "2019-01-01T00:00:00")
    r = api.post(Q + "xmatch", json={"catalog": far, "header": "RA,Dec,ID,Time", "radius": 1.5, "window": 1})
    assert "src0" not in set(frame(r).get("ID", pd.Series(dtype=str)))


def test_fink_compat_xmatch_time_as_jd_and_bad_time(api):
    oid = alone(1)[0]
    ra, dec, jd = _position(oid)
    catalog = f"ra,dec,name,t\n{ra},{dec},x,{jd}\n"
    pdf = frame(api.post(Q + "xmatch", json={"catalog": catalog, "header": "ra,dec,name,t", "radius": 2, "window": 1}))
    assert list(pdf["name"]) == ["x"] and list(pdf["i:objectId"]) == [oid]
    mjd = catalog.replace(str(jd), str(jd - 2400000.5))
    pdf = frame(api.post(Q + "xmatch", json={"catalog": mjd, "header": "ra,dec,name,t", "radius": 2, "window": 1}))
    assert list(pdf["i:objectId"]) == [oid]
    bad = f"ra,dec,name,t\n{ra},{dec},x,yesterday\n"
    message = fink_error(api.post(Q + "xmatch", json={"catalog": bad, "header": "ra,dec,name,t", "window": 1}), 400)
    assert "'t'" in message and "ISO" in message


# -- anomaly --------------------------------------------------------------------------

def _scored():
    return [r for alerts in by_object().values() for r in alerts.values()
            if r.get("anomaly_score") is not None and np.isfinite(r["anomaly_score"])]


def test_fink_compat_anomaly_as_fink_clients_call_it(api):
    scored = _scored()
    assert len(scored) >= 10
    pdf = frame(api.post(Q + "anomaly", json={"n": 5, "output-format": "json"}))
    assert len(pdf) == 5
    lowest = sorted(scored, key=lambda r: r["anomaly_score"])[:5]
    assert [int(c) for c in pdf["i:candid"]] == [r["candid"] for r in lowest]  # most anomalous first
    assert {"i:objectId", "i:jd", "i:magpsf", "d:anomaly_score", "v:classification"} <= set(pdf.columns)
    default = frame(api.get(Q + "anomaly", query_string={"columns": "i:objectId,d:anomaly_score"}))
    assert len(default) == 10 and list(default.columns) == ["i:objectId", "d:anomaly_score"]  # Fink's n=10


def test_fink_compat_anomaly_date_window_includes_the_stop_day(api):
    scored = _scored()
    newest = max(scored, key=lambda r: r["candidate"]["jd"])
    day = Time(newest["candidate"]["jd"], format="jd").datetime.strftime("%Y-%m-%d")
    start = Time(day).jd
    inside = [r for r in scored if start <= r["candidate"]["jd"] < start + 1]
    pdf = frame(api.post(Q + "anomaly", json={"n": 1000, "start_date": day, "stop_date": day}))
    assert sorted(int(c) for c in pdf["i:candid"]) == sorted(r["candid"] for r in inside)
    assert list(pdf["d:anomaly_score"]) == sorted(pdf["d:anomaly_score"])
