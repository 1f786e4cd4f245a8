"""The night an alert is filed under: the UTC date of its observation, as YYYYMMDD."""
from __future__ import annotations

import datetime as dt


def night_of(jd: float) -> str:
    """The night (YYYYMMDD) of an observation: its UTC date, as ZTF's nightly archive names it
    (ZTF observes between about 02:00 and 16:00 UTC, within one UTC date)."""
    return (dt.datetime(2000, 1, 1, 12) + dt.timedelta(days=jd - 2451545.0)).strftime("%Y%m%d")


MJD_EPOCH = dt.datetime(1858, 11, 17)


def night_of_mjd(mjd: float) -> str:
    """YYYYMMDD: the UTC date of a Modified Julian Date (Rubin's MJD TAI; the 37 s TAI-UTC
    offset is ignored: Cerro Pachón's nights do not straddle 00:00 UTC)."""
    return (MJD_EPOCH + dt.timedelta(days=float(mjd))).strftime("%Y%m%d")
