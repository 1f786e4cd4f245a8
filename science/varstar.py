"""Period of a variable star from its multi-band light curve, and its folded model.

The model is the multiband Lomb-Scargle of VanderPlas & Ivezic (2015) as implemented by
gatspy's ``LombScargleMultiband``: a Fourier series with ``nterms_base`` harmonics shared by
all bands plus ``nterms_band`` harmonics and an offset of each band's own. gatspy 0.3 works
with numpy 2 as it is, but scanning a fine frequency grid with it is slow (seconds for a
few hundred points), so the search runs in two steps:

1. When ``nterms_band >= nterms_base`` (the default 1/1) each band's harmonics are free, so
   the multiband power is exactly the chi2-weighted sum of single-band floating-mean
   Lomb-Scargle powers. That sum is computed on a grid oversampled ten times with
   astropy's fast single-band Lomb-Scargle (accurate to ~1e-3 in power). Otherwise the
   grid is scored by gatspy itself, oversampled five times.
2. The highest peaks of that grid are re-scored by gatspy on a fine grid around each, and
   the best of them is the period; gatspy's model fitted at that period gives the score
   (its power, 0..1) and the folded curves.

The work is bounded before it starts, so no parameter choice ties up a CPU or returns a
meaningless model (:func:`check_terms`, :func:`check_search`):

- the model's parameters (2 per shared harmonic, an offset and 2 per harmonic of each band)
  must be at most half the number of points: with fewer points the fit passes through every
  point and swings by millions of magnitudes between them;
- the grid's step is set by the light curve's time span (a peak is 1/span wide), and the
  estimated cost of scoring it (trial frequencies times the cost of one, which grows with
  the points and the Fourier terms; calibrated with bench/bench_fits.py) must stay under
  ``MAX_SEARCH_SECONDS`` of one core.
"""
from __future__ import annotations

import numpy as np
from astropy.timeseries import LombScargle
from gatspy.periodic import LombScargleMultiband

from science.inputs import clean_lightcurve, floats, number, require_variation

MIN_POINTS = 10
MAX_PLOT_POINTS = 2000
OVERSAMPLING = 10
N_CANDIDATES = 6
MODEL_POINTS = 200
MAX_SEARCH_SECONDS = 4.0   # estimated CPU of one period search, on the reference machine


