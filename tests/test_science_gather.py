"""All the photometry a fit gets (science.gather, api.queries.fits.lightcurve): alerts, the
history's detections by quality, forced photometry as one more optional table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from science.gather import combine, detections, forced_points, history_mask, reference_mags

JD0 = 2460700.5
OID = "ZTF25gathera"


def _part(jd, kind, band=1, mag=18.0):
    n = len(jd)
    return {"jd": np.asarray(jd, float), "mag": np.full(n, mag), "err": np.full(n, 0.05), "band": np.full(n, band),
            "is_dc": np.zeros(n, bool), "diffmag": np.full(n, mag), "differr": np.full(n, 0.05),
            "magnr": np.full(n, np.nan), "meas_err": np.full(n, 0.05), "kind": np.full(n, kind)}


def test_history_quality_choice():
    rb = [0.9, 0.55, 0.3, np.nan]
    assert history_mask(rb, "none").tolist() == [False] * 4
    assert history_mask(rb, "good").tolist() == [True, True, False, False]
    assert history_mask(rb, "all").tolist() == [True] * 4
    with pytest.raises(ValueError, match="history must be one of"):
        history_mask(rb, "best")


def test_combine_orders_by_time_and_keeps_the_first_part_at_a_shared_time():
    out = combine(_part([3.0, 1.0], "alert"), _part([1.0, 2.0], "history", mag=19.0), _part([1.0], "forced", band=2))
    assert out["jd"].tolist() == [1.0, 1.0, 2.0, 3.0]
    assert list(zip(out["kind"].tolist(), out["band"].tolist(), strict=True)) == [
        ("alert", 1), ("forced", 2), ("history", 1), ("alert", 1)]
    assert out["mag"][0] == 18.0  # the alert's, not the history's copy of it
    assert len(combine()["jd"]) == 0


def test_detections_are_dc_where_a_source_is_behind():
    part = detections([JD0, JD0 + 1], [19.0, 19.0], [0.1, 0.1], [1, 2], [17.0, np.nan], [0.02, np.nan],
                      ["t", "t"], [0.3, 0.3], "history")
    assert part["is_dc"].tolist() == [True, False]
    assert part["mag"][0] == pytest.approx(-2.5 * np.log10(10 ** -6.8 + 10 ** -7.6))
    assert part["mag"][1] == 19.0 and part["kind"].tolist() == ["history", "history"]
    assert reference_mags(part) == {1: 17.0}


def test_forced_photometry_table_becomes_dc_and_difference_magnitudes():
    zp = 26.0
    frame = pd.DataFrame({"jd": [JD0, JD0 + 1, JD0 + 2, JD0 + 3, JD0 + 4],
                          "band": [1, 1, 1, 2, 1],
                          "flux": [1000.0, -200.0, 50.0, 1000.0, 1e6],
                          "flux_err": [50.0, 50.0, 50.0, 50.0, 50.0],
                          "zp": [zp] * 5,
                          "procstatus": ["0", "0", "0", "0", "56"]})   # the last is unusable
    part = forced_points(frame, {1: 17.0})
    assert part["jd"].tolist() == [JD0, JD0 + 1, JD0 + 2, JD0 + 3]
    ref = 10 ** (-0.4 * (17.0 - zp))
    # band 1 (a reference): DC magnitude from reference + difference flux, even a negative one
    assert part["mag"][1] == pytest.approx(zp - 2.5 * np.log10(ref - 200))
    assert part["err"][1] == pytest.approx(1.0857362 * 50 / (ref - 200), rel=1e-5)
    assert part["is_dc"].tolist() == [True, True, True, False]
    # difference magnitude only at >= 3 sigma: 1000 +- 50 yes, -200 and 50 +- 50 no
    assert part["diffmag"][0] == pytest.approx(zp - 2.5 * np.log10(1000))
    assert np.isnan(part["diffmag"][1:3]).all()
    # band 2 has no reference: its magnitude is the difference magnitude
    assert part["mag"][3] == pytest.approx(zp - 2.5 * np.log10(1000)) and set(part["kind"]) == {"forced"}


def _put_object(store):
    """An object with 3 alerts, 4 earlier detections (rb 0.9, 0.8, 0.3, none) and an upper limit."""
    main, bad, upper = store.table("main"), store.table("uppervalid"), store.table("upper")
    for i in range(3):
        jd = JD0 + 10 + i
        main.put(main.keys.build(OID, jd, 4000 + i), {
            "i:objectId": OID, "i:jd": jd, "i:magpsf": 18.0 + 0.1 * i, "i:sigmapsf": 0.05, "i:fid": 1 + i % 2,
            "i:candid": 4000 + i, "i:isdiffpos": "t", "i:ra": 10.0, "i:dec": 20.0, "i:magnr": None, "i:distnr": 20.0})
    for i, rb in enumerate([0.9, 0.8, 0.3, None]):
        jd = JD0 + i
        bad.put(bad.keys.build(OID, jd), {"i:objectId": OID, "i:jd": jd, "i:magpsf": 19.0, "i:sigmapsf": 0.1,
                                          "i:fid": 2, "i:candid": 5000 + i, "i:isdiffpos": "t", "i:rb": rb,
                                          "i:distnr": 20.0})
    upper.put(upper.keys.build(OID, JD0 - 1), {"i:jd": JD0 - 1, "i:fid": 1, "i:diffmaglim": 20.5})


def test_lightcurve_takes_history_by_quality_and_a_forced_table(store):
    from api.queries.fits import lightcurve
    _put_object(store)
    counts = {h: len(lightcurve(store, OID, history=h)["jd"]) for h in ("none", "good", "all")}
    assert counts == {"none": 3, "good": 5, "all": 7}
    good = lightcurve(store, OID)
    assert sorted(good["kind"].tolist()) == ["alert"] * 3 + ["history"] * 2
    forced = pd.DataFrame({"jd": [JD0 + 20, JD0 + 21, JD0 + 10], "band": [1, 2, 1], "flux": [500.0, 400.0, 900.0],
                           "flux_err": [20.0] * 3, "zp": [25.0] * 3})
    withfp = lightcurve(store, OID, forced=forced, with_upper=True)
    # the forced point at an alert's time is the alert's
    assert (withfp["kind"] == "forced").sum() == 2 and len(withfp["jd"]) == 7
    assert withfp["upper"]["maglim"].tolist() == [20.5]
