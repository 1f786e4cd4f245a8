"""Filter labels: one normalised spelling for every band a light curve may carry.

ZTF stores its filters as integer ids (``fid``: 1 = g, 2 = r, 3 = i); other surveys and
users pass string labels ('g', 'r', 'I', ...). Every science function runs its ``band``
argument through :func:`normalise_bands` so that fids and strings give the same result.
String labels are kept as given (stripped, case kept: another survey's Cousins 'I' is
not ZTF's 'i'); a missing label (None, NaN, empty string) becomes '' so that the caller
can drop the row like any other missing value.
"""
from __future__ import annotations

import numbers

import numpy as np

ZTF_FID = {1: "g", 2: "r", 3: "i"}


def normalise_band(value) -> str:
    """One band label as a string: ZTF fid 1/2/3 (int, integral float, '1'/'2'/'3') to
    'g'/'r'/'i', any other string stripped and kept, missing values to ''.

    Parameters
    ----------
    value : int, float, str, bytes or None
        The label. Booleans and integers other than 1, 2, 3 are refused.

    Raises
    ------
    ValueError
        For an integer (or integral float) that is not a ZTF fid, or a non-integral number.
    """
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        label = value.strip()
        return ZTF_FID.get(int(label), label) if label in ("1", "2", "3") else label
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"band {value!r} is a boolean, not a filter label")
    if isinstance(value, numbers.Number):
        if isinstance(value, numbers.Real) and np.isnan(value):
            return ""
        if float(value) == int(value) and int(value) in ZTF_FID:
            return ZTF_FID[int(value)]
        raise ValueError(f"band {value!r}: numeric bands must be ZTF fids 1 (g), 2 (r) or 3 (i)")
    raise ValueError(f"band {value!r} of type {type(value).__name__} is not a filter label")


def normalise_bands(band) -> np.ndarray:
    """An array of band labels (see :func:`normalise_band`) as a numpy array of str.

    Parameters
    ----------
    band : sequence or array
        Filter labels, ZTF fids and strings alike (a mix is accepted).
    """
    arr = np.asarray(band, dtype=object).ravel()
    cache: dict = {}
    out = []
    for v in arr:
        key = (type(v), v) if not (isinstance(v, float) and v != v) else "nan"
        if key not in cache:
            cache[key] = normalise_band(v)
        out.append(cache[key])
    return np.asarray(out, dtype=str) if out else np.zeros(0, dtype=str)
