"""Period of a variable star from its multi-band light curve, and its folded model.

The period comes from :mod:`science.period_search` (the bands on one scale, a coarse
Lomb-Scargle, its peaks and their aliases refined by a several-harmonic shared-shape fit): on
the 150 SDSS Stripe 82 RR Lyrae it recovers more periods than gatspy's multiband optimizer
(bench/bench_periods.py, docs/benchmarks.md). The model shown at that period is the multiband
Lomb-Scargle of VanderPlas & Ivezic (2015) as implemented by gatspy's
``LombScargleMultiband``: a Fourier series with ``nterms_base`` harmonics shared by all bands
plus ``nterms_band`` harmonics and an offset of each band's own; its power at the period is
the score.

Nothing overfits by default and the work is bounded before it starts:

- the model's terms, unless given, are chosen for the number of points (:func:`auto_terms`:
  at most a quarter as many parameters as points); given terms whose parameters exceed half
  the points are refused (:func:`check_terms`: the fit would pass through every point and
  swing by magnitudes between them), above a quarter they get a warning;
- the search's harmonics grow with the points (:func:`search_terms`), from 1 to 4;
- the coarse grid's step is a third of a peak's width (1 / the time span), so a multi-year
  curve is scanned finely enough to tell a period from its aliases, and the estimated cost
  (:func:`search_cost`) must stay under ``MAX_SEARCH_SECONDS`` of one core.

The result carries its quality warnings as data (:func:`quality_warnings`) and says its time
unit (``time_unit``: JD, the unit of the input times).
"""
from __future__ import annotations

import numpy as np
from gatspy.periodic import LombScargleMultiband

from science import period_search
from science.inputs import clean_lightcurve, floats, number, require_variation

MIN_POINTS = 10
MAX_PLOT_POINTS = 2000
MODEL_POINTS = 200
MAX_SEARCH_SECONDS = 1.5   # estimated CPU of one period search, on the reference machine (API budget: 2 s)
REFINE_US = 300.0          # CPU of the candidates' refinement per point, microseconds
PARAMS_PER_POINT = 0.25    # a model with more parameters per point gets a warning (0.5 is refused)
MIN_BAND_POINTS = 5        # fewer points in a band: a warning
MAX_AUTO_TERMS = 3         # shared harmonics of the model chosen for the number of points
MAX_SEARCH_TERMS = 4       # harmonics of the search's shared shape (chosen on the even Stripe 82 ids)
POINTS_PER_SEARCH_TERM = 20
MAX_FAP = 0.01             # a periodogram peak less significant gets a warning


