"""Rubin alerts inside the credible region of a gravitational-wave sky map, around the event
(Fink's LSST ``skymap``).

As the ZTF query (api/queries/skymap.py): candidates come from whichever index reads fewer
rows, the sky index (``pixel``) over the region's cells or the time index (``time``) over the
window, and are then tested exactly against the region's cells. Times are MJD TAI: the
event's is the map's DATE-OBS (UTC) in TAI, given back as ``v:startgwMjdTai`` as Fink does.

Kept: alerts with ``midpointMjdTai`` in [event - days_before, event + days_after] whose
object was first detected (``f:firstDiaSourceMjdTaiFink``, else the alert itself) at most
``days_after`` days before them (old variable sources left out, as the ZTF route does with
``jdstarthist``); then the newest such alert of each object (a solar-system alert,
diaObjectId 0, is its own), newest first. Fink's LSST route as published applies neither the
window nor the grouping (it calls its ZTF decoder); its parameters say it should.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from astropy.time import Time

from science.skymap import Skymap, cell_ranges, contains, sky_fraction
from store import Store

from ..budget import check
from ..columns import Columns
from ..skymap import by_sky
from .frame import column_types, table_columns, take_rows

ADVICE = "ask for a lower credible_level (a smaller region) or fewer days around the event"
EVENT = "v:startgwMjdTai"
TIME = "r:midpointMjdTai"


def event_mjd_tai(event_jd_utc: float) -> float:
    """The event's time (a UTC Julian date, as read from the map) as MJD TAI."""
    return float(Time(event_jd_utc, format="jd", scale="utc").tai.mjd)


def skymap_alerts(store: Store, skymap: Skymap, credible_level: float, event_mjd: float,
                  days_before: float, days_after: float) -> Columns:
    """The newest alert of each object inside the ``credible_level`` region (see the module's
    docstring), every column of the sky index and ``v:startgwMjdTai``, newest first."""
    depth, ipix = skymap.region(credible_level)
    start, stop = event_mjd - days_before, event_mjd + days_after
    names = list(column_types("pixel"))
    if not len(depth):
        return Columns({}, 0)
    check(ADVICE)
    if by_sky(store, sky_fraction(depth), stop - start, table="time", time=TIME):
        pixel = store.table("pixel")
        ranges = [(pixel.keys.prefix(int(lo)), pixel.keys.prefix(int(hi)))
                  for lo, hi in cell_ranges(depth, ipix, store.schema.pixel_order)]
        data = pixel.read(ranges=ranges, columns=names, on_batch=lambda: check(ADVICE))
    else:
        index = store.table("time")
        data = index.read(ranges=[(index.keys.prefix(start), index.keys.prefix(stop + 2e-7))], columns=names,
                          on_batch=lambda: check(ADVICE))
    if not len(data):
        return Columns({}, 0)
    col = data.columns
    mjd = np.asarray(col[TIME], dtype=float)
    first = np.asarray(pd.array(col["f:firstDiaSourceMjdTaiFink"], dtype="Float64").to_numpy(
        dtype=float, na_value=np.nan)) if col.get("f:firstDiaSourceMjdTaiFink") is not None else np.full(len(mjd), np.nan)
    first = np.where(np.isnan(first), mjd, first)
    idx = np.flatnonzero((mjd >= start) & (mjd <= stop) & (mjd - first <= days_after))
    idx = idx[contains(depth, ipix, np.asarray(col["r:ra"], dtype=float)[idx], np.asarray(col["r:dec"], dtype=float)[idx])]
    if not len(idx):
        return Columns({}, 0)
    obj = np.asarray(col["r:diaObjectId"], dtype=object)[idx]
    src = np.asarray(col["r:diaSourceId"], dtype=object)[idx]
    owner = np.where(obj == 0, src, obj).astype(str)  # an SSO alert (diaObjectId 0) is its own
    newest = pd.DataFrame({"owner": owner, "mjd": mjd[idx], "src": src.astype(str), "i": idx}).sort_values(
        ["mjd", "owner", "src"], ascending=[False, True, False])  # newest first; ties in a fixed order
    chosen = np.asarray(newest.drop_duplicates("owner")["i"].to_numpy(), dtype=np.int64)
    picked = {name: take_rows(col.get(name), chosen) for name in names}
    out = table_columns(picked, "pixel", names, n=len(chosen), newest_first=False)
    out.data[EVENT] = np.full(len(out), event_mjd)
    return out
