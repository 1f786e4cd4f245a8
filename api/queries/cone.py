"""Cone searches on the sky index, and cross-matches of catalogues built on them."""
from __future__ import annotations

import numpy as np
import pandas as pd

from store import Store
from store.sky import cone_ranges

from .budget import check
from .cone_objects import latest_in_cone
from .frame import select, to_frame
from .listing import full_frame


def angular_distance(ra1, dec1, ra2, dec2) -> np.ndarray:
    """Great-circle distance in degrees (haversine, stable for tiny angles)."""
    ra1, dec1, ra2, dec2 = map(np.radians, (ra1, dec1, ra2, dec2))
    a = np.sin((dec2 - dec1) / 2) ** 2 + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(a, 0, 1))))


CONE_KEYS = ["i:objectId", "i:candid", "i:ra", "i:dec", "i:jd", "i:jdstarthist"]


def cone_rows(store: Store, ra: float, dec: float, radius_deg: float) -> list[tuple[str, dict]]:
    """Index rows (every light column) of the alerts within ``radius_deg`` of (ra, dec)."""
    keys, _, sep = cone_columns(store, ra, dec, radius_deg, [], with_keys=True)
    found = dict(store.table("pixel").rows(keys, columns=["i", "d"])) if keys else {}
    return [(key, dict(found[key], **{"v:separation_degree": s})) for key, s in zip(keys, sep.tolist())
            if key in found]  # (a row deleted since the scan is left out)


def cone_columns(store: Store, ra: float, dec: float, radius_deg: float, names: list[str],
                 with_keys: bool = False):
    """``(keys, {name: values}, separations)`` of the alerts within ``radius_deg`` of
    (ra, dec), read column-wise from the sky index (``names`` of its i: family); keys only
    ``with_keys`` (else None)."""
    pixel = store.table("pixel")
    advice = "narrow the cone (a smaller radius) or add a date window"
    ranges = [(pixel.keys.prefix(lo), pixel.keys.prefix(hi))
              for lo, hi in cone_ranges(ra, dec, radius_deg, store.schema.pixel_order)]
    check(advice)
    data = pixel.read(ranges=ranges, columns=sorted(set(names) | {"i:ra", "i:dec"}), on_batch=lambda: check(advice))
    keys = data.keys if with_keys else None
    if not len(data["i:ra"]):
        return ([] if with_keys else None), {name: np.array([]) for name in names}, np.array([])
    sep = angular_distance(ra, dec, np.asarray(data["i:ra"], dtype=float), np.asarray(data["i:dec"], dtype=float))
    inside = np.flatnonzero(sep <= radius_deg)
    return ([keys[i] for i in inside.tolist()] if with_keys else None,
            {name: np.asarray(data[name], dtype=object if isinstance(data[name], list) else None)[inside]
             for name in names}, sep[inside])


# From this radius a cone without a date window reads the object-level index: measured at 1 M
# alerts (bench/bench_sky_index.py), on par up to 30′ (the answer is then nearly every object in
# the cone, whose full rows cost the most) and 1.6x faster at 1°; 0.9x at 1′ (one more read).
OBJECT_INDEX_ARCSEC = 900.0


def conesearch(store: Store, ra: float, dec: float, radius_arcsec: float, start_jd: float | None = None,
               stop_jd: float | None = None, n: int = 1000, columns: list[str] | None = None,
               by_alert_date: bool = False) -> pd.DataFrame:
    """The latest alert of each object in the cone, nearest first, at most ``n`` objects.

    The date window (``start_jd``..``stop_jd``) applies, as in Fink's conesearch, to the
    object's first detection (``i:jdstarthist``); ``by_alert_date``, as in Fink's explorer,
    to the alerts themselves (the latest alert within the window). Ties go to the alert
    read first (key order).

    Without a date window, a cone of ``OBJECT_INDEX_ARCSEC`` or more reads the object-level
    sky index (one row per object and pixel, ``cone_objects``) when the store's is complete,
    else the alert index: the same answer, fewer rows read.
    """
    found = None
    if start_jd is None and stop_jd is None and radius_arcsec >= OBJECT_INDEX_ARCSEC:
        found = latest_in_cone(store, ra, dec, radius_arcsec / 3600, angular_distance)
    if found is None:
        found = _latest_by_alerts(store, ra, dec, radius_arcsec, start_jd, stop_jd, by_alert_date)
    if found is None or not len(found["sep"]):
        return select(full_frame(store, []), columns)
    chosen = np.lexsort((found["first"], found["sep"]))[:n]
    light = [{"i:objectId": found["objectId"][i], "i:jd": float(found["jd"][i]), "i:candid": found["candid"][i],
              "v:separation_degree": float(found["sep"][i])} for i in chosen.tolist()]
    return select(full_frame(store, light, keep=("v:separation_degree",)), columns)


