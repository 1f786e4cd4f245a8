"""Difference magnitudes to apparent (DC) magnitudes and fluxes, as Fink computes them.

A ZTF alert measures the change of brightness against a reference image: ``magpsf`` is
the magnitude of the flux difference and ``isdiffpos`` says whether the source got
brighter ('t') or fainter ('f'). When the reference image has a source at the position
(``0 <= distnr <= 1.5`` arcsec, with magnitude ``magnr``), the total (DC) flux is the
reference flux plus or minus the difference flux, in the zero point of the magnitudes:

    flux = 10**(-0.4 magnr) +/- 10**(-0.4 magpsf),   m_DC = -2.5 log10(flux)

with the errors of both terms added in quadrature in flux space. A flux that is not
positive has no magnitude (NaN). Without a source behind, the difference magnitude is
already the magnitude of the whole transient and is returned unchanged. Fluxes in Jy
follow the AB definition, 3631 Jy * 10**(-0.4 m).

Fink's own routine clips extreme magnitude differences and returns ``magnr`` for a
non-positive flux; here, as specified for Nocturne, a non-positive flux gives NaN.
"""
from __future__ import annotations

import numpy as np

from science.inputs import floats

LN10_OVER_2P5 = np.log(10.0) / 2.5
AB_ZERO_JY = 3631.0
MAX_DISTNR = 1.5


def _scalar_or_array(arr: np.ndarray):
    return float(arr) if arr.ndim == 0 else arr


def is_positive_difference(isdiffpos) -> np.ndarray:
    """True where the difference is positive: 't', 'T', '1', 'true', True or 1.

    Parameters
    ----------
    isdiffpos : scalar or array-like
        ZTF's ``isdiffpos`` flags ('t'/'f'), booleans, 0/1 or their strings.
    """
    arr = np.asarray(isdiffpos)
    if arr.dtype == bool:
        return arr.copy()
    if arr.dtype.kind in "iuf":
        return arr == 1
    flat = [(v.decode() if isinstance(v, bytes) else v) for v in arr.ravel().tolist()]
    out = [v is True or (not isinstance(v, bool) and v == 1) or
           (isinstance(v, str) and v.strip().lower() in ("t", "1", "true")) for v in flat]
    return np.asarray(out, dtype=bool).reshape(arr.shape)


def has_source_behind(distnr, magnr, max_distnr: float = MAX_DISTNR) -> np.ndarray:
    """True where a reference source lies within ``max_distnr`` arcsec and has a magnitude.

    Parameters
    ----------
    distnr : scalar or array-like
        Distance to the nearest reference source, arcsec (negative or NaN: none).
    magnr : scalar or array-like
        Its magnitude (NaN: unknown, treated as no source).
    max_distnr : float
        Largest distance counted as "behind", 1.5 arcsec as in Fink.
    """
    distnr = np.asarray(distnr, dtype=float)
    magnr = np.asarray(magnr, dtype=float)
    with np.errstate(invalid="ignore"):
        return (distnr >= 0) & (distnr <= max_distnr) & np.isfinite(magnr)


def dc_mag(magpsf, sigmapsf, magnr, sigmagnr, isdiffpos, distnr, max_distnr: float = MAX_DISTNR):
    """Apparent (DC) magnitude and its error; difference magnitude where nothing is behind.

    Vectorised over all arguments (broadcast together); scalars give floats.

    Parameters
    ----------
    magpsf, sigmapsf : scalar or array-like
        Difference magnitude and its error.
    magnr, sigmagnr : scalar or array-like
        Magnitude of the nearest reference source and its error.
    isdiffpos : scalar or array-like
        Sign of the difference ('t'/'f', see :func:`is_positive_difference`).
    distnr : scalar or array-like
        Distance to the nearest reference source, arcsec.
    max_distnr : float
        Largest distance at which the reference source is counted (1.5 arcsec).

    Returns
    -------
    (mag, err) : numpy arrays (or floats for scalar input); NaN where the flux is <= 0.
    """
    positive, magpsf, sigmapsf, magnr, sigmagnr, distnr = np.broadcast_arrays(
        is_positive_difference(isdiffpos),
        *(np.asarray(a, dtype=float) for a in (magpsf, sigmapsf, magnr, sigmagnr, distnr)))
    behind = has_source_behind(distnr, magnr, max_distnr)

    ref = 10 ** (-0.4 * magnr)
    diff = 10 ** (-0.4 * magpsf)
    flux = np.where(positive, ref + diff, ref - diff)
    sigma_flux = np.hypot(ref * sigmagnr * LN10_OVER_2P5, diff * sigmapsf * LN10_OVER_2P5)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = flux > 0
        mag = np.where(ok, -2.5 * np.log10(np.where(ok, flux, 1.0)), np.nan)
        err = np.where(ok, sigma_flux / np.where(ok, flux, 1.0) / LN10_OVER_2P5, np.nan)
    mag = np.where(behind, mag, magpsf)
    err = np.where(behind, err, sigmapsf)
    return _scalar_or_array(mag), _scalar_or_array(err)


