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

from scipy.special import log_ndtr, ndtr

from science import fit_checks as checks
from science.bands import normalise_bands
from science.inputs import LightCurve, as_float, clean_lightcurve, floats, number, require_variation

MIN_POINTS = 10
MIN_BAND_POINTS = 5
ZERO_POINT = 27.4  # pyLIMA.toolbox.brightness_transformation.ZERO_POINT
MODEL_POINTS = 400
MAX_POINTS = 500   # above it the light curve is binned per band and night (the fit's time budget)
_LOCK = threading.Lock()


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
    ref = _reference_fluxes(ref_mag)
    bands, skipped = _bands_used(lc, ref, "fit_pspl")

    used = np.isin(lc.band, bands)
    constrained = ref is not None
    guess = initial_guess(lc.jd[used], lc.mag[used], lc.band[used])
    # pyLIMA prints its progress, and takes log10 of a zero flux guess for its x_scale.
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(divide="ignore"):
        fit = _make_fit(lc, bands, ra, dec, ref=ref if constrained else None)
        if constrained:
            fit.upper = _upper_rows(upper_limits, bands, ref)
            starts = _constrained_starts(fit, lc, used, bands, ref)
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
    ref = _reference_fluxes(ref_mag)
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
        fit = _make_fit(lc, bands, 270.0, -30.0, ref=ref)
        fit.upper = _upper_rows(upper_limits, bands, ref)
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


def _make_fit(lc, bands, ra, dec, ref=None):
    """A pyLIMA TRF fit of a PSPL model with one telescope per band, u0 bounded to [0, 2].

    With ``ref`` ({band: baseline flux}) the fluxes are (fsource, ftotal) per band, ftotal
    held at the baseline and fsource bounded to [0, baseline].
    """
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
    model = PSPL_model.PSPLmodel(ev, blend_flux_parameter="fblend" if ref is None else "ftotal")
    with _LOCK:
        original = ml_fit.Manager
        ml_fit.Manager = _PlainManager
        try:
            fit = _censored_trf_class(TRF_fit.TRFfit)(model)
        finally:
            ml_fit.Manager = original
    fit.fit_parameters["u0"][1] = (0.0, 2.0)
    if ref is not None:
        fit.fit_parameters["u0"][1] = (1e-4, 2.0)
        for b in bands:
            fit.fit_parameters[f"fsource_{b}"][1] = (0.0, ref[b])
            fit.fit_parameters[f"ftotal_{b}"][1] = (ref[b] * (1 - FIXED_WIDTH), ref[b] * (1 + FIXED_WIDTH))
    return fit


FIXED_WIDTH = 1e-9     # relative half-width of the box holding ftotal at the reference flux
DETECTION_SIGMA = 5.0  # ZTF's alert threshold, and the meaning of diffmaglim
_LOG_P0 = float(np.log1p(-2 * ndtr(-DETECTION_SIGMA)))  # ln P(non-detection | no signal)


def _reference_fluxes(ref_mag) -> dict | None:
    """{band: baseline flux in pyLIMA units} from {band label: magnitude}, finite ones only."""
    if ref_mag is None:
        return None
    out = {}
    for label, m in dict(ref_mag).items():
        b = str(normalise_bands([label])[0])
        if b and m is not None and np.isfinite(float(m)):
            out[b] = float(10 ** (-0.4 * (float(m) - ZERO_POINT)))
    if not out:
        raise ValueError("ref_mag holds no finite baseline magnitude")
    return out


def _upper_rows(upper_limits, bands, ref) -> dict:
    """Arrays of the usable upper limits: jd, telescope index, limiting flux, baseline flux."""
    empty = {"jd": np.array([]), "tel": np.array([], dtype=int), "flim": np.array([]), "fref": np.array([])}
    if upper_limits is None:
        return empty
    jd = as_float("upper_limits jd", upper_limits["jd"])
    lim = as_float("upper_limits maglim", upper_limits["maglim"])
    lab = normalise_bands(upper_limits["band"])
    if not len(jd) == len(lim) == len(lab):
        raise ValueError("upper_limits: jd, band and maglim lengths differ")
    keep = np.isfinite(jd) & np.isfinite(lim) & np.isin(lab, bands)
    tel = np.array([bands.index(b) for b in lab[keep]], dtype=int)
    return {"jd": jd[keep], "tel": tel, "flim": 10 ** (-0.4 * (lim[keep] - ZERO_POINT)),
            "fref": np.array([ref[bands[t]] for t in tel])}