def fit_period(jd, mag, err, band, period_range=(0.1, 1.2), nterms_base: int = 1,
               nterms_band: int = 1, period: float | None = None) -> dict:
    """Find the period of a multi-band light curve and fit its multiband model.

    Rows with a non-finite value, a non-positive error or no band are dropped. Bands with
    fewer than ``2 * nterms_band + 2`` points take part in the search but get no model
    curve (they are listed in ``skipped_bands``).

    Parameters
    ----------
    jd, mag, err : array-like
        Times (Julian days), magnitudes and 1-sigma errors.
    band : array-like
        Filter labels: ZTF fids 1/2/3 or strings.
    period_range : (float, float)
        Shortest and longest period searched, days.
    nterms_base, nterms_band : int
        Harmonics of the shared and of the per-band Fourier series.
    period : float, optional
        Known period (days): no search, the model is fitted at it and the periodogram
        lists are empty.

    Returns
    -------
    dict with ``period``, ``score`` (multiband power at the period, 0..1), ``epoch`` (JD of
    maximum light, phase 0), ``periods`` / ``power`` (periodogram, at most 2000 points, each
    the highest of its stretch of the grid), ``model`` ({band: {"phase", "mag"}} over one
    period), ``amplitude`` ({band: peak-to-peak of the model}), ``phase`` (one per input
    row, None for dropped rows), ``bands``, ``skipped_bands``, ``n_points``, ``nterms_base``,
    ``nterms_band``, ``method``.

    Raises
    ------
    ValueError
        Mismatched lengths, fewer than 10 usable points, a bad period range or period, more
        model parameters than half the points, a search over its CPU bound.
    """
    lc = clean_lightcurve(jd, mag, err, band, MIN_POINTS, "fit_period")
    require_variation(lc, "fit_period")
    if nterms_base < 0 or nterms_band < 0 or nterms_base + nterms_band < 1:
        raise ValueError("nterms_base and nterms_band must be >= 0, at least one of them > 0")
    check_terms(len(lc.jd), len(lc.bands()), nterms_base, nterms_band)
    if period is None:
        pmin, pmax = (float(p) for p in period_range)
        if not 0 < pmin < pmax:
            raise ValueError(f"period_range must be 0 < min < max, got {period_range}")
        check_search(lc, pmin, pmax, nterms_base, nterms_band)
    t_ref = float(np.floor(lc.jd.min()))
    t = lc.jd - t_ref
    model = LombScargleMultiband(Nterms_base=nterms_base, Nterms_band=nterms_band)
    model.fit(t, lc.mag, lc.err, lc.band)

    periods_plot, power_plot = [], []
    searched = period is None
    if searched:
        period, freqs, power = _search(model, t, lc, pmin, pmax, nterms_base, nterms_band)
        periods_plot, power_plot = _downsample(1.0 / freqs[::-1], power[::-1], MAX_PLOT_POINTS)
    elif not (np.isfinite(period) and period > 0):
        raise ValueError(f"period must be a positive number of days, got {period}")
    period = float(period)

    curves, amplitude, skipped = {}, {}, {}
    phase_grid = np.linspace(0.0, 1.0, MODEL_POINTS, endpoint=False)
    counts = {b: int(np.sum(lc.band == b)) for b in lc.bands()}
    fitted = [b for b in lc.bands() if counts[b] >= 2 * nterms_band + 2]
    for b in lc.bands():
        if b not in fitted:
            skipped[b] = f"{counts[b]} points, fewer than {2 * nterms_band + 2}"
    # Phase 0 at maximum light (smallest model magnitude) of the best-sampled band.
    main = max(fitted, key=lambda b: counts[b]) if fitted else lc.bands()[0]
    fine = model.predict(phase_grid * period, filts=np.full(MODEL_POINTS, main), period=period)
    epoch = t_ref + phase_grid[int(np.argmin(fine))] * period
    for b in fitted:
        y = model.predict(epoch - t_ref + phase_grid * period, filts=np.full(MODEL_POINTS, b),
                          period=period)
        curves[b] = {"phase": floats(phase_grid), "mag": floats(y)}
        amplitude[b] = number(y.max() - y.min())

    jd_all = np.asarray(jd, dtype=float)
    phase = np.full(len(jd_all), np.nan)
    phase[lc.keep] = np.mod((lc.jd - epoch) / period, 1.0)
    return {
        "period": period, "score": number(model.score(period)), "epoch": float(epoch),
        "periods": periods_plot, "power": power_plot, "model": curves, "amplitude": amplitude,
        "phase": floats(phase), "bands": lc.bands(), "skipped_bands": skipped,
        "n_points": int(len(t)), "nterms_base": int(nterms_base), "nterms_band": int(nterms_band),
        "method": _method(searched, nterms_base, nterms_band),
    }


def _method(searched: bool, nterms_base: int, nterms_band: int) -> str:
    """How the period was found, for the tab's caption."""
    if not searched:
        return "gatspy LombScargleMultiband at the given period"
    grid = "astropy per-band Lomb-Scargle sum" if nterms_band >= nterms_base else "gatspy grid"
    return f"gatspy LombScargleMultiband (search: {grid}, refined by gatspy)"


def n_parameters(n_bands: int, nterms_base: int, nterms_band: int) -> int:
    """Free parameters of the multiband model: 2 per shared harmonic, and per band an
    offset and 2 per harmonic of its own."""
    return 2 * nterms_base + n_bands * (2 * nterms_band + 1)


def check_terms(n_points: int, n_bands: int, nterms_base: int, nterms_band: int) -> None:
    """ValueError unless the model has at most half as many parameters as there are points."""
    p = n_parameters(n_bands, nterms_base, nterms_band)
    if 2 * p > n_points:
        raise ValueError(
            f"{nterms_base} shared and {nterms_band} per-band Fourier terms over {n_bands} band(s) make "
            f"{p} model parameters; that needs at least {2 * p} points (twice the parameters), "
            f"this light curve has {n_points}: use fewer Fourier terms")


def _grid(span: float, pmin: float, pmax: float, separable: bool) -> tuple[float, float, int]:
    """(first frequency, step, count) of the coarse grid: the step is a fraction of a
    peak's width, 1/span (the span floored at pmin for a curve within one night)."""
    df = 1.0 / (max(span, pmin) * (OVERSAMPLING if separable else 5))
    f0, f1 = 1.0 / pmax, 1.0 / pmin
    return f0, df, int(np.ceil((f1 - f0) / df)) + 1


