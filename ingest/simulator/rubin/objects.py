"""The ``diaObject`` of each alert: the object's summary as of that alert, band by band.

Aggregates run over the object's detections up to and including the alert's
(``nDiaSources``, per band ``psfFluxMean``/``MeanErr``/``Sigma``/``Ndata``,
``psfFluxMin``/``Max``/``MaxSlope``/``ErrMean``, ``scienceFluxMean``/``MeanErr``)
and over its forced photometry (``fpFluxMean``/``MeanErr``); fluxes in nJy,
slopes in nJy per day.  Running sums over the unit's rows (sorted by object,
then time) give every alert's values at once.  An asteroid's alert has no
diaObject: a struct whose fields are all null, as in Fink's files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from . import schema, survey
from .sources import PROCESSING_DELAY, Frame, _struct, blank


def _running(values: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """Cumulative sums of ``values`` where ``sel``, with a leading 0 (index i+1 = rows <= i)."""
    return np.concatenate([[0.0], np.cumsum(np.where(sel, values, 0.0))])


def _segment_extreme(values, sel, obj, how: str) -> np.ndarray:
    """Running min/max of ``values`` over ``sel`` rows within each object (NaN elsewhere)."""
    out = np.full(len(values), np.nan)
    idx = np.flatnonzero(sel)
    if len(idx):
        s = pd.Series(values[idx])
        g = s.groupby(obj[idx])
        out[idx] = (g.cummin() if how == "min" else g.cummax()).to_numpy()
    return out


def dia_objects(fr: Frame, unit, a_rows: np.ndarray) -> pa.StructArray:
    obj = unit.obj
    n_rows = len(obj)
    o = obj[a_rows]
    start = np.searchsorted(obj, np.arange(unit.n_objects), side="left")[o]
    hi = a_rows + 1
    det = unit.det
    w_all = 1.0 / fr.flux_err ** 2
    cols: dict = {}
    idx = np.arange(n_rows)
    for b, name in enumerate(survey.BANDS):
        inband = fr.band == b
        sel = det & inband
        sums = {k: _running(v, sel) for k, v in (("n", np.ones(n_rows)), ("f", fr.flux),
                                                   ("f2", fr.flux ** 2), ("w", w_all),
                                                   ("err", fr.flux_err), ("sci", fr.template + fr.flux))}
        n, sf, sf2, sw, serr, ssci = (sums[k][hi] - sums[k][start] for k in ("n", "f", "f2", "w", "err", "sci"))
        has = n > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = sf / n
            var = np.maximum(sf2 / n - mean ** 2, 0) * n / np.maximum(n - 1, 1)
            mean_err = 1 / np.sqrt(sw)
            fsel = inband
            fn = _running(np.ones(n_rows), fsel)
            fw = _running(w_all, fsel)
            fwf = _running(w_all * fr.flux, fsel)
            nf = fn[hi] - fn[start]
            swf = fw[hi] - fw[start]
            fp_mean = (fwf[hi] - fwf[start]) / swf
            fp_err = 1 / np.sqrt(swf)
        last = np.maximum.accumulate(np.where(sel, idx, -1))[a_rows]
        ok_last = has & (last >= start)
        lmin = _segment_extreme(fr.flux, sel, obj, "min")
        lmax = _segment_extreme(fr.flux, sel, obj, "max")
        # slope between consecutive detections of the object in this band
        sidx = np.flatnonzero(sel)
        slope = np.full(n_rows, np.nan)
        if len(sidx) > 1:
            same = obj[sidx[1:]] == obj[sidx[:-1]]
            dt = fr.mjd[sidx[1:]] - fr.mjd[sidx[:-1]]
            with np.errstate(invalid="ignore", divide="ignore"):
                s = np.abs(np.diff(fr.flux[sidx])) / np.maximum(dt, 1e-4)
            slope[sidx[1:][same]] = s[same]
        smax = _segment_extreme(np.nan_to_num(slope, nan=-1.0), sel, obj, "max")
        li = np.maximum(last, 0)
        m = lambda v, valid: pa.array(np.where(valid, v, 0.0), type=pa.float32(), mask=~valid)  # noqa: E731
        cols[f"{name}_psfFluxMean"] = m(mean, has)
        cols[f"{name}_psfFluxMeanErr"] = m(mean_err, has)
        cols[f"{name}_psfFluxSigma"] = m(np.sqrt(var), n > 1)
        cols[f"{name}_psfFluxNdata"] = n.astype(np.int32)
        cols[f"{name}_fpFluxMean"] = m(fp_mean, nf > 0)
        cols[f"{name}_fpFluxMeanErr"] = m(fp_err, nf > 0)
        cols[f"{name}_scienceFluxMean"] = m(ssci / np.maximum(n, 1), has)
        cols[f"{name}_scienceFluxMeanErr"] = m(mean_err, has)
        cols[f"{name}_psfFluxMin"] = m(lmin[li], ok_last)
        cols[f"{name}_psfFluxMax"] = m(lmax[li], ok_last)
        cols[f"{name}_psfFluxMaxSlope"] = m(smax[li], ok_last & (smax[li] >= 0))
        cols[f"{name}_psfFluxErrMean"] = m(serr / np.maximum(n, 1), has)
    cdet = _running(np.ones(n_rows), det)
    ndia = cdet[hi] - cdet[start]
    first_det = np.where(det, idx, n_rows)
    first_det = np.minimum.accumulate(first_det[::-1])[::-1][start]
    mjd = fr.mjd[a_rows]
    rng = unit.rng
    na = len(a_rows)
    pos_err = 1.0e-5 / np.sqrt(np.maximum(ndia, 1))
    cols.update({
        "diaObjectId": fr.dia_object_id[o], "validityStartMjdTai": mjd + PROCESSING_DELAY * 1.05,
        "ra": np.mod(unit.ra[o] + rng.normal(0, 1, na) * pos_err / np.cos(np.radians(unit.dec[o])), 360),
        "raErr": pos_err, "dec": unit.dec[o] + rng.normal(0, 1, na) * pos_err, "decErr": pos_err,
        "ra_dec_Cov": pos_err ** 2 * rng.normal(0, 0.1, na),
        "firstDiaSourceMjdTai": fr.mjd[np.minimum(first_det, n_rows - 1)], "lastDiaSourceMjdTai": mjd,
        "nDiaSources": ndia.astype(np.int32),
    })
    return blank(_struct(schema.DIA_OBJECT, cols, na), fr.asteroid[o])
