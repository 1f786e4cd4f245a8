"""Objects inside the credible region of a gravitational-wave sky map, within days of the event.

Candidates are read from whichever index reads fewer rows: the sky index over the
region's cells (turned into ranges of its order-14 keys), or the time index over the
window; the estimate assumes alerts spread evenly over the sky and over the store's
time span. Each candidate is then tested exactly against the region's cells.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from science.skymap import Skymap, cell_ranges, contains, sky_fraction
from store import Store

from .budget import check
from .frame import to_frame

ADVICE = "ask for a lower credible_level (a smaller region) or fewer days around the event"
LIGHT = ["i:objectId", "i:candid", "i:jd", "i:ra", "i:dec", "i:jdstarthist"]


def skymap_alerts(store: Store, skymap: Skymap, credible_level: float, event_jd: float,
                  days_before: float, days_after: float) -> pd.DataFrame:
    """The latest alert of each object inside the ``credible_level`` region, with jd in
    [event - days_before, event + days_after] and first detected at most ``days_after``
    days before that alert (as Fink does, to leave out old variable sources); newest first,
    with ``v:jdstartgw`` = the event's JD."""
    depth, ipix = skymap.region(credible_level)
    start, stop = event_jd - days_before, event_jd + days_after
    if not len(depth):
        return pd.DataFrame()
    order = store.schema.pixel_order
    if by_sky(store, sky_fraction(depth), stop - start):
        pixel = store.table("pixel")
        ranges = [(pixel.keys.prefix(int(lo)), pixel.keys.prefix(int(hi))) for lo, hi in cell_ranges(depth, ipix, order)]
        check(ADVICE)
        data = pixel.read(ranges=ranges, columns=LIGHT, on_batch=lambda: check(ADVICE))
    else:
        table = store.table("jd")
        check(ADVICE)
        data = table.read(ranges=[(table.keys.prefix(start), table.keys.prefix(stop + 2e-7))], columns=LIGHT,
                          on_batch=lambda: check(ADVICE))
    jd = np.asarray(data["i:jd"], dtype=float)
    if not len(jd):
        return pd.DataFrame()
    first = np.asarray(pd.array(data["i:jdstarthist"], dtype="Float64").to_numpy(dtype=float, na_value=np.nan))
    first = np.where(np.isnan(first), jd, first)
    ok = (jd >= start) & (jd <= stop) & (jd - first <= days_after)
    idx = np.flatnonzero(ok)
    idx = idx[contains(depth, ipix, np.asarray(data["i:ra"], dtype=float)[idx],
                       np.asarray(data["i:dec"], dtype=float)[idx])]
    if not len(idx):
        return pd.DataFrame()
    oids = np.asarray(data["i:objectId"], dtype=object)[idx]
    candids = np.asarray(data["i:candid"], dtype=object)[idx]
    newest = pd.DataFrame({"oid": oids, "jd": jd[idx], "candid": candids, "i": idx}).sort_values(
        ["jd", "oid", "candid"], ascending=[False, True, False])  # newest first; ties in a fixed order
    chosen = newest.drop_duplicates("oid")["i"].tolist()
    light = [{"i:objectId": data["i:objectId"][i], "i:jd": float(jd[i]), "i:candid": data["i:candid"][i]} for i in chosen]
    table = store.table("jd")
    keys = [table.keys.build(r["i:jd"], r["i:objectId"], r["i:candid"]) for r in light]
    found = dict(table.rows(keys, columns=["i", "d"]))
    df = to_frame([found[k] for k in keys if k in found])
    df["v:jdstartgw"] = event_jd
    return df


def by_sky(store: Store, fraction: float, window_days: float, table: str = "jd", time: str = "i:jd") -> bool:
    """Whether the sky index over the region reads fewer rows than the time index (``table``,
    whose column ``time`` is in days) over the window."""
    index = store.table(table)
    first = next(index.scan(columns=[time], limit=1), None)
    last = next(index.scan(columns=[time], limit=1, reverse=True), None)
    if first is None:
        return False
    span = max(last[1][time] - first[1][time], 1.0)
    return fraction * span < window_days
