"""Period search of a sparse multi-band light curve: coarse periodogram, candidates, refinement.

The bands of a pulsating star vary in step (one shape, an amplitude and a mean per band), so
the search first puts the bands on one scale: each band's weighted mean is subtracted and its
magnitudes divided by its intrinsic scatter (the scatter left once the errors are taken
out). Errors get a floor of ``ERROR_FLOOR`` mag in quadrature, so a few points with
millimagnitude errors do not outweigh the rest for what is a model mismatch, not noise.

1. **Coarse periodogram**: astropy's fast Lomb-Scargle (one harmonic) of the scaled curve on a
   regular frequency grid whose step is a third of a peak's width (1 / time span).
2. **Candidates**: its ``N_PEAKS`` highest peaks, and for the ``N_ALIASED`` highest the
   frequencies that the sampling confuses with them: f ± 1/day (nightly visits), f ± 1/year
   (seasons), 2f and f/2 (a period twice or half as long).
3. **Refinement**: each candidate is scored on a small grid around it by a Fourier series of
   ``nterms`` harmonics shared by all bands (plus an offset per band), fitted by weighted
   least squares; the best is refined on a grid ten times finer. A sharp RR Lyrae shape
   is what tells the true period from its daily aliases, which one harmonic cannot.
4. **Half-period check**: a model at f/2 with 2n harmonics contains the model at f with n
   harmonics; when the best frequency f is such that 2f fits as well up to the Bayesian
   information criterion (``2 n ln N`` in chi2 for the 2n extra parameters), 2f wins: the
   shorter period is the simpler explanation.

Every step is numpy; the cost is the coarse grid (about 1.5 us per trial frequency) plus a
few hundred least-squares solves.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.timeseries import LombScargle

ERROR_FLOOR = 0.03        # mag, added in quadrature to every error for the search
OVERSAMPLING = 3          # coarse grid points per peak width (1 / span)
N_PEAKS = 10              # coarse peaks kept as candidates
N_ALIASED = 5             # of them, those whose aliases are candidates too
LOCAL_POINTS = 9          # trial frequencies around each candidate (+-1 coarse step)
FINE_POINTS = 41          # final grid around the best (+-0.2 coarse step)
YEAR = 365.25


@dataclass
class Search:
    """What the search found: the best frequency, the coarse periodogram and its significance."""

    frequency: float
    freqs: np.ndarray
    power: np.ndarray
    fap: float              # false-alarm probability of the coarse peak (Baluev 2008)
    nterms: int
    candidates: int


def scaled(t, mag, err, band):
    """(y, sigma): each band's magnitudes minus their weighted mean over their intrinsic scatter."""
    y, sigma = np.empty_like(mag), np.empty_like(mag)
    e = np.sqrt(err ** 2 + ERROR_FLOOR ** 2)
    for b in np.unique(band):
        m = band == b
        w = 1.0 / e[m] ** 2
        resid = mag[m] - np.sum(w * mag[m]) / w.sum()
        var = float(np.var(resid))
        scale = np.sqrt(max(var - float(np.mean(e[m] ** 2)), 0.05 * var, 1e-12))
        y[m], sigma[m] = resid / scale, e[m] / scale
    return y, sigma


def coarse_grid(span: float, fmin: float, fmax: float) -> tuple[float, int]:
    """(step, count) of the coarse grid from ``fmin`` to ``fmax``."""
    df = 1.0 / (OVERSAMPLING * max(span, 1.0 / fmax))
    return df, int(np.ceil((fmax - fmin) / df)) + 1


def chi2_shared(t, y, sigma, codes, n_bands: int, freqs, nterms: int) -> np.ndarray:
    """Chi2 of the shared-shape model (an offset per band, ``nterms`` harmonics) at each frequency."""
    freqs = np.atleast_1d(np.asarray(freqs, dtype=float))
    w = 1.0 / sigma
    offsets = np.zeros((len(t), n_bands))
    offsets[np.arange(len(t)), codes] = 1.0
    phase = 2 * np.pi * freqs[:, None] * t[None, :]
    k = np.arange(1, nterms + 1)[None, :, None]
    harmonics = np.concatenate([np.sin(k * phase[:, None, :]), np.cos(k * phase[:, None, :])], axis=1)
    X = np.concatenate([np.broadcast_to(offsets.T, (len(freqs), n_bands, len(t))), harmonics], axis=1) * w
    yw = y * w
    A = np.einsum("fpn,fqn->fpq", X, X)
    b = np.einsum("fpn,n->fp", X, yw)
    A += np.eye(A.shape[1]) * 1e-9 * np.trace(A, axis1=1, axis2=2)[:, None, None]
    coef = np.linalg.solve(A, b[..., None])[..., 0]
    return float(yw @ yw) - np.einsum("fp,fp->f", coef, b)


def search(t, mag, err, band, fmin: float, fmax: float, nterms: int) -> Search:
    """The best frequency of the light curve between ``fmin`` and ``fmax`` (per day)."""
    y, sigma = scaled(t, mag, err, band)
    labels, codes = np.unique(band, return_inverse=True)
    span = float(t.max() - t.min())
    df, n = coarse_grid(span, fmin, fmax)
    freqs = fmin + df * np.arange(n)
    ls = LombScargle(t, y, sigma)
    power = ls.power(freqs, method="fast", assume_regular_frequency=True)
    with np.errstate(invalid="ignore"):  # NaN for a handful of points: reported as not significant
        fap = float(ls.false_alarm_probability(power.max(), method="baluev", minimum_frequency=fmin,
                                               maximum_frequency=fmax))

    peaks = np.flatnonzero((power[1:-1] >= power[:-2]) & (power[1:-1] >= power[2:])) + 1
    peaks = np.concatenate([peaks, [0, n - 1]])
    top = freqs[peaks[np.argsort(power[peaks])[::-1][:N_PEAKS]]]
    candidates = set(top.tolist())
    for f in top[:N_ALIASED]:
        candidates.update(a for a in (f + 1, f - 1, f + 1 / YEAR, f - 1 / YEAR, 2 * f, f / 2) if fmin <= a <= fmax)

    def chi2(fs):
        return chi2_shared(t, y, sigma, codes, len(labels), fs, nterms)

    local = np.linspace(-1.0, 1.0, LOCAL_POINTS) * df
    trial = np.clip(np.concatenate([c + local for c in sorted(candidates)]), fmin, fmax)
    scores = chi2(trial)
    best = float(trial[int(np.argmin(scores))])
    fine = np.clip(best + np.linspace(-0.2, 0.2, FINE_POINTS) * df, fmin, fmax)
    fine_chi2 = chi2(fine)
    best, best_chi2 = float(fine[int(np.argmin(fine_chi2))]), float(fine_chi2.min())

    if 2 * best <= fmax:  # is half the period as good (f/2 with 2n terms nests 2f with n)?
        double = np.clip(2 * best + np.linspace(-0.3, 0.3, 13) * df, fmin, fmax)
        double_chi2 = chi2(double)
        j = int(np.argmin(double_chi2))
        full = float(chi2_shared(t, y, sigma, codes, len(labels), [best], 2 * nterms)[0])
        if double_chi2[j] - full < 2 * nterms * np.log(len(t)):
            best = float(double[j])
    return Search(best, freqs, power, fap, nterms, len(candidates))