def search_cost(lc, pmin: float, pmax: float, nterms_base: int, nterms_band: int) -> tuple[int, float]:
    """(trial frequencies, estimated seconds of one core) of the period search.

    Per trial frequency: astropy's fast Lomb-Scargle about 1 us per band (plus 3 ns per
    point), its fastchi2 (several terms) about 10 us times the terms squared per band,
    gatspy about 35 us plus 0.1 us per point and parameter; the gatspy refinement scores
    ``N_CANDIDATES * 61`` more frequencies. Measured on the 2-core reference machine.
    """
    separable = nterms_band >= nterms_base
    counts = [int(np.sum(lc.band == b)) for b in lc.bands()]
    n, p = len(lc.jd), n_parameters(len(counts), nterms_base, nterms_band)
    gatspy_us = 35.0 + 0.1 * n * p
    _, _, n_freq = _grid(float(lc.jd.max() - lc.jd.min()), pmin, pmax, separable)
    if not separable:
        per_freq = gatspy_us
    elif nterms_band == 1:
        per_freq = sum(1.0 + 0.003 * c for c in counts)
    else:
        per_freq = sum(10.0 * nterms_band ** 2 * (1 + c / 1000) for c in counts)
    return n_freq, (n_freq * per_freq + N_CANDIDATES * 61 * gatspy_us) * 1e-6


def check_search(lc, pmin: float, pmax: float, nterms_base: int, nterms_band: int) -> None:
    """ValueError, saying what to change, when the period search would cost too much."""
    n_freq, seconds = search_cost(lc, pmin, pmax, nterms_base, nterms_band)
    if seconds > MAX_SEARCH_SECONDS:
        span = float(lc.jd.max() - lc.jd.min())
        raise ValueError(
            f"the period search from {pmin:g} to {pmax:g} d over this light curve's {span:.0f}-day span would "
            f"score {n_freq:,} trial periods with {len(lc.jd)} points and {nterms_base}/{nterms_band} Fourier "
            f"terms, about {seconds / MAX_SEARCH_SECONDS:.0f} times the work allowed per fit; raise period_min, "
            f"lower period_max or use fewer Fourier terms (or give a known period)")


def _search(model, t, lc, pmin, pmax, nterms_base, nterms_band):
    """Coarse periodogram on a regular frequency grid, then gatspy refinement of its peaks."""
    separable = nterms_band >= nterms_base
    f0, df, n = _grid(float(t.max() - t.min()), pmin, pmax, separable)
    f1 = 1.0 / pmin
    freqs = f0 + df * np.arange(n)
    if separable:
        power = _separable_power(t, lc, freqs, nterms_band)
    else:
        power = np.asarray(model.score_frequency_grid(f0, df, n), dtype=float)

    peaks = np.flatnonzero((power[1:-1] >= power[:-2]) & (power[1:-1] >= power[2:])) + 1
    for edge in (0, n - 1):
        peaks = np.append(peaks, edge)
    best = peaks[np.argsort(power[peaks])[::-1][:N_CANDIDATES]]
    best_f, best_p = freqs[best[0]], -np.inf
    for i in best:
        local = np.clip(freqs[i] + df * np.linspace(-1.5, 1.5, 61), f0, f1)
        score = model.periodogram(1.0 / local)
        j = int(np.argmax(score))
        if score[j] > best_p:
            best_f, best_p = local[j], score[j]
    return 1.0 / best_f, freqs, power


def _separable_power(t, lc, freqs, nterms):
    """Multiband power as the chi2_ref-weighted sum of single-band Lomb-Scargle powers."""
    total = np.zeros(len(freqs))
    weight_sum = 0.0
    method = "fast" if nterms == 1 else "fastchi2"
    for b in lc.bands():
        m = lc.band == b
        if m.sum() < 2 * nterms + 2:
            continue
        w = 1.0 / lc.err[m] ** 2
        ymean = np.sum(w * lc.mag[m]) / w.sum()
        chi2_ref = float(np.sum(w * (lc.mag[m] - ymean) ** 2))
        if chi2_ref <= 0:
            continue
        ls = LombScargle(t[m], lc.mag[m], lc.err[m], nterms=nterms)
        total += chi2_ref * ls.power(freqs, method=method, assume_regular_frequency=True)
        weight_sum += chi2_ref
    if weight_sum == 0:
        raise ValueError("fit_period: no band has enough points with any variation to search a period")
    return total / weight_sum


def _downsample(x, y, n_max):
    """At most ``n_max`` points of (x, y), keeping the highest y of each consecutive run."""
    if len(x) <= n_max:
        return floats(x), floats(y)
    edges = np.linspace(0, len(x), n_max + 1).astype(int)
    idx = [a + int(np.argmax(y[a:b])) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    return floats(x[idx]), floats(y[idx])
