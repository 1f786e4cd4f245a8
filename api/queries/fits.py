"""Science fits of an object's light curve, cached per object, data and parameters.

The light curve is the object's valid detections: DC magnitudes where a source sits
behind the transient (variable stars, microlensing), difference magnitudes elsewhere.
A fit is cached under the object's alert count and last jd, so a new night refits.

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
from collections import OrderedDict
from threading import Lock

import numpy as np

from science.photometry import apparent_or_difference, has_source_behind
from store import Store

from .budget import remaining
from .isolated import run_isolated
from .objects import _history, alert_rows

CACHE_SIZE = 256
ADVICE = {"varstar": "narrow the period range (raise period_min, lower period_max) or use fewer Fourier terms; "
                     "if the server is busy, retry later",
          "mulens": "the server may be busy; retry later", "supernova": "the server may be busy; retry later"}
_cache: OrderedDict = OrderedDict()
_lock = Lock()


def lightcurve(store: Store, object_id: str, with_upper: bool = False) -> dict:
    """Arrays of the object's detections: jd, mag, err, band (fid), and whether DC.

    Also ``diffmag``/``differr`` (difference photometry), ``magnr`` (reference magnitude
    where a source is behind, else NaN), ``meas_err`` (error of ``mag`` from the difference
    photometry alone) and, with ``with_upper``, ``upper`` ({"jd", "band", "maglim"} of the
    non-detections).
    """
    cols = ("i:jd", "i:magpsf", "i:sigmapsf", "i:fid", "i:magnr", "i:sigmagnr", "i:isdiffpos", "i:distnr")
    alerts = alert_rows(store, object_id, ("i",))
    rows = [r for r in alerts if r.get("i:magpsf") is not None]
    if not rows:
        return {"jd": np.array([]), "mag": np.array([]), "err": np.array([]), "band": np.array([]), "is_dc": []}
    get = {c: [r.get(c) for r in rows] for c in cols}
    num = {c: np.array([np.nan if v is None else v for v in get[c]], dtype=float)
           for c in cols if c not in ("i:isdiffpos",)}
    phot = apparent_or_difference(num["i:magpsf"], num["i:sigmapsf"], num["i:magnr"], num["i:sigmagnr"],
                                  get["i:isdiffpos"], num["i:distnr"])
    mag = np.array(phot["mag"], dtype=float)
    behind = np.broadcast_to(has_source_behind(num["i:distnr"], num["i:magnr"]), mag.shape)
    # sigma(F) = sigmapsf |dF| / 1.0857 of the difference flux, as a magnitude error of F
    with np.errstate(invalid="ignore", over="ignore"):
        meas_err = np.where(behind, num["i:sigmapsf"] * 10 ** (-0.4 * (num["i:magpsf"] - mag)), num["i:sigmapsf"])
    out = {"jd": num["i:jd"], "mag": mag,
           "err": np.array(phot["err"], dtype=float), "band": num["i:fid"].astype(int), "is_dc": phot["is_dc"],
           "diffmag": num["i:magpsf"], "differr": num["i:sigmapsf"],
           "magnr": np.where(behind, num["i:magnr"], np.nan), "meas_err": meas_err}
    if with_upper:
        upper = [c for c in _history(store, object_id, set(num["i:jd"].tolist()), {r.get("i:candid") for r in alerts})
                 if c.get("d:tag") == "upperlim"]
        out["upper"] = {"jd": np.array([c.get("i:jd", np.nan) for c in upper], dtype=float),
                        "band": np.array([c.get("i:fid", 0) or 0 for c in upper], dtype=int),
                        "maglim": np.array([np.nan if c.get("i:diffmaglim") is None else c["i:diffmaglim"]
                                            for c in upper], dtype=float)}
    return out


def fit(store: Store, object_id: str, kind: str, **params) -> dict:
    """Run fit ``kind`` (varstar, mulens, supernova) on the object; ValueError when it cannot."""
    lc = lightcurve(store, object_id, with_upper=kind == "mulens")
    if not len(lc["jd"]):
        raise LookupError(f"no detection of {object_id!r}")
    return fit_curve(lc, kind, (store.prefix, object_id), **params)


def fit_curve(lc: dict, kind: str, whose: tuple, **params) -> dict:
    """Run fit ``kind`` on the light curve ``lc`` (arrays jd, mag, err, band, diffmag, differr;
    see :func:`lightcurve`) of object ``whose`` (its store prefix and id: the cache key, with
    the curve's size, last time and the parameters)."""
    key = (*whose, kind, len(lc["jd"]), float(lc["jd"].max()), tuple(sorted(params.items())))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    _import_science(kind)  # here, once per process: not in every child, against its budget
    seconds = remaining()
    if seconds is None:
        result = _run(kind, lc, params)
    else:
        result = run_isolated(_run, (kind, lc, params), seconds, ADVICE.get(kind, "retry later"))
    with _lock:
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


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
    if not ref or "meas_err" not in lc:
        return (lc["jd"], lc["mag"], lc["err"], lc["band"]), {}
    keep = np.isin(band, list(ref))
    up = lc.get("upper") or {"jd": [], "band": [], "maglim": []}
    return (lc["jd"][keep], lc["mag"][keep], lc["meas_err"][keep], band[keep]), {"ref_mag": ref, "upper_limits": up}
