"""Difference photometry: noise, 5-sigma detection and the measured quantities.

The limiting magnitude ``diffmaglim`` of an exposure is where a point source
is detected at 5 sigma on an empty sky, so the background flux error is
``f_lim / 5``.  Light under the PSF (the transient itself, a star or host
below it) adds photon noise, and subtraction residuals add 0.5 % of it:

    sigma_f^2 = (f_lim/5)^2 (1 + f_psf / f_lim) + (0.005 f_psf)^2

A measurement is ``df_obs = df + sigma_f N(0, 1)``; it becomes an alert when
``|df_obs| >= 5 sigma_f``.  Then ``magpsf = -2.5 log10 |df_obs|`` (zero point
25 in this package's flux units), ``isdiffpos = 't'`` when ``df_obs > 0``,
``sigmapsf = 1.0857 sigma_f / |df_obs|`` with a 0.01 mag floor, so that with
the reference magnitude ``magnr`` the apparent (DC) magnitude is
``-2.5 log10(10^(-0.4 magnr) +/- 10^(-0.4 magpsf))``.
"""

from __future__ import annotations

import numpy as np

from .populations import flux, mag

SNR_THRESHOLD = 5.0


def flux_error(f_lim, f_psf):
    f_psf = np.maximum(f_psf, 0.0)
    return np.sqrt((f_lim / 5.0) ** 2 * (1.0 + f_psf / f_lim) + (0.005 * f_psf) ** 2)


def measure(df, f_psf, maglim, rng: np.random.Generator, forced=None):
    """Noisy difference fluxes and the detection mask.

    ``forced`` marks rows that are detections whatever the noise (the one
    epoch of an asteroid or an artefact): their noise is kept below the
    detection threshold.
    """
    f_lim = flux(maglim)
    sigma = flux_error(f_lim, f_psf)
    noise = rng.standard_normal(len(df))
    obs = df + sigma * noise
    det = np.abs(obs) >= SNR_THRESHOLD * sigma
    if forced is not None and forced.any():
        sign = np.where(df >= 0, 1.0, -1.0)
        floor = SNR_THRESHOLD * sigma * 1.02
        fixed = np.where(np.abs(obs) < floor, sign * np.maximum(np.abs(df), floor), obs)
        obs = np.where(forced, fixed, obs)
        det = det | forced
    return obs, sigma, det


def magnitudes(obs, sigma):
    """(magpsf, sigmapsf, isdiffpos as bool) of detected rows."""
    a = np.abs(obs)
    return mag(a), np.maximum(1.0857 * sigma / a, 0.01), obs > 0


def dc_mag(magpsf, magnr, positive):
    """Apparent magnitude from difference and reference magnitudes (NaN if undefined)."""
    sign = np.where(positive, 1.0, -1.0)
    f = 10 ** (-0.4 * np.asarray(magnr)) + sign * 10 ** (-0.4 * np.asarray(magpsf))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(f > 0, -2.5 * np.log10(np.where(f > 0, f, 1.0)), np.nan)
