"""The latest alert of each object in a cone, read from the object-level sky index.

``objects_sky`` holds, per order-14 pixel and object, the object's latest alert in that
pixel (``ingest.newest``). A cone reads the rows of the pixels that cover it (the same key
ranges as the alert index) and keeps those whose alert lies inside. That is the whole answer
but for one case: a pixel the cone's edge crosses, whose latest alert lies outside while an
older alert of the object in that pixel lies inside. Those pixels are re-read from the alert
index (``pixel``), only for rows whose alert lies within a pixel's diameter outside the edge:
a few pixels on a 1° cone. So the answer is the one the alert index gives, object by object:
the latest alert inside the cone, at equal jd the one the alert index lists first.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from store import Store
from store.filled import is_filled
from store.sky import EDGE_MARGIN_DEG, cone_ranges

from .budget import check

SKY = "objects_sky"
COLUMNS = ["i:objectId", "i:jd", "i:candid", "i:ra", "i:dec"]
ADVICE = "narrow the cone (a smaller radius) or add a date window"


def pixel_diameter_deg(order: int) -> float:
    """An upper bound of the distance between two points of one pixel at ``order`` (three
    times the mean pixel size: HEALPix pixels are at most about 1.5 times it across)."""
    return 3 * math.degrees(math.sqrt(4 * math.pi / (12 * 4**order)))


def latest_in_cone(store: Store, ra: float, dec: float, radius_deg: float, distance) -> dict | None:
    """``{objectId, jd, candid, sep, first}`` arrays, one item per object with an alert within
    ``radius_deg``: its latest such alert, its separation and ``first``, the object's rank in
    the order of the index read (for ties in separation). None when the store's object-level
    index is not complete (a store made before it, not reindexed: read the alert index)."""
    if not is_filled(store, SKY):
        return None
    sky = store.table(SKY)
    order = store.schema.pixel_order
    ranges = [(sky.keys.prefix(lo), sky.keys.prefix(hi)) for lo, hi in cone_ranges(ra, dec, radius_deg, order)]
    check(ADVICE)
    data = sky.read(ranges=ranges, columns=COLUMNS, on_batch=lambda: check(ADVICE))
    oid = np.asarray(data["i:objectId"], dtype=object)
    jd = np.array(data["i:jd"], dtype=float)
    candid = np.array(data["i:candid"])
    row_ra, row_dec = np.asarray(data["i:ra"], dtype=float), np.asarray(data["i:dec"], dtype=float)
    sep = distance(ra, dec, row_ra, row_dec)
    inside = sep <= radius_deg
    edge = np.flatnonzero(~inside & (sep <= radius_deg + pixel_diameter_deg(order)))
    if len(edge):
        width = len(sky.keys.prefix(0)) - 1
        edge = edge[_reach(data.keys, edge, sep, row_ra, row_dec, order, distance, width) <= radius_deg]
    if len(edge):
        _older_inside(store, data.keys, edge, oid, jd, candid, sep, inside, ra, dec, radius_deg, distance)
    rows = np.flatnonzero(inside)
    codes = pd.factorize(oid[rows])[0]  # objects numbered in order of first appearance
    # per object: the latest jd, and among equal jds the row read first (the smaller pixel)
    pick = np.lexsort((-rows, jd[rows], codes))
    last = pick[np.r_[codes[pick][1:] != codes[pick][:-1], True]] if len(rows) else pick
    chosen = rows[last]
    return {"objectId": oid[chosen], "jd": jd[chosen], "candid": candid[chosen], "sep": sep[chosen],
            "first": codes[last]}


def _reach(keys, rows, sep, row_ra, row_dec, order, distance, width) -> np.ndarray:
    """A lower bound of the distance from the cone's centre to any point of each row's pixel:
    the row's separation less the distance from its alert to the farthest vertex of the pixel
    (the farthest point of a small convex cell; with a margin for edges that are not quite
    great circles)."""
    from cdshealpix.nested import vertices

    pix = np.array([int(keys[i][:width]) for i in rows.tolist()], dtype=np.uint64)
    lon, lat = vertices(pix, order)
    lon, lat = lon.to_value("deg"), lat.to_value("deg")
    far = np.max(distance(row_ra[rows][:, None], row_dec[rows][:, None], lon, lat), axis=1)
    return sep[rows] - far - EDGE_MARGIN_DEG


def _older_inside(store, keys, edge, oid, jd, candid, sep, inside, ra, dec, radius_deg, distance) -> None:
    """For the rows ``edge`` (alert outside, pixel maybe crossing the cone's edge): the latest
    alert of the object in that pixel that lies inside, from the alert index, in place of
    the row's (the row stays out when there is none)."""
    pixel = store.table("pixel")
    width = len(pixel.keys.prefix(0)) - 1
    pix = np.array([int(keys[i][:width]) for i in edge.tolist()], dtype=np.int64)
    uniq = np.unique(pix)
    cut = np.flatnonzero(np.diff(uniq) > 1) + 1
    lo, hi = uniq[np.r_[0, cut]], uniq[np.r_[cut - 1, len(uniq) - 1]] + 1
    ranges = list(zip(pixel.keys.first_prefix_bytes(lo), pixel.keys.first_prefix_bytes(hi)))
    alerts = pixel.read(ranges=ranges, columns=COLUMNS, on_batch=lambda: check(ADVICE))
    a_sep = distance(ra, dec, np.asarray(alerts["i:ra"], dtype=float), np.asarray(alerts["i:dec"], dtype=float))
    a_jd, a_oid, a_keys = np.asarray(alerts["i:jd"], dtype=float), alerts["i:objectId"], alerts.keys
    best: dict = {}  # (pixel, objectId) -> its latest alert inside, the first read among equal jds
    for i in np.flatnonzero(a_sep <= radius_deg).tolist():
        k = (int(a_keys[i][:width]), a_oid[i])
        if k not in best or a_jd[i] > a_jd[best[k]]:
            best[k] = i
    a_candid = alerts["i:candid"]
    for j, p in zip(edge.tolist(), pix.tolist()):
        i = best.get((p, oid[j]))
        if i is not None:
            jd[j], candid[j], sep[j], inside[j] = a_jd[i], a_candid[i], a_sep[i], True
