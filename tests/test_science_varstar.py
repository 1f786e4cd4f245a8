"""Period recovery on synthetic RR Lyrae light curves with ZTF-like cadence."""
from __future__ import annotations

import json

import numpy as np
import pytest

from science.varstar import fit_period

PERIOD = 0.5617  # days, an RRab period


def rr_lyrae(n=150, period=PERIOD, seed=1, days=250):
    """Nightly ZTF-like sampling (one visit per night near the same hour), g and r as fids,
    a skewed RRab shape of amplitude 1.0 (g) and 0.75 (r) mag, errors 0.02-0.1 mag."""
    rng = np.random.default_rng(seed)
    nights = np.sort(rng.choice(np.arange(days), n)).astype(float)
    jd = 2459000.5 + nights + 0.7 + rng.uniform(-0.12, 0.12, n)
    fid = np.where(rng.random(n) < 0.5, 1, 2)
    phase = np.mod((jd - 2459000.3) / period, 1.0)
    harmonics = [(0.30, 0.0), (0.15, 0.6), (0.08, 1.1), (0.04, 1.8)]
    shape = sum(a * np.sin(2 * np.pi * k * phase + p) for k, (a, p) in enumerate(harmonics, 1))
    err = rng.uniform(0.02, 0.1, n)
    mag = np.where(fid == 1, 17.2, 16.9) + np.where(fid == 1, 1.0, 0.75) * shape + rng.normal(0, err)
    return jd, mag, err, fid


@pytest.fixture(scope="module")
def fitted():
    jd, mag, err, fid = rr_lyrae()
    return (jd, mag, err, fid), fit_period(jd, mag, err, fid)


def test_recovers_the_period_not_an_alias(fitted):
    _, res = fitted
    assert abs(res["period"] / PERIOD - 1) < 1e-3
    assert 0.5 < res["score"] <= 1.0
    periods, power = np.array(res["periods"]), np.array(res["power"])
    assert 0 < len(periods) <= 2000 and len(periods) == len(power)
    assert abs(periods[np.argmax(power)] / PERIOD - 1) < 5e-3


def test_model_and_phases(fitted):
    (jd, mag, err, fid), res = fitted
    json.dumps(res, allow_nan=False)
    assert set(res["model"]) == {"g", "r"} and res["bands"] == ["g", "r"]
    for curve in res["model"].values():
        assert len(curve["phase"]) == len(curve["mag"]) and 0 <= min(curve["phase"]) < max(curve["phase"]) < 1
    # Peak-to-peak of the fundamental is 0.6 (g) and 0.45 (r) mag.
    assert 0.4 < res["amplitude"]["g"] < 0.8 and 0.3 < res["amplitude"]["r"] < 0.65
    phase = np.array(res["phase"])
    assert len(phase) == len(jd) and ((phase >= 0) & (phase < 1)).all()
    # The folded one-harmonic model takes out most of the variation (not the harmonics).
    for code, b in ((1, "g"), (2, "r")):
        m = fid == code
        model = np.interp(phase[m], res["model"][b]["phase"], res["model"][b]["mag"], period=1.0)
        assert np.std(mag[m] - model) < 0.7 * np.std(mag[m])


def test_search_agrees_with_gatspy_optimizer(fitted):
    from gatspy.periodic import LombScargleMultiband

    (jd, mag, err, fid), res = fitted
    ref = LombScargleMultiband(Nterms_base=1, Nterms_band=1, optimizer_kwds={"quiet": True})
    ref.optimizer.period_range = (0.1, 1.2)
    ref.fit(jd - jd.min(), mag, err, fid)
    assert abs(res["period"] / ref.best_period - 1) < 1e-4


def test_fid_ints_and_strings_give_the_same_result(fitted):
    (jd, mag, err, fid), res = fitted
    as_str = fit_period(jd, mag, err, np.where(fid == 1, "g", "r"))
    assert as_str["period"] == res["period"] and as_str["model"] == res["model"]


def test_given_period_skips_the_search():
    jd, mag, err, fid = rr_lyrae(n=60, seed=2)
    res = fit_period(jd, mag, err, fid, period=PERIOD)
    assert res["period"] == PERIOD and res["periods"] == [] and res["power"] == []
    assert 0 < res["score"] <= 1


def test_nans_are_dropped_and_bad_input_refused():
    jd, mag, err, fid = rr_lyrae(n=60, seed=3)
    mag[4], err[7] = np.nan, -1.0
    res = fit_period(jd, mag, err, fid, period=PERIOD)
    assert res["n_points"] == 58 and res["phase"][4] is None and res["phase"][7] is None
    with pytest.raises(ValueError, match="at least 10"):
        fit_period(jd[:9], mag[:9], err[:9], fid[:9])
    with pytest.raises(ValueError, match="lengths differ"):
        fit_period(jd, mag[:-1], err, fid)
    with pytest.raises(ValueError, match="period_range"):
        fit_period(jd, mag, err, fid, period_range=(1.0, 0.5))