def _latest_by_alerts(store: Store, ra: float, dec: float, radius_arcsec: float, start_jd, stop_jd,
                      by_alert_date: bool) -> dict | None:
    """:func:`cone_objects.latest_in_cone`'s answer read from the alert index (every alert in
    the cone), with the date window; None when no alert qualifies."""
    _, data, sep = cone_columns(store, ra, dec, radius_arcsec / 3600, CONE_KEYS)
    jd = np.asarray(data["i:jd"], dtype=float)
    first = np.asarray(pd.array(data["i:jdstarthist"], dtype="Float64").to_numpy(dtype=float, na_value=np.nan))
    first = jd if by_alert_date else np.where(np.isnan(first), jd, first)
    ok = np.ones(len(jd), dtype=bool)
    if start_jd is not None:
        ok &= first >= start_jd
    if stop_jd is not None:
        ok &= first < stop_jd
    idx = np.flatnonzero(ok)
    if not len(idx):
        return None
    codes = pd.factorize(data["i:objectId"][idx])[0]  # objects numbered in order of first appearance
    # per object: the latest jd, and among equal jds the alert read first
    order = np.lexsort((-idx, jd[idx], codes))
    last = order[np.r_[codes[order][1:] != codes[order][:-1], True]]
    rows = idx[last]
    return {"objectId": data["i:objectId"][rows], "jd": jd[rows], "candid": data["i:candid"][rows],
            "sep": sep[rows], "first": codes[last]}


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


SOURCE_CELLS = ("ra_in", "dec_in", "id_in", "time_in")


def xmatch_catalog(store: Store, catalog: pd.DataFrame, sources: pd.DataFrame, radius_arcsec: float,
                   window_days: float | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    """Fink's xmatch answer: each match is the user's catalogue row (every column, names as
    given) followed by the matched alert's columns (``columns``, or all, and
    ``v:separation_degree``). ``sources["id"]`` is the catalogue's row number; sources
    without a match are left out, as Fink leaves them out."""
    matches = xmatch(store, sources, radius_arcsec, window_days,
                     None if columns is None else list(dict.fromkeys([*columns, "v:separation_degree"])))
    if matches.empty:
        return pd.DataFrame(columns=[*catalog.columns, *(columns or [])])
    rows = pd.to_numeric(matches["id_in"]).to_numpy(int)
    alert = matches.drop(columns=[c for c in (*SOURCE_CELLS, *catalog.columns) if c in matches.columns])
    left = catalog.iloc[rows].reset_index(drop=True)
    return pd.concat([left, alert.reset_index(drop=True)], axis=1)


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


RANGE_GAP = 8


def _xmatch_by_pixels(store: Store, sources: pd.DataFrame, radius_deg: float, window_days) -> list[dict]:
    """The index pixels each source's circle reaches (of its 3×3 block) read in one multi-range scan, column-wise;
    (alert, source) pairs formed per pixel and measured in numpy. Matches are sorted by
    source, then objectId; ties in time go to the alert read first, as by cones."""
    from store.sky import block_pairs

    pixel = store.table("pixel")
    order = store.schema.pixel_order
    ra, dec = sources["ra"].to_numpy(float), sources["dec"].to_numpy(float)
    pair_pix, pair_src = block_pairs(ra, dec, radius_deg, order)  # the block pixels each circle reaches
    by_pix = np.argsort(pair_pix, kind="stable")
    pair_pix, pair_src = pair_pix[by_pix], pair_src[by_pix]
    uniq = pair_pix[np.r_[True, pair_pix[1:] != pair_pix[:-1]]]
    # pixels up to RANGE_GAP apart in nested order share one range: fewer ranges to seek, for a
    # few rows in between that no source needs (they pair with no source and drop out below)
    cut = np.flatnonzero(np.diff(uniq) > RANGE_GAP) + 1
    lo, hi = uniq[np.r_[0, cut]], uniq[np.r_[cut - 1, len(uniq) - 1]] + 1
    ranges = list(zip(pixel.keys.first_prefix_bytes(lo), pixel.keys.first_prefix_bytes(hi)))
    advice = "send fewer sources per request, or a smaller radius"
    data = pixel.read(ranges=ranges, columns=["i:objectId", "i:ra", "i:dec", "i:jd"], on_batch=lambda: check(advice))
    keys = data.keys
    if not keys:
        return []
    width = len(pixel.keys.prefix(0)) - 1
    row_pix = np.array([k[:width] for k in keys], dtype=np.int64)
    # every (alert row, source) pair whose source has the row's pixel in its block
    left, right = np.searchsorted(pair_pix, row_pix, "left"), np.searchsorted(pair_pix, row_pix, "right")
    counts = right - left
    row = np.repeat(np.arange(len(keys)), counts)
    src = pair_src[np.repeat(left - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())]
    sep = angular_distance(ra[src], dec[src], np.asarray(data["i:ra"], dtype=float)[row],
                           np.asarray(data["i:dec"], dtype=float)[row])
    jd = np.asarray(data["i:jd"], dtype=float)
    ok = sep <= radius_deg
    if "time" in sources and window_days is not None:
        ok &= np.abs(jd[row] - sources["time"].to_numpy(float)[src]) <= window_days
    row, src, sep = row[ok], src[ok], sep[ok]
    if not len(row):
        return []
    oids = np.asarray(data["i:objectId"], dtype=object)
    codes, names = pd.factorize(oids[row], sort=True)
    # per (source, object): the latest alert, and among equal times the one read first
    pick = np.lexsort((-row, jd[row], codes, src))
    group = src[pick] * len(names) + codes[pick]
    pick = pick[np.r_[group[1:] != group[:-1], True]]  # sorted by source, then objectId
    found = dict(pixel.rows(sorted({keys[i] for i in row[pick].tolist()}), columns=["i", "d"]))
    has_time = "time" in sources
    matched = []
    for r, i, d in zip(row[pick].tolist(), src[pick].tolist(), sep[pick].tolist()):
        cells = dict(found[keys[r]])
        cells["v:separation_degree"] = d
        cells.update(_source_cells(sources.iloc[i], has_time))
        matched.append(cells)
    return matched
