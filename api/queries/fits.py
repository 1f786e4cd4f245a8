"""Science fits of an object's light curve, cached per object, data and parameters.

The light curve is all the object's photometry (:mod:`science.gather`): its alerts, the
earlier detections of their history (``history``: none, good, all) and, when given, forced
photometry; DC magnitudes where a source sits behind the transient (variable stars,
microlensing), difference magnitudes elsewhere; each point keeps its ``kind`` for the plots.
A fit is cached under the object's point count and last jd, so a new night refits.

Under a time budget (every API request, every portal fit) the fit itself runs in a forked
child killed when the budget passes (:mod:`api.queries.isolated`): numpy cannot be
interrupted from Python, and a fit's parameters are also bounded by the science code
(:func:`science.varstar.check_search`), so the kill is the last line, not the first.

The microlensing fit gets more: where the lensed star sits in the reference image
(``distnr`` < 1.5") its reference magnitude is the baseline of the band, the DC magnitudes
carry the difference-photometry error alone (``meas_err``: the reference's error is common
to all points) and the object's upper limits (non-detections, ``diffmaglim``) go along, so
the fit holds the baseline fixed and knows when the star was not magnified.
"""
from __future__ import annotations

import importlib
import time
from collections import OrderedDict
from threading import Lock

import numpy as np
import pandas as pd

from science.gather import combine, detections, forced_points, history_mask, reference_mags
from store import Store

from .budget import remaining
from .forced import forced_points as forced_points_of
from .isolated import run_isolated
from .objects import _history, alert_rows

CACHE_SIZE = 256
MULENS_MIN_POINTS = 10   # science.mulens.MIN_POINTS (not imported here: pyLIMA loads lazily)
ADVICE = {"varstar": "narrow the period range (raise period_min, lower period_max) or use fewer Fourier terms; "
                     "if the server is busy, retry later",
          "mulens": "the server may be busy; retry later", "supernova": "the server may be busy; retry later"}
_cache: OrderedDict = OrderedDict()
_lock = Lock()


def lightcurve(store: Store, object_id: str, with_upper: bool = False, history: str = "good",
               forced=None) -> dict:
    """Arrays of the object's photometry for a fit (:mod:`science.gather`): jd, mag, err,
    band (fid), is_dc, diffmag/differr (difference photometry), magnr (reference magnitude
    where a source is behind, else NaN), meas_err (error of ``mag`` from the difference
    photometry alone) and kind (``alert``, ``history``, ``forced``).

    ``history`` chooses the alerts' earlier detections that join the alerts (``none``,
    ``good``: real/bogus >= 0.55, ``all``); ``forced`` is a forced-photometry table (see
    :func:`science.gather.forced_points`: jd, band as fid, flux, flux_err, zp[, procstatus]).
    With ``with_upper``, ``upper`` ({"jd", "band", "maglim"} of the non-detections).
    """
    alerts = alert_rows(store, object_id, ("i",))
    rows = [r for r in alerts if r.get("i:magpsf") is not None]
    need_history = with_upper or history != "none"
    past = _history(store, object_id, {r["i:jd"] for r in rows}, {r.get("i:candid") for r in alerts}) \
        if need_history and alerts else []
    earlier = [c for c in past if c.get("d:tag") == "badquality" and c.get("i:magpsf") is not None]
    earlier = [c for c, keep in zip(earlier, history_mask([_num(c.get("i:rb")) for c in earlier], history),
                                    strict=True) if keep]
    parts = [_detections(rows, "alert"), _detections(earlier, "history")]
    if forced is not None and len(forced):
        parts.append(forced_points(forced, reference_mags(combine(*parts))))
    out = combine(*parts)
    if with_upper:
        upper = [c for c in past if c.get("d:tag") == "upperlim"]
        out["upper"] = {"jd": np.array([_num(c.get("i:jd")) for c in upper], dtype=float),
                        "band": np.array([c.get("i:fid", 0) or 0 for c in upper], dtype=int),
                        "maglim": np.array([_num(c.get("i:diffmaglim")) for c in upper], dtype=float)}
    return out


DETECTION_COLUMNS = ("i:jd", "i:magpsf", "i:sigmapsf", "i:fid", "i:magnr", "i:sigmagnr", "i:isdiffpos", "i:distnr")


def _num(v) -> float:
    return np.nan if v is None else float(v)


def _detections(rows: list[dict], kind: str) -> dict:
    """The part of :func:`science.gather.combine` made of ZTF detection rows."""
    num = [np.array([_num(r.get(c)) for r in rows], dtype=float) for c in DETECTION_COLUMNS if c != "i:isdiffpos"]
    jd, magpsf, sigmapsf, fid, magnr, sigmagnr, distnr = num
    return detections(jd, magpsf, sigmapsf, np.nan_to_num(fid).astype(int), magnr, sigmagnr,
                      [r.get("i:isdiffpos") for r in rows], distnr, kind)


