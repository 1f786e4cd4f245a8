"""Fink compatibility: what a replay of real Fink client code found missing.

Each case is a request shaped as Fink's route tests or documentation send it (see the
other test_fink_compat_* files), with the check that code makes on the answer. They were
found by replaying that code, unchanged but for the base URL and the ids, against a server
over the real night.
"""
import io

import numpy as np
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
