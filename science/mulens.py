"""Point-source point-lens (PSPL) microlensing fit of a multi-band light curve, with pyLIMA.

A PSPL event magnifies a source by A(u) = (u^2 + 2) / (u sqrt(u^2 + 4)) with
u(t) = sqrt(u0^2 + ((t - t0) / tE)^2); each band sees ``fs * A(t) + fb`` (source and blend
flux). pyLIMA (``PSPLmodel`` and its Trust Region Reflective fit, i.e. scipy's bounded
least squares with pyLIMA's analytic Jacobian) does the fit in flux; fluxes are in pyLIMA's
units, magnitude = 27.4 - 2.5 log10(flux). The starting point comes from the data: t0 at
the brightest point, u0 from the peak magnification, tE from the width at half the peak;
two more starts (u0 = 0.1 and 1) guard against a poor first guess and the fit with the
lowest chi2 is kept. u0 is fitted in [0, 2] (its sign is not constrained by photometry).

pyLIMA prints progress to stdout; it is captured and discarded. Its fit objects also start
three ``multiprocessing.Manager`` server processes to record trials for its parallel
samplers; for this in-process gradient fit they are replaced by plain lists (a guarded,
temporary substitution while the fit object is built) so a web worker forks nothing.
"""
from __future__ import annotations

import contextlib
import io
import threading

import numpy as np

from science.inputs import clean_lightcurve, floats, number, require_variation

MIN_POINTS = 10
MIN_BAND_POINTS = 5
ZERO_POINT = 27.4  # pyLIMA.toolbox.brightness_transformation.ZERO_POINT
MODEL_POINTS = 400
_LOCK = threading.Lock()


def fit_pspl(jd, mag, err, band, ra: float = 270.0, dec: float = -30.0) -> dict:
    """Fit a PSPL model to a light curve with pyLIMA and return parameters and curves.

    Rows with a non-finite value, a non-positive error or no band are dropped; bands with
    fewer than 5 points are left out of the fit (``skipped_bands``). Parallax is not
    modelled, so ``ra``/``dec`` only label the pyLIMA event.

    Parameters
    ----------
    jd, mag, err : array-like
        Times (Julian days), magnitudes and 1-sigma errors.
    band : array-like
        Filter labels: ZTF fids 1/2/3 or strings.
    ra, dec : float
        Position in degrees.

    Returns
    -------
    dict with ``t0``, ``u0``, ``tE`` and ``t0_err``, ``u0_err``, ``tE_err``; ``fs``, ``fb``,
    ``fs_err``, ``fb_err`` ({band: flux}), ``mag_source`` and ``mag_baseline`` ({band: mag});
    ``flux_zero_point``; ``chi2``, ``dof``, ``n_points``; ``model`` ({band: {"jd", "mag"}});
    ``bands``, ``skipped_bands``, ``method``.

    Raises
    ------
    ValueError
        Mismatched lengths, fewer than 10 usable points in bands with at least 5 each.
    """
    lc = clean_lightcurve(jd, mag, err, band, MIN_POINTS, "fit_pspl")
    require_variation(lc, "fit_pspl")
    counts = {b: int(np.sum(lc.band == b)) for b in lc.bands()}
    bands = [b for b in lc.bands() if counts[b] >= MIN_BAND_POINTS]
    skipped = {b: f"{counts[b]} points, fewer than {MIN_BAND_POINTS}" for b in lc.bands() if b not in bands}
    n_used = sum(counts[b] for b in bands)
    if n_used < MIN_POINTS:
        raise ValueError(f"fit_pspl needs at least {MIN_POINTS} points in bands of at least "
                         f"{MIN_BAND_POINTS} points each, got {n_used}")

    used = np.isin(lc.band, bands)
    guess = initial_guess(lc.jd[used], lc.mag[used], lc.band[used])
    # pyLIMA prints its progress, and takes log10 of a zero flux guess for its x_scale.
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(divide="ignore"):
        fit = _make_fit(lc, bands, ra, dec)
        best = None
        for u0 in (guess[1], 0.1, 1.0):
            start = [guess[0], u0, _tE_for(guess, u0)]
            fit.model_parameters_guess = [float(v) for v in start]
            fit.telescopes_fluxes_parameters_guess = []
            fit.fit_results = {}
            try:
                fit.fit()
            except (ValueError, FloatingPointError, np.linalg.LinAlgError):
                continue
            res = fit.fit_results
            if res and (best is None or res["chi2"] < best["chi2"]):
                best = dict(res)
    if best is None:
        raise ValueError("fit_pspl: pyLIMA could not start the fit from the initial guess")

    names = list(fit.fit_parameters.keys())
    n_used = sum(len(tel.lightcurve) for tel in fit.model.event.telescopes)  # pyLIMA drops duplicates
    x = np.asarray(best["best_model"], dtype=float)
    sig = np.sqrt(np.clip(np.diag(best["covariance_matrix"]), 0, None))
    value = dict(zip(names, x, strict=True))
    error = dict(zip(names, sig, strict=True))
    out = {k: float(value[k]) for k in ("t0", "u0", "tE")}
    out.update({f"{k}_err": number(error[k]) for k in ("t0", "u0", "tE")})
    fs = {b: float(value[f"fsource_{b}"]) for b in bands}
    fb = {b: float(value[f"fblend_{b}"]) for b in bands}
    out.update({
        "fs": fs, "fb": fb,
        "fs_err": {b: number(error[f"fsource_{b}"]) for b in bands},
        "fb_err": {b: number(error[f"fblend_{b}"]) for b in bands},
        "mag_source": {b: _mag(fs[b]) for b in bands},
        "mag_baseline": {b: _mag(fs[b] + fb[b]) for b in bands},
        "flux_zero_point": ZERO_POINT,
        "chi2": float(best["chi2"]), "dof": int(n_used - len(names)), "n_points": int(n_used),
        "model": _curves(lc.jd[used], out, fs, fb),
        "bands": bands, "skipped_bands": skipped,
        "method": "pyLIMA PSPL, Trust Region Reflective fit",
    })
    return out


