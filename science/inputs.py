"""Checking light-curve arrays on the way in and turning results into plain JSON values.

Every fit takes ``jd, mag, err, band`` arrays. :func:`clean_lightcurve` checks that they
have one length, drops the rows that cannot be used (non-finite time, magnitude or error,
an error that is not positive, a missing band) and refuses a light curve left with too few
points, always with a ValueError whose message says what is wrong. :func:`floats` and
:func:`number` turn numpy values into Python floats (None for NaN/inf) so that results go
through ``json.dumps`` as they are.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from science.bands import normalise_bands


@dataclass
class LightCurve:
    """The usable rows of a light curve, and where they sit in the caller's arrays.

    Parameters
    ----------
    jd, mag, err : numpy.ndarray
        Float arrays of the kept rows.
    band : numpy.ndarray
        Normalised band labels of the kept rows (str).
    keep : numpy.ndarray
        Boolean mask over the input rows: True for the rows kept.
    """

    jd: np.ndarray
    mag: np.ndarray
    err: np.ndarray
    band: np.ndarray
    keep: np.ndarray

    def bands(self) -> list[str]:
        """The distinct bands, sorted."""
        return sorted(set(self.band.tolist()))


def as_float(name: str, values) -> np.ndarray:
    """A 1-d float array, or a ValueError naming the argument when it is not numeric."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def clean_lightcurve(jd, mag, err, band, min_points: int = 10, what: str = "this fit") -> LightCurve:
    """Validate and clean a light curve; too few usable points is a ValueError.

    Parameters
    ----------
    jd, mag, err : array-like
        Times (Julian days), magnitudes and their 1-sigma errors.
    band : array-like
        Filter labels (ZTF fids or strings, see :mod:`science.bands`).
    min_points : int
        Fewest usable rows accepted.
    what : str
        Name of the computation, used in error messages.
    """
    jd, mag, err = as_float("jd", jd), as_float("mag", mag), as_float("err", err)
    labels = normalise_bands(band)
    lengths = {"jd": len(jd), "mag": len(mag), "err": len(err), "band": len(labels)}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"input lengths differ: {lengths}")
    keep = np.isfinite(jd) & np.isfinite(mag) & np.isfinite(err) & (err > 0) & (labels != "")
    n = int(keep.sum())
    if n < min_points:
        raise ValueError(f"{what} needs at least {min_points} usable points "
                         f"(finite jd, mag, err > 0 and a band), got {n} of {len(jd)}")
    return LightCurve(jd[keep], mag[keep], err[keep], labels[keep], keep)


def require_variation(lc: LightCurve, what: str = "this fit") -> None:
    """Refuse a flat light curve: one whose magnitudes are the same in every band.

    Such a curve (a constant written by a faulty pipeline, a saturated star) has nothing to
    fit: gatspy divides zero by zero and a model would be fitted to nothing. A noisy but
    constant light curve is not refused; its fit says how poor it is (score, chi2).
    """
    for b in lc.bands():
        if np.ptp(lc.mag[lc.band == b]) > 1e-9:
            return
    raise ValueError(f"{what}: the light curve is flat (the same magnitude in every band), there is nothing to fit")


def number(x) -> float | None:
    """A Python float, or None when the value is NaN or infinite."""
    x = float(x)
    return x if np.isfinite(x) else None


def floats(values) -> list:
    """A list of Python floats (None for NaN or infinite values)."""
    arr = np.asarray(values, dtype=float).ravel()
    return [float(v) if np.isfinite(v) else None for v in arr]
