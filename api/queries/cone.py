"""Cone searches on the sky index, and cross-matches of catalogues built on them."""
from __future__ import annotations

import numpy as np
import pandas as pd

from store import Store
from store.sky import cone_ranges

from .budget import check
from .frame import select, to_frame
from .listing import full_frame


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
    return select(full_frame(store, light, keep=("v:separation_degree",)), columns)


FAST_XMATCH_ARCSEC = 5.0  # within this radius a source's cone lies inside its 3x3 order-14 pixels


def xmatch(store: Store, sources: pd.DataFrame, radius_arcsec: float, window_days: float | None = None,
           columns: list[str] | None = None) -> pd.DataFrame:
    """Matches of each source (``ra``, ``dec``, ``id`` and optional ``time`` JD columns).

    Each match is the latest alert (within ``window_days`` of the source's time, if given)
    of each object within the radius, with the source's columns added (``ra_in``,
    ``dec_in``, ``id_in``, ``time_in``) and its separation. Up to 5″, the whole catalogue
    is matched in one pass: every source's 3×3 block of index pixels is read by one
    multi-range scan and distances are computed per pixel; wider radii run one cone per
    source.
    """
    if radius_arcsec <= FAST_XMATCH_ARCSEC and len(sources) > 1:
        matched = _xmatch_by_pixels(store, sources, radius_arcsec / 3600, window_days)
    else:
        matched = _xmatch_by_cones(store, sources, radius_arcsec / 3600, window_days)
    return select(to_frame(matched), None if columns is None else ["id_in", "ra_in", "dec_in", *columns])


def _source_cells(src, has_time: bool) -> dict:
    cells = {"ra_in": float(src.ra), "dec_in": float(src.dec), "id_in": str(src.id)}
    if has_time:
        cells["time_in"] = float(src.time)
    return cells


def _keep_latest(latest: dict, key, cells: dict) -> None:
    if key not in latest or cells["i:jd"] > latest[key]["i:jd"]:
        latest[key] = cells


def _xmatch_by_cones(store: Store, sources: pd.DataFrame, radius_deg: float, window_days) -> list[dict]:
    matched = []
    has_time = "time" in sources
    for src in sources.itertuples(index=False):
        check("send fewer sources per request, or a smaller radius")
        latest: dict[str, dict] = {}
        for _, cells in cone_rows(store, float(src.ra), float(src.dec), radius_deg):
            if has_time and window_days is not None and abs(cells["i:jd"] - float(src.time)) > window_days:
                continue
            _keep_latest(latest, cells["i:objectId"], cells)
        for cells in latest.values():
            cells.update(_source_cells(src, has_time))
            matched.append(cells)
    return matched


def _xmatch_by_pixels(store: Store, sources: pd.DataFrame, radius_deg: float, window_days) -> list[dict]:
    from cdshealpix.nested import neighbours

    from store.sky import pixels

    pixel = store.table("pixel")
    order = store.schema.pixel_order
    ra, dec = sources["ra"].to_numpy(float), sources["dec"].to_numpy(float)
    blocks = neighbours(pixels(ra, dec, order).astype(np.uint64), order).astype(np.int64)
    around: dict[int, list[int]] = {}
    for i, block in enumerate(blocks.tolist()):
        for p in block:
            if p >= 0:
                around.setdefault(p, []).append(i)
    runs: list[list[int]] = []  # neighbouring pixels in nested order merge into one range
    for p in sorted(around):
        if runs and runs[-1][1] == p:
            runs[-1][1] = p + 1
        else:
            runs.append([p, p + 1])
    ranges = list(zip(pixel.keys.first_prefixes([lo for lo, _ in runs]),
                      pixel.keys.first_prefixes([hi for _, hi in runs])))
    names = [f"i:{q}" for q in pixel.spec.families["i"].columns]
    ira, idec, ijd = names.index("i:ra"), names.index("i:dec"), names.index("i:jd")
    has_time = "time" in sources
    times = sources["time"].to_numpy(float) if has_time else None
    srcs = list(sources.itertuples(index=False))
    latest: dict[tuple, tuple] = {}
    width = len(pixel.keys.prefix(0)) - 1
    for n, (key, row) in enumerate(pixel.scan_values_ranges(names, ranges, batch_size=5000)):
        if n % 5000 == 4999:
            check("send fewer sources per request, or a smaller radius")
        candidates = around.get(int(key[:width]), ())
        sep = angular_distance(ra[candidates], dec[candidates], row[ira], row[idec])
        for i, d in zip(candidates, np.atleast_1d(sep).tolist()):
            if d > radius_deg or (has_time and window_days is not None and abs(row[ijd] - times[i]) > window_days):
                continue
            cells = {k: v for k, v in zip(names, row) if v is not None}
            cells["v:separation_degree"] = d
            _keep_latest(latest, (i, cells["i:objectId"]), cells)
            latest[(i, cells["i:objectId"])]["_key"] = key
    found = dict(pixel.rows(sorted({c["_key"] for c in latest.values()}), columns=["d"])) if latest else {}
    matched = []
    for (i, _), cells in sorted(latest.items(), key=lambda kv: kv[0]):
        cells.update(found.get(cells.pop("_key"), {}))
        cells.update(_source_cells(srcs[i], has_time))
        matched.append(cells)
    return matched
