"""Bazin fits recover the peak of synthetic supernovae; g - r colour pairs observations."""
from __future__ import annotations

import json

import numpy as np
import pytest

from science.supernova import bazin, colour, fit_lightcurve

T_PEAK = 2459100.0
TRUTH = {1: dict(tau_rise=3.0, tau_fall=20.0, peak=18.3), 2: dict(tau_rise=4.0, tau_fall=30.0, peak=18.4)}


def supernova(n=200, seed=0, limit=20.8):
    """Random ZTF-like times from 25 days before peak to 95 days after, g and r as fids,
    Bazin light curves in flux, errors 0.02-0.1 mag, only detections brighter than ``limit``."""
    rng = np.random.default_rng(seed)
    jd = np.sort(T_PEAK - 25 + rng.uniform(0, 120, n))
    fid = np.where(rng.random(n) < 0.5, 1, 2)
    mag, err = np.empty(n), rng.uniform(0.02, 0.1, n)
    for code, c in TRUTH.items():
        t0 = T_PEAK - c["tau_rise"] * np.log(c["tau_fall"] / c["tau_rise"] - 1)
        amp = 10 ** (-0.4 * (c["peak"] - 23.9)) / bazin(T_PEAK, 1, 0, t0, c["tau_rise"], c["tau_fall"])
        m = fid == code
        flux = bazin(jd[m], amp, 0.0, t0, c["tau_rise"], c["tau_fall"])
        mag[m] = 23.9 - 2.5 * np.log10(flux) + rng.normal(0, err[m])
    keep = mag < limit
    return jd[keep], mag[keep], err[keep], fid[keep]


@pytest.fixture(scope="module")
def fitted():
    jd, mag, err, fid = supernova()
    return (jd, mag, err, fid), fit_lightcurve(jd, mag, err, fid)


def test_recovers_peak_and_time_scales(fitted):
    _, res = fitted
    json.dumps(res, allow_nan=False)
    for code, b in ((1, "g"), (2, "r")):
        r, c = res["bands"][b], TRUTH[code]
        assert abs(r["t_peak"] - T_PEAK) < 2.0
        assert 0 < r["t_peak_err"] < 2.0
        assert r["peak_mag"] == pytest.approx(c["peak"], abs=0.1)
        assert r["tau_rise"] == pytest.approx(c["tau_rise"], rel=0.3)
        assert r["tau_fall"] == pytest.approx(c["tau_fall"], rel=0.2)
        assert 0.6 < r["chi2"] / r["dof"] < 1.6
    assert res["dof"] == sum(r["dof"] for r in res["bands"].values())


def test_model_curves_follow_the_data(fitted):
    (jd, mag, err, fid), res = fitted
    for code, b in ((1, "g"), (2, "r")):
        grid, model = np.array(res["model"][b]["jd"]), np.array(res["model"][b]["mag"], dtype=float)
        m = fid == code
        resid = (mag[m] - np.interp(jd[m], grid, model)) / err[m]
        assert np.sqrt(np.mean(resid ** 2)) < 1.4


def test_fid_ints_and_strings_give_the_same_result(fitted):
    (jd, mag, err, fid), res = fitted
    assert fit_lightcurve(jd, mag, err, np.where(fid == 1, "g", "r")) == res


def test_bad_input():
    jd, mag, err, fid = supernova(n=60, seed=1)
    mag[0] = np.nan
    res = fit_lightcurve(jd, mag, err, np.where(fid == 1, "g", "I"))
    assert set(res["bands"]) == {"g", "I"}
    with pytest.raises(ValueError, match="at least 6"):
        fit_lightcurve(jd[:5], mag[:5], err[:5], fid[:5])
    with pytest.raises(ValueError, match="lengths differ"):
        fit_lightcurve(jd, mag, err, fid[:-1])


def test_colour_pairs_g_and_r_within_half_a_day():
    nights = np.arange(0.0, 40.0, 2.0) + T_PEAK
    g_r = -0.1 + 0.02 * (nights - T_PEAK)          # reddening by 0.02 mag per day
    jd = np.concatenate([nights + 0.70, nights + 0.73, [T_PEAK + 50.0]])
    mag = np.concatenate([18.0 + g_r, np.full(len(nights), 18.0), [19.0]])
    band = np.concatenate([np.full(len(nights), 1), np.full(len(nights), 2), [1]])
    err = np.full(len(jd), 0.05)
    jd = np.append(jd, T_PEAK + 0.71)                 # a second r visit that night: not reused
    mag, band, err = np.append(mag, 18.2), np.append(band, 2), np.append(err, 0.05)
    out = colour(jd, mag, band, err=err)
    json.dumps(out, allow_nan=False)
    assert out["label"] == "g-r" and len(out["jd"]) == len(nights)
    np.testing.assert_allclose(out["colour"][1:], g_r[1:], atol=1e-9)
    assert out["colour"][0] == pytest.approx(18.0 + g_r[0] - 18.2)   # the closest r is paired
    np.testing.assert_allclose(out["err"], np.hypot(0.05, 0.05))
    assert max(abs(d) for d in out["dt"]) <= 0.5
    as_str = colour(jd, mag, np.where(band == 1, "g", "r"), err=err)
    assert as_str == out
    assert colour(jd, mag, band, max_dt=0.001)["jd"] == []
