"""PSPL microlensing fits (pyLIMA) recover the parameters of a synthetic blended event."""
from __future__ import annotations

import json

import numpy as np
import pytest

from science.mulens import fit_pspl, initial_guess
from science.mulens_pylima import magnification

T0, U0, TE = 2459150.0, 0.10, 30.0
BASE = {1: 18.5, 2: 18.0}       # baseline (source + blend) magnitude per fid
SOURCE_FRACTION = {1: 0.7, 2: 0.8}


def pspl_event(n=400, seed=4, days=200):
    """ZTF-like sampling (two visits a night on average, as in high-cadence fields) over
    ``days`` around t0, g and r as fids, blended source (70% and 80% of the baseline flux),
    errors 0.02-0.1 mag."""
    rng = np.random.default_rng(seed)
    nights = np.sort(rng.choice(np.arange(days), n)).astype(float)
    jd = T0 - days / 2 + nights + 0.7 + rng.uniform(-0.1, 0.1, n)
    fid = np.where(rng.random(n) < 0.5, 1, 2)
    u = np.hypot(U0, (jd - T0) / TE)
    amp = (u ** 2 + 2) / (u * np.sqrt(u ** 2 + 4))
    total = 10 ** (-0.4 * np.vectorize(BASE.get)(fid))
    fs = total * np.vectorize(SOURCE_FRACTION.get)(fid)
    err = rng.uniform(0.02, 0.1, n)
    mag = -2.5 * np.log10(fs * amp + total - fs) + rng.normal(0, err)
    return jd, mag, err, fid


@pytest.fixture(scope="module")
def fitted():
    jd, mag, err, fid = pspl_event()
    return (jd, mag, err, fid), fit_pspl(jd, mag, err, fid)


def test_recovers_t0_u0_te(fitted):
    _, res = fitted
    assert abs(res["t0"] - T0) < 1.0
    assert abs(res["tE"] / TE - 1) < 0.10
    assert abs(res["u0"] - U0) < 0.05
    for k in ("t0_err", "u0_err", "tE_err"):
        assert res[k] is not None and res[k] > 0
    assert abs(res["tE"] - TE) < 4 * res["tE_err"]
    assert 0.7 < res["chi2"] / res["dof"] < 1.4 and res["dof"] == 400 - 7


def test_fluxes_and_model_curves(fitted):
    (jd, mag, err, fid), res = fitted
    json.dumps(res, allow_nan=False)
    assert res["bands"] == ["g", "r"] and set(res["fs"]) == set(res["fb"]) == {"g", "r"}
    for code, b in ((1, "g"), (2, "r")):
        assert res["mag_baseline"][b] == pytest.approx(BASE[code], abs=0.03)
        frac = res["fs"][b] / (res["fs"][b] + res["fb"][b])
        assert frac == pytest.approx(SOURCE_FRACTION[code], abs=0.15)
        curve = res["model"][b]
        grid, model = np.array(curve["jd"]), np.array(curve["mag"])
        assert np.all(np.diff(grid) > 0) and grid.min() == pytest.approx(jd.min())
        m = fid == code
        resid = (mag[m] - np.interp(jd[m], grid, model)) / err[m]
        assert np.sqrt(np.mean(resid ** 2)) < 1.3


def test_magnification_and_initial_guess():
    assert magnification([T0], T0, 1.0, TE)[0] == pytest.approx(3 / np.sqrt(5))
    jd, mag, err, fid = pspl_event(seed=5)
    t0, u0, tE = initial_guess(jd, mag, np.where(fid == 1, "g", "r"))
    assert abs(t0 - T0) < 5 and 0.01 <= u0 <= 1.5 and 1 <= tE <= 300


def test_fid_ints_and_strings_give_the_same_result(fitted):
    (jd, mag, err, fid), res = fitted
    as_str = fit_pspl(jd, mag, err, np.where(fid == 1, "g", "r"))
    for k in ("t0", "u0", "tE", "chi2"):
        assert as_str[k] == pytest.approx(res[k], rel=1e-9)


def test_nans_dropped_small_bands_skipped_bad_input_refused():
    jd, mag, err, fid = pspl_event(n=120, seed=6)
    mag[3] = np.nan
    band = np.where(fid == 1, "g", "r").astype(object)
    band[:3] = "i"
    res = fit_pspl(jd, mag, err, band)
    assert res["skipped_bands"] == {"i": "3 points, fewer than 5"} and res["bands"] == ["g", "r"]
    assert res["n_points"] == 116
    with pytest.raises(ValueError, match="at least 10"):
        fit_pspl(jd[:9], mag[:9], err[:9], fid[:9])
    with pytest.raises(ValueError, match="lengths differ"):
        fit_pspl(jd, mag, err[:-2], fid)


