"""Point-source point-lens (PSPL) microlensing fit of a multi-band light curve, with pyLIMA.

A PSPL event magnifies a source by A(u) = (u^2 + 2) / (u sqrt(u^2 + 4)) with
u(t) = sqrt(u0^2 + ((t - t0) / tE)^2); each band sees ``fs * A(t) + fb`` (source and blend
flux). pyLIMA (``PSPLmodel`` and its Trust Region Reflective fit, i.e. scipy's bounded
least squares with pyLIMA's analytic Jacobian) does the fit in flux; fluxes are in pyLIMA's
units, magnitude = 27.4 - 2.5 log10(flux). The starting point comes from the data: t0 at
the brightest point, u0 from the peak magnification, tE from the width at half the peak;
two more starts (u0 = 0.1 and 1) guard against a poor first guess and the fit with the
lowest chi2 is kept. u0 is fitted in [0, 2] (its sign is not constrained by photometry).

**Constrained mode** (``ref_mag`` given: the baseline magnitude of each band, e.g. ZTF's
``magnr`` of the lensed star in the reference image). Difference imaging measures
F(t) - F_ref, so each band's total (baseline) flux is known: pyLIMA fits with its ``ftotal``
blend parametrisation, ``ftotal`` held at F_ref and ``fsource`` bounded to [0, F_ref]
(blend flux F_ref - fsource >= 0): one parameter fewer per band and a physical bound. Pass
magnitudes whose errors come from the difference photometry alone (the reference's own
error is common to all points, so it must not be added to each one). ``upper_limits``
(ZTF non-detections: time, band, ``diffmaglim``) then add a censored-likelihood term: at
those epochs |F - F_ref| stayed below 5 sigma, with sigma^2 = (f_lim/5)^2 (1 + F/f_lim)
(sky noise at the 5-sigma limit f_lim plus the photon noise of the star under the PSF);
each limit adds -2 ln P(non-detection | model) to the chi2. Alerts exist only while the
star is magnified, so the limits carry the information on the wings that separates tE
from u0 and the source flux. The starts are a grid of u0 (0.01-1) and tE (5-80 d) around
the brightest point; the fit with the lowest total (chi2 + limits) is kept.

A light curve of more than ``MAX_POINTS`` usable points (a Rubin object with its forced
photometry: ~1000) is averaged per band and night first (:func:`bin_nightly`): the fit's
cost grows with the points and pyLIMA's per-evaluation overhead, and a night's points
carry one epoch of an event lasting days. Below it nothing is binned: a high-magnification
peak can be narrower than a night. Every result carries quality warnings
(:mod:`science.fit_checks`).

pyLIMA prints progress to stdout; it is captured and discarded. pyLIMA's fit objects, as
these fits build them (the censored term, the constrained starts), are
:mod:`science.mulens_pylima`'s.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np

from science import fit_checks as checks
from science.bands import normalise_bands
from science.inputs import LightCurve, clean_lightcurve, floats, number, require_variation
from science.mulens_pylima import ZERO_POINT, constrained_starts, magnification, make_fit, reference_fluxes, upper_rows

MIN_POINTS = 10
MIN_BAND_POINTS = 5
MODEL_POINTS = 400
MAX_POINTS = 500   # above it the light curve is binned per band and night (the fit's time budget)


def fit_pspl(jd, mag, err, band, ra: float = 270.0, dec: float = -30.0, *,
             ref_mag=None, upper_limits=None) -> dict:
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
    ref_mag : mapping, optional
        {band: baseline magnitude} (reference flux, source + blend). When given, the fit is
        constrained (see the module docstring); bands without one are skipped.
    upper_limits : mapping, optional
        {"jd", "band", "maglim"} arrays of non-detections (5-sigma limiting magnitude of the
        difference image); used in constrained mode, limits in unfitted bands ignored.

    Returns
    -------
    dict with ``t0``, ``u0``, ``tE`` and ``t0_err``, ``u0_err``, ``tE_err``; ``fs``, ``fb``,
    ``fs_err``, ``fb_err`` ({band: flux}), ``mag_source`` and ``mag_baseline`` ({band: mag});
    ``flux_zero_point``; ``chi2``, ``dof``, ``n_points``; ``model`` ({band: {"jd", "mag"}});
    ``bands``, ``skipped_bands``, ``method``; ``constrained`` (bool), ``chi2_upper`` (the
    upper limits' term, 0 without limits) and ``n_upper``; ``time_unit`` ("JD"),
    ``n_measured`` (usable points given) and ``binned`` (True when more than MAX_POINTS
    were averaged per band and night, :func:`bin_nightly`); ``warnings`` (a list of
    {code, message}, :func:`pspl_warnings`).

    Raises
    ------
    ValueError
        Mismatched lengths, fewer than 10 usable points in bands with at least 5 each.
    """
    lc = clean_lightcurve(jd, mag, err, band, MIN_POINTS, "fit_pspl")
    require_variation(lc, "fit_pspl")
    n_measured = len(lc.jd)
    if n_measured > MAX_POINTS:
        lc = bin_nightly(lc)
    ref = reference_fluxes(ref_mag)
    bands, skipped = _bands_used(lc, ref, "fit_pspl")

    used = np.isin(lc.band, bands)
    constrained = ref is not None
    guess = initial_guess(lc.jd[used], lc.mag[used], lc.band[used])
    # pyLIMA prints its progress, and takes log10 of a zero flux guess for its x_scale.
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(divide="ignore"):
        fit = make_fit(lc, bands, ra, dec, ref=ref if constrained else None)
        if constrained:
            fit.upper = upper_rows(upper_limits, bands, ref)
            starts = constrained_starts(fit, lc, used, bands, ref)
        else:
            starts = [([guess[0], u0, _tE_for(guess, u0)], []) for u0 in (guess[1], 0.1, 1.0)]
        best = None
        for model_start, flux_start in starts:
            fit.model_parameters_guess = [float(v) for v in model_start]
            fit.telescopes_fluxes_parameters_guess = [float(v) for v in flux_start]
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
    chi2_upper = float(np.sum(fit.upper_residuals(x) ** 2)) if constrained else 0.0
    n_free = len(names) - (len(bands) if constrained else 0)  # ftotal is held at F_ref
    sig = np.sqrt(np.clip(np.diag(best["covariance_matrix"]), 0, None))
    value = dict(zip(names, x, strict=True))
    error = dict(zip(names, sig, strict=True))
    out = {k: float(value[k]) for k in ("t0", "u0", "tE")}
    out.update({f"{k}_err": number(error[k]) for k in ("t0", "u0", "tE")})
    fs = {b: float(value[f"fsource_{b}"]) for b in bands}
    if constrained:
        fb = {b: float(ref[b] - fs[b]) for b in bands}
        fb_err = {b: number(error[f"fsource_{b}"]) for b in bands}
    else:
        fb = {b: float(value[f"fblend_{b}"]) for b in bands}
        fb_err = {b: number(error[f"fblend_{b}"]) for b in bands}
    out.update({
        "fs": fs, "fb": fb,
        "fs_err": {b: number(error[f"fsource_{b}"]) for b in bands},
        "fb_err": fb_err,
        "mag_source": {b: _mag(fs[b]) for b in bands},
        "mag_baseline": {b: _mag(fs[b] + fb[b]) for b in bands},
        "flux_zero_point": ZERO_POINT,
        "chi2": float(best["chi2"]) - chi2_upper, "dof": int(n_used - n_free), "n_points": int(n_used),
        "chi2_upper": chi2_upper, "n_upper": int(len(fit.upper["jd"])) if constrained else 0,
        "constrained": constrained,
        "model": _curves(lc.jd[used], out, fs, fb),
        "bands": bands, "skipped_bands": skipped,
        "method": ("pyLIMA PSPL, Trust Region Reflective fit, baseline flux fixed to the reference"
                   + (", upper limits as censored data" if constrained and len(fit.upper["jd"]) else "")
                   if constrained else "pyLIMA PSPL, Trust Region Reflective fit")
                  + (f"; {n_measured} points binned per band and night into {len(lc.jd)}"
                     if len(lc.jd) < n_measured else ""),
        "time_unit": "JD", "n_measured": n_measured, "binned": len(lc.jd) < n_measured,
    })
    bounds = {k: fit.fit_parameters[k][1] for k in ("t0", "u0", "tE")}
    out["warnings"] = pspl_warnings(out, bounds, lc.jd[used], {b: int(np.sum(lc.band == b)) for b in bands})
    return out