def mag_to_flux_jy(mag, err):
    """AB magnitude and error to flux density in Jy and its error (NaN stays NaN).

    Parameters
    ----------
    mag, err : scalar or array-like
        AB magnitudes and their 1-sigma errors.
    """
    mag, err = np.asarray(mag, dtype=float), np.asarray(err, dtype=float)
    flux = AB_ZERO_JY * 10 ** (-0.4 * mag)
    return _scalar_or_array(flux), _scalar_or_array(flux * err * LN10_OVER_2P5)


def dc_flux_jy(magpsf, sigmapsf, magnr, sigmagnr, isdiffpos, distnr, max_distnr: float = MAX_DISTNR):
    """DC flux density in Jy and its error, from :func:`dc_mag` (same arguments).

    Where nothing is behind, the flux of the difference magnitude; NaN where the DC flux
    is not positive.
    """
    mag, err = dc_mag(magpsf, sigmapsf, magnr, sigmagnr, isdiffpos, distnr, max_distnr)
    return mag_to_flux_jy(mag, err)


def apparent_or_difference(magpsf, sigmapsf, magnr, sigmagnr, isdiffpos, distnr,
                           max_distnr: float = MAX_DISTNR) -> dict:
    """The photometry the light-curve tab plots, as a JSON-ready dict of lists.

    Keys: ``mag``, ``err`` (DC where a source is behind, else difference), ``flux_jy``,
    ``flux_jy_err``, and ``is_dc`` (True where the value is a DC magnitude). NaN is None.
    Arguments are those of :func:`dc_mag`.
    """
    mag, err = dc_mag(magpsf, sigmapsf, magnr, sigmagnr, isdiffpos, distnr, max_distnr)
    flux, flux_err = mag_to_flux_jy(mag, err)
    behind = np.broadcast_to(has_source_behind(distnr, magnr, max_distnr), np.shape(mag))
    return {"mag": floats(mag), "err": floats(err), "flux_jy": floats(flux),
            "flux_jy_err": floats(flux_err), "is_dc": [bool(b) for b in np.ravel(behind)]}


NJY_ZERO_POINT = 31.4  # AB magnitude of 1 nJy: -2.5 log10(1e-9 / 3631)


def njy_to_mag(flux, err):
    """Fluxes in nJy (Rubin's) and their errors to AB magnitudes and errors:
    ``m = 31.4 - 2.5 log10(f / nJy)``, ``sigma_m = 2.5 / ln 10 * sigma_f / f``. A flux that
    is not positive (a difference flux fainter than the template) has no magnitude (NaN).

    Parameters
    ----------
    flux, err : scalar or array-like
        Fluxes and their 1-sigma errors, in nJy.
    """
    flux, err = np.asarray(flux, dtype=float), np.asarray(err, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = flux > 0
        safe = np.where(ok, flux, 1.0)
        mag = np.where(ok, NJY_ZERO_POINT - 2.5 * np.log10(safe), np.nan)
        mag_err = np.where(ok, err / safe / LN10_OVER_2P5, np.nan)
    return _scalar_or_array(mag), _scalar_or_array(mag_err)
