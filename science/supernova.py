"""Supernova light-curve fit (Bazin model, per band) and g - r colour evolution.

Each band's flux (microjansky, AB zero point 23.9) is fitted with the Bazin et al. (2009)
function

    f(t) = A exp(-(t - t0) / tau_fall) / (1 + exp(-(t - t0) / tau_rise)) + B

by bounded weighted least squares (scipy), from a few starting points placed so that the
model peaks at the brightest observation; the lowest chi2 wins. The peak of the model is at
t0 + tau_rise ln(tau_fall / tau_rise - 1) when tau_fall > tau_rise (otherwise the highest
model point within the data). Parameter errors come from the Jacobian at the optimum,
scaled by chi2/dof as pyLIMA does; the peak-time error is propagated from them.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from science import fit_checks as checks
from science.bands import normalise_bands
from science.inputs import as_float, clean_lightcurve, floats, number, require_variation

ZP_UJY = 23.9
MIN_BAND_POINTS = 6
MODEL_POINTS = 300
PARAMS = ("A", "B", "t0", "tau_rise", "tau_fall")
LN10_OVER_2P5 = np.log(10.0) / 2.5


def bazin(t, A, B, t0, tau_rise, tau_fall) -> np.ndarray:
    """The Bazin function at times ``t``, computed without overflow.

    Parameters
    ----------
    t : array-like
        Times (same unit as t0 and the time scales, days).
    A, B : float
        Amplitude and constant baseline flux.
    t0 : float
        Reference time (not the peak).
    tau_rise, tau_fall : float
        Rise and decline time scales, days.
    """
    x = np.asarray(t, dtype=float) - t0
    exponent = -x / tau_fall - np.logaddexp(0.0, -x / tau_rise)
    return A * np.exp(np.minimum(exponent, 700.0)) + B


def fit_lightcurve(jd, mag, err, band) -> dict:
    """Fit the Bazin model to each band of a supernova light curve.

    Rows with a non-finite value, a non-positive error or no band are dropped; bands with
    fewer than 6 points are not fitted (``skipped_bands``).

    Parameters
    ----------
    jd, mag, err : array-like
        Times (Julian days), magnitudes (AB) and 1-sigma errors.
    band : array-like
        Filter labels: ZTF fids 1/2/3 or strings.

    Returns
    -------
    dict with ``bands`` ({band: {t_peak, t_peak_err, peak_mag, tau_rise, tau_rise_err,
    tau_fall, tau_fall_err, A, B, t0 (and their _err), chi2, dof, n_points}}), total
    ``chi2`` and ``dof``, ``model`` ({band: {"jd", "mag"}}), ``skipped_bands``,
    ``flux_unit``, ``time_unit`` ("JD") and ``warnings`` ({code, message} each,
    :func:`band_warnings` and too few points per band).

    Raises
    ------
    ValueError
        Mismatched lengths, or no band with at least 6 usable points.
    """
    lc = clean_lightcurve(jd, mag, err, band, MIN_BAND_POINTS, "fit_lightcurve")
    require_variation(lc, "fit_lightcurve")
    flux = 10 ** (-0.4 * (lc.mag - ZP_UJY))
    flux_err = flux * lc.err * LN10_OVER_2P5
    grid = np.linspace(lc.jd.min(), lc.jd.max(), MODEL_POINTS)
    results, curves, skipped = {}, {}, {}
    for b in lc.bands():
        m = lc.band == b
        if m.sum() < MIN_BAND_POINTS:
            skipped[b] = f"{int(m.sum())} points, fewer than {MIN_BAND_POINTS}"
            continue
        results[b] = _fit_band(lc.jd[m], flux[m], flux_err[m], grid)
        model = bazin(grid, *(results[b][k] for k in PARAMS))
        with np.errstate(invalid="ignore", divide="ignore"):
            curves[b] = {"jd": floats(grid), "mag": floats(np.where(model > 0, ZP_UJY - 2.5 * np.log10(
                np.where(model > 0, model, 1.0)), np.nan))}
    if not results:
        raise ValueError(f"fit_lightcurve needs at least {MIN_BAND_POINTS} usable points in one band, "
                         f"got {skipped}")
    found = [w for b, r in results.items() for w in band_warnings(b, r, lc.jd[lc.band == b])]
    found += checks.few_points(skipped, {b: r["n_points"] for b, r in results.items()}, MIN_BAND_POINTS)
    for r in results.values():
        r.pop("bounds")
    return {"bands": results, "chi2": float(sum(r["chi2"] for r in results.values())),
            "dof": int(sum(r["dof"] for r in results.values())), "model": curves,
            "skipped_bands": skipped, "flux_unit": "uJy (AB, zero point 23.9)", "time_unit": "JD",
            "warnings": found}


def band_warnings(band: str, r: dict, jd) -> list[dict]:
    """The quality warnings of one band's Bazin fit (:mod:`science.fit_checks`): a
    parameter at a bound, the peak outside the band's observed times, a peak time whose
    error is unknown or longer than the data, chi2/dof too large."""
    lo, hi = r["bounds"]
    found = [checks.at_bound(f"{name} ({band})", r[name], lo[i], hi[i]) for i, name in enumerate(PARAMS)
             if name != "B"]
    first, last = float(np.min(jd)), float(np.max(jd))
    found.append(checks.outside(f"peak time ({band})", r["t_peak"], first, last, "JD"))
    err = r["t_peak_err"]
    if err is None or err <= 0 or err > last - first:
        shown = ("no error: the model has no maximum after a rise, its peak is the edge of the data"
                 if err is None or err <= 0 else f"±{err:.0f} days")
        found.append(checks.warning("peak_time_uncertain", f"The peak time in {band} is uncertain ({shown}, the "
                                    f"band's data span {last - first:.0f} days): its peak magnitude is not measured."))
    found.append(checks.poor_fit(r["chi2"], r["dof"], f"the Bazin model in {band}"))
    return checks.collect(*found)


def _fit_band(t, f, ferr, grid) -> dict:
    """Bazin fit of one band from several starts; parameters, errors, peak and chi2."""
    scale = float(np.max(np.abs(f)))
    i_max = int(np.argmax(f))
    lower = [0.0, -scale, t.min() - 100.0, 0.05, 0.5]
    upper = [100.0 * scale, scale, t.max() + 50.0, 100.0, 500.0]

    def residuals(p):
        return (bazin(t, *p) - f) / ferr

    best = None
    for tau_rise in (1.0, 4.0, 10.0):
        for tau_fall in (10.0, 30.0, 80.0):
            if tau_fall <= tau_rise:
                continue
            t0 = t[i_max] - tau_rise * np.log(tau_fall / tau_rise - 1.0)
            b0 = max(float(np.min(f)), 0.0) * 0.5
            a0 = (f[i_max] - b0) / float(bazin(t[i_max], 1.0, 0.0, t0, tau_rise, tau_fall))
            start = np.clip([a0, b0, t0, tau_rise, tau_fall], lower, upper)
            res = least_squares(residuals, start, bounds=(lower, upper), x_scale="jac", method="trf")
            if best is None or res.cost < best.cost:
                best = res
    p = best.x
    chi2 = 2.0 * float(best.cost)
    dof = len(t) - len(p)
    cov = np.linalg.pinv(best.jac.T @ best.jac) * (chi2 / dof if dof > 0 else 1.0)
    t_peak = _peak_time(p, grid)
    grad = np.array([(_peak_time(p + dp, grid) - _peak_time(p - dp, grid)) / (2 * dp[k])
                     for k, dp in enumerate(np.diag(np.maximum(np.abs(p) * 1e-6, 1e-6)))])
    peak_flux = float(bazin(t_peak, *p))
    out = {k: float(v) for k, v in zip(PARAMS, p, strict=True)}
    out.update({f"{k}_err": number(np.sqrt(max(cov[i, i], 0.0))) for i, k in enumerate(PARAMS)})
    out.update({
        "t_peak": float(t_peak), "t_peak_err": number(np.sqrt(max(grad @ cov @ grad, 0.0))),
        "peak_mag": number(ZP_UJY - 2.5 * np.log10(peak_flux)) if peak_flux > 0 else None,
        "chi2": chi2, "dof": int(dof), "n_points": int(len(t)), "bounds": (lower, upper),
    })
    return out


def _peak_time(p, grid) -> float:
    """Time of the model maximum: analytic when tau_fall > tau_rise, else on the grid."""
    A, B, t0, tau_rise, tau_fall = p
    if tau_fall > tau_rise:
        return float(t0 + tau_rise * np.log(tau_fall / tau_rise - 1.0))
    return float(grid[int(np.argmax(bazin(grid, *p)))])


def colour(jd, mag, band, err=None, max_dt: float = 0.5, blue: str = "g", red: str = "r") -> dict:
    """Colour (blue - red, by default g - r) from pairs of observations close in time.

    Observations are paired one to one, closest pairs first, when less than ``max_dt``
    days apart; rows with a non-finite value are ignored.

    Parameters
    ----------
    jd, mag : array-like
        Times (Julian days) and magnitudes.
    band : array-like
        Filter labels: ZTF fids 1/2/3 or strings.
    err : array-like, optional
        Magnitude errors; when given the colour errors are returned (``err``).
    max_dt : float
        Largest time between the two observations of a pair, days.
    blue, red : str
        The two bands (normalised labels, e.g. 'g' and 'r').

    Returns
    -------
    dict with ``jd`` (mean time of each pair), ``colour``, ``dt`` (red minus blue time),
    ``err`` (or None), ``label`` (e.g. "g-r"), sorted by time.
    """
    jd, mag = as_float("jd", jd), as_float("mag", mag)
    labels = normalise_bands(band)
    e = as_float("err", err) if err is not None else np.zeros(len(jd))
    lengths = {"jd": len(jd), "mag": len(mag), "band": len(labels), "err": len(e)}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"input lengths differ: {lengths}")
    if not max_dt >= 0:
        raise ValueError(f"max_dt must be >= 0, got {max_dt}")
    ok = np.isfinite(jd) & np.isfinite(mag) & np.isfinite(e)
    ib = np.flatnonzero(ok & (labels == normalise_bands([blue])[0]))
    ir = np.flatnonzero(ok & (labels == normalise_bands([red])[0]))
    ir = ir[np.argsort(jd[ir])]
    pairs = []
    for i in ib:
        lo = np.searchsorted(jd[ir], jd[i] - max_dt, side="left")
        hi = np.searchsorted(jd[ir], jd[i] + max_dt, side="right")
        pairs += [(abs(jd[j] - jd[i]), i, j) for j in ir[lo:hi]]
    used_b, used_r, chosen = set(), set(), []
    for _dt, i, j in sorted(pairs):
        if i not in used_b and j not in used_r:
            used_b.add(i)
            used_r.add(j)
            chosen.append((i, j))
    chosen.sort(key=lambda ij: jd[ij[0]] + jd[ij[1]])
    bi = np.array([i for i, _ in chosen], dtype=int)
    ri = np.array([j for _, j in chosen], dtype=int)
    return {"jd": floats((jd[bi] + jd[ri]) / 2), "colour": floats(mag[bi] - mag[ri]),
            "dt": floats(jd[ri] - jd[bi]),
            "err": floats(np.hypot(e[bi], e[ri])) if err is not None else None,
            "label": f"{blue}-{red}"}