def difference_imaging_event(seed=7, days=120, u0=0.05, tE=25.0, fs=0.4, n_nights=None):
    """ZTF-like alerts of a blended event: one g and one r visit a night, a detection only
    when the difference flux is above 5 sigma, a non-detection (5-sigma limit) otherwise.
    Returns the DC magnitudes with difference-photometry errors, the reference magnitudes
    and the upper limits."""
    rng = np.random.default_rng(seed)
    nights = np.arange(days) if n_nights is None else np.sort(rng.choice(days, n_nights, replace=False))
    jd = np.repeat(T0 - days / 2 + nights + 0.7, 2) + rng.uniform(-0.1, 0.1, 2 * len(nights))
    fid = np.tile([1, 2], len(nights))
    base = np.vectorize(BASE.get)(fid)
    f_ref = 10 ** (-0.4 * base)
    lim = 20.5 + rng.normal(0, 0.3, len(jd))
    f_lim = 10 ** (-0.4 * lim)
    d_true = fs * f_ref * (magnification(jd, T0, u0, tE) - 1)
    sigma = f_lim / 5 * np.sqrt(1 + (f_ref + d_true) / f_lim)
    d_obs = d_true + sigma * rng.standard_normal(len(jd))
    det = np.abs(d_obs) >= 5 * sigma
    total = f_ref + d_obs
    mag = -2.5 * np.log10(total)
    err = 1.0857 * sigma / total
    upper = {"jd": jd[~det], "band": fid[~det], "maglim": lim[~det]}
    return jd[det], mag[det], err[det], fid[det], {1: BASE[1], 2: BASE[2]}, upper


def test_constrained_fit_with_reference_flux_and_upper_limits():
    u0, tE, fs = 0.05, 25.0, 0.4
    jd, mag, err, fid, ref, upper = difference_imaging_event(u0=u0, tE=tE, fs=fs)
    res = fit_pspl(jd, mag, err, fid, ref_mag=ref, upper_limits=upper)
    json.dumps(res, allow_nan=False)
    assert res["constrained"] and res["n_upper"] == len(upper["jd"]) and res["chi2_upper"] >= 0
    assert abs(res["t0"] - T0) < 0.5 and abs(res["tE"] / tE - 1) < 0.1
    for code, b in ((1, "g"), (2, "r")):
        # the baseline is the reference flux exactly; the blend is not negative
        assert res["mag_baseline"][b] == pytest.approx(BASE[code], abs=1e-6)
        assert res["fb"][b] >= 0 and res["fs"][b] / (res["fs"][b] + res["fb"][b]) == pytest.approx(fs, abs=0.1)
    assert res["dof"] == res["n_points"] - 5  # t0, u0, tE and one source flux per band
    # the limits matter: without them the wings are unconstrained and the fit is not better
    free = fit_pspl(jd, mag, err, fid, ref_mag=ref)
    assert free["n_upper"] == 0 and free["chi2_upper"] == 0
    # a band without a reference flux is skipped in constrained mode
    part = fit_pspl(jd, mag, err, fid, ref_mag={1: BASE[1]}, upper_limits=upper)
    assert part["bands"] == ["g"] and part["skipped_bands"] == {"r": "no reference flux"}


def test_constrained_fit_of_300_points_of_a_long_event():
    # (its time is measured by bench/bench_fits.py, not here)
    jd, mag, err, fid, ref, upper = difference_imaging_event(seed=8, days=400, u0=0.2, tE=100.0, fs=0.9)
    assert len(jd) >= 300
    res = fit_pspl(jd[:300], mag[:300], err[:300], fid[:300], ref_mag=ref, upper_limits=upper)
    assert abs(res["tE"] / 100.0 - 1) < 0.1


def test_objective_at_the_best_fit_is_its_chi2_and_the_truth_scores_no_lower():
    from science.mulens import objective_at
    u0, tE, fs = 0.05, 25.0, 0.4
    jd, mag, err, fid, ref, upper = difference_imaging_event(u0=u0, tE=tE, fs=fs)
    res = fit_pspl(jd, mag, err, fid, ref_mag=ref, upper_limits=upper)
    frac = {b: res["fs"][b] / (res["fs"][b] + res["fb"][b]) for b in res["bands"]}
    at_best = objective_at(jd, mag, err, fid, t0=res["t0"], u0=res["u0"], tE=res["tE"], source_fraction=frac,
                           ref_mag=ref, upper_limits=upper)
    assert at_best["chi2"] == pytest.approx(res["chi2"], rel=1e-6)
    assert at_best["chi2_upper"] == pytest.approx(res["chi2_upper"], rel=1e-6, abs=1e-9)
    at_truth = objective_at(jd, mag, err, fid, t0=T0, u0=u0, tE=tE, source_fraction=fs, ref_mag=ref,
                            upper_limits=upper)
    assert at_best["total"] <= at_truth["total"] + 1e-6  # the fit found the minimum, not worse than the truth
    far = objective_at(jd, mag, err, fid, t0=T0 + 5, u0=u0, tE=tE, source_fraction=fs, ref_mag=ref,
                       upper_limits=upper)
    assert far["total"] > at_truth["total"] + 100
    with pytest.raises(ValueError, match="ref_mag"):
        objective_at(jd, mag, err, fid, t0=T0, u0=u0, tE=tE, source_fraction=fs, ref_mag=None)
    with pytest.raises(ValueError, match="no value for band"):
        objective_at(jd, mag, err, fid, t0=T0, u0=u0, tE=tE, source_fraction={"g": 0.4}, ref_mag=ref)