def pspl_warnings(res: dict, bounds: dict, jd, counts: dict) -> list[dict]:
    """The quality warnings of a PSPL fit (:mod:`science.fit_checks`): t0 or tE at a bound
    of its range (u0 at its upper one), t0 outside the observed times, chi2/dof too large,
    tE with a large relative error, too few points per band."""
    t_lo, t_hi = (float(v) for v in bounds["t0"])
    tE_lo, tE_hi = (float(v) for v in bounds["tE"])
    u_hi = float(bounds["u0"][1])
    return checks.collect(
        checks.at_bound("t0", res["t0"], t_lo, t_hi, " JD"),
        checks.at_bound("tE", res["tE"], tE_lo, tE_hi, " d"),
        checks.at_bound("u0", res["u0"], u_hi, u_hi),
        checks.outside("t0", res["t0"], float(np.min(jd)), float(np.max(jd)), "JD"),
        checks.poor_fit(res["chi2"], res["dof"], "the PSPL model"),
        checks.degenerate("tE", res["tE"], res["tE_err"],
                          "tE is degenerate with u0 and the blending; observations of the event's wings "
                          "and baseline (forced photometry, upper limits) are needed to separate them."),
        checks.few_points(res["skipped_bands"], counts, MIN_BAND_POINTS),
    )