def magnification(jd, t0: float, u0: float, tE: float) -> np.ndarray:
    """PSPL magnification A(t), computed by pyLIMA's ``magnification_PSPL``.

    Parameters
    ----------
    jd : array-like
        Times, Julian days.
    t0, u0, tE : float
        Time of closest approach, impact parameter (Einstein radii), Einstein time (days).
    """
    from pyLIMA.magnification.magnification_PSPL import magnification_PSPL

    jd = np.asarray(jd, dtype=float)
    return magnification_PSPL((jd - t0) / tE, np.full(jd.shape, float(u0)))


def initial_guess(jd, mag, band) -> tuple[float, float, float]:
    """Starting (t0, u0, tE) from the light curve, assuming no blending.

    Each band's baseline is its 80th percentile magnitude (faint end); the excess flux over
    it peaks at t0; u0 follows from the peak magnification and tE from the time span over
    which the excess stays above half its peak.
    """
    excess = np.empty(len(jd))
    for b in np.unique(band):
        m = band == b
        excess[m] = 10 ** (-0.4 * (mag[m] - np.percentile(mag[m], 80))) - 1
    i = int(np.argmax(excess))
    t0, a_max = float(jd[i]), 1.0 + max(float(excess[i]), 0.05)
    u0 = _u_of_a(a_max)
    half = excess > (a_max - 1) / 2
    order = np.argsort(jd)
    j = int(np.searchsorted(jd[order], t0))
    lo = hi = min(j, len(jd) - 1)
    while lo > 0 and half[order][lo - 1]:
        lo -= 1
    while hi < len(jd) - 1 and half[order][hi + 1]:
        hi += 1
    width = max(float(jd[order][hi] - jd[order][lo]), 1.0)
    u_half = _u_of_a(1.0 + (a_max - 1) / 2)
    tE = 0.5 * width / np.sqrt(max(u_half ** 2 - u0 ** 2, 1e-6))
    return t0, float(np.clip(u0, 0.01, 1.5)), float(np.clip(tE, 1.0, 300.0))


