"""Rubin's skymap route (/lsst/api/v1/skymap, Fink's LSST ``skymap``) over the 107 real Rubin
alerts: a map built here whose credible region covers some of them, sent as Fink's clients
send it (a JSON POST of ``str()`` of the gzipped FITS bytes); the answer is checked against
the alert packets themselves (tests/rubin_inputs.py), on each backend and over ``--url``."""
from __future__ import annotations

import base64
import io

import pandas as pd
import pytest
from astropy.time import Time
from cdshealpix import nested

from api.queries.rubin import column_types
from rubin_inputs import parquet_files, records
from skymaps import DEPTH, gaussian_map, levels, lonlat

LSST = "/lsst/api/v1"
SIGMA = 3.0


@pytest.fixture(scope="module")
def packets():
    return records(parquet_files())


def _first(p) -> float:
    return (p.get("misc") or {}).get("firstDiaSourceMjdTaiFink") or p["diaSource"]["midpointMjdTai"]


def _young(packets):
    """An alert of an object first detected less than 6 days before it."""
    return next(p for p in packets if p["diaSource"]["diaObjectId"]
                and p["diaSource"]["midpointMjdTai"] - _first(p) < 6)


def _expected(packets, ra0, dec0, level, t0, before=1.0, after=6.0) -> dict:
    """(owner -> midpointMjdTai of its newest alert) in the window and the region, for objects
    first detected at most ``after`` days before it; an SSO alert (diaObjectId 0) is its own."""
    lv = levels(ra0, dec0, SIGMA)
    newest = {}
    for p in packets:
        s = p["diaSource"]
        pix = int(nested.lonlat_to_healpix(*lonlat(s["ra"], s["dec"]), DEPTH)[0])
        mjd = s["midpointMjdTai"]
        if t0 - before <= mjd <= t0 + after and mjd - _first(p) <= after and lv[pix] <= level:
            owner = s["diaObjectId"] or f"sso-{s['diaSourceId']}"
            newest[owner] = max(mjd, newest.get(owner, -1.0))
    return newest


def _post(client, payload):
    return client.post(f"{LSST}/skymap", json=payload)


def _frame(resp) -> pd.DataFrame:
    assert resp.status_code == 200, resp.data[:400]
    return pd.read_json(io.BytesIO(resp.data))


def _answer(df: pd.DataFrame) -> dict:
    return {(o or f"sso-{s}"): m for o, s, m in zip(df["r:diaObjectId"], df["r:diaSourceId"], df["r:midpointMjdTai"])}


def test_skymap_answers_the_newest_alert_of_each_object_in_the_region_and_window(rubin_api, packets):
    target = _young(packets)["diaSource"]
    ra0, dec0, t_alert = target["ra"], target["dec"], target["midpointMjdTai"]
    event = Time(t_alert - 0.5, format="mjd", scale="tai").utc.isot  # DATE-OBS is UTC
    payload = {"bayestar": str(gaussian_map(ra0, dec0, SIGMA, event)), "credible_level": 0.9,
               "output-format": "json"}  # what Fink's LSST skymap test sends
    df = _frame(_post(rubin_api, payload))
    assert list(df.columns) == [*column_types("pixel"), "v:startgwMjdTai"]
    t0 = Time(event, scale="utc").tai.mjd
    expected = _expected(packets, ra0, dec0, 0.9, t0)
    assert target["diaObjectId"] in expected and len(expected) > 1
    assert _answer(df) == pytest.approx(expected)
    assert len(df) == len(expected)  # one row an object
    assert df["v:startgwMjdTai"].tolist() == pytest.approx([t0] * len(df), abs=1e-9)
    assert list(df["r:midpointMjdTai"]) == sorted(df["r:midpointMjdTai"], reverse=True)
    # a tighter region holds exactly the objects expected in it; an event after every alert, none
    tight = _frame(_post(rubin_api, dict(payload, credible_level=0.05)))
    assert _answer(tight) == pytest.approx(_expected(packets, ra0, dec0, 0.05, t0))
    assert len(tight) < len(df)
    late = Time(t_alert + 1.5, format="mjd", scale="tai").utc.isot
    assert _post(rubin_api, dict(payload, bayestar=str(gaussian_map(ra0, dec0, SIGMA, late)))).data == b"[]"
    # the same map in RING order, sent as base64, and the answer as CSV give the same objects
    ring = dict(payload, bayestar=base64.b64encode(gaussian_map(ra0, dec0, SIGMA, event, "RING")).decode())
    assert _frame(_post(rubin_api, ring))["r:diaSourceId"].tolist() == df["r:diaSourceId"].tolist()
    csv = _post(rubin_api, dict(payload, **{"output-format": "csv"}))
    assert pd.read_csv(io.BytesIO(csv.data))["r:diaSourceId"].tolist() == df["r:diaSourceId"].tolist()


def test_skymap_days_after_leaves_out_objects_known_for_longer(rubin_api, packets):
    target = _young(packets)["diaSource"]
    ra0, dec0 = target["ra"], target["dec"]
    event = Time(target["midpointMjdTai"] - 0.5, format="mjd", scale="tai").utc.isot
    t0 = Time(event, scale="utc").tai.mjd
    wide = {"bayestar": str(gaussian_map(ra0, dec0, SIGMA, event)), "credible_level": 0.9, "n_day_after": 14}
    got = _answer(_frame(_post(rubin_api, wide)))
    assert got == pytest.approx(_expected(packets, ra0, dec0, 0.9, t0, after=14))
    assert len(got) > len(_expected(packets, ra0, dec0, 0.9, t0))  # 17 against 11 with the default 6 days


def test_skymap_refusals_are_the_one_error_shape(rubin_api):
    for payload, status, words in (
            ({"credible_level": 0.9}, 400, "give the map"),
            ({"event_name": "S251112cm", "credible_level": 0.9}, 400, "GraceDB"),
            ({"bayestar": str(b"\x1f\x8bgarbage"), "credible_level": 0.9}, 400, "bayestar"),
            ({"bayestar": str(gaussian_map(150, 2, SIGMA, "2026-03-10T00:00:00")), "credible_level": 2}, 400,
             "credible_level")):
        r = _post(rubin_api, payload)
        assert r.status_code == status, (payload.keys(), r.data[:200])
        body = r.get_json()
        assert body["status"] == "error" and words in body["message"], body
