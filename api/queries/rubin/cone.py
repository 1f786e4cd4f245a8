"""Rubin cone searches (Fink's LSST ``conesearch``) on the sky index of the alerts.

The index (table ``pixel``: HEALPix nested order 14, one row per alert with its light
columns) is read column-wise over the cone's ranges; separations come from numpy; each
object keeps its newest alert (a solar-system alert, diaObjectId 0, is its own); columns
the index lacks are read from ``sources`` for the alerts kept.

Dates, as ``kind`` says (MJD TAI, ``[start, stop]``: both bounds included, as Fink's LSST
documentation gives them; "included" to half the key's time resolution, 1e-7 day, since a
date sent as MJD, JD or ISO comes back through a float conversion):

- ``within`` (default): objects whose variation lies within the window: first detected
  (``f:firstDiaSourceMjdTaiFink``, else its first alert in the index) at or after ``start``,
  newest alert at or before ``stop`` (Fink's filters on the first and last detections).
- ``across``: objects with an alert inside the window; the newest such alert is returned.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from store import Store
from store.sky import cone_ranges

from ..budget import check
from ..cone import angular_distance
from .frame import column_types, frame, take_rows

SEPARATION = "v:separation_degree"
ALWAYS = ["r:ra", "r:dec", "r:midpointMjdTai"]  # added to any columns asked, as Fink adds them
KEYS = ["r:diaObjectId", "r:diaSourceId", "r:midpointMjdTai", "r:ra", "r:dec", "f:firstDiaSourceMjdTaiFink"]
KINDS = ("within", "across")
ADVICE = "narrow the cone (a smaller radius)"
EPS = 5e-8  # days: half the row keys' MJD resolution (%013.7f), the tolerance of an included bound


def conesearch(store: Store, ra: float, dec: float, radius_arcsec: float, start_mjd: float | None = None,
               stop_mjd: float | None = None, kind: str = "within", n: int = 1000,
               columns: list[str] | None = None) -> pd.DataFrame:
    """The newest alert of each object within ``radius_arcsec`` of (ra, dec), nearest first,
    at most ``n`` objects; ``columns`` None: every column of the index (and the separation)."""
    light = column_types("pixel")
    wanted = list(light) if columns is None else list(dict.fromkeys([*columns, *ALWAYS]))
    pixel = store.table("pixel")
    radius = radius_arcsec / 3600
    ranges = [(pixel.keys.prefix(lo), pixel.keys.prefix(hi))
              for lo, hi in cone_ranges(ra, dec, radius, store.schema.pixel_order)]
    check(ADVICE)
    read = sorted(set(KEYS) | {c for c in wanted if c in light})
    data = pixel.read(ranges=ranges, columns=read, on_batch=lambda: check(ADVICE))
    if not len(data):
        return pd.DataFrame()
    col = data.columns
    sep = angular_distance(ra, dec, np.asarray(col["r:ra"], float), np.asarray(col["r:dec"], float))
    mjd = np.asarray(col["r:midpointMjdTai"], dtype=float)
    obj = np.asarray(col["r:diaObjectId"], dtype=object)
    src = np.asarray(col["r:diaSourceId"], dtype=object)
    group = pd.factorize(np.where(obj == 0, src, obj).astype(str))[0]  # an SSO alert (diaObjectId 0) is its own
    ok = sep <= radius
    if kind == "across":
        if start_mjd is not None:
            ok &= mjd >= start_mjd - EPS
        if stop_mjd is not None:
            ok &= mjd <= stop_mjd + EPS
    idx = np.flatnonzero(ok)
    if not len(idx):
        return pd.DataFrame()
    order = np.lexsort((mjd[idx], group[idx]))  # per object, its newest alert last
    last = idx[order[np.r_[group[idx][order][1:] != group[idx][order][:-1], True]]]
    if kind == "within" and (start_mjd is not None or stop_mjd is not None):
        first = _first_detection(col, mjd, group)
        keep = np.ones(len(last), dtype=bool)
        if start_mjd is not None:
            keep &= first[last] >= start_mjd - EPS
        if stop_mjd is not None:
            keep &= mjd[last] <= stop_mjd + EPS
        last = last[keep]
    chosen = last[np.argsort(sep[last], kind="stable")][:n]
    picked = {name: take_rows(col.get(name), chosen) for name in wanted if name in light}
    extra = [c for c in wanted if c not in light and c != SEPARATION]
    if extra:
        picked.update(_from_sources(store, col, chosen, extra))
    out = frame(picked, "sources", [c for c in wanted if c != SEPARATION], n=len(chosen), newest_first=False)
    out[SEPARATION] = sep[chosen]
    return out


def _first_detection(col: dict, mjd: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per alert: its object's first detection as Fink computed it, else the object's first
    alert in the index."""
    fink = np.asarray(col.get("f:firstDiaSourceMjdTaiFink", np.full(len(mjd), np.nan)), dtype=float)
    earliest = pd.Series(mjd).groupby(group).transform("min").to_numpy()
    return np.where(np.isfinite(fink), fink, earliest)


def _from_sources(store: Store, col: dict, chosen: np.ndarray, names: list[str]) -> dict:
    """Columns ``names`` of the alerts ``chosen``, read from the sources table by key."""
    sources = store.table("sources")
    keys = [sources.keys.build(col["r:diaObjectId"][i], col["r:midpointMjdTai"][i], col["r:diaSourceId"][i])
            for i in chosen.tolist()]
    batch = sources.read(keys=keys, columns=names)
    where = {k: i for i, k in enumerate(batch.keys)}
    out = {}
    for name in names:
        values = batch.columns.get(name)
        out[name] = [None if k not in where or values is None else _item(values[where[k]]) for k in keys]
    return out


def _item(value):
    return None if isinstance(value, float) and np.isnan(value) else (value.item() if hasattr(value, "item") else value)
