"""Period recovery on synthetic RR Lyrae light curves with ZTF-like cadence."""
from __future__ import annotations

import json

import numpy as np
import pytest

from science.varstar import fit_period
from tests.conftest import shared_data

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


def codes(result) -> set[str]:
    """The warning codes of a fit, after checking each warning's shape."""
    for w in result["warnings"]:
        assert set(w) == {"code", "message"} and w["code"].replace("_", "").isalpha() and w["code"].islower()
        assert w["message"][0].isupper() and w["message"].endswith(".") and len(w["message"]) > 40
    return {w["code"] for w in result["warnings"]}


def test_a_clean_fit_has_no_warning_and_says_its_time_unit(fitted):
    _, res = fitted
    assert res["warnings"] == [] and res["time_unit"] == "JD"
    assert res["false_alarm_probability"] < 1e-10 and res["nterms_chosen"]
    assert 2459000 < res["epoch"] < 2459300  # a JD like the input, not an MJD
    assert res["n_parameters"] <= res["n_points"] / 4


def test_the_issues_overfit_case_gets_the_smallest_model_and_a_warning():
    # 12 points of an RR Lyrae (P = 0.5308 d): 3 shared + 1 per-band terms are 12 parameters,
    # refused; the defaults choose 1 shared term and the band offsets, and say it is still many
    jd, mag, err, fid = rr_lyrae(n=12, period=0.5308, seed=0, days=60)
    with pytest.raises(ValueError, match="12 model parameters"):
        fit_period(jd, mag, err, fid, nterms_base=3, nterms_band=1)
    res = fit_period(jd, mag, err, fid)
    assert (res["nterms_base"], res["nterms_band"]) == (1, 0)
    assert "parameters_near_points" in codes(res)
    assert max(res["amplitude"].values()) < 1.5  # not the 3.7 mag of the overfit model


def test_defaults_on_a_short_curve_find_the_period_where_three_terms_warn():
    jd, mag, err, fid = rr_lyrae(n=24, period=0.5308, seed=0, days=60)
    res = fit_period(jd, mag, err, fid)
    assert abs(res["period"] / 0.5308 - 1) < 1e-2 and "parameters_near_points" not in codes(res)
    assert res["n_parameters"] <= 24 / 4
    forced = fit_period(jd, mag, err, fid, nterms_base=3, nterms_band=1)  # 12 parameters, 24 points
    assert "parameters_near_points" in codes(forced)


def test_noise_has_no_significant_peak():
    rng = np.random.default_rng(5)
    jd = 2459000.5 + np.sort(rng.uniform(0, 200, 80))
    err = np.full(80, 0.05)
    res = fit_period(jd, 17 + rng.normal(0, 0.05, 80), err, np.where(np.arange(80) % 2, 1, 2))
    assert "no_significant_peak" in codes(res) and res["false_alarm_probability"] > 0.01


def test_a_band_with_few_points_is_named():
    jd, mag, err, fid = rr_lyrae(n=80, seed=4)
    fid[:3] = 3  # three points in i
    res = fit_period(jd, mag, err, fid)
    assert "few_points_per_band" in codes(res)
    assert "i: 3" in next(w["message"] for w in res["warnings"] if w["code"] == "few_points_per_band")


def test_a_period_outside_the_range_is_flagged_at_its_edge():
    # times at random hours (no daily alias) over 30 days, a 1.22-day period: its peak is wider
    # than the gap to 1.2 d, so the best in 0.1-1.2 d is on the edge
    rng = np.random.default_rng(6)
    jd = 2459000.5 + np.sort(rng.uniform(0, 30, 80))
    fid, err = np.where(np.arange(80) % 2, 1, 2), np.full(80, 0.03)
    mag = 17 + 0.4 * np.sin(2 * np.pi * jd / 1.22) + rng.normal(0, 0.03, 80)
    res = fit_period(jd, mag, err, fid, period_range=(0.1, 1.2))
    assert "period_at_range_edge" in codes(res) and res["period"] > 1.19
    inside = fit_period(jd, mag, err, fid, period_range=(0.1, 5.0))
    assert "period_at_range_edge" not in codes(inside) and abs(inside["period"] / 1.22 - 1) < 1e-2


# The first stars of the Stripe 82 catalogue (Sesar et al. 2010), in its order: real sparse
# five-band light curves over ~8 years (the full 150 are in bench/bench_periods.py).
STRIPE82_FIRST = 12


def test_stripe82_rr_lyrae_periods_are_recovered():
    from bench.stripe82 import load
    stars = load(shared_data())[:STRIPE82_FIRST]
    found = [fit_period(s.mjd + 2400000.5, s.mag, s.err, s.band)["period"] for s in stars]
    within = [abs(p / s.period - 1) < 1e-3 for p, s in zip(found, stars, strict=True)]
    assert sum(within) >= STRIPE82_FIRST - 1, list(zip([s.id for s in stars], found, within, strict=True))