def bin_nightly(lc):
    """The light curve averaged per band and day (JD, noon to noon UTC: one observing
    night at the surveys' sites): flux-weighted means of time and flux, the error of the
    mean. Keeps a long light curve's information on events of a day or more at a cost
    the fit's time budget allows."""
    day = np.floor(lc.jd)
    keys = np.char.add(np.char.add(lc.band.astype(str), "|"), day.astype(np.int64).astype(str))
    uniq, inverse = np.unique(keys, return_inverse=True)
    flux = 10 ** (-0.4 * (lc.mag - ZERO_POINT))
    ferr = flux * lc.err / 1.0857362047581294
    w = 1 / ferr ** 2
    sw = np.bincount(inverse, w)
    mean_flux = np.bincount(inverse, w * flux) / sw
    mean_jd = np.bincount(inverse, w * lc.jd) / sw
    mean_err = 1 / np.sqrt(sw)
    band = np.empty(len(uniq), dtype=lc.band.dtype)
    band[inverse] = lc.band
    ok = mean_flux > 0
    mag = ZERO_POINT - 2.5 * np.log10(np.where(ok, mean_flux, 1.0))
    err = 1.0857362047581294 * mean_err / np.where(ok, mean_flux, 1.0)
    order = np.argsort(mean_jd[ok], kind="stable")
    return LightCurve(mean_jd[ok][order], mag[ok][order], err[ok][order], band[ok][order],
                      np.ones(int(ok.sum()), dtype=bool))


def objective_at(jd, mag, err, band, *, t0: float, u0: float, tE: float, source_fraction, ref_mag,
                 upper_limits=None) -> dict:
    """What the constrained fit minimises, at given parameters instead of the best ones.

    Same inputs as :func:`fit_pspl` in constrained mode (``ref_mag`` required), and the
    same bands; ``source_fraction`` is fs / (fs + fb), one float for every band or
    {band: float}. Returns ``chi2`` (the detections), ``chi2_upper`` (the upper limits'
    censored term) and ``total``: comparing a fit's total with that of other parameters,
    e.g. a simulation's truth, tells an optimiser's miss (the truth scores lower) from a
    degeneracy of the data (the best fit scores as low or lower).
    """
    lc = clean_lightcurve(jd, mag, err, band, MIN_POINTS, "objective_at")
    if len(lc.jd) > MAX_POINTS:  # binned as the fit bins it
        lc = bin_nightly(lc)
    ref = reference_fluxes(ref_mag)
    if ref is None:
        raise ValueError("objective_at needs ref_mag (the constrained fit's baseline)")
    bands, _ = _bands_used(lc, ref, "objective_at")
    if isinstance(source_fraction, (int, float, np.floating)):
        fraction = {b: float(source_fraction) for b in bands}
    else:
        fraction = {str(normalise_bands([k])[0]): float(v) for k, v in dict(source_fraction).items()}
    missing = [b for b in bands if b not in fraction]
    if missing:
        raise ValueError(f"source_fraction has no value for band(s) {missing}")
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(divide="ignore"):
        fit = make_fit(lc, bands, 270.0, -30.0, ref=ref)
        fit.upper = upper_rows(upper_limits, bands, ref)
        given = {"t0": t0, "u0": u0, "tE": tE}
        given.update({f"fsource_{b}": fraction[b] * ref[b] for b in bands})
        given.update({f"ftotal_{b}": ref[b] for b in bands})
        x = np.array([float(given[name]) for name in fit.fit_parameters], dtype=float)
        total = float(np.sum(fit.objective_function(x) ** 2))
        upper = float(np.sum(fit.upper_residuals(x) ** 2))
    return {"chi2": total - upper, "chi2_upper": upper, "total": total}


def _bands_used(lc, ref, what: str) -> tuple[list[str], dict]:
    """The bands a fit uses (at least MIN_BAND_POINTS points, and a reference flux when
    constrained) and why the others are skipped; too few points in all is a ValueError."""
    counts = {b: int(np.sum(lc.band == b)) for b in lc.bands()}
    skipped = {b: f"{counts[b]} points, fewer than {MIN_BAND_POINTS}" for b in lc.bands()
               if counts[b] < MIN_BAND_POINTS}
    if ref is not None:
        skipped.update({b: "no reference flux" for b in lc.bands() if b not in skipped and b not in ref})
    bands = [b for b in lc.bands() if b not in skipped]
    n_used = sum(counts[b] for b in bands)
    if n_used < MIN_POINTS:
        raise ValueError(f"{what} needs at least {MIN_POINTS} points in bands of at least "
                         f"{MIN_BAND_POINTS} points each, got {n_used}")
    return bands, skipped


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