def _censored_trf_class(base):
    """pyLIMA's TRF fit whose residuals also hold the upper limits' censored term.

    Each limit adds r = sqrt(-2 ln(P / P0)), P the probability that the measured difference
    flux stays within +-5 sigma given the model's difference flux m = fs (A - 1), P0 that
    of m = 0, so sum(r^2) is the -2 ln-likelihood of the non-detections (0 without signal).
    """

    class CensoredTRF(base):
        upper = None
        calls = 0

        def fit(self):
            self.calls = 0
            super().fit()

        def upper_residuals(self, x) -> np.ndarray:
            up = self.upper
            if up is None or not len(up["jd"]):
                return np.zeros(0)
            names = list(self.fit_parameters.keys())
            t0, u0, tE = x[names.index("t0")], x[names.index("u0")], x[names.index("tE")]
            fs = np.array([x[names.index(f"fsource_{tel.name}")] for tel in self.model.event.telescopes])
            m = fs[up["tel"]] * (magnification(up["jd"], t0, u0, tE) - 1)
            sigma = up["flim"] / DETECTION_SIGMA * np.sqrt(1 + np.maximum(up["fref"] + m, 0) / up["flim"])
            z = m / sigma
            lo, hi = log_ndtr(-DETECTION_SIGMA - z), log_ndtr(DETECTION_SIGMA - z)
            log_p = hi + np.log1p(-np.exp(np.minimum(lo - hi, 0.0)))
            return np.sqrt(np.maximum(-2 * (log_p - _LOG_P0), 0.0))

        def objective_function(self, fit_process_parameters):
            self.calls += 1
            if self.calls > MAX_EVALUATIONS:
                raise _TooLong(f"no convergence in {MAX_EVALUATIONS} evaluations")
            res = super().objective_function(fit_process_parameters)
            if self.upper is None:
                return res
            return np.concatenate([res, self.upper_residuals(np.asarray(fit_process_parameters, dtype=float))])

        def residuals_Jacobian(self, fit_process_parameters):
            jac = super().residuals_Jacobian(fit_process_parameters)
            if self.upper is None or not len(self.upper["jd"]):
                return jac
            x = np.asarray(fit_process_parameters, dtype=float)
            rows = np.zeros((len(self.upper["jd"]), len(x)))
            for k, name in enumerate(self.fit_parameters):
                if name.startswith("ftotal_"):
                    continue
                h = 1e-4 if name == "t0" else 1e-6 * max(abs(x[k]), 1e-6)
                lo, hi = x.copy(), x.copy()
                lo[k] -= h
                hi[k] += h
                rows[:, k] = (self.upper_residuals(hi) - self.upper_residuals(lo)) / (2 * h)
            return np.r_[jac, rows]

    return CensoredTRF


class _TooLong(ValueError):
    """A start that has not converged within MAX_EVALUATIONS model evaluations."""


def _constrained_starts(fit, lc, used, bands, ref) -> list:
    """Starts (model, fluxes) on a u0 x tE grid at the brightest point; fsource by least
    squares on the difference flux for each (u0, tE), inside [0, F_ref]."""
    jd, flux = lc.jd[used], 10 ** (-0.4 * (lc.mag[used] - ZERO_POINT))
    ferr = lc.err[used] * flux / 1.0857362047581294
    tel = np.array([bands.index(b) for b in lc.band[used]])
    fref = np.array([ref[b] for b in bands])
    excess = (flux - fref[tel]) / fref[tel]
    snr = (flux - fref[tel]) / ferr
    top = snr >= 0.5 * snr.max()
    t0 = float(jd[top][np.argmax(excess[top])])
    lo, hi = fit.fit_parameters["t0"][1]
    t0 = float(np.clip(t0, lo + 1e-3, hi - 1e-3))
    starts = []
    for u0 in START_U0:
        for tE in START_TE:
            a1 = magnification(jd, t0, u0, tE) - 1
            fluxes = []
            for i, b in enumerate(bands):
                m = tel == i
                w = 1 / ferr[m] ** 2
                fs = np.sum(w * a1[m] * (flux[m] - fref[i])) / max(np.sum(w * a1[m] ** 2), 1e-300)
                fluxes += [float(np.clip(fs, 1e-3 * fref[i], fref[i] * (1 - 1e-6))), float(fref[i])]
            starts.append(([t0, u0, tE], fluxes))
    # rank the grid by the objective at the start (chi2 + limits) and keep the best few
    cost = []
    for model_start, fluxes in starts:
        x = np.array(model_start + fluxes, dtype=float)
        with np.errstate(all="ignore"):
            r = fit.objective_function(x)
        cost.append(float(np.sum(r ** 2)) if np.all(np.isfinite(r)) else np.inf)
    fit.calls = 0
    return [starts[i] for i in np.argsort(cost)[:N_STARTS]]


START_U0 = (0.01, 0.03, 0.1, 0.3, 1.0)
START_TE = (5.0, 10.0, 20.0, 40.0, 80.0)
N_STARTS = 5             # fits run from the best starts of the grid
MAX_EVALUATIONS = 300    # a start still not converged is abandoned


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
