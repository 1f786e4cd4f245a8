"""Each quality warning of the fits (science.fit_checks), from a fit that hits its case.

Synthetic light curves, seeded: a well-sampled PSPL event and a supernova observed from rise
to decline give no warning; cut or mis-weighted versions of them give each code.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from science import fit_checks
from science.mulens import fit_pspl
from science.supernova import fit_lightcurve

T0 = 2459150.0
PEAK = 2459100.0


def pspl(u0=0.1, tE=30.0, n=200, err=(0.02, 0.1), start=T0 - 100, stop=T0 + 100, seed=4):
    """A blended PSPL event (70 % source flux, baseline 18) in g and r."""
    rng = np.random.default_rng(seed)
    jd = np.sort(rng.uniform(start, stop, n))
    fid = rng.integers(1, 3, n)
    u = np.hypot(u0, (jd - T0) / tE)
    amp = (u ** 2 + 2) / (u * np.sqrt(u ** 2 + 4))
    e = rng.uniform(*err, n)
    return jd, 18 - 2.5 * np.log10(0.7 * amp + 0.3) + rng.normal(0, e), e, fid


def supernova(start=PEAK - 20, stop=PEAK + 60, n=30, seed=1):
    """A Bazin supernova in r (peak near PEAK, 1000 uJy), 20 uJy errors."""
    rng = np.random.default_rng(seed)
    jd = np.sort(rng.uniform(start, stop, n))
    x = jd - PEAK + 5
    flux = 1000 * np.exp(-x / 30) / (1 + np.exp(-x / 3)) + rng.normal(0, 20, n)
    with np.errstate(invalid="ignore"):  # a negative flux has no magnitude: the fit drops it
        return jd, 23.9 - 2.5 * np.log10(flux), 1.0857 * 20 / flux, np.full(n, 2)


def codes(result) -> list[str]:
    json.dumps(result["warnings"], allow_nan=False)
    for w in result["warnings"]:
        assert set(w) == {"code", "message"} and w["code"] in fit_checks.CODES and w["message"].endswith(".")
    return [w["code"] for w in result["warnings"]]


def test_good_fits_have_no_warning():
    assert codes(fit_pspl(*pspl())) == []
    assert codes(fit_lightcurve(*supernova())) == []


def test_parameter_at_bound_and_peak_outside_data_when_only_the_rise_is_seen():
    res = fit_pspl(*pspl(stop=T0 - 10))  # the event peaks after the last point
    assert "parameter_at_bound" in codes(res)
    at = next(w for w in res["warnings"] if w["code"] == "parameter_at_bound")
    assert "t0" in at["message"] or "tE" in at["message"]
    sn = fit_lightcurve(*supernova(start=PEAK - 25, stop=PEAK - 5))
    assert "peak_outside_data" in codes(sn)
    assert sn["bands"]["r"]["t_peak"] > PEAK - 5  # the maximum lies after the data


def test_peak_time_uncertain_when_the_peak_is_not_sampled():
    sn = fit_lightcurve(*supernova(start=PEAK + 20, stop=PEAK + 70))  # the decline alone
    assert "peak_time_uncertain" in codes(sn)
    err = sn["bands"]["r"]["t_peak_err"]
    assert err is None or err > 50


def test_poor_fit_when_errors_are_underestimated():
    jd, mag, err, fid = pspl()
    res = fit_pspl(jd, mag, err / 5, fid)
    assert codes(res) == ["poor_fit"]
    assert res["chi2"] / res["dof"] > fit_checks.CHI2_DOF_MAX


def test_degenerate_te_when_only_the_magnified_core_is_seen():
    res = fit_pspl(*pspl(u0=0.5, tE=80, n=40, err=(0.03, 0.05), start=T0 - 5, stop=T0 + 5))
    assert "degenerate_parameters" in codes(res)
    assert res["tE_err"] is None or res["tE_err"] > fit_checks.REL_ERR_MAX * res["tE"]


def test_few_points_per_band():
    jd, mag, err, fid = pspl()
    thin = np.r_[np.flatnonzero(fid == 1), np.flatnonzero(fid == 2)[:3]]  # 3 r points: r is skipped
    res = fit_pspl(jd[thin], mag[thin], err[thin], fid[thin])
    assert res["skipped_bands"] == {"r": "3 points, fewer than 5"}
    assert "few_points_per_band" in codes(res)
    sn = fit_lightcurve(*supernova(n=8))
    assert "few_points_per_band" in codes(sn)


def test_fit_results_name_their_time_unit():
    assert fit_pspl(*pspl())["time_unit"] == "JD"
    assert fit_lightcurve(*supernova())["time_unit"] == "JD"


def test_unknown_code_refused():
    with pytest.raises(ValueError, match="unknown warning code"):
        fit_checks.warning("looks_odd", "Something.")


def test_thin_band_warning_says_the_band_was_fitted():
    """A band with enough points to fit but fewer than twice that is fitted: the message must
    not read as if the band lacked the minimum (it once said "u: 8; at least 5 needed")."""
    found = fit_checks.few_points({}, {"u": 8, "g": 40}, 5)
    assert [w["code"] for w in found] == ["few_points_per_band"]
    message = found[0]["message"]
    assert "u: 8" in message and "g:" not in message
    assert "fitted" in message and "fewer than 10" in message and "needed" not in message
    skipped = fit_checks.few_points({"r": "3 points, fewer than 5"}, {}, 5)
    assert skipped[0]["message"] == "Band r was not fitted: 3 points, fewer than 5."