def _u_of_a(a: float) -> float:
    """Impact parameter at which the PSPL magnification equals ``a`` (> 1)."""
    return float(np.sqrt(max(2 * a / np.sqrt(a * a - 1) - 2, 0.0)))


def _tE_for(guess, u0: float) -> float:
    """tE that keeps the half-peak width of ``guess`` when u0 changes."""
    t0, u_g, tE_g = guess
    a = (u_g ** 2 + 2) / (u_g * np.sqrt(u_g ** 2 + 4))
    u_half_g = _u_of_a(1 + (a - 1) / 2)
    half_width = tE_g * np.sqrt(max(u_half_g ** 2 - u_g ** 2, 1e-6))
    a2 = (u0 ** 2 + 2) / (u0 * np.sqrt(u0 ** 2 + 4))
    u_half = _u_of_a(1 + (a2 - 1) / 2)
    return float(np.clip(half_width / np.sqrt(max(u_half ** 2 - u0 ** 2, 1e-6)), 1.0, 300.0))


class _PlainManager:
    """Stand-in for ``multiprocessing.Manager()`` whose lists are ordinary lists."""

    def list(self):
        return []


def _make_fit(lc, bands, ra, dec):
    """A pyLIMA TRF fit of a PSPL model with one telescope per band, u0 bounded to [0, 2]."""
    import pyLIMA.fits.ML_fit as ml_fit
    from pyLIMA import event, telescopes
    from pyLIMA.fits import TRF_fit
    from pyLIMA.models import PSPL_model

    ev = event.Event(ra=ra, dec=dec)
    ev.name = "nocturne"
    for b in bands:
        m = lc.band == b
        order = np.argsort(lc.jd[m])
        data = np.c_[lc.jd[m][order], lc.mag[m][order], lc.err[m][order]]
        ev.telescopes.append(telescopes.Telescope(
            name=b, camera_filter=b, lightcurve=data, lightcurve_names=["time", "mag", "err_mag"],
            lightcurve_units=["JD", "mag", "mag"]))
    ev.find_survey(bands[0])
    ev.check_event()
    model = PSPL_model.PSPLmodel(ev, blend_flux_parameter="fblend")
    with _LOCK:
        original = ml_fit.Manager
        ml_fit.Manager = _PlainManager
        try:
            fit = TRF_fit.TRFfit(model)
        finally:
            ml_fit.Manager = original
    fit.fit_parameters["u0"][1] = (0.0, 2.0)
    return fit


def _mag(flux: float) -> float | None:
    return number(ZERO_POINT - 2.5 * np.log10(flux)) if flux > 0 else None


def _curves(jd, p, fs, fb) -> dict:
    """Model magnitudes per band on a grid over the data, denser within 3 tE of t0."""
    lo, hi = float(jd.min()), float(jd.max())
    near = np.linspace(max(lo, p["t0"] - 3 * p["tE"]), min(hi, p["t0"] + 3 * p["tE"]), MODEL_POINTS // 2)
    grid = np.unique(np.concatenate([np.linspace(lo, hi, MODEL_POINTS // 2), near]))
    amp = magnification(grid, p["t0"], p["u0"], p["tE"])
    curves = {}
    for b in fs:
        flux = fs[b] * amp + fb[b]
        with np.errstate(invalid="ignore", divide="ignore"):
            mag = np.where(flux > 0, ZERO_POINT - 2.5 * np.log10(np.where(flux > 0, flux, 1)), np.nan)
        curves[b] = {"jd": floats(grid), "mag": floats(mag)}
    return curves