def fit(store: Store, object_id: str, kind: str, history: str = "good", forced=None, withfp: bool = True,
        **params) -> dict:
    """Run fit ``kind`` (varstar, mulens, supernova) on the object's photometry (see
    :func:`lightcurve` for ``history`` and ``forced``; ``withfp``, when no ``forced`` is given:
    the forced points the store holds for the object, :func:`stored_forced`); ValueError when
    it cannot."""
    if forced is None and withfp:
        forced = stored_forced(store, object_id)
    lc = lightcurve(store, object_id, with_upper=kind == "mulens", history=history, forced=forced)
    if not len(lc["jd"]):
        raise LookupError(f"no detection of {object_id!r}")
    return fit_curve(lc, kind, (store.prefix, object_id, history, forced is not None), **params)


def stored_forced(store: Store, object_id: str) -> pd.DataFrame | None:
    """The object's stored ZTF forced photometry (:func:`api.queries.forced.forced_points`) as
    :func:`science.gather.forced_points` takes it: the raw difference flux in DN with its
    exposure's zero point (m = magzpsci - 2.5 log10 flux), band as fid; None when it has none
    (or the store predates the fp table)."""
    fp = forced_points_of(store, object_id, missing_ok=True)
    if fp.empty:
        return None
    return pd.DataFrame({"jd": fp["jd"], "band": fp["fid"], "flux": fp["forcediffimflux"],
                         "flux_err": fp["forcediffimfluxunc"], "zp": fp["magzpsci"], "procstatus": fp["procstatus"]})


def fit_curve(lc: dict, kind: str, whose: tuple, **params) -> dict:
    """Run fit ``kind`` on the light curve ``lc`` (arrays jd, mag, err, band, diffmag, differr;
    see :func:`lightcurve`) of object ``whose`` (its store prefix and id: the cache key, with
    the curve's size, last time and the parameters)."""
    key = (*whose, kind, len(lc["jd"]), float(lc["jd"].max()), tuple(sorted(params.items())))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    started = time.monotonic()
    _import_science(kind)  # here, once per process: not in every child, against its budget
    seconds = remaining()
    if seconds is not None:  # the process's one-time import is not the request's work: given back
        seconds += min(time.monotonic() - started, MAX_IMPORT_CREDIT_S)
    if seconds is None:
        result = _run(kind, lc, params)
    else:
        result = run_isolated(_run, (kind, lc, params), seconds, ADVICE.get(kind, "retry later"))
    with _lock:
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


MAX_IMPORT_CREDIT_S = 10.0  # at most this much of a first import (once per process) is given back to the budget
SCIENCE = {"varstar": ("science.varstar",),
           "mulens": ("science.mulens", "pyLIMA.fits.ML_fit", "pyLIMA.event", "pyLIMA.telescopes",
                      "pyLIMA.fits.TRF_fit", "pyLIMA.models.PSPL_model",
                      "pyLIMA.magnification.magnification_PSPL"),
           "supernova": ("science.supernova",)}


def _import_science(kind: str) -> None:
    """Import what the fit needs (including the science code's lazy imports) in this
    process, so each child starts with it loaded."""
    for module in SCIENCE.get(kind, ()):
        importlib.import_module(module)


def _run(kind: str, lc: dict, params: dict) -> dict:
    if kind == "varstar":
        from science.varstar import fit_period
        return fit_period(lc["jd"], lc["mag"], lc["err"], lc["band"],
                          period_range=(params["period_min"], params["period_max"]),
                          nterms_base=params["nterms_base"], nterms_band=params["nterms_band"],
                          period=params.get("period"))
    if kind == "mulens":
        return _mulens(lc)
    if kind == "supernova":
        from science.supernova import colour, fit_lightcurve
        result = fit_lightcurve(lc["jd"], lc["diffmag"], lc["differr"], lc["band"])
        result["colour"] = colour(lc["jd"], lc["diffmag"], lc["band"])
        return result
    raise ValueError(f"unknown fit {kind!r}")


def _mulens(lc: dict) -> dict:
    """PSPL fit; constrained by the reference flux of each band whose every detection has
    the star behind it (see :func:`science.mulens.fit_pspl`), free blending otherwise."""
    from science.mulens import fit_pspl
    args, kwargs = mulens_inputs(lc)
    return fit_pspl(*args, **kwargs)


def mulens_inputs(lc: dict) -> tuple[tuple, dict]:
    """The arguments :func:`_mulens` gives ``fit_pspl`` for a light curve (``kwargs``
    holds ``ref_mag`` and ``upper_limits`` when the fit is constrained)."""
    band, magnr = np.asarray(lc["band"]), np.asarray(lc.get("magnr", np.full(len(lc["jd"]), np.nan)))
    ref = {int(b): float(np.median(magnr[band == b])) for b in np.unique(band)
           if np.all(np.isfinite(magnr[band == b]))}
    keep = np.isin(band, list(ref))
    if not ref or "meas_err" not in lc or keep.sum() < MULENS_MIN_POINTS:
        # too few points with the star behind for a constrained fit: free blending on all
        return (lc["jd"], lc["mag"], lc["err"], lc["band"]), {}
    up = lc.get("upper") or {"jd": [], "band": [], "maglim": []}
    return (lc["jd"][keep], lc["mag"][keep], lc["meas_err"][keep], band[keep]), {"ref_mag": ref, "upper_limits": up}
