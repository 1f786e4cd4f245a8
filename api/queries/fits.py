"""Science fits of an object's light curve, cached per object, data and parameters.

The light curve is the object's valid detections: DC magnitudes where a source sits
behind the transient (variable stars, microlensing), difference magnitudes elsewhere.
A fit is cached under the object's alert count and last jd, so a new night refits.
"""
from __future__ import annotations

from collections import OrderedDict
from threading import Lock

import numpy as np

from science.photometry import apparent_or_difference
from store import Store

from .objects import alert_rows

CACHE_SIZE = 256
_cache: OrderedDict = OrderedDict()
_lock = Lock()


def lightcurve(store: Store, object_id: str) -> dict:
    """Arrays of the object's detections: jd, mag, err, band (fid), and whether DC."""
    cols = ("i:jd", "i:magpsf", "i:sigmapsf", "i:fid", "i:magnr", "i:sigmagnr", "i:isdiffpos", "i:distnr")
    rows = [r for r in alert_rows(store, object_id, ("i",)) if r.get("i:magpsf") is not None]
    if not rows:
        return {"jd": np.array([]), "mag": np.array([]), "err": np.array([]), "band": np.array([]), "is_dc": []}
    get = {c: [r.get(c) for r in rows] for c in cols}
    num = {c: np.array([np.nan if v is None else v for v in get[c]], dtype=float)
           for c in cols if c not in ("i:isdiffpos",)}
    phot = apparent_or_difference(num["i:magpsf"], num["i:sigmapsf"], num["i:magnr"], num["i:sigmagnr"],
                                  get["i:isdiffpos"], num["i:distnr"])
    return {"jd": num["i:jd"], "mag": np.array(phot["mag"], dtype=float),
            "err": np.array(phot["err"], dtype=float), "band": num["i:fid"].astype(int), "is_dc": phot["is_dc"],
            "diffmag": num["i:magpsf"], "differr": num["i:sigmapsf"]}


def fit(store: Store, object_id: str, kind: str, **params) -> dict:
    """Run fit ``kind`` (varstar, mulens, supernova) on the object; ValueError when it cannot."""
    lc = lightcurve(store, object_id)
    if not len(lc["jd"]):
        raise LookupError(f"no detection of {object_id!r}")
    key = (store.prefix, object_id, kind, len(lc["jd"]), float(lc["jd"].max()), tuple(sorted(params.items())))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    result = _run(kind, lc, params)
    with _lock:
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def _run(kind: str, lc: dict, params: dict) -> dict:
    if kind == "varstar":
        from science.varstar import fit_period
        return fit_period(lc["jd"], lc["mag"], lc["err"], lc["band"],
                          period_range=(params["period_min"], params["period_max"]),
                          nterms_base=params["nterms_base"], nterms_band=params["nterms_band"],
                          period=params.get("period"))
    if kind == "mulens":
        from science.mulens import fit_pspl
        return fit_pspl(lc["jd"], lc["mag"], lc["err"], lc["band"])
    if kind == "supernova":
        from science.supernova import colour, fit_lightcurve
        result = fit_lightcurve(lc["jd"], lc["diffmag"], lc["differr"], lc["band"])
        result["colour"] = colour(lc["jd"], lc["diffmag"], lc["band"])
        return result
    raise ValueError(f"unknown fit {kind!r}")
