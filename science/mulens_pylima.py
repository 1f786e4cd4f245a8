"""pyLIMA's PSPL fit as :mod:`science.mulens` runs it: the event (one telescope per band),
the Trust Region Reflective fit with the upper limits' censored term in its residuals, the
constrained fit's grid of starts, and the PSPL magnification.

pyLIMA's fit objects start three ``multiprocessing.Manager`` server processes to record
trials for its parallel samplers; for this in-process gradient fit they are replaced by
plain lists (a guarded, temporary substitution while the fit object is built) so a web
worker forks nothing.
"""
from __future__ import annotations

import threading

import numpy as np

from scipy.special import log_ndtr, ndtr

from science.bands import normalise_bands
from science.inputs import as_float

ZERO_POINT = 27.4  # pyLIMA.toolbox.brightness_transformation.ZERO_POINT
_LOCK = threading.Lock()


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


class _PlainManager:
    """Stand-in for ``multiprocessing.Manager()`` whose lists are ordinary lists."""

    def list(self):
        return []


def make_fit(lc, bands, ra, dec, ref=None):
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


def reference_fluxes(ref_mag) -> dict | None:
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


def upper_rows(upper_limits, bands, ref) -> dict:
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


def constrained_starts(fit, lc, used, bands, ref) -> list:
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
