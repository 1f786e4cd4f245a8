"""Science fits of Rubin objects: the light curve in magnitudes from Rubin's fluxes (nJy).

Variable-star and microlensing fits take the total flux of the source (``scienceFlux``,
measured on the direct image); the supernova fit takes the difference flux (``psfFlux``),
the transient alone. Fluxes become AB magnitudes (``science.photometry.njy_to_mag``); a
flux that is not positive has none and is left out. With ``forced`` the object's forced
photometry (table ``fp``) joins its detections (each visit once: a forced source at the
time of a detection is left out).
"""
from __future__ import annotations

import numpy as np

from science.photometry import njy_to_mag
from store import Store

from ..budget import check
from ..fits import fit_curve

FLUX = {"varstar": "scienceFlux", "mulens": "scienceFlux", "supernova": "psfFlux"}
MJD_TO_JD = 2400000.5


def lightcurve(store: Store, object_id: int, kind: str, forced: bool = False) -> dict:
    """Arrays jd (JD: Rubin's MJD + 2400000.5, the unit every fit takes), mag, err, band,
    kind (``detection`` or ``forced``) and diffmag/differr (the same, from the flux the fit uses)."""
    flux = FLUX[kind]
    columns = ["r:midpointMjdTai", "r:band", f"r:{flux}", f"r:{flux}Err"]
    parts = [_read(store, "sources", object_id, columns)]
    kinds = [np.full(len(parts[0][0]), "detection")]
    if forced:
        seen = set(np.round(parts[0][0], 6).tolist())
        mjd, band, f, e = _read(store, "fp", object_id, columns)
        new = np.array([round(t, 6) not in seen for t in mjd.tolist()], dtype=bool)
        parts.append((mjd[new], band[new], f[new], e[new]))
        kinds.append(np.full(int(new.sum()), "forced"))
    mjd, band, f, e = (np.concatenate(p) for p in zip(*parts))
    kind = np.concatenate(kinds)
    mag, err = njy_to_mag(f, e)
    mag, err = np.atleast_1d(mag), np.atleast_1d(err)
    ok = np.isfinite(mag) & np.isfinite(err) & (err > 0) & (band != "")
    order = np.argsort(mjd[ok], kind="stable")
    out = {"jd": mjd[ok][order] + MJD_TO_JD, "mag": mag[ok][order], "err": err[ok][order], "band": band[ok][order],
           "kind": kind[ok][order]}
    out["diffmag"], out["differr"] = out["mag"], out["err"]
    return out


def _read(store: Store, name: str, object_id: int, columns: list[str]):
    table = store.table(name)
    check("the object has too many measurements for a fit within the time budget")
    batch = table.records.read([(object_id,)], columns) if table.records is not None else \
        table.read(ranges=[table.keys.span(object_id)], columns=columns)
    n = len(batch)

    def floats(c):
        v = batch.columns.get(c)
        return np.full(n, np.nan) if v is None else np.asarray([np.nan if x is None else x for x in v]
                                                               if isinstance(v, list) else v, dtype=float)
    band = batch.columns.get("r:band") or [None] * n
    return (floats(columns[0]), np.asarray(["" if b is None else str(b) for b in band], dtype=str),
            floats(columns[2]), floats(columns[3]))


def fit(store: Store, object_id: int, kind: str, forced: bool = False, **params) -> dict:
    """Run fit ``kind`` on the Rubin object; LookupError without a usable point, ValueError
    when the curve cannot be fitted."""
    lc = lightcurve(store, object_id, kind, forced)
    if not len(lc["jd"]):
        raise LookupError(f"no measurement with a positive {FLUX[kind]} for diaObjectId {object_id}")
    return fit_curve(lc, kind, (store.prefix, object_id, forced), **params)
