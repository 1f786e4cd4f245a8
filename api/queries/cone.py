"""Cone searches on the sky index, and cross-matches of catalogues built on them."""
from __future__ import annotations

import numpy as np
import pandas as pd

from store import Store
from store.sky import cone_ranges

from .budget import check
from .frame import select, to_frame
from .listing import full_rows


def angular_distance(ra1, dec1, ra2, dec2) -> np.ndarray:
    """Great-circle distance in degrees (haversine, stable for tiny angles)."""
    ra1, dec1, ra2, dec2 = map(np.radians, (ra1, dec1, ra2, dec2))
    a = np.sin((dec2 - dec1) / 2) ** 2 + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(a, 0, 1))))


CONE_KEYS = ["i:objectId", "i:candid", "i:ra", "i:dec", "i:jd", "i:jdstarthist"]


def cone_hits(store: Store, ra: float, dec: float, radius_deg: float, names: list[str]):
    """``(keys, rows, separations)`` of the alerts within ``radius_deg`` of (ra, dec): rows
    are tuples of the index's ``names`` (i: columns, including i:ra and i:dec)."""
    pixel = store.table("pixel")
    advice = "narrow the cone (a smaller radius) or add a date window"
    keys, values = [], []
    for lo, hi in cone_ranges(ra, dec, radius_deg, store.schema.pixel_order):
        check(advice)
        for i, (key, row) in enumerate(pixel.scan_values(names, pixel.keys.prefix(lo), pixel.keys.prefix(hi),
                                                         batch_size=5000)):
            keys.append(key)
            values.append(row)
            if i % 2000 == 1999:
                check(advice)
    if not keys:
        return [], [], np.array([])
    ira, idec = names.index("i:ra"), names.index("i:dec")
    sep = angular_distance(ra, dec, np.array([v[ira] for v in values], dtype=float),
                           np.array([v[idec] for v in values], dtype=float))
    inside = np.flatnonzero(sep <= radius_deg)
    return [keys[i] for i in inside.tolist()], [values[i] for i in inside.tolist()], sep[inside]


def cone_rows(store: Store, ra: float, dec: float, radius_deg: float) -> list[tuple[str, dict]]:
    """Index rows (every light column) of the alerts within ``radius_deg`` of (ra, dec)."""
    pixel = store.table("pixel")
    names = [f"i:{q}" for q in pixel.spec.families["i"].columns]
    keys, values, sep = cone_hits(store, ra, dec, radius_deg, names)
    found = dict(pixel.rows(keys, columns=["d"])) if keys else {}
    out = []
    for key, row, s in zip(keys, values, sep.tolist()):
        cells = {n: v for n, v in zip(names, row) if v is not None}
        cells.update(found.get(key, {}))
        cells["v:separation_degree"] = s
        out.append((key, cells))
    return out


def conesearch(store: Store, ra: float, dec: float, radius_arcsec: float, start_jd: float | None = None,
               stop_jd: float | None = None, n: int = 1000, columns: list[str] | None = None) -> pd.DataFrame:
    """The latest alert of each object in the cone, nearest first, at most ``n`` objects.

    The date window (``start_jd``..``stop_jd``) applies, as in Fink, to the object's first
    detection (``i:jdstarthist``).
    """
    _, rows, sep = cone_hits(store, ra, dec, radius_arcsec / 3600, CONE_KEYS)
    io, ijd, ifirst = (CONE_KEYS.index(c) for c in ("i:objectId", "i:jd", "i:jdstarthist"))
    latest: dict[str, int] = {}
    for i, row in enumerate(rows):
        first = row[ifirst] if row[ifirst] is not None else row[ijd]
        if (start_jd is not None and first < start_jd) or (stop_jd is not None and first >= stop_jd):
            continue
        j = latest.get(row[io])
        if j is None or row[ijd] > rows[j][ijd]:
            latest[row[io]] = i
    chosen = sorted(latest.values(), key=lambda i: sep[i])[:n]
    light = [dict(zip(CONE_KEYS, rows[i]), **{"v:separation_degree": float(sep[i])}) for i in chosen]
    return select(to_frame(full_rows(store, light, keep=("v:separation_degree",))), columns)


def xmatch(store: Store, sources: pd.DataFrame, radius_arcsec: float, window_days: float | None = None,
           columns: list[str] | None = None) -> pd.DataFrame:
    """Matches of each source (``ra``, ``dec``, ``id`` and optional ``time`` JD columns).

    Each match is the latest alert of a matched object, with the source's columns added
    (``ra_in``, ``dec_in``, ``id_in``, ``time_in``) and its separation.
    """
    matched = []
    has_time = "time" in sources and window_days is not None
    for src in sources.itertuples(index=False):
        check("send fewer sources per request, or a smaller radius")
        latest: dict[str, dict] = {}
        for _, cells in cone_rows(store, float(src.ra), float(src.dec), radius_arcsec / 3600):
            if has_time and abs(cells["i:jd"] - float(src.time)) > window_days:
                continue
            oid = cells["i:objectId"]
            if oid not in latest or cells["i:jd"] > latest[oid]["i:jd"]:
                latest[oid] = cells
        for cells in latest.values():
            cells.update({"ra_in": float(src.ra), "dec_in": float(src.dec), "id_in": str(src.id)})
            if "time" in sources:
                cells["time_in"] = float(src.time)
            matched.append(cells)
    return select(to_frame(matched), None if columns is None else ["id_in", "ra_in", "dec_in", *columns])