def fit_period(jd, mag, err, band, period_range=(0.1, 1.2), nterms_base: int | None = None,
               nterms_band: int | None = None, period: float | None = None) -> dict:
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
    nterms_base, nterms_band : int or None
        Harmonics of the shared and of the per-band Fourier series of the model; both None
        (the default) chooses them for the number of points (:func:`auto_terms`), one None
        is 1 (Fink's default).
    period : float, optional
        Known period (days): no search, the model is fitted at it and the periodogram
        lists are empty.

    Returns
    -------
    dict with ``period`` (days), ``score`` (multiband power at the period, 0..1), ``epoch``
    (time of maximum light, phase 0, in ``time_unit``: JD), ``periods`` / ``power``
    (periodogram, at most 2000 points, each the highest of its stretch of the grid),
    ``false_alarm_probability`` (of the periodogram's highest peak, None without a search),
    ``model`` ({band: {"phase", "mag"}} over one period), ``amplitude`` ({band: peak-to-peak
    of the model}), ``phase`` (one per input row, None for dropped rows), ``bands``,
    ``skipped_bands``, ``n_points``, ``n_parameters``, ``nterms_base``, ``nterms_band``,
    ``nterms_search``, ``method`` and ``warnings`` (a list of {"code", "message"}: see
    :func:`quality_warnings`).

    Raises
    ------
    ValueError
        Mismatched lengths, fewer than 10 usable points, a bad period range or period, more
        model parameters than half the points, a search over its CPU bound.
    """
    lc = clean_lightcurve(jd, mag, err, band, MIN_POINTS, "fit_period")
    require_variation(lc, "fit_period")
    counts = {b: int(np.sum(lc.band == b)) for b in lc.bands()}
    chosen = nterms_base is None and nterms_band is None
    if chosen:
        nterms_base, nterms_band = auto_terms(len(lc.jd), counts)
    nterms_base = 1 if nterms_base is None else int(nterms_base)  # one given: Fink's 1 for the other
    nterms_band = 1 if nterms_band is None else int(nterms_band)
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

    periods_plot, power_plot, found = [], [], None
    searched = period is None
    if searched:
        found = _search(t, lc, pmin, pmax)
        period = 1.0 / found.frequency
        periods_plot, power_plot = _downsample(1.0 / found.freqs[::-1], found.power[::-1], MAX_PLOT_POINTS)
    elif not (np.isfinite(period) and period > 0):
        raise ValueError(f"period must be a positive number of days, got {period}")
    period = float(period)

    curves, amplitude, skipped = {}, {}, {}
    phase_grid = np.linspace(0.0, 1.0, MODEL_POINTS, endpoint=False)
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
    n_params = n_parameters(len(counts), nterms_base, nterms_band)
    warnings = quality_warnings(counts, n_params, nterms_band, found,
                                (pmin, pmax) if searched else None, period, float(t.max() - t.min()))
    return {
        "period": period, "score": number(model.score(period)), "epoch": float(epoch), "time_unit": "JD",
        "periods": periods_plot, "power": power_plot,
        "false_alarm_probability": number(found.fap) if found else None,
        "model": curves, "amplitude": amplitude,
        "phase": floats(phase), "bands": lc.bands(), "skipped_bands": skipped,
        "n_points": int(len(t)), "n_parameters": int(n_params),
        "nterms_base": int(nterms_base), "nterms_band": int(nterms_band),
        "nterms_chosen": bool(chosen), "nterms_search": int(found.nterms) if found else None,
        "method": _method(found, nterms_base, nterms_band), "warnings": warnings,
    }


def _method(found, nterms_base: int, nterms_band: int) -> str:
    """How the period was found, for the tab's caption."""
    model = f"gatspy LombScargleMultiband ({nterms_base} shared, {nterms_band} per-band terms)"
    if found is None:
        return f"{model} at the given period"
    return (f"period: Lomb-Scargle of the bands on one scale, {found.candidates} candidates with their "
            f"aliases refined by a {found.nterms}-harmonic shared-shape fit; model: {model}")


def n_parameters(n_bands: int, nterms_base: int, nterms_band: int) -> int:
    """Free parameters of the multiband model: 2 per shared harmonic, and per band an
    offset and 2 per harmonic of its own."""
    return 2 * nterms_base + n_bands * (2 * nterms_band + 1)


def auto_terms(n_points: int, counts: dict) -> tuple[int, int]:
    """(nterms_base, nterms_band) for ``n_points`` points in bands of ``counts`` points.

    At most a quarter as many parameters as points (:data:`PARAMS_PER_POINT`), up to
    ``MAX_AUTO_TERMS`` shared harmonics; one harmonic of each band's own (Fink's 1/1) when
    every band has points for it and the budget allows, else none. With very few points
    this is one shared harmonic and the offsets (the smallest model), which may still be
    over the budget: the fit then warns (``parameters_near_points``).
    """
    budget = n_points * PARAMS_PER_POINT
    band = 1 if min(counts.values()) >= MIN_BAND_POINTS else 0
    for base in range(MAX_AUTO_TERMS, 0, -1):
        for nb in (band, 0) if band else (0,):
            if n_parameters(len(counts), base, nb) <= budget:
                return base, nb
    return 1, 0


def search_terms(n_points: int, n_bands: int) -> int:
    """Harmonics of the search's shared shape: one per ``POINTS_PER_SEARCH_TERM`` points
    beyond the band offsets, 1 to ``MAX_SEARCH_TERMS``."""
    return int(np.clip((n_points - n_bands) // POINTS_PER_SEARCH_TERM, 1, MAX_SEARCH_TERMS))


def quality_warnings(counts: dict, n_params: int, nterms_band: int, found, period_range, period: float,
                     span: float) -> list[dict]:
    """The fit's quality warnings, each {"code": snake_case, "message": a sentence}.

    - ``no_significant_peak``: the periodogram's highest peak has a false-alarm probability
      above ``MAX_FAP``, from Baluev's (2008) bound for the single-harmonic Lomb-Scargle of
      the bands put on one scale, over the frequencies searched;
    - ``few_points_per_band``: a band with fewer than ``MIN_BAND_POINTS`` points;
    - ``parameters_near_points``: the model has more than a quarter as many parameters as
      points (more than half is refused by :func:`check_terms`);
    - ``period_at_range_edge``: the period is within one peak width of an end of the range
      searched, so the true period may lie outside it.
    """
    out = []
    n_points = sum(counts.values())
    if found is not None and not found.fap <= MAX_FAP:
        out.append({"code": "no_significant_peak", "message": (
            f"The periodogram's highest peak has a false-alarm probability of {found.fap:.2g} (Baluev 2008 "
            f"bound for a single-harmonic Lomb-Scargle of the bands on one scale, over the frequencies "
            f"searched), above {MAX_FAP:g}: the period may be noise.")})
    few = {b: c for b, c in counts.items() if c < MIN_BAND_POINTS}
    if few:
        listed = ", ".join(f"{b}: {c}" for b, c in sorted(few.items()))
        out.append({"code": "few_points_per_band", "message": (
            f"Band(s) with fewer than {MIN_BAND_POINTS} points ({listed}) constrain neither their mean nor "
            f"their amplitude well; their model curve is uncertain.")})
    if n_params > PARAMS_PER_POINT * n_points:
        out.append({"code": "parameters_near_points", "message": (
            f"The model has {n_params} free parameters for {n_points} points (more than one for every "
            f"{int(round(1 / PARAMS_PER_POINT))} points): it can follow the noise, so its amplitude and score "
            f"overstate the variation; use fewer Fourier terms.")})
    if period_range is not None:
        pmin, pmax = period_range
        width = period ** 2 / max(span, period)  # one peak width (1/span in frequency), in days
        if period - pmin < width or pmax - period < width:
            edge = "shortest" if period - pmin < width else "longest"
            out.append({"code": "period_at_range_edge", "message": (
                f"The period {period:.6g} d is at the {edge} period searched ({pmin:g} to {pmax:g} d): the "
                f"true period may lie outside the range; widen it.")})
    return out


def check_terms(n_points: int, n_bands: int, nterms_base: int, nterms_band: int) -> None:
    """ValueError unless the model has at most half as many parameters as there are points."""
    p = n_parameters(n_bands, nterms_base, nterms_band)
    if 2 * p > n_points:
        raise ValueError(
            f"{nterms_base} shared and {nterms_band} per-band Fourier terms over {n_bands} band(s) make "
            f"{p} model parameters; that needs at least {2 * p} points (twice the parameters), "
            f"this light curve has {n_points}: use fewer Fourier terms")


def search_cost(lc, pmin: float, pmax: float, nterms_base: int = 1, nterms_band: int = 1) -> tuple[int, float]:
    """(trial frequencies, estimated seconds of one core) of the period search.

    The coarse grid costs about 2 us per trial frequency (astropy's fast Lomb-Scargle, its
    FFT included) plus 3 ns per point and frequency; the candidates' refinement about
    ``REFINE_US`` per point. The model's terms do not enter (the search uses its own
    shared-shape fit); they are kept in the signature for the callers. Measured on the
    2-core reference machine (bench/bench_periods.py).
    """
    n = len(lc.jd)
    _, n_freq = period_search.coarse_grid(float(lc.jd.max() - lc.jd.min()), 1.0 / pmax, 1.0 / pmin)
    return n_freq, (n_freq * (2.0 + 0.003 * n) + REFINE_US * n) * 1e-6


def check_search(lc, pmin: float, pmax: float, nterms_base: int, nterms_band: int) -> None:
    """ValueError, saying what to change, when the period search would cost too much."""
    n_freq, seconds = search_cost(lc, pmin, pmax, nterms_base, nterms_band)
    if seconds > MAX_SEARCH_SECONDS:
        span = float(lc.jd.max() - lc.jd.min())
        raise ValueError(
            f"the period search from {pmin:g} to {pmax:g} d over this light curve's {span:.0f}-day span would "
            f"score {n_freq:,} trial periods with {len(lc.jd)} points, about "
            f"{seconds / MAX_SEARCH_SECONDS:.0f} times the work allowed per fit; raise period_min, "
            f"lower period_max or use fewer Fourier terms (or give a known period)")


def _search(t, lc, pmin, pmax) -> period_search.Search:
    """The period search (:mod:`science.period_search`) of the cleaned light curve."""
    nterms = search_terms(len(t), len(lc.bands()))
    return period_search.search(t, lc.mag, lc.err, lc.band, 1.0 / pmax, 1.0 / pmin, nterms)


def _downsample(x, y, n_max):
    """At most ``n_max`` points of (x, y), keeping the highest y of each consecutive run."""
    if len(x) <= n_max:
        return floats(x), floats(y)
    edges = np.linspace(0, len(x), n_max + 1).astype(int)
    idx = [a + int(np.argmax(y[a:b])) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    return floats(x[idx]), floats(y[idx])
